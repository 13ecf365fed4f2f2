//! Small validation helpers that collect every field error of a request.

use serde::{Deserialize, Deserializer};

use crate::error::{AppError, FieldError};

/// Collects field errors; `finish` turns them into one 422.
#[derive(Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Trimmed, non-empty text of at most `max` characters, without control characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        let v = value.trim();
        if v.is_empty() {
            self.add(field, "must not be empty");
        } else {
            self.check_text(field, v, max);
        }
        v.to_owned()
    }

    /// Optional text: blank becomes null.
    pub fn optional_text(&mut self, field: &str, value: Option<&str>, max: usize) -> Option<String> {
        let v = value.map(str::trim).filter(|v| !v.is_empty())?;
        self.check_text(field, v, max);
        Some(v.to_owned())
    }

    fn check_text(&mut self, field: &str, v: &str, max: usize) {
        if v.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
        } else if v.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            // NUL and friends break documents, spreadsheets and other systems downstream.
            self.add(field, "must not contain control characters");
        }
    }

    pub fn into_inner(self) -> Vec<FieldError> {
        self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn finish(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.0))
        }
    }
}

/// Deserializes a PATCH field so that absent (`None`) differs from `null` (`Some(None)`).
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// The largest finding number and section position accepted.
pub const MAX_ORDINAL: i32 = 1_000_000;

pub const SHORT_TEXT: usize = 500;
pub const LONG_TEXT: usize = 20_000;

/// Dates the service accepts: 1900-01-01 to 9999-12-31 (what YYYY-MM-DD and spreadsheets can hold).
pub mod date {
    use chrono::{Datelike, NaiveDate};
    use serde::{de, Deserialize, Deserializer};

    pub const MESSAGE: &str = "must be a date from 1900-01-01 to 9999-12-31";

    pub fn in_range(d: NaiveDate) -> bool {
        (1900..=9999).contains(&d.year())
    }

    fn check<E: de::Error>(d: NaiveDate) -> Result<NaiveDate, E> {
        if in_range(d) {
            Ok(d)
        } else {
            Err(E::custom(MESSAGE))
        }
    }

    /// A required date field.
    pub fn required<'de, D: Deserializer<'de>>(de: D) -> Result<NaiveDate, D::Error> {
        check(NaiveDate::deserialize(de)?)
    }

    /// An optional date field (with `#[serde(default)]`).
    pub fn optional<'de, D: Deserializer<'de>>(de: D) -> Result<Option<NaiveDate>, D::Error> {
        Option::<NaiveDate>::deserialize(de)?.map(check).transpose()
    }

    /// A PATCH date field: absent, `null` or a date.
    pub fn patch<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Option<NaiveDate>>, D::Error> {
        Ok(Some(optional(de)?))
    }
}
