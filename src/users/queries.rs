//! User queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::scope::visible_unit_ids;
use crate::auth::Scope;
use crate::auth::{RoleSet, UserKind};
use crate::db::schema::users;
use crate::db::DbConn;
use crate::error::AppError;

/// A stored user, without the password hash.
#[derive(Debug, Clone, Queryable)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub org_unit_id: i64,
    pub roles: RoleSet,
    pub active: bool,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

crate::versioned!(UserRow, "users");

crate::columns!(pub COLUMNS: Columns = users {
    id,
    username,
    display_name,
    org_unit_id,
    roles,
    active,
    version,
    created_at,
    updated_at,
});

/// One person (service accounts are not users of these endpoints), if they exist and belong
/// to a unit in `scope`.
pub fn find(conn: &mut DbConn, scope: Scope, id: i64) -> Result<Option<UserRow>, AppError> {
    let mut q =
        users::table.filter(users::id.eq(id)).filter(users::kind.eq(UserKind::Person)).select(COLUMNS).into_boxed();
    if let Scope::Unit(unit) = scope {
        q = q.filter(users::org_unit_id.eq_any(visible_unit_ids(unit)));
    }
    Ok(q.first(conn).optional()?)
}

/// People of units in `scope`, by id.
pub fn list(
    conn: &mut DbConn,
    scope: Scope,
    org_unit_id: Option<i64>,
    active: Option<bool>,
    after: i64,
    limit: i64,
) -> Result<Vec<UserRow>, AppError> {
    let mut q = users::table
        .filter(users::kind.eq(UserKind::Person))
        .filter(users::id.gt(after))
        .select(COLUMNS)
        .order(users::id.asc())
        .into_boxed();
    if let Scope::Unit(unit) = scope {
        q = q.filter(users::org_unit_id.eq_any(visible_unit_ids(unit)));
    }
    if let Some(u) = org_unit_id {
        q = q.filter(users::org_unit_id.eq(u));
    }
    if let Some(a) = active {
        q = q.filter(users::active.eq(a));
    }
    Ok(q.limit(limit).load(conn)?)
}

/// A user to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUserRow<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub org_unit_id: i64,
    pub password_hash: Option<String>,
    pub roles: RoleSet,
    pub active: bool,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &NewUserRow<'_>) -> Result<UserRow, AppError> {
    Ok(diesel::insert_into(users::table).values(row).returning(COLUMNS).get_result(conn)?)
}

/// The columns a PATCH may change, plus the version bump.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub org_unit_id: Option<i64>,
    pub roles: Option<RoleSet>,
    pub password_hash: Option<Option<String>>,
    pub active: Option<bool>,
    pub version: i32,
    pub updated_at: NaiveDateTime,
}

crate::versioned_update! {
    fn update_row(users, UserChanges) -> UserRow
}

/// Applies `changes` when the stored version is still `expected`.
pub fn update(conn: &mut DbConn, id: i64, expected: i32, changes: &UserChanges) -> Result<Option<UserRow>, AppError> {
    let row = update_row(conn, id, expected, changes)?;
    crate::db::signals::users_changed();
    Ok(row)
}

/// `true` when the user exists, is active and belongs to a unit in `scope`.
pub fn active_in_scope(conn: &mut DbConn, scope: Scope, id: i64) -> Result<bool, AppError> {
    Ok(find(conn, scope, id)?.is_some_and(|u| u.active))
}

/// Makes every token issued to the user so far a 401 (their `cv` is now older): called in the
/// transaction that changes a credential (password, deactivation, a service account's deletion).
pub fn bump_credentials_version(conn: &mut DbConn, id: i64) -> Result<(), AppError> {
    diesel::update(users::table.filter(users::id.eq(id)))
        .set(users::credentials_version.eq(users::credentials_version + 1))
        .execute(conn)?;
    crate::db::signals::users_changed();
    Ok(())
}
