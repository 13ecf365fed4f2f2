//! Org unit queries and closure-table maintenance.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::auth::scope::visible_unit_ids;
use crate::auth::Scope;
use crate::db::schema::{org_unit_closure as closure, org_units};
use crate::db::DbConn;
use crate::error::AppError;

/// A stored unit.
#[derive(Debug, Clone, Queryable)]
pub struct OrgUnitRow {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub credit_code: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

crate::versioned!(OrgUnitRow, "org_units");

crate::columns!(pub COLUMNS: Columns = org_units {
    id,
    parent_id,
    name,
    credit_code,
    version,
    created_at,
    updated_at,
});

/// One unit, if it exists and lies in `scope`.
pub fn find(conn: &mut DbConn, scope: Scope, id: i64) -> Result<Option<OrgUnitRow>, AppError> {
    let mut q = org_units::table.filter(org_units::id.eq(id)).select(COLUMNS).into_boxed();
    if let Scope::Unit(unit) = scope {
        q = q.filter(org_units::id.eq_any(visible_unit_ids(unit)));
    }
    Ok(q.first(conn).optional()?)
}

/// A page of units in `scope`, by id.
pub fn list(
    conn: &mut DbConn,
    scope: Scope,
    parent_id: Option<i64>,
    after: i64,
    limit: i64,
) -> Result<Vec<OrgUnitRow>, AppError> {
    let mut q =
        org_units::table.filter(org_units::id.gt(after)).select(COLUMNS).order(org_units::id.asc()).into_boxed();
    if let Scope::Unit(unit) = scope {
        q = q.filter(org_units::id.eq_any(visible_unit_ids(unit)));
    }
    if let Some(p) = parent_id {
        q = q.filter(org_units::parent_id.eq(p));
    }
    Ok(q.limit(limit).load(conn)?)
}

/// Inserts a unit and its closure rows.
pub fn insert(
    conn: &mut DbConn,
    name: &str,
    parent_id: Option<i64>,
    credit_code: Option<&str>,
    now: NaiveDateTime,
) -> Result<OrgUnitRow, AppError> {
    let row: OrgUnitRow = diesel::insert_into(org_units::table)
        .values((
            org_units::name.eq(name),
            org_units::parent_id.eq(parent_id),
            org_units::credit_code.eq(credit_code),
            org_units::version.eq(1),
            org_units::created_at.eq(now),
            org_units::updated_at.eq(now),
        ))
        .returning(COLUMNS)
        .get_result(conn)?;
    diesel::insert_into(closure::table)
        .values((closure::ancestor_id.eq(row.id), closure::descendant_id.eq(row.id), closure::depth.eq(0)))
        .execute(conn)?;
    if let Some(parent) = parent_id {
        diesel::sql_query(
            "INSERT INTO org_unit_closure (ancestor_id, descendant_id, depth) \
             SELECT ancestor_id, $1, depth + 1 FROM org_unit_closure WHERE descendant_id = $2",
        )
        .bind::<BigInt, _>(row.id)
        .bind::<BigInt, _>(parent)
        .execute(conn)?;
    }
    Ok(row)
}

/// `true` when `candidate` is `unit` itself or lies below it.
pub fn is_in_subtree(conn: &mut DbConn, unit: i64, candidate: i64) -> Result<bool, AppError> {
    Ok(diesel::dsl::select(diesel::dsl::exists(
        closure::table.filter(closure::ancestor_id.eq(unit)).filter(closure::descendant_id.eq(candidate)),
    ))
    .get_result(conn)?)
}

/// Moves `unit` and its subtree under `new_parent` (None: becomes a root).
pub fn reparent(conn: &mut DbConn, unit: i64, new_parent: Option<i64>) -> Result<(), AppError> {
    // Detach the subtree from its old ancestors…
    diesel::sql_query(
        "DELETE FROM org_unit_closure \
         WHERE descendant_id IN (SELECT descendant_id FROM org_unit_closure WHERE ancestor_id = $1) \
           AND ancestor_id NOT IN (SELECT descendant_id FROM org_unit_closure WHERE ancestor_id = $1)",
    )
    .bind::<BigInt, _>(unit)
    .execute(conn)?;
    // …and attach it below the new parent's ancestors.
    if let Some(parent) = new_parent {
        diesel::sql_query(
            "INSERT INTO org_unit_closure (ancestor_id, descendant_id, depth) \
             SELECT p.ancestor_id, s.descendant_id, p.depth + s.depth + 1 \
             FROM org_unit_closure p, org_unit_closure s \
             WHERE p.descendant_id = $1 AND s.ancestor_id = $2",
        )
        .bind::<BigInt, _>(parent)
        .bind::<BigInt, _>(unit)
        .execute(conn)?;
    }
    Ok(())
}

/// `true` when the unit exists.
pub fn exists(conn: &mut DbConn, id: i64) -> Result<bool, AppError> {
    Ok(diesel::dsl::select(diesel::dsl::exists(org_units::table.filter(org_units::id.eq(id)))).get_result(conn)?)
}

/// The columns a PATCH may change, plus the version bump.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = org_units)]
pub struct OrgUnitChanges {
    pub name: Option<String>,
    pub parent_id: Option<Option<i64>>,
    pub credit_code: Option<Option<String>>,
    pub version: i32,
    pub updated_at: NaiveDateTime,
}

crate::versioned_update! {
    /// Applies `changes` when the stored version is still `expected`; None when it is not.
    pub fn update(org_units, OrgUnitChanges) -> OrgUnitRow
}
