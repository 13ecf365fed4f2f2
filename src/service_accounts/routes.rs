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

/// Creates a service account (admin) and answers its `client_id` and `client_secret`; the
/// secret is shown this once (only its hash is stored). `Idempotency-Key` is refused here
/// (422): a replay would have to keep the secret in clear; after a lost answer, delete the
/// account and create another.
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

/// Service accounts that are not deleted (admin), by id. Secrets are never shown.
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

/// Deletes a service account (admin): every token it holds is refused at once (401), and no
/// new one is issued. The row stays, deactivated, for the audit trail that names it. Honours `If-Match`.
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
