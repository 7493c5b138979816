//! The plan artifact store: the plan file, the plan JSON and the log of every plan, kept under
//! repo / pull request / head commit / unit with a SHA-256 checksum of each, so that an apply
//! runs exactly the plan a reviewer saw or refuses to.
//!
//! Two stores: a local directory (default) and S3.

pub mod dir;
pub mod s3;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use dir::DirStore;
pub use s3::S3Store;

/// File names inside one artifact's directory (or key prefix).
pub const PLAN_FILE: &str = "plan.tfplan";
pub const PLAN_JSON: &str = "plan.json";
pub const LOG_FILE: &str = "plan.log";
pub const MANIFEST: &str = "manifest.json";
/// Written after a successful apply: the checksum of the plan applied.
pub const APPLIED: &str = "applied";

/// Which plan: repository, pull request, head commit and unit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ArtifactKey {
    /// `owner/name`.
    pub repo: String,
    /// `None` for plans made outside a pull request (a local review, a post-merge run).
    pub pr: Option<u64>,
    pub commit: String,
    /// Repo-relative unit directory.
    pub unit: String,
}

/// A key component that is unusable in a path or object key.
#[derive(Debug, Clone, thiserror::Error)]
#[error("artifact key: {0}")]
pub struct KeyError(String);

fn check_segments(what: &str, value: &str, allow_slash: bool) -> Result<(), KeyError> {
    let segments: Vec<&str> = if allow_slash {
        value.split('/').collect()
    } else {
        vec![value]
    };
    for s in segments {
        if s.is_empty()
            || s == "."
            || s == ".."
            || s.chars()
                .any(|c| c.is_control() || c == '\\' || (!allow_slash && c == '/'))
        {
            return Err(KeyError(format!("{what} {value:?} is not usable in a key")));
        }
    }
    Ok(())
}

impl ArtifactKey {
    /// The relative key, `owner/name/pr-12/<commit>/<unit>`; every component is checked so
    /// that no key can escape the store's root.
    pub fn path(&self) -> Result<String, KeyError> {
        check_segments("repo", &self.repo, true)?;
        check_segments("commit", &self.commit, false)?;
        if !self.commit.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(KeyError(format!(
                "commit {:?} is not a hexadecimal commit id",
                self.commit
            )));
        }
        let unit = if self.unit.is_empty() {
            "_root"
        } else {
            &self.unit
        };
        check_segments("unit", unit, true)?;
        let pr = match self.pr {
            Some(n) => format!("pr-{n}"),
            None => "no-pr".into(),
        };
        Ok(format!("{}/{pr}/{}/{unit}", self.repo, self.commit))
    }
}

/// The three files of a plan.
#[derive(Clone, Default)]
pub struct PlanArtifacts {
    pub plan_file: Vec<u8>,
    pub plan_json: Vec<u8>,
    /// Redacted log of the run.
    pub log: String,
}

impl std::fmt::Debug for PlanArtifacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanArtifacts")
            .field("plan_file", &format_args!("{} bytes", self.plan_file.len()))
            .field("plan_json", &format_args!("{} bytes", self.plan_json.len()))
            .field("log", &format_args!("{} bytes", self.log.len()))
            .finish()
    }
}

/// What the store records next to the files: the key again (so a misplaced artifact is
/// noticed), checksums, and how the plan was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub repo: String,
    pub pr: Option<u64>,
    pub commit: String,
    pub unit: String,
    /// Hex SHA-256 of the plan file: the identity of "the plan the reviewer saw".
    pub plan_sha256: String,
    pub plan_json_sha256: String,
    pub log_sha256: String,
    /// `native` or `terragrunt`.
    pub engine: String,
    /// Seconds since the Unix epoch.
    pub created_at: u64,
}

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Manifest {
    pub fn new(key: &ArtifactKey, a: &PlanArtifacts, engine: &str) -> Manifest {
        Manifest {
            repo: key.repo.clone(),
            pr: key.pr,
            commit: key.commit.clone(),
            unit: key.unit.clone(),
            plan_sha256: sha256_hex(&a.plan_file),
            plan_json_sha256: sha256_hex(&a.plan_json),
            log_sha256: sha256_hex(a.log.as_bytes()),
            engine: engine.to_string(),
            created_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default(),
        }
    }
}

/// A stored plan, as read back.
#[derive(Debug, Clone)]
pub struct StoredPlan {
    pub manifest: Manifest,
    pub artifacts: PlanArtifacts,
    /// Checksum of the plan last applied from this key, if any.
    pub applied_sha256: Option<String>,
}

/// Why a stored plan cannot be applied; the apply re-plans and reports this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no stored plan for {unit} at commit {commit}")]
    Missing { unit: String, commit: String },
    #[error("the stored plan was made for commit {found}, not {wanted}")]
    CommitMismatch { wanted: String, found: String },
    #[error("the stored plan belongs to unit {found}, not {wanted}")]
    UnitMismatch { wanted: String, found: String },
    #[error(
        "the stored plan file does not match its checksum (manifest {manifest}, file {actual})"
    )]
    Corrupt { manifest: String, actual: String },
    #[error("the stored plan ({found}) is not the plan that was reviewed ({wanted})")]
    NotReviewed { wanted: String, found: String },
    /// Terraform cannot tell that a plan made against an empty state was applied already;
    /// Slipway applies a stored plan once.
    #[error("the stored plan {sha256} was applied already")]
    AlreadyApplied { sha256: String },
}

impl StoredPlan {
    /// Checks that this plan is the one to apply for `key`: same commit, same unit, plan file
    /// intact, and (when given) the checksum the reviewer was shown.
    pub fn verify(&self, key: &ArtifactKey, reviewed_sha256: Option<&str>) -> Result<(), Refusal> {
        let m = &self.manifest;
        if m.commit != key.commit {
            return Err(Refusal::CommitMismatch {
                wanted: key.commit.clone(),
                found: m.commit.clone(),
            });
        }
        if m.unit != key.unit {
            return Err(Refusal::UnitMismatch {
                wanted: key.unit.clone(),
                found: m.unit.clone(),
            });
        }
        let actual = sha256_hex(&self.artifacts.plan_file);
        if actual != m.plan_sha256 {
            return Err(Refusal::Corrupt {
                manifest: m.plan_sha256.clone(),
                actual,
            });
        }
        if let Some(wanted) = reviewed_sha256 {
            if !wanted.eq_ignore_ascii_case(&actual) {
                return Err(Refusal::NotReviewed {
                    wanted: wanted.to_string(),
                    found: actual,
                });
            }
        }
        if self.applied_sha256.as_deref() == Some(actual.as_str()) {
            return Err(Refusal::AlreadyApplied { sha256: actual });
        }
        Ok(())
    }
}

/// A store that failed (IO, S3).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("artifact store {store}: {message}")]
    Io { store: String, message: String },
}

/// Where plans are kept.
#[async_trait::async_trait]
pub trait ArtifactStore: Send + Sync {
    /// Stores a plan, replacing an earlier one under the same key; returns its manifest.
    async fn put(
        &self,
        key: &ArtifactKey,
        artifacts: &PlanArtifacts,
        engine: &str,
    ) -> Result<Manifest, StoreError>;

    /// The plan stored under `key`, if any (not verified: see [`StoredPlan::verify`]).
    async fn get(&self, key: &ArtifactKey) -> Result<Option<StoredPlan>, StoreError>;

    /// Records that the plan with checksum `sha256` stored under `key` was applied.
    async fn mark_applied(&self, key: &ArtifactKey, sha256: &str) -> Result<(), StoreError>;

    /// Where the store is, for logs (`/var/lib/slipway/artifacts`, `s3://bucket/prefix`).
    fn location(&self) -> String;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ArtifactKey {
        ArtifactKey {
            repo: "example-org/infra".into(),
            pr: Some(7),
            commit: "0123abcd".into(),
            unit: "live/accounts/dev/us-east-1/app".into(),
        }
    }

    #[test]
    fn keys_are_repo_pr_commit_unit_and_cannot_escape() {
        assert_eq!(
            key().path().unwrap(),
            "example-org/infra/pr-7/0123abcd/live/accounts/dev/us-east-1/app"
        );
        for bad in [
            ArtifactKey {
                unit: "../../etc".into(),
                ..key()
            },
            ArtifactKey {
                repo: "/abs".into(),
                ..key()
            },
            ArtifactKey {
                commit: "main/../x".into(),
                ..key()
            },
            ArtifactKey {
                commit: "not-hex".into(),
                ..key()
            },
        ] {
            assert!(bad.path().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_stored_plan_is_applied_only_for_its_commit_unit_and_checksum() {
        let a = PlanArtifacts {
            plan_file: b"plan".to_vec(),
            plan_json: b"{}".to_vec(),
            log: "log".into(),
        };
        let mut stored = StoredPlan {
            manifest: Manifest::new(&key(), &a, "native"),
            artifacts: a.clone(),
            applied_sha256: None,
        };
        let sha = stored.manifest.plan_sha256.clone();
        assert_eq!(stored.verify(&key(), Some(&sha)), Ok(()));
        let other_commit = ArtifactKey {
            commit: "ffff".into(),
            ..key()
        };
        assert!(matches!(
            stored.verify(&other_commit, None),
            Err(Refusal::CommitMismatch { .. })
        ));
        assert!(matches!(
            stored.verify(&key(), Some("00")),
            Err(Refusal::NotReviewed { .. })
        ));
        stored.applied_sha256 = Some(sha.clone());
        assert!(matches!(
            stored.verify(&key(), Some(&sha)),
            Err(Refusal::AlreadyApplied { .. })
        ));
        stored.applied_sha256 = None;
        let mut tampered = stored.clone();
        tampered.artifacts.plan_file = b"other plan".to_vec();
        assert!(matches!(
            tampered.verify(&key(), None),
            Err(Refusal::Corrupt { .. })
        ));
    }
}
