-- A delivery no longer holds a foreign key to its webhook endpoint. Every delivery insert checked
-- that key by locking the endpoint's row (FOR KEY SHARE) until commit: with one endpoint and many
-- concurrent payments, every transition locked the same row, and each new locker had to build a
-- new multixact of all the others — the most expensive step of an IPN under load. Endpoints are
-- never deleted (only marked `deleted_at`), and deliveries are only ever written by selecting
-- live endpoints, so the key guarded nothing the code does not already guarantee.
alter table delivery drop constraint delivery_endpoint_id_fkey;

-- An event's body (the payment's whole snapshot, often over the 2 kB at which PostgreSQL
-- compresses a value) is compressed with lz4 where the server has it: several times faster to
-- write than the default pglz, on every event insert. A server built without lz4 keeps pglz.
do $$
begin
    alter table event alter column body set compression lz4;
exception when feature_not_supported or invalid_parameter_value then
    null;
end
$$;
