-- Tamper evidence for the audit trail. Each event, in feed order (txid, id), gets a seal:
-- its position in the chain and SHA-256 over the previous seal's hash and the event's
-- canonical content (computed by the service, see src/audit/chain.rs; position 1 follows
-- 64 zeros). An event changed, removed, reordered or slipped in after it was sealed breaks
-- the chain at that point, whoever made the change: `rectify audit verify` and
-- GET /api/v1/events/verify name the first broken link. Seals are written by a sealer
-- shortly after their events settle; two sealers racing for one position collide on the
-- primary key and one retries. Seals are append-only, like the events.
CREATE TABLE audit_seals (
    position  BIGINT PRIMARY KEY,
    event_id  BIGINT NOT NULL UNIQUE REFERENCES audit_events (id),
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

CREATE TRIGGER audit_seals_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_seals_no_truncate
    BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
