//! The document corpus (issue 12): short documents in the layouts counties publish
//! (`tests/fixtures/documents/*.txt`, some in GBK or with CR line ends), each beside the ledger
//! it must give (`*.expected.json`: the inspection's facts that are stated, the sections and
//! findings with their texts, and warnings that must or must not appear). One test reads them
//! all through the importer (`imports::document::ledger_of`, what the API and the CLI use),
//! prints a line per document and fails naming every document that differs.

use std::path::Path;

use rectify::imports::api::ImportQuery;
use rectify::imports::document::{ledger_of, Body};
use serde_json::{json, Value};

/// A finding as the corpus states it: its texts, and the `extra` fields the expected ledger
/// names in `"fields"` (`seq`, `due_on`, `status`, `long_term`), nulls left out.
fn finding(f: &Value, extra: &[String]) -> Value {
    let mut out = serde_json::Map::new();
    let keys = ["title", "description", "measures", "outcome"].into_iter().chain(extra.iter().map(String::as_str));
    for key in keys {
        if let Some(v) = f.get(key).filter(|v| !v.is_null()) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    Value::Object(out)
}

fn section(s: &Value, extra: &[String]) -> Value {
    let children: Vec<Value> = s["children"].as_array().into_iter().flatten().map(|c| section(c, extra)).collect();
    let findings: Vec<Value> = s["findings"].as_array().into_iter().flatten().map(|f| finding(f, extra)).collect();
    json!({"title": s["title"], "children": children, "findings": findings})
}

fn counts(ledger: &Value) -> (usize, usize, usize) {
    fn findings(s: &Value) -> usize {
        s["findings"].as_array().map_or(0, Vec::len)
            + s["children"].as_array().map_or(0, |c| c.iter().map(findings).sum())
    }
    let sections = ledger["sections"].as_array().cloned().unwrap_or_default();
    let aspects = sections.iter().map(|s| s["children"].as_array().map_or(0, Vec::len)).sum();
    let top = ledger["findings"].as_array().map_or(0, Vec::len);
    (sections.len(), aspects, top + sections.iter().map(findings).sum::<usize>())
}

/// What differs between the document's reading and its expected ledger, if anything.
fn check(name: &str, bytes: &[u8], expected: &Value) -> Result<(usize, usize, usize), String> {
    let pairs = [("inspecting_unit_id".to_owned(), "1".to_owned()), ("inspected_unit_id".to_owned(), "2".to_owned())];
    let mut pairs = pairs.to_vec();
    // Facts the document does not state are given, as a user would.
    for (key, value) in [("inspecting_body", "区委巡察组"), ("started_on", "2024-01-01"), ("ended_on", "2024-02-01")]
    {
        if expected["inspection"].get(key).is_none() {
            pairs.push((key.to_owned(), value.to_owned()));
        }
    }
    let q: ImportQuery = rectify::http::query::from_pairs(&pairs).map_err(|e| format!("{name}: query: {e}"))?;
    let kind = Body::of_path(Path::new(name), None);
    let reading = ledger_of(bytes, kind, &q).map_err(|e| format!("{name}: refused: {e}"))?;
    let warnings = reading.warnings;
    let ledger = serde_json::to_value(&reading.ledger).unwrap();
    let mut problems = Vec::new();
    if let Some(stated) = expected["inspection"].as_object() {
        for (key, want) in stated {
            if &ledger["inspection"][key] != want {
                problems.push(format!("inspection.{key}: {} (expected {want})", ledger["inspection"][key]));
            }
        }
    }
    let extra: Vec<String> =
        expected["fields"].as_array().into_iter().flatten().filter_map(|f| f.as_str().map(str::to_owned)).collect();
    let sections: Vec<Value> = ledger["sections"].as_array().unwrap().iter().map(|s| section(s, &extra)).collect();
    if Value::Array(sections.clone()) != expected["sections"] {
        problems.push(format!(
            "sections differ:\n  read     {}\n  expected {}",
            Value::Array(sections),
            expected["sections"]
        ));
    }
    let top: Vec<Value> = ledger["findings"].as_array().unwrap().iter().map(|f| finding(f, &extra)).collect();
    if Value::Array(top.clone()) != expected["findings"] {
        problems.push(format!("top-level findings differ: {}", Value::Array(top)));
    }
    let messages: Vec<&str> = warnings.iter().map(|w| w.message.as_str()).collect();
    for want in expected["warnings"].as_array().into_iter().flatten() {
        let want = want.as_str().unwrap();
        if !messages.iter().any(|m| m.contains(want)) {
            problems.push(format!("no warning containing `{want}` in {messages:?}"));
        }
    }
    for unwanted in expected["warnings_absent"].as_array().into_iter().flatten() {
        let unwanted = unwanted.as_str().unwrap();
        if messages.iter().any(|m| m.contains(unwanted)) {
            problems.push(format!("a warning containing `{unwanted}`: {messages:?}"));
        }
    }
    if problems.is_empty() {
        Ok(counts(&ledger))
    } else {
        Err(format!("{name}:\n  {}", problems.join("\n  ")))
    }
}

#[test]
fn every_document_of_the_corpus_gives_its_ledger() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/documents");
    // Every document, whatever its format: text, CSV, TSV, XLSX, DOCX.
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| !n.ends_with(".expected.json") && !n.starts_with(['.', 'R']) && !n.ends_with(".py"))
        .collect();
    names.sort();
    assert!(names.len() >= 20, "the corpus holds {} documents", names.len());
    let mut failures = Vec::new();
    eprintln!("{:<40} {:>12} {:>12}  result", "document", "expected", "parsed");
    for name in &names {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let stem = name.rsplit_once('.').map_or(name.as_str(), |(stem, _)| stem);
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{stem}.expected.json"))).unwrap())
                .unwrap_or_else(|e| panic!("{stem}.expected.json: {e}"));
        let want = counts(&expected);
        let shown = |c: (usize, usize, usize)| format!("{}/{}/{}", c.0, c.1, c.2);
        match check(name, &bytes, &expected) {
            Ok(read) => eprintln!("{name:<40} {:>12} {:>12}  ok", shown(want), shown(read)),
            Err(why) => {
                eprintln!("{name:<40} {:>12} {:>12}  DIFFERS", shown(want), "");
                failures.push(why);
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} documents differ:\n{}", failures.len(), names.len(), failures.join("\n"));
}
