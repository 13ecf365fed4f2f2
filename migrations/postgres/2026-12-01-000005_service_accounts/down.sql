DROP INDEX users_kind_idx;
ALTER TABLE users DROP COLUMN deleted_at;
ALTER TABLE users DROP COLUMN secret_hash;
ALTER TABLE users DROP COLUMN credentials_version;
ALTER TABLE users DROP COLUMN kind;
