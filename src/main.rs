//! The `rectify` binary: `serve` (default), `openapi`, `migrate`.

use std::net::TcpListener;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rectify::app::{self, AppState};
use rectify::config::Config;
use rectify::db::Db;
use rectify::{bootstrap, telemetry};

#[derive(Parser)]
#[command(name = "rectify", version, about = "Tracks inspection findings through to their rectification")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (the default).
    Serve,
    /// Print the OpenAPI document.
    Openapi,
    /// Apply database migrations and exit.
    Migrate,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        match app::spec().to_pretty_json() {
            Ok(json) => {
                println!("{json}");
                return ExitCode::SUCCESS;
            }
            Err(e) => {
                eprintln!("cannot render the OpenAPI document: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config);
    let result = match cli.command {
        Some(Command::Migrate) => migrate(&config),
        _ => serve(config),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("rectify: {e}");
            ExitCode::FAILURE
        }
    }
}

fn migrate(config: &Config) -> Result<(), String> {
    let db = Db::connect(&config.database_url, 1)?;
    let applied = db.migrate()?;
    tracing::info!(applied, "migrations applied");
    Ok(())
}

fn serve(config: Config) -> Result<(), String> {
    let db = Db::connect(&config.database_url, config.db_pool_size)?;
    let applied = db.migrate()?;
    tracing::info!(applied, postgres = db.is_postgres(), "database ready");
    if let Some(password) = bootstrap::ensure_admin(&db, &config).map_err(|e| format!("bootstrap: {e:?}"))? {
        // Printed once, on the first start only: it is not stored anywhere in clear.
        tracing::warn!(username = "admin", password = %password, "created the bootstrap admin; change this password");
    }
    let listener =
        TcpListener::bind(config.bind).map_err(|e| format!("RECTIFY_BIND: cannot bind {}: {e}", config.bind))?;
    tracing::info!(address = %config.bind, "serving");
    let state = AppState::new(config, db)?;
    actix_web::rt::System::new().block_on(async move {
        let server = app::serve(state, listener).map_err(|e| e.to_string())?;
        server.await.map_err(|e| e.to_string())
    })
}
