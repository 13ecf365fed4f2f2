//! Supervision notices (督办单): issued on a finding to its responsible unit, listed, read and
//! acknowledged (签收) by the unit.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde_json::json;

use super::api::{NewAcknowledgement, NewNotice, Notice, NoticeQuery};
use super::model::{NoticeAction, NoticeStatus};
use super::queries::{self, Acknowledgement, NewNoticeRow, NoticeRow};
use crate::audit::{self, Event};
use crate::auth::{roles, AuthUser, Needs, Scope};
use crate::db::versioned::{lock_and_load, Need};
use crate::db::{self, DbConn};
use crate::error::{responses, AppError};
use crate::findings::model::FindingAction;
use crate::findings::service::find_in_scope_by_id;
use crate::http::etag::{ok_with_etag, IfMatchOptional};
use crate::http::idempotency::{self, Created, IdempotencyKeyHeader};
use crate::http::json::OptionalJson;
use crate::http::pagination::{by_id, paginate, Page};
use crate::http::query::{ListQuery, PageQuery};
use crate::http::{IdempotencyKey, IfMatch, Json};
use crate::inspections::service::{ensure_editable, find_in_scope};
use crate::state::AppState;
use crate::validate::{Errors, LONG_TEXT};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(issue_notice).service(list_notices).service(get_notice).service(acknowledge_notice);
}

/// A notice whose inspection lies in `scope`, or 404.
fn notice_in_scope(conn: &mut DbConn, scope: Scope, id: i64) -> Result<NoticeRow, AppError> {
    queries::find(conn, scope, id)?.ok_or(AppError::NotFound)
}

/// The audit event of a notice, filed under its inspection, its finding and the addressed unit.
fn event(action: &'static str, notice: &Notice) -> Event {
    Event::new(action, "notice", notice.id, json!({"after": notice}))
        .inspection(notice.inspection_id)
        .finding(notice.finding_id)
        .org_unit(notice.org_unit_id)
}

/// Issues a supervision notice (督办单) on a finding (leader or inspector).
///
/// `level` is the colour of the notice: `reminder` 蓝 (blue, the deadline is near), `urge` 黄
/// (yellow, behind schedule), `warning` 红 (red, overdue). The notice is addressed to the unit
/// that is responsible for the finding now, and stays addressed to it; it starts `issued`. The
/// finding itself is unchanged. Writes `notice.issued`. An `Idempotency-Key` replays the first
/// answer for 24 hours.
/// - Who: `leader`, `inspector` or `admin`, on a finding in their org scope.
/// - 403: the caller holds none of these roles.
/// - 404: the finding is unknown or out of scope.
/// - 409 (`invalid-transition`): the finding is `closed`.
/// - 422: the finding has no responsible unit (field `responsible_unit_id`); `respond_by` before
///   today (configured time zone); `message` blank, longer than 20,000 characters or with
///   control characters; an `Idempotency-Key` reused with another body.
#[utoipa::path(
    tag = "notices",
    params(
        ("id" = i64, Path, description = "The finding"),
        IdempotencyKeyHeader,
    ),
    request_body = NewNotice,
    responses(
        (status = 201, description = "Issued", body = Notice, headers(("ETag" = String), ("Location" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
    ),
)]
#[post("/findings/{id}/notices")]
pub async fn issue_notice(
    state: web::Data<AppState>,
    user: Needs<{ roles::INSPECTOR | roles::LEADER }>,
    req: HttpRequest,
    key: IdempotencyKey,
    id: web::Path<i64>,
    body: Json<NewNotice>,
) -> Result<HttpResponse, AppError> {
    let new = &body.data;
    let mut errors = Errors::new();
    let message = errors.text("message", &new.message, LONG_TEXT);
    let today = state.today();
    if new.respond_by.is_some_and(|d| d < today) {
        errors.add("respond_by", format!("must not be in the past (today is {today})"));
    }
    errors.finish()?;
    let (finding_id, level, respond_by, actor) = (id.into_inner(), new.level, new.respond_by, user.actor());
    idempotency::create(&state.db, user.id, key, &req, &body.raw, move |conn| {
        // The finding is locked so that it cannot close while the notice is being issued.
        db::lock_row(conn, "findings", finding_id)?;
        let finding = find_in_scope_by_id(conn, user.scope(), finding_id)?;
        ensure_editable(&find_in_scope(conn, &user, finding.inspection_id)?)?;
        finding.status.transition(FindingAction::Supervise)?;
        let Some(unit) = finding.responsible_unit_id else {
            return Err(AppError::invalid(
                "responsible_unit_id",
                "the finding has no responsible unit (牵头单位) to address the notice to; set one on the finding first",
            ));
        };
        let row = queries::insert(
            conn,
            &NewNoticeRow {
                finding_id,
                inspection_id: finding.inspection_id,
                org_unit_id: unit,
                level,
                message,
                respond_by,
                issued_by: user.id,
                issued_at: db::now(),
                status: NoticeStatus::Issued,
                version: 1,
            },
        )?;
        let notice = Notice::from_row(row);
        audit::record(conn, &actor, event("notice.issued", &notice))?;
        Created::new(&notice, format!("/api/v1/notices/{}", notice.id), notice.version)
    })
    .await
}

/// Supervision notices in the caller's scope; `addressed_to=me` is a unit's inbox.
///
/// Any role; oldest first. Only notices of inspections in the caller's org scope appear (admins
/// see all); a filter naming something out of scope matches nothing. Filters combine with AND.
/// `addressed_to=me` keeps the notices to the caller's own unit (not the units below it).
/// - 400: an unknown, repeated or malformed parameter, or a tampered cursor.
/// - 422: `limit` outside 1–200.
#[utoipa::path(
    tag = "notices",
    params(NoticeQuery, PageQuery),
    responses(
        (status = 200, description = "A page of notices", body = Page<Notice>),
        (status = 400, response = responses::BadRequest),
        (status = 422, response = responses::Unprocessable),
    ),
)]
#[get("/notices")]
pub async fn list_notices(
    state: web::Data<AppState>,
    user: AuthUser,
    q: ListQuery<NoticeQuery>,
) -> Result<HttpResponse, AppError> {
    let after = q.page.after_id(&state.cursor_key, "id")?;
    let (filter, scope, limit) = (q.filter.for_user(&user), user.scope(), q.page.limit);
    let rows = state.db.run(move |conn| queries::list(conn, scope, &filter, after, limit + 1)).await?;
    let page = paginate(rows, limit, &state.cursor_key, |r| by_id("id", r.id), Notice::from_row);
    Ok(HttpResponse::Ok().json(page))
}

/// One supervision notice.
///
/// Any role, when the notice's inspection lies in their org scope. The `ETag` is the value for
/// `If-Match`.
/// - 404: the id is unknown or out of scope.
#[utoipa::path(
    tag = "notices",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The notice", body = Notice, headers(("ETag" = String))),
    ),
)]
#[get("/notices/{id}")]
pub async fn get_notice(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (scope, id) = (user.scope(), id.into_inner());
    let notice = Notice::from_row(state.db.run(move |conn| notice_in_scope(conn, scope, id)).await?);
    Ok(ok_with_etag(notice.version, &notice))
}

/// Acknowledges a notice (签收), with an optional `reply`. Honours `If-Match`.
///
/// The notice becomes `acknowledged` with `acknowledged_by`, `acknowledged_at` and `reply`; the
/// body may be left out. Writes `notice.acknowledged`. A notice is acknowledged once: of
/// concurrent acknowledgements exactly one applies.
/// - Who: a `leader`, `inspector` or `officer` of the addressed unit itself (not of a unit
///   above or below it; `viewer` reads only), or an admin; the notice must be in their scope.
/// - 403: another role, or a user of another unit who sees the notice.
/// - 404: the id is unknown or out of scope.
/// - 409 (`invalid-transition`): the notice is already acknowledged.
/// - 412: `If-Match` is stale.
/// - 422: `reply` longer than 20,000 characters or with control characters.
#[utoipa::path(
    tag = "notices",
    params(("id" = i64, Path), IfMatchOptional),
    request_body = Option<NewAcknowledgement>,
    responses(
        (status = 200, description = "Acknowledged", body = Notice, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
    ),
)]
#[post("/notices/{id}/acknowledge")]
pub async fn acknowledge_notice(
    state: web::Data<AppState>,
    user: Needs<{ roles::INSPECTOR | roles::LEADER | roles::OFFICER }>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: OptionalJson<NewAcknowledgement>,
) -> Result<HttpResponse, AppError> {
    let mut errors = Errors::new();
    let reply = errors.optional_text("reply", body.0.data.reply.as_deref(), LONG_TEXT);
    errors.finish()?;
    let (id, actor) = (id.into_inner(), user.actor());
    let notice = state
        .db
        .write(move |conn| {
            let before =
                lock_and_load(conn, id, &if_match, Need::IfGiven, |conn, id| notice_in_scope(conn, user.scope(), id))?;
            if !user.is_admin() && user.org_unit_id != before.org_unit_id {
                return Err(AppError::Forbidden(
                    "only a user of the addressed unit may acknowledge this notice".into(),
                ));
            }
            let status = before.status.transition(NoticeAction::Acknowledge)?;
            let changes = Acknowledgement {
                status,
                acknowledged_by: user.id,
                acknowledged_at: db::now(),
                reply,
                version: before.version + 1,
            };
            // The row is locked: a lost race shows as `acknowledged` above, never here.
            let after = queries::acknowledge(conn, id, before.version, &changes)?
                .ok_or_else(|| AppError::Conflict("the notice changed meanwhile; read it again".into()))?;
            let notice = Notice::from_row(after);
            audit::record(conn, &actor, event("notice.acknowledged", &notice))?;
            Ok(notice)
        })
        .await?;
    Ok(ok_with_etag(notice.version, &notice))
}
