-- Page fill factors (0026 on PostgreSQL: room for a delivery's lease on its page) have no SQLite
-- counterpart; this keeps the two folders' versions alike.
select 1;
