//! Least privilege on PostgreSQL. The schema belongs to an owner role that only
//! `rectify migrate` uses; the service connects as a role that owns nothing and holds just
//! the grants it needs: it reads and writes the data tables, but may only read and append
//! to the audit trail (`audit_events`, `audit_seals`), only read the migration table, and
//! can run no DDL, so it cannot `TRUNCATE`, alter or drop a table or disable a trigger.

use diesel::dsl::sql;
use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::DbConn;

/// The tables the service may only read and append to.
const APPEND_ONLY: &str = "audit_events, audit_seals";

/// Grants `role` what the service needs on the current schema, and no more (idempotent: run it
/// after every migration, so tables added later are covered).
pub fn grant_service_role(conn: &mut diesel::PgConnection, role: &str) -> Result<(), String> {
    if role.is_empty()
        || role.len() > 63
        || !role.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(format!("`{role}` is not a plain role name (lowercase letters, digits, `_`)"));
    }
    let found: Option<(bool, bool)> =
        diesel::sql_query("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1")
            .bind::<Text, _>(role)
            .load::<RoleFlags>(conn)
            .map_err(|e| format!("cannot look up role `{role}`: {e}"))?
            .into_iter()
            .next()
            .map(|r| (r.rolsuper, r.rolbypassrls));
    match found {
        None => return Err(format!("role `{role}` does not exist: create it first (CREATE ROLE {role} LOGIN ...)")),
        Some((true, _)) | Some((_, true)) => {
            return Err(format!("role `{role}` is a superuser (or bypasses row security): no grant would bind it"))
        }
        Some(_) => {}
    }
    let is_owner: bool = diesel::select(
        sql::<Bool>("EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tableowner = ")
            .bind::<Text, _>(role)
            .sql(")"),
    )
    .get_result(conn)
    .map_err(|e| e.to_string())?;
    if is_owner {
        return Err(format!("role `{role}` owns tables of this schema: the service role must own nothing"));
    }
    let role = format!("\"{role}\"");
    let statements = [
        format!("GRANT USAGE ON SCHEMA \"$schema\" TO {role}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA \"$schema\" TO {role}"),
        format!("REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA \"$schema\" FROM {role}"),
        format!("REVOKE UPDATE, DELETE ON {APPEND_ONLY} FROM {role}"),
        format!("REVOKE INSERT, UPDATE, DELETE ON __diesel_schema_migrations FROM {role}"),
        format!("GRANT USAGE ON ALL SEQUENCES IN SCHEMA \"$schema\" TO {role}"),
    ];
    let schema: String = diesel::select(sql::<Text>("current_schema()")).get_result(conn).map_err(|e| e.to_string())?;
    conn.transaction(|conn| {
        for statement in &statements {
            diesel::sql_query(statement.replace("$schema", &schema.replace('"', "\"\""))).execute(conn)?;
        }
        Ok::<_, diesel::result::Error>(())
    })
    .map_err(|e| format!("granting {role}: {e}"))
}

#[derive(QueryableByName)]
struct RoleFlags {
    #[diesel(sql_type = Bool)]
    rolsuper: bool,
    #[diesel(sql_type = Bool)]
    rolbypassrls: bool,
}

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = Text)]
    version: String,
}

/// How many embedded migrations the database lacks, found by reading the migration table only:
/// a role without DDL rights can ask (diesel's own check first creates the table if missing).
pub fn pending_migrations(conn: &mut DbConn) -> Result<usize, String> {
    let embedded: Vec<String> = match conn {
        DbConn::Postgres(_) => versions::<diesel::pg::Pg>(&super::POSTGRES_MIGRATIONS)?,
        DbConn::Sqlite(_) => versions::<diesel::sqlite::Sqlite>(&super::SQLITE_MIGRATIONS)?,
    };
    let applied: Vec<String> =
        match diesel::sql_query("SELECT version FROM __diesel_schema_migrations").load::<Version>(conn) {
            Ok(rows) => rows.into_iter().map(|r| r.version).collect(),
            // No migration table yet: everything is pending.
            Err(_) => Vec::new(),
        };
    Ok(embedded.iter().filter(|v| !applied.contains(v)).count())
}

fn versions<DB: diesel::backend::Backend>(source: &impl MigrationSource<DB>) -> Result<Vec<String>, String> {
    Ok(source.migrations().map_err(|e| e.to_string())?.iter().map(|m| m.name().version().to_string()).collect())
}

/// True when the connection's role owns the audit table (or is a superuser): the service then
/// runs with more rights than it needs, and the start-up log says so.
pub fn runs_as_owner(conn: &mut diesel::PgConnection) -> bool {
    diesel::select(sql::<Bool>(
        "EXISTS (SELECT 1 FROM pg_tables WHERE tablename = 'audit_events' AND schemaname = current_schema() \
         AND tableowner = current_user) OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)",
    ))
    .get_result(conn)
    .unwrap_or(false)
}
