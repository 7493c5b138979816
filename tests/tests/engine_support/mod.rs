//! What the engine tests share: runners over real terraform, stand-in programs for the cases
//! real terraform cannot stage on demand (a hang, a leak of secrets), workspaces of temporary
//! repositories.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use agent::artifacts::{ArtifactStore, DirStore};
use agent::aws::{AwsSettings, BaseCredentials, Secret};
use agent::engine::{EngineSettings, RunEvent, Runner, Workspace};
use slipway_tests::moto::{Moto, BASE_KEY_ID, BASE_SECRET};
use slipway_tests::{terraform, terraform_env, TempRepo};
use tokio::sync::mpsc::UnboundedReceiver;

/// The repository name runs carry (session names, artifact keys).
pub const REPO: &str = "example-org/infra";
pub const PR: u64 = 7;

/// Engine settings over real terraform in `work_root`, roles off.
pub fn settings(work_root: &Path) -> EngineSettings {
    let mut s = EngineSettings::new(work_root);
    s.terraform = terraform();
    s.env = terraform_env();
    s.parallelism = 2;
    s.assume_roles = false;
    s
}

/// Settings that assume roles through `moto`, with Slipway's base identity given by
/// `base` (default: moto's accept-anything keys).
pub fn moto_settings(
    work_root: &Path,
    moto: &Moto,
    base: Option<(String, String)>,
) -> EngineSettings {
    let mut s = settings(work_root);
    let (key, secret) = base.unwrap_or((BASE_KEY_ID.to_string(), BASE_SECRET.to_string()));
    s.assume_roles = true;
    s.aws = AwsSettings {
        endpoint_url: Some(moto.endpoint()),
        base: BaseCredentials::Static {
            access_key_id: key,
            secret_access_key: Secret::new(secret),
        },
        ..AwsSettings::default()
    };
    s
}

/// A runner storing plans under `<work_root>/artifacts`, with its event stream.
pub async fn runner(settings: EngineSettings) -> (Runner, DirStore, UnboundedReceiver<RunEvent>) {
    let store = DirStore::new(settings.work_root.join("artifacts"));
    let (tx, rx) = agent::engine::event_channel();
    let shared: Arc<dyn ArtifactStore> = Arc::new(store.clone());
    (Runner::new(settings, shared, Some(tx)).await, store, rx)
}

/// Every event received so far.
pub fn drain(rx: &mut UnboundedReceiver<RunEvent>) -> Vec<RunEvent> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}

/// The committed HEAD of `repo` as a workspace of pull request 7 of `example-org/infra`.
pub fn workspace(repo: &TempRepo) -> Arc<Workspace> {
    let r = agent::repo::Repo::open(repo.path()).expect("open repo");
    let view = r.graph(Some("HEAD")).expect("graph of HEAD");
    assert!(
        view.inventory.errors.is_empty(),
        "evaluation errors: {:?}",
        view.inventory.errors
    );
    Arc::new(Workspace::from_view(REPO, Some(PR), &view))
}

/// Writes an executable script.
pub fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}")).expect("write script");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    p
}

/// A terraform stand-in that takes `sleep` seconds per step, writes the `-out` plan file and
/// prints a minimal plan JSON for `show`.
pub fn quick_terraform(dir: &Path, sleep: &str) -> PathBuf {
    script(
        dir,
        "terraform",
        &format!(
            r#"case "$1" in
  plan) for a in "$@"; do case "$a" in -out=*) echo fake-plan > "${{a#-out=}}";; esac; done ;;
  show) echo '{{"format_version":"0.2","terraform_version":"1.0.3"}}'; exit 0 ;;
esac
sleep {sleep}
"#
        ),
    )
}

/// Real terraform behind a wrapper that records, for every invocation, the directory, the
/// command and the AWS credentials it was given (one `|`-separated line in `record`), and then
/// prints those credentials on stderr as a careless tool would.
pub fn recording_terraform(dir: &Path, record: &Path) -> PathBuf {
    script(
        dir,
        "terraform-recorder",
        &format!(
            r#"echo "$(pwd)|$1|$AWS_ACCESS_KEY_ID|$AWS_SECRET_ACCESS_KEY|$AWS_SESSION_TOKEN" >> "{record}"
echo "debug: aws_secret_access_key=$AWS_SECRET_ACCESS_KEY key $AWS_ACCESS_KEY_ID token $AWS_SESSION_TOKEN" >&2
exec "{tf}" "$@"
"#,
            record = record.display(),
            tf = terraform().display()
        ),
    )
}

/// One recorded invocation of [`recording_terraform`].
#[derive(Debug, Clone)]
pub struct Invocation {
    pub dir: String,
    pub command: String,
    pub key_id: String,
    pub secret: String,
    pub token: String,
}

pub fn invocations(record: &Path) -> Vec<Invocation> {
    std::fs::read_to_string(record)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            Invocation {
                dir: f[0].into(),
                command: f[1].into(),
                key_id: f[2].into(),
                secret: f[3].into(),
                token: f[4].into(),
            }
        })
        .collect()
}
