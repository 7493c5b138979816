//! The terragrunt engine: the same job delegated to a `terragrunt` binary, for full Terragrunt
//! compatibility (remote module sources, hooks, every function). It runs in the unit's
//! directory of a checkout of the planned commit, with the same credentials and environment as
//! the native engine, plus terragrunt's own settings (terraform path, non-interactive, shared
//! download directory, no auto-init so that `init` stays serialised on the plugin cache).
//!
//! Dependency outputs are terragrunt's business here: it runs `output` in each dependency with
//! the credentials it was given (a dependency in another account needs its own `iam_role`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use super::process::{path_arg, CommandSpec};
use super::{EngineKind, EngineSettings, Executor, Job, PlanProduct, RunError};
use crate::aws::Secret;
use crate::snapshot::Snapshot;

/// The terragrunt engine.
#[derive(Debug, Clone, Copy, Default)]
pub struct Terragrunt;

/// Terragrunt's settings, under both the old (`TERRAGRUNT_*`) and the new (`TG_*`) names so
/// that any terragrunt version reads them.
pub fn terragrunt_env(settings: &EngineSettings, auto_init: bool) -> Vec<(String, Secret)> {
    let tf = path_arg(&settings.terraform);
    let download = path_arg(&settings.work_root.join(".terragrunt-cache"));
    let mut env = vec![
        ("TERRAGRUNT_TFPATH", tf.clone()),
        ("TG_TF_PATH", tf),
        ("TERRAGRUNT_NON_INTERACTIVE", "true".into()),
        ("TG_NON_INTERACTIVE", "true".into()),
        ("TERRAGRUNT_DOWNLOAD", download.clone()),
        ("TG_DOWNLOAD_DIR", download),
    ];
    if !auto_init {
        env.push(("TERRAGRUNT_AUTO_INIT", "false".into()));
        env.push(("TG_NO_AUTO_INIT", "true".into()));
    }
    env.into_iter()
        .map(|(k, v)| (k.to_string(), Secret::new(v)))
        .collect()
}

fn command(
    settings: &EngineSettings,
    step: &str,
    args: Vec<String>,
    unit_dir: &Path,
    env: &[(String, Secret)],
    capture: bool,
) -> CommandSpec {
    let mut env = env.to_vec();
    env.extend(terragrunt_env(settings, step == "init"));
    CommandSpec {
        step: step.to_string(),
        program: settings.terragrunt.clone(),
        args,
        cwd: unit_dir.to_path_buf(),
        env,
        capture_stdout: capture,
    }
}

fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// `terragrunt init`, `terragrunt plan -out=<plan_file>`, `terragrunt show -json <plan_file>`
/// in `unit_dir`. The plan file path is absolute: terragrunt runs terraform in its cache.
pub fn plan_commands(
    settings: &EngineSettings,
    unit_dir: &Path,
    plan_file: &Path,
    env: &[(String, Secret)],
) -> Vec<CommandSpec> {
    vec![
        command(
            settings,
            "init",
            strings(&["init", "-input=false", "-no-color"]),
            unit_dir,
            env,
            false,
        ),
        command(
            settings,
            "plan",
            vec![
                "plan".into(),
                "-input=false".into(),
                "-no-color".into(),
                "-lock-timeout=60s".into(),
                format!("-out={}", path_arg(plan_file)),
            ],
            unit_dir,
            env,
            false,
        ),
        command(
            settings,
            "show",
            vec![
                "show".into(),
                "-json".into(),
                "-no-color".into(),
                path_arg(plan_file),
            ],
            unit_dir,
            env,
            true,
        ),
    ]
}

/// `terragrunt init`, then `terragrunt apply <plan_file>` in `unit_dir`.
pub fn apply_commands(
    settings: &EngineSettings,
    unit_dir: &Path,
    plan_file: &Path,
    env: &[(String, Secret)],
) -> Vec<CommandSpec> {
    vec![
        command(
            settings,
            "init",
            strings(&["init", "-input=false", "-no-color"]),
            unit_dir,
            env,
            false,
        ),
        command(
            settings,
            "apply",
            vec![
                "apply".into(),
                "-input=false".into(),
                "-no-color".into(),
                "-lock-timeout=60s".into(),
                path_arg(plan_file),
            ],
            unit_dir,
            env,
            false,
        ),
    ]
}

/// The files of a commit on disk, once per commit: terragrunt reads the whole tree
/// (`find_in_parent_folders`, includes, local module sources). A snapshot of the work tree is
/// used where it is.
async fn checkout(snap: &Arc<Snapshot>, work_root: &Path) -> Result<PathBuf, String> {
    let Some(commit) = snap.commit() else {
        return Ok(snap.root().to_path_buf());
    };
    static DONE: OnceLock<Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<bool>>>>> = OnceLock::new();
    let dir = work_root.join(".checkout").join(commit.to_string());
    let cell = DONE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(dir.clone())
        .or_default()
        .clone();
    let mut done = cell.lock().await;
    if !*done {
        let (s, d) = (snap.clone(), dir.clone());
        tokio::task::spawn_blocking(move || -> Result<(), String> {
            for path in s.paths() {
                let target = d.join(path);
                if let Some(p) = target.parent() {
                    std::fs::create_dir_all(p).map_err(|e| format!("{}: {e}", p.display()))?;
                }
                let bytes = s.read(path).map_err(|e| format!("{path}: {e}"))?;
                std::fs::write(&target, &bytes)
                    .map_err(|e| format!("{}: {e}", target.display()))?;
            }
            Ok(())
        })
        .await
        .map_err(|e| e.to_string())??;
        *done = true;
    }
    Ok(dir)
}

impl Terragrunt {
    async fn unit_dir(&self, job: &Job) -> Result<PathBuf, RunError> {
        if let Some(message) = job.unit.unknown_files() {
            return Err(RunError::Prepare {
                unit: job.unit.path.clone(),
                message,
            });
        }
        let root = checkout(&job.ws.snapshot, &job.settings.work_root)
            .await
            .map_err(|message| RunError::Prepare {
                unit: job.unit.path.clone(),
                message,
            })?;
        let dir = root.join(&job.unit.path);
        if job.unit.stack.is_some() && !dir.is_dir() {
            // A work tree holds no generated stack until `terragrunt stack generate` ran.
            return Err(RunError::Prepare {
                unit: job.unit.path.clone(),
                message: format!(
                    "{} is generated by a stack and is not on disk: run `terragrunt stack \
                     generate`, or plan a commit (Slipway then writes the generated units)",
                    job.unit.path
                ),
            });
        }
        Ok(dir)
    }

    fn plan_file(job: &Job) -> PathBuf {
        super::workdir::base_dir(&job.unit, &job.settings.work_root).join("tfplan")
    }
}

#[async_trait::async_trait]
impl Executor for Terragrunt {
    fn kind(&self) -> EngineKind {
        EngineKind::Terragrunt
    }

    async fn plan(&self, job: &Job) -> Result<PlanProduct, RunError> {
        let unit_dir = self.unit_dir(job).await?;
        let plan_file = Self::plan_file(job);
        if let Some(p) = plan_file.parent() {
            std::fs::create_dir_all(p).map_err(|e| RunError::Prepare {
                unit: job.unit.path.clone(),
                message: format!("{}: {e}", p.display()),
            })?;
        }
        let mut plan_json = Vec::new();
        for c in plan_commands(&job.settings, &unit_dir, &plan_file, &[]) {
            let mut c = c;
            let mut env = job.child_env().await?;
            env.append(&mut c.env);
            c.env = env;
            if c.step == "init" {
                job.run_init(&c).await?;
            } else {
                let out = job.run(&c).await?;
                if c.step == "show" {
                    plan_json = out;
                }
            }
        }
        Ok(PlanProduct {
            plan_file,
            plan_json,
        })
    }

    async fn apply(&self, job: &Job, plan: &[u8]) -> Result<(), RunError> {
        let unit_dir = self.unit_dir(job).await?;
        let plan_file = Self::plan_file(job);
        let prepare = |e: std::io::Error| RunError::Prepare {
            unit: job.unit.path.clone(),
            message: format!("{}: {e}", plan_file.display()),
        };
        if let Some(p) = plan_file.parent() {
            std::fs::create_dir_all(p).map_err(prepare)?;
        }
        std::fs::write(&plan_file, plan).map_err(prepare)?;
        for c in apply_commands(&job.settings, &unit_dir, &plan_file, &[]) {
            let mut c = c;
            let mut env = job.child_env().await?;
            env.append(&mut c.env);
            c.env = env;
            if c.step == "init" {
                job.run_init(&c).await?;
            } else {
                job.run(&c).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> EngineSettings {
        let mut s = EngineSettings::new(Path::new("/work"));
        s.terraform = PathBuf::from("/opt/tofu");
        s.terragrunt = PathBuf::from("/opt/terragrunt");
        s
    }

    #[test]
    fn plan_runs_init_then_plan_out_and_show_json_in_the_unit_directory() {
        let creds = vec![
            ("AWS_ACCESS_KEY_ID".to_string(), Secret::new("ASIAEXAMPLE")),
            ("AWS_SESSION_TOKEN".to_string(), Secret::new("token")),
        ];
        let cmds = plan_commands(
            &settings(),
            Path::new("/co/live/prod/app"),
            Path::new("/work/live_prod_app/tfplan"),
            &creds,
        );
        let shown: Vec<String> = cmds.iter().map(|c| c.display()).collect();
        assert_eq!(
            shown,
            [
                "terragrunt init -input=false -no-color",
                "terragrunt plan -input=false -no-color -lock-timeout=60s -out=/work/live_prod_app/tfplan",
                "terragrunt show -json -no-color /work/live_prod_app/tfplan",
            ]
        );
        for c in &cmds {
            assert_eq!(c.cwd, Path::new("/co/live/prod/app"));
            assert_eq!(c.program, Path::new("/opt/terragrunt"));
            assert_eq!(c.env_value("AWS_ACCESS_KEY_ID"), Some("ASIAEXAMPLE"));
            assert_eq!(c.env_value("AWS_SESSION_TOKEN"), Some("token"));
            assert_eq!(c.env_value("TERRAGRUNT_TFPATH"), Some("/opt/tofu"));
            assert_eq!(c.env_value("TG_TF_PATH"), Some("/opt/tofu"));
            assert_eq!(c.env_value("TG_NON_INTERACTIVE"), Some("true"));
            assert_eq!(
                c.env_value("TERRAGRUNT_DOWNLOAD"),
                Some("/work/.terragrunt-cache")
            );
        }
        // Only init may initialise: plan and show must not re-run init behind the cache lock.
        assert_eq!(cmds[0].env_value("TG_NO_AUTO_INIT"), None);
        assert_eq!(cmds[1].env_value("TG_NO_AUTO_INIT"), Some("true"));
        assert_eq!(cmds[1].env_value("TERRAGRUNT_AUTO_INIT"), Some("false"));
        assert!(cmds[2].capture_stdout);
    }

    #[test]
    fn apply_applies_the_plan_file_it_is_given() {
        let cmds = apply_commands(
            &settings(),
            Path::new("/co/live/prod/app"),
            Path::new("/work/x/tfplan"),
            &[],
        );
        assert_eq!(
            cmds.iter().map(|c| c.display()).collect::<Vec<_>>(),
            [
                "terragrunt init -input=false -no-color",
                "terragrunt apply -input=false -no-color -lock-timeout=60s /work/x/tfplan",
            ]
        );
    }
}
