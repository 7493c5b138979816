//! The shared store: PostgreSQL, for several replicas on one queue.

use super::Result;

/// The PostgreSQL store.
#[derive(Debug)]
pub struct PgStore {}

impl PgStore {
    pub async fn open(_url: &str) -> Result<PgStore> {
        todo!()
    }
}
