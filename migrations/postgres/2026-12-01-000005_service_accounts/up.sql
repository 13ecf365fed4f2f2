-- Service accounts (contract §9.3) are rows of users of kind 'service': username is the
-- client_id, there is no password, and secret_hash holds the SHA-256 of the client secret
-- (hex). Roles, org scope, the AuthUser extractor and audit actor_id work for them unchanged.
-- credentials_version is bumped with every credential change (password, deactivation,
-- deletion); tokens carry the version they were issued under (`cv`) and older ones are 401.
-- A deleted service account keeps its row (audit events name it), inactive, with deleted_at.
ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'service'));
ALTER TABLE users ADD COLUMN credentials_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN secret_hash TEXT;
ALTER TABLE users ADD COLUMN deleted_at TIMESTAMP;
-- The service-account list: kind, then id for the keyset order.
CREATE INDEX users_kind_idx ON users (kind, id);
