//! The state every handler shares: the database, the configuration, the
//! token service, the cursor key and the rate limiters. It sits at the bottom
//! of the module graph: everything may use it, it uses no domain.

use std::sync::Arc;

use crate::auth::token::TokenService;
use crate::config::Config;
use crate::db::Db;
use crate::http::pagination::CursorKey;
use crate::ratelimit::AddressLimiter;

/// Everything a handler may need, shared by all workers.
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub tokens: TokenService,
    pub cursor_key: CursorKey,
    pub feedback_limiter: AddressLimiter,
    pub login_limiter: AddressLimiter,
    /// The callers' user rows between requests (PostgreSQL only; see `auth::cache`).
    pub users: crate::auth::cache::UserCache<crate::auth::UserRow>,
    /// Serving, or shutting down (`http::lifecycle`).
    pub lifecycle: Arc<crate::http::lifecycle::Lifecycle>,
}

impl AppState {
    pub fn new(config: Config, db: Db) -> Result<Self, String> {
        let tokens = TokenService::new(&config.jwt)?;
        let cursor_key = CursorKey::derive(config.jwt.secret.expose());
        let feedback_limiter =
            AddressLimiter::per_minute("feedback", config.feedback_per_minute, config.trust_forwarded, &db);
        let login_limiter = AddressLimiter::per_minute("sign-in", config.login_per_minute, config.trust_forwarded, &db);
        Ok(Self {
            db,
            config: Arc::new(config),
            tokens,
            cursor_key,
            feedback_limiter,
            login_limiter,
            users: Default::default(),
            lifecycle: Default::default(),
        })
    }

    /// Today in the configured time zone (deadlines are dates there).
    pub fn today(&self) -> chrono::NaiveDate {
        self.config.local_date(chrono::Utc::now())
    }
}
