//! `/api/v1/users`: read in scope; created, changed and deactivated by admins. These are people;
//! service accounts have their own endpoints (`service_accounts`) and are not found here.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use serde_json::json;

use super::api::{NewUser, User, UserPatch, UserQuery};
use super::queries::{self, NewUserRow, UserChanges};
use crate::audit::{self, Event};
use crate::auth::{password, roles, AuthUser, Needs, Role, RoleSet, Scope};
use crate::db;
use crate::db::versioned::{lock_and_load, Need};
use crate::error::{responses, AppError};
use crate::http::etag::ok_with_etag;
use crate::http::etag::IfMatchRequired;
use crate::http::idempotency::IdempotencyKeyHeader;
use crate::http::idempotency::{self, Created};
use crate::http::pagination::{by_id, paginate, Page};
use crate::http::query::{ListQuery, PageQuery};
use crate::http::{IdempotencyKey, IfMatch, Json};
use crate::orgs::queries as orgs;
use crate::state::AppState;
use crate::validate::{Errors, SHORT_TEXT};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_users).service(create_user).service(get_user).service(update_user);
}

/// A login name as sent (no trimming: white space is not part of any name).
fn username(errors: &mut Errors, raw: &str) -> String {
    let name = raw;
    let ok = (2..=64).contains(&name.chars().count())
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !ok {
        errors.add("username", "must be 2–64 letters, digits, `.`, `_`, `-` or `@`");
    }
    name.to_owned()
}

fn check_password(errors: &mut Errors, raw: &str) {
    let n = raw.chars().count();
    if n < password::MIN_PASSWORD_CHARS {
        errors.add("password", format!("must be at least {} characters", password::MIN_PASSWORD_CHARS));
    } else if n > 1024 {
        errors.add("password", "must be at most 1024 characters");
    }
}

async fn hash(password: Option<String>) -> Result<Option<String>, AppError> {
    let Some(password) = password else { return Ok(None) };
    let hashed = password::hash(password).await.map_err(|e| AppError::internal(format!("password hashing: {e}")))?;
    Ok(Some(hashed))
}

fn taken(e: AppError) -> AppError {
    match e {
        AppError::Conflict(_) => AppError::Conflict("the username is taken".into()),
        other => other,
    }
}

/// People of the units in the caller's scope (admins: all), by id.
///
/// Lists the people (never service accounts) whose unit is the caller's own or lies below
/// it; admins see everyone. Filters: `org_unit_id` (that unit only, not its subtree) and
/// `active`. No password or hash is ever shown. Reads only.
///
/// **Who:** any authenticated caller, every role.
///
/// **Errors:** 400 for an unknown or repeated query parameter or a tampered cursor; 422 when
/// `limit` is not 1–200.
#[utoipa::path(
    tag = "users",
    params(UserQuery, PageQuery),
    responses(
        (status = 200, description = "A page of users", body = Page<User>),
        (status = 400, response = responses::BadRequest),
        (status = 422, response = responses::Unprocessable),
    ),
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    user: AuthUser,
    q: ListQuery<UserQuery>,
) -> Result<HttpResponse, AppError> {
    let after = q.page.after_id(&state.cursor_key, "id")?;
    let (unit, active) = (q.filter.org_unit_id, q.filter.active);
    let (scope, limit) = (user.scope(), q.page.limit);
    let rows = state.db.run(move |conn| queries::list(conn, scope, unit, active, after, limit + 1)).await?;
    let page = paginate(rows, limit, &state.cursor_key, |r| by_id("id", r.id), User::from);
    Ok(HttpResponse::Ok().json(page))
}

/// Creates a person's account (admin).
///
/// The user belongs to `org_unit_id`, which becomes their scope, and holds `roles`. Without
/// `password` they can sign in only through the external identity provider. `active`
/// defaults to true. The password is stored as an argon2id hash. Writes `user.created`
/// (without the password). Honours `Idempotency-Key`.
///
/// **Who:** admins only.
///
/// **Errors:** 403 for anyone else; 409 when the username is taken (by a person or a service
/// account's `client_id`); 422 when `username` is not 2–64 letters, digits, `.`, `_`, `-`
/// or `@`, `display_name` is blank, longer than 500 characters or holds control characters,
/// `roles` is empty, `password` is shorter than 12 or longer than 1024 characters, or
/// `org_unit_id` names no unit.
#[utoipa::path(
    tag = "users",
    request_body = NewUser,
    params(IdempotencyKeyHeader),
    responses(
        (status = 201, description = "Created", body = User, headers(("ETag" = String), ("Location" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
    ),
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    user: Needs<{ roles::ADMIN }>,
    req: HttpRequest,
    key: IdempotencyKey,
    body: Json<NewUser>,
) -> Result<HttpResponse, AppError> {
    let new = &body.data;
    let mut errors = Errors::new();
    let username = username(&mut errors, &new.username);
    let display_name = errors.text("display_name", &new.display_name, SHORT_TEXT);
    if new.roles.is_empty() {
        errors.add("roles", "must name at least one role");
    }
    if let Some(p) = &new.password {
        check_password(&mut errors, p);
    }
    errors.finish()?;
    let (org_unit_id, roles, active) = (new.org_unit_id, RoleSet::new(&new.roles), new.active);
    let password_hash = hash(new.password.clone()).await?;
    let actor = user.actor();
    idempotency::create(&state.db, user.id, key, &req, &body.raw, move |conn| {
        if !orgs::exists(conn, org_unit_id)? {
            return Err(AppError::invalid("org_unit_id", "no such org unit"));
        }
        let now = db::now();
        let row = queries::insert(
            conn,
            &NewUserRow {
                username: &username,
                display_name: &display_name,
                org_unit_id,
                password_hash,
                roles,
                active,
                version: 1,
                created_at: now,
                updated_at: now,
            },
        )
        .map_err(taken)?;
        audit::record(
            conn,
            &actor,
            Event::new("user.created", "user", row.id, json!({"after": User::from(row.clone())}))
                .org_unit(row.org_unit_id),
        )?;
        Created::new(User::from(row.clone()), format!("/api/v1/users/{}", row.id), row.version)
    })
    .await
}

/// One person of a unit in the caller's scope.
///
/// Answers the user with `ETag: "<version>"` (send it as `If-Match` to change them). Reads
/// only.
///
/// **Who:** any authenticated caller, for people of their own unit and the units below it;
/// admins for everyone.
///
/// **Errors:** 404 when the id is unknown, names a service account, or the person's unit lies
/// outside the caller's scope.
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The user", body = User, headers(("ETag" = String))),
    ),
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (scope, id) = (user.scope(), id.into_inner());
    let row = state.db.run(move |conn| queries::find(conn, scope, id)).await?.ok_or(AppError::NotFound)?;
    Ok(ok_with_etag(row.version, &User::from(row)))
}

/// Changes a person (admin); needs `If-Match`.
///
/// Also sets a new password, deactivates or reactivates. Absent fields stay. Roles and unit
/// apply to the user's next request (they are read from the database every time, not from
/// the token). A new `password` or `active: false` ends every token issued to the user
/// before it (401); reactivation does not bring them back. Writes `user.deactivated`,
/// `user.reactivated` or else `user.updated`, with the user before and after and whether the
/// password changed (never the password).
///
/// **Who:** admins only; an admin cannot deactivate themselves or drop their own `admin`
/// role.
///
/// **Errors:** 403 for anyone else; 404 when the id is unknown or names a service account;
/// 409 when the new username is taken; 412 when `If-Match` is stale; 428 when it is
/// missing; 422 for an invalid `username`, `display_name` or `password` (as on creation),
/// empty `roles`, an `org_unit_id` that names no unit, or an admin deactivating themselves
/// or removing their own `admin` role.
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path), IfMatchRequired),
    request_body = UserPatch,
    responses(
        (status = 200, description = "Updated", body = User, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 428, response = responses::PreconditionRequired),
    ),
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    user: Needs<{ roles::ADMIN }>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<UserPatch>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let patch = body.data;
    let mut errors = Errors::new();
    let username = patch.username.as_deref().map(|u| username(&mut errors, u));
    let display_name = patch.display_name.as_deref().map(|d| errors.text("display_name", d, SHORT_TEXT));
    if patch.roles.as_ref().is_some_and(|r| r.is_empty()) {
        errors.add("roles", "must name at least one role");
    }
    if let Some(p) = &patch.password {
        check_password(&mut errors, p);
    }
    // An admin cannot lock themselves out.
    if id == user.id {
        if patch.active == Some(false) {
            errors.add("active", "you cannot deactivate yourself");
        }
        if patch.roles.as_ref().is_some_and(|r| !r.contains(&Role::Admin)) {
            errors.add("roles", "you cannot remove your own admin role");
        }
    }
    errors.finish()?;
    let password_changed = patch.password.is_some();
    let password_hash = hash(patch.password).await?;
    let actor = user.actor();
    let row = state
        .db
        .write(move |conn| {
            let before = lock_and_load(conn, id, &if_match, Need::Required, |conn, id| queries::find(conn, Scope::All, id)?.ok_or(AppError::NotFound))?;
            if let Some(unit) = patch.org_unit_id {
                if !orgs::exists(conn, unit)? {
                    return Err(AppError::invalid("org_unit_id", "no such org unit"));
                }
            }
            let changes = UserChanges {
                username,
                display_name,
                org_unit_id: patch.org_unit_id,
                roles: patch.roles.as_deref().map(RoleSet::new),
                password_hash: password_hash.map(Some),
                active: patch.active,
                version: before.version + 1,
                updated_at: db::now(),
            };
            let after = queries::update(conn, id, before.version, &changes)
                .map_err(taken)?
                .ok_or(AppError::PreconditionFailed { current: before.version })?;
            // Tokens die with the credential: a new password or a deactivation ends every
            // token issued before it (reactivation does not bring them back).
            if password_changed || (before.active && !after.active) {
                queries::bump_credentials_version(conn, id)?;
            }
            let action = match (before.active, after.active) {
                (true, false) => "user.deactivated",
                (false, true) => "user.reactivated",
                _ => "user.updated",
            };
            audit::record(
                conn,
                &actor,
                Event::new(
                    action,
                    "user",
                    id,
                    json!({"before": User::from(before.clone()), "after": User::from(after.clone()), "password_changed": password_changed}),
                )
                .org_unit(after.org_unit_id),
            )?;
            Ok(after)
        })
        .await?;
    Ok(ok_with_etag(row.version, &User::from(row)))
}
