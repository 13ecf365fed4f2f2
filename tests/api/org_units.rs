//! §3 admin endpoints: org units (credit codes, moves) and users.

use serde_json::json;

use crate::db_tests;
use crate::helpers::{fields, problem, TestApp};

async fn credit_codes_are_checked(app: TestApp) {
    let ok = app
        .create(
            "/api/v1/org-units",
            &app.admin,
            json!({"name": "甲局", "parent_id": 1, "credit_code": "91350100m000100y43"}),
        )
        .await;
    assert_eq!(ok["credit_code"], "91350100M000100Y43", "normalised to upper case");
    let bad = app
        .post(
            "/api/v1/org-units",
            Some(&app.admin),
            &json!({"name": "乙局", "parent_id": 1, "credit_code": "91350100M000100Y44"}),
        )
        .await;
    let bad = problem(bad, 422).await;
    assert_eq!(fields(&bad), ["credit_code"]);
    assert!(bad["errors"][0]["message"].as_str().unwrap().contains("check character"));
    let dup = app
        .post(
            "/api/v1/org-units",
            Some(&app.admin),
            &json!({"name": "丙局", "parent_id": 1, "credit_code": "91350100M000100Y43"}),
        )
        .await;
    problem(dup, 409).await;
}

async fn units_move_with_their_subtree(app: TestApp) {
    let a = app.create_unit("A", 1).await;
    let a1 = app.create_unit("A1", a).await;
    let b = app.create_unit("B", 1).await;
    let (_, leader_b) = app.user("leader.b", b, &["leader"]).await;
    // A1 is not in B's scope until A moves under B.
    problem(app.get(&format!("/api/v1/org-units/{a1}"), Some(&leader_b)).await, 404).await;
    app.update(&format!("/api/v1/org-units/{a}"), &app.admin, json!({"parent_id": b})).await;
    assert_eq!(app.get(&format!("/api/v1/org-units/{a1}"), Some(&leader_b)).await.status(), 200);
    // A cycle is refused.
    let res = app.get(&format!("/api/v1/org-units/{b}"), Some(&app.admin)).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let cycle =
        app.patch(&format!("/api/v1/org-units/{b}"), Some(&app.admin), Some(&etag), &json!({"parent_id": a1})).await;
    assert_eq!(fields(&problem(cycle, 422).await), ["parent_id"]);
}

async fn user_management_is_for_admins(app: TestApp) {
    let w = app.world().await;
    let body = json!({"username": "new.user", "display_name": "新用户", "org_unit_id": w.bureau, "roles": ["viewer"], "password": "long-enough-password"});
    problem(app.post("/api/v1/users", Some(&w.leader), &body).await, 403).await;
    problem(app.post("/api/v1/org-units", Some(&w.leader), &json!({"name": "x", "parent_id": 1})).await, 403).await;
    let created = app.create("/api/v1/users", &app.admin, body.clone()).await;
    assert!(created.get("password").is_none() && created.get("password_hash").is_none());
    problem(app.post("/api/v1/users", Some(&app.admin), &body).await, 409).await;

    let short = json!({"username": "u2", "display_name": "x", "org_unit_id": w.bureau, "roles": ["viewer"], "password": "short"});
    assert_eq!(fields(&problem(app.post("/api/v1/users", Some(&app.admin), &short).await, 422).await), ["password"]);
    let no_roles = json!({"username": "u3", "display_name": "x", "org_unit_id": w.bureau, "roles": []});
    assert_eq!(fields(&problem(app.post("/api/v1/users", Some(&app.admin), &no_roles).await, 422).await), ["roles"]);
    let bad_role = json!({"username": "u4", "display_name": "x", "org_unit_id": w.bureau, "roles": ["boss"]});
    assert_eq!(fields(&problem(app.post("/api/v1/users", Some(&app.admin), &bad_role).await, 422).await), ["roles[0]"]);

    // An admin cannot lock themselves out.
    let res = app.get("/api/v1/users/1", Some(&app.admin)).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let res = app.patch("/api/v1/users/1", Some(&app.admin), Some(&etag), &json!({"active": false})).await;
    assert_eq!(fields(&problem(res, 422).await), ["active"]);

    // A password reset takes effect.
    let id = created["id"].as_i64().unwrap();
    app.update(&format!("/api/v1/users/{id}"), &app.admin, json!({"password": "another-long-password"})).await;
    app.login("new.user", "another-long-password").await;
}

db_tests!(credit_codes_are_checked, units_move_with_their_subtree, user_management_is_for_admins);
