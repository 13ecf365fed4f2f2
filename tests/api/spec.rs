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
    for name in ["InspectionStatus", "AssignmentStatus", "RequestStatus", "FeedbackStatus", "ReviewOutcome"] {
        for v in values(name).as_array().unwrap_or_else(|| panic!("{name} has no enum")) {
            let v = v.as_str().unwrap();
            assert_eq!(v, v.to_lowercase(), "{name}: {v} is not the wire spelling");
        }
    }
}
