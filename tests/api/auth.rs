//! §3: tokens, their attacks, identity.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::db_tests;
use crate::helpers::{problem, Backend, TestApp, JWT_SECRET, PASSWORD};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims(sub: &str) -> Value {
    json!({"sub": sub, "iat": now(), "exp": now() + 600, "iss": "rectify", "aud": "rectify-api", "jti": "t"})
}

fn sign(claims: &Value, secret: &str) -> String {
    encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

async fn assert_refused(app: &TestApp, token: &str, why: &str) {
    let res = app.get("/api/v1/auth/me", Some(token)).await;
    assert_eq!(res.status(), 401, "{why} must be refused");
    problem(res, 401).await;
}

async fn token_attacks_are_refused(app: TestApp) {
    let good = sign(&claims("1"), JWT_SECRET);
    assert_eq!(app.get("/api/v1/auth/me", Some(&good)).await.status(), 200, "a well-formed token works");

    // alg: none, with the same claims and an empty signature.
    let b64 = |v: &Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    let none = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&claims("1")));
    assert_refused(&app, &none, "alg none").await;

    assert_refused(&app, &sign(&claims("1"), "another-secret-another-secret-1234"), "a bad signature").await;

    for ago in [120, 5] {
        let mut expired = claims("1");
        expired["exp"] = json!(now() - ago);
        assert_refused(&app, &sign(&expired, JWT_SECRET), "an expired token").await;
    }

    for missing in ["exp", "iss", "aud", "sub"] {
        let mut c = claims("1");
        c.as_object_mut().unwrap().remove(missing);
        assert_refused(&app, &sign(&c, JWT_SECRET), &format!("a token without {missing}")).await;
    }

    let mut wrong_iss = claims("1");
    wrong_iss["iss"] = json!("someone-else");
    assert_refused(&app, &sign(&wrong_iss, JWT_SECRET), "a wrong issuer").await;

    let mut wrong_aud = claims("1");
    wrong_aud["aud"] = json!("another-api");
    assert_refused(&app, &sign(&wrong_aud, JWT_SECRET), "a wrong audience").await;

    let mut not_yet = claims("1");
    not_yet["nbf"] = json!(now() + 3600);
    assert_refused(&app, &sign(&not_yet, JWT_SECRET), "a token not valid yet").await;

    assert_refused(&app, &sign(&claims("999999"), JWT_SECRET), "a token of an unknown user").await;
    assert_refused(&app, "garbage", "garbage").await;
    let res = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .header("Authorization", "Basic YWRtaW46YWRtaW4=")
        .send()
        .await
        .unwrap();
    problem(res, 401).await;
    problem(app.get("/api/v1/auth/me", None).await, 401).await;
}

async fn deactivated_users_lose_their_tokens(app: TestApp) {
    let (id, token) = app.user("temp.user", 1, &["viewer"]).await;
    assert_eq!(app.get("/api/v1/auth/me", Some(&token)).await.status(), 200);
    app.update(&format!("/api/v1/users/{id}"), &app.admin, json!({"active": false})).await;
    assert_refused(&app, &token, "a deactivated user's token").await;
    let res = app.post("/api/v1/auth/token", None, &json!({"username": "temp.user", "password": PASSWORD})).await;
    problem(res, 401).await;
}

async fn wrong_credentials_get_one_answer(app: TestApp) {
    let unknown =
        app.post("/api/v1/auth/token", None, &json!({"username": "nobody", "password": "whatever-password"})).await;
    let unknown = problem(unknown, 401).await;
    let wrong =
        app.post("/api/v1/auth/token", None, &json!({"username": "admin", "password": "wrong-password-123"})).await;
    let wrong = problem(wrong, 401).await;
    assert_eq!(unknown, wrong, "unknown user and wrong password must be indistinguishable");
}

async fn token_and_me_describe_the_caller(app: TestApp) {
    let res = app
        .post("/api/v1/auth/token", None, &json!({"username": "admin", "password": crate::helpers::ADMIN_PASSWORD}))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();
    let parts: Vec<_> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let claims: Value = {
        use base64::Engine;
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap()
    };
    for claim in ["sub", "iat", "exp", "iss", "aud", "jti", "roles", "org_unit_id"] {
        assert!(!claims[claim].is_null(), "claim {claim} in {claims}");
    }
    let me = app.get_ok("/api/v1/auth/me", token).await;
    assert_eq!(me["username"], "admin");
    assert_eq!(me["roles"], json!(["admin"]));
    assert_eq!(me["org_unit_id"], 1);
}

db_tests!(
    token_attacks_are_refused,
    deactivated_users_lose_their_tokens,
    wrong_credentials_get_one_answer,
    token_and_me_describe_the_caller
);

fn external_token(private_pem: &str, alg: Algorithm, sub: &str, iss: &str) -> String {
    let key = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_ec_pem(private_pem.as_bytes()).unwrap(),
    };
    let c = json!({"sub": sub, "iat": now(), "exp": now() + 600, "iss": iss, "aud": "rectify-api"});
    encode(&Header::new(alg), &c, &key).unwrap()
}

async fn external_provider(alg: Algorithm, public: &str, private: &str) {
    let dir = env!("CARGO_MANIFEST_DIR");
    let key_file = format!("{dir}/tests/fixtures/{public}");
    let private = std::fs::read_to_string(format!("{dir}/tests/fixtures/{private}")).unwrap();
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[("RECTIFY_JWT_PUBLIC_KEY_FILE", &key_file), ("RECTIFY_JWT_EXTERNAL_ISSUER", "https://idp.example.gov")],
    )
    .await
    .unwrap();
    let ok = external_token(&private, alg, "admin", "https://idp.example.gov");
    let me = app.get_ok("/api/v1/auth/me", &ok).await;
    assert_eq!(me["username"], "admin");
    // Unknown local user, wrong issuer, and our HS256 secret cannot stand in for the provider.
    assert_refused(&app, &external_token(&private, alg, "nobody", "https://idp.example.gov"), "unknown sub").await;
    assert_refused(&app, &external_token(&private, alg, "admin", "https://evil.example"), "wrong issuer").await;
    let (id, _) = app.user("ext.user", 1, &["viewer"]).await;
    let ext = external_token(&private, alg, "ext.user", "https://idp.example.gov");
    assert_eq!(app.get("/api/v1/auth/me", Some(&ext)).await.status(), 200);
    app.update(&format!("/api/v1/users/{id}"), &app.admin, json!({"active": false})).await;
    assert_refused(&app, &ext, "a deactivated external user").await;
    app.stop().await;
}

#[tokio::test]
async fn external_rs256_tokens_name_local_users() {
    external_provider(Algorithm::RS256, "idp-rsa-public.pem", "idp-rsa-private.pem").await;
}

#[tokio::test]
async fn external_es256_tokens_name_local_users() {
    external_provider(Algorithm::ES256, "idp-ec-public.pem", "idp-ec-private.pem").await;
}

async fn signed_with_a_key_pair(alg: Algorithm, private: &str, public: &str) {
    let dir = env!("CARGO_MANIFEST_DIR");
    let (private, public) = (format!("{dir}/tests/fixtures/{private}"), format!("{dir}/tests/fixtures/{public}"));
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[("RECTIFY_JWT_SIGNING_KEY_FILE", &private), ("RECTIFY_JWT_VERIFYING_KEY_FILE", &public)],
    )
    .await
    .unwrap();
    let header = jsonwebtoken::decode_header(&app.admin).unwrap();
    assert_eq!(header.alg, alg, "issued tokens use the key pair");
    assert_eq!(app.get_ok("/api/v1/auth/me", &app.admin).await["username"], "admin");
    // The HS256 secret no longer signs anything this service accepts.
    assert_refused(&app, &sign(&claims("1"), JWT_SECRET), "an HS256 token when a key pair signs").await;
    app.stop().await;
}

#[tokio::test]
async fn issued_tokens_can_be_rs256() {
    signed_with_a_key_pair(Algorithm::RS256, "idp-rsa-private.pem", "idp-rsa-public.pem").await;
}

#[tokio::test]
async fn issued_tokens_can_be_es256() {
    signed_with_a_key_pair(Algorithm::ES256, "idp-ec-private.pem", "idp-ec-public.pem").await;
}

#[test]
fn mismatched_key_pairs_stop_the_start() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let vars: std::collections::HashMap<&str, String> = [
        ("RECTIFY_DATABASE_URL", "postgres://localhost/x".to_owned()),
        ("RECTIFY_JWT_SECRET", JWT_SECRET.to_owned()),
        ("RECTIFY_JWT_SIGNING_KEY_FILE", format!("{dir}/tests/fixtures/idp-rsa-private.pem")),
        ("RECTIFY_JWT_VERIFYING_KEY_FILE", format!("{dir}/tests/fixtures/idp-ec-public.pem")),
    ]
    .into_iter()
    .collect();
    let e = rectify::config::Config::from_lookup(|k| vars.get(k).cloned()).unwrap_err();
    assert_eq!(e.variable, "RECTIFY_JWT_SIGNING_KEY_FILE");
}

/// Issue 10: behind a load balancer the quotas hold for the deployment, not per instance: on
/// PostgreSQL two instances share one count (counted per instance, each would allow the full
/// quota). The client is one address behind the trusted proxy; the test's own sign-ins come
/// from another.
#[tokio::test]
async fn quotas_hold_across_instances_on_postgres() {
    const QUOTA: usize = 40;
    let limits =
        [("RECTIFY_LOGIN_PER_MINUTE", "40"), ("RECTIFY_FEEDBACK_PER_MINUTE", "2"), ("RECTIFY_TRUST_FORWARDED", "true")];
    let Some(app) = TestApp::spawn_postgres(&limits).await else { return };
    let w = app.world().await;
    let inspection = crate::documents::published(&app, &w).await;
    let (second, other) = app.start_instance_at();
    let instances = [app.address.clone(), other];
    let client =
        |base: &String, path: &str| app.client.post(format!("{base}{path}")).header("X-Forwarded-For", "203.0.113.7");
    let wrong = json!({"username": "admin", "password": "wrong-password-123"});
    // Alternating between the instances; a token comes back every 1.5 s meanwhile.
    let mut answered = 0;
    while answered < 2 * QUOTA {
        let res = client(&instances[answered % 2], "/api/v1/auth/token").json(&wrong).send().await.unwrap();
        if res.status() == 429 {
            break;
        }
        assert_eq!(res.status(), 401);
        answered += 1;
    }
    assert!((QUOTA..QUOTA + 5).contains(&answered), "{answered} attempts answered for a quota of {QUOTA}");
    for base in &instances {
        let res = client(base, "/api/v1/auth/token").json(&wrong).send().await.unwrap();
        assert!(res.headers().contains_key("retry-after"));
        problem(res, 429).await;
    }

    let feedback = format!("/public/v1/inspections/{inspection}/feedback");
    let body = json!({"content": "意见"});
    assert_eq!(client(&instances[0], &feedback).json(&body).send().await.unwrap().status(), 202);
    assert_eq!(client(&instances[1], &feedback).json(&body).send().await.unwrap().status(), 202);
    problem(client(&instances[0], &feedback).json(&body).send().await.unwrap(), 429).await;
    problem(client(&instances[1], &feedback).json(&body).send().await.unwrap(), 429).await;
    // Another address still has its quota.
    let res = app.post(&feedback, None, &body).await;
    assert_eq!(res.status(), 202);
    second.stop(false).await;
    app.stop().await;
}

#[tokio::test]
async fn sign_in_attempts_are_rate_limited_per_address() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("RECTIFY_LOGIN_PER_MINUTE", "3")]).await.unwrap();
    // The spawn itself signed in once.
    for _ in 0..2 {
        let res =
            app.post("/api/v1/auth/token", None, &json!({"username": "admin", "password": "wrong-password-123"})).await;
        assert_eq!(res.status(), 401);
    }
    let res = app
        .post("/api/v1/auth/token", None, &json!({"username": "admin", "password": crate::helpers::ADMIN_PASSWORD}))
        .await;
    assert!(res.headers().contains_key("retry-after"));
    problem(res, 429).await;
    app.stop().await;
}

/// Instances keep their callers' user rows in memory (`auth::cache`); revocation still holds on
/// every one of them. Two instances on one PostgreSQL database: a token used on both (so both
/// hold its user), then the user deactivated through the first. The first refuses the token at
/// once (the change's own commit empties its cache); the second within moments (the commit's
/// notification), and a change made outside the service (an operator's UPDATE) reaches both
/// the same way. A role change is seen at once too.
#[tokio::test]
async fn revocation_reaches_every_instance_on_postgres() {
    let Some(app) = TestApp::spawn_postgres(&[]).await else { return };
    let (second, other) = app.start_instance_at();
    let status = |base: &str, token: &str| {
        let req = app.client.get(format!("{base}/api/v1/auth/me")).bearer_auth(token.to_owned()).send();
        async move { req.await.unwrap().status().as_u16() }
    };
    // Answers 401 within a second on `base`; returns how long it took.
    let refused_soon = |base: String, token: String| {
        let status = &status;
        async move {
            let started = std::time::Instant::now();
            while status(&base, &token).await != 401 {
                assert!(started.elapsed() < std::time::Duration::from_secs(1), "{base} still accepts the token");
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            started.elapsed()
        }
    };

    let (id, token) = app.user("cached.user", 1, &["viewer"]).await;
    for base in [&app.address, &other] {
        for _ in 0..3 {
            assert_eq!(status(base, &token).await, 200);
        }
    }
    // Roles: a viewer may not verify the audit chain; made an admin, at once they may, on both.
    assert_eq!(app.get(ADMIN_ONLY, Some(&token)).await.status(), 403);
    app.update(&format!("/api/v1/users/{id}"), &app.admin, json!({"roles": ["admin"]})).await;
    assert_eq!(app.get(ADMIN_ONLY, Some(&token)).await.status(), 200);
    sees_the_new_role_soon(&app, &other, &token).await;

    app.update(&format!("/api/v1/users/{id}"), &app.admin, json!({"active": false})).await;
    assert_eq!(status(&app.address, &token).await, 401, "the instance that made the change");
    let took = refused_soon(other.clone(), token.clone()).await;
    eprintln!("the other instance refused the token {took:?} after the deactivation's answer");

    // An operator's change in SQL, with both instances holding the user.
    let (id, token) = app.user("cached.user2", 1, &["viewer"]).await;
    for base in [&app.address, &other] {
        assert_eq!(status(base, &token).await, 200);
        assert_eq!(status(base, &token).await, 200);
    }
    {
        use diesel::RunQueryDsl;
        let db = app.owner_db();
        let mut conn = db.get().unwrap();
        diesel::sql_query(format!("UPDATE users SET active = FALSE WHERE id = {id}")).execute(&mut **conn).unwrap();
    }
    for base in [app.address.clone(), other.clone()] {
        refused_soon(base, token.clone()).await;
    }
    second.stop(false).await;
    app.stop().await;
}

/// A read only admins may make.
const ADMIN_ONLY: &str = "/api/v1/events/verify";

/// The other instance lets the promoted user make an admin's read within a second.
async fn sees_the_new_role_soon(app: &TestApp, base: &str, token: &str) {
    let started = std::time::Instant::now();
    loop {
        let res = app.client.get(format!("{base}{ADMIN_ONLY}")).bearer_auth(token).send().await.unwrap();
        if res.status() == 200 {
            return;
        }
        assert_eq!(res.status(), 403);
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "{base} did not see the new role");
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}
