-- Webhook subscriptions and their outbox (contract §9.1). A delivery row is
-- written in the same transaction as its audit event, so nothing is lost on a
-- restart; dispatchers claim due rows with FOR UPDATE SKIP LOCKED (PostgreSQL) or BEGIN IMMEDIATE (SQLite) and a lease,
-- so several instances deliver each row once.

CREATE TABLE webhooks (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    org_unit_id           BIGINT NOT NULL REFERENCES org_units (id),
    url                   TEXT NOT NULL,
    event_types           TEXT NOT NULL,
    description           TEXT,
    active                BOOLEAN NOT NULL DEFAULT TRUE,
    secret                TEXT NOT NULL,
    previous_secret       TEXT,
    previous_secret_until TIMESTAMP,
    failing_since         TIMESTAMP,
    disabled_at           TIMESTAMP,
    deleted_at            TIMESTAMP,
    created_by            BIGINT REFERENCES users (id),
    version               INTEGER NOT NULL,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL
);
CREATE INDEX webhooks_org_unit_idx ON webhooks (org_unit_id, id);

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id      BIGINT NOT NULL REFERENCES webhooks (id),
    event_id        BIGINT NOT NULL REFERENCES audit_events (id),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    locked_until    TIMESTAMP,
    lease           TEXT,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, id);

CREATE TABLE webhook_attempts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id     BIGINT NOT NULL REFERENCES webhook_deliveries (id),
    attempt         INTEGER NOT NULL,
    started_at      TIMESTAMP NOT NULL,
    duration_ms     BIGINT NOT NULL,
    http_status     INTEGER,
    error           TEXT,
    next_attempt_at TIMESTAMP
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempt);
