//! The throwaway PostgreSQL the tests start (`crates/temp-postgres`, shared with the load
//! benchmark).

// Not every test binary starts one.
#[allow(unused_imports)]
pub use assent_temp_postgres::TempPostgres;
