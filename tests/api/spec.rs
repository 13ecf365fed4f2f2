//! The committed OpenAPI document matches the generated one.

#[test]
fn committed_spec_matches_the_code() {
    let generated = rectify::app::spec().to_pretty_json().unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "openapi/openapi.json is out of date: regenerate it with `cargo run -- openapi > openapi/openapi.json`"
    );
}

#[test]
fn spec_enums_use_the_wire_spelling() {
    let spec = serde_json::to_value(rectify::app::spec()).unwrap();
    let values = |name: &str| spec["components"]["schemas"][name]["enum"].clone();
    assert_eq!(
        values("FindingStatus"),
        serde_json::json!(["open", "in_progress", "pending_closure", "blocked", "closed"])
    );
    assert_eq!(values("WarningLevel"), serde_json::json!(["none", "green", "yellow", "red"]));
    assert_eq!(values("Decision"), serde_json::json!(["approve", "reject"]));
    assert_eq!(values("Role"), serde_json::json!(["admin", "inspector", "leader", "officer", "viewer"]));
    assert_eq!(values("NoticeLevel"), serde_json::json!(["reminder", "urge", "warning"]));
    assert_eq!(values("NoticeStatus"), serde_json::json!(["issued", "acknowledged"]));
    for name in ["InspectionStatus", "AssignmentStatus", "RequestStatus", "FeedbackStatus", "ReviewOutcome"] {
        for v in values(name).as_array().unwrap_or_else(|| panic!("{name} has no enum")) {
            let v = v.as_str().unwrap();
            assert_eq!(v, v.to_lowercase(), "{name}: {v} is not the wire spelling");
        }
    }
}

/// Every `$ref` names a component that exists: types referenced only from query
/// parameters are not collected by utoipa and must be inlined.
#[test]
fn every_reference_resolves() {
    fn walk(v: &serde_json::Value, refs: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(r)) = map.get("$ref") {
                    refs.push(r.clone());
                }
                map.values().for_each(|v| walk(v, refs));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
            _ => {}
        }
    }
    let spec = serde_json::to_value(rectify::app::spec()).unwrap();
    let mut refs = Vec::new();
    walk(&spec, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("{r} is not local"));
        assert!(spec.pointer(pointer).is_some(), "{r} does not resolve");
    }
}

/// The XLSX export is bytes, not a JSON array of numbers: generated clients must not parse it.
#[test]
fn the_xlsx_export_is_declared_binary() {
    let spec = serde_json::to_value(rectify::app::spec()).unwrap();
    let content = &spec["paths"]["/api/v1/inspections/{id}/export"]["get"]["responses"]["200"]["content"];
    let mut xlsx = &content["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]["schema"];
    if let Some(r) = xlsx["$ref"].as_str() {
        xlsx = spec.pointer(r.trim_start_matches('#')).unwrap();
    }
    assert_eq!(xlsx, &serde_json::json!({"type": "string", "format": "binary"}));
    assert_eq!(content["text/csv"]["schema"]["type"], "string");
}

/// Operations that need no token say so (`security: []`); every other `/api/v1` one needs the bearer token.
#[test]
fn every_operation_states_its_security() {
    let spec = serde_json::to_value(rectify::app::spec()).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let security = op.get("security").unwrap_or_else(|| panic!("{method} {path} states no security"));
            let open = !path.starts_with("/api/v1/") || path == "/api/v1/auth/token";
            let expected = if open { serde_json::json!([]) } else { serde_json::json!([{"bearer": []}]) };
            assert_eq!(security, &expected, "{method} {path}");
        }
    }
    assert!(spec["servers"].as_array().is_some_and(|s| !s.is_empty()));
    assert!(spec["info"]["license"]["url"].is_string() && spec["info"]["contact"]["name"].is_string());
}

fn operations(spec: &serde_json::Value) -> Vec<(String, String, serde_json::Value)> {
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    ops
}

/// A generated client's documentation comes from here: every operation has a one-line
/// summary and a description (what it does, who may call it, why each error comes), and
/// every response says which request it answers (`X-Request-Id`).
#[test]
fn every_operation_is_documented() {
    let spec = serde_json::to_value(rectify::app::spec()).unwrap();
    for (method, path, op) in operations(&spec) {
        let summary = op["summary"].as_str().unwrap_or_default();
        assert!(!summary.is_empty() && !summary.contains('\n'), "{method} {path}: summary {summary:?}");
        let description = op["description"].as_str().unwrap_or_default();
        assert!(description.len() >= 40, "{method} {path} has no real description: {description:?}");
        for (status, response) in op["responses"].as_object().unwrap() {
            let response = match response["$ref"].as_str() {
                Some(r) => spec.pointer(r.trim_start_matches('#')).unwrap(),
                None => response,
            };
            assert!(response["headers"]["X-Request-Id"].is_object(), "{method} {path} {status}: no X-Request-Id");
        }
    }
}

/// Every string a client sends in a body has a declared syntax (pattern, format or enum), so a
/// schema-driven client or fuzzer knows what the service accepts; lists are named `<Item>Page`.
#[test]
fn request_strings_declare_their_syntax_and_pages_their_items() {
    fn refs(v: &serde_json::Value, found: &mut std::collections::BTreeSet<String>) {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(|r| r.as_str()) {
                    found.insert(r.trim_start_matches("#/components/schemas/").to_owned());
                }
                map.values().for_each(|v| refs(v, found));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }
    fn loose(v: &serde_json::Value, at: &str, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                let string = map
                    .get("type")
                    .is_some_and(|t| t == "string" || t.as_array().is_some_and(|a| a.contains(&"string".into())));
                if string && !["pattern", "format", "enum"].iter().any(|k| map.contains_key(*k)) {
                    out.push(at.to_owned());
                }
                map.iter().for_each(|(k, v)| loose(v, &format!("{at}/{k}"), out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| loose(v, at, out)),
            _ => {}
        }
    }
    let spec = serde_json::to_value(rectify::app::spec()).unwrap();
    let schemas = &spec["components"]["schemas"];
    let mut sent = std::collections::BTreeSet::new();
    for (_, _, op) in operations(&spec) {
        refs(&op["requestBody"], &mut sent);
    }
    loop {
        let mut more = std::collections::BTreeSet::new();
        sent.iter().for_each(|name| refs(&schemas[name], &mut more));
        let before = sent.len();
        sent.extend(more);
        if sent.len() == before {
            break;
        }
    }
    let mut found = Vec::new();
    for name in &sent {
        loose(&schemas[name], name, &mut found);
    }
    // Secrets are whatever the holder chose or was given; their limits are lengths.
    found.retain(|at| !at.ends_with("/password") && !at.ends_with("/client_secret"));
    assert!(found.is_empty(), "request strings without a declared syntax: {found:#?}");

    for (name, schema) in schemas.as_object().unwrap() {
        assert!(!name.starts_with("Page_"), "{name}: pages are named <Item>Page");
        if let Some(item) = name.strip_suffix("Page") {
            let items = &schema["properties"]["items"]["items"]["$ref"];
            assert_eq!(items, &format!("#/components/schemas/{item}"), "{name}");
        }
    }
}
