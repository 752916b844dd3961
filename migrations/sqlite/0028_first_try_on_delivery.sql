-- A delivery's first try is recorded on the delivery itself; only a second try and later ones
-- get a row of their own in `delivery_try`. Nearly every delivery is delivered at its first try,
-- and recording that try already rewrites the delivery (its status and next time change), so
-- the first try's figures ride on that write instead of a row (and a key) of their own. Tries
-- recorded before this migration keep their rows, the first ones included; readers take a
-- delivery's tries from both places.
alter table delivery add column first_try_at text;
alter table delivery add column first_status_code integer;
alter table delivery add column first_error text;
alter table delivery add column first_duration_ms integer;
