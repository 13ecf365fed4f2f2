//! Strict, typed query strings. A handler's query parameters are declared once,
//! as a struct deriving `Deserialize` and `IntoParams`: the spec is generated from
//! it and requests are parsed by it. Unknown parameters are a 400, and so is a
//! single-valued parameter given twice; a repeatable one (a `Vec` field) takes
//! repeated keys and comma-separated values alike.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, FromRequest, HttpRequest};
use serde::de::{DeserializeOwned, IntoDeserializer};
use serde::{Deserialize, Deserializer};
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa::IntoParams;

use super::pagination::PageParams;
use crate::error::AppError;

/// A parameter a handler declares: its name, and whether it may repeat.
struct Declared {
    name: String,
    repeatable: bool,
}

fn declared<T: IntoParams>() -> Vec<Declared> {
    T::into_params(|| Some(ParameterIn::Query)).into_iter().map(declared_one).collect()
}

fn declared_one(p: Parameter) -> Declared {
    let repeatable = matches!(p.schema, Some(RefOr::T(Schema::Array(_))));
    Declared { name: p.name, repeatable }
}

/// Parses `raw` into `T`, accepting only the `declared` parameters.
fn parse<T: DeserializeOwned>(raw: &str, declared: &[Declared]) -> Result<T, AppError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw).map_err(|e| AppError::BadRequest(format!("malformed query string: {e}")))?;
    let mut merged: Vec<(String, String)> = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        let Some(d) = declared.iter().find(|d| d.name == key) else {
            let names: Vec<&str> = declared.iter().map(|d| d.name.as_str()).collect();
            let allowed = if names.is_empty() { "none".to_owned() } else { names.join(", ") };
            return Err(AppError::BadRequest(format!("unknown query parameter `{key}`; allowed: {allowed}")));
        };
        if value.contains('\0') {
            // No text column can store it (PostgreSQL refuses it outright).
            return Err(AppError::invalid(key, "must not contain NUL characters"));
        }
        match merged.iter_mut().find(|(k, _)| *k == key) {
            Some((_, joined)) if d.repeatable => {
                joined.push(',');
                joined.push_str(&value);
            }
            Some(_) => return Err(AppError::BadRequest(format!("query parameter `{key}` may be given once"))),
            None => merged.push((key, value)),
        }
    }
    let encoded = serde_urlencoded::to_string(&merged).map_err(|e| AppError::internal(e.to_string()))?;
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(encoded.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        AppError::BadRequest(format!("query parameter `{field}`: {}", e.inner()))
    })
}

/// Parameters from elsewhere than a URL (the command line), parsed exactly as a query string would be.
pub fn from_pairs<T: DeserializeOwned + IntoParams>(pairs: &[(String, String)]) -> Result<T, AppError> {
    let raw = serde_urlencoded::to_string(pairs).map_err(|e| AppError::internal(e.to_string()))?;
    parse(&raw, &declared::<T>())
}

/// The query string as a typed `T` (declared with `IntoParams`).
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + IntoParams> FromRequest for Query<T> {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req.query_string(), &declared::<T>()).map(Query))
    }
}

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// `limit` and `cursor`, the parameters of every list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many items a page holds: 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page, with the same filters and sort; omit it for the
    /// first page. A cursor is opaque and signed: one made up or changed is a 400.
    #[param(
        pattern = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$",
        example = "eyJzIjoic2VxIiwiayI6MTIsImkiOjQ1fQ.dGhpc2lzYXNpZ25hdHVyZQ"
    )]
    pub cursor: Option<String>,
}

/// The filters of a list that has none but its page.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoFilter {}

/// A list's filters `T` and its page parameters, from one query string.
pub struct ListQuery<T> {
    pub filter: T,
    pub page: PageParams,
}

impl<T: DeserializeOwned + IntoParams> FromRequest for ListQuery<T> {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(list_query(req.query_string()))
    }
}

fn list_query<T: DeserializeOwned + IntoParams>(raw: &str) -> Result<ListQuery<T>, AppError> {
    let mut names = declared::<T>();
    let paging = declared::<PageQuery>();
    // Every declared name is accepted by both parses: each takes its own fields and ignores the rest.
    names.extend(paging);
    let filter: T = parse(raw, &names)?;
    let page: PageQuery = parse(raw, &names)?;
    Ok(ListQuery { filter, page: PageParams::new(page.limit, page.cursor)? })
}

/// Deserializes a repeatable parameter: the comma-joined values, each parsed as `T`
/// (enums by their wire name). An empty item (`status=`) is refused, as the declared
/// enumeration refuses it (found by schemathesis: it used to be skipped).
pub fn comma_list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let raw = String::deserialize(deserializer)?;
    raw.split(',')
        .map(|v| T::deserialize(v.into_deserializer()))
        .collect::<Result<Vec<T>, serde::de::value::Error>>()
        .map_err(serde::de::Error::custom)
}

/// A user named in a query: `me` (the caller) or an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeOrId {
    Me,
    Id(i64),
}

impl MeOrId {
    /// The user id this names, for `caller`.
    pub fn resolve(self, caller: i64) -> i64 {
        match self {
            MeOrId::Me => caller,
            MeOrId::Id(id) => id,
        }
    }
}

impl<'de> Deserialize<'de> for MeOrId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Exactly the declared pattern: `me`, or 1 to 18 digits (every id fits; a 19-digit
        // number may not, so none is taken; found by schemathesis).
        let raw = String::deserialize(deserializer)?;
        let digits = (1..=18).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_digit());
        match raw.as_str() {
            "me" => Ok(MeOrId::Me),
            id if digits => id.parse::<i64>().map(MeOrId::Id).map_err(serde::de::Error::custom),
            _ => Err(serde::de::Error::custom(format!("must be a user id (up to 18 digits) or `me`, got `{raw}`"))),
        }
    }
}

impl utoipa::PartialSchema for MeOrId {
    fn schema() -> RefOr<Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^(me|[0-9]{1,18})$"))
            .description(Some("A user id, or `me` for the caller"))
            .examples([serde_json::json!("me")])
            .into()
    }
}

impl utoipa::ToSchema for MeOrId {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::model::FindingStatus;

    #[derive(Debug, Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    #[allow(dead_code)]
    struct Filter {
        #[serde(default, deserialize_with = "comma_list")]
        status: Vec<FindingStatus>,
        inspection_id: Option<i64>,
        assignee_id: Option<MeOrId>,
    }

    fn list(raw: &str) -> Result<ListQuery<Filter>, AppError> {
        list_query(raw)
    }

    #[test]
    fn repeated_and_comma_separated_values_both_work() {
        let q = list("status=open&status=blocked,closed&limit=5").unwrap();
        assert_eq!(q.filter.status, vec![FindingStatus::Open, FindingStatus::Blocked, FindingStatus::Closed]);
        assert_eq!(q.page.limit, 5);
        assert!(list("").unwrap().filter.status.is_empty());
    }

    #[test]
    fn unknown_repeated_and_malformed_parameters_are_400() {
        for raw in ["nope=1", "inspection_id=1&inspection_id=2", "inspection_id=x", "status=bogus", "limit=x"] {
            assert!(matches!(list(raw), Err(AppError::BadRequest(_))), "{raw}");
        }
        assert!(matches!(list("limit=201"), Err(AppError::Validation(_))));
    }

    #[test]
    fn me_or_an_id() {
        assert_eq!(list("assignee_id=me").unwrap().filter.assignee_id, Some(MeOrId::Me));
        assert_eq!(list("assignee_id=7").unwrap().filter.assignee_id, Some(MeOrId::Id(7)));
        assert!(list("assignee_id=you").is_err());
    }
}
