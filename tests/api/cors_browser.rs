//! CORS as a real browser sees it: headless Chromium loads a page from a static server on
//! another 127.0.0.1 port, whose script calls the API with fetch (a bearer token, a JSON body,
//! a PATCH with If-Match, reading ETag). It must work from the listed origin and fail with a
//! CORS error from another. Skipped, saying so, when no Chromium is installed (CI installs it).

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::helpers::{Backend, TestApp};

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Serves `page` for every request on a new port, until the test ends; returns its origin.
async fn static_server(page: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    serve_on(listener, page);
    origin
}

/// The page: GET the unit (reading ETag), PATCH it with If-Match, write the outcome into the DOM.
fn page(api: &str, token: &str, unit: i64) -> String {
    format!(
        r#"<!doctype html><html><body><pre id="out">pending</pre><script>
(async () => {{
  const out = document.getElementById('out');
  const url = '{api}/api/v1/org-units/{unit}';
  try {{
    const read = await fetch(url, {{ headers: {{ 'Authorization': 'Bearer {token}' }} }});
    const etag = read.headers.get('ETag');
    const res = await fetch(url, {{
      method: 'PATCH',
      headers: {{ 'Authorization': 'Bearer {token}', 'Content-Type': 'application/json', 'If-Match': etag }},
      body: JSON.stringify({{ name: '浏览器改名' }}),
    }});
    const body = await res.json();
    out.textContent = 'OK ' + res.status + ' read-etag=' + etag + ' new-etag=' + res.headers.get('ETag') + ' name=' + body.name;
  }} catch (e) {{
    out.textContent = 'ERR ' + e.name + ': ' + e.message;
  }}
}})();
</script></body></html>"#
    )
}

/// Loads `url` in headless Chromium; the text the page's script left in `#out`.
async fn run_browser(chromium: &PathBuf, url: &str) -> String {
    let profile = std::env::temp_dir().join(format!("rectify-chromium-{}", uuid::Uuid::new_v4().simple()));
    let output = tokio::time::timeout(
        Duration::from_secs(90),
        tokio::process::Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--virtual-time-budget=10000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(["--dump-dom", url])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("chromium finished within 90 s")
    .expect("chromium runs");
    let _ = std::fs::remove_dir_all(&profile);
    let dom = String::from_utf8_lossy(&output.stdout);
    let text = dom
        .split_once("<pre id=\"out\">")
        .and_then(|(_, rest)| rest.split_once("</pre>"))
        .map(|(text, _)| text.to_owned());
    text.unwrap_or_else(|| panic!("no #out in the DOM: {dom}\nstderr: {}", String::from_utf8_lossy(&output.stderr)))
}

async fn a_browser_calls_the_api_from_a_listed_origin_only(backend: Backend) {
    let Some(chromium) = chromium() else {
        eprintln!("SKIPPED cors_browser: no chromium binary on PATH (apt-get install chromium)");
        return;
    };
    // The listed origin's port is bound first (its address goes into the API's settings); it
    // serves the page once the page, which names the API's address, can be written.
    let listed_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listed_origin = format!("http://{}", listed_listener.local_addr().unwrap());
    let vars = [("RECTIFY_CORS_ORIGINS", listed_origin.as_str())];
    let app = match backend {
        Backend::Sqlite => TestApp::spawn_with(Backend::Sqlite, &vars).await,
        Backend::Postgres => TestApp::spawn_postgres(&vars).await,
    };
    let Some(app) = app else { return };
    let unit = app.create_unit("巡察办", 1).await;
    let html = page(&app.address, &app.admin, unit);

    // Another origin: the browser refuses to let the script call the API.
    let unlisted = static_server(html.clone()).await;
    let outcome = run_browser(&chromium, &format!("{unlisted}/")).await;
    assert!(outcome.starts_with("ERR TypeError"), "an unlisted origin fails with a CORS error: {outcome}");
    let name = app.get_ok(&format!("/api/v1/org-units/{unit}"), &app.admin).await["name"].clone();
    assert_eq!(name, json!("巡察办"), "the PATCH never went out");

    // The listed origin.
    serve_on(listed_listener, html);
    let outcome = run_browser(&chromium, &format!("{listed_origin}/")).await;
    assert_eq!(outcome, "OK 200 read-etag=\"1\" new-etag=\"2\" name=浏览器改名", "the listed origin succeeds");
    app.stop().await;
}

fn serve_on(listener: TcpListener, page: String) {
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let page = page.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                    page.len(),
                    page
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
}

#[tokio::test]
async fn sqlite() {
    a_browser_calls_the_api_from_a_listed_origin_only(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres() {
    a_browser_calls_the_api_from_a_listed_origin_only(Backend::Postgres).await;
}
