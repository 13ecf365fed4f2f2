//! Optimistic concurrency: `ETag: "<version>"` out, `If-Match` in.

use std::future::{ready, Ready};

use actix_web::http::header;
use actix_web::{dev::Payload, FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder};

use crate::db::versioned::Precondition;
use crate::error::AppError;

/// The parsed `If-Match` header: the caller's precondition on the version it changes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IfMatch(pub Precondition);

impl std::ops::Deref for IfMatch {
    type Target = Precondition;

    fn deref(&self) -> &Precondition {
        &self.0
    }
}

impl FromRequest for IfMatch {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req).map(IfMatch))
    }
}

fn parse(req: &HttpRequest) -> Result<Precondition, AppError> {
    let values = req
        .headers()
        .get_all(header::IF_MATCH)
        .map(|v| v.to_str().map_err(|_| AppError::BadRequest("If-Match is not valid ASCII".into())))
        .collect::<Result<Vec<_>, _>>()?;
    parse_values(&values)
}

/// `If-Match` = `*` / 1#entity-tag (RFC 9110 §13.1.1), from one or more header lines.
fn parse_values(values: &[&str]) -> Result<Precondition, AppError> {
    match values {
        [] => Ok(Precondition::Absent),
        [only] if only.trim_matches([' ', '\t']) == "*" => Ok(Precondition::Any),
        _ => {
            let parts = values.iter().flat_map(|v| list_items(v)).map(|p| p.trim_matches([' ', '\t']));
            Ok(Precondition::Versions(parts.map(entity_tag).collect::<Result<_, _>>()?))
        }
    }
}

/// The items of a comma-separated header list; a comma inside a quoted entity tag
/// (`"a,b"` is one tag: etagc allows it) does not separate.
fn list_items(value: &str) -> Vec<&str> {
    let (mut items, mut start, mut quoted) = (Vec::new(), 0, false);
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                items.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&value[start..]);
    items
}

/// One entity-tag of RFC 9110 (`"3"`, or weak `W/"3"`): our version number when it is a
/// strong tag naming one, `None` for any other well-formed tag (it matches nothing).
fn entity_tag(part: &str) -> Result<Option<i32>, AppError> {
    let (weak, tag) = match part.strip_prefix("W/") {
        Some(rest) => (true, rest),
        None => (false, part),
    };
    let inner = tag
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|inner| inner.bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b)));
    let Some(inner) = inner else {
        return Err(AppError::BadRequest(format!(
            "If-Match must be `*` or a comma-separated list of quoted entity tags like \"3\", got `{part}`"
        )));
    };
    // If-Match uses strong comparison: a weak tag never matches.
    Ok(if weak { None } else { inner.parse::<i32>().ok() })
}

/// The ETag value of a version.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// A 200 response carrying `ETag`.
pub fn ok_with_etag<T: serde::Serialize>(version: i32, body: &T) -> HttpResponse {
    with_etag(HttpResponse::Ok(), version).json(body)
}

pub fn with_etag(mut builder: HttpResponseBuilder, version: i32) -> HttpResponseBuilder {
    builder.insert_header((header::ETAG, etag(version)));
    builder
}

/// `If-Match` as PATCH declares it: required (428 without it).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatchRequired {
    /// The ETag last read
    #[param(
        rename = "If-Match",
        pattern = r#"^(\*|(W/)?"[!#-~]*"([ \t]*,[ \t]*(W/)?"[!#-~]*")*)$"#,
        example = "\"3\""
    )]
    pub if_match: String,
}

/// `If-Match` as workflow actions declare it: honoured when given.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatchOptional {
    /// Checked when given
    #[param(
        rename = "If-Match",
        value_type = String,
        required = false,
        pattern = r#"^(\*|(W/)?"[!#-~]*"([ \t]*,[ \t]*(W/)?"[!#-~]*")*)$"#,
        example = "\"3\""
    )]
    pub if_match: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(values: &[&str]) -> Option<Vec<Option<i32>>> {
        match parse_values(values) {
            Ok(Precondition::Versions(tags)) => Some(tags),
            _ => None,
        }
    }

    #[test]
    fn if_match_follows_rfc_9110() {
        assert!(matches!(parse_values(&[]), Ok(Precondition::Absent)));
        assert!(matches!(parse_values(&["*"]), Ok(Precondition::Any)));
        assert_eq!(versions(&["\"3\""]), Some(vec![Some(3)]));
        assert_eq!(versions(&["\"3\" ,\t\"4\"", "W/\"5\""]), Some(vec![Some(3), Some(4), None]));
        assert_eq!(versions(&["\"abc\""]), Some(vec![None]));
        // A comma inside the quotes is part of the tag (found by schemathesis).
        assert_eq!(versions(&["\"a,b\", \"4\""]), Some(vec![None, Some(4)]));
        for bad in ["3", "W/3", "\"3\",", ",\"3\"", "\"3\",,\"4\"", "*, \"3\"", "\"a\"b\"", "\"a b\"", ""] {
            assert!(matches!(parse_values(&[bad]), Err(AppError::BadRequest(_))), "{bad:?}");
        }
        assert!(parse_values(&["*", "\"3\""]).is_err(), "`*` only alone");
    }

    #[test]
    fn the_declared_pattern_agrees_with_the_parser() {
        use utoipa::openapi::{schema::Schema, RefOr};
        use utoipa::IntoParams;
        for params in [IfMatchRequired::into_params(|| None), IfMatchOptional::into_params(|| None)] {
            let Some(RefOr::T(Schema::Object(schema))) = &params[0].schema else { panic!("If-Match has a schema") };
            let pattern = regex_lite::Regex::new(schema.pattern.as_deref().expect("If-Match has a pattern")).unwrap();
            check(&pattern);
        }
    }

    fn check(pattern: &regex_lite::Regex) {
        for value in
            ["*", "\"3\"", "\"3\" ,\t\"4\"", "W/\"5\"", "\"\"", "3", "W/3", "\"3\",", "*, \"3\"", "\"a b\"", ""]
        {
            assert_eq!(pattern.is_match(value), parse_values(&[value]).is_ok(), "{value:?}");
        }
    }
}
