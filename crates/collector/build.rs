//! Builds again when a migration is added: `sqlx::migrate!` embeds the migrations
//! directories, and cargo would not otherwise notice a new file there (sqlx's own advice).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
