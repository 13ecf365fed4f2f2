//! `POST /api/v1/findings/bulk-update`: many PATCHes in one request (a ledger of 26–200
//! rows is edited at once), all or nothing, or each on its own.

use actix_web::{post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::api::{Derive, FindingPatch};
use super::edit::{self, Edit};
use crate::auth::{roles, AuthUser, Needs};
use crate::db::versioned::{Need, Precondition};
use crate::db::write_tx;
use crate::error::{responses, AppError, FieldError, Problem};
use crate::http::Json;
use crate::state::AppState;

/// At most this many items per request.
const MAX_ITEMS: usize = 200;

/// Changes to several findings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "atomic": true,
    "items": [
        {"id": 42, "version": 3, "changes": {"due_on": "2024-12-31"}},
        {"id": 43, "version": 1, "changes": {
            "responsible_unit_id": 12,
            "measures": "修订《局党组议事规则》，建立重大事项集体决策台账"
        }}
    ]
}))]
pub struct BulkUpdate {
    /// `true`: every item is applied or none (a failing item fails the call with 409 or 422
    /// naming its index). `false` (default): each item succeeds or fails on its own.
    #[serde(default)]
    pub atomic: bool,
    #[schema(min_items = 1, max_items = 200)]
    pub items: Vec<BulkItem>,
}

/// One finding's change: its id, the version last read (as `If-Match` would carry it) and the
/// fields of `PATCH /api/v1/findings/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkItem {
    #[schema(example = 42)]
    pub id: i64,
    #[schema(example = 3)]
    pub version: i32,
    pub changes: FindingPatch,
}

/// What became of each item, in request order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "results": [
        {"id": 42, "status": 200, "version": 4, "problem": null},
        {"id": 43, "status": 412, "version": null, "problem": {
            "type": "/problems/precondition-failed",
            "title": "Precondition failed",
            "status": 412,
            "detail": "the resource has changed since it was read (version 2 is current)"
        }}
    ]
}))]
pub struct BulkResults {
    pub results: Vec<BulkResult>,
}

/// One item's outcome: 200 with the new version, or the status and problem it would have
/// had as a single PATCH (404, 409, 412, 422).
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    #[schema(example = 42)]
    pub id: i64,
    #[schema(example = 200)]
    pub status: u16,
    /// The finding's new version (applied items only).
    #[schema(example = 4)]
    pub version: Option<i32>,
    /// Why the item was not applied (failed items only).
    pub problem: Option<Problem>,
}

/// An item's error with its fields named from the request's root (`items[3].changes.title`).
fn at_item(index: usize, e: AppError) -> AppError {
    match e {
        AppError::Validation(errors) => AppError::Validation(
            errors
                .into_iter()
                .map(|f| {
                    let prefix = format!("items[{index}].changes.");
                    let field = if f.field.starts_with(&prefix) { f.field } else { format!("{prefix}{}", f.field) };
                    FieldError::new(field, f.message)
                })
                .collect(),
        ),
        other => other,
    }
}

/// Changes the descriptive fields of up to 200 findings at once (inspector).
///
/// Each item is a `PATCH /api/v1/findings/{id}` carrying the version it read (as `If-Match`
/// would); each applied item writes its own `finding.updated`.
/// - `atomic: false` (default): items apply one by one and the answer is 200 with a result per
///   item, in request order: `status` 200 and the new `version`, or the status and `problem` the
///   PATCH would have had (404 unknown or out of scope, 412 stale version, 422 invalid changes,
///   409, 503).
/// - `atomic: true`: all items apply or none. Invalid changes are one 422 naming every field as
///   `items[i].changes.<field>`; any other failing item (unknown or out-of-scope id, stale
///   version) fails the call with a 409 whose detail names `items[i]`.
/// - Who: `inspector` or `admin`; findings out of the caller's org scope count as unknown.
/// - 403: the caller holds neither role.
/// - 422: `items` is empty or holds more than 200.
#[utoipa::path(
    tag = "findings",
    request_body = BulkUpdate,
    responses(
        (status = 200, description = "A result per item, in request order", body = BulkResults),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
    ),
)]
#[post("/findings/bulk-update")]
pub async fn bulk_update(
    state: web::Data<AppState>,
    user: Needs<{ roles::INSPECTOR }>,
    body: Json<BulkUpdate>,
) -> Result<HttpResponse, AppError> {
    let BulkUpdate { atomic, items } = body.data;
    if items.is_empty() || items.len() > MAX_ITEMS {
        return Err(AppError::invalid("items", format!("must hold 1 to {MAX_ITEMS} items")));
    }
    let d = Derive { today: state.today(), thresholds: state.config.warnings };
    let mut edits = Vec::with_capacity(items.len());
    let mut invalid = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match Edit::validate(item.changes, &format!("items[{i}].changes.")) {
            Ok(edit) => edits.push((item.id, item.version, Ok(edit))),
            Err(AppError::Validation(errors)) if atomic => invalid.extend(errors),
            Err(e) => edits.push((item.id, item.version, Err(e))),
        }
    }
    if !invalid.is_empty() {
        return Err(AppError::Validation(invalid));
    }
    let results = if atomic {
        state.db.run(move |conn| write_tx(conn, |conn| apply_all(conn, &user, edits, d))).await?
    } else {
        let mut results = Vec::with_capacity(edits.len());
        for (i, (id, version, edit)) in edits.into_iter().enumerate() {
            let user = user.clone();
            let outcome = match edit {
                Err(e) => Err(e),
                Ok(edit) => {
                    let expected = Precondition::Versions(vec![Some(version)]);
                    state.db.write(move |conn| edit::apply(conn, &user, id, &expected, Need::Required, edit, d)).await
                }
            };
            results.push(match outcome {
                Ok(f) => BulkResult { id, status: 200, version: Some(f.version), problem: None },
                Err(e) => {
                    let e = at_item(i, e);
                    BulkResult {
                        id,
                        status: actix_web::ResponseError::status_code(&e).as_u16(),
                        version: None,
                        problem: Some(e.problem()),
                    }
                }
            });
        }
        results
    };
    Ok(HttpResponse::Ok().json(BulkResults { results }))
}

/// Applies every item in the caller's transaction; the first failure fails them all.
fn apply_all(
    conn: &mut crate::db::DbConn,
    user: &AuthUser,
    edits: Vec<(i64, i32, Result<Edit, AppError>)>,
    d: Derive,
) -> Result<Vec<BulkResult>, AppError> {
    let mut results = Vec::with_capacity(edits.len());
    for (i, (id, version, edit)) in edits.into_iter().enumerate() {
        let expected = Precondition::Versions(vec![Some(version)]);
        let applied = edit.and_then(|edit| edit::apply(conn, user, id, &expected, Need::Required, edit, d));
        match applied.map_err(|e| at_item(i, e)) {
            Ok(f) => results.push(BulkResult { id, status: 200, version: Some(f.version), problem: None }),
            Err(
                e @ (AppError::Validation(_) | AppError::Busy(_) | AppError::Unavailable(_) | AppError::Internal(_)),
            ) => return Err(e),
            Err(e) => return Err(AppError::Conflict(format!("items[{i}] (finding {id}): {e}; nothing was applied"))),
        }
    }
    Ok(results)
}
