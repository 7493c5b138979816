//! The embedded store: SQLite in one file, WAL journal.

use std::path::Path;

use super::Result;

/// The SQLite store.
#[derive(Debug)]
pub struct SqliteStore {}

impl SqliteStore {
    pub async fn open(_path: &Path) -> Result<SqliteStore> {
        todo!()
    }
}
