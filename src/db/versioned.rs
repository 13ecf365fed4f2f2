//! Optimistic concurrency on versioned rows: what a client expects of a row's
//! version (`If-Match`, parsed by the HTTP layer), and the one sequence every
//! change runs — lock the row, load it through the caller's scope, check the
//! precondition — before its state machine decides and its update applies
//! only `WHERE version = <the version read>`.

use super::{lock_row, DbConn};
use crate::error::AppError;

/// What the caller expects of the version it changes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Precondition {
    /// Nothing stated.
    #[default]
    Absent,
    /// Any version (`If-Match: *`).
    Any,
    /// One of these versions; `None` stands for a tag that can never match (weak, not a number).
    Versions(Vec<Option<i32>>),
}

/// Whether a change needs a stated precondition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// PATCH: without one, 428.
    Required,
    /// Workflow actions: honoured when given.
    IfGiven,
}

impl Precondition {
    /// For PATCH: the precondition must be stated (428) and hold (412).
    pub fn require(&self, current: i32) -> Result<(), AppError> {
        match self {
            Precondition::Absent => Err(AppError::PreconditionRequired),
            other => other.check(current),
        }
    }

    /// For workflow actions: honoured when stated.
    pub fn check(&self, current: i32) -> Result<(), AppError> {
        match self {
            Precondition::Absent | Precondition::Any => Ok(()),
            Precondition::Versions(v) if v.contains(&Some(current)) => Ok(()),
            Precondition::Versions(_) => Err(AppError::PreconditionFailed { current }),
        }
    }

    pub fn is_stated(&self) -> bool {
        !matches!(self, Precondition::Absent)
    }

    fn enforce(&self, need: Need, current: i32) -> Result<(), AppError> {
        match need {
            Need::Required => self.require(current),
            Need::IfGiven => self.check(current),
        }
    }

    /// The refusal for a conditional update that matched no row because someone else
    /// changed it first: 412 with the version now stored when a precondition was
    /// stated, else 409 saying `what`.
    pub fn lost_race(&self, now_stored: Option<i32>, what: &str) -> AppError {
        match now_stored {
            Some(current) if self.is_stated() => AppError::PreconditionFailed { current },
            _ => AppError::Conflict(what.to_owned()),
        }
    }
}

/// A row with an optimistic-lock version, stored in `TABLE`.
pub trait Versioned {
    const TABLE: &'static str;
    fn version(&self) -> i32;
}

/// Implements [`Versioned`] for a row type with a `version` column.
#[macro_export]
macro_rules! versioned {
    ($ty:ty, $table:literal) => {
        impl $crate::db::versioned::Versioned for $ty {
            const TABLE: &'static str = $table;
            fn version(&self) -> i32 {
                self.version
            }
        }
    };
}

/// Declares `fn $name(conn, id, expected, changes) -> Result<Option<$row>, AppError>`, which applies
/// the changeset only while the stored version is still `expected` (None when someone changed the
/// row first) and returns the row as stored, read with the module's `COLUMNS`.
#[macro_export]
macro_rules! versioned_update {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($table:ident, $changes:ty) -> $row:ty) => {
        $(#[$meta])*
        $vis fn $name(
            conn: &mut $crate::db::DbConn,
            id: i64,
            expected: i32,
            changes: &$changes,
        ) -> Result<Option<$row>, $crate::error::AppError> {
            use diesel::prelude::*;
            Ok(diesel::update($table::table.filter($table::id.eq(id)).filter($table::version.eq(expected)))
                .set(changes)
                .returning(COLUMNS)
                .get_result(conn)
                .optional()?)
        }
    };
}

/// Locks row `id` for the rest of the transaction, loads it with `load` (which applies
/// the caller's scope: out of scope is 404), and checks the precondition against it.
pub fn lock_and_load<R: Versioned>(
    conn: &mut DbConn,
    id: i64,
    precondition: &Precondition,
    need: Need,
    load: impl FnOnce(&mut DbConn, i64) -> Result<R, AppError>,
) -> Result<R, AppError> {
    lock_row(conn, R::TABLE, id)?;
    let row = load(conn, id)?;
    precondition.enforce(need, row.version())?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_and_require() {
        use Precondition::*;
        assert!(matches!(Absent.require(1), Err(AppError::PreconditionRequired)));
        assert!(Absent.check(1).is_ok());
        assert!(Any.require(7).is_ok());
        assert!(Versions(vec![Some(2)]).require(2).is_ok());
        assert!(matches!(Versions(vec![Some(1)]).require(2), Err(AppError::PreconditionFailed { current: 2 })));
        assert!(Versions(vec![None]).check(2).is_err());
    }

    #[test]
    fn a_lost_race_is_412_only_when_a_version_was_stated() {
        let stated = Precondition::Versions(vec![Some(1)]);
        assert!(matches!(stated.lost_race(Some(3), "x"), AppError::PreconditionFailed { current: 3 }));
        assert!(matches!(Precondition::Absent.lost_race(Some(3), "x"), AppError::Conflict(_)));
        assert!(matches!(stated.lost_race(None, "x"), AppError::Conflict(_)));
    }
}
