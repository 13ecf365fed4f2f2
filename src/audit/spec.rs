//! The typed audit-event schema: `AuditEvent` becomes a union discriminated by `action`, one
//! variant per event type of the catalogue (`FindingCreatedEvent`, …), each with its own
//! `entity_type` and `data` schema (`FindingCreatedData`, …), so generated clients know what
//! every event carries.

use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ArrayItems, Discriminator, KnownFormat, Object, ObjectBuilder, OneOfBuilder,
    Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{OpenApi, Ref, RefOr};

use super::catalog::{self, EventType, Shape, Ty, EVENT_TYPES};

/// Adds the data shapes, `EntityType` and one `AuditEvent` variant per event type to the
/// components, and turns `AuditEvent` into their union. Runs after the handlers' schemas are
/// collected (it starts from the derived `AuditEvent`, whose common fields every variant keeps).
pub struct TypedEvents;

impl utoipa::Modify for TypedEvents {
    fn modify(&self, api: &mut OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        let schemas = &mut components.schemas;
        let Some(RefOr::T(Schema::Object(base))) = schemas.get(AUDIT_EVENT).cloned() else {
            panic!("`{AUDIT_EVENT}` must be the derived object schema (TypedEvents runs once, after the paths)");
        };
        let mut add = |name: &str, schema: RefOr<Schema>| {
            let previous = schemas.insert(name.to_owned(), schema);
            assert!(previous.is_none(), "the schema `{name}` exists already");
        };
        for shape in catalog::shapes() {
            add(shape.name, shape_schema(shape).into());
        }
        add(ENTITY_TYPE, entity_type_schema().into());
        let mut union = OneOfBuilder::new().description(Some(union_description(&base)));
        let mut discriminator = Discriminator::new("action");
        for t in EVENT_TYPES {
            let name = variant_name(t.name);
            add(&name, variant(&base, t).into());
            union = union.item(Ref::from_schema_name(&name));
            discriminator.mapping.insert(t.name.to_owned(), format!("#/components/schemas/{name}"));
        }
        schemas.insert(AUDIT_EVENT.to_owned(), union.discriminator(Some(discriminator)).into());
        // Generic schemas (`Page_AuditEvent`) hold an inline copy of the derived schema: point
        // them at the union instead.
        for schema in schemas.values_mut() {
            refer_to_union(schema, &base);
        }
    }
}

/// The data schemas `TypedEvents` adds: their `required` lists are exact (some data fields are
/// absent on some events), so the spec's "responses carry every field" pass leaves them alone.
pub fn exact_schemas() -> Vec<String> {
    catalog::shapes().iter().map(|s| s.name.to_owned()).collect()
}

/// Replaces every inline copy of `derived` in `schema` by a reference to the union.
fn refer_to_union(schema: &mut RefOr<Schema>, derived: &Object) {
    let RefOr::T(inner) = schema else { return };
    match inner {
        Schema::Object(o) if o == derived => *schema = Ref::from_schema_name(AUDIT_EVENT).into(),
        Schema::Object(o) => {
            o.properties.values_mut().for_each(|p| refer_to_union(p, derived));
            if let Some(AdditionalProperties::RefOr(p)) = o.additional_properties.as_deref_mut() {
                refer_to_union(p, derived);
            }
        }
        Schema::Array(a) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                refer_to_union(items, derived);
            }
        }
        Schema::OneOf(o) => o.items.iter_mut().for_each(|i| refer_to_union(i, derived)),
        Schema::AllOf(o) => o.items.iter_mut().for_each(|i| refer_to_union(i, derived)),
        Schema::AnyOf(o) => o.items.iter_mut().for_each(|i| refer_to_union(i, derived)),
        _ => {}
    }
}

const AUDIT_EVENT: &str = "AuditEvent";
const ENTITY_TYPE: &str = "EntityType";

/// `finding.review_sustained` → `FindingReviewSustainedEvent`.
pub fn variant_name(action: &str) -> String {
    let mut name: String = action
        .split(['.', '_'])
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect();
    name.push_str("Event");
    name
}

fn union_description(base: &Object) -> String {
    format!(
        "{}\n\nOne variant per `action` (see `EventType`): each names its `entity_type` and the schema of its \
         `data`. Every variant carries every field; absent values are null.",
        base.description.as_deref().unwrap_or("One audit event.")
    )
}

/// The event type's variant: the common fields of `base`, with `action` and `entity_type` fixed
/// and `data` typed.
fn variant(base: &Object, t: &EventType) -> Object {
    let mut v = base.clone();
    v.description = Some(format!("`{}`: {}", t.name, t.description));
    v.example = None;
    v.properties.insert("action".into(), one_string(t.name, None).into());
    v.properties.insert(
        "entity_type".into(),
        one_string(t.entity_type, Some(format!("What `entity_id` names (one of `{ENTITY_TYPE}`)."))).into(),
    );
    let data: RefOr<Schema> = match t.data {
        [one] => Ref::from_schema_name(one.name).into(),
        several => several
            .iter()
            .fold(OneOfBuilder::new(), |b, s| b.item(Ref::from_schema_name(s.name)))
            .description(Some("One of these, depending on what wrote the event."))
            .into(),
    };
    v.properties.insert("data".into(), data);
    debug_assert!(v.required.iter().any(|r| r == "data"), "every common field is required");
    v
}

/// A string that is always `value`.
fn one_string(value: &str, description: Option<String>) -> Object {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some([value])).description(description).build()
}

fn entity_type_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(catalog::entity_types()))
        .description(Some("What an audit event's `entity_id` names (`AuditEvent.entity_type`)."))
        .build()
}

fn shape_schema(shape: &Shape) -> Object {
    let mut object = ObjectBuilder::new().schema_type(Type::Object).description(Some(shape.description));
    for field in shape.fields {
        object = object.property(field.name, describe(ty_schema(&field.ty), field.description));
        if field.required {
            object = object.required(field.name);
        }
    }
    object.build()
}

fn describe(schema: RefOr<Schema>, description: &str) -> RefOr<Schema> {
    if description.is_empty() {
        return schema;
    }
    match schema {
        RefOr::Ref(mut r) => {
            r.description = description.to_owned();
            RefOr::Ref(r)
        }
        RefOr::T(Schema::Object(mut o)) => {
            o.description = Some(description.to_owned());
            RefOr::T(Schema::Object(o))
        }
        RefOr::T(Schema::OneOf(mut o)) => {
            o.description = Some(description.to_owned());
            RefOr::T(Schema::OneOf(o))
        }
        RefOr::T(Schema::Array(mut a)) => {
            a.description = Some(description.to_owned());
            RefOr::T(Schema::Array(a))
        }
        other => other,
    }
}

/// A primitive's JSON type and format.
fn primitive(ty: &Ty) -> Option<(Type, Option<KnownFormat>)> {
    Some(match ty {
        Ty::String | Ty::OneOf(_) => (Type::String, None),
        Ty::Integer => (Type::Integer, Some(KnownFormat::Int64)),
        Ty::Boolean => (Type::Boolean, None),
        Ty::Date => (Type::String, Some(KnownFormat::Date)),
        Ty::DateTime => (Type::String, Some(KnownFormat::DateTime)),
        Ty::Null => (Type::Null, None),
        Ty::Api(_) | Ty::Shape(_) | Ty::Nullable(_) | Ty::ArrayOf(_) => return None,
    })
}

fn ty_schema(ty: &Ty) -> RefOr<Schema> {
    match ty {
        Ty::Api(name) => Ref::from_schema_name(*name).into(),
        Ty::Shape(shape) => Ref::from_schema_name(shape.name).into(),
        Ty::ArrayOf(item) => ArrayBuilder::new().items(ty_schema(item)).build().into(),
        Ty::Nullable(inner) => match primitive(inner) {
            // `["string", "null"]`, as utoipa writes an `Option` of a primitive.
            Some((t, format)) => {
                let mut o = ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([t, Type::Null]))
                    .format(format.map(SchemaFormat::KnownFormat));
                if let Ty::OneOf(values) = inner {
                    o = o.enum_values(Some(
                        values.iter().map(|v| serde_json::Value::from(*v)).chain([serde_json::Value::Null]),
                    ));
                }
                o.build().into()
            }
            // `oneOf: [null, …]`, as utoipa writes an `Option` of a reference.
            None => {
                OneOfBuilder::new().item(ObjectBuilder::new().schema_type(Type::Null)).item(ty_schema(inner)).into()
            }
        },
        _ => {
            let (t, format) = primitive(ty).expect("a primitive");
            let mut o = ObjectBuilder::new().schema_type(t).format(format.map(SchemaFormat::KnownFormat));
            if let Ty::OneOf(values) = ty {
                o = o.enum_values(Some(values.iter().copied()));
            }
            o.build().into()
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn spec() -> Value {
        serde_json::to_value(crate::app::spec()).unwrap()
    }

    #[test]
    fn variant_names_are_pascal_case() {
        assert_eq!(variant_name("finding.review_sustained"), "FindingReviewSustainedEvent");
        assert_eq!(variant_name("org_unit.created"), "OrgUnitCreatedEvent");
        assert_eq!(variant_name("webhook.test"), "WebhookTestEvent");
        let names: std::collections::HashSet<String> = EVENT_TYPES.iter().map(|t| variant_name(t.name)).collect();
        assert_eq!(names.len(), EVENT_TYPES.len());
    }

    /// Every event type has its variant, mapped by the discriminator, with its action, entity
    /// type and data shape; every shape and every schema a shape names is in the spec.
    #[test]
    fn every_event_type_has_a_shape_and_a_variant() {
        let spec = spec();
        let schemas = &spec["components"]["schemas"];
        let union = &schemas[AUDIT_EVENT];
        assert_eq!(union["discriminator"]["propertyName"], "action");
        let mapping = union["discriminator"]["mapping"].as_object().unwrap();
        assert_eq!(mapping.len(), EVENT_TYPES.len());
        let variants: Vec<&str> =
            union["oneOf"].as_array().unwrap().iter().map(|r| r["$ref"].as_str().unwrap()).collect();
        assert_eq!(variants.len(), EVENT_TYPES.len());
        let common = ["id", "occurred_at", "actor_id", "action", "entity_type", "entity_id", "inspection_id"];
        let common = common.iter().chain(&["finding_id", "org_unit_id", "data", "request_id"]);
        for t in EVENT_TYPES {
            let name = variant_name(t.name);
            let location = format!("#/components/schemas/{name}");
            assert_eq!(mapping[t.name], location, "{}", t.name);
            assert!(variants.contains(&location.as_str()), "{}", t.name);
            let v = &schemas[&name];
            assert_eq!(v["type"], "object", "{name}");
            assert_eq!(v["properties"]["action"]["enum"], json!([t.name]));
            assert_eq!(v["properties"]["entity_type"]["enum"], json!([t.entity_type]));
            for field in common.clone() {
                assert!(v["properties"].get(field).is_some(), "{name}.{field}");
                assert!(v["required"].as_array().unwrap().contains(&json!(field)), "{name}.{field} is required");
            }
            let data = &v["properties"]["data"];
            let refs: Vec<&str> = match data["oneOf"].as_array() {
                Some(items) => items.iter().map(|r| r["$ref"].as_str().unwrap()).collect(),
                None => vec![data["$ref"].as_str().unwrap()],
            };
            let expected: Vec<String> = t.data.iter().map(|s| format!("#/components/schemas/{}", s.name)).collect();
            assert_eq!(refs, expected, "{}", t.name);
        }
        for shape in catalog::shapes() {
            let s = &schemas[shape.name];
            assert_eq!(s["type"], "object", "{}", shape.name);
            for field in shape.fields {
                assert!(s["properties"].get(field.name).is_some(), "{}.{}", shape.name, field.name);
                let required = s["required"].as_array().is_some_and(|r| r.contains(&json!(field.name)));
                assert_eq!(required, field.required, "{}.{}", shape.name, field.name);
                if let Ty::Api(api) = field.ty {
                    assert!(
                        schemas.get(api).is_some(),
                        "{}.{} names `{api}`, which the spec lacks",
                        shape.name,
                        field.name
                    );
                }
            }
        }
        let entity_types: Vec<Value> = catalog::entity_types().into_iter().map(Value::from).collect();
        assert_eq!(schemas[ENTITY_TYPE]["enum"], Value::Array(entity_types));
    }

    /// The responses that serve events name the union: no untyped copy of the derived schema
    /// (an object whose `action` is any `EventType`) is left anywhere, pages included.
    #[test]
    fn events_are_served_as_the_union() {
        fn untyped_copies(v: &Value, at: &str, found: &mut Vec<String>) {
            match v {
                Value::Object(map) => {
                    if map.get("properties").and_then(|p| p.get("action")).and_then(|a| a.get("$ref"))
                        == Some(&json!("#/components/schemas/EventType"))
                    {
                        found.push(at.to_owned());
                    }
                    map.iter().for_each(|(k, v)| untyped_copies(v, &format!("{at}/{k}"), found));
                }
                Value::Array(items) => items.iter().for_each(|v| untyped_copies(v, at, found)),
                _ => {}
            }
        }
        let spec = spec();
        let mut found = Vec::new();
        untyped_copies(&spec, "", &mut found);
        assert!(found.is_empty(), "untyped event schemas at {found:?}");
        let page = &spec["components"]["schemas"]["AuditEventPage"]["properties"]["items"]["items"];
        assert_eq!(page, &json!({"$ref": "#/components/schemas/AuditEvent"}));
        for path in ["/api/v1/events", "/api/v1/findings/{id}/history"] {
            let schema = &spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
            assert_eq!(schema, &json!({"$ref": "#/components/schemas/AuditEventPage"}), "{path}");
        }
    }

    #[test]
    fn fields_render_as_utoipa_renders_rust_types() {
        let schema = |ty: &Ty| serde_json::to_value(ty_schema(ty)).unwrap();
        assert_eq!(schema(&Ty::Nullable(&Ty::Date)), json!({"type": ["string", "null"], "format": "date"}));
        assert_eq!(schema(&Ty::Integer), json!({"type": "integer", "format": "int64"}));
        assert_eq!(schema(&Ty::OneOf(&["a", "b"])), json!({"type": "string", "enum": ["a", "b"]}));
        assert_eq!(schema(&Ty::Null), json!({"type": "null"}));
        assert_eq!(
            schema(&Ty::Nullable(&Ty::Api("Role"))),
            json!({"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Role"}]})
        );
        assert_eq!(
            schema(&Ty::ArrayOf(&Ty::Api("Role"))),
            json!({"type": "array", "items": {"$ref": "#/components/schemas/Role"}})
        );
    }
}
