-- The sign-in and public-feedback quotas, shared by every instance on this database (GCRA:
-- `tat` is the key's theoretical arrival time in microseconds since the epoch; see
-- src/ratelimit.rs). Rows whose time has passed mean a full quota and are deleted now and then.
-- PostgreSQL only: on SQLite there is one instance and the state lives in its memory.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    tat BIGINT NOT NULL
);
