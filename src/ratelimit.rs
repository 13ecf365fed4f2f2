//! Per-client-address rate limiting (governor's GCRA) of sign-ins and public feedback.
//! The limit is per instance: behind a load balancer of n instances a client
//! gets at most n times the quota.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::AppError;

/// Limits requests per client address.
pub struct AddressLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    trust_forwarded: bool,
}

impl AddressLimiter {
    pub fn per_minute(n: u32, trust_forwarded: bool) -> Self {
        let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
        Self { limiter: RateLimiter::keyed(Quota::per_minute(n).allow_burst(n)), trust_forwarded }
    }

    /// The client's address: the peer, or — when the service is configured to trust its
    /// proxy — the last `X-Forwarded-For` hop, the one that proxy added (earlier hops are
    /// whatever the client sent, and cannot be trusted).
    pub fn client(&self, req: &HttpRequest) -> Option<IpAddr> {
        if self.trust_forwarded {
            let last_hop = req
                .headers()
                .get_all("x-forwarded-for")
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .last()
                .and_then(parse_ip);
            if let Some(ip) = last_hop {
                return Some(ip);
            }
        }
        req.peer_addr().map(|a| a.ip())
    }

    /// Counts one request of the client; 429 with Retry-After when over the quota.
    pub fn check(&self, req: &HttpRequest) -> Result<(), AppError> {
        let Some(ip) = self.client(req) else { return Ok(()) };
        self.limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            AppError::TooManyRequests { retry_after: wait.as_secs().max(1) }
        })?;
        // Forget idle clients now and then so the table stays small.
        if self.limiter.len() > 10_000 {
            self.limiter.retain_recent();
        }
        Ok(())
    }
}

fn parse_ip(raw: &str) -> Option<IpAddr> {
    raw.parse::<IpAddr>().ok().or_else(|| raw.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
}
