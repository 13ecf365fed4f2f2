//! `Idempotency-Key` on creating POSTs: the same key from the same user with
//! the same request within 24 h replays the first response; with another
//! request it is a 422.
//!
//! The key row is inserted in the creating transaction itself, before the
//! work: a concurrent duplicate waits on the unique index (PostgreSQL) or on
//! the write lock (SQLite) and then replays, so the work happens exactly once.

use std::future::{ready, Ready};

use actix_web::http::{header, StatusCode};
use actix_web::{dev::Payload, FromRequest, HttpRequest, HttpResponse};
use chrono::Duration;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::schema::idempotency_keys as ik;
use crate::db::{self, Db, DbConn};
use crate::error::{is_unique_violation, AppError};

pub const HEADER: &str = "Idempotency-Key";
const MAX_KEY_CHARS: usize = 255;

/// The optional `Idempotency-Key` header.
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(value) = req.headers().get(HEADER) else { return ready(Ok(IdempotencyKey(None))) };
        let result = match value.to_str() {
            Ok(v) if v.trim().is_empty() => Err(AppError::invalid(HEADER, "must not be empty")),
            Ok(v) if v.chars().count() > MAX_KEY_CHARS => {
                Err(AppError::invalid(HEADER, format!("must be at most {MAX_KEY_CHARS} characters")))
            }
            Ok(v) => Ok(IdempotencyKey(Some(v.to_owned()))),
            Err(_) => Err(AppError::invalid(HEADER, "must be visible ASCII")),
        };
        ready(result)
    }
}

/// The response of a successful creation, as stored for replay.
#[derive(Debug, Clone)]
pub struct Created {
    pub status: StatusCode,
    pub body: serde_json::Value,
    pub etag: Option<i32>,
    pub location: Option<String>,
}

impl Created {
    /// A `201 Created` with `Location` and `ETag`.
    pub fn new(body: impl serde::Serialize, location: String, version: i32) -> Result<Self, AppError> {
        Ok(Self {
            status: StatusCode::CREATED,
            body: serde_json::to_value(body)?,
            etag: Some(version),
            location: Some(location),
        })
    }

    fn respond(self, replayed: bool) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status);
        if let Some(v) = self.etag {
            builder.insert_header((header::ETAG, super::etag::etag(v)));
        }
        if let Some(l) = self.location {
            builder.insert_header((header::LOCATION, l));
        }
        if replayed {
            builder.insert_header(("Idempotent-Replayed", "true"));
        }
        builder.json(self.body)
    }
}

enum Outcome {
    Fresh(Created),
    Replay(Created),
    Raced,
}

fn fingerprint(req: &HttpRequest, raw: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(req.method().as_str());
    hash.update(b" ");
    hash.update(req.uri().path());
    hash.update(b"?");
    hash.update(req.query_string());
    hash.update(b"\n");
    // The same JSON with other whitespace is the same request.
    match serde_json::from_slice::<serde_json::Value>(raw) {
        Ok(value) => hash.update(value.to_string().as_bytes()),
        Err(_) => hash.update(raw),
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

type Stored = (String, i32, String, Option<String>, Option<String>, chrono::NaiveDateTime);

fn lookup(conn: &mut DbConn, user_id: i64, key: &str, fingerprint: &str) -> Result<Option<Outcome>, AppError> {
    let row: Option<Stored> = ik::table
        .filter(ik::user_id.eq(user_id).and(ik::idem_key.eq(key)))
        .select((
            ik::fingerprint,
            ik::response_status,
            ik::response_body,
            ik::response_etag,
            ik::response_location,
            ik::created_at,
        ))
        .first(conn)
        .optional()?;
    let Some((stored_fp, status, body, etag, location, created_at)) = row else { return Ok(None) };
    if created_at < db::now() - Duration::hours(24) {
        diesel::delete(ik::table.filter(ik::user_id.eq(user_id).and(ik::idem_key.eq(key)))).execute(conn)?;
        return Ok(None);
    }
    if stored_fp != fingerprint {
        return Err(AppError::invalid(HEADER, "was already used with a different request in the last 24 hours"));
    }
    Ok(Some(Outcome::Replay(Created {
        status: StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK),
        body: serde_json::from_str(&body)?,
        etag: etag.and_then(|e| e.parse().ok()),
        location,
    })))
}

/// Runs a creating transaction `f`, exactly once per idempotency key.
pub async fn create<F>(
    db: &Db,
    user_id: i64,
    key: IdempotencyKey,
    req: &HttpRequest,
    raw: &[u8],
    f: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<Created, AppError> + Send + 'static,
{
    let Some(key) = key.0 else {
        return Ok(db.write(f).await?.respond(false));
    };
    let fp = fingerprint(req, raw);
    let (key2, fp2) = (key.clone(), fp.clone());
    let outcome = db
        .write(move |conn| {
            if let Some(replay) = lookup(conn, user_id, &key, &fp)? {
                return Ok(replay);
            }
            let placeholder = conn.transaction(|c| {
                diesel::insert_into(ik::table)
                    .values((
                        ik::user_id.eq(user_id),
                        ik::idem_key.eq(&key),
                        ik::fingerprint.eq(&fp),
                        ik::response_status.eq(0),
                        ik::response_body.eq(""),
                        ik::created_at.eq(db::now()),
                    ))
                    .execute(c)
            });
            match placeholder {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => return Ok(Outcome::Raced),
                Err(e) => return Err(e.into()),
            }
            let created = f(conn)?;
            diesel::update(ik::table.filter(ik::user_id.eq(user_id).and(ik::idem_key.eq(&key))))
                .set((
                    ik::response_status.eq(created.status.as_u16() as i32),
                    ik::response_body.eq(serde_json::to_string(&created.body)?),
                    ik::response_etag.eq(created.etag.map(|v| v.to_string())),
                    ik::response_location.eq(&created.location),
                ))
                .execute(conn)?;
            Ok(Outcome::Fresh(created))
        })
        .await?;
    match outcome {
        Outcome::Fresh(c) => Ok(c.respond(false)),
        Outcome::Replay(c) => Ok(c.respond(true)),
        Outcome::Raced => match db.run(move |conn| lookup(conn, user_id, &key2, &fp2)).await? {
            Some(Outcome::Replay(c)) => Ok(c.respond(true)),
            _ => Err(AppError::Conflict("a request with this Idempotency-Key is still in progress".into())),
        },
    }
}

/// `Idempotency-Key` as creating operations declare it.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyHeader {
    /// Replays the first response for 24 h
    #[param(
        rename = "Idempotency-Key",
        value_type = String,
        required = false,
        max_length = 255,
        pattern = r"^[\t -~]*[!-~][\t -~]*$",
        example = "2f1c9e0a-7b3d-4e58-9a61-0c2d4b8e7f13"
    )]
    pub idempotency_key: Option<String>,
}
