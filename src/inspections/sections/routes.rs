//! `/api/v1/inspections/{id}/sections` and `/api/v1/sections/{id}`.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use serde_json::json;

use super::api::{NewSection, Section, SectionPatch};
use super::model::plan_move;
use super::queries::{self, NewSectionRow, SectionChanges, SectionRow};
use super::MAX_LEVEL;
use crate::audit::{self, Event};
use crate::auth::{roles, AuthUser, Needs};
use crate::db::versioned::{lock_and_load, Need};
use crate::db::{self, DbConn};
use crate::error::{responses, AppError};
use crate::http::etag::ok_with_etag;
use crate::http::etag::{IfMatchOptional, IfMatchRequired};
use crate::http::idempotency::IdempotencyKeyHeader;
use crate::http::idempotency::{self, Created};
use crate::http::pagination::{by_id, paginate, Page};
use crate::http::query::{ListQuery, NoFilter, PageQuery};
use crate::http::{IdempotencyKey, IfMatch, Json};
use crate::inspections::service::{ensure_editable, find_in_scope};
use crate::state::AppState;
use crate::validate::{Errors, SHORT_TEXT};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_sections)
        .service(create_section)
        .service(get_section)
        .service(update_section)
        .service(delete_section);
}

/// A section whose inspection lies in the caller's scope, or 404.
fn readable_section(conn: &mut DbConn, user: &AuthUser, id: i64) -> Result<SectionRow, AppError> {
    let section = queries::find(conn, id)?.ok_or(AppError::NotFound)?;
    find_in_scope(conn, user, section.inspection_id)?;
    Ok(section)
}

/// A section the caller may change: in scope, and its inspection's state machine allowing
/// edits (it allows them in every status today: publication freezes a snapshot instead).
fn section_in_scope(conn: &mut DbConn, user: &AuthUser, id: i64) -> Result<SectionRow, AppError> {
    let section = queries::find(conn, id)?.ok_or(AppError::NotFound)?;
    let inspection = find_in_scope(conn, user, section.inspection_id)?;
    ensure_editable(&inspection)?;
    Ok(section)
}

fn check_position(errors: &mut Errors, position: Option<i32>) {
    if position.is_some_and(|p| !(1..=crate::validate::MAX_ORDINAL).contains(&p)) {
        errors.add("position", format!("must be from 1 to {}", crate::validate::MAX_ORDINAL));
    }
}

/// The sections of an inspection, flat, by id.
///
/// Every category (大类, level 1), aspect (方面, level 2) and sub-aspect (level 3) of the
/// inspection, ordered by id; `position` orders siblings. Build the tree from `parent_id`, or
/// read it whole, findings included, from `GET /api/v1/inspections/{id}/ledger`. Reads only.
///
/// **Who:** any authenticated caller who sees the inspection (its inspected or inspecting
/// unit in their scope); admins for every inspection.
///
/// **Errors:** 404 when the inspection is unknown or out of scope; 400 for an unknown query
/// parameter or a tampered cursor; 422 when `limit` is not 1–200.
#[utoipa::path(
    tag = "inspections",
    params(
        ("id" = i64, Path, description = "The inspection"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of sections", body = Page<Section>),
        (status = 422, response = responses::Unprocessable),
    ),
)]
#[get("/inspections/{id}/sections")]
pub async fn list_sections(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    q: ListQuery<NoFilter>,
) -> Result<HttpResponse, AppError> {
    let after = q.page.after_id(&state.cursor_key, "id")?;
    let (id, limit) = (id.into_inner(), q.page.limit);
    let rows = state
        .db
        .run(move |conn| {
            find_in_scope(conn, &user, id)?;
            queries::page(conn, id, after, limit + 1)
        })
        .await?;
    let page = paginate(rows, limit, &state.cursor_key, |r| by_id("id", r.id), Section::from);
    Ok(HttpResponse::Ok().json(page))
}

/// Adds a category, aspect or sub-aspect (inspector).
///
/// Without `parent_id` the section is a category (level 1); below a parent it is one level
/// deeper, at most 3. Without `position` it goes after its last sibling; positions need not
/// be unique or contiguous. Allowed in every status of the inspection. Writes
/// `section.created`. Honours `Idempotency-Key`.
///
/// **Who:** inspectors and admins, on an inspection in their scope.
///
/// **Errors:** 403 for other roles; 404 when the inspection is unknown or out of scope; 409
/// when no position is left after the last sibling (1,000,000): give one explicitly; 422 when
/// `title` is blank, longer than 500 characters or holds control characters, `position` is
/// not 1–1,000,000, or `parent_id` names no section of this inspection or one at level 3.
#[utoipa::path(
    tag = "inspections",
    params(
        ("id" = i64, Path, description = "The inspection"),
        IdempotencyKeyHeader,
    ),
    request_body = NewSection,
    responses(
        (status = 201, description = "Created", body = Section, headers(("ETag" = String), ("Location" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
    ),
)]
#[post("/inspections/{id}/sections")]
pub async fn create_section(
    state: web::Data<AppState>,
    user: Needs<{ roles::INSPECTOR }>,
    req: HttpRequest,
    key: IdempotencyKey,
    id: web::Path<i64>,
    body: Json<NewSection>,
) -> Result<HttpResponse, AppError> {
    let mut errors = Errors::new();
    let title = errors.text("title", &body.data.title, SHORT_TEXT);
    check_position(&mut errors, body.data.position);
    errors.finish()?;
    let (inspection_id, parent_id, position) = (id.into_inner(), body.data.parent_id, body.data.position);
    let (actor, user_id) = (user.actor(), user.id);
    idempotency::create(&state.db, user_id, key, &req, &body.raw, move |conn| {
        let inspection = find_in_scope(conn, &user, inspection_id)?;
        ensure_editable(&inspection)?;
        let level = match parent_id {
            None => 1,
            Some(p) => match queries::find(conn, p)? {
                Some(parent) if parent.inspection_id == inspection_id => parent.level + 1,
                _ => return Err(AppError::invalid("parent_id", "no such section in this inspection")),
            },
        };
        if level > MAX_LEVEL {
            return Err(AppError::invalid("parent_id", format!("sections nest at most {MAX_LEVEL} levels deep")));
        }
        let position = match position {
            Some(p) => p,
            None => queries::next_position(conn, inspection_id, parent_id)?,
        };
        let now = db::now();
        let row = queries::insert(
            conn,
            &NewSectionRow {
                inspection_id,
                parent_id,
                position,
                title,
                level,
                version: 1,
                created_at: now,
                updated_at: now,
            },
        )?;
        let section = Section::from(row);
        audit::record(
            conn,
            &actor,
            Event::new("section.created", "section", section.id, json!({"after": section})).inspection(inspection_id),
        )?;
        Created::new(&section, format!("/api/v1/sections/{}", section.id), section.version)
    })
    .await
}

/// One section of an inspection in the caller's scope.
///
/// Answers the section with `ETag: "<version>"` (send it as `If-Match` to change it). Reads
/// only.
///
/// **Who:** any authenticated caller who sees its inspection; admins for every section.
///
/// **Errors:** 404 when the id is unknown or its inspection lies outside the caller's scope.
#[utoipa::path(
    tag = "inspections",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The section", body = Section, headers(("ETag" = String))),
    ),
)]
#[get("/sections/{id}")]
pub async fn get_section(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let row = state.db.run(move |conn| readable_section(conn, &user, id)).await?;
    Ok(ok_with_etag(row.version, &Section::from(row)))
}

/// Renames, reorders or moves a section (inspector); needs `If-Match`.
///
/// Absent fields stay. A new `parent_id` moves the section with its subtree within the same
/// inspection (`null`: it becomes a category); the levels of the section and its descendants
/// follow, and each descendant whose level changes gets a new version. Siblings are not
/// renumbered. Findings stay in their sections. Writes `section.updated` with the section
/// before and after and the level changes of its descendants.
///
/// **Who:** inspectors and admins, on a section whose inspection is in their scope.
///
/// **Errors:** 403 for other roles; 404 when the id is unknown or out of scope; 412 when
/// `If-Match` is stale; 428 when it is missing; 422 for an invalid `title` or `position` (as
/// on creation), or a `parent_id` that names no section of this inspection, lies in the
/// section's own subtree, or would put the subtree deeper than 3 levels.
#[utoipa::path(
    tag = "inspections",
    params(("id" = i64, Path), IfMatchRequired),
    request_body = SectionPatch,
    responses(
        (status = 200, description = "Updated", body = Section, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 428, response = responses::PreconditionRequired),
    ),
)]
#[patch("/sections/{id}")]
pub async fn update_section(
    state: web::Data<AppState>,
    user: Needs<{ roles::INSPECTOR }>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<SectionPatch>,
) -> Result<HttpResponse, AppError> {
    let patch = body.data;
    let mut errors = Errors::new();
    let title = patch.title.as_deref().map(|t| errors.text("title", t, SHORT_TEXT));
    check_position(&mut errors, patch.position);
    errors.finish()?;
    let (id, actor) = (id.into_inner(), user.actor());
    let section = state
        .db
        .write(move |conn| {
            let before =
                lock_and_load(conn, id, &if_match, Need::Required, |conn, id| section_in_scope(conn, &user, id))?;
            let now = db::now();
            let (level, descendants) = match patch.parent_id {
                Some(new_parent) => {
                    let all = queries::of_inspection(conn, before.inspection_id)?;
                    let (level, descendants) = plan_move(&all, &before, new_parent)?;
                    (Some(level), descendants)
                }
                None => (None, Vec::new()),
            };
            let changes = SectionChanges {
                title,
                position: patch.position,
                parent_id: patch.parent_id,
                level,
                version: before.version + 1,
                updated_at: now,
            };
            let after = queries::update(conn, id, before.version, &changes)?
                .ok_or(AppError::PreconditionFailed { current: before.version })?;
            let shift = after.level - before.level;
            let mut moved = Vec::new();
            if shift != 0 {
                for d in &descendants {
                    queries::set_level(conn, d.id, d.level + shift, now)?;
                    moved.push(json!({"id": d.id, "level": {"from": d.level, "to": d.level + shift}}));
                }
            }
            let (before, after) = (Section::from(before), Section::from(after));
            audit::record(
                conn,
                &actor,
                Event::new(
                    "section.updated",
                    "section",
                    id,
                    json!({"before": before, "after": after, "descendants": moved}),
                )
                .inspection(after.inspection_id),
            )?;
            Ok(after)
        })
        .await?;
    Ok(ok_with_etag(section.version, &section))
}

/// Deletes an empty section (inspector). Honours `If-Match`.
///
/// Removes a section that holds no sub-sections and no findings: move or delete those first.
/// Writes `section.deleted` with the section as it was. Answers 204 with no body.
///
/// **Who:** inspectors and admins, on a section whose inspection is in their scope.
///
/// **Errors:** 403 for other roles; 404 when the id is unknown or out of scope; 409 when the
/// section still holds sub-sections or findings; 412 when `If-Match` is given and stale.
#[utoipa::path(
    tag = "inspections",
    params(("id" = i64, Path), IfMatchOptional),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
    ),
)]
#[delete("/sections/{id}")]
pub async fn delete_section(
    state: web::Data<AppState>,
    user: Needs<{ roles::INSPECTOR }>,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let (id, actor) = (id.into_inner(), user.actor());
    state
        .db
        .write(move |conn| {
            let before =
                lock_and_load(conn, id, &if_match, Need::IfGiven, |conn, id| section_in_scope(conn, &user, id))?;
            if queries::is_in_use(conn, id)? {
                return Err(AppError::Conflict("the section still holds sections or findings".into()));
            }
            queries::delete(conn, id)?;
            let before = Section::from(before);
            audit::record(
                conn,
                &actor,
                Event::new("section.deleted", "section", id, json!({"before": before}))
                    .inspection(before.inspection_id),
            )?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
