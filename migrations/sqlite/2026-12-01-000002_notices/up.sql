-- Supervision notices (督办单, contract §9.2), SQLite flavour (same table and names as the PostgreSQL one).
-- The addressed unit is stored as it was at issue time (the finding's responsible unit then), and the
-- inspection beside the finding, so that scope filters and statistics need no join.

CREATE TABLE notices (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id      BIGINT NOT NULL REFERENCES findings (id),
    inspection_id   BIGINT NOT NULL REFERENCES inspections (id),
    org_unit_id     BIGINT NOT NULL REFERENCES org_units (id),
    level           TEXT NOT NULL CHECK (level IN ('reminder', 'urge', 'warning')),
    message         TEXT NOT NULL,
    respond_by      DATE,
    issued_by       BIGINT NOT NULL REFERENCES users (id),
    issued_at       TIMESTAMP NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('issued', 'acknowledged')),
    acknowledged_by BIGINT REFERENCES users (id),
    acknowledged_at TIMESTAMP,
    reply           TEXT,
    version         INTEGER NOT NULL DEFAULT 1,
    -- An acknowledgement is whole or absent: who and when come with the status.
    CHECK (
        (status = 'issued' AND acknowledged_by IS NULL AND acknowledged_at IS NULL AND reply IS NULL)
        OR (status = 'acknowledged' AND acknowledged_by IS NOT NULL AND acknowledged_at IS NOT NULL)
    )
);
-- The list filters, each paired with id for the keyset order; the inspection one also serves scope and stats.
CREATE INDEX notices_finding_idx ON notices (finding_id, id);
CREATE INDEX notices_org_unit_idx ON notices (org_unit_id, id);
CREATE INDEX notices_inspection_idx ON notices (inspection_id, id);
CREATE INDEX notices_status_idx ON notices (status, id);
