//! Moving a finding through its state machine inside a caller's transaction.

use super::model::{FindingAction, FindingStatus};
use super::queries::{self, FindingRow, FindingWorkflowChanges};
use crate::db::{self, DbConn};
use crate::error::AppError;

/// Applies `action` to a finding the caller has locked and loaded: the new
/// status comes from the state machine (409 when refused); `fill` sets the
/// other workflow columns. Returns the stored row and the status before.
pub fn transition(
    conn: &mut DbConn,
    finding: &FindingRow,
    action: FindingAction,
    fill: impl FnOnce(&mut FindingWorkflowChanges),
) -> Result<(FindingRow, FindingStatus), AppError> {
    let from = finding.status;
    let to = from.transition(action)?;
    let mut changes = FindingWorkflowChanges {
        status: (to != from).then_some(to),
        version: finding.version + 1,
        updated_at: db::now(),
        ..Default::default()
    };
    fill(&mut changes);
    let row = queries::apply_workflow(conn, finding.id, finding.version, &changes)?
        .ok_or_else(|| AppError::Conflict("the finding changed meanwhile; read it again".into()))?;
    Ok((row, from))
}
