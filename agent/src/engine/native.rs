//! The native engine: Slipway renders the unit's working directory itself (module source,
//! unit files, `generate` blocks, backend, inputs with the dependencies' real outputs) and
//! drives `terraform` or `tofu`: `init`, `plan -out`, `apply <planfile>`. The plan's JSON is
//! read from the plan file by Slipway (`terraform show -json` when it cannot be sure).

use std::path::{Path, PathBuf};

use super::process::{path_arg, CommandSpec};
use super::{workdir, EngineKind, Executor, Job, PlanProduct, PlanReader, RunError};
use crate::aws::Secret;
use crate::terragrunt::modules::Source;

/// The native engine.
#[derive(Debug, Clone, Copy, Default)]
pub struct Native;

/// The commands of one native plan, in order, for a working directory (`init`, `plan`,
/// `show`); `env` is what every child gets.
pub fn plan_commands(
    terraform: &Path,
    run_dir: &Path,
    plan_file: &Path,
    env: &[(String, Secret)],
) -> Vec<CommandSpec> {
    let cmd = |step: &str, args: &[&str], capture: bool| CommandSpec {
        step: step.to_string(),
        program: terraform.to_path_buf(),
        args: args.iter().map(|a| a.to_string()).collect(),
        cwd: run_dir.to_path_buf(),
        env: env.to_vec(),
        capture_stdout: capture,
    };
    let out = format!("-out={}", path_arg(plan_file));
    let plan = path_arg(plan_file);
    vec![
        cmd("init", &init_args(), false),
        cmd(
            "plan",
            &[
                "plan",
                "-input=false",
                "-no-color",
                "-lock-timeout=60s",
                &out,
            ],
            false,
        ),
        cmd("show", &["show", "-json", "-no-color", &plan], true),
    ]
}

/// `terraform providers schema -json` in a working directory: the schemas Slipway needs to
/// read plan files itself (see [`super::schemas`]).
pub fn schema_command(terraform: &Path, run_dir: &Path, env: &[(String, Secret)]) -> CommandSpec {
    CommandSpec {
        step: "schemas".to_string(),
        program: terraform.to_path_buf(),
        args: ["providers", "schema", "-json"]
            .iter()
            .map(|a| a.to_string())
            .collect(),
        cwd: run_dir.to_path_buf(),
        env: env.to_vec(),
        capture_stdout: true,
    }
}

fn init_args() -> [&'static str; 4] {
    // -reconfigure: the backend of a reused working directory may have changed; state is
    // never migrated by Slipway.
    ["init", "-input=false", "-no-color", "-reconfigure"]
}

/// The commands of one native apply of `plan_file` (`init`, `apply`).
pub fn apply_commands(
    terraform: &Path,
    run_dir: &Path,
    plan_file: &Path,
    env: &[(String, Secret)],
) -> Vec<CommandSpec> {
    let cmd = |step: &str, args: Vec<String>| CommandSpec {
        step: step.to_string(),
        program: terraform.to_path_buf(),
        args,
        cwd: run_dir.to_path_buf(),
        env: env.to_vec(),
        capture_stdout: false,
    };
    vec![
        cmd("init", init_args().iter().map(|s| s.to_string()).collect()),
        cmd(
            "apply",
            vec![
                "apply".into(),
                "-input=false".into(),
                "-no-color".into(),
                "-lock-timeout=60s".into(),
                path_arg(plan_file),
            ],
        ),
    ]
}

/// The plan's JSON rendered by Slipway from the plan file, as `terraform show -json` would
/// print it; an error says why it could not be (then terraform renders it).
async fn read_natively(
    job: &Job,
    run_dir: &Path,
    plan_file: &Path,
    env: &[(String, Secret)],
) -> Result<Vec<u8>, String> {
    let spec = schema_command(&job.settings.terraform, run_dir, env);
    let schemas = super::schemas::for_run_dir(job, run_dir, &spec)
        .await
        .map_err(|e| format!("no provider schemas: {e}"))?;
    let bytes = tokio::fs::read(plan_file)
        .await
        .map_err(|e| format!("cannot read {}: {e}", plan_file.display()))?;
    tokio::task::spawn_blocking(move || {
        let doc = rules::planfile::show_json_with(&bytes, &schemas).map_err(|e| e.to_string())?;
        serde_json::to_vec(&doc).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

impl Native {
    /// Resolves dependency outputs, re-evaluates the unit with them and renders its working
    /// directory; returns the directory terraform runs in.
    async fn prepare(&self, job: &Job) -> Result<PathBuf, RunError> {
        let outputs = job.dependency_outputs().await?;
        let unit = job.evaluated_with(&outputs).await?;
        let module = match &unit.source {
            Some(Source::Remote { url }) => Some(job.fetch_module(url).await?),
            _ => None,
        };
        let snap = job.ws.snapshot.clone();
        let root = job.settings.work_root.clone();
        let u = unit.clone();
        let run_dir = tokio::task::spawn_blocking(move || {
            workdir::prepare_with(&snap, &u, &root, module.as_ref())
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .and_then(|r| r)
        .map_err(|e| RunError::Prepare {
            unit: job.unit.path.clone(),
            message: format!("{e:#}"),
        })?;
        // Values of variables the module marks sensitive never reach a log.
        let sensitive = workdir::sensitive_variables(&run_dir);
        if !sensitive.is_empty() {
            if let Some(hcl::Value::Object(inputs)) =
                unit.eval.as_ref().and_then(|e| e.config.get("inputs"))
            {
                let mut values = Vec::new();
                for name in &sensitive {
                    if let Some(v) = inputs.get(name) {
                        if let Ok(json) = serde_json::to_value(v) {
                            super::outputs::collect_strings(&json, &mut values);
                        }
                    }
                }
                job.redact_values(values);
            }
        }
        Ok(run_dir)
    }
}

#[async_trait::async_trait]
impl Executor for Native {
    fn kind(&self) -> EngineKind {
        EngineKind::Native
    }

    async fn plan(&self, job: &Job) -> Result<PlanProduct, RunError> {
        let run_dir = self.prepare(job).await?;
        let plan_file = job.plan_path();
        let cmds = plan_commands(&job.settings.terraform, &run_dir, &plan_file, &[]);
        let mut plan_json = Vec::new();
        for c in &cmds {
            // Fresh credentials for each step, so a long run never outlives them.
            let mut c = c.clone();
            c.env = job.child_env().await?;
            match c.step.as_str() {
                "init" => {
                    job.run_init(&c).await?;
                }
                "show" => {
                    if job.settings.plan_reader == PlanReader::Native {
                        match read_natively(job, &run_dir, &plan_file, &c.env).await {
                            Ok(json) => {
                                plan_json = json;
                                continue;
                            }
                            Err(why) => job.log_line(&format!(
                                "reading the plan with `terraform show -json`: {why}"
                            )),
                        }
                    }
                    plan_json = job.run(&c).await?;
                }
                _ => {
                    job.run(&c).await?;
                }
            }
        }
        Ok(PlanProduct {
            plan_file,
            plan_json,
        })
    }

    async fn apply(&self, job: &Job, plan_file: &[u8]) -> Result<(), RunError> {
        let run_dir = self.prepare(job).await?;
        let path = job.plan_path();
        tokio::fs::write(&path, plan_file)
            .await
            .map_err(|e| RunError::Prepare {
                unit: job.unit.path.clone(),
                message: format!("cannot write {}: {e}", path.display()),
            })?;
        for c in apply_commands(&job.settings.terraform, &run_dir, &path, &[]) {
            let mut c = c;
            c.env = job.child_env().await?;
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

    #[test]
    fn a_native_plan_is_init_plan_out_and_show_json() {
        let env = vec![("AWS_ACCESS_KEY_ID".to_string(), Secret::new("ASIAX"))];
        let cmds = plan_commands(
            Path::new("/usr/bin/tofu"),
            Path::new("/w/app"),
            Path::new("/w/app/tfplan"),
            &env,
        );
        let shown: Vec<String> = cmds.iter().map(|c| c.display()).collect();
        assert_eq!(
            shown,
            [
                "tofu init -input=false -no-color -reconfigure",
                "tofu plan -input=false -no-color -lock-timeout=60s -out=/w/app/tfplan",
                "tofu show -json -no-color /w/app/tfplan",
            ]
        );
        assert!(cmds[2].capture_stdout && !cmds[1].capture_stdout);
        assert!(cmds
            .iter()
            .all(|c| c.env_value("AWS_ACCESS_KEY_ID") == Some("ASIAX")));
        let apply = apply_commands(
            Path::new("terraform"),
            Path::new("/w"),
            Path::new("/w/tfplan"),
            &env,
        );
        assert_eq!(
            apply[1].display(),
            "terraform apply -input=false -no-color -lock-timeout=60s /w/tfplan"
        );
    }
}
