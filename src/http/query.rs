//! Strict query-string parsing: repeated keys, unknown keys refused with 400.

use std::future::{ready, Ready};
use std::str::FromStr;

use actix_web::{dev::Payload, FromRequest, HttpRequest};

use crate::error::AppError;

/// The query string as ordered key/value pairs.
pub struct QueryPairs(Vec<(String, String)>);

impl FromRequest for QueryPairs {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
                .map(QueryPairs)
                .map_err(|e| AppError::BadRequest(format!("malformed query string: {e}"))),
        )
    }
}

impl QueryPairs {
    /// Pairs from elsewhere than a URL (the CLI).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }

    /// Refuses any parameter not in `allowed`.
    pub fn only(&self, allowed: &[&str]) -> Result<(), AppError> {
        match self.0.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            Some((k, _)) => {
                Err(AppError::BadRequest(format!("unknown query parameter `{k}`; allowed: {}", allowed.join(", "))))
            }
            None => Ok(()),
        }
    }

    /// The single value of `key`; repeating it is a 400.
    pub fn one(&self, key: &str) -> Result<Option<&str>, AppError> {
        let mut values = self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(AppError::BadRequest(format!("query parameter `{key}` may be given once")));
        }
        Ok(first)
    }

    /// Every value of a repeatable `key` (also accepts comma-separated values).
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// Parses the single value of `key`; a value that does not parse is a 400 naming it.
    pub fn parse<T: FromStr>(&self, key: &str, expected: &str) -> Result<Option<T>, AppError> {
        match self.one(key)? {
            None => Ok(None),
            Some(raw) => {
                raw.trim().parse::<T>().map(Some).map_err(|_| {
                    AppError::BadRequest(format!("query parameter `{key}` must be {expected}, got `{raw}`"))
                })
            }
        }
    }

    /// A `YYYY-MM-DD` date parameter.
    pub fn date(&self, key: &str) -> Result<Option<chrono::NaiveDate>, AppError> {
        let date: Option<chrono::NaiveDate> = self.parse(key, "a date YYYY-MM-DD")?;
        match date {
            Some(d) if !crate::validate::date::in_range(d) => {
                Err(AppError::BadRequest(format!("query parameter `{key}` {}", crate::validate::date::MESSAGE)))
            }
            other => Ok(other),
        }
    }

    /// A `true`/`false` parameter.
    pub fn boolean(&self, key: &str) -> Result<Option<bool>, AppError> {
        self.parse(key, "true or false")
    }

    /// An id parameter.
    pub fn id(&self, key: &str) -> Result<Option<i64>, AppError> {
        self.parse(key, "an integer id")
    }
}
