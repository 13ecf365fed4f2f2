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
