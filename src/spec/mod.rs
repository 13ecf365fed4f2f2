//! The OpenAPI document: the `ApiDoc` root, and the modifiers that declare once what
//! every operation of a kind shares (security, common problems, headers, page names).

use actix_web::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use utoipa::openapi::OpenApi as Spec;
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{responses, FieldError, Problem};

mod passes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rectify",
        description = "Tracks the findings of an inspection (巡察) through to their rectification (整改): \
the ledger, assignments, step-by-step sign-off (销号), look-back reviews and publication.\n\n\
Conventions: JSON bodies with snake_case fields; dates `YYYY-MM-DD`; timestamps RFC 3339 in UTC; \
lists return `{items, next_cursor}` (keyset cursors, `limit` 1–200, default 50); single resources carry \
`version` and an `ETag: \"<version>\"` (a `GET` with a current `If-None-Match` answers 304; `HEAD` answers every `GET` \
route without the body), and `PATCH` requires `If-Match`; creating `POST`s accept \
`Idempotency-Key`; every error is `application/problem+json` (RFC 9457).",
        license(name = "Apache-2.0", url = "https://www.apache.org/licenses/LICENSE-2.0"),
        contact(name = "Rectify maintainers")
    ),
    servers((url = "/", description = "This service (the spec is served by the service it describes)")),
    modifiers(&BearerAuth),
    components(
        schemas(Problem, FieldError, crate::audit::api::EventType),
        responses(
            responses::BadRequest,
            responses::Unauthorized,
            responses::Forbidden,
            responses::NotFound,
            responses::Conflict,
            responses::PreconditionFailed,
            responses::PreconditionRequired,
            responses::PayloadTooLarge,
            responses::RequestTimeout,
            responses::UnsupportedMediaType,
            responses::Unprocessable,
            responses::ImportUnprocessable,
            responses::TooManyRequests,
            responses::Unavailable,
        )
    ),
    tags(
        (name = "auth", description = "Tokens and the caller"),
        (name = "org-units", description = "The org tree (admin)"),
        (name = "users", description = "Users (admin): people; service accounts are not listed here"),
        (name = "service-accounts", description = "Service accounts of other systems (admin): client credentials for `POST /api/v1/auth/token` with `grant_type: client_credentials`; roles and org scope as for a user (never `admin`); deleting one ends its tokens at once"),
        (name = "inspections", description = "Inspections, their sections and the ledger (整改台账)"),
        (name = "findings", description = "Findings (问题): the ledger rows, blocking and look-back reviews (回头看)"),
        (name = "assignments", description = "Assignments (任务到人) and half-month progress reports"),
        (name = "closures", description = "Closure requests (销号) and their step-by-step sign-off"),
        (name = "extensions", description = "Deadline extension requests (申请延期)"),
        (name = "reports", description = "Statistics, the half-month summary, export, the report, conclusion and publication"),
        (name = "notices", description = "Supervision notices (督办单) to a finding's responsible unit: \
`reminder` 蓝 (blue, the deadline is near), `urge` 黄 (yellow, behind schedule), `warning` 红 (red, overdue); \
the unit acknowledges (签收) each once"),
        (name = "feedback", description = "Staff triage of public feedback"),
        (name = "public", description = "Anonymous: published reports and feedback intake"),
        (name = "audit", description = "The audit trail and change feed"),
        (name = "webhooks", description = "Events pushed to other systems (Standard Webhooks). A webhook receives the events its unit sees in \
`/api/v1/events` whose type matches its `event_types`. Each delivery is `POST <url>` with `Content-Type: application/json`, the body \
`{\"type\": <EventType>, \"timestamp\": <RFC 3339>, \"data\": {\"event_id\", \"entity_type\", \"entity_id\", \"inspection_id\", \"finding_id\", \"org_unit_id\", \"actor_id\", …the event's data}}` \
and the headers `webhook-id` (`msg_<delivery id>`, the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` \
(`v1,<base64 HMAC-SHA256(key, \"<webhook-id>.<webhook-timestamp>.<body>\")>`, key = the base64-decoded part of the secret after `whsec_`; \
two space-separated signatures for 24 h after a rotation). A 2xx within 10 s is success; otherwise retried after 5 s, 5 min, 30 min, 2 h, \
5 h, 10 h and 10 h, then failed; after a day of failures the webhook is disabled (`webhook.disabled`)."),
        (name = "operations", description = "Probes"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut Spec) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// Every operation under `/api/v1` needs a bearer token, except the one that issues it;
/// declared here once instead of on each handler. The others declare that they need none.
struct BearerRequired;

impl Modify for BearerRequired {
    fn modify(&self, openapi: &mut Spec) {
        use utoipa::openapi::security::SecurityRequirement;
        for (path, item) in openapi.paths.paths.iter_mut() {
            let needs_token = path.starts_with("/api/v1/") && path != "/api/v1/auth/token";
            let ops = [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
            for op in ops.into_iter().flatten() {
                // The rest (the token endpoint, /public/v1, probes, metrics) say so: `security: []`.
                op.security = Some(if needs_token {
                    vec![SecurityRequirement::new("bearer", Vec::<String>::new())]
                } else {
                    Vec::new()
                });
            }
        }
    }
}

/// Problems every operation of a kind can answer, so handlers list only their own: bodies
/// can be malformed (400), stop arriving (408), too large (413), not JSON (415) or invalid (422); path ids can be
/// malformed (400) or unknown or out of scope (404); authenticated operations can be refused
/// a token (401); and any database call can time out (503).
struct CommonProblems;

impl Modify for CommonProblems {
    fn modify(&self, openapi: &mut Spec) {
        use utoipa::openapi::path::{Operation, ParameterIn};
        use utoipa::openapi::{Ref, RefOr};

        fn add(op: &mut Operation, status: &str, response: &str) {
            op.responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name(response)));
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
            for op in ops.into_iter().flatten() {
                if op.request_body.is_some() {
                    add(op, "400", "BadRequest");
                    add(op, "408", "RequestTimeout");
                    add(op, "413", "PayloadTooLarge");
                    add(op, "415", "UnsupportedMediaType");
                    add(op, "422", "Unprocessable");
                }
                // A query string is checked as a body is: unknown or malformed is 400, a value
                // out of range or one holding a NUL is 422.
                let query_params = op.parameters.iter().flatten().any(|p| matches!(p.parameter_in, ParameterIn::Query));
                if query_params {
                    add(op, "400", "BadRequest");
                    add(op, "422", "Unprocessable");
                }
                let path_params = op.parameters.iter().flatten().any(|p| matches!(p.parameter_in, ParameterIn::Path));
                if path_params {
                    add(op, "400", "BadRequest");
                    add(op, "404", "NotFound");
                }
                if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    add(op, "401", "Unauthorized");
                }
                if path != "/healthz" {
                    add(op, "503", "Unavailable");
                }
            }
        }
    }
}

/// Single-resource GETs (those answered with an `ETag`) honour `If-None-Match` with a 304
/// (`http::conditional`, one middleware for every route): declared here once.
struct ConditionalGet;

impl Modify for ConditionalGet {
    fn modify(&self, openapi: &mut Spec) {
        use utoipa::openapi::header::HeaderBuilder;
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{Object, RefOr, Required, ResponseBuilder, Type};

        for item in openapi.paths.paths.values_mut() {
            let Some(op) = item.get.as_mut() else { continue };
            let tagged = match op.responses.responses.get("200") {
                Some(RefOr::T(ok)) => ok.headers.contains_key("ETag"),
                _ => false,
            };
            if !tagged {
                continue;
            }
            op.parameters.get_or_insert_with(Vec::new).push(
                ParameterBuilder::new()
                    .name("If-None-Match")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some("The ETag last read: 304 without a body while it is current"))
                    .schema(Some(Object::with_type(Type::String)))
                    .build(),
            );
            op.responses.responses.insert(
                "304".to_owned(),
                RefOr::T(
                    ResponseBuilder::new()
                        .description("Not modified: the ETag in If-None-Match is current")
                        .header("ETag", HeaderBuilder::new().schema(Object::with_type(Type::String)).build())
                        .build(),
                ),
            );
        }
    }
}

/// The OpenAPI document, exactly as served at `/api-docs/openapi.json`.
pub fn spec() -> Spec {
    let (_, mut api) =
        App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(crate::app::routes).split_for_parts();
    // The schemas collected from the handlers exist only now.
    BearerRequired.modify(&mut api);
    CommonProblems.modify(&mut api);
    ConditionalGet.modify(&mut api);
    ResponseHeaders.modify(&mut api);
    ProblemTypes.modify(&mut api);
    crate::audit::spec::TypedEvents.modify(&mut api);
    let mut doc = serde_json::to_value(&api).expect("the spec serializes");
    passes::page_names(&mut doc);
    let sent = passes::request_schemas(&doc);
    passes::responses_complete(&mut doc, &sent);
    passes::text_patterns(&mut doc, &sent);
    passes::narrowed_fields(&mut doc);
    passes::webhook_event_types(&mut doc);
    serde_json::from_value(doc).expect("the finished spec deserializes")
}

/// Headers the service sends on every response (`X-Request-Id`) or with some problems
/// (`Retry-After` on 429 and 503, `WWW-Authenticate` on 401), declared once here.
struct ResponseHeaders;

impl Modify for ResponseHeaders {
    fn modify(&self, openapi: &mut Spec) {
        use utoipa::openapi::header::{Header, HeaderBuilder};
        use utoipa::openapi::{Object, ObjectBuilder, RefOr, Response, Type};

        fn request_id() -> Header {
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(128)))
                .description(Some(
                    "The request's id: the caller's own `X-Request-Id` when it sent 1–128 visible ASCII \
                     characters, else one the service made. Logged with the request and stored in the audit \
                     events it wrote; quote it when reporting a problem.",
                ))
                .build()
        }
        fn add(response: &mut Response, name: &str, header: Header) {
            response.headers.entry(name.to_owned()).or_insert(header);
        }
        let retry_after = || {
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)))
                .description(Some("Seconds to wait before trying again"))
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let ops = [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
            for op in ops.into_iter().flatten() {
                for response in op.responses.responses.values_mut() {
                    if let RefOr::T(response) = response {
                        add(response, "X-Request-Id", request_id());
                    }
                }
            }
        }
        let Some(components) = openapi.components.as_mut() else { return };
        for (name, response) in components.responses.iter_mut() {
            let RefOr::T(response) = response else { continue };
            add(response, "X-Request-Id", request_id());
            match name.as_str() {
                "TooManyRequests" | "Unavailable" => add(response, "Retry-After", retry_after()),
                "Unauthorized" => add(
                    response,
                    "WWW-Authenticate",
                    HeaderBuilder::new()
                        .schema(Object::with_type(Type::String))
                        .description(Some("`Bearer`: the scheme the service expects"))
                        .build(),
                ),
                _ => {}
            }
        }
    }
}

/// `Problem.type` names one of a closed set of problem kinds: an enum, so clients can switch on it.
struct ProblemTypes;

impl Modify for ProblemTypes {
    fn modify(&self, openapi: &mut Spec) {
        use utoipa::openapi::schema::Schema;
        use utoipa::openapi::{ObjectBuilder, RefOr, Type};

        let Some(components) = openapi.components.as_mut() else { return };
        let Some(RefOr::T(Schema::Object(problem))) = components.schemas.get_mut("Problem") else { return };
        let description = "Names the kind of problem; clients can switch on it. `validation` problems carry `errors`.";
        problem.properties.insert(
            "type".to_owned(),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(crate::error::PROBLEM_TYPES.iter().map(|slug| format!("/problems/{slug}"))))
                .description(Some(description))
                .into(),
        );
        problem.properties.insert(
            "status".to_owned(),
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int32)))
                .minimum(Some(400))
                .maximum(Some(599))
                .description(Some("The HTTP status code of the response"))
                .into(),
        );
    }
}
