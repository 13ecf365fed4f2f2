-- Nothing on SQLite: the sign-in and feedback quotas live in the one instance's memory.
-- (On PostgreSQL this migration adds the table the instances share; the migration names of
-- the two backends stay the same.)
SELECT 1;
