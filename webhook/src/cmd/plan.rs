//! `slipway plan`: the pull-request comment Slipway would post for a change, printed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use agent::artifacts::DirStore;
use agent::engine::EngineSettings;
use agent::repo::Repo;
use anyhow::Context;

use crate::comment::{self, Review};

/// Arguments of `slipway plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub change: super::ChangeArgs,
    /// Where working directories go (default: a temporary directory, removed afterwards).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
}

pub fn run(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let settings_env = Vec::new();
    let (review, failed) = review(&args, settings_env)?;
    super::emit(&comment::render(&review));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Plans every unit the change affects and builds the review; `true` when something failed.
/// `env` is added to every terraform process's environment. Units are planned in parallel by
/// the run engine (settings from the environment, see `EngineSettings::from_env`); plans are
/// stored in an artifact directory under the working directory.
pub fn review(args: &PlanArgs, env: Vec<(String, String)>) -> anyhow::Result<(Review, bool)> {
    let repo = Repo::open(&args.change.repo)?;
    let prepared = crate::review::prepare(&repo, &args.change.base, &args.change.head)?;
    super::note_settings(&args.change.base, &prepared.change.settings);
    let tmp;
    let work_root = match &args.work_dir {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::Builder::new()
                .prefix("slipway-plan-")
                .tempdir()
                .context("cannot create a working directory")?;
            tmp.path().to_path_buf()
        }
    };
    std::fs::create_dir_all(&work_root)
        .with_context(|| format!("cannot create {}", work_root.display()))?;
    let mut settings = EngineSettings::from_env(&work_root).map_err(anyhow::Error::msg)?;
    settings.env = env;
    let store = Arc::new(DirStore::new(work_root.join("artifacts")));
    // A local review has no GitHub name: the directory's name stands for it.
    let repo_name = format!(
        "local/{}",
        args.change
            .repo
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "repo".into())
    );
    crate::review::review_blocking(&prepared, &repo_name, settings, store)
}
