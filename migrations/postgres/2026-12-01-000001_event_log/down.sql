CREATE TABLE audit_sequence (
    id      INTEGER PRIMARY KEY,
    last_id BIGINT NOT NULL
);
INSERT INTO audit_sequence (id, last_id) SELECT 1, COALESCE(MAX(id), 0) FROM audit_events;
DROP INDEX audit_events_feed_idx;
ALTER TABLE audit_events DROP COLUMN txid;
ALTER TABLE audit_events ALTER COLUMN id DROP DEFAULT;
DROP SEQUENCE audit_events_id_seq;
