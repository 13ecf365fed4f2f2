//! The HTTP client that delivers webhooks: rustls on aws-lc-rs (the crypto
//! jsonwebtoken already builds), no proxy, no redirects (a 3xx is a failed
//! delivery), 5 s to connect and 10 s in all (contract §9.1: a delivery succeeds
//! on a 2xx within 10 s), and a DNS resolver that refuses private and loopback
//! addresses, so a name that resolves inside the network is never connected to.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::signature::{signature_header, WebhookSecret};
use super::ssrf;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Connect timeout for webhook deliveries.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Total timeout (connect + send + response headers and body) per attempt.
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(10);

/// DNS resolver that refuses any name with a forbidden address
/// ([`ssrf::resolve_checked`]). reqwest connects only to the addresses it returns,
/// which closes the check-then-resolve-again (DNS rebinding) gap for every
/// connection the client opens.
///
/// It is NOT called for IP-literal hosts: run [`ssrf::check_url`] before each
/// request (as [`deliver`] does).
#[derive(Debug, Clone, Copy)]
pub struct SsrfSafeResolver {
    /// Let private/loopback addresses through (tests, on-premise installs).
    pub allow_private: bool,
}

impl Resolve for SsrfSafeResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let allow_private = self.allow_private;
        Box::pin(async move {
            // getaddrinfo blocks: keep it off the async workers. Port 0 is replaced
            // by reqwest with the URL's port.
            let addrs = tokio::task::spawn_blocking(move || ssrf::resolve_checked(&host, 0, allow_private))
                .await
                .map_err(|e| Box::new(e) as BoxError)?
                .map_err(BoxError::from)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Makes aws-lc-rs the process's TLS crypto (reqwest's rustls is built without a provider of
/// its own); every reqwest client in the process needs one. Idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// A `ClientBuilder` with the webhook settings: checking resolver, no proxy,
/// no redirects (a 3xx is a failed delivery, per the spec), 5 s connect and
/// 10 s total timeouts. Tests may override settings before `build()`.
pub fn client_builder(allow_private: bool) -> reqwest::ClientBuilder {
    // reqwest's `*-no-provider` rustls features use the process-wide default
    // provider; install aws-lc-rs unless something else already did.
    install_crypto_provider();
    reqwest::Client::builder()
        .dns_resolver(Arc::new(SsrfSafeResolver { allow_private }))
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(TOTAL_TIMEOUT)
        .user_agent(concat!("Rectify-Webhooks/", env!("CARGO_PKG_VERSION")))
}

/// Builds the shared client (one per process: it holds the connection pool).
pub fn build_client(allow_private: bool) -> reqwest::Result<reqwest::Client> {
    client_builder(allow_private).build()
}

/// One delivery attempt: checks the URL, signs with every secret (rotation),
/// POSTs `body` as JSON. Returns the HTTP status (success is 2xx only; 3xx is
/// returned, not followed) or a transport error text (timeout, refused address,
/// connection reset, ...), including its causes.
pub async fn deliver(
    client: &reqwest::Client,
    url: &str,
    allow_private: bool,
    secrets: &[&WebhookSecret],
    msg_id: &str,
    body: Vec<u8>,
) -> Result<u16, String> {
    let url = ssrf::check_url(url, allow_private)?;
    let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|e| e.to_string())?.as_secs() as i64;
    let signature = signature_header(secrets, msg_id, timestamp, &body);
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| error_chain(&e))?;
    Ok(response.status().as_u16())
}

/// `e: cause: cause ...`: reqwest's own message hides the resolver's reason.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}
