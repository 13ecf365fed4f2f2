-- The audit log without a global counter row: ids come from an identity
-- sequence (so writers no longer queue on one row lock), and each event
-- records the id of the transaction that wrote it. Readers return only events
-- of transactions older than every transaction still running
-- (pg_snapshot_xmin), in (txid, id) order: an event that commits late can
-- never be skipped by a poller. Ids may have gaps (rolled-back writes).

CREATE SEQUENCE audit_events_id_seq AS BIGINT OWNED BY audit_events.id;
SELECT setval('audit_events_id_seq', GREATEST((SELECT COALESCE(MAX(id), 0) FROM audit_events), 1),
              (SELECT COUNT(*) > 0 FROM audit_events));
ALTER TABLE audit_events ALTER COLUMN id SET DEFAULT nextval('audit_events_id_seq');

-- Existing events predate the change and were written in commit order: txid 0 orders them first.
ALTER TABLE audit_events ADD COLUMN txid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_events ALTER COLUMN txid SET DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX audit_events_feed_idx ON audit_events (txid, id);

DROP TABLE audit_sequence;
