-- Nothing on SQLite: instances keep no users in memory there (`auth::cache`), so nothing needs
-- telling. (On PostgreSQL this migration adds the trigger that notifies the instances; the
-- migration names of the two backends stay the same.)
SELECT 1;
