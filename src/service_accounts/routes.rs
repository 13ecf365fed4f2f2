//! `/api/v1/service-accounts` (admin): create (the secret shown once), list, read, delete.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde_json::json;

use super::api::{NewServiceAccount, ServiceAccount, ServiceAccountWithSecret};
use super::queries::{self, NewServiceAccountRow};
use crate::audit::{self, Event};
use crate::auth::{client_secret, roles, Needs, Role, RoleSet, UserKind};
use crate::db;
use crate::db::versioned::{lock_and_load, Need};
use crate::error::{responses, AppError};
use crate::http::etag::{ok_with_etag, IfMatchOptional};
use crate::http::idempotency;
use crate::http::pagination::{by_id, paginate, Page};
use crate::http::query::{ListQuery, NoFilter, PageQuery};
use crate::http::{IfMatch, Json};
use crate::orgs::queries as orgs;
use crate::state::AppState;
use crate::validate::{Errors, SHORT_TEXT};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_service_account)
        .service(list_service_accounts)
        .service(get_service_account)
        .service(delete_service_account);
}

/// Creates a service account (admin); its secret is shown once.
///
/// Answers the new `client_id` (`svc_` and 16 hex digits) and `client_secret` (`rectify_sk_`
/// and 43 base64url characters) with `Cache-Control: no-store`. Only the secret's SHA-256 is
/// stored, so it is never shown again. The account's scope is `org_unit_id` and everything
/// below it. It gets tokens from `POST /api/v1/auth/token` with `grant_type:
/// client_credentials`, and its audit events name it as the actor. Writes
/// `service_account.created`.
///
/// **Who:** admins only.
///
/// **Errors:** 403 for anyone else; 422 when `name` is blank, longer than 500 characters or
/// holds control characters, `roles` is empty or holds `admin`, `org_unit_id` names no unit,
/// or the request carries `Idempotency-Key`. That header is refused here because a replay
/// would have to keep the secret in clear. After a lost answer, delete the account and
/// create another.
#[utoipa::path(
    tag = "service-accounts",
    request_body = NewServiceAccount,
    responses(
        (status = 201, description = "Created; keep the secret", body = ServiceAccountWithSecret, headers(("ETag" = String), ("Location" = String))),
        (status = 403, response = responses::Forbidden),
    ),
)]
#[post("/service-accounts")]
pub async fn create_service_account(
    state: web::Data<AppState>,
    user: Needs<{ roles::ADMIN }>,
    req: HttpRequest,
    body: Json<NewServiceAccount>,
) -> Result<HttpResponse, AppError> {
    let new = body.data;
    let mut errors = Errors::new();
    if req.headers().contains_key(idempotency::HEADER) {
        errors.add(idempotency::HEADER, "is not accepted here: the secret is shown once and never stored in clear");
    }
    let name = errors.text("name", &new.name, SHORT_TEXT);
    if new.roles.is_empty() {
        errors.add("roles", "must name at least one role");
    }
    // Admin would let whoever holds the secret (a config file, a CI variable of another
    // system) create users and service accounts, and see and change everything.
    if new.roles.contains(&Role::Admin) {
        errors.add("roles", "a service account cannot hold the admin role");
    }
    let (org_unit_id, roles, actor) = (new.org_unit_id, RoleSet::new(&new.roles), user.actor());
    let client_id = client_secret::generate_client_id();
    let secret = client_secret::generate();
    let secret_hash = client_secret::hash(&secret);
    let account = state
        .db
        .write(move |conn| {
            // Admins' scope is everything: the unit must merely exist.
            if !orgs::exists(conn, org_unit_id)? {
                errors.add("org_unit_id", "no such org unit");
            }
            errors.finish()?;
            let now = db::now();
            let row = queries::insert(
                conn,
                &NewServiceAccountRow {
                    kind: UserKind::Service,
                    username: &client_id,
                    display_name: &name,
                    org_unit_id,
                    secret_hash,
                    roles,
                    active: true,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            let account = ServiceAccount::from(row);
            audit::record(
                conn,
                &actor,
                Event::new("service_account.created", "service_account", account.id, json!({"after": account}))
                    .org_unit(account.org_unit_id),
            )?;
            Ok(account)
        })
        .await?;
    let (id, version) = (account.id, account.version);
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::ETAG, crate::http::etag::etag(version)))
        .insert_header((actix_web::http::header::LOCATION, format!("/api/v1/service-accounts/{id}")))
        .insert_header(("Cache-Control", "no-store"))
        .json(ServiceAccountWithSecret::new(account, secret)))
}

/// Service accounts that are not deleted (admin), by id.
///
/// Lists every service account that is not deleted, whatever its unit. Secrets and their
/// hashes are never shown. Reads only.
///
/// **Who:** admins only.
///
/// **Errors:** 403 for anyone else; 400 for an unknown or repeated query parameter or a
/// tampered cursor; 422 when `limit` is not 1–200.
#[utoipa::path(
    tag = "service-accounts",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of service accounts", body = Page<ServiceAccount>),
        (status = 400, response = responses::BadRequest),
        (status = 403, response = responses::Forbidden),
        (status = 422, response = responses::Unprocessable),
    ),
)]
#[get("/service-accounts")]
pub async fn list_service_accounts(
    state: web::Data<AppState>,
    _admin: Needs<{ roles::ADMIN }>,
    q: ListQuery<NoFilter>,
) -> Result<HttpResponse, AppError> {
    let after = q.page.after_id(&state.cursor_key, "id")?;
    let limit = q.page.limit;
    let rows = state.db.run(move |conn| queries::list(conn, after, limit + 1)).await?;
    Ok(HttpResponse::Ok().json(paginate(rows, limit, &state.cursor_key, |r| by_id("id", r.id), ServiceAccount::from)))
}

/// One service account that is not deleted (admin).
///
/// Answers the account with `ETag: "<version>"`, without its secret. Reads only.
///
/// **Who:** admins only.
///
/// **Errors:** 403 for anyone else; 404 when the id is unknown, names a person, or names a
/// deleted service account.
#[utoipa::path(
    tag = "service-accounts",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The service account", body = ServiceAccount, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
    ),
)]
#[get("/service-accounts/{id}")]
pub async fn get_service_account(
    state: web::Data<AppState>,
    _admin: Needs<{ roles::ADMIN }>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let row = state.db.run(move |conn| queries::find(conn, id)).await?.ok_or(AppError::NotFound)?;
    Ok(ok_with_etag(row.version, &ServiceAccount::from(row)))
}

/// Deletes a service account (admin), revoking its tokens. Honours `If-Match`.
///
/// Every token the account holds is refused from then on (401), and its client credentials
/// get no new one. The row stays, inactive and marked deleted, for the audit trail that
/// names it; it no longer appears in the list or reads. Writes `service_account.deleted`.
/// Answers 204 with no body.
///
/// **Who:** admins only.
///
/// **Errors:** 403 for anyone else; 404 when the id is unknown, names a person, or the
/// account is already deleted; 412 when `If-Match` is given and stale.
#[utoipa::path(
    tag = "service-accounts",
    params(("id" = i64, Path), IfMatchOptional),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, response = responses::Forbidden),
        (status = 412, response = responses::PreconditionFailed),
    ),
)]
#[delete("/service-accounts/{id}")]
pub async fn delete_service_account(
    state: web::Data<AppState>,
    user: Needs<{ roles::ADMIN }>,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let (id, actor) = (id.into_inner(), user.actor());
    state
        .db
        .write(move |conn| {
            let before = lock_and_load(conn, id, &if_match, Need::IfGiven, |conn, id| {
                queries::find(conn, id)?.ok_or(AppError::NotFound)
            })?;
            queries::delete(conn, id, before.version, db::now())?
                .ok_or(AppError::PreconditionFailed { current: before.version })?;
            let unit = before.org_unit_id;
            audit::record(
                conn,
                &actor,
                Event::new(
                    "service_account.deleted",
                    "service_account",
                    id,
                    json!({"before": ServiceAccount::from(before)}),
                )
                .org_unit(unit),
            )?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
