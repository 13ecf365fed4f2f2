-- SQLite serialises writers (write transactions begin IMMEDIATE), so the rowid
-- (audit_events.id, an INTEGER PRIMARY KEY) already follows commit order: the
-- counter row goes. txid is always 0 here, so (txid, id) order is id order.
ALTER TABLE audit_events ADD COLUMN txid BIGINT NOT NULL DEFAULT 0;
CREATE INDEX audit_events_feed_idx ON audit_events (txid, id);
DROP TABLE audit_sequence;
