//! `POST /auth/token` and `GET /auth/me`.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use diesel::prelude::*;

use super::api::{Me, TokenRequest, TokenResponse};
use super::{password, AuthUser, RoleSet};
use crate::db::schema::users;
use crate::error::{responses, AppError};
use crate::http::Json;
use crate::state::AppState;

const BAD_CREDENTIALS: &str = "the username or password is wrong";

/// Exchanges a username and password for a bearer token. Sign-in attempts are rate-limited per client address.
#[utoipa::path(
    tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "A token", body = TokenResponse),
        (status = 401, response = responses::Unauthorized),
        (status = 429, response = responses::TooManyRequests),
    )
)]
#[post("/auth/token")]
pub async fn issue_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    // Password guessing is throttled per client address, before the body is even read.
    state.login_limiter.check(&req)?;
    let body: Json<TokenRequest> = crate::http::json::read(&req, payload.into_inner()).await?;
    let TokenRequest { username, password: given } = body.data;
    let found = state
        .db
        .run(move |conn| {
            let row: Option<(i64, Option<String>, RoleSet, i64, bool)> = users::table
                .filter(users::username.eq(&username))
                .select((users::id, users::password_hash, users::roles, users::org_unit_id, users::active))
                .first(conn)
                .optional()?;
            // Argon2 is slow on purpose: it runs here, on the blocking pool.
            Ok(match row {
                Some((id, Some(hash), roles, unit, true)) if password::verify(&given, &hash) => Some((id, roles, unit)),
                Some((_, Some(_), _, _, true)) => None,
                // Deactivated, or external-only: spend the same effort, so timing tells nothing.
                Some(_) | None => {
                    password::verify_dummy(&given);
                    None
                }
            })
        })
        .await?;
    let Some((id, roles, unit)) = found else {
        return Err(AppError::Unauthorized(BAD_CREDENTIALS.into()));
    };
    let roles = roles.roles().iter().map(|r| r.as_str().to_owned()).collect();
    let access_token = state.tokens.issue(id, roles, unit)?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.tokens.ttl_seconds(),
    }))
}

/// The caller's identity, unit and roles.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The caller", body = Me),
    ),
)]
#[get("/auth/me")]
pub async fn me(user: AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(Me {
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        org_unit_id: user.org_unit_id,
        roles: user.roles,
    })
}
