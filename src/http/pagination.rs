//! Keyset pagination: `limit` and an opaque, signed `cursor`.
//!
//! A cursor holds the sort name and the sort key of the last row served; it is
//! signed (HMAC-SHA256) so that a tampered cursor is a 400, not a silent
//! jump. Pages are stable while rows are inserted: each page starts strictly
//! after the last key served.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

use crate::error::AppError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// The signing key for cursors (derived from the JWT secret, so that every
/// instance behind a load balancer accepts every other's cursors).
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl CursorKey {
    pub fn derive(secret: &str) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("hmac takes any key length");
        mac.update(b"rectify cursor key v1");
        Self(mac.finalize().into_bytes().into())
    }

    fn mac(&self, payload: &[u8]) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("hmac takes any key length");
        mac.update(payload);
        mac.finalize().into_bytes()[..16].to_vec()
    }
}

/// The position after the last row of a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort the cursor belongs to; using it with another sort is a 400.
    #[serde(rename = "s")]
    pub sort: String,
    /// The sort key of the last row (null for a null key).
    #[serde(rename = "k")]
    pub key: serde_json::Value,
    #[serde(rename = "i")]
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self, key: &CursorKey) -> String {
        let payload = serde_json::to_vec(self).unwrap_or_default();
        let sig = key.mac(&payload);
        format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(sig))
    }

    pub fn decode(raw: &str, key: &CursorKey, sort: &str) -> Result<Cursor, AppError> {
        let bad = || AppError::BadRequest("the cursor is invalid; start again without it".into());
        let (payload, sig) = raw.split_once('.').ok_or_else(bad)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| bad())?;
        let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| bad())?;
        if sig.len() != 16 {
            return Err(bad());
        }
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.0).expect("hmac takes any key length");
        mac.update(&payload);
        mac.verify_truncated_left(&sig).map_err(|_| bad())?;
        let cursor: Cursor = serde_json::from_slice(&payload).map_err(|_| bad())?;
        if cursor.sort != sort {
            return Err(AppError::BadRequest(format!(
                "the cursor belongs to sort `{}`, not `{sort}`; start again without it",
                cursor.sort
            )));
        }
        Ok(cursor)
    }

    /// The key as a typed value; a key of the wrong type is a 400 (a valid
    /// signature makes this unreachable short of a key change).
    pub fn key_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, AppError> {
        serde_json::from_value(self.key.clone())
            .map_err(|_| AppError::BadRequest("the cursor is invalid; start again without it".into()))
    }
}

/// `limit` and `cursor` from the query string.
pub struct PageParams {
    pub limit: i64,
    pub cursor: Option<String>,
}

impl PageParams {
    /// Checks `limit` (1–200, 422 outside) and refuses an empty cursor (400).
    pub fn new(limit: Option<i64>, cursor: Option<String>) -> Result<Self, AppError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => return Err(AppError::invalid("limit", format!("must be from 1 to {MAX_LIMIT}"))),
        };
        if cursor.as_deref() == Some("") {
            return Err(AppError::BadRequest("the cursor is empty; omit `cursor` for the first page".into()));
        }
        Ok(Self { limit, cursor })
    }

    pub fn decode(&self, key: &CursorKey, sort: &str) -> Result<Option<Cursor>, AppError> {
        self.cursor.as_deref().map(|raw| Cursor::decode(raw, key, sort)).transpose()
    }

    /// Where an id-ordered page starts: after the cursor's id, or at the beginning.
    pub fn after_id(&self, key: &CursorKey, sort: &str) -> Result<i64, AppError> {
        Ok(self.decode(key, sort)?.map(|c| c.id).unwrap_or(0))
    }
}

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Cuts a fetched `limit + 1` rows to a page, making the cursor from the last row kept.
pub fn paginate<R, T: ToSchema>(
    rows: Vec<R>,
    limit: i64,
    key: &CursorKey,
    cursor_of: impl Fn(&R) -> Cursor,
    mut map: impl FnMut(R) -> T,
) -> Page<T> {
    match try_paginate::<_, _, std::convert::Infallible>(rows, limit, key, cursor_of, |r| Ok(map(r))) {
        Ok(page) => page,
        Err(never) => match never {},
    }
}

/// `paginate` with a mapping that may fail.
pub fn try_paginate<R, T: ToSchema, E>(
    mut rows: Vec<R>,
    limit: i64,
    key: &CursorKey,
    cursor_of: impl Fn(&R) -> Cursor,
    map: impl FnMut(R) -> Result<T, E>,
) -> Result<Page<T>, E> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(|r| cursor_of(r).encode(key)) } else { None };
    Ok(Page { items: rows.into_iter().map(map).collect::<Result<_, E>>()?, next_cursor })
}

/// The cursor of an id-ordered list.
pub fn by_id(sort: &'static str, id: i64) -> Cursor {
    Cursor { sort: sort.into(), key: serde_json::Value::Null, id }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cursor_round_trips_and_refuses_tampering() {
        let key = CursorKey::derive("secret");
        let c = Cursor { sort: "seq".into(), key: serde_json::json!(5), id: 9 };
        let raw = c.encode(&key);
        assert_eq!(Cursor::decode(&raw, &key, "seq").unwrap(), c);
        assert!(Cursor::decode(&raw, &key, "due_on").is_err());
        assert!(Cursor::decode(&raw, &CursorKey::derive("other"), "seq").is_err());
        let forged = Cursor { sort: "seq".into(), key: serde_json::json!(1), id: 1 }.encode(&CursorKey::derive("x"));
        assert!(Cursor::decode(&forged, &key, "seq").is_err());
        assert!(Cursor::decode("garbage", &key, "seq").is_err());
        let (payload, _) = raw.split_once('.').unwrap();
        assert!(Cursor::decode(&format!("{payload}.AAAA"), &key, "seq").is_err());
    }

    /// The keys cursors carry: null, numbers (ids, sequence numbers), text (dates, timestamps, titles).
    fn key() -> impl Strategy<Value = serde_json::Value> {
        prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<String>().prop_map(serde_json::Value::from),
            r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z)?".prop_map(serde_json::Value::from),
        ]
    }

    fn cursor() -> impl Strategy<Value = Cursor> {
        (any::<String>(), key(), any::<i64>()).prop_map(|(sort, key, id)| Cursor { sort, key, id })
    }

    /// What a client might send as a cursor: anything, things shaped like `payload.signature`,
    /// and payloads signed with the right key (so the JSON inside is what is tried).
    fn raw_cursor(signing: CursorKey) -> impl Strategy<Value = String> {
        let signed = move |payload: Vec<u8>| {
            let sig = signing.mac(&payload);
            format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(sig))
        };
        prop_oneof![
            any::<String>(),
            r"[A-Za-z0-9_=+/-]{0,200}\.[A-Za-z0-9_=+/-]{0,40}",
            r"[A-Za-z0-9_-]{0,60}(\.[A-Za-z0-9_-]{0,30}){0,3}",
            prop::collection::vec(any::<u8>(), 0..200).prop_map(signed.clone()),
            r#"\{"s":"[a-z_-]{0,10}","k":(null|-?[0-9]{1,25}|"\PC{0,10}"|\[\]|\{\}|true|1e400),"i":-?[0-9]{1,25}\}"#
                .prop_map(|json| json.into_bytes())
                .prop_map(signed),
        ]
    }

    proptest! {
        /// Decoding never panics: a bad cursor is a 400, whatever it holds.
        #[test]
        fn decode_never_panics(raw in raw_cursor(CursorKey::derive("secret")), sort in "[a-z_-]{0,10}") {
            let key = CursorKey::derive("secret");
            if let Ok(cursor) = Cursor::decode(&raw, &key, &sort) {
                prop_assert_eq!(&cursor.sort, &sort);
                // Only what the key signed decodes: re-encoding gives a cursor that decodes the same.
                prop_assert_eq!(Cursor::decode(&cursor.encode(&key), &key, &sort).ok(), Some(cursor));
            } else {
                prop_assert!(matches!(Cursor::decode(&raw, &key, &sort), Err(AppError::BadRequest(_))));
            }
        }

        /// What the service encodes, it decodes to the same cursor; under another sort or another
        /// key, or with any one character changed, it is refused.
        #[test]
        fn encoded_cursors_decode_to_themselves(c in cursor(), at in any::<prop::sample::Index>(), other in any::<String>()) {
            let key = CursorKey::derive("secret");
            let raw = c.encode(&key);
            prop_assert_eq!(Cursor::decode(&raw, &key, &c.sort).unwrap(), c.clone());
            if other != c.sort {
                prop_assert!(Cursor::decode(&raw, &key, &other).is_err());
            }
            prop_assert!(Cursor::decode(&raw, &CursorKey::derive("another secret"), &c.sort).is_err());
            let mut tampered: Vec<char> = raw.chars().collect();
            let i = at.index(tampered.len());
            tampered[i] = if tampered[i] == 'A' { 'B' } else { 'A' };
            let tampered: String = tampered.into_iter().collect();
            prop_assert!(Cursor::decode(&tampered, &key, &c.sort).is_err(), "{} decoded", tampered);
        }
    }
}
