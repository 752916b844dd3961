-- Nothing changes on PostgreSQL: 0011 already keys events by insert_id and lets `sequence` and
-- `delivery.event_sequence` stay empty until the sequencer numbers them. The SQLite migration
-- of the same number brings that folder to this shape.
select 1;
