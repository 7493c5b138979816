//! Provider schemas for reading plan files natively: Slipway renders a plan's JSON from the
//! binary plan file itself instead of starting `terraform show -json` (a terraform process and
//! a provider launch) for every unit. A plan file does not carry the schemas its values need,
//! so they come from `terraform providers schema -json`, run once per lock file (the provider
//! versions) and terraform binary, and shared by every unit using the same providers.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use rules::planfile::ProviderSchemas;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use super::process::CommandSpec;
use super::{Job, RunError};

type Cell = Arc<OnceCell<Arc<ProviderSchemas>>>;

fn cells() -> &'static Mutex<HashMap<[u8; 32], Cell>> {
    static CELLS: OnceLock<Mutex<HashMap<[u8; 32], Cell>>> = OnceLock::new();
    CELLS.get_or_init(Default::default)
}

/// The schemas of the providers `run_dir` was initialised with, by running `spec` (the
/// `providers schema -json` command) the first time this lock file is seen. Only schemas are
/// kept: a failed run (a timeout, a cancelled job, a state that could not be read) is this
/// job's own error, and the next unit with these providers asks again.
pub async fn for_run_dir(
    job: &Job,
    run_dir: &Path,
    spec: &CommandSpec,
) -> Result<Arc<ProviderSchemas>, String> {
    let lock_file = tokio::fs::read(run_dir.join(".terraform.lock.hcl"))
        .await
        .map_err(|e| format!("no .terraform.lock.hcl after init: {e}"))?;
    let mut h = Sha256::new();
    h.update(spec.program.as_os_str().as_encoded_bytes());
    h.update([0]);
    h.update(&lock_file);
    let key: [u8; 32] = h.finalize().into();
    let cell = cells()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key)
        .or_default()
        .clone();
    cell.get_or_try_init(|| async {
        let out = job
            .run(spec)
            .await
            .map_err(|e: RunError| format!("`terraform providers schema -json` failed: {e}"))?;
        ProviderSchemas::from_json(&out)
            .map(Arc::new)
            .map_err(|e| e.to_string())
    })
    .await
    .cloned()
}
