//! `slipway serve` (the webhook service with embedded workers) and `slipway worker` (workers
//! only, on a shared PostgreSQL).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use octocrab::secrecy::SecretString;
use tokio::sync::watch;

use crate::github::client::{ClientSettings, Credentials, Github};
use crate::jobs::JobPolicy;
use crate::server::{self, Ingest};
use crate::worker::{Worker, WorkerSettings};

/// Arguments of `slipway serve` and `slipway worker`. Every setting is a flag with a
/// `SLIPWAY_*` environment variable; secrets may come from files and are never printed.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Service configuration file (TOML). It holds `[repositories]`: the settings the service
    /// fixes for every repository and which ones a repository's `slipway.toml` may override
    /// (`allowed_overrides`). The other settings are these flags and variables.
    #[arg(long, env = "SLIPWAY_CONFIG")]
    pub config: Option<PathBuf>,
    /// Validate the configuration (the file, the secrets, the credentials, the store's URL)
    /// and exit: 0 when it is usable, 2 naming what is not.
    #[arg(long)]
    pub check_config: bool,
    /// Address the webhook service listens on.
    #[arg(long, env = "SLIPWAY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Where the store (SQLite), repository mirrors, working directories and artifacts go.
    #[arg(long, env = "SLIPWAY_DATA_DIR", default_value = "./.slipway")]
    pub data_dir: PathBuf,
    /// The store: `sqlite://PATH` (default: `<data dir>/slipway.db`) or `postgres://...`
    /// (several replicas share one queue).
    #[arg(long, env = "SLIPWAY_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// The secret GitHub signs deliveries with.
    #[arg(long, env = "SLIPWAY_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// A file of webhook secrets, one per line (several while one is rotated).
    #[arg(long, env = "SLIPWAY_WEBHOOK_SECRET_FILE")]
    pub webhook_secret_file: Option<PathBuf>,
    /// A GitHub token (instead of a GitHub App).
    #[arg(long, env = "SLIPWAY_GITHUB_TOKEN", hide_env_values = true)]
    pub github_token: Option<String>,
    /// A file holding the GitHub token.
    #[arg(long, env = "SLIPWAY_GITHUB_TOKEN_FILE")]
    pub github_token_file: Option<PathBuf>,
    /// The GitHub App's id (with `--github-private-key-file`).
    #[arg(long, env = "SLIPWAY_GITHUB_APP_ID")]
    pub github_app_id: Option<u64>,
    /// The GitHub App's private key (PEM).
    #[arg(long, env = "SLIPWAY_GITHUB_PRIVATE_KEY_FILE")]
    pub github_private_key_file: Option<PathBuf>,
    /// GitHub's API: `https://api.github.com`, or a GitHub Enterprise Server's
    /// `https://HOST/api/v3`.
    #[arg(
        long,
        env = "SLIPWAY_GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    pub github_api_url: String,
    /// Jobs run at once by this process (default: the number of cores).
    #[arg(long, env = "SLIPWAY_WORKERS")]
    pub workers: Option<usize>,
    /// Plan draft pull requests too (default: wait until they are ready for review).
    #[arg(long, env = "SLIPWAY_PLAN_DRAFTS")]
    pub plan_drafts: bool,
    /// Plan pull requests from forks with every environment's plan role (default: no; their
    /// authors' configuration would run under the accounts' roles; each environment's
    /// `plan_forks` in slipway.toml may allow it, and a writer's `/plan` allows it once).
    #[arg(long, env = "SLIPWAY_PLAN_FORKS")]
    pub plan_forks: bool,
    /// Seconds a claimed job is held before another worker may take it (renewed while it runs).
    #[arg(long, env = "SLIPWAY_LEASE_SECONDS", default_value_t = 60)]
    pub lease_seconds: u64,
    /// The live comment is edited at most once per this many seconds while units plan.
    #[arg(long, env = "SLIPWAY_COMMENT_EDIT_SECONDS", default_value_t = 3.0)]
    pub comment_edit_seconds: f64,
    /// Seconds a GitHub call that keeps failing (5xx, rate limits) is retried before the job
    /// fails.
    #[arg(long, env = "SLIPWAY_GITHUB_RETRY_SECONDS", default_value_t = 600)]
    pub github_retry_seconds: u64,
}

impl std::fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never print: only whether they are set.
        f.debug_struct("ServeArgs")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_ref().map(|_| "(set)"))
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "(set)"),
            )
            .field("github_token", &self.github_token.as_ref().map(|_| "(set)"))
            .field("github_app_id", &self.github_app_id)
            .field("github_api_url", &self.github_api_url)
            .finish_non_exhaustive()
    }
}

fn read_secret(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the secret file {}", path.display()))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

impl ServeArgs {
    fn secrets(&self) -> anyhow::Result<Vec<Vec<u8>>> {
        let mut secrets = Vec::new();
        if let Some(s) = &self.webhook_secret {
            secrets.push(s.as_bytes().to_vec());
        }
        if let Some(f) = &self.webhook_secret_file {
            for line in read_secret(f)?.lines() {
                if !line.is_empty() {
                    secrets.push(line.as_bytes().to_vec());
                }
            }
        }
        secrets.retain(|s| !s.is_empty());
        if secrets.is_empty() {
            anyhow::bail!(
                "no webhook secret: set SLIPWAY_WEBHOOK_SECRET (or SLIPWAY_WEBHOOK_SECRET_FILE), the secret of the repository's or App's webhook"
            );
        }
        Ok(secrets)
    }

    /// The GitHub credentials, or why there are none.
    fn credentials(&self) -> anyhow::Result<Result<Credentials, String>> {
        let token = match (&self.github_token, &self.github_token_file) {
            (Some(t), _) => Some(t.clone()),
            (None, Some(f)) => Some(read_secret(f)?),
            (None, None) => None,
        };
        Ok(match (token, self.github_app_id, &self.github_private_key_file) {
            (_, Some(app_id), Some(key)) => Ok(Credentials::App {
                app_id,
                private_key: SecretString::from(read_secret(key)?),
            }),
            (_, Some(_), None) => anyhow::bail!(
                "SLIPWAY_GITHUB_APP_ID is set without SLIPWAY_GITHUB_PRIVATE_KEY_FILE"
            ),
            (Some(t), None, _) if !t.is_empty() => Ok(Credentials::Token(SecretString::from(t))),
            _ => Err("no GitHub credentials (set SLIPWAY_GITHUB_TOKEN, or SLIPWAY_GITHUB_APP_ID with SLIPWAY_GITHUB_PRIVATE_KEY_FILE)".into()),
        })
    }

    fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("slipway.db").display()))
    }

    fn worker_settings(&self, service: &ServiceConfig) -> WorkerSettings {
        let mut w = WorkerSettings::new(self.data_dir.clone());
        w.overrides = service.repositories.clone();
        w.plan_forks = self.plan_forks;
        if let Some(n) = self.workers {
            w.slots = n.max(1);
        }
        w.lease = Duration::from_secs(self.lease_seconds.max(3));
        let every = self.comment_edit_seconds;
        w.edit_every = Duration::from_secs_f64(if every.is_finite() {
            every.clamp(0.0, 600.0)
        } else {
            3.0
        });
        w
    }

    fn github(&self, credentials: &Credentials) -> anyhow::Result<Github> {
        let settings = ClientSettings {
            api_url: self.github_api_url.trim_end_matches('/').to_string(),
            retry_for: Duration::from_secs(self.github_retry_seconds),
            ..ClientSettings::default()
        };
        Ok(Github::new(credentials, settings)?)
    }
}

/// The service configuration file (`--config`).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// What the service decides for every repository: fixed settings and `allowed_overrides`.
    #[serde(default)]
    pub repositories: agent::config::Overrides,
}

impl ServiceConfig {
    /// Reads the file `--config` names (the defaults without one); errors name the key and
    /// line.
    pub fn load(path: Option<&Path>) -> anyhow::Result<ServiceConfig> {
        let Some(path) = path else {
            return Ok(ServiceConfig::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the service configuration {}", path.display()))?;
        let config: ServiceConfig = toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}: {}",
                path.display(),
                agent::config::describe_toml_error(&text, &e)
            )
        })?;
        config
            .repositories
            .validate()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(config)
    }
}

/// `slipway serve`.
pub fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let service = ServiceConfig::load(args.config.as_deref())?;
    let secrets = args.secrets()?;
    let credentials = args.credentials()?;
    if args.check_config {
        let url = args.database_url();
        if !(url.starts_with("sqlite://")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            anyhow::bail!("SLIPWAY_DATABASE_URL: must start with sqlite:// or postgres://");
        }
        println!(
            "configuration usable: {} webhook secret(s), {}, store {}",
            secrets.len(),
            match &credentials {
                Ok(_) => "GitHub credentials given".to_string(),
                Err(why) => why.clone(),
            },
            url.split("://").next().unwrap_or_default()
        );
        return Ok(ExitCode::SUCCESS);
    }
    // Discovery in the service never reads Slipway's own environment.
    agent::terragrunt::runtime::discovery_without_process_env();
    agent::engine::block_on(async move {
        std::fs::create_dir_all(&args.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                args.data_dir.display()
            )
        })?;
        let store = agent::store::open(&args.database_url()).await?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut workers = None;
        let cannot_act = match &credentials {
            Ok(c) => {
                let worker = Worker {
                    store: store.clone(),
                    github: args.github(c)?,
                    settings: args.worker_settings(&service),
                    access: Default::default(),
                };
                workers = Some(tokio::spawn(worker.run(stop_rx.clone())));
                None
            }
            Err(why) => {
                tracing::warn!("{why}: deliveries are verified and recorded, not acted on");
                eprintln!(
                    "slipway serve: {why}: deliveries are verified and recorded, not acted on"
                );
                Some(why.clone())
            }
        };
        let ingest = Arc::new(Ingest {
            store,
            secrets,
            policy: JobPolicy {
                plan_drafts: args.plan_drafts,
            },
            cannot_act,
        });
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, "slipway serve is listening");
        eprintln!("slipway serve: listening on http://{addr}");
        axum::serve(listener, server::router(ingest))
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("the webhook server stopped")?;
        let _ = stop_tx.send(true);
        if let Some(w) = workers {
            // Jobs still running are left to their lease: another process takes them over.
            let _ = tokio::time::timeout(Duration::from_secs(5), w).await;
        }
        Ok(ExitCode::SUCCESS)
    })?
}

/// `slipway worker`: workers only, on the shared PostgreSQL queue.
pub fn worker(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let url = args.database_url.clone().unwrap_or_default();
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        anyhow::bail!(
            "slipway worker needs --database-url postgres://... (SLIPWAY_DATABASE_URL): workers of several processes share a PostgreSQL queue"
        );
    }
    let service = ServiceConfig::load(args.config.as_deref())?;
    let credentials = args
        .credentials()?
        .map_err(|why| anyhow::anyhow!("slipway worker: {why}"))?;
    agent::terragrunt::runtime::discovery_without_process_env();
    agent::engine::block_on(async move {
        let store = agent::store::open(&url).await?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let worker = Worker {
            store,
            github: args.github(&credentials)?,
            settings: args.worker_settings(&service),
            access: Default::default(),
        };
        let run = tokio::spawn(worker.run(stop_rx));
        eprintln!("slipway worker: claiming jobs");
        shutdown_signal().await;
        let _ = stop_tx.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), run).await;
        Ok(ExitCode::SUCCESS)
    })?
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_service_configuration_parses() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/service.toml");
        let config = ServiceConfig::load(Some(&example)).expect("the example is valid");
        let fixed = &config.repositories.fixed;
        assert!(fixed.contains_key("environments"), "{fixed:?}");
        assert!(config
            .repositories
            .allowed_overrides
            .as_ref()
            .is_some_and(|a| a.iter().any(|k| k == "live_dir")));
    }

    #[test]
    fn a_bad_service_configuration_is_named_by_key_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("service.toml");
        for (text, want) in [
            ("[repositories]\nalowed_overrides = []\n", "line 2"),
            (
                "[repositories.fixed.environments.prod]\naply = \"command\"\n",
                "aply",
            ),
            ("[repository]\n", "repository"),
        ] {
            std::fs::write(&file, text).expect("write");
            let err = format!(
                "{:#}",
                ServiceConfig::load(Some(&file)).expect_err("refused")
            );
            assert!(err.contains(want) && err.contains("service.toml"), "{err}");
        }
    }
}
