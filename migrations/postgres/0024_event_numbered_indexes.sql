-- The indexes that read events by their number hold numbered events only. An event is inserted
-- unnumbered and numbered once it has committed; that numbering writes a new row version with
-- an entry in every index anyway, so the entries the insert used to write for its empty number
-- were never read — and every concurrent writer put its empty number at the same end of these
-- indexes, on the same page. Readers ask for numbered events (`sequence > $1`, or `sequence is
-- not null`), which is what these conditions say.
drop index if exists event_sequence_key;
create unique index event_sequence_key on event (sequence) where sequence is not null;
drop index if exists event_payment_idx;
create index event_payment_idx on event (payment_id, sequence) where sequence is not null;
drop index if exists event_type_idx;
create index event_type_idx on event (type, sequence) where sequence is not null;
