//! Stores for unit tests: on an SQLite file, and on a PostgreSQL of their own.

use super::{Database, Store};

/// A store on a new SQLite file in `dir`.
pub(crate) async fn on_sqlite(dir: &tempfile::TempDir) -> Store {
    let database = Database::Sqlite(dir.path().join("records.db"));
    Store::open(&database).await.expect("opens")
}

/// A store on a PostgreSQL of its own, which stops when the first is dropped.
pub(crate) async fn on_postgres() -> (assent_temp_postgres::TempPostgres, Store) {
    let pg = assent_temp_postgres::TempPostgres::start();
    sqlx::any::install_default_drivers();
    let store = Store::open(&Database::Postgres(pg.url.clone()))
        .await
        .expect("opens");
    (pg, store)
}

/// Two tests of `$check`, an async fn of a [`Store`] in the same module: `$check::on_sqlite`
/// and `$check::on_postgres`.
macro_rules! on_both_databases {
    ($check:ident) => {
        mod $check {
            #[tokio::test]
            async fn on_sqlite() {
                let dir = tempfile::tempdir().unwrap();
                super::$check($crate::store::testing::on_sqlite(&dir).await).await;
            }

            #[tokio::test]
            async fn on_postgres() {
                let (_pg, store) = $crate::store::testing::on_postgres().await;
                super::$check(store).await;
            }
        }
    };
}
pub(crate) use on_both_databases;
