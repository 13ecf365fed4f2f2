//! §9.3: `/metrics` in the Prometheus text format.

use serde_json::json;

use crate::db_tests;
use crate::helpers::{Backend, TestApp};

async fn scrape(app: &TestApp, base: &str) -> (u16, String) {
    let res = app.client.get(format!("{base}/metrics")).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

async fn metrics_count_requests_by_route_template(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let f = app.finding(&w, inspection, "计量的问题", json!({})).await;
    for _ in 0..3 {
        app.get_ok(&format!("/api/v1/findings/{}", f["id"]), &w.viewer).await;
    }
    app.get("/api/v1/findings/999999", Some(&w.viewer)).await;
    let (status, text) = scrape(&app, &app.address).await;
    assert_eq!(status, 200);
    let count = |line_start: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(line_start))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no `{line_start}` in\n{text}"))
    };
    // The route template, never the id: the label set stays bounded.
    assert!(count(r#"rectify_http_requests_total{method="GET",route="/api/v1/findings/{id}",status="200"}"#) >= 3.0);
    assert!(count(r#"rectify_http_requests_total{method="GET",route="/api/v1/findings/{id}",status="404"}"#) >= 1.0);
    assert!(!text.contains("/api/v1/findings/999999"));
    assert!(count(r#"rectify_http_request_duration_seconds_count{method="GET",route="/api/v1/findings/{id}"}"#) >= 4.0);
    assert!(text.contains(
        r#"rectify_http_request_duration_seconds_bucket{method="GET",route="/api/v1/findings/{id}",le="0.005"}"#
    ));
    assert!(count(r#"rectify_db_pool_connections{state="max"}"#) >= 1.0);
    assert!(text.contains("rectify_outbox_pending ") && text.contains("rectify_outbox_oldest_age_seconds "));
    assert!(text.contains(r#"rectify_build_info{version=""#));
}

db_tests!(metrics_count_requests_by_route_template);

#[tokio::test]
async fn metrics_can_live_on_their_own_address() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let bind = format!("127.0.0.1:{port}");
    let app = TestApp::spawn_with(Backend::Sqlite, &[("RECTIFY_METRICS_BIND", &bind)]).await.unwrap();
    assert_eq!(scrape(&app, &app.address).await.0, 404, "not on the main address");
    let (status, text) = scrape(&app, &format!("http://{bind}")).await;
    assert_eq!(status, 200);
    assert!(text.contains("rectify_build_info"));
    app.stop().await;
}
