//! Assignment lists: a finding's assignments, and everyone's inbox (`assignee_id=me`).

use actix_web::{get, web, HttpResponse};

use super::api::{Assignment, AssignmentQuery};
use super::queries::{self, AssignmentFilter, AssignmentRow};
use crate::auth::AuthUser;
use crate::error::{responses, AppError};
use crate::findings::service::find_in_scope_by_id;
use crate::http::pagination::{by_id, paginate, Page};
use crate::http::query::{ListQuery, NoFilter, PageQuery};
use crate::state::AppState;

fn page_of(state: &AppState, rows: Vec<AssignmentRow>, limit: i64) -> Page<Assignment> {
    let today = state.today();
    paginate(rows, limit, &state.cursor_key, |r| by_id("id", r.id), |r| Assignment::from_row(r, today))
}

/// The assignments of one finding, by id.
///
/// Any role, on a finding in their org scope.
/// - 400: an unknown or malformed parameter, or a tampered cursor.
/// - 404: the finding is unknown or out of scope.
/// - 422: `limit` outside 1–200.
#[utoipa::path(
    tag = "assignments",
    params(
        ("id" = i64, Path, description = "The finding"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of assignments", body = Page<Assignment>),
        (status = 422, response = responses::Unprocessable),
    ),
)]
#[get("/findings/{id}/assignments")]
pub async fn list_finding_assignments(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    q: ListQuery<NoFilter>,
) -> Result<HttpResponse, AppError> {
    let page = q.page;
    let after = page.after_id(&state.cursor_key, "id")?;
    let (scope, finding_id, limit, today) = (user.scope(), id.into_inner(), page.limit, state.today());
    let rows = state
        .db
        .run(move |conn| {
            find_in_scope_by_id(conn, scope, finding_id)?;
            let filter = AssignmentFilter { finding_id: Some(finding_id), ..Default::default() };
            queries::list(conn, scope, &filter, today, after, limit + 1)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page_of(&state, rows, limit)))
}

/// Assignments in the caller's scope; `assignee_id=me` is a person's inbox.
///
/// Any role. Only assignments of findings whose inspection lies in the caller's org scope appear
/// (admins see all); a filter naming something out of scope matches nothing. Filters combine with
/// AND; `overdue` is computed against today in the configured time zone.
/// - 400: an unknown, repeated or malformed parameter, or a tampered cursor.
/// - 422: `limit` outside 1–200.
#[utoipa::path(
    tag = "assignments",
    params(AssignmentQuery, PageQuery),
    responses(
        (status = 200, description = "A page of assignments", body = Page<Assignment>),
        (status = 400, response = responses::BadRequest),
        (status = 422, response = responses::Unprocessable),
    ),
)]
#[get("/assignments")]
pub async fn list_assignments(
    state: web::Data<AppState>,
    user: AuthUser,
    q: ListQuery<AssignmentQuery>,
) -> Result<HttpResponse, AppError> {
    let after = q.page.after_id(&state.cursor_key, "id")?;
    let (filter, page) = (q.filter.filter(user.id), q.page);
    let (scope, limit, today) = (user.scope(), page.limit, state.today());
    let rows = state.db.run(move |conn| queries::list(conn, scope, &filter, today, after, limit + 1)).await?;
    Ok(HttpResponse::Ok().json(page_of(&state, rows, limit)))
}
