//! `/api/v1/org-units`: read in scope; created and changed by admins.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use serde_json::json;

use super::api::{NewOrgUnit, OrgUnit, OrgUnitPatch, OrgUnitQuery};
use super::credit_code::CreditCode;
use super::queries::{self, OrgUnitChanges};
use crate::audit::{self, Event};
use crate::auth::{roles, AuthUser, Needs, Scope};
use crate::db;
use crate::error::{responses, AppError};
use crate::http::etag::ok_with_etag;
use crate::http::etag::IfMatchRequired;
use crate::http::idempotency::IdempotencyKeyHeader;
use crate::http::idempotency::{self, Created};
use crate::http::pagination::{by_id, paginate, Page};
use crate::http::query::{ListQuery, PageQuery};
use crate::http::{IdempotencyKey, IfMatch, Json};
use crate::state::AppState;
use crate::validate::{Errors, SHORT_TEXT};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_org_units).service(create_org_unit).service(get_org_unit).service(update_org_unit);
}

fn credit_code(errors: &mut Errors, raw: Option<&str>) -> Option<String> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
    match CreditCode::parse(raw) {
        Ok(code) => Some(code.as_str().to_owned()),
        Err(e) => {
            errors.add("credit_code", e.to_string());
            None
        }
    }
}

/// Org units in the caller's scope (admins: all), by id.
///
/// Lists the units of the org tree the caller sees: their own unit and every unit below it;
/// admins see every unit. `parent_id` keeps the direct children of one unit. Reads only.
///
/// **Who:** any authenticated caller, every role.
///
/// **Errors:** 400 for an unknown or repeated query parameter or a tampered cursor; 422 when
/// `limit` is not 1–200.
#[utoipa::path(
    tag = "org-units",
    params(OrgUnitQuery, PageQuery),
    responses(
        (status = 200, description = "A page of units", body = Page<OrgUnit>),
        (status = 400, response = responses::BadRequest),
        (status = 422, response = responses::Unprocessable),
    ),
)]
#[get("/org-units")]
pub async fn list_org_units(
    state: web::Data<AppState>,
    user: AuthUser,
    q: ListQuery<OrgUnitQuery>,
) -> Result<HttpResponse, AppError> {
    let after = q.page.after_id(&state.cursor_key, "id")?;
    let (scope, limit, parent) = (user.scope(), q.page.limit, q.filter.parent_id);
    let rows = state.db.run(move |conn| queries::list(conn, scope, parent, after, limit + 1)).await?;
    let page = paginate(rows, limit, &state.cursor_key, |r| by_id("id", r.id), OrgUnit::from);
    Ok(HttpResponse::Ok().json(page))
}

/// Creates an org unit (admin).
///
/// Adds a unit below `parent_id`, or a new root when `parent_id` is absent or null; callers
/// of every unit above it see it at once. A blank `credit_code` is stored as null, a given
/// one in upper case. Writes `org_unit.created`. Honours `Idempotency-Key`.
///
/// **Who:** admins only.
///
/// **Errors:** 403 for anyone else; 409 when another unit has the same `credit_code`; 422
/// when `name` is blank, longer than 500 characters or holds control characters, when
/// `credit_code` is not 18 characters of the GB 32100-2015 alphabet or its check character is
/// wrong, or when `parent_id` names no unit.
#[utoipa::path(
    tag = "org-units",
    request_body = NewOrgUnit,
    params(IdempotencyKeyHeader),
    responses(
        (status = 201, description = "Created", body = OrgUnit,
            headers(("ETag" = String, description = "\"<version>\""), ("Location" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
    ),
)]
#[post("/org-units")]
pub async fn create_org_unit(
    state: web::Data<AppState>,
    user: Needs<{ roles::ADMIN }>,
    req: HttpRequest,
    key: IdempotencyKey,
    body: Json<NewOrgUnit>,
) -> Result<HttpResponse, AppError> {
    let mut errors = Errors::new();
    let name = errors.text("name", &body.data.name, SHORT_TEXT);
    let code = credit_code(&mut errors, body.data.credit_code.as_deref());
    errors.finish()?;
    let parent_id = body.data.parent_id;
    let actor = user.actor();
    idempotency::create(&state.db, user.id, key, &req, &body.raw, move |conn| {
        if let Some(parent) = parent_id {
            if !queries::exists(conn, parent)? {
                return Err(AppError::invalid("parent_id", "no such org unit"));
            }
        }
        let row = queries::insert(conn, &name, parent_id, code.as_deref(), db::now()).map_err(conflict_on_code)?;
        audit::record(
            conn,
            &actor,
            Event::new("org_unit.created", "org_unit", row.id, json!({"after": OrgUnit::from(row.clone())}))
                .org_unit(row.id),
        )?;
        Created::new(OrgUnit::from(row.clone()), format!("/api/v1/org-units/{}", row.id), row.version)
    })
    .await
}

fn conflict_on_code(e: AppError) -> AppError {
    match e {
        AppError::Conflict(_) => AppError::Conflict("another org unit has this credit code".into()),
        other => other,
    }
}

/// One org unit in the caller's scope.
///
/// Answers the unit with `ETag: "<version>"` (send it as `If-Match` to change it). Reads only.
///
/// **Who:** any authenticated caller, for their own unit and the units below it; admins for
/// every unit.
///
/// **Errors:** 404 when the id is unknown or the unit lies outside the caller's scope (a unit
/// above the caller's own, or in another branch).
#[utoipa::path(
    tag = "org-units",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The unit", body = OrgUnit, headers(("ETag" = String))),
    ),
)]
#[get("/org-units/{id}")]
pub async fn get_org_unit(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (scope, id) = (user.scope(), id.into_inner());
    let row = state.db.run(move |conn| queries::find(conn, scope, id)).await?.ok_or(AppError::NotFound)?;
    Ok(ok_with_etag(row.version, &OrgUnit::from(row)))
}

/// Renames, moves or re-codes an org unit (admin); needs `If-Match`.
///
/// Absent fields stay. `parent_id: null` makes the unit a root; another id moves it with its
/// whole subtree, and who sees that subtree changes at once: callers (and webhooks) of the
/// units above its old position lose it, those above the new one gain it. `credit_code:
/// null` (or blank) clears the code. Writes `org_unit.updated` with the unit before and
/// after.
///
/// **Who:** admins only.
///
/// **Errors:** 403 for anyone else; 404 when the id is unknown; 409 when another unit has the
/// same `credit_code`; 412 when `If-Match` is stale; 428 when it is missing; 422 for an
/// invalid `name` or `credit_code` (as on creation), or a `parent_id` that names no unit or
/// lies in the unit's own subtree (itself included).
#[utoipa::path(
    tag = "org-units",
    params(("id" = i64, Path), IfMatchRequired),
    request_body = OrgUnitPatch,
    responses(
        (status = 200, description = "Updated", body = OrgUnit, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 428, response = responses::PreconditionRequired),
    ),
)]
#[patch("/org-units/{id}")]
pub async fn update_org_unit(
    state: web::Data<AppState>,
    user: Needs<{ roles::ADMIN }>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<OrgUnitPatch>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let patch = body.data;
    let mut errors = Errors::new();
    let name = patch.name.as_deref().map(|n| errors.text("name", n, SHORT_TEXT));
    let code = patch.credit_code.as_ref().map(|c| credit_code(&mut errors, c.as_deref()));
    errors.finish()?;
    let actor = user.actor();
    let row = state
        .db
        .write(move |conn| {
            // A move locks both ends in id order, so two crossing moves cannot both pass the cycle check.
            let mut locked = vec![id];
            if let Some(Some(parent)) = patch.parent_id {
                locked.push(parent);
            }
            locked.sort_unstable();
            for unit in locked {
                db::lock_row(conn, "org_units", unit)?;
            }
            let before = queries::find(conn, Scope::All, id)?.ok_or(AppError::NotFound)?;
            if_match.require(before.version)?;
            if let Some(Some(parent)) = patch.parent_id {
                if !queries::exists(conn, parent)? {
                    return Err(AppError::invalid("parent_id", "no such org unit"));
                }
                if queries::is_in_subtree(conn, id, parent)? {
                    return Err(AppError::invalid("parent_id", "a unit cannot move below itself"));
                }
            }
            let changes = OrgUnitChanges {
                name,
                parent_id: patch.parent_id,
                credit_code: code,
                version: before.version + 1,
                updated_at: db::now(),
            };
            let after = queries::update(conn, id, before.version, &changes)
                .map_err(conflict_on_code)?
                .ok_or(AppError::PreconditionFailed { current: before.version })?;
            if patch.parent_id.is_some() && patch.parent_id != Some(before.parent_id) {
                queries::reparent(conn, id, after.parent_id)?;
            }
            audit::record(
                conn,
                &actor,
                Event::new(
                    "org_unit.updated",
                    "org_unit",
                    id,
                    json!({"before": OrgUnit::from(before.clone()), "after": OrgUnit::from(after.clone())}),
                )
                .org_unit(id),
            )?;
            Ok(after)
        })
        .await?;
    Ok(ok_with_etag(row.version, &OrgUnit::from(row)))
}
