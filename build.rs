//! Rebuilds when a migration is added or changed: `embed_migrations!` reads `migrations/` at
//! compile time, and cargo does not notice a new folder there by itself.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
