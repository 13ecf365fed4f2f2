//! Passes over the spec as JSON, for what utoipa's types make awkward: renaming schemas and
//! their references, and rules that follow which schemas request bodies use.

use std::collections::BTreeSet;

/// Generic pages get names a code generator makes nice classes of: `FindingPage`, not
/// utoipa's `Page_Finding` (whose generated class would be `PageFinding…`).
pub(super) fn page_names(doc: &mut serde_json::Value) {
    use serde_json::Value;

    fn renamed(name: &str) -> Option<String> {
        name.strip_prefix("Page_").map(|item| format!("{item}Page"))
    }
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get_mut("$ref") {
                    if let Some(name) = target.strip_prefix("#/components/schemas/").and_then(renamed) {
                        *target = format!("#/components/schemas/{name}");
                    }
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(doc);
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        let pages: Vec<String> = schemas.keys().filter(|k| k.starts_with("Page_")).cloned().collect();
        for old in pages {
            let (Some(mut schema), Some(new)) = (schemas.remove(&old), renamed(&old)) else { continue };
            // utoipa inlines the item schema; refer to it by name, so a client has one `Finding`.
            let item = &old["Page_".len()..];
            if schemas.contains_key(item) {
                if let Some(items) = schema.pointer_mut("/properties/items/items") {
                    *items = serde_json::json!({ "$ref": format!("#/components/schemas/{item}") });
                }
            }
            schemas.insert(new, schema);
        }
    }
}

/// Free text in request bodies is checked by `validate::Errors` (`text`: not blank;
/// `optional_text`: blank is null; both: no control characters but tab, LF and CR, and a
/// length limit). Its fields declare the limit (`max_length`, and `min_length = 1` for
/// text that must not be blank); this adds the pattern that says the rest, to every
/// string property of a schema a request body uses that declares a length but no
/// pattern, format or enum.
pub(super) fn text_patterns(doc: &mut serde_json::Value, sent: &BTreeSet<String>) {
    use serde_json::Value;

    fn is_string(schema: &serde_json::Map<String, Value>) -> bool {
        match schema.get("type") {
            Some(Value::String(t)) => t == "string",
            Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
            _ => false,
        }
    }
    fn patterns(value: &mut Value) {
        match value {
            Value::Object(map) => {
                let free_text = is_string(map)
                    && map.contains_key("maxLength")
                    && !["pattern", "format", "enum"].iter().any(|k| map.contains_key(*k));
                if free_text {
                    let must_say_something = map.get("minLength").and_then(Value::as_u64).is_some_and(|n| n >= 1);
                    let pattern =
                        if must_say_something { crate::validate::TEXT_PATTERN } else { crate::validate::NOTE_PATTERN };
                    map.insert("pattern".to_owned(), Value::String(pattern.to_owned()));
                } else {
                    other_strings(map);
                }
                map.values_mut().for_each(patterns);
            }
            Value::Array(items) => items.iter_mut().for_each(patterns),
            _ => {}
        }
    }

    /// Strings that are not free text: a date is 1900–9999 (`validate::date`), and no string
    /// may hold a NUL (`http::json`, `http::query`: PostgreSQL cannot store one).
    fn other_strings(map: &mut serde_json::Map<String, Value>) {
        if !is_string(map) || map.contains_key("pattern") || map.contains_key("enum") {
            return;
        }
        let pattern = match map.get("format").and_then(Value::as_str) {
            Some("date") => crate::validate::DATE_PATTERN,
            // A file's bytes (`OfficeFile`) are no text.
            Some("binary") => return,
            _ => crate::validate::NUL_FREE_PATTERN,
        };
        map.insert("pattern".to_owned(), Value::String(pattern.to_owned()));
    }

    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        for name in sent {
            if let Some(schema) = schemas.get_mut(name) {
                patterns(schema);
            }
        }
    }
    // Query parameters are checked the same way.
    if let Some(Value::Object(paths)) = doc.pointer_mut("/paths") {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for op in item.values_mut() {
                let Some(Value::Array(params)) = op.get_mut("parameters") else { continue };
                for param in params.iter_mut().filter(|p| p["in"] == "query") {
                    match param.get_mut("schema") {
                        Some(Value::Object(schema)) if schema.get("type").is_some_and(|t| t == "array") => {
                            if let Some(Value::Object(items)) = schema.get_mut("items") {
                                other_strings(items);
                            }
                        }
                        Some(Value::Object(schema)) => other_strings(schema),
                        _ => {}
                    }
                }
            }
        }
    }
}

/// Request fields whose values are a subset of a shared enum, or bounds a shared type cannot
/// say: declared where they apply, as the server enforces them.
pub(super) fn narrowed_fields(doc: &mut serde_json::Value) {
    use serde_json::json;
    let edits = [
        // A service account may hold any role but admin (`service_accounts::routes`).
        (
            "/components/schemas/NewServiceAccount/properties/roles/items",
            json!({"type": "string", "enum": ["inspector", "leader", "officer", "viewer"]}),
        ),
        // Approval steps are signed by leaders, inspectors or admins (`inspections::service`).
        (
            "/components/schemas/NewInspection/properties/approval_chain/items",
            json!({"type": "string", "enum": ["admin", "inspector", "leader"]}),
        ),
        (
            "/components/schemas/InspectionPatch/properties/approval_chain/items",
            json!({"type": "string", "enum": ["admin", "inspector", "leader"]}),
        ),
    ];
    for (pointer, schema) in edits {
        if let Some(target) = doc.pointer_mut(pointer) {
            *target = schema;
        }
    }
    if let Some(serde_json::Value::Object(types)) =
        doc.pointer_mut("/components/schemas/WebhookPatch/properties/event_types")
    {
        types.insert("minItems".into(), json!(1));
        types.insert("maxItems".into(), json!(50));
    }
}

/// The names of schemas in `value`'s `$ref`s.
fn refs(value: &serde_json::Value, found: &mut BTreeSet<String>) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                if let Some(name) = target.strip_prefix("#/components/schemas/") {
                    found.insert(name.to_owned());
                }
            }
            map.values().for_each(|v| refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

/// The schemas clients send: those request bodies use, and those they use in turn.
pub(super) fn request_schemas(doc: &serde_json::Value) -> BTreeSet<String> {
    let mut sent = BTreeSet::new();
    let ops = doc["paths"].as_object().into_iter().flat_map(|p| p.values()).filter_map(|i| i.as_object());
    for op in ops.flat_map(|i| i.values()) {
        refs(&op["requestBody"], &mut sent);
    }
    loop {
        let mut more = BTreeSet::new();
        for name in &sent {
            refs(&doc["components"]["schemas"][name], &mut more);
        }
        let before = sent.len();
        sent.extend(more);
        if sent.len() == before {
            return sent;
        }
    }
}

/// Response bodies always carry every field (absent values are `null`): every property of the
/// schemas the service sends is required, so generated clients get exact types (`allOf` and
/// `oneOf` parts too). What clients send keeps its optional fields, and so does the problem
/// document, whose `errors` comes with validation problems only.
pub(super) fn responses_complete(doc: &mut serde_json::Value, sent: &BTreeSet<String>) {
    use serde_json::Value;

    fn complete(value: &mut Value) {
        let Value::Object(map) = value else { return };
        if let Some(Value::Object(properties)) = map.get("properties") {
            let required: Vec<Value> = properties.keys().cloned().map(Value::String).collect();
            map.insert("required".to_owned(), Value::Array(required));
        }
        if let Some(Value::Object(properties)) = map.get_mut("properties") {
            properties.values_mut().for_each(complete);
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some(Value::Array(parts)) = map.get_mut(key) {
                parts.iter_mut().for_each(complete);
            }
        }
        if let Some(items) = map.get_mut("items") {
            complete(items);
        }
    }

    let exact = crate::audit::spec::exact_schemas();
    let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") else { return };
    for (name, schema) in schemas.iter_mut() {
        if !sent.contains(name) && name != "Problem" && !exact.contains(name) {
            complete(schema);
        }
    }
}

/// What a webhook may subscribe to: an event type, a `prefix.*` of one, or `*` — an enum, so a
/// client can offer the choice and a fuzzer knows what the service accepts.
pub(super) fn webhook_event_types(doc: &mut serde_json::Value) {
    use crate::audit::catalog::EVENT_TYPES;

    let mut choices: Vec<String> = vec!["*".to_owned()];
    for t in EVENT_TYPES {
        let prefix = format!("{}.*", t.name.split('.').next().unwrap_or_default());
        if !choices.contains(&prefix) {
            choices.push(prefix);
        }
    }
    choices.extend(EVENT_TYPES.iter().map(|t| t.name.to_owned()));
    for schema in ["NewWebhook", "WebhookPatch"] {
        let pointer = format!("/components/schemas/{schema}/properties/event_types/items");
        if let Some(items) = doc.pointer_mut(&pointer) {
            *items = serde_json::json!({ "type": "string", "enum": choices });
        }
    }
}
