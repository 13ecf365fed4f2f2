-- The deadline events the service has emitted itself (contract §9.2): one row per
-- finding, kind, level and due date. The scan inserts its row with ON CONFLICT DO NOTHING
-- and writes the audit event in the same transaction only when the row was new, so this
-- key, not timing, makes each event exactly once however many instances scan at once.
-- The due date is part of the key: an extension that moves due_on arms the events again.
--   kind 'due_soon': level is the warning level reached, 'yellow' or 'red';
--   kind 'overdue':  level is always 'red' (an overdue finding's level).
-- The key is the primary key: it is the row's identity, and diesel print-schema needs one.
CREATE TABLE deadline_marks (
    finding_id BIGINT NOT NULL REFERENCES findings (id),
    kind       TEXT NOT NULL CHECK (kind IN ('due_soon', 'overdue')),
    level      TEXT NOT NULL CHECK (level IN ('yellow', 'red') AND (kind = 'due_soon' OR level = 'red')),
    due_on     DATE NOT NULL,
    marked_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (finding_id, kind, level, due_on)
);
