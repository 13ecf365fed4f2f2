//! Scope as query fragments: lists never contain out-of-scope rows and single
//! reads of out-of-scope rows find nothing (404).

use diesel::dsl::{exists, select};
use diesel::prelude::*;

use super::Scope;
use crate::db::schema::{inspections, org_unit_closure as closure, org_units};
use crate::db::DbConn;
use crate::error::AppError;

/// Ids of `unit` and every unit below it.
#[diesel::dsl::auto_type]
pub fn visible_unit_ids(unit: i64) -> _ {
    closure::table.select(closure::descendant_id).filter(closure::ancestor_id.eq(unit))
}

/// The same, typed for comparison with nullable columns.
#[diesel::dsl::auto_type]
pub fn visible_unit_ids_nullable(unit: i64) -> _ {
    closure::table.select(closure::descendant_id.nullable()).filter(closure::ancestor_id.eq(unit))
}

/// Filter on `inspections`: the inspected or inspecting unit is `unit` or below it.
#[diesel::dsl::auto_type]
pub fn inspection_visible(unit: i64) -> _ {
    let inspected: visible_unit_ids = visible_unit_ids(unit);
    let inspecting: visible_unit_ids = visible_unit_ids(unit);
    inspections::inspected_unit_id.eq_any(inspected).or(inspections::inspecting_unit_id.eq_any(inspecting))
}

/// Ids of inspections whose inspected or inspecting unit is `unit` or below it. Written as a
/// join (not `a IN (…) OR b IN (…)`), which PostgreSQL estimates well: it then reads a
/// scope's findings through the inspection index instead of scanning them all.
#[diesel::dsl::auto_type]
pub fn visible_inspection_ids(unit: i64) -> _ {
    inspections::table
        .inner_join(
            closure::table.on(closure::descendant_id
                .eq(inspections::inspected_unit_id)
                .or(closure::descendant_id.eq(inspections::inspecting_unit_id))),
        )
        .filter(closure::ancestor_id.eq(unit))
        .select(inspections::id)
}

/// The same, typed for comparison with nullable columns.
#[diesel::dsl::auto_type]
pub fn visible_inspection_ids_nullable(unit: i64) -> _ {
    inspections::table
        .inner_join(
            closure::table.on(closure::descendant_id
                .eq(inspections::inspected_unit_id)
                .or(closure::descendant_id.eq(inspections::inspecting_unit_id))),
        )
        .filter(closure::ancestor_id.eq(unit))
        .select(inspections::id.nullable())
}

/// `true` when `unit` lies in `scope`.
pub fn unit_in_scope(conn: &mut DbConn, scope: Scope, unit: i64) -> Result<bool, AppError> {
    match scope {
        Scope::All => Ok(true),
        Scope::Unit(root) => Ok(select(exists(
            closure::table.filter(closure::ancestor_id.eq(root)).filter(closure::descendant_id.eq(unit)),
        ))
        .get_result(conn)?),
    }
}

/// `true` when the unit exists and lies in `scope`: the check for a unit named in a body, which
/// answers alike for a unit outside the caller's scope and one that does not exist (contract
/// §9.4), so that no answer tells which ids exist.
pub fn unit_visible(conn: &mut DbConn, scope: Scope, unit: i64) -> Result<bool, AppError> {
    match scope {
        Scope::All => Ok(select(exists(org_units::table.find(unit))).get_result(conn)?),
        // The closure holds a row for every (ancestor, descendant) pair of existing units.
        Scope::Unit(_) => unit_in_scope(conn, scope, unit),
    }
}

/// `true` when the inspection exists and lies in `scope`.
pub fn inspection_in_scope(conn: &mut DbConn, scope: Scope, inspection_id: i64) -> Result<bool, AppError> {
    let q = inspections::table.filter(inspections::id.eq(inspection_id)).select(inspections::id).into_boxed();
    let q = match scope {
        Scope::All => q,
        Scope::Unit(unit) => q.filter(inspection_visible(unit)),
    };
    Ok(q.first::<i64>(conn).optional()?.is_some())
}
