//! Plan artifacts in a local directory: `<root>/<repo>/pr-<n>/<commit>/<unit>/{plan.tfplan,
//! plan.json, plan.log, manifest.json}`. Files are written to a temporary name and renamed, the
//! manifest last, so a reader never sees half a plan.

use std::path::{Path, PathBuf};

use super::{
    ArtifactKey, ArtifactStore, Manifest, PlanArtifacts, StoreError, StoredPlan, APPLIED, LOG_FILE,
    MANIFEST, PLAN_FILE, PLAN_JSON,
};

/// Artifacts under a directory.
#[derive(Debug, Clone)]
pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    pub fn new(root: impl Into<PathBuf>) -> DirStore {
        DirStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of one artifact.
    pub fn dir_of(&self, key: &ArtifactKey) -> Result<PathBuf, StoreError> {
        Ok(self.root.join(key.path()?))
    }

    fn io(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Io {
            store: self.location(),
            message: e.to_string(),
        }
    }
}

fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(tmp, dir.join(name))
}

fn read_opt(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[async_trait::async_trait]
impl ArtifactStore for DirStore {
    async fn put(
        &self,
        key: &ArtifactKey,
        artifacts: &PlanArtifacts,
        engine: &str,
    ) -> Result<Manifest, StoreError> {
        let dir = self.dir_of(key)?;
        let manifest = Manifest::new(key, artifacts, engine);
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| self.io(e))?;
        let a = artifacts.clone();
        let d = dir.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            std::fs::create_dir_all(&d)?;
            // The old manifest goes first: a crash in between leaves no plan, not a wrong one.
            for old in [MANIFEST, APPLIED] {
                if let Err(e) = std::fs::remove_file(d.join(old)) {
                    if e.kind() != std::io::ErrorKind::NotFound {
                        return Err(e);
                    }
                }
            }
            write_atomic(&d, PLAN_FILE, &a.plan_file)?;
            write_atomic(&d, PLAN_JSON, &a.plan_json)?;
            write_atomic(&d, LOG_FILE, a.log.as_bytes())?;
            write_atomic(&d, MANIFEST, &json)
        })
        .await
        .map_err(|e| self.io(e))?
        .map_err(|e| self.io(format!("{}: {e}", dir.display())))?;
        Ok(manifest)
    }

    async fn get(&self, key: &ArtifactKey) -> Result<Option<StoredPlan>, StoreError> {
        let dir = self.dir_of(key)?;
        let d = dir.clone();
        let read = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
            let Some(manifest) = read_opt(&d.join(MANIFEST))? else {
                return Ok(None);
            };
            let plan_file = read_opt(&d.join(PLAN_FILE))?.unwrap_or_default();
            let plan_json = read_opt(&d.join(PLAN_JSON))?.unwrap_or_default();
            let log = read_opt(&d.join(LOG_FILE))?.unwrap_or_default();
            let applied = read_opt(&d.join(APPLIED))?;
            Ok(Some((manifest, plan_file, plan_json, log, applied)))
        })
        .await
        .map_err(|e| self.io(e))?
        .map_err(|e| self.io(format!("{}: {e}", dir.display())))?;
        let Some((manifest, plan_file, plan_json, log, applied)) = read else {
            return Ok(None);
        };
        let manifest: Manifest = serde_json::from_slice(&manifest)
            .map_err(|e| self.io(format!("{}: {e}", dir.join(MANIFEST).display())))?;
        Ok(Some(StoredPlan {
            manifest,
            artifacts: PlanArtifacts {
                plan_file,
                plan_json,
                log: String::from_utf8_lossy(&log).into_owned(),
            },
            applied_sha256: applied.map(|a| String::from_utf8_lossy(&a).trim().to_string()),
        }))
    }

    async fn mark_applied(&self, key: &ArtifactKey, sha256: &str) -> Result<(), StoreError> {
        let dir = self.dir_of(key)?;
        let sha = sha256.to_string();
        let d = dir.clone();
        tokio::task::spawn_blocking(move || write_atomic(&d, APPLIED, sha.as_bytes()))
            .await
            .map_err(|e| self.io(e))?
            .map_err(|e| self.io(format!("{}: {e}", dir.display())))
    }

    fn location(&self) -> String {
        self.root.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::sha256_hex;

    #[tokio::test]
    async fn a_plan_round_trips_with_its_checksums() {
        let tmp = tempfile::tempdir().unwrap();
        let store = DirStore::new(tmp.path());
        let key = ArtifactKey {
            repo: "org/infra".into(),
            pr: Some(3),
            commit: "abc123".into(),
            unit: "live/dev/app".into(),
        };
        assert!(store.get(&key).await.unwrap().is_none());
        let a = PlanArtifacts {
            plan_file: vec![1, 2, 3],
            plan_json: b"{\"format_version\":\"0.2\"}".to_vec(),
            log: "Plan: 1 to add".into(),
        };
        let m = store.put(&key, &a, "native").await.unwrap();
        assert_eq!(m.plan_sha256, sha256_hex(&[1, 2, 3]));
        assert!(tmp
            .path()
            .join("org/infra/pr-3/abc123/live/dev/app/plan.tfplan")
            .is_file());
        let got = store.get(&key).await.unwrap().unwrap();
        assert_eq!(got.manifest, m);
        assert_eq!(got.artifacts.plan_file, vec![1, 2, 3]);
        assert_eq!(got.artifacts.log, "Plan: 1 to add");
        assert!(got.verify(&key, Some(&m.plan_sha256)).is_ok());
    }
}
