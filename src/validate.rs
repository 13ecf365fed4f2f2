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

    /// Trimmed, non-empty text of at most `max` characters, without control characters
    /// (the spec's `Text` schemas state the same rule as a pattern).
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        let v = trim(value);
        if v.is_empty() {
            self.add(field, "must not be empty");
        } else {
            self.check_text(field, value, max);
        }
        v.to_owned()
    }

    /// Optional text: blank becomes null.
    pub fn optional_text(&mut self, field: &str, value: Option<&str>, max: usize) -> Option<String> {
        let raw = value?;
        self.check_text(field, raw, max);
        let v = trim(raw);
        (!v.is_empty()).then(|| v.to_owned())
    }

    /// Checks the text as sent, so that the spec's `maxLength` and `pattern` say exactly
    /// what is accepted.
    fn check_text(&mut self, field: &str, raw: &str, max: usize) {
        if raw.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
        } else if raw.chars().any(forbidden) {
            // NUL and friends break documents, spreadsheets and other systems downstream.
            self.add(field, "must not contain control characters other than tab, line feed and carriage return");
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

/// Whitespace around text is dropped: Unicode white space and the byte order mark, the set
/// that `\s` matches in the spec's (ECMA-262) patterns.
fn trim(value: &str) -> &str {
    value.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// Control characters are refused in text, except tab, line feed and carriage return.
fn forbidden(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\r' | '\t')
}

// The patterns name white space and control characters one by one: `\s` means other sets in
// other regex dialects (ECMA-262, Python's `re`, Rust's `regex`), and clients use all of them.
/// Text that must say something: not blank, no control characters but tab, LF and CR.
pub const TEXT_PATTERN: &str = concat!(
    r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]*",
    r"[^\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF\u0000-\u001F\u007F-\u009F]",
    r"[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
);
/// Text that may be blank (it is then stored as null): no control characters but tab, LF and CR.
/// Any string without a NUL character.
pub const NUL_FREE_PATTERN: &str = r"^[^\u0000]*$";
/// A date of the years 1900–9999 (what `date` accepts), as a pattern beside `format: date`.
pub const DATE_PATTERN: &str = r"^(19[0-9]{2}|[2-9][0-9]{3})-[0-9]{2}-[0-9]{2}$";
pub const NOTE_PATTERN: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

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

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: &[&str] = &[
        "整改台账",
        "  两端有空格  ",
        "多行\n文本\r\n\t缩进",
        "",
        "   ",
        "\u{3000}\u{feff}",
        "\u{3000}全角空格开头",
        "a\u{0}b",
        "\u{b}垂直制表",
        "尾部\u{c}",
        "\u{85}",
        "x\u{85}",
        "\u{1c}",
        "\u{7f}",
        "\u{200b}零宽空格",
        "\u{1f600}",
    ];

    #[test]
    fn the_patterns_say_what_the_checks_accept() {
        let text = regex_lite::Regex::new(TEXT_PATTERN).unwrap();
        let note = regex_lite::Regex::new(NOTE_PATTERN).unwrap();
        for sample in SAMPLES {
            let mut errors = Errors::new();
            errors.text("f", sample, SHORT_TEXT);
            assert_eq!(text.is_match(sample), errors.is_empty(), "text {sample:?}");
            let mut errors = Errors::new();
            errors.optional_text("f", Some(sample), SHORT_TEXT);
            assert_eq!(note.is_match(sample), errors.is_empty(), "note {sample:?}");
        }
    }

    #[test]
    fn length_counts_what_was_sent() {
        let mut errors = Errors::new();
        let padded = format!("a{}", " ".repeat(SHORT_TEXT));
        errors.text("f", &padded, SHORT_TEXT);
        assert!(!errors.is_empty(), "maxLength applies to the text as sent");
        let mut errors = Errors::new();
        assert_eq!(errors.optional_text("f", Some(" \u{3000} "), SHORT_TEXT), None);
        assert!(errors.is_empty());
    }
}
