//! Remote module sources for the native engine: a unit's `terraform.source` read as Terragrunt
//! reads it ([`address`]), resolved to what it is now (a git commit, a registry version, an
//! archive's SHA-256), fetched once into a cache keyed by that identity, checked like a local
//! tree ([`tree`]), and copied from the read-only cache into each unit's working directory.
//!
//! - Resolution happens once per run: every unit of one [`RunSources`] (one workspace) that
//!   names the same source sees the same commit, even when the source names a branch.
//! - A fetch happens once per identity, whatever the number of units or runs: concurrent units
//!   wait for the one fetch (a process-wide lock per entry, and a lock file for other
//!   processes sharing the cache).
//! - Credentials are the service's ([`SourceCredentials`]): the GitHub installation token for
//!   the GitHub host, per-host tokens for others, never anything from the repository; a fork's
//!   run gets none. Every message is redacted.
//! - Nothing here runs during discovery: `affected` sees the `source` string only.

pub mod address;
pub mod archive;
pub mod git;
pub mod http;
pub mod registry;
pub mod tree;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::aws::Secret;
use crate::engine::redact::Redactor;
use address::{Address, ArchiveAddress, Form, GitAddress, RegistryAddress, Transport};
pub use tree::Limits;

/// How remote sources are fetched (part of the engine settings).
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// The cache of fetched sources (default: `<work_root>/.module-cache`, next to the
    /// plugin cache).
    pub cache_dir: Option<PathBuf>,
    /// The git binary.
    pub git: PathBuf,
    pub credentials: SourceCredentials,
    /// Longest time one source may take to resolve and fetch.
    pub timeout: Duration,
    pub limits: Limits,
    /// Allow `git::file://` sources (local mirrors, tests). Off by default: a pull request
    /// must not read repositories on the service's own disk.
    pub allow_file: bool,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            cache_dir: None,
            git: PathBuf::from("git"),
            credentials: SourceCredentials::default(),
            timeout: Duration::from_secs(300),
            limits: Limits::default(),
            allow_file: false,
        }
    }
}

/// The service's credentials for module hosts. Never read from the repository.
#[derive(Debug, Clone)]
pub struct SourceCredentials {
    /// The GitHub host whose repositories get `github_token` (default `github.com`).
    pub github_host: String,
    /// The GitHub App installation token of the run's repository, for private module
    /// repositories of the same organisation (git over HTTPS, archives).
    pub github_token: Option<Secret>,
    /// Tokens for other hosts (`host` or `host:port`): basic auth for git and archives,
    /// a bearer token for registries.
    pub per_host: BTreeMap<String, HostCredential>,
}

impl Default for SourceCredentials {
    fn default() -> Self {
        SourceCredentials {
            github_host: "github.com".into(),
            github_token: None,
            per_host: BTreeMap::new(),
        }
    }
}

/// A token for one host.
#[derive(Debug, Clone)]
pub struct HostCredential {
    /// The basic-auth user name for git and archives (`x-access-token` when not given).
    pub username: String,
    pub token: Secret,
}

/// What the credentials are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    GitOrArchive,
    Registry,
}

impl SourceCredentials {
    /// The `Authorization` value for `host`, when it has credentials and the connection is
    /// HTTPS (or plain HTTP to a loopback address, for local stand-ins).
    fn authorization(&self, host: &str, https: bool, purpose: Purpose) -> Option<Secret> {
        if !https && !is_loopback(host) {
            return None;
        }
        let basic = |user: &str, token: &Secret| {
            let raw = format!("{user}:{}", token.expose());
            Secret::new(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            ))
        };
        let (user, token) = if host.eq_ignore_ascii_case(&self.github_host) {
            ("x-access-token", self.github_token.as_ref()?)
        } else {
            let c = self
                .per_host
                .iter()
                .find(|(h, _)| h.eq_ignore_ascii_case(host))
                .map(|(_, c)| c)?;
            (c.username.as_str(), &c.token)
        };
        Some(match purpose {
            Purpose::GitOrArchive => basic(user, token),
            Purpose::Registry => Secret::new(format!("Bearer {}", token.expose())),
        })
    }

    /// Every secret value, and the forms it is sent in, for redaction.
    fn secrets(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut add = |user: &str, t: &Secret| {
            out.push(t.expose().to_string());
            let raw = format!("{user}:{}", t.expose());
            out.push(base64::engine::general_purpose::STANDARD.encode(raw));
        };
        if let Some(t) = &self.github_token {
            add("x-access-token", t);
        }
        for c in self.per_host.values() {
            add(&c.username, &c.token);
        }
        out
    }
}

fn is_loopback(host: &str) -> bool {
    registry::base_scheme(host) == "http"
}

/// Who a run is for: a fork's pull request gets no credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Trust {
    pub fork: bool,
}

/// What a remote source resolved to, as the review shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ResolvedSource {
    /// The source as written (secrets masked).
    pub source: String,
    /// Its form (`git over HTTPS`, `Terraform registry module`, ...).
    pub form: String,
    /// The git commit, when the module came from git (directly or through a registry).
    pub commit: Option<String>,
    /// The registry version chosen.
    pub version: Option<String>,
    /// The archive's SHA-256, when it came from an archive.
    pub sha256: Option<String>,
}

impl std::fmt::Display for ResolvedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(v) = &self.version {
            parts.push(format!("version {v}"));
        }
        if let Some(c) = &self.commit {
            parts.push(format!("commit {c}"));
        }
        if let Some(s) = &self.sha256 {
            parts.push(format!("sha256 {s}"));
        }
        write!(f, "{} at {}", self.source, parts.join(", "))
    }
}

/// A source ready to copy.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The fetched tree in the cache (read-only).
    pub root: PathBuf,
    /// The module's directory inside it.
    pub subdir: String,
    pub resolved: ResolvedSource,
}

/// A source that could not be fetched, named as the user wrote it (secrets masked).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot fetch module source {address} ({form}): {message}")]
pub struct SourceError {
    pub address: String,
    pub form: String,
    pub message: String,
}

/// What a source resolved to within one run.
#[derive(Debug, Clone)]
enum Resolved {
    Git {
        commit: String,
        refname: Option<String>,
    },
    Archive {
        sha256: String,
    },
    Registry {
        version: semver::Version,
        base: Option<url::Url>,
    },
}

type Cell = Arc<OnceCell<Result<Resolved, String>>>;

/// The resolutions of one run (one workspace): a source is resolved once, and every unit of
/// the run sees what it resolved to.
#[derive(Default)]
pub struct RunSources {
    memo: Mutex<HashMap<String, Cell>>,
}

impl std::fmt::Debug for RunSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.memo.lock().map(|m| m.len()).unwrap_or_default();
        write!(f, "RunSources({n} resolved)")
    }
}

impl RunSources {
    fn cell(&self, key: &str) -> Cell {
        self.memo
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.to_string())
            .or_default()
            .clone()
    }
}

/// What the registry pointer file of a version records: where the version came from, and
/// what that resolved to.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Pointer {
    location: String,
    commit: Option<String>,
    sha256: Option<String>,
}

/// The cache of fetched sources, shared by every run of a runner (and by other processes on
/// the same directory).
pub struct SourceCache {
    dir: PathBuf,
    opts: SourceOptions,
    redactor: Redactor,
    http: OnceCell<Result<Arc<http::Http>, String>>,
    fetches: AtomicUsize,
    resolutions: AtomicUsize,
}

impl std::fmt::Debug for SourceCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceCache")
            .field("dir", &self.dir)
            .field("fetches", &self.fetches())
            .finish()
    }
}

/// A hex digest prefix, for cache entry names.
fn short_hash(text: &str) -> String {
    let d = Sha256::digest(text.as_bytes());
    d.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl SourceCache {
    pub fn new(dir: PathBuf, opts: SourceOptions) -> SourceCache {
        let mut redactor = Redactor::new();
        redactor.add(opts.credentials.secrets());
        SourceCache {
            dir,
            opts,
            redactor,
            http: OnceCell::new(),
            fetches: AtomicUsize::new(0),
            resolutions: AtomicUsize::new(0),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Clones and archive downloads made by this cache (not counting what another process
    /// sharing the directory made).
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// Remote lookups made to resolve sources (`git ls-remote`, registry version lists).
    pub fn resolutions(&self) -> usize {
        self.resolutions.load(Ordering::SeqCst)
    }

    /// Resolves `source` (once per `run`), fetches it when the cache does not hold it yet, and
    /// says where its module is. Within `timeout`.
    pub async fn fetch(
        &self,
        run: &RunSources,
        source: &str,
        trust: Trust,
        timeout: Duration,
    ) -> Result<Fetched, SourceError> {
        let shown = address::redacted(source);
        let addr = address::parse(source).map_err(|e| SourceError {
            address: shown.clone(),
            form: e.form,
            message: e.message,
        })?;
        let form = addr.form.name().to_string();
        let fail = |message: String| SourceError {
            address: shown.clone(),
            form: form.clone(),
            message: self.redactor.redact(&message),
        };
        let deadline = tokio::time::Instant::now() + timeout;
        match tokio::time::timeout_at(deadline, self.fetch_addr(run, &addr, trust, deadline)).await
        {
            Err(_) => Err(fail(format!(
                "did not finish within {}s (the fetch timeout)",
                timeout.as_secs()
            ))),
            Ok(Err(m)) => Err(fail(m)),
            Ok(Ok((root, subdir, mut resolved))) => {
                resolved.source = shown.clone();
                resolved.form = form.clone();
                Ok(Fetched {
                    root,
                    subdir,
                    resolved,
                })
            }
        }
    }

    async fn fetch_addr(
        &self,
        run: &RunSources,
        addr: &Address,
        trust: Trust,
        deadline: tokio::time::Instant,
    ) -> Result<(PathBuf, String, ResolvedSource), String> {
        let cell = run.cell(&addr.form.key());
        let resolved = cell
            .get_or_init(|| self.resolve(&addr.form, trust, deadline))
            .await
            .clone()?;
        let (root, extra, identity) = self.ensure(&addr.form, &resolved, trust, deadline).await?;
        let pattern = address_join(&extra, &addr.subdir);
        let subdir = resolve_subdir(&root, &pattern)?;
        Ok((root, subdir, identity))
    }

    async fn http(&self) -> Result<Arc<http::Http>, String> {
        self.http
            .get_or_init(|| async { http::Http::new().map(Arc::new) })
            .await
            .clone()
    }

    fn git_run(
        &self,
        g: &GitAddress,
        trust: Trust,
        deadline: tokio::time::Instant,
    ) -> Result<git::GitRun<'_>, String> {
        if g.transport == Transport::File && !self.opts.allow_file {
            return Err(
                "git::file:// sources are off (set SLIPWAY_ALLOW_FILE_SOURCES=1 for local mirrors)"
                    .into(),
            );
        }
        if g.transport == Transport::Ssh && trust.fork {
            return Err(
                "SSH sources use the service's keys, which a fork's pull request never gets; use git::https:// for a public repository"
                    .into(),
            );
        }
        let auth = match (&g.host, trust.fork) {
            (Some(host), false) => self.opts.credentials.authorization(
                host,
                g.transport == Transport::Https,
                Purpose::GitOrArchive,
            ),
            _ => None,
        };
        Ok(git::GitRun {
            git: &self.opts.git,
            auth,
            allow_file: self.opts.allow_file,
            redactor: &self.redactor,
            deadline,
        })
    }

    async fn resolve_git(
        &self,
        g: &GitAddress,
        trust: Trust,
        deadline: tokio::time::Instant,
    ) -> Result<Resolved, String> {
        let run = self.git_run(g, trust, deadline)?;
        self.resolutions.fetch_add(1, Ordering::SeqCst);
        // Even a full commit id is looked up: it proves this run may read the repository
        // before the cache hands out a copy made for another run.
        let had_auth = run.auth.is_some();
        let refs = run.ls_remote(g).await.map_err(|e| {
            let denied = [
                "could not read Username",
                "Authentication failed",
                "terminal prompts disabled",
            ]
            .iter()
            .any(|m| e.contains(m));
            let host = g.host.as_deref().unwrap_or("the host");
            match (denied, trust.fork, had_auth) {
                (false, _, _) => e,
                (true, true, _) => format!(
                    "{host} asks for credentials, and a fork's pull request gets none ({e})"
                ),
                (true, false, true) => {
                    format!("{host} refused the configured credentials ({e})")
                }
                (true, false, false) => {
                    format!("{host} asks for credentials, and none are configured for it ({e})")
                }
            }
        })?;
        let (commit, refname) = git::pick(&refs, g.reference.as_deref())?;
        Ok(Resolved::Git { commit, refname })
    }

    async fn resolve(
        &self,
        form: &Form,
        trust: Trust,
        deadline: tokio::time::Instant,
    ) -> Result<Resolved, String> {
        match form {
            Form::Git(g) => self.resolve_git(g, trust, deadline).await,
            Form::Archive(a) => match &a.checksum {
                // A run without credentials downloads even a known digest: the cache must not
                // hand it what it could not read itself.
                Some(sum) if !trust.fork => Ok(Resolved::Archive {
                    sha256: sum.clone(),
                }),
                expected => {
                    let sha256 = self.download_archive(a, expected.as_deref(), trust).await?;
                    Ok(Resolved::Archive { sha256 })
                }
            },
            Form::Registry(r) => {
                let constraint = registry::Constraint::parse(&r.version)?;
                match constraint.exact() {
                    // A registry version never changes: an exact one needs no lookup, unless
                    // this run has no credentials and must prove it may read the module.
                    Some(v) if !trust.fork => Ok(Resolved::Registry {
                        version: v.clone(),
                        base: None,
                    }),
                    _ => {
                        let http = self.http().await?;
                        let auth = self.registry_auth(r, trust);
                        let auth = auth.as_ref().map(|s| (r.host.as_str(), s));
                        self.resolutions.fetch_add(1, Ordering::SeqCst);
                        let base = registry::discover(&http, &r.host, auth).await?;
                        let version =
                            registry::pick_version(&http, &base, r, &constraint, auth).await?;
                        Ok(Resolved::Registry {
                            version,
                            base: Some(base),
                        })
                    }
                }
            }
        }
    }

    fn registry_auth(&self, r: &RegistryAddress, trust: Trust) -> Option<Secret> {
        if trust.fork {
            return None;
        }
        self.opts.credentials.authorization(
            &r.host,
            registry::base_scheme(&r.host) == "https",
            Purpose::Registry,
        )
    }

    /// The cached tree for a resolved source, fetched when missing; with the subdirectory the
    /// source's own location adds (a registry's `X-Terraform-Get//sub`) and the identity.
    async fn ensure(
        &self,
        form: &Form,
        resolved: &Resolved,
        trust: Trust,
        deadline: tokio::time::Instant,
    ) -> Result<(PathBuf, String, ResolvedSource), String> {
        match (form, resolved) {
            (Form::Registry(r), Resolved::Registry { version, base }) => {
                let (root, sub, pointer) = self
                    .ensure_registry(r, version, base.as_ref(), trust, deadline)
                    .await?;
                Ok((
                    root,
                    sub,
                    ResolvedSource {
                        version: Some(version.to_string()),
                        commit: pointer.commit,
                        sha256: pointer.sha256,
                        ..blank()
                    },
                ))
            }
            _ => self.ensure_fetched(form, resolved, trust, deadline).await,
        }
    }

    /// [`Self::ensure`] for what is fetched itself (git, archives).
    async fn ensure_fetched(
        &self,
        form: &Form,
        resolved: &Resolved,
        trust: Trust,
        deadline: tokio::time::Instant,
    ) -> Result<(PathBuf, String, ResolvedSource), String> {
        let blank = blank();
        match (form, resolved) {
            (Form::Git(g), Resolved::Git { commit, refname }) => {
                let root = self
                    .ensure_git(g, commit, refname.as_deref(), trust, deadline)
                    .await?;
                Ok((
                    root,
                    String::new(),
                    ResolvedSource {
                        commit: Some(commit.clone()),
                        ..blank
                    },
                ))
            }
            (Form::Archive(a), Resolved::Archive { sha256 }) => {
                let root = self.ensure_archive(a, sha256, trust).await?;
                Ok((
                    root,
                    String::new(),
                    ResolvedSource {
                        sha256: Some(sha256.clone()),
                        ..blank
                    },
                ))
            }
            _ => Err("internal error: a source resolved to another form".into()),
        }
    }

    async fn ensure_git(
        &self,
        g: &GitAddress,
        commit: &str,
        refname: Option<&str>,
        trust: Trust,
        deadline: tokio::time::Instant,
    ) -> Result<PathBuf, String> {
        let key = format!("git/{}-{commit}", short_hash(&g.url));
        let run = self.git_run(g, trust, deadline)?;
        self.publish(&key, |tree| async move {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            run.fetch(g, commit, refname, &tree).await
        })
        .await
    }

    /// Downloads an archive, checks its digest against `expected` when given, and publishes
    /// its tree under that digest; returns the digest.
    async fn download_archive(
        &self,
        a: &ArchiveAddress,
        expected: Option<&str>,
        trust: Trust,
    ) -> Result<String, String> {
        let http = self.http().await?;
        let url = url::Url::parse(&a.url).map_err(|e| e.to_string())?;
        let auth = if trust.fork {
            None
        } else {
            self.opts
                .credentials
                .authorization(&a.host, a.https, Purpose::GitOrArchive)
        };
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let reply = http
            .get(
                &url,
                auth.as_ref().map(|s| (a.host.as_str(), s)),
                self.opts.limits.max_bytes,
            )
            .await?;
        match reply.status {
            200..=299 => {}
            401 | 403 | 404 if auth.is_none() => {
                return Err(format!(
                    "GET {}: HTTP {} (no credentials were sent for {})",
                    reply.url, reply.status, a.host
                ))
            }
            s => return Err(format!("GET {}: HTTP {s}", reply.url)),
        }
        let sha256 = hex(&Sha256::digest(&reply.body));
        if let Some(e) = expected {
            if e != sha256 {
                return Err(format!(
                    "the archive's sha256 is {sha256}, not the {e} the source's checksum names"
                ));
            }
        }
        let kind = a
            .kind
            .or_else(|| archive::sniff(&reply.body))
            .ok_or_else(|| format!("{}: not a zip, tar or tar.gz archive", reply.url))?;
        let limits = self.opts.limits;
        let body = Arc::new(reply.body);
        self.publish(&format!("archive/{sha256}"), |tree| async move {
            tokio::task::spawn_blocking(move || {
                std::fs::create_dir_all(&tree).map_err(|e| e.to_string())?;
                archive::unpack(&body, kind, &tree, &limits)
            })
            .await
            .map_err(|e| e.to_string())?
        })
        .await?;
        Ok(sha256)
    }

    async fn ensure_archive(
        &self,
        a: &ArchiveAddress,
        sha256: &str,
        trust: Trust,
    ) -> Result<PathBuf, String> {
        let path = self.dir.join("archive").join(sha256);
        if !path.is_dir() {
            self.download_archive(a, Some(sha256), trust).await?;
        }
        Ok(path)
    }

    async fn ensure_registry(
        &self,
        r: &RegistryAddress,
        version: &semver::Version,
        base: Option<&url::Url>,
        trust: Trust,
        deadline: tokio::time::Instant,
    ) -> Result<(PathBuf, String, Pointer), String> {
        let key = format!(
            "registry/{}-{version}.json",
            short_hash(&format!("{}/{}", r.host, r.module()))
        );
        let file = self.dir.join(&key);
        let _guard = self.lock(&key).await?;
        let pointer = match std::fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice::<Pointer>(&b).ok())
        {
            Some(p) => p,
            None => {
                let http = self.http().await?;
                let auth = self.registry_auth(r, trust);
                let auth = auth.as_ref().map(|s| (r.host.as_str(), s));
                let base = match base {
                    Some(b) => b.clone(),
                    None => registry::discover(&http, &r.host, auth).await?,
                };
                let location = registry::download_location(&http, &base, r, version, auth).await?;
                let addr = self.location(&location)?;
                let resolved = match &addr.form {
                    Form::Git(g) => self.resolve_git(g, trust, deadline).await?,
                    Form::Archive(a) => Resolved::Archive {
                        sha256: match &a.checksum {
                            Some(s) => s.clone(),
                            None => self.download_archive(a, None, trust).await?,
                        },
                    },
                    Form::Registry(_) => {
                        return Err(
                            "the registry's download location is another registry module".into(),
                        )
                    }
                };
                let pointer = Pointer {
                    location: location.clone(),
                    commit: match &resolved {
                        Resolved::Git { commit, .. } => Some(commit.clone()),
                        _ => None,
                    },
                    sha256: match &resolved {
                        Resolved::Archive { sha256 } => Some(sha256.clone()),
                        _ => None,
                    },
                };
                // Fetched before the pointer is written: a pointer always names a tree that
                // was good once.
                self.ensure_fetched(&addr.form, &resolved, trust, deadline)
                    .await?;
                write_atomically(
                    &file,
                    &serde_json::to_vec(&pointer).map_err(|e| e.to_string())?,
                )?;
                pointer
            }
        };
        let addr = self.location(&pointer.location)?;
        let resolved = match (&addr.form, &pointer.commit, &pointer.sha256) {
            (Form::Git(_), Some(c), _) => Resolved::Git {
                commit: c.clone(),
                refname: None,
            },
            (Form::Archive(_), _, Some(s)) => Resolved::Archive { sha256: s.clone() },
            _ => return Err(format!("the cache entry {key} is damaged: remove it")),
        };
        let (root, _, _) = self
            .ensure_fetched(&addr.form, &resolved, trust, deadline)
            .await?;
        Ok((root, addr.subdir, pointer))
    }

    /// A registry's download location, read as a source (it must not be another registry).
    fn location(&self, location: &str) -> Result<Address, String> {
        let addr = address::parse(location).map_err(|e| {
            format!(
                "the registry's download location {} ({}): {}",
                address::redacted(location),
                e.form,
                e.message
            )
        })?;
        if matches!(addr.form, Form::Registry(_)) {
            return Err(format!(
                "the registry's download location {} is another registry module",
                address::redacted(location)
            ));
        }
        Ok(addr)
    }

    /// Makes the cache entry `key` with `fill` (which writes the tree into the directory it is
    /// given) unless it is there; checked and read-only once published.
    async fn publish<F, Fut>(&self, key: &str, fill: F) -> Result<PathBuf, String>
    where
        F: FnOnce(PathBuf) -> Fut,
        Fut: std::future::Future<Output = Result<(), String>>,
    {
        let target = self.dir.join(key);
        if target.is_dir() {
            return Ok(target);
        }
        let _guard = self.lock(key).await?;
        if target.is_dir() {
            return Ok(target);
        }
        let tmp_root = self.dir.join("tmp");
        std::fs::create_dir_all(&tmp_root)
            .map_err(|e| format!("cannot create {}: {e}", tmp_root.display()))?;
        let tmp = tempfile::Builder::new()
            .prefix("fetch-")
            .tempdir_in(&tmp_root)
            .map_err(|e| format!("cannot create a directory in {}: {e}", tmp_root.display()))?;
        let tree = tmp.path().join("tree");
        fill(tree.clone()).await?;
        let limits = self.opts.limits;
        let checked = tree.clone();
        tokio::task::spawn_blocking(move || {
            tree::check(&checked, &limits)?;
            tree::make_read_only(&checked)
                .map_err(|e| format!("cannot make the tree read-only: {e}"))
        })
        .await
        .map_err(|e| e.to_string())??;
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::rename(&tree, &target).map_err(|e| {
            format!(
                "cannot move the fetched tree into {}: {e}",
                target.display()
            )
        })?;
        Ok(target)
    }

    /// Holds the cache entry `key` against other fetches of it, in this process and others.
    async fn lock(&self, key: &str) -> Result<EntryGuard, String> {
        static LOCKS: OnceLock<Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>> =
            OnceLock::new();
        let target = self.dir.join(key);
        let local = LOCKS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(target)
            .or_default()
            .clone();
        let local = local.lock_owned().await;
        let dir = self.dir.join("locks");
        let path = dir.join(format!("{}.lock", short_hash(key)));
        let file = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
            std::fs::create_dir_all(&dir)?;
            super::plugin_cache::lock_file(&path)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot lock the module cache {}: {e}", self.dir.display()))?;
        Ok(EntryGuard {
            _file: file,
            _local: local,
        })
    }
}

fn blank() -> ResolvedSource {
    ResolvedSource {
        source: String::new(),
        form: String::new(),
        commit: None,
        version: None,
        sha256: None,
    }
}

struct EntryGuard {
    _file: std::fs::File,
    _local: tokio::sync::OwnedMutexGuard<()>,
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(parent).map_err(|e| e.to_string())?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(|e| e.to_string())?;
    tmp.persist(path).map_err(|e| e.to_string())?;
    Ok(())
}

/// `a` and `b` joined as relative paths.
fn address_join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}/{b}"),
    }
}

/// The module directory `pattern` names inside `root` (a `*` in a component matches exactly one
/// directory, as go-getter allows for archives with a versioned top directory).
fn resolve_subdir(root: &Path, pattern: &str) -> Result<String, String> {
    let mut at = PathBuf::new();
    for comp in pattern.split('/').filter(|c| !c.is_empty()) {
        if comp.contains('*') {
            let dir = root.join(&at);
            let mut found: Vec<String> = std::fs::read_dir(&dir)
                .map_err(|e| format!("cannot read {}: {e}", at.display()))?
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter(|n| glob_match(comp, n))
                .collect();
            found.sort();
            match found.len() {
                1 => at.push(&found[0]),
                0 => {
                    return Err(format!(
                        "no directory matches //{pattern} in the module source"
                    ))
                }
                _ => {
                    return Err(format!(
                        "//{pattern} matches several directories ({}) in the module source",
                        found.join(", ")
                    ))
                }
            }
        } else {
            at.push(comp);
        }
    }
    let full = root.join(&at);
    if !full.is_dir() {
        return Err(format!("the module source has no directory //{pattern}"));
    }
    Ok(at.to_string_lossy().to_string())
}

/// `*` matches any run of characters.
fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for p in &parts[1..parts.len() - 1] {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

/// The subdirectory a source names, as far as it is known before fetching (a registry's
/// location may add to it, see [`Fetched::subdir`]).
pub fn written_subdir(source: &str) -> Option<String> {
    address::parse(source)
        .ok()
        .map(|a| a.subdir)
        .filter(|s| !s.contains('*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_one_component() {
        assert!(glob_match("*", "repo-1.0.0"));
        assert!(glob_match("repo-*", "repo-1.0.0"));
        assert!(glob_match("r*-*0", "repo-1.0.0"));
        assert!(!glob_match("repo-*", "other-1.0"));
    }

    #[test]
    fn credentials_go_to_their_host_over_https_only() {
        let mut c = SourceCredentials {
            github_token: Some(Secret::new("ghs_token123")),
            ..Default::default()
        };
        c.per_host.insert(
            "git.example.com".into(),
            HostCredential {
                username: "ci".into(),
                token: Secret::new("pat-456"),
            },
        );
        let gh = c
            .authorization("github.com", true, Purpose::GitOrArchive)
            .unwrap();
        let expected =
            base64::engine::general_purpose::STANDARD.encode("x-access-token:ghs_token123");
        assert_eq!(gh.expose(), format!("Basic {expected}"));
        assert!(c
            .authorization("github.com", false, Purpose::GitOrArchive)
            .is_none());
        assert!(c
            .authorization("evil.example.com", true, Purpose::GitOrArchive)
            .is_none());
        assert_eq!(
            c.authorization("git.example.com", true, Purpose::Registry)
                .unwrap()
                .expose(),
            "Bearer pat-456"
        );
        let r = {
            let mut r = Redactor::new();
            r.add(c.secrets());
            r
        };
        assert!(!r.redact(gh.expose()).contains(&expected));
    }
}
