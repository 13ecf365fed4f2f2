//! §9.3: service accounts for other systems, and tokens that die with the credential.

use serde_json::{json, Value};

use crate::db_tests;
use crate::helpers::{fields, problem, Backend, TestApp, PASSWORD};

/// Creates a service account as admin; the answer, with `client_id` and `client_secret`.
async fn service_account(app: &TestApp, name: &str, unit: i64, roles: &[&str]) -> Value {
    app.create("/api/v1/service-accounts", &app.admin, json!({"name": name, "org_unit_id": unit, "roles": roles})).await
}

fn client_credentials(account: &Value) -> Value {
    json!({
        "grant_type": "client_credentials",
        "client_id": account["client_id"],
        "client_secret": account["client_secret"],
    })
}

async fn client_token(app: &TestApp, account: &Value) -> String {
    let res = app.post("/api/v1/auth/token", None, &client_credentials(account)).await;
    assert_eq!(res.status(), 200, "client credentials token");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    body["access_token"].as_str().unwrap().to_owned()
}

fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn status_of_me(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/auth/me", Some(token)).await.status().as_u16()
}

/// Every audit event in the feed, as JSON.
async fn feed(app: &TestApp) -> Vec<Value> {
    app.feed_settled().await;
    let page = app.get_ok("/api/v1/events?after=0&limit=200", &app.admin).await;
    page["items"].as_array().unwrap().clone()
}

async fn a_service_account_signs_in_with_client_credentials_and_acts_in_its_scope(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let account = service_account(&app, "督办系统", w.group, &["inspector"]).await;
    let (id, client_id) = (account["id"].as_i64().unwrap(), account["client_id"].as_str().unwrap());
    assert!(client_id.starts_with("svc_"), "{account}");
    assert!(account["client_secret"].as_str().unwrap().starts_with("rectify_sk_"), "{account}");
    assert_eq!(account["roles"], json!(["inspector"]));
    assert_eq!(account["org_unit_id"], w.group);

    let token = client_token(&app, &account).await;
    let c = claims(&token);
    assert_eq!(c["sub"], id.to_string(), "sub is the account's user id, as for people");
    assert_eq!(c["cv"], 0);
    let me = app.get_ok("/api/v1/auth/me", &token).await;
    assert_eq!((me["id"].as_i64(), me["username"].as_str()), (Some(id), Some(client_id)));

    // Within its roles and scope: it records a finding on an inspection its unit runs, and lists it.
    let finding =
        app.create("/api/v1/findings", &token, json!({"inspection_id": inspection, "title": "审批超时限"})).await;
    let listed = app.get_ok(&format!("/api/v1/findings?inspection_id={inspection}"), &token).await;
    assert!(listed["items"].as_array().unwrap().iter().any(|f| f["id"] == finding["id"]), "{listed}");
    // Outside its roles: org units are the admin's.
    let res = app.post("/api/v1/org-units", Some(&token), &json!({"name": "x", "parent_id": 1})).await;
    problem(res, 403).await;

    let events = feed(&app).await;
    let created = events.iter().find(|e| e["action"] == "finding.created" && e["entity_id"] == finding["id"]).unwrap();
    assert_eq!(created["actor_id"], id, "the service account is the actor");
    let made = events.iter().find(|e| e["action"] == "service_account.created").unwrap();
    assert_eq!((&made["entity_type"], &made["entity_id"]), (&json!("service_account"), &json!(id)));
    assert_eq!(made["data"]["after"]["client_id"], client_id);
}

async fn wrong_client_credentials_get_one_answer(app: TestApp) {
    let account = service_account(&app, "统计系统", 1, &["viewer"]).await;
    let mut wrong_secret = client_credentials(&account);
    wrong_secret["client_secret"] = json!("rectify_sk_not-the-secret-not-the-secret-not-the-se");
    let wrong = problem(app.post("/api/v1/auth/token", None, &wrong_secret).await, 401).await;
    let mut unknown = client_credentials(&account);
    unknown["client_id"] = json!("svc_0000000000000000");
    let unknown = problem(app.post("/api/v1/auth/token", None, &unknown).await, 401).await;
    assert_eq!(wrong, unknown, "unknown client and wrong secret must be indistinguishable");
    // A person's name and password are no client credentials, nor the other way round.
    let person = json!({"grant_type": "client_credentials", "client_id": "admin", "client_secret": crate::helpers::ADMIN_PASSWORD});
    assert_eq!(problem(app.post("/api/v1/auth/token", None, &person).await, 401).await, wrong);
    let as_password = json!({"username": account["client_id"], "password": account["client_secret"]});
    problem(app.post("/api/v1/auth/token", None, &as_password).await, 401).await;

    // The body is one of the two forms; anything else names the field at fault.
    let mut extra = client_credentials(&account);
    extra["scope"] = json!("all");
    assert_eq!(fields(&problem(app.post("/api/v1/auth/token", None, &extra).await, 422).await), ["scope"]);
    let mut missing = client_credentials(&account);
    missing.as_object_mut().unwrap().remove("client_secret");
    assert_eq!(fields(&problem(app.post("/api/v1/auth/token", None, &missing).await, 422).await), ["client_secret"]);
    let mut other_grant = client_credentials(&account);
    other_grant["grant_type"] = json!("password");
    problem(app.post("/api/v1/auth/token", None, &other_grant).await, 422).await;
    let mixed = json!({"username": "admin", "password": "whatever-password", "client_id": "x"});
    assert_eq!(fields(&problem(app.post("/api/v1/auth/token", None, &mixed).await, 422).await), ["client_id"]);
}

async fn only_admins_create_service_accounts_and_never_admin_ones(app: TestApp) {
    let w = app.world().await;
    let body = json!({"name": "对接系统", "org_unit_id": w.bureau, "roles": ["viewer"]});
    problem(app.post("/api/v1/service-accounts", Some(&w.leader), &body).await, 403).await;
    problem(app.get("/api/v1/service-accounts", Some(&w.leader)).await, 403).await;

    let admin_role = json!({"name": "对接系统", "org_unit_id": w.bureau, "roles": ["admin", "viewer"]});
    let res = app.post("/api/v1/service-accounts", Some(&app.admin), &admin_role).await;
    assert_eq!(fields(&problem(res, 422).await), ["roles"]);
    let bad = json!({"name": " ", "org_unit_id": 999_999, "roles": []});
    let res = app.post("/api/v1/service-accounts", Some(&app.admin), &bad).await;
    assert_eq!(fields(&problem(res, 422).await), ["name", "roles", "org_unit_id"]);
    let res = app
        .client
        .post(app.url("/api/v1/service-accounts"))
        .bearer_auth(&app.admin)
        .header("Idempotency-Key", "sa-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(fields(&problem(res, 422).await), ["Idempotency-Key"]);
    let res = app
        .post(
            "/api/v1/service-accounts",
            Some(&app.admin),
            &json!({"name": "x", "org_unit_id": 1, "roles": ["viewer"], "client_secret": "mine"}),
        )
        .await;
    assert_eq!(fields(&problem(res, 422).await), ["client_secret"]);

    // Service accounts are not people: /users neither lists nor changes them.
    let account = service_account(&app, "对接系统", w.bureau, &["viewer"]).await;
    let id = account["id"].as_i64().unwrap();
    let users = app.get_ok("/api/v1/users?limit=200", &app.admin).await;
    assert!(users["items"].as_array().unwrap().iter().all(|u| u["id"] != id), "{users}");
    problem(app.get(&format!("/api/v1/users/{id}"), Some(&app.admin)).await, 404).await;
    let res = app.patch(&format!("/api/v1/users/{id}"), Some(&app.admin), Some("*"), &json!({"active": true})).await;
    problem(res, 404).await;
}

async fn deleting_a_service_account_revokes_its_tokens_at_once(app: TestApp) {
    let account = service_account(&app, "督办系统", 1, &["viewer"]).await;
    let keep = service_account(&app, "统计系统", 1, &["viewer"]).await;
    let (id, secret) = (account["id"].as_i64().unwrap(), account["client_secret"].as_str().unwrap().to_owned());
    let token = client_token(&app, &account).await;
    let other = client_token(&app, &keep).await;
    assert_eq!(status_of_me(&app, &token).await, 200);

    // Read back: never the secret.
    let one = app.get_ok(&format!("/api/v1/service-accounts/{id}"), &app.admin).await;
    assert_eq!(one["client_id"], account["client_id"]);
    let list = app.get_ok("/api/v1/service-accounts", &app.admin).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    for body in [&one, &list] {
        assert!(!body.to_string().contains(&secret) && !body.to_string().contains("client_secret"), "{body}");
    }

    let res = app
        .client
        .delete(app.url(&format!("/api/v1/service-accounts/{id}")))
        .bearer_auth(&app.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = app.get("/api/v1/auth/me", Some(&token)).await;
    problem(res, 401).await;
    problem(app.post("/api/v1/auth/token", None, &client_credentials(&account)).await, 401).await;
    assert_eq!(status_of_me(&app, &other).await, 200, "other accounts keep their tokens");
    problem(app.get(&format!("/api/v1/service-accounts/{id}"), Some(&app.admin)).await, 404).await;
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/service-accounts/{id}")))
        .bearer_auth(&app.admin)
        .send()
        .await
        .unwrap();
    problem(res, 404).await;
    let list = app.get_ok("/api/v1/service-accounts", &app.admin).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");

    let events = feed(&app).await;
    let deleted = events.iter().find(|e| e["action"] == "service_account.deleted").unwrap();
    assert_eq!(deleted["entity_id"], id);
    let whole = serde_json::to_string(&events).unwrap();
    assert!(!whole.contains(&secret) && !whole.contains(&secret["rectify_sk_".len()..]), "no secret in the feed");
}

async fn a_password_change_ends_earlier_tokens(app: TestApp) {
    let (id, old) = app.user("wang.fang", 1, &["viewer"]).await;
    let path = format!("/api/v1/users/{id}");
    // Changes other than the credential leave tokens alone.
    app.update(&path, &app.admin, json!({"display_name": "王芳"})).await;
    assert_eq!(status_of_me(&app, &old).await, 200);

    app.update(&path, &app.admin, json!({"password": "a-brand-new-password"})).await;
    problem(app.get("/api/v1/auth/me", Some(&old)).await, 401).await;
    let res = app.post("/api/v1/auth/token", None, &json!({"username": "wang.fang", "password": PASSWORD})).await;
    problem(res, 401).await;
    let new = app.login("wang.fang", "a-brand-new-password").await;
    assert_eq!(claims(&new)["cv"], 1);
    assert_eq!(status_of_me(&app, &new).await, 200);
}

async fn deactivation_ends_tokens_for_good(app: TestApp) {
    let (id, old) = app.user("li.na", 1, &["viewer"]).await;
    let path = format!("/api/v1/users/{id}");
    app.update(&path, &app.admin, json!({"active": false})).await;
    problem(app.get("/api/v1/auth/me", Some(&old)).await, 401).await;
    // Reactivation lets the user sign in again; the tokens from before stay dead.
    app.update(&path, &app.admin, json!({"active": true})).await;
    problem(app.get("/api/v1/auth/me", Some(&old)).await, 401).await;
    let new = app.login("li.na", PASSWORD).await;
    assert_eq!(status_of_me(&app, &new).await, 200);
}

db_tests!(
    a_service_account_signs_in_with_client_credentials_and_acts_in_its_scope,
    wrong_client_credentials_get_one_answer,
    only_admins_create_service_accounts_and_never_admin_ones,
    deleting_a_service_account_revokes_its_tokens_at_once,
    a_password_change_ends_earlier_tokens,
    deactivation_ends_tokens_for_good,
);

#[tokio::test]
async fn client_credentials_are_rate_limited_like_passwords() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("RECTIFY_LOGIN_PER_MINUTE", "4")]).await.unwrap();
    // The spawn signed in once; the account's creation is no sign-in.
    let account = service_account(&app, "督办系统", 1, &["viewer"]).await;
    let mut wrong = client_credentials(&account);
    wrong["client_secret"] = json!("rectify_sk_wrong");
    for _ in 0..2 {
        assert_eq!(app.post("/api/v1/auth/token", None, &wrong).await.status(), 401);
    }
    assert_eq!(app.post("/api/v1/auth/token", None, &client_credentials(&account)).await.status(), 200);
    let res = app.post("/api/v1/auth/token", None, &client_credentials(&account)).await;
    assert!(res.headers().contains_key("retry-after"));
    problem(res, 429).await;
    app.stop().await;
}
