//! The `rectify` binary: `serve` (default), `openapi`, `migrate`, `import`, `demo`, `audit verify`.

use std::net::TcpListener;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use rectify::app;
use rectify::config::{Config, DatabaseUrl, Timeouts};
use rectify::db::{Db, DbConn};
use rectify::state::AppState;
use rectify::{bootstrap, cli, telemetry};

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
    /// Apply database migrations and exit; on PostgreSQL, as the schema's owner.
    Migrate(MigrateArgs),
    /// Import a ledger: a JSON ledger (`.json`), a ledger sheet (`.csv`, `.tsv`, `.xlsx`), a Word
    /// file (`.docx`) or an official document in text.
    Import(Box<ImportArgs>),
    /// Fill an empty database with a sample inspection, users for every role and findings in every status.
    Demo,
    /// Work on the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify the audit trail's hash chain; prints the report, exits 1 when a link is broken.
    Verify,
}

#[derive(clap::Args)]
struct MigrateArgs {
    /// The database to migrate, connecting as the schema's owner. Default:
    /// RECTIFY_MIGRATE_DATABASE_URL, else RECTIFY_DATABASE_URL, else the SQLite default.
    #[arg(long)]
    database_url: Option<String>,
    /// PostgreSQL: after migrating, grant this role (which must exist and own nothing) what
    /// the service needs and no more; run the service as it. Default: RECTIFY_SERVICE_ROLE.
    #[arg(long)]
    grant_to: Option<String>,
}

#[derive(clap::Args)]
struct ImportArgs {
    /// The file, read by its extension: `.json` a JSON ledger, `.csv`/`.tsv`/`.xlsx` a ledger
    /// sheet, `.docx` a Word file, anything else a text document (UTF-8, or GB18030/GBK:
    /// detected, or as `--charset` says).
    file: std::path::PathBuf,
    /// Text documents and CSV/TSV: the encoding (utf-8, gbk, gb2312 or gb18030); detected when left out.
    #[arg(long)]
    charset: Option<String>,
    /// Run the import with every check and roll it back; print the ledger.
    #[arg(long)]
    dry_run: bool,
    /// Text documents: the inspecting unit (required).
    #[arg(long)]
    inspecting_unit_id: Option<i64>,
    /// Text documents: the inspected unit (required).
    #[arg(long)]
    inspected_unit_id: Option<i64>,
    #[arg(long)]
    title: Option<String>,
    #[arg(long)]
    inspecting_body: Option<String>,
    #[arg(long)]
    started_on: Option<String>,
    #[arg(long)]
    ended_on: Option<String>,
    #[arg(long)]
    feedback_on: Option<String>,
    /// XLSX: the worksheet to read.
    #[arg(long)]
    sheet: Option<String>,
    /// Sheets: the header's row (default: found by its column names).
    #[arg(long)]
    header_row: Option<usize>,
    /// Sheets: how to read columns, as `C=title,E=measures,F=ignore`.
    #[arg(long)]
    columns: Option<String>,
}

impl ImportArgs {
    fn params(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut add = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                out.push((k.to_owned(), v));
            }
        };
        add("inspecting_unit_id", self.inspecting_unit_id.map(|v| v.to_string()));
        add("inspected_unit_id", self.inspected_unit_id.map(|v| v.to_string()));
        add("title", self.title.clone());
        add("inspecting_body", self.inspecting_body.clone());
        add("started_on", self.started_on.clone());
        add("ended_on", self.ended_on.clone());
        add("feedback_on", self.feedback_on.clone());
        add("sheet", self.sheet.clone());
        add("header_row", self.header_row.map(|v| v.to_string()));
        add("columns", self.columns.clone());
        out
    }
}

fn main() -> ExitCode {
    rectify::alloc::configure();
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
    if let Some(Command::Migrate(args)) = &cli.command {
        // The owner's work needs no service configuration (no JWT secret, no bind address).
        return match migrate(args) {
            Ok(report) => {
                println!("{report}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("rectify migrate: {e}");
                ExitCode::FAILURE
            }
        };
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
        Some(Command::Audit(AuditCommand::Verify)) => {
            return match verify_audit(&config) {
                Ok((report, true)) => {
                    println!("{report}");
                    ExitCode::SUCCESS
                }
                Ok((report, false)) => {
                    println!("{report}");
                    ExitCode::FAILURE
                }
                Err(e) => {
                    eprintln!("rectify audit verify: {e}");
                    ExitCode::from(2)
                }
            };
        }
        Some(Command::Import(args)) => prepare(&config).and_then(|db| {
            let out = cli::import(&db, &config, &args.file, args.params(), args.charset.as_deref(), args.dry_run)?;
            println!("{out}");
            Ok(())
        }),
        Some(Command::Demo) => prepare(&config).and_then(|db| {
            let out = cli::demo(&db, &config)?;
            println!("{out}");
            Ok(())
        }),
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

fn migrate(args: &MigrateArgs) -> Result<String, String> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let url = args
        .database_url
        .clone()
        .or_else(|| env("RECTIFY_MIGRATE_DATABASE_URL"))
        .or_else(|| env("RECTIFY_DATABASE_URL"))
        .unwrap_or_else(|| "sqlite://data/rectify.db".into());
    let url = DatabaseUrl::parse(&url).map_err(|e| format!("database URL: {e}"))?;
    let timeouts = Timeouts { lock: Duration::from_secs(60), statement: Duration::from_secs(600) };
    let db = Db::connect(&url, 1, timeouts)?;
    let applied = db.migrate()?;
    let mut report = format!("migrations applied: {applied}");
    if let Some(role) = args.grant_to.clone().or_else(|| env("RECTIFY_SERVICE_ROLE")) {
        let mut conn = db.get().map_err(|e| format!("{e:?}"))?;
        let DbConn::Postgres(pg) = &mut **conn else {
            return Err("--grant-to needs a PostgreSQL database (SQLite has no roles)".into());
        };
        rectify::db::roles::grant_service_role(pg, &role)?;
        report.push_str(&format!("\nrole `{role}` may now read and write the data and append to the audit trail"));
    }
    Ok(report)
}

/// Verifies the hash chain, reading only; the report as JSON and whether the chain holds.
fn verify_audit(config: &Config) -> Result<(String, bool), String> {
    let db = Db::connect(&config.database_url, 1, config.db_timeouts)?;
    let mut conn = db.get().map_err(|e| format!("{e:?}"))?;
    let report = rectify::audit::chain::verify(&mut conn).map_err(|e| format!("{e:?}"))?;
    let valid = report.valid;
    Ok((serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?, valid))
}

/// Connects, migrates and bootstraps: what every command that works on data needs first.
fn prepare(config: &Config) -> Result<Db, String> {
    let db = Db::connect(&config.database_url, config.db_pool_size, config.db_timeouts)?;
    let applied = db.migrate_if_needed()?;
    tracing::info!(applied, postgres = db.is_postgres(), "database ready");
    if let Some(password) = bootstrap::ensure_admin(&db, config).map_err(|e| format!("bootstrap: {e:?}"))? {
        // Printed once, on the first start only: it is not stored anywhere in clear.
        tracing::warn!(username = "admin", password = %password, "created the bootstrap admin; change this password");
    }
    Ok(db)
}

fn serve(config: Config) -> Result<(), String> {
    let db = prepare(&config)?;
    let listener =
        TcpListener::bind(config.bind).map_err(|e| format!("RECTIFY_BIND: cannot bind {}: {e}", config.bind))?;
    tracing::info!(address = %config.bind, "serving");
    let state = AppState::new(config, db)?;
    actix_web::rt::System::new().block_on(async move {
        let server = app::serve(state, listener).map_err(|e| e.to_string())?;
        server.stop_on_signals().map_err(|e| format!("cannot listen for signals: {e}"))?;
        server.await.map_err(|e| e.to_string())?;
        tracing::info!("stopped");
        Ok(())
    })
}
