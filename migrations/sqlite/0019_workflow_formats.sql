-- Webhook endpoints speak one of several formats: landpay's own signed events, the OpenCPS
-- dossier action, or the DVCQG land-tax voucher; the credentials those need are kept here and
-- never shown again.
alter table webhook_endpoint add column format text not null default 'landpay';
alter table webhook_endpoint add column credentials text;
