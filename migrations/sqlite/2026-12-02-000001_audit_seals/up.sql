-- Tamper evidence for the audit trail: see the PostgreSQL migration of the same name.
CREATE TABLE audit_seals (
    position  BIGINT PRIMARY KEY,
    event_id  BIGINT NOT NULL UNIQUE REFERENCES audit_events (id),
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

CREATE TRIGGER audit_seals_no_update
    BEFORE UPDATE ON audit_seals
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
CREATE TRIGGER audit_seals_no_delete
    BEFORE DELETE ON audit_seals
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

-- `INSERT OR REPLACE` / `REPLACE INTO` with an existing key deletes the old row without
-- firing delete triggers (unless recursive_triggers is on): an event could be rewritten in
-- place. An insert that collides with an existing row is refused before it happens.
CREATE TRIGGER audit_events_no_replace
    BEFORE INSERT ON audit_events
    WHEN EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
CREATE TRIGGER audit_seals_no_replace
    BEFORE INSERT ON audit_seals
    WHEN EXISTS (SELECT 1 FROM audit_seals WHERE position = NEW.position OR event_id = NEW.event_id)
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
