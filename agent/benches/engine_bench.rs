//! Planning 20 null-provider units through Slipway's engine against a shell loop running
//! `terraform init && terraform plan` in the same 20 working directories.
//!
//! Run: `cargo bench -p slipway-agent --bench engine_bench` (after `scripts/tools.sh terraform`).
//! `SLIPWAY_BENCH_REPS` sets the repetitions per figure (default 3, the median is reported).
//!
//! Targets (issue 4): sequential overhead at most 10%; with parallelism 2 on 2 cores at least
//! 1.6x faster than the loop.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use agent::artifacts::DirStore;
use agent::engine::{self, workdir, EngineSettings, Runner, Workspace};

const UNITS: usize = 20;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p)?;
    }
    std::fs::write(path, text)?;
    Ok(())
}

/// A repository of 20 units, each planning two null resources with a local backend.
fn make_repo(dir: &Path, state: &Path) -> anyhow::Result<()> {
    write(&dir.join("slipway.toml"), "live_dir = \"live\"\n")?;
    write(
        &dir.join("live/terragrunt.hcl"),
        &format!(
            r#"remote_state {{
  backend = "local"
  generate = {{
    path      = "backend.tf"
    if_exists = "overwrite_terragrunt"
  }}
  config = {{
    path = "{}/${{path_relative_to_include()}}/terraform.tfstate"
  }}
}}
"#,
            state.display()
        ),
    )?;
    write(
        &dir.join("modules/service/main.tf"),
        r#"terraform {
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "2.1.2"
    }
  }
}

variable "name" {
  type = string
}

variable "replicas" {
  type = number
}

resource "null_resource" "task" {
  count = var.replicas
  triggers = {
    name = var.name
    slot = tostring(count.index)
  }
}

output "tasks" {
  value = length(null_resource.task)
}
"#,
    )?;
    for i in 1..=UNITS {
        write(
            &dir.join(format!("live/unit{i:02}/terragrunt.hcl")),
            &format!(
                r#"include "root" {{
  path = find_in_parent_folders()
}}

terraform {{
  source = "../../modules//service"
}}

inputs = {{
  name     = "unit{i:02}"
  replicas = 2
}}
"#
            ),
        )?;
    }
    Ok(())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Removes what `terraform init` made, so every measured run starts cold.
fn reset(dirs: &[PathBuf]) -> anyhow::Result<()> {
    for d in dirs {
        let _ = std::fs::remove_dir_all(d.join(".terraform"));
        let _ = std::fs::remove_file(d.join(".terraform.lock.hcl"));
    }
    Ok(())
}

fn shell_loop(
    dirs: &[PathBuf],
    tf: &Path,
    rc: &Path,
    cache: Option<&Path>,
) -> anyhow::Result<Duration> {
    reset(dirs)?;
    let list: Vec<String> = dirs.iter().map(|d| format!("'{}'", d.display())).collect();
    let script = format!(
        "for d in {}; do (cd \"$d\" && '{tf}' init -input=false -no-color >/dev/null && '{tf}' plan -input=false -no-color >/dev/null) || exit 1; done",
        list.join(" "),
        tf = tf.display()
    );
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(&script).env("TF_CLI_CONFIG_FILE", rc);
    if let Some(c) = cache {
        let _ = std::fs::remove_dir_all(c);
        std::fs::create_dir_all(c)?;
        cmd.env("TF_PLUGIN_CACHE_DIR", c);
    }
    let started = Instant::now();
    let status = cmd.status()?;
    anyhow::ensure!(status.success(), "the shell loop failed");
    Ok(started.elapsed())
}

fn slipway(
    ws: &Arc<Workspace>,
    units: &[String],
    tf: &Path,
    rc: &Path,
    parallelism: usize,
) -> anyhow::Result<Duration> {
    let work = tempfile::tempdir()?;
    let mut settings = EngineSettings::new(work.path());
    settings.terraform = tf.to_path_buf();
    settings.env = vec![("TF_CLI_CONFIG_FILE".into(), rc.display().to_string())];
    settings.parallelism = parallelism;
    settings.assume_roles = false;
    let store = Arc::new(DirStore::new(work.path().join("artifacts")));
    let started = Instant::now();
    let results = engine::block_on(async {
        let runner = Runner::new(settings, store, None).await;
        runner.plan_all(ws.clone(), units).await
    })?;
    let elapsed = started.elapsed();
    for (u, r) in results {
        if let Err(e) = r {
            anyhow::bail!("{u}: {e}");
        }
    }
    Ok(elapsed)
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; nothing else is expected.
    let tf = root().join(".tools/bin/terraform");
    let rc = root().join(".tools/terraformrc");
    anyhow::ensure!(
        tf.is_file() && rc.is_file(),
        "terraform is missing: run `scripts/tools.sh terraform` first"
    );
    let reps: usize = std::env::var("SLIPWAY_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(3);
    let tmp = tempfile::tempdir()?;
    let repo_dir = tmp.path().join("repo");
    make_repo(&repo_dir, &tmp.path().join("state"))?;
    let repo = agent::repo::Repo::open(&repo_dir)?;
    let view = repo.graph(None)?;
    anyhow::ensure!(
        view.inventory.errors.is_empty(),
        "{:?}",
        view.inventory.errors
    );
    let ws = Arc::new(Workspace::from_view("bench/engine", None, &view));
    let units: Vec<String> = ws.units.keys().cloned().collect();
    anyhow::ensure!(units.len() == UNITS, "expected {UNITS} units");

    // The loop's directories: the working directories Slipway renders, made once.
    let loop_root = tmp.path().join("loop");
    let mut dirs = Vec::new();
    for u in ws.units.values() {
        dirs.push(workdir::prepare(&ws.snapshot, u, &loop_root)?);
    }
    let cache = tmp.path().join("loop-cache");

    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("engine bench: {UNITS} units, null provider, terraform 1.0.3, {cores} cores, median of {reps}");
    let mut lp = Vec::new();
    let mut lpc = Vec::new();
    let mut s1 = Vec::new();
    let mut s2 = Vec::new();
    for r in 0..reps {
        lp.push(shell_loop(&dirs, &tf, &rc, None)?);
        lpc.push(shell_loop(&dirs, &tf, &rc, Some(&cache))?);
        s1.push(slipway(&ws, &units, &tf, &rc, 1)?);
        s2.push(slipway(&ws, &units, &tf, &rc, 2)?);
        println!(
            "  rep {}: loop {:.2}s, loop+plugin cache {:.2}s, slipway -j1 {:.2}s, slipway -j2 {:.2}s",
            r + 1,
            lp[r].as_secs_f64(),
            lpc[r].as_secs_f64(),
            s1[r].as_secs_f64(),
            s2[r].as_secs_f64()
        );
    }
    let (lp, lpc, s1, s2) = (median(lp), median(lpc), median(s1), median(s2));
    let overhead = (s1.as_secs_f64() / lp.as_secs_f64() - 1.0) * 100.0;
    let overhead_cached = (s1.as_secs_f64() / lpc.as_secs_f64() - 1.0) * 100.0;
    let speedup = lp.as_secs_f64() / s2.as_secs_f64();
    println!();
    println!("| run | time (s) |");
    println!("| --- | --- |");
    println!(
        "| shell loop `terraform init && terraform plan` | {:.2} |",
        lp.as_secs_f64()
    );
    println!(
        "| shell loop with a shared plugin cache | {:.2} |",
        lpc.as_secs_f64()
    );
    println!(
        "| slipway, parallelism 1 (init, plan -out, show -json, stored) | {:.2} |",
        s1.as_secs_f64()
    );
    println!("| slipway, parallelism 2 | {:.2} |", s2.as_secs_f64());
    println!();
    println!(
        "sequential overhead vs the loop: {overhead:+.1}% (target <= +10%); vs the cached loop: {overhead_cached:+.1}%"
    );
    println!("parallelism 2 speed-up vs the loop: {speedup:.2}x (target >= 1.6x)");
    println!("reproduce: cargo bench -p slipway-agent --bench engine_bench");
    Ok(())
}
