//! The run engine: turns an evaluated unit into a terraform working directory and runs
//! `init`, `plan` and `show -json` in it.

pub mod workdir;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::snapshot::Snapshot;
use crate::units::Unit;

/// How terraform is run.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// The terraform (or tofu) binary.
    pub terraform: PathBuf,
    /// Where working directories are made, one per unit.
    pub work_root: PathBuf,
    /// Extra environment for every terraform process.
    pub env: Vec<(String, String)>,
}

impl EngineSettings {
    /// Settings from the process environment: `SLIPWAY_TERRAFORM` (default `terraform` on the
    /// PATH) and a working root under `work_root`.
    pub fn from_env(work_root: &Path) -> Self {
        EngineSettings {
            terraform: std::env::var_os("SLIPWAY_TERRAFORM")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("terraform")),
            work_root: work_root.to_path_buf(),
            env: Vec::new(),
        }
    }
}

/// A unit that could not be planned, with the step and what terraform said.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{unit}: cannot prepare the working directory: {message}")]
    Prepare { unit: String, message: String },
    #[error("{unit}: cannot start {program}: {message}")]
    Spawn {
        unit: String,
        program: String,
        message: String,
    },
    #[error("{unit}: terraform {step} failed (exit {code}):\n{output}")]
    Terraform {
        unit: String,
        step: String,
        code: i32,
        output: String,
    },
}

/// A finished plan of one unit.
#[derive(Debug, Clone)]
pub struct PlanRun {
    pub unit: String,
    pub workdir: PathBuf,
    /// Binary plan file written by `terraform plan -out`.
    pub plan_file: PathBuf,
    /// `terraform show -json` of the plan.
    pub plan_json: Vec<u8>,
    /// Combined output of every step.
    pub log: String,
    pub duration: Duration,
}

/// Plans one unit with real terraform.
pub fn plan_unit(
    snap: &Snapshot,
    unit: &Unit,
    settings: &EngineSettings,
) -> Result<PlanRun, RunError> {
    let started = Instant::now();
    let wd = workdir::prepare(snap, unit, &settings.work_root).map_err(|e| RunError::Prepare {
        unit: unit.path.clone(),
        message: format!("{e:#}"),
    })?;
    let mut log = String::new();
    run(
        settings,
        unit,
        &wd,
        "init",
        &["init", "-input=false", "-no-color"],
        &mut log,
    )?;
    run(
        settings,
        unit,
        &wd,
        "plan",
        &[
            "plan",
            "-input=false",
            "-no-color",
            "-lock-timeout=60s",
            "-out=tfplan",
        ],
        &mut log,
    )?;
    let plan_json = run(
        settings,
        unit,
        &wd,
        "show",
        &["show", "-json", "-no-color", "tfplan"],
        &mut String::new(),
    )?;
    Ok(PlanRun {
        unit: unit.path.clone(),
        plan_file: wd.join("tfplan"),
        workdir: wd,
        plan_json,
        log,
        duration: started.elapsed(),
    })
}

fn run(
    settings: &EngineSettings,
    unit: &Unit,
    dir: &Path,
    step: &str,
    args: &[&str],
    log: &mut String,
) -> Result<Vec<u8>, RunError> {
    let out = Command::new(&settings.terraform)
        .args(args)
        .current_dir(dir)
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .envs(settings.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| RunError::Spawn {
            unit: unit.path.clone(),
            program: settings.terraform.display().to_string(),
            message: e.to_string(),
        })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        return Err(RunError::Terraform {
            unit: unit.path.clone(),
            step: step.to_string(),
            code: out.status.code().unwrap_or(-1),
            output: text.trim().to_string(),
        });
    }
    if step != "show" {
        log.push_str(&format!("$ terraform {}\n{text}", args.join(" ")));
    }
    Ok(out.stdout)
}
