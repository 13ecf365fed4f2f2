DROP TRIGGER audit_events_no_replace;
DROP TABLE audit_seals;
