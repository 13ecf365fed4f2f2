//! `GET /api/v1/findings`: the ledger rows in the caller's scope, filtered and sorted, by keyset pages.

use actix_web::{get, web, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::json;

use super::api::{Derive, Finding, FindingQuery};
use super::model::{Sort, SortField};
use super::queries::{self, After, FindingRow};
use crate::auth::AuthUser;
use crate::error::{responses, AppError};
use crate::http::pagination::{paginate, Cursor, Page};
use crate::http::query::{ListQuery, PageQuery};
use crate::state::AppState;

fn after_of(sort: Sort, cursor: &Cursor) -> Result<After, AppError> {
    Ok(match sort.field {
        SortField::Seq => After::Seq(cursor.key_as::<i32>()?, cursor.id),
        SortField::DueOn => After::DueOn(cursor.key_as::<Option<NaiveDate>>()?, cursor.id),
        SortField::UpdatedAt => After::UpdatedAt(cursor.key_as::<NaiveDateTime>()?, cursor.id),
    })
}

fn cursor_of(sort: Sort, f: &FindingRow) -> Cursor {
    let key = match sort.field {
        SortField::Seq => json!(f.seq),
        SortField::DueOn => json!(f.due_on),
        SortField::UpdatedAt => json!(f.updated_at),
    };
    Cursor { sort: sort.name().into(), key, id: f.id }
}

/// Findings in the caller's scope, filtered and sorted, a page at a time.
///
/// Any role may list. Only findings of inspections in the caller's org scope appear (the
/// inspected or inspecting unit is the caller's unit or below it; admins see all); a filter
/// naming something out of scope matches nothing. Filters combine with AND. `next_cursor` keeps
/// the sort it was made with; rows inserted meanwhile do not shift the pages.
/// - 400: an unknown, repeated or malformed parameter, or a tampered cursor (or one made with
///   another `sort`).
/// - 422: `limit` outside 1–200, or `q` longer than 200 characters.
#[utoipa::path(
    tag = "findings",
    params(FindingQuery, PageQuery),
    responses(
        (status = 200, description = "A page of findings", body = Page<Finding>),
        (status = 400, response = responses::BadRequest),
        (status = 422, response = responses::Unprocessable),
    ),
)]
#[get("/findings")]
pub async fn list_findings(
    state: web::Data<AppState>,
    user: AuthUser,
    q: ListQuery<FindingQuery>,
) -> Result<HttpResponse, AppError> {
    let sort = q.filter.sort;
    let after = q.page.decode(&state.cursor_key, sort.name())?.map(|c| after_of(sort, &c)).transpose()?;
    let filter = q.filter.filter(user.id)?;
    let (scope, limit, today) = (user.scope(), q.page.limit, state.today());
    let rows = state.db.run(move |conn| queries::list(conn, scope, &filter, today, sort, after, limit + 1)).await?;
    let d = Derive { today, thresholds: state.config.warnings };
    Ok(HttpResponse::Ok().json(paginate(
        rows,
        limit,
        &state.cursor_key,
        |r| cursor_of(sort, r),
        |r| Finding::from_row(r, d),
    )))
}
