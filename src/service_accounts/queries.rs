//! Service-account queries: rows of `users` of kind `service`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::{RoleSet, UserKind};
use crate::db::schema::users;
use crate::db::DbConn;
use crate::error::AppError;

/// A stored service account, without the secret's hash.
#[derive(Debug, Clone, Queryable)]
pub struct ServiceAccountRow {
    pub id: i64,
    pub client_id: String,
    pub name: String,
    pub org_unit_id: i64,
    pub roles: RoleSet,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

crate::versioned!(ServiceAccountRow, "users");

crate::columns!(pub COLUMNS: Columns = users {
    id,
    username,
    display_name,
    org_unit_id,
    roles,
    version,
    created_at,
    updated_at,
});

/// One service account that is not deleted.
pub fn find(conn: &mut DbConn, id: i64) -> Result<Option<ServiceAccountRow>, AppError> {
    Ok(users::table
        .filter(users::id.eq(id))
        .filter(users::kind.eq(UserKind::Service))
        .filter(users::deleted_at.is_null())
        .select(COLUMNS)
        .first(conn)
        .optional()?)
}

/// A page of service accounts that are not deleted, by id.
pub fn list(conn: &mut DbConn, after: i64, limit: i64) -> Result<Vec<ServiceAccountRow>, AppError> {
    Ok(users::table
        .filter(users::kind.eq(UserKind::Service))
        .filter(users::deleted_at.is_null())
        .filter(users::id.gt(after))
        .select(COLUMNS)
        .order(users::id.asc())
        .limit(limit)
        .load(conn)?)
}

/// A service account to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewServiceAccountRow<'a> {
    pub kind: UserKind,
    pub username: &'a str,
    pub display_name: &'a str,
    pub org_unit_id: i64,
    pub secret_hash: String,
    pub roles: RoleSet,
    pub active: bool,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &NewServiceAccountRow<'_>) -> Result<ServiceAccountRow, AppError> {
    Ok(diesel::insert_into(users::table).values(row).returning(COLUMNS).get_result(conn)?)
}

/// Marks a service account deleted: inactive, `deleted_at` set, its credentials version bumped
/// (so every token it holds is a 401 at once), the row kept for the audit trail. None when its
/// version is no longer `expected`.
pub fn delete(
    conn: &mut DbConn,
    id: i64,
    expected: i32,
    now: NaiveDateTime,
) -> Result<Option<ServiceAccountRow>, AppError> {
    let row = diesel::update(users::table.filter(users::id.eq(id)).filter(users::version.eq(expected)))
        .set((
            users::active.eq(false),
            users::deleted_at.eq(Some(now)),
            users::credentials_version.eq(users::credentials_version + 1),
            users::version.eq(expected + 1),
            users::updated_at.eq(now),
        ))
        .returning(COLUMNS)
        .get_result(conn)
        .optional()?;
    crate::db::signals::users_changed();
    Ok(row)
}
