-- Rectify schema, SQLite flavour (same tables and names as the PostgreSQL one). Portable SQL only: no extensions.
-- Timestamps are UTC without a zone (the service converts); JSON is kept as TEXT.

CREATE TABLE org_units (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id   BIGINT REFERENCES org_units (id),
    name        TEXT NOT NULL,
    credit_code TEXT UNIQUE,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX org_units_parent_idx ON org_units (parent_id);

-- Transitive closure of the org tree (every unit is its own ancestor at depth 0):
-- a scope check is one indexed lookup instead of a recursive query.
CREATE TABLE org_unit_closure (
    ancestor_id   BIGINT NOT NULL REFERENCES org_units (id),
    descendant_id BIGINT NOT NULL REFERENCES org_units (id),
    depth         INTEGER NOT NULL,
    PRIMARY KEY (ancestor_id, descendant_id)
);
CREATE INDEX org_unit_closure_descendant_idx ON org_unit_closure (descendant_id);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    org_unit_id   BIGINT NOT NULL REFERENCES org_units (id),
    password_hash TEXT,
    roles         TEXT NOT NULL,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE INDEX users_org_unit_idx ON users (org_unit_id);

CREATE TABLE inspections (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    title                TEXT NOT NULL,
    inspecting_body      TEXT NOT NULL,
    inspecting_unit_id   BIGINT NOT NULL REFERENCES org_units (id),
    inspected_unit_id    BIGINT NOT NULL REFERENCES org_units (id),
    topic                TEXT,
    started_on           DATE NOT NULL,
    ended_on             DATE NOT NULL,
    feedback_on          DATE,
    rectification_due_on DATE,
    approval_chain       TEXT NOT NULL,
    status               TEXT NOT NULL,
    concluded_at         TIMESTAMP,
    published_at         TIMESTAMP,
    published_report     TEXT,
    created_by           BIGINT NOT NULL REFERENCES users (id),
    version              INTEGER NOT NULL DEFAULT 1,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
CREATE INDEX inspections_inspected_unit_idx ON inspections (inspected_unit_id, id);
CREATE INDEX inspections_inspecting_unit_idx ON inspections (inspecting_unit_id, id);
CREATE INDEX inspections_status_idx ON inspections (status, id);

CREATE TABLE sections (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    inspection_id BIGINT NOT NULL REFERENCES inspections (id),
    parent_id     BIGINT REFERENCES sections (id),
    position      INTEGER NOT NULL,
    title         TEXT NOT NULL,
    level         INTEGER NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE INDEX sections_inspection_idx ON sections (inspection_id, position, id);
CREATE INDEX sections_parent_idx ON sections (parent_id);

CREATE TABLE findings (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    inspection_id         BIGINT NOT NULL REFERENCES inspections (id),
    section_id            BIGINT REFERENCES sections (id),
    seq                   INTEGER NOT NULL,
    title                 TEXT NOT NULL,
    description           TEXT,
    responsible_unit_id   BIGINT REFERENCES org_units (id),
    responsible_leader_id BIGINT REFERENCES users (id),
    measures              TEXT,
    outcome               TEXT,
    due_on                DATE,
    status                TEXT NOT NULL,
    long_term             BOOLEAN NOT NULL DEFAULT FALSE,
    blocked_reason        TEXT,
    blocked_until         DATE,
    closed_at             TIMESTAMP,
    reopen_count          INTEGER NOT NULL DEFAULT 0,
    created_by            BIGINT NOT NULL REFERENCES users (id),
    version               INTEGER NOT NULL DEFAULT 1,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL,
    UNIQUE (inspection_id, seq)
);
-- Keyset pages: every sort key is paired with id.
CREATE INDEX findings_seq_idx ON findings (seq, id);
CREATE INDEX findings_due_idx ON findings (due_on, id);
CREATE INDEX findings_updated_idx ON findings (updated_at, id);
CREATE INDEX findings_inspection_status_idx ON findings (inspection_id, status);
CREATE INDEX findings_section_idx ON findings (section_id);
CREATE INDEX findings_responsible_unit_idx ON findings (responsible_unit_id);
CREATE INDEX findings_responsible_leader_idx ON findings (responsible_leader_id);

CREATE TABLE assignments (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id          BIGINT NOT NULL REFERENCES findings (id),
    title               TEXT NOT NULL,
    measures            TEXT,
    responsible_unit_id BIGINT NOT NULL REFERENCES org_units (id),
    assignee_id         BIGINT REFERENCES users (id),
    due_on              DATE NOT NULL,
    status              TEXT NOT NULL,
    claimed_at          TIMESTAMP,
    completed_at        TIMESTAMP,
    outcome             TEXT,
    created_by          BIGINT NOT NULL REFERENCES users (id),
    version             INTEGER NOT NULL DEFAULT 1,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);
CREATE INDEX assignments_finding_idx ON assignments (finding_id, id);
CREATE INDEX assignments_assignee_idx ON assignments (assignee_id, id);
CREATE INDEX assignments_unit_idx ON assignments (responsible_unit_id, id);

CREATE TABLE progress_reports (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    assignment_id BIGINT NOT NULL REFERENCES assignments (id),
    author_id     BIGINT NOT NULL REFERENCES users (id),
    content       TEXT NOT NULL,
    percent       INTEGER,
    period        TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX progress_reports_assignment_idx ON progress_reports (assignment_id, id);
CREATE INDEX progress_reports_period_idx ON progress_reports (period, assignment_id);

-- Closure (销号) and deadline-extension (延期) requests share one approval mechanism.
CREATE TABLE approval_requests (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,
    finding_id      BIGINT NOT NULL REFERENCES findings (id),
    submitted_by    BIGINT NOT NULL REFERENCES users (id),
    status          TEXT NOT NULL,
    current_step    INTEGER NOT NULL,
    outcome         TEXT,
    evidence        TEXT,
    long_term       BOOLEAN,
    new_due_on      DATE,
    previous_due_on DATE,
    reason          TEXT,
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX approval_requests_finding_idx ON approval_requests (finding_id, id);
CREATE INDEX approval_requests_status_idx ON approval_requests (kind, status, id);

CREATE TABLE approval_steps (
    request_id BIGINT NOT NULL REFERENCES approval_requests (id),
    step       INTEGER NOT NULL,
    role       TEXT NOT NULL,
    decided_by BIGINT REFERENCES users (id),
    decision   TEXT,
    comment    TEXT,
    decided_at TIMESTAMP,
    PRIMARY KEY (request_id, step)
);

CREATE TABLE reviews (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id  BIGINT NOT NULL REFERENCES findings (id),
    reviewer_id BIGINT NOT NULL REFERENCES users (id),
    outcome     TEXT NOT NULL,
    notes       TEXT,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX reviews_finding_idx ON reviews (finding_id, id);

CREATE TABLE public_feedback (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    inspection_id BIGINT NOT NULL REFERENCES inspections (id),
    content       TEXT NOT NULL,
    contact       TEXT,
    status        TEXT NOT NULL,
    response      TEXT,
    responded_by  BIGINT REFERENCES users (id),
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE INDEX public_feedback_inspection_idx ON public_feedback (inspection_id, id);

CREATE TABLE idempotency_keys (
    user_id         BIGINT NOT NULL REFERENCES users (id),
    idem_key        TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    response_status INTEGER NOT NULL,
    response_body   TEXT NOT NULL,
    response_etag   TEXT,
    response_location TEXT,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);

-- Audit ids come from this one-row counter, taken inside each writing
-- transaction: the row lock orders ids by commit, so a feed reader polling
-- `after=<id>` never skips an event that commits late.
CREATE TABLE audit_sequence (
    id      INTEGER PRIMARY KEY,
    last_id BIGINT NOT NULL
);
INSERT INTO audit_sequence (id, last_id) VALUES (1, 0);

CREATE TABLE audit_events (
    id            BIGINT PRIMARY KEY,
    occurred_at   TIMESTAMP NOT NULL,
    actor_id      BIGINT REFERENCES users (id),
    action        TEXT NOT NULL,
    entity_type   TEXT NOT NULL,
    entity_id     BIGINT NOT NULL,
    inspection_id BIGINT,
    finding_id    BIGINT,
    org_unit_id   BIGINT,
    data          TEXT NOT NULL,
    request_id    TEXT
);
CREATE INDEX audit_events_inspection_idx ON audit_events (inspection_id, id);
CREATE INDEX audit_events_finding_idx ON audit_events (finding_id, id);
CREATE INDEX audit_events_org_unit_idx ON audit_events (org_unit_id, id);

CREATE TRIGGER audit_events_no_update
    BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
CREATE TRIGGER audit_events_no_delete
    BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
