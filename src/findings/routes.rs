//! `/api/v1/findings`: list with filters, create, read, change, history.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::json;

use super::api::{Derive, Finding, FindingPatch, NewFinding};
use super::model::FindingStatus;
use super::queries::{self, After, FindingChanges, FindingFilter, NewFindingRow, Sort, SortField};
use super::service::{find_in_scope_by_id, leader_qualifies};
use crate::audit::{self, Event};
use crate::auth::{AuthUser, Role};
use crate::db::{self, DbConn};
use crate::error::{responses, AppError};
use crate::http::etag::ok_with_etag;
use crate::http::idempotency::{self, Created};
use crate::http::pagination::{paginate, Cursor, Page, PageParams};
use crate::http::{IdempotencyKey, IfMatch, Json, QueryPairs};
use crate::inspections::sections::queries as sections;
use crate::inspections::service::{ensure_editable, find_in_scope};
use crate::orgs::queries as orgs;
use crate::state::AppState;
use crate::validate::{Errors, LONG_TEXT, MAX_ORDINAL, SHORT_TEXT};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_findings).service(create_finding).service(get_finding).service(update_finding);
}

fn derive(state: &AppState) -> Derive {
    Derive { today: state.today(), thresholds: state.config.warnings }
}

/// Checks the ids a finding refers to; all refusals are 422 naming the field.
fn check_references(
    conn: &mut DbConn,
    inspection_id: i64,
    section_id: Option<i64>,
    unit: Option<i64>,
    leader: Option<i64>,
) -> Result<(), AppError> {
    let mut errors = Errors::new();
    if let Some(s) = section_id {
        if sections::find(conn, s)?.is_none_or(|s| s.inspection_id != inspection_id) {
            errors.add("section_id", "no such section in this inspection");
        }
    }
    if let Some(u) = unit {
        if !orgs::exists(conn, u)? {
            errors.add("responsible_unit_id", "no such org unit");
        }
    }
    if let Some(l) = leader {
        if !leader_qualifies(conn, l, inspection_id)? {
            errors.add("responsible_leader_id", "no such active user who can see this inspection");
        }
    }
    errors.finish()
}

fn seq_taken(e: AppError, seq: i32) -> AppError {
    match e {
        AppError::Conflict(_) => AppError::Conflict(format!("seq {seq} is already used in this inspection")),
        other => other,
    }
}

const LIST_PARAMS: &[&str] = &[
    "inspection_id",
    "section_id",
    "status",
    "responsible_unit_id",
    "assignee_id",
    "overdue",
    "due_before",
    "due_after",
    "q",
    "sort",
    "limit",
    "cursor",
];

fn parse_filter(q: &QueryPairs, user: &AuthUser) -> Result<FindingFilter, AppError> {
    let mut status = Vec::new();
    for s in q.all("status") {
        status.push(
            FindingStatus::parse(s)
                .ok_or_else(|| AppError::BadRequest(format!("query parameter `status`: unknown status `{s}`")))?,
        );
    }
    let assignee_id = match q.one("assignee_id")? {
        None => None,
        Some("me") => Some(user.id),
        Some(_) => q.id("assignee_id")?,
    };
    let text = q.one("q")?.map(str::trim).filter(|t| !t.is_empty());
    if text.is_some_and(|t| t.chars().count() > 200) {
        return Err(AppError::invalid("q", "must be at most 200 characters"));
    }
    Ok(FindingFilter {
        inspection_id: q.id("inspection_id")?,
        section_id: q.id("section_id")?,
        status,
        responsible_unit_id: q.id("responsible_unit_id")?,
        assignee_id,
        overdue: q.boolean("overdue")?,
        due_before: q.date("due_before")?,
        due_after: q.date("due_after")?,
        q: text.map(str::to_owned),
    })
}

fn after_of(sort: Sort, cursor: &Cursor) -> Result<After, AppError> {
    Ok(match sort.field {
        SortField::Seq => After::Seq(cursor.key_as::<i32>()?, cursor.id),
        SortField::DueOn => After::DueOn(cursor.key_as::<Option<NaiveDate>>()?, cursor.id),
        SortField::UpdatedAt => After::UpdatedAt(cursor.key_as::<NaiveDateTime>()?, cursor.id),
    })
}

fn cursor_of(sort: Sort, f: &queries::FindingRow) -> Cursor {
    let key = match sort.field {
        SortField::Seq => json!(f.seq),
        SortField::DueOn => json!(f.due_on),
        SortField::UpdatedAt => json!(f.updated_at),
    };
    Cursor { sort: sort.name().into(), key, id: f.id }
}

/// Findings in the caller's scope, filtered and sorted, a page at a time.
#[utoipa::path(
    tag = "findings",
    params(
        ("inspection_id" = Option<i64>, Query),
        ("section_id" = Option<i64>, Query),
        ("status" = Option<Vec<FindingStatus>>, Query, description = "Repeatable: `status=open&status=blocked`"),
        ("responsible_unit_id" = Option<i64>, Query),
        ("assignee_id" = Option<String>, Query, description = "A user id, or `me`: findings with an assignment of that user"),
        ("overdue" = Option<bool>, Query),
        ("due_before" = Option<NaiveDate>, Query, description = "`due_on` strictly before this date"),
        ("due_after" = Option<NaiveDate>, Query, description = "`due_on` strictly after this date"),
        ("q" = Option<String>, Query, description = "Substring of title or description (Chinese works; Latin letters in any case)"),
        ("sort" = Option<String>, Query, description = "`seq` (default), `due_on`, `updated_at`; prefix `-` for descending. Findings without `due_on` sort last ascending, first descending"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 200, description = "1–200, default 50"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page (same sort)"),
    ),
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
    q: QueryPairs,
) -> Result<HttpResponse, AppError> {
    q.only(LIST_PARAMS)?;
    let page = PageParams::from_query(&q)?;
    let sort = match q.one("sort")? {
        None => Sort { field: SortField::Seq, descending: false },
        Some(raw) => Sort::parse(raw).ok_or_else(|| {
            AppError::BadRequest(format!(
                "query parameter `sort`: `{raw}` is not seq, due_on or updated_at (with optional -)"
            ))
        })?,
    };
    let after = page.decode(&state.cursor_key, sort.name())?.map(|c| after_of(sort, &c)).transpose()?;
    let filter = parse_filter(&q, &user)?;
    let (scope, limit, today) = (user.scope(), page.limit, state.today());
    let rows = state.db.run(move |conn| queries::list(conn, scope, &filter, today, sort, after, limit + 1)).await?;
    let d = derive(&state);
    let page = paginate(rows, limit, &state.cursor_key, |r| cursor_of(sort, r), |r| Finding::from_row(r, d));
    Ok(HttpResponse::Ok().json(page))
}

/// Records a finding (inspector); it starts `open`.
#[utoipa::path(
    tag = "findings",
    request_body = NewFinding,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for 24 h")),
    responses(
        (status = 201, description = "Created", body = Finding, headers(("ETag" = String), ("Location" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
    ),
)]
#[post("/findings")]
pub async fn create_finding(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    key: IdempotencyKey,
    body: Json<NewFinding>,
) -> Result<HttpResponse, AppError> {
    user.require_any(&[Role::Inspector])?;
    let new = &body.data;
    let mut errors = Errors::new();
    let title = errors.text("title", &new.title, SHORT_TEXT);
    let description = errors.optional_text("description", new.description.as_deref(), LONG_TEXT);
    let measures = errors.optional_text("measures", new.measures.as_deref(), LONG_TEXT);
    if new.seq.is_some_and(|s| !(1..=MAX_ORDINAL).contains(&s)) {
        errors.add("seq", format!("must be from 1 to {MAX_ORDINAL}"));
    }
    errors.finish()?;
    let (inspection_id, section_id, seq) = (new.inspection_id, new.section_id, new.seq);
    let (unit, leader, due_on) = (new.responsible_unit_id, new.responsible_leader_id, new.due_on);
    let (actor, user_id, d) = (user.actor(), user.id, derive(&state));
    idempotency::create(&state.db, user_id, key, &req, &body.raw, move |conn| {
        // Lock the inspection: seq numbers are handed out one at a time.
        db::lock_row(conn, "inspections", inspection_id)?;
        let inspection = queries_inspection(conn, &user, inspection_id)?;
        ensure_editable(&inspection)?;
        check_references(conn, inspection_id, section_id, unit, leader)?;
        let seq = match seq {
            Some(s) => s,
            None => queries::next_seq(conn, inspection_id)?,
        };
        let now = db::now();
        let row = queries::insert(
            conn,
            &NewFindingRow {
                inspection_id,
                section_id,
                seq,
                title,
                description,
                responsible_unit_id: unit,
                responsible_leader_id: leader,
                measures,
                due_on,
                status: FindingStatus::Open,
                long_term: false,
                reopen_count: 0,
                created_by: user_id,
                version: 1,
                created_at: now,
                updated_at: now,
            },
        )
        .map_err(|e| seq_taken(e, seq))?;
        let finding = Finding::from_row(row, d);
        audit::record(
            conn,
            &actor,
            Event::new("finding.created", "finding", finding.id, json!({"after": finding}))
                .inspection(inspection_id)
                .finding(finding.id),
        )?;
        Created::new(&finding, format!("/api/v1/findings/{}", finding.id), finding.version)
    })
    .await
}

/// The inspection named in a body: one out of scope reads as unknown (422, not 404: the URL exists).
fn queries_inspection(
    conn: &mut DbConn,
    user: &AuthUser,
    id: i64,
) -> Result<crate::inspections::queries::InspectionRow, AppError> {
    find_in_scope(conn, user, id).map_err(|e| match e {
        AppError::NotFound => AppError::invalid("inspection_id", "no such inspection"),
        other => other,
    })
}

/// One finding in the caller's scope.
#[utoipa::path(
    tag = "findings",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The finding", body = Finding, headers(("ETag" = String))),
    ),
)]
#[get("/findings/{id}")]
pub async fn get_finding(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (scope, id) = (user.scope(), id.into_inner());
    let row = state.db.run(move |conn| find_in_scope_by_id(conn, scope, id)).await?;
    let finding = Finding::from_row(row, derive(&state));
    Ok(ok_with_etag(finding.version, &finding))
}

/// Changes descriptive fields (inspector); needs `If-Match`. Status and derived fields are refused (422).
#[utoipa::path(
    tag = "findings",
    params(("id" = i64, Path), ("If-Match" = String, Header, description = "The ETag last read")),
    request_body = FindingPatch,
    responses(
        (status = 200, description = "Updated", body = Finding, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 428, response = responses::PreconditionRequired),
    ),
)]
#[patch("/findings/{id}")]
pub async fn update_finding(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<FindingPatch>,
) -> Result<HttpResponse, AppError> {
    user.require_any(&[Role::Inspector])?;
    let patch = body.data;
    let mut errors = Errors::new();
    let title = patch.title.as_deref().map(|t| errors.text("title", t, SHORT_TEXT));
    let description = patch.description.as_ref().map(|t| errors.optional_text("description", t.as_deref(), LONG_TEXT));
    let measures = patch.measures.as_ref().map(|t| errors.optional_text("measures", t.as_deref(), LONG_TEXT));
    errors.finish()?;
    let (id, actor, d) = (id.into_inner(), user.actor(), derive(&state));
    let finding = state
        .db
        .write(move |conn| {
            db::lock_row(conn, "findings", id)?;
            let before = find_in_scope_by_id(conn, user.scope(), id)?;
            if_match.require(before.version)?;
            ensure_editable(&find_in_scope(conn, &user, before.inspection_id)?)?;
            check_references(
                conn,
                before.inspection_id,
                patch.section_id.flatten(),
                patch.responsible_unit_id.flatten(),
                patch.responsible_leader_id.flatten(),
            )?;
            if let Some(Some(due)) = patch.due_on {
                let later = crate::assignments::queries::latest_open_due(conn, id)?;
                if let Some(latest) = later.filter(|l| *l > due) {
                    return Err(AppError::invalid(
                        "due_on",
                        format!("an open assignment of this finding is due on {latest}: move it first"),
                    ));
                }
            }
            let changes = FindingChanges {
                title,
                description,
                section_id: patch.section_id,
                responsible_unit_id: patch.responsible_unit_id,
                responsible_leader_id: patch.responsible_leader_id,
                measures,
                due_on: patch.due_on,
                version: before.version + 1,
                updated_at: db::now(),
            };
            let after = queries::update(conn, id, before.version, &changes)?
                .ok_or(AppError::PreconditionFailed { current: before.version })?;
            let inspection_id = before.inspection_id;
            let (before, after) = (Finding::from_row(before, d), Finding::from_row(after, d));
            audit::record(
                conn,
                &actor,
                Event::new("finding.updated", "finding", id, json!({"before": before, "after": after}))
                    .inspection(inspection_id)
                    .finding(id),
            )?;
            Ok(after)
        })
        .await?;
    Ok(ok_with_etag(finding.version, &finding))
}
