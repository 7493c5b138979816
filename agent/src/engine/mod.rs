//! The run engine: plans and applies Terragrunt units under each account's assumed role.
//!
//! A [`Runner`] takes units of one [`Workspace`] (repository, pull request, commit, evaluated
//! units) and runs them with an [`Executor`]: [`native::Native`] renders the working directory
//! itself and drives terraform or tofu; [`terragrunt::Terragrunt`] delegates to a terragrunt
//! binary. Either way a run:
//! - assumes the unit's plan or apply role with STS and gives the credentials to the child
//!   process only ([`crate::aws`]);
//! - serialises `init` per provider plugin cache ([`plugin_cache`]);
//! - streams redacted output lines to an event channel ([`RunEvent`], [`redact`]);
//! - stores the plan file, plan JSON and log with their checksums ([`crate::artifacts`]);
//! - runs at most `parallelism` at once, never two on one unit, each within a timeout, and can
//!   be cancelled (SIGTERM, then SIGKILL after a grace period).

pub mod native;
pub mod outputs;
pub mod plugin_cache;
pub mod process;
pub mod redact;
pub mod safe_fs;
pub mod schemas;
pub mod source;
pub mod terragrunt;
pub mod workdir;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch, Semaphore};

use crate::artifacts::{ArtifactKey, ArtifactStore, Manifest, PlanArtifacts, Refusal};
use crate::aws::{self, Action, AssumeError, Assumer, AwsSettings, RoleRef, Secret};
use crate::config::RepoConfig;
use crate::snapshot::Snapshot;
use crate::units::Unit;
use process::{CommandSpec, RunIo, Stop};
use redact::Redactor;

/// Which engine runs units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngineKind {
    /// Slipway renders the working directory and drives terraform/tofu.
    #[default]
    Native,
    /// A terragrunt binary does the work.
    Terragrunt,
}

impl std::str::FromStr for EngineKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "native" => Ok(EngineKind::Native),
            "terragrunt" => Ok(EngineKind::Terragrunt),
            other => Err(format!(
                "unknown engine {other:?} (expected native or terragrunt)"
            )),
        }
    }
}

impl std::fmt::Display for EngineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EngineKind::Native => "native",
            EngineKind::Terragrunt => "terragrunt",
        })
    }
}

/// How units are run.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    pub kind: EngineKind,
    /// The terraform (or tofu) binary.
    pub terraform: PathBuf,
    /// The terragrunt binary (terragrunt engine only).
    pub terragrunt: PathBuf,
    /// Where working directories are made, one per unit.
    pub work_root: PathBuf,
    /// Provider plugin cache shared by every run (default: `<work_root>/.plugin-cache`).
    pub plugin_cache: Option<PathBuf>,
    /// Extra environment for every child process (never credentials: those come from roles).
    pub env: Vec<(String, String)>,
    /// Runs at once (default: the number of cores).
    pub parallelism: usize,
    /// Longest time one unit's run may take, all steps together.
    pub timeout: Duration,
    /// Time between SIGTERM and SIGKILL when a run is stopped.
    pub grace: Duration,
    /// Assume each unit's role. Off: children run with no AWS credentials at all (local
    /// reviews of repositories whose units need none).
    pub assume_roles: bool,
    pub aws: AwsSettings,
    /// How the native engine gets a plan's JSON: read from the plan file by Slipway (default;
    /// `terraform show -json` when the reader cannot be sure of a plan), or always with
    /// `terraform show -json`.
    pub plan_reader: PlanReader,
    /// Whether a unit's `get_env` in a run sees the process's environment (never its
    /// secrets): the command line's case, where the process is the user's. The service sets it
    /// off: a run then sees only its environment's `env` table and `env_allow` names.
    pub user_env: bool,
    /// The `sops` binary `sops_decrypt_file` uses in runs (`SLIPWAY_SOPS`).
    pub sops: Option<PathBuf>,
    /// How remote module sources are fetched and cached, with whose credentials.
    pub sources: source::SourceOptions,
}

/// How a plan's JSON is made (`SLIPWAY_PLAN_READER`: `native` or `terraform`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlanReader {
    /// Slipway reads the binary plan file, falling back to `terraform show -json`.
    #[default]
    Native,
    /// Always `terraform show -json`.
    Terraform,
}

impl std::str::FromStr for PlanReader {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "native" => Ok(PlanReader::Native),
            "terraform" => Ok(PlanReader::Terraform),
            other => Err(format!(
                "plan reader {other:?} is not one of native, terraform"
            )),
        }
    }
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

impl EngineSettings {
    /// Defaults: native engine, `terraform` and `terragrunt` from the PATH, one run per core,
    /// one hour per run, 30 s grace, roles assumed.
    pub fn new(work_root: &Path) -> Self {
        EngineSettings {
            kind: EngineKind::Native,
            terraform: PathBuf::from("terraform"),
            terragrunt: PathBuf::from("terragrunt"),
            work_root: work_root.to_path_buf(),
            plugin_cache: None,
            env: Vec::new(),
            parallelism: cores(),
            timeout: Duration::from_secs(3600),
            grace: Duration::from_secs(30),
            assume_roles: true,
            aws: AwsSettings::default(),
            plan_reader: PlanReader::Native,
            user_env: true,
            sops: None,
            sources: source::SourceOptions::default(),
        }
    }

    /// Settings from the process environment: `SLIPWAY_ENGINE` (`native`|`terragrunt`),
    /// `SLIPWAY_TERRAFORM`, `SLIPWAY_TERRAGRUNT`, `SLIPWAY_PLUGIN_CACHE_DIR`,
    /// `SLIPWAY_PARALLELISM`, `SLIPWAY_RUN_TIMEOUT_SECONDS`, `SLIPWAY_ASSUME_ROLES` (`0`/`1`),
    /// `SLIPWAY_PLAN_READER` (`native`|`terraform`), the module source settings
    /// (`SLIPWAY_MODULE_CACHE_DIR`, `SLIPWAY_GIT`, `SLIPWAY_SOURCE_TIMEOUT_SECONDS`,
    /// `SLIPWAY_ALLOW_FILE_SOURCES`, `SLIPWAY_GITHUB_HOST`, `SLIPWAY_GITHUB_TOKEN`,
    /// `SLIPWAY_SOURCE_TOKEN_<host>` with the host's dots written `_` as Terraform's
    /// `TF_TOKEN_<host>`), and the AWS settings of [`AwsSettings::from_env`]. Unusable values
    /// are errors.
    pub fn from_env(work_root: &Path) -> Result<Self, String> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let mut s = EngineSettings::new(work_root);
        if let Some(k) = var("SLIPWAY_ENGINE") {
            s.kind = k.parse()?;
        }
        if let Some(t) = std::env::var_os("SLIPWAY_TERRAFORM").filter(|v| !v.is_empty()) {
            s.terraform = PathBuf::from(t);
        }
        if let Some(t) = std::env::var_os("SLIPWAY_TERRAGRUNT").filter(|v| !v.is_empty()) {
            s.terragrunt = PathBuf::from(t);
        }
        if let Some(c) = std::env::var_os("SLIPWAY_PLUGIN_CACHE_DIR").filter(|v| !v.is_empty()) {
            s.plugin_cache = Some(PathBuf::from(c));
        }
        if let Some(p) = var("SLIPWAY_PARALLELISM") {
            s.parallelism = p
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("SLIPWAY_PARALLELISM={p:?} is not a positive number"))?;
        }
        if let Some(p) = std::env::var_os("SLIPWAY_SOPS").filter(|v| !v.is_empty()) {
            s.sops = Some(PathBuf::from(p));
        }
        if let Some(r) = var("SLIPWAY_PLAN_READER") {
            s.plan_reader = r.parse().map_err(|e| format!("SLIPWAY_PLAN_READER: {e}"))?;
        }
        if let Some(t) = var("SLIPWAY_RUN_TIMEOUT_SECONDS") {
            s.timeout = Duration::from_secs(t.parse::<u64>().map_err(|_| {
                format!("SLIPWAY_RUN_TIMEOUT_SECONDS={t:?} is not a number of seconds")
            })?);
        }
        s.sources = sources_from_env()?;
        s.aws = AwsSettings::from_env();
        s.assume_roles = match var("SLIPWAY_ASSUME_ROLES").as_deref() {
            Some("1" | "true" | "yes") => true,
            Some("0" | "false" | "no") => false,
            Some(other) => return Err(format!("SLIPWAY_ASSUME_ROLES={other:?}: expected 0 or 1")),
            // A local review assumes roles when AWS credentials (or an emulator) are around.
            None => {
                s.aws.endpoint_url.is_some()
                    || [
                        "AWS_ACCESS_KEY_ID",
                        "AWS_PROFILE",
                        "AWS_WEB_IDENTITY_TOKEN_FILE",
                        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    ]
                    .iter()
                    .any(|k| var(k).is_some())
            }
        };
        Ok(s)
    }

    /// The module source cache directory in use.
    pub fn module_cache_dir(&self) -> PathBuf {
        self.sources
            .cache_dir
            .clone()
            .unwrap_or_else(|| self.work_root.join(".module-cache"))
    }

    /// The plugin cache directory in use.
    pub fn plugin_cache_dir(&self) -> PathBuf {
        self.plugin_cache
            .clone()
            .unwrap_or_else(|| self.work_root.join(".plugin-cache"))
    }
}

/// The module source settings from the environment (see [`EngineSettings::from_env`]).
fn sources_from_env() -> Result<source::SourceOptions, String> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut o = source::SourceOptions::default();
    if let Some(d) = std::env::var_os("SLIPWAY_MODULE_CACHE_DIR").filter(|v| !v.is_empty()) {
        o.cache_dir = Some(PathBuf::from(d));
    }
    if let Some(g) = std::env::var_os("SLIPWAY_GIT").filter(|v| !v.is_empty()) {
        o.git = PathBuf::from(g);
    }
    if let Some(t) = var("SLIPWAY_SOURCE_TIMEOUT_SECONDS") {
        o.timeout =
            Duration::from_secs(t.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                format!("SLIPWAY_SOURCE_TIMEOUT_SECONDS={t:?} is not a number of seconds")
            })?);
    }
    o.allow_file = match var("SLIPWAY_ALLOW_FILE_SOURCES").as_deref() {
        None | Some("0" | "false" | "no") => false,
        Some("1" | "true" | "yes") => true,
        Some(other) => {
            return Err(format!(
                "SLIPWAY_ALLOW_FILE_SOURCES={other:?}: expected 0 or 1"
            ))
        }
    };
    if let Some(h) = var("SLIPWAY_GITHUB_HOST") {
        o.credentials.github_host = h;
    }
    o.credentials.github_token = var("SLIPWAY_GITHUB_TOKEN").map(Secret::new);
    for (k, v) in std::env::vars() {
        if let Some(host) = k.strip_prefix("SLIPWAY_SOURCE_TOKEN_") {
            if host.is_empty() || v.is_empty() {
                continue;
            }
            // Terraform's TF_TOKEN_<host> spelling: `.` as `_`, `-` as `__`.
            let host = host
                .replace("__", "\u{0}")
                .replace('_', ".")
                .replace('\u{0}', "-")
                .to_ascii_lowercase();
            o.credentials.per_host.insert(
                host,
                source::HostCredential {
                    username: "x-access-token".into(),
                    token: Secret::new(v),
                },
            );
        }
    }
    Ok(o)
}

/// What a run needs to know about the repository: who, which pull request, which commit, and
/// every evaluated unit of that commit (dependencies are looked up here).
#[derive(Debug, Clone)]
pub struct Workspace {
    /// `owner/name`.
    pub repo: String,
    pub pr: Option<u64>,
    /// The head commit planned (hex).
    pub commit: String,
    pub snapshot: Arc<Snapshot>,
    pub config: RepoConfig,
    pub units: BTreeMap<String, Arc<Unit>>,
    /// The run is for a fork's pull request: no credentials for module sources, and
    /// `run_cmd` never runs.
    pub fork: bool,
    /// Module sources resolved in this run: a branch is resolved once, for every unit.
    pub sources: Arc<source::RunSources>,
}

impl Workspace {
    /// The workspace of a repository view (every unit of one revision). A view of files on
    /// disk, not of a commit, gets the all-zero commit id.
    pub fn from_view(repo: &str, pr: Option<u64>, view: &crate::repo::GraphView) -> Workspace {
        Workspace {
            repo: repo.to_string(),
            pr,
            commit: view
                .snapshot
                .commit()
                .map(|c| c.to_string())
                .unwrap_or_else(|| "0".repeat(40)),
            snapshot: view.snapshot.clone(),
            config: view.config.clone(),
            units: view
                .inventory
                .units
                .iter()
                .map(|(k, u)| (k.clone(), u.to_arc()))
                .collect(),
            fork: false,
            sources: Arc::default(),
        }
    }

    /// The artifact key of `unit` in this workspace.
    pub fn key(&self, unit: &str) -> ArtifactKey {
        ArtifactKey {
            repo: self.repo.clone(),
            pr: self.pr,
            commit: self.commit.clone(),
            unit: unit.to_string(),
        }
    }
}

/// A unit, shared: inventories hold units by value or behind an `Arc`.
trait ToArc {
    fn to_arc(&self) -> Arc<Unit>;
}

impl ToArc for Unit {
    fn to_arc(&self) -> Arc<Unit> {
        Arc::new(self.clone())
    }
}

impl ToArc for Arc<Unit> {
    fn to_arc(&self) -> Arc<Unit> {
        self.clone()
    }
}

/// Something that happened in a run, for the status page and progress output. Lines are
/// already redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEvent {
    Queued {
        unit: String,
        action: Action,
    },
    Started {
        unit: String,
        action: Action,
    },
    Line {
        unit: String,
        step: String,
        line: String,
    },
    Finished {
        unit: String,
        action: Action,
        ok: bool,
        summary: String,
    },
}

/// A unit that could not be planned or applied: what, where and why. Never carries secrets.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RunError {
    #[error("{unit}: cannot prepare the working directory: {message}")]
    Prepare { unit: String, message: String },
    #[error("{0}")]
    Assume(#[from] AssumeError),
    #[error("{unit}: cannot read the outputs of dependency \"{dependency}\": {message}")]
    Dependency {
        unit: String,
        dependency: String,
        message: String,
    },
    #[error("{unit}: cannot start {program}: {message}")]
    Spawn {
        unit: String,
        program: String,
        message: String,
    },
    #[error("{unit}: {program} {step} failed (exit {code}):\n{output}")]
    Terraform {
        unit: String,
        program: String,
        step: String,
        code: i32,
        output: String,
    },
    #[error("{unit}: the saved plan is stale (the state changed since it was made); nothing was applied:\n{output}")]
    StalePlan { unit: String, output: String },
    #[error("{unit}: {step} did not finish within {}s and was stopped", .after.as_secs())]
    TimedOut {
        unit: String,
        step: String,
        after: Duration,
    },
    #[error("{unit}: cancelled during {step}")]
    Cancelled { unit: String, step: String },
    #[error("{unit}: {message}")]
    Artifact { unit: String, message: String },
    #[error("{unit}: not run because dependency {dependency} did not succeed")]
    DependencyFailed { unit: String, dependency: String },
    #[error("{unit}: no such unit in this revision")]
    UnknownUnit { unit: String },
    #[error("{unit}: {error}")]
    Source {
        unit: String,
        error: source::SourceError,
    },
}

/// A plan, stored.
#[derive(Debug, Clone)]
pub struct PlanOutcome {
    pub unit: String,
    /// The plan as `terraform show -json` prints it (read from the plan file by Slipway, or by
    /// terraform).
    pub plan_json: Vec<u8>,
    /// The redacted log.
    pub log: String,
    /// Where and under which checksum the plan is stored.
    pub manifest: Manifest,
    /// The assumed role (`arn:aws:sts::<account>:assumed-role/...`), when one was assumed.
    pub identity: Option<String>,
    /// What the reviewer should know (mock outputs used, no role configured...).
    pub notes: Vec<String>,
    /// The remote module source the unit was planned with, and what it resolved to.
    pub sources: Vec<source::ResolvedSource>,
    pub duration: Duration,
}

/// Which plan an apply ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanSource {
    /// The stored plan, with the checksum that was verified.
    Stored { sha256: String },
    /// A fresh plan, because the stored one could not be taken.
    Replanned { reason: Refusal, sha256: String },
}

/// An apply that finished.
#[derive(Debug, Clone)]
pub struct ApplyOutcome {
    pub unit: String,
    pub source: PlanSource,
    pub log: String,
    pub identity: Option<String>,
    pub duration: Duration,
}

/// What an executor produced for a plan.
#[derive(Debug, Clone, Default)]
pub struct PlanProduct {
    pub plan_file: PathBuf,
    pub plan_json: Vec<u8>,
}

/// An engine that runs one unit: native (terraform) or terragrunt.
#[async_trait::async_trait]
pub trait Executor: Send + Sync {
    fn kind(&self) -> EngineKind;
    /// Makes a plan of `job.unit`, leaving the plan file in place.
    async fn plan(&self, job: &Job) -> Result<PlanProduct, RunError>;
    /// Applies `plan_file` (a stored plan copied out, or a fresh one).
    async fn apply(&self, job: &Job, plan_file: &[u8]) -> Result<(), RunError>;
}

/// How a job's credentials are obtained.
#[derive(Clone)]
enum Credentials {
    /// No role: the child gets no AWS credentials.
    None,
    Role {
        assumer: Arc<Assumer>,
        role: RoleRef,
        session: String,
    },
}

/// One run of one unit: what an executor needs.
pub struct Job {
    pub ws: Arc<Workspace>,
    pub unit: Unit,
    pub action: Action,
    pub settings: Arc<EngineSettings>,
    io: RunIo,
    creds: Credentials,
    assumer: Arc<Assumer>,
    redactor: Mutex<Redactor>,
    notes: Mutex<Vec<String>>,
    identity: Mutex<Option<String>>,
    log: Mutex<String>,
    source_cache: Arc<source::SourceCache>,
    resolved: Mutex<Vec<source::ResolvedSource>>,
}

impl Job {
    /// Adds a note for the reviewer and the log.
    pub fn note(&self, note: impl Into<String>) {
        let note = note.into();
        self.io.line("slipway", &format!("slipway: {note}"));
        self.log_text(&format!("slipway: {note}\n"));
        lock(&self.notes).push(note);
    }

    /// A line for the live log and the stored log only (not a note for the reviewer), with
    /// this run's secrets masked.
    pub fn log_line(&self, line: &str) {
        let line = lock(&self.redactor).redact(&format!("slipway: {line}"));
        self.io.line("slipway", &line);
        self.log_text(&format!("{line}\n"));
    }

    fn log_text(&self, text: &str) {
        lock(&self.log).push_str(text);
    }

    /// Masks these values in every later line of this run.
    pub fn redact_values(&self, values: impl IntoIterator<Item = String>) {
        lock(&self.redactor).add(values);
    }

    /// Time left before the run's deadline.
    pub fn remaining(&self) -> Duration {
        self.io
            .deadline
            .saturating_duration_since(tokio::time::Instant::now())
    }

    /// Credentials for a step about to start: valid for the rest of the run when the role
    /// allows it, refreshed when the cached ones would expire before.
    pub async fn aws_env(&self) -> Result<Vec<(String, Secret)>, RunError> {
        Ok(match self.role_credentials().await? {
            None => Vec::new(),
            Some((_, c)) => {
                *lock(&self.identity) = Some(c.assumed_role_arn.clone());
                c.env()
            }
        })
    }

    /// This run's role credentials (their secrets added to the redactor), `None` without a
    /// role.
    async fn role_credentials(
        &self,
    ) -> Result<Option<(&Arc<Assumer>, aws::RoleCredentials)>, RunError> {
        let Credentials::Role {
            assumer,
            role,
            session,
        } = &self.creds
        else {
            return Ok(None);
        };
        let c = assumer
            .credentials(
                role,
                session,
                self.action,
                self.remaining(),
                &self.unit.path,
            )
            .await?;
        self.redact_values(c.secrets());
        Ok(Some((assumer, c)))
    }

    /// The environment every child of this job gets.
    pub async fn child_env(&self) -> Result<Vec<(String, Secret)>, RunError> {
        let mut env: Vec<(String, Secret)> = vec![
            ("TF_IN_AUTOMATION".into(), Secret::new("1")),
            ("TF_INPUT".into(), Secret::new("0")),
            // No update check from automation: it phones home and costs every command time.
            ("CHECKPOINT_DISABLE".into(), Secret::new("1")),
            (
                "TF_PLUGIN_CACHE_DIR".into(),
                Secret::new(process::path_arg(&self.settings.plugin_cache_dir())),
            ),
        ];
        if let Some(region) = &self.unit.region {
            env.push(("AWS_REGION".into(), Secret::new(region.clone())));
            env.push(("AWS_DEFAULT_REGION".into(), Secret::new(region.clone())));
        }
        for (k, v) in &self.settings.env {
            env.push((k.clone(), Secret::new(v.clone())));
        }
        env.extend(self.aws_env().await?);
        Ok(env)
    }

    /// Runs one command, with its output streamed and logged, mapping failures to errors.
    pub async fn run(&self, spec: &CommandSpec) -> Result<Vec<u8>, RunError> {
        let mut io = self.io.clone();
        io.redactor = lock(&self.redactor).clone();
        let unit = self.unit.path.clone();
        let program = spec
            .program
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        match process::run(spec, &io).await {
            Ok(out) => {
                self.log_text(&out.log);
                Ok(out.stdout)
            }
            Err((stop, out)) => {
                self.log_text(&out.log);
                Err(match stop {
                    Stop::Failed { code } => {
                        let text = out.log.trim().to_string();
                        if text.contains("Saved plan is stale") {
                            RunError::StalePlan { unit, output: text }
                        } else {
                            RunError::Terraform {
                                unit,
                                program,
                                step: spec.step.clone(),
                                code,
                                output: text,
                            }
                        }
                    }
                    Stop::TimedOut => RunError::TimedOut {
                        unit,
                        step: spec.step.clone(),
                        after: self.settings.timeout,
                    },
                    Stop::Cancelled => RunError::Cancelled {
                        unit,
                        step: spec.step.clone(),
                    },
                    Stop::Spawn(message) => RunError::Spawn {
                        unit,
                        program: spec.program.display().to_string(),
                        message,
                    },
                })
            }
        }
    }

    /// Runs `init` with the plugin cache held, the cache verified against its manifest before
    /// (a provider rewritten since it was installed is never run) and recorded after.
    pub async fn run_init(&self, spec: &CommandSpec) -> Result<Vec<u8>, RunError> {
        let cache = self.settings.plugin_cache_dir();
        let _guard = plugin_cache::lock(&cache)
            .await
            .map_err(|e| RunError::Prepare {
                unit: self.unit.path.clone(),
                message: format!("cannot lock the plugin cache {}: {e}", cache.display()),
            })?;
        self.verify_cache(&cache).await?;
        let out = self.run(spec).await?;
        self.verify_cache(&cache).await?;
        Ok(out)
    }

    async fn verify_cache(&self, cache: &Path) -> Result<(), RunError> {
        let dir = cache.to_path_buf();
        tokio::task::spawn_blocking(move || plugin_cache::verify(&dir))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r)
            .map_err(|message| RunError::Prepare {
                unit: self.unit.path.clone(),
                message,
            })
    }

    /// The dependency outputs for this job's command, read from each dependency's state (or
    /// mocked where allowed), by dependency name; sensitive values are added to the redactor.
    pub async fn dependency_outputs(&self) -> Result<BTreeMap<String, hcl::Value>, RunError> {
        let mut result = BTreeMap::new();
        for block in outputs::DependencyBlock::of(&self.unit) {
            let fail = |message: String| RunError::Dependency {
                unit: self.unit.path.clone(),
                dependency: block.name.clone(),
                message,
            };
            let state = if block.skip_outputs {
                None
            } else {
                let dep = self.ws.units.get(&block.config_path).ok_or_else(|| {
                    fail(format!("{} is not an evaluated unit", block.config_path))
                })?;
                let loc = outputs::state_location(dep, &self.settings.work_root).map_err(fail)?;
                let bytes = self.read_state(dep, &loc).await.map_err(fail)?;
                match bytes {
                    Some(b) => {
                        let (o, sensitive) =
                            outputs::parse_state(&b).map_err(|m| fail(format!("{loc}: {m}")))?;
                        self.redact_values(sensitive);
                        Some(o)
                    }
                    None => None,
                }
            };
            let (value, note) = block.choose(self.action, state).map_err(fail)?;
            if let Some(n) = note {
                self.note(n);
            }
            result.insert(block.name.clone(), value);
        }
        Ok(result)
    }

    /// A dependency's state file, `None` when it has none yet. S3 state is read under the
    /// dependency's own plan role (its account), or Slipway's identity when it has no role.
    async fn read_state(
        &self,
        dep: &Unit,
        loc: &outputs::StateLocation,
    ) -> Result<Option<Vec<u8>>, String> {
        match loc {
            outputs::StateLocation::Local(p) => match tokio::fs::read(p).await {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(format!("{}: {e}", p.display())),
            },
            outputs::StateLocation::S3 {
                bucket,
                key,
                region,
                endpoint,
                force_path_style,
            } => {
                let creds = if self.settings.assume_roles {
                    match aws::role_for(&self.ws.config, &self.ws.snapshot, dep, Action::Plan) {
                        Some(role) => Some(
                            self.assumer
                                .credentials(
                                    &role,
                                    &aws::session_name(&self.ws.repo, self.ws.pr),
                                    Action::Plan,
                                    Duration::from_secs(300),
                                    &dep.path,
                                )
                                .await
                                .map_err(|e| e.to_string())?,
                        ),
                        None => None,
                    }
                } else {
                    None
                };
                let client = self.assumer.s3(
                    creds.as_ref(),
                    endpoint.as_deref(),
                    region.as_deref(),
                    *force_path_style,
                );
                use aws_sdk_s3::error::ProvideErrorMetadata;
                match client.get_object().bucket(bucket).key(key).send().await {
                    Ok(out) => {
                        let body = out
                            .body
                            .collect()
                            .await
                            .map_err(|e| format!("{loc}: {e}"))?;
                        Ok(Some(body.into_bytes().to_vec()))
                    }
                    Err(e) if e.code() == Some("NoSuchKey") => Ok(None),
                    Err(e) => Err(format!(
                        "{loc}: {}",
                        aws_sdk_s3::error::DisplayErrorContext(&e)
                    )),
                }
            }
        }
    }

    /// What this run gives the functions discovery leaves unknown: `get_env` from the
    /// environment's `env` table (and `env_allow`, or the user's environment on the command
    /// line), the AWS identity from STS with this run's credentials, `run_cmd` where the
    /// environment allows it and the pull request is not a fork's, `sops` when configured.
    pub async fn run_values(&self) -> Result<crate::terragrunt::runtime::RunValues, RunError> {
        let env_name = self.unit.env.as_deref().unwrap_or_default();
        let cfg = self.ws.config.environments.get(env_name);
        let no_table = BTreeMap::new();
        let env = crate::terragrunt::runtime::run_env(
            cfg.map_or(&no_table, |c| &c.env),
            cfg.map_or(&[][..], |c| c.env_allow.as_slice()),
            self.settings.user_env,
        );
        let aws =
            match self.role_credentials().await? {
                None => None,
                Some((assumer, c)) => {
                    Some(assumer.caller_identity(&c).await.map_err(|message| {
                        RunError::Prepare {
                            unit: self.unit.path.clone(),
                            message,
                        }
                    })?)
                }
            };
        let (run_cmd_dir, run_cmd_refusal) = match cfg {
            _ if self.ws.fork => (
                None,
                "run_cmd is never run for a pull request from a fork".to_string(),
            ),
            // The repository's root: a command runs in the directory of the configuration
            // that calls it.
            Some(c) if c.allow_run_cmd => {
                (Some(self.ws.snapshot.root().to_path_buf()), String::new())
            }
            _ => (
                None,
                format!(
                    "run_cmd is not allowed in environment {env_name:?} (set allow_run_cmd = true in [environments.{env_name}] of slipway.toml)"
                ),
            ),
        };
        Ok(crate::terragrunt::runtime::RunValues {
            env,
            aws,
            run_cmd_dir,
            run_cmd_refusal,
            sops: self.settings.sops.clone(),
        })
    }

    /// The unit evaluated again for this run: with its dependencies' real outputs and what
    /// [`Job::run_values`] gives. A unit that needs neither is taken as discovery left it; one
    /// whose inputs are still unknown fails here, with the reason.
    pub async fn evaluated_with(
        &self,
        outputs: &BTreeMap<String, hcl::Value>,
    ) -> Result<Unit, RunError> {
        let mut unit = self.unit.clone();
        let unknown = unit.eval.as_ref().is_some_and(|e| e.unknown.is_some());
        if unit.dependency_blocks.is_empty() && !unknown {
            return Ok(unit);
        }
        let run = Arc::new(self.run_values().await?);
        // A unit a stack generates may owe its unknowns to the stack's values: the stacks are
        // expanded again with what the run knows.
        let snapshot = match &unit.stack {
            Some(_) if unknown => crate::terragrunt::stack::expand_for_run(
                &Arc::new(self.ws.snapshot.without_generated()),
                &self.ws.config,
                run.clone(),
            )
            .snapshot
            .unwrap_or_else(|| self.ws.snapshot.clone()),
            _ => self.ws.snapshot.clone(),
        };
        let ev = crate::terragrunt::Evaluator::for_run(
            snapshot,
            Arc::new(crate::terragrunt::EvalCache::default()),
            run,
        );
        let fail = |message: String| RunError::Prepare {
            unit: unit.path.clone(),
            message,
        };
        let eval = ev
            .eval_unit(&unit.path, Some(outputs))
            .map_err(|e| fail(e.to_string()))?;
        if let Some(why) = &eval.unknown {
            return Err(fail(format!(
                "a value of the configuration is still unknown when planning: {why}"
            )));
        }
        unit.eval = Some(Arc::new(eval));
        Ok(unit)
    }

    /// Resolves and fetches the remote module source `source` (once per run and per identity:
    /// see [`source`]) and records what it resolved to.
    pub async fn fetch_module(&self, source: &str) -> Result<source::Fetched, RunError> {
        let timeout = self.settings.sources.timeout.min(self.remaining());
        let trust = source::Trust { fork: self.ws.fork };
        let fetched = self
            .source_cache
            .fetch(&self.ws.sources, source, trust, timeout)
            .await
            .map_err(|error| RunError::Source {
                unit: self.unit.path.clone(),
                error,
            })?;
        self.note(format!("module source {}", fetched.resolved));
        lock(&self.resolved).push(fetched.resolved.clone());
        Ok(fetched)
    }

    /// Where this unit's plan file goes.
    pub fn plan_path(&self) -> PathBuf {
        workdir::run_dir(&self.unit, &self.settings.work_root).join("tfplan")
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs units: bounded parallelism, one run per unit at a time, timeouts, cancellation.
#[derive(Clone)]
pub struct Runner {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Arc<EngineSettings>,
    executor: Box<dyn Executor>,
    assumer: Arc<Assumer>,
    store: Arc<dyn ArtifactStore>,
    slots: Arc<Semaphore>,
    events: Option<mpsc::UnboundedSender<RunEvent>>,
    cancel: watch::Sender<bool>,
    sources: Arc<source::SourceCache>,
}

impl Runner {
    /// A runner with the executor `settings.kind` names, storing plans in `store`, sending
    /// events to `events` when given.
    pub async fn new(
        settings: EngineSettings,
        store: Arc<dyn ArtifactStore>,
        events: Option<mpsc::UnboundedSender<RunEvent>>,
    ) -> Runner {
        let executor: Box<dyn Executor> = match settings.kind {
            EngineKind::Native => Box::new(native::Native),
            EngineKind::Terragrunt => Box::new(terragrunt::Terragrunt),
        };
        Runner::with_executor(settings, executor, store, events).await
    }

    /// A runner with a given executor.
    pub async fn with_executor(
        settings: EngineSettings,
        executor: Box<dyn Executor>,
        store: Arc<dyn ArtifactStore>,
        events: Option<mpsc::UnboundedSender<RunEvent>>,
    ) -> Runner {
        let assumer = Arc::new(Assumer::new(settings.aws.clone()).await);
        let (cancel, _) = watch::channel(false);
        let sources = Arc::new(source::SourceCache::new(
            settings.module_cache_dir(),
            settings.sources.clone(),
        ));
        Runner {
            inner: Arc::new(Inner {
                sources,
                slots: Arc::new(Semaphore::new(settings.parallelism.max(1))),
                settings: Arc::new(settings),
                executor,
                assumer,
                store,
                events,
                cancel,
            }),
        }
    }

    pub fn settings(&self) -> &EngineSettings {
        &self.inner.settings
    }

    pub fn store(&self) -> &Arc<dyn ArtifactStore> {
        &self.inner.store
    }

    /// The module source cache of this runner's runs.
    pub fn source_cache(&self) -> &source::SourceCache {
        &self.inner.sources
    }

    /// Stops every run in flight (SIGTERM, SIGKILL after the grace period) and every queued
    /// one; they end with [`RunError::Cancelled`].
    pub fn cancel(&self) {
        self.inner.cancel.send_replace(true);
    }

    fn emit(&self, e: RunEvent) {
        if let Some(tx) = &self.inner.events {
            let _ = tx.send(e);
        }
    }

    /// The lock of a unit's working directory: process-wide, so that two runners sharing a
    /// work root cannot run one unit at once either.
    fn unit_lock(&self, unit: &str) -> Arc<tokio::sync::Mutex<()>> {
        static LOCKS: std::sync::OnceLock<Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>> =
            std::sync::OnceLock::new();
        let key = self.inner.settings.work_root.join(unit);
        lock(LOCKS.get_or_init(Default::default))
            .entry(key)
            .or_default()
            .clone()
    }

    /// Waits for the unit to be free and for a slot, then builds the job.
    async fn job(
        &self,
        ws: &Arc<Workspace>,
        unit: &str,
        action: Action,
    ) -> Result<(Job, Guards), RunError> {
        let u = ws
            .units
            .get(unit)
            .cloned()
            .ok_or_else(|| RunError::UnknownUnit {
                unit: unit.to_string(),
            })?;
        self.emit(RunEvent::Queued {
            unit: unit.to_string(),
            action,
        });
        let cancelled = || RunError::Cancelled {
            unit: unit.to_string(),
            step: "queue".into(),
        };
        let mut cancel = self.inner.cancel.subscribe();
        let unit_guard = tokio::select! {
            g = self.unit_lock(unit).lock_owned() => g,
            _ = cancel.wait_for(|c| *c) => return Err(cancelled()),
        };
        let permit = tokio::select! {
            p = self.inner.slots.clone().acquire_owned() => p.map_err(|_| cancelled())?,
            _ = cancel.wait_for(|c| *c) => return Err(cancelled()),
        };
        let guards = Guards {
            _slot: permit,
            _unit: unit_guard,
        };
        self.emit(RunEvent::Started {
            unit: unit.to_string(),
            action,
        });
        let settings = self.inner.settings.clone();
        let creds = if settings.assume_roles {
            match aws::role_for(&ws.config, &ws.snapshot, &u, action) {
                Some(role) => Credentials::Role {
                    assumer: self.inner.assumer.clone(),
                    role,
                    session: aws::session_name(&ws.repo, ws.pr),
                },
                None => Credentials::None,
            }
        } else {
            Credentials::None
        };
        let job = Job {
            ws: ws.clone(),
            action,
            io: RunIo {
                unit: unit.to_string(),
                events: self.inner.events.clone(),
                redactor: Redactor::new(),
                deadline: tokio::time::Instant::now() + settings.timeout,
                cancel: self.inner.cancel.subscribe(),
                grace: settings.grace,
            },
            settings,
            creds,
            assumer: self.inner.assumer.clone(),
            redactor: Mutex::new(Redactor::new()),
            notes: Mutex::new(Vec::new()),
            identity: Mutex::new(None),
            log: Mutex::new(String::new()),
            source_cache: self.inner.sources.clone(),
            resolved: Mutex::new(Vec::new()),
            unit: (*u).clone(),
        };
        match &job.creds {
            Credentials::None if job.settings.assume_roles => job.note(format!(
                "no {action} role is configured for {} (environment {}): running without AWS credentials",
                unit,
                job.unit.env.as_deref().unwrap_or("none")
            )),
            Credentials::Role { role, .. } => job.note(format!("running as {}", role.arn)),
            Credentials::None => {}
        }
        Ok((job, guards))
    }

    fn finish<T>(&self, unit: &str, action: Action, r: &Result<T, RunError>) {
        self.emit(RunEvent::Finished {
            unit: unit.to_string(),
            action,
            ok: r.is_ok(),
            summary: match r {
                Ok(_) => format!("{action} finished"),
                Err(e) => e.to_string(),
            },
        });
    }

    /// Plans one unit and stores the plan.
    pub async fn plan(&self, ws: Arc<Workspace>, unit: &str) -> Result<PlanOutcome, RunError> {
        // The unit and the slot are released only after `Finished` is sent, so that events
        // never show more runs at once than there are.
        let mut held = None;
        let r = self.plan_inner(&ws, unit, &mut held).await;
        self.finish(unit, Action::Plan, &r);
        drop(held);
        r
    }

    async fn plan_inner(
        &self,
        ws: &Arc<Workspace>,
        unit: &str,
        held: &mut Option<Guards>,
    ) -> Result<PlanOutcome, RunError> {
        let started = Instant::now();
        let (job, guards) = self.job(ws, unit, Action::Plan).await?;
        *held = Some(guards);
        let product = self.inner.executor.plan(&job).await?;
        let plan_file =
            tokio::fs::read(&product.plan_file)
                .await
                .map_err(|e| RunError::Artifact {
                    unit: unit.to_string(),
                    message: format!("cannot read {}: {e}", product.plan_file.display()),
                })?;
        let log = lock(&job.log).clone();
        let artifacts = PlanArtifacts {
            plan_file,
            plan_json: product.plan_json.clone(),
            log: log.clone(),
        };
        let manifest = self
            .inner
            .store
            .put(
                &ws.key(unit),
                &artifacts,
                &self.inner.executor.kind().to_string(),
            )
            .await
            .map_err(|e| RunError::Artifact {
                unit: unit.to_string(),
                message: e.to_string(),
            })?;
        let notes = lock(&job.notes).clone();
        let identity = lock(&job.identity).clone();
        let sources = lock(&job.resolved).clone();
        Ok(PlanOutcome {
            unit: unit.to_string(),
            plan_json: product.plan_json,
            log,
            manifest,
            identity,
            notes,
            sources,
            duration: started.elapsed(),
        })
    }

    /// Plans units in parallel (at most `parallelism` at once); results in the order given.
    pub async fn plan_all(
        &self,
        ws: Arc<Workspace>,
        units: &[String],
    ) -> Vec<(String, Result<PlanOutcome, RunError>)> {
        let mut set = tokio::task::JoinSet::new();
        for (i, u) in units.iter().enumerate() {
            let (runner, ws, u) = (self.clone(), ws.clone(), u.clone());
            set.spawn(async move { (i, runner.plan(ws, &u).await) });
        }
        let mut slots: Vec<Option<Result<PlanOutcome, RunError>>> = vec![None; units.len()];
        while let Some(joined) = set.join_next().await {
            if let Ok((i, r)) = joined {
                slots[i] = Some(r);
            }
        }
        units
            .iter()
            .zip(slots)
            .map(|(u, r)| {
                let r = r.unwrap_or_else(|| {
                    Err(RunError::Artifact {
                        unit: u.clone(),
                        message: "internal error: the run stopped unexpectedly".into(),
                    })
                });
                (u.clone(), r)
            })
            .collect()
    }

    /// Applies one unit: the stored plan of this workspace's commit when it verifies (and
    /// matches `reviewed_sha256`, the checksum the reviewer was shown, when given); otherwise a
    /// fresh plan, with the reason. Terraform's own stale-plan check stays in force.
    pub async fn apply(
        &self,
        ws: Arc<Workspace>,
        unit: &str,
        reviewed_sha256: Option<&str>,
    ) -> Result<ApplyOutcome, RunError> {
        let mut held = None;
        let r = self
            .apply_inner(&ws, unit, reviewed_sha256, &mut held)
            .await;
        self.finish(unit, Action::Apply, &r);
        drop(held);
        r
    }

    async fn apply_inner(
        &self,
        ws: &Arc<Workspace>,
        unit: &str,
        reviewed_sha256: Option<&str>,
        held: &mut Option<Guards>,
    ) -> Result<ApplyOutcome, RunError> {
        let started = Instant::now();
        let key = ws.key(unit);
        // The stored plan is read with the unit held: two applies of one unit cannot both take
        // the same plan.
        let (job, guards) = self.job(ws, unit, Action::Apply).await?;
        *held = Some(guards);
        let stored = self
            .inner
            .store
            .get(&key)
            .await
            .map_err(|e| RunError::Artifact {
                unit: unit.to_string(),
                message: e.to_string(),
            })?;
        let verdict = match stored {
            None => Err(Refusal::Missing {
                unit: unit.to_string(),
                commit: ws.commit.clone(),
            }),
            Some(s) => s.verify(&key, reviewed_sha256).map(|()| s),
        };
        let (plan_bytes, source) = match verdict {
            Ok(s) => {
                job.note(format!(
                    "applying the stored plan {} (sha256 {})",
                    key.path().unwrap_or_default(),
                    s.manifest.plan_sha256
                ));
                let sha = s.manifest.plan_sha256.clone();
                (s.artifacts.plan_file, PlanSource::Stored { sha256: sha })
            }
            Err(reason) => {
                job.note(format!("re-planning before apply: {reason}"));
                // The fresh plan is made under the apply role, as the apply will run.
                let product = self.inner.executor.plan(&job).await?;
                let bytes =
                    tokio::fs::read(&product.plan_file)
                        .await
                        .map_err(|e| RunError::Artifact {
                            unit: unit.to_string(),
                            message: format!("cannot read {}: {e}", product.plan_file.display()),
                        })?;
                let artifacts = PlanArtifacts {
                    plan_file: bytes.clone(),
                    plan_json: product.plan_json,
                    log: lock(&job.log).clone(),
                };
                let manifest = self
                    .inner
                    .store
                    .put(&key, &artifacts, &self.inner.executor.kind().to_string())
                    .await
                    .map_err(|e| RunError::Artifact {
                        unit: unit.to_string(),
                        message: e.to_string(),
                    })?;
                (
                    bytes,
                    PlanSource::Replanned {
                        reason,
                        sha256: manifest.plan_sha256,
                    },
                )
            }
        };
        self.inner.executor.apply(&job, &plan_bytes).await?;
        let applied_sha = match &source {
            PlanSource::Stored { sha256 } | PlanSource::Replanned { sha256, .. } => sha256,
        };
        self.inner
            .store
            .mark_applied(&key, applied_sha)
            .await
            .map_err(|e| RunError::Artifact {
                unit: unit.to_string(),
                message: format!("applied, but cannot record it: {e}"),
            })?;
        let log = lock(&job.log).clone();
        let identity = lock(&job.identity).clone();
        Ok(ApplyOutcome {
            unit: unit.to_string(),
            source,
            log,
            identity,
            duration: started.elapsed(),
        })
    }

    /// Applies units in dependency order: a unit starts once every unit of `units` it depends
    /// on has applied; units whose dependency failed are not run. Independent units run in
    /// parallel. Results in the order given.
    pub async fn apply_all(
        &self,
        ws: Arc<Workspace>,
        units: &[String],
    ) -> Vec<(String, Result<ApplyOutcome, RunError>)> {
        let wanted: std::collections::BTreeSet<&String> = units.iter().collect();
        let mut done: HashMap<String, bool> = HashMap::new();
        let mut results: HashMap<String, Result<ApplyOutcome, RunError>> = HashMap::new();
        let mut pending: Vec<String> = units.to_vec();
        let mut set = tokio::task::JoinSet::new();
        let mut running = 0usize;
        loop {
            // Start every unit whose in-set dependencies are all done; skip those whose
            // dependency failed (which can make more skippable: repeat until nothing changes).
            let mut changed = true;
            while changed {
                changed = false;
                let mut still = Vec::new();
                for u in pending.drain(..) {
                    let deps: Vec<String> = ws
                        .units
                        .get(&u)
                        .map(|x| {
                            x.dependencies
                                .iter()
                                .filter(|d| wanted.contains(d) && **d != u)
                                .cloned()
                                .collect()
                        })
                        .unwrap_or_default();
                    if let Some(failed) = deps.iter().find(|d| done.get(*d) == Some(&false)) {
                        done.insert(u.clone(), false);
                        let e = Err(RunError::DependencyFailed {
                            unit: u.clone(),
                            dependency: failed.clone(),
                        });
                        self.finish(&u, Action::Apply, &e);
                        results.insert(u, e);
                        changed = true;
                    } else if deps.iter().all(|d| done.get(d) == Some(&true)) {
                        let (runner, ws, name) = (self.clone(), ws.clone(), u.clone());
                        set.spawn(async move {
                            let r = runner.apply(ws, &name, None).await;
                            (name, r)
                        });
                        running += 1;
                        changed = true;
                    } else {
                        still.push(u);
                    }
                }
                pending = still;
            }
            if running == 0 {
                // Nothing runs and nothing can start: a cycle (or nothing left).
                for u in pending.drain(..) {
                    results.insert(
                        u.clone(),
                        Err(RunError::DependencyFailed {
                            unit: u.clone(),
                            dependency: "(dependency cycle)".into(),
                        }),
                    );
                }
                break;
            }
            match set.join_next().await {
                Some(Ok((name, r))) => {
                    running -= 1;
                    done.insert(name.clone(), r.is_ok());
                    results.insert(name, r);
                }
                Some(Err(_)) => running -= 1,
                None => break,
            }
        }
        units
            .iter()
            .map(|u| {
                let r = results.remove(u).unwrap_or_else(|| {
                    Err(RunError::Artifact {
                        unit: u.clone(),
                        message: "internal error: the run stopped unexpectedly".into(),
                    })
                });
                (u.clone(), r)
            })
            .collect()
    }
}

/// Released when a run ends: its slot and its unit.
struct Guards {
    _slot: tokio::sync::OwnedSemaphorePermit,
    _unit: tokio::sync::OwnedMutexGuard<()>,
}

/// Runs a future to completion on a multi-threaded runtime, for synchronous callers (the
/// command line). Fails when the runtime cannot start.
pub fn block_on<F: std::future::Future>(f: F) -> anyhow::Result<F::Output> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    Ok(rt.block_on(f))
}

/// Spawns a task on the current runtime (inside [`block_on`]).
pub fn spawn<F>(f: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(f)
}

/// A channel for [`RunEvent`]s: give the sender to [`Runner::new`].
pub fn event_channel() -> (
    mpsc::UnboundedSender<RunEvent>,
    mpsc::UnboundedReceiver<RunEvent>,
) {
    mpsc::unbounded_channel()
}
