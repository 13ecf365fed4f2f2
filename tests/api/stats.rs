//! The statistics of an inspection count deadlines against today in the service's time zone
//! and closures per local half month, both worked out in SQL (`reports::queries`): checked
//! here at their edges, on both databases.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::db_tests;
use crate::helpers::{today, TestApp};
use rectify::db::schema::findings::dsl as f;
use rectify::findings::model::FindingStatus;

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

/// Closes finding `id` at `when` (UTC) directly in the database: the workflow would close it now.
fn close_at(app: &TestApp, id: i64, when: NaiveDateTime) {
    let db = app.owner_db();
    let mut conn = db.get().unwrap();
    diesel::update(f::findings.filter(f::id.eq(id)))
        .set((f::status.eq(FindingStatus::Closed), f::closed_at.eq(Some(when))))
        .execute(&mut **conn)
        .unwrap();
}

fn periods(stats: &Value) -> Vec<(String, i64)> {
    stats["closures_per_half_month"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["period"].as_str().unwrap().to_owned(), p["closed"].as_i64().unwrap()))
        .collect()
}

async fn deadlines_and_closures_are_counted_at_their_edges(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let day = |d: i64| (today() + Duration::days(d)).to_string();
    let mut ids = Vec::new();
    for (title, due) in [
        ("昨天到期", Some(day(-1))),
        ("今天到期", Some(day(0))),
        ("七天后到期", Some(day(7))),
        ("八天后到期", Some(day(8))),
        ("没有期限", None),
        ("已销号一", Some(day(-3))),
        ("已销号二", Some(day(-3))),
        ("已销号三", None),
    ] {
        let extra = match due {
            Some(d) => json!({"due_on": d, "responsible_unit_id": w.bureau}),
            None => json!({}),
        };
        ids.push(app.finding(&w, inspection, title, extra).await["id"].as_i64().unwrap());
    }
    // Asia/Shanghai is UTC+8: 15:59:59 UTC on the 15th is still the first half of October
    // there, 16:00:00 UTC is already the 16th.
    close_at(&app, ids[5], at("2024-10-15 15:59:59"));
    close_at(&app, ids[6], at("2024-10-15 16:00:00"));
    close_at(&app, ids[7], at("2024-12-01 00:00:00"));
    let path = format!("/api/v1/inspections/{inspection}/stats");
    let stats = app.get_ok(&path, &w.viewer).await;
    assert_eq!(stats["total"], 8);
    assert_eq!(stats["by_status"]["closed"], 3);
    assert_eq!(stats["overdue"], 1, "{stats}");
    assert_eq!(stats["due_within_7_days"], 2, "{stats}");
    assert_eq!(
        periods(&stats),
        [("2024-10-H1", 1), ("2024-10-H2", 1), ("2024-11-H1", 0), ("2024-11-H2", 0), ("2024-12-H1", 1)]
            .map(|(p, n)| (p.to_owned(), n))
            .to_vec()
    );
    let units = stats["by_responsible_unit"].as_array().unwrap();
    let bureau = units.iter().find(|u| u["responsible_unit_id"] == w.bureau).expect("the bureau's counts");
    assert_eq!(bureau["total"], 6, "{stats}");
    let unassigned = units.iter().find(|u| u["responsible_unit_id"].is_null()).expect("findings without a unit");
    assert_eq!(unassigned["total"], 2, "{stats}");

    // A closure long before the others: only the last 48 half months are listed.
    let old = app.finding(&w, inspection, "早年销号", json!({})).await["id"].as_i64().unwrap();
    close_at(&app, old, at("2020-01-05 00:00:00"));
    let listed = periods(&app.get_ok(&path, &w.viewer).await);
    assert_eq!(listed.len(), 48);
    assert_eq!(listed.first().unwrap().0, "2022-12-H2");
    assert_eq!(listed.last().unwrap(), &("2024-12-H1".to_owned(), 1));
    assert_eq!(listed.iter().map(|p| p.1).sum::<i64>(), 3);
}

db_tests!(deadlines_and_closures_are_counted_at_their_edges);
