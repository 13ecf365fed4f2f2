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
                }
                map.values_mut().for_each(patterns);
            }
            Value::Array(items) => items.iter_mut().for_each(patterns),
            _ => {}
        }
    }

    let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") else { return };
    for name in sent {
        if let Some(schema) = schemas.get_mut(name) {
            patterns(schema);
        }
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
