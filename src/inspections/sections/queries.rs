//! Section queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{findings, sections};
use crate::db::DbConn;
use crate::error::AppError;

/// A stored section.
#[derive(Debug, Clone, Queryable)]
pub struct SectionRow {
    pub id: i64,
    pub inspection_id: i64,
    pub parent_id: Option<i64>,
    pub position: i32,
    pub title: String,
    pub level: i32,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

crate::versioned!(SectionRow, "sections");

crate::columns!(pub COLUMNS: Columns = sections {
    id,
    inspection_id,
    parent_id,
    position,
    title,
    level,
    version,
    created_at,
    updated_at,
});

pub fn find(conn: &mut DbConn, id: i64) -> Result<Option<SectionRow>, AppError> {
    Ok(sections::table.filter(sections::id.eq(id)).select(COLUMNS).first(conn).optional()?)
}

/// Every section of an inspection, in tree order material (position, id).
pub fn of_inspection(conn: &mut DbConn, inspection_id: i64) -> Result<Vec<SectionRow>, AppError> {
    Ok(sections::table
        .filter(sections::inspection_id.eq(inspection_id))
        .select(COLUMNS)
        .order((sections::position.asc(), sections::id.asc()))
        .load(conn)?)
}

/// A page of an inspection's sections by id.
pub fn page(conn: &mut DbConn, inspection_id: i64, after: i64, limit: i64) -> Result<Vec<SectionRow>, AppError> {
    Ok(sections::table
        .filter(sections::inspection_id.eq(inspection_id))
        .filter(sections::id.gt(after))
        .select(COLUMNS)
        .order(sections::id.asc())
        .limit(limit)
        .load(conn)?)
}

/// The next free position among the children of `parent` (None: the categories).
pub fn next_position(conn: &mut DbConn, inspection_id: i64, parent: Option<i64>) -> Result<i32, AppError> {
    let q = sections::table.filter(sections::inspection_id.eq(inspection_id)).into_boxed();
    let q = match parent {
        Some(p) => q.filter(sections::parent_id.eq(p)),
        None => q.filter(sections::parent_id.is_null()),
    };
    let max: Option<i32> = q.select(diesel::dsl::max(sections::position)).first(conn)?;
    match max.unwrap_or(0) {
        m if m >= crate::validate::MAX_ORDINAL => {
            Err(AppError::Conflict("no position is left: give one explicitly".into()))
        }
        m => Ok(m + 1),
    }
}

/// A section to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = sections)]
pub struct NewSectionRow {
    pub inspection_id: i64,
    pub parent_id: Option<i64>,
    pub position: i32,
    pub title: String,
    pub level: i32,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &NewSectionRow) -> Result<SectionRow, AppError> {
    Ok(diesel::insert_into(sections::table).values(row).returning(COLUMNS).get_result(conn)?)
}

/// The columns a PATCH may change.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = sections)]
pub struct SectionChanges {
    pub title: Option<String>,
    pub position: Option<i32>,
    pub parent_id: Option<Option<i64>>,
    pub level: Option<i32>,
    pub version: i32,
    pub updated_at: NaiveDateTime,
}

crate::versioned_update! {
    /// Applies `changes` when the stored version is still `expected`.
    pub fn update(sections, SectionChanges) -> SectionRow
}

/// Shifts the level of a section's descendants after a move.
pub fn set_level(conn: &mut DbConn, id: i64, level: i32, now: NaiveDateTime) -> Result<(), AppError> {
    diesel::update(sections::table.filter(sections::id.eq(id)))
        .set((sections::level.eq(level), sections::version.eq(sections::version + 1), sections::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// `true` when the section has child sections or findings.
pub fn is_in_use(conn: &mut DbConn, id: i64) -> Result<bool, AppError> {
    let children: i64 = sections::table.filter(sections::parent_id.eq(id)).count().get_result(conn)?;
    let findings: i64 = findings::table.filter(findings::section_id.eq(id)).count().get_result(conn)?;
    Ok(children + findings > 0)
}

pub fn delete(conn: &mut DbConn, id: i64) -> Result<(), AppError> {
    diesel::delete(sections::table.filter(sections::id.eq(id))).execute(conn)?;
    Ok(())
}
