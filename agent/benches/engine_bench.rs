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

/// CPU time (user + system) of this process and of every child process waited for so far,
/// from /proc (Linux).
fn cpu_times() -> (Duration, Duration) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime, stime, cutime and cstime are fields 14 to 17 of the whole line, 11 to 14 after ')'.
    let ticks = |i: usize| f.get(i).copied().unwrap_or(0);
    (
        Duration::from_millis((ticks(11) + ticks(12)) * 10),
        Duration::from_millis((ticks(13) + ticks(14)) * 10),
    )
}

/// What one run took.
#[derive(Clone, Copy)]
struct Took {
    wall: Duration,
    /// CPU of terraform and the providers.
    children: Duration,
    /// CPU of the benchmark process itself (Slipway's engine, for its runs).
    own: Duration,
}

fn measure<F: FnOnce() -> anyhow::Result<()>>(f: F) -> anyhow::Result<Took> {
    let (own, children) = cpu_times();
    let started = Instant::now();
    f()?;
    let (own2, children2) = cpu_times();
    Ok(Took {
        wall: started.elapsed(),
        children: children2.saturating_sub(children),
        own: own2.saturating_sub(own),
    })
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

/// A shell loop over the directories: `init && plan`, or with `json` what a review needs
/// from terraform alone (`init && plan -out && show -json`).
fn shell_loop(
    groups: &[&[PathBuf]],
    tf: &Path,
    rc: &Path,
    cache: Option<&Path>,
    json: bool,
) -> anyhow::Result<Took> {
    for dirs in groups {
        reset(dirs)?;
    }
    let tf = tf.display();
    let steps = if json {
        format!("'{tf}' init -input=false -no-color >/dev/null && '{tf}' plan -input=false -no-color -out=tfplan >/dev/null && '{tf}' show -json tfplan >/dev/null")
    } else {
        format!("'{tf}' init -input=false -no-color >/dev/null && '{tf}' plan -input=false -no-color >/dev/null")
    };
    let loops: Vec<String> = groups
        .iter()
        .map(|dirs| {
            let list: Vec<String> = dirs.iter().map(|d| format!("'{}'", d.display())).collect();
            format!(
                "for d in {}; do (cd \"$d\" && {steps}) || exit 1; done",
                list.join(" ")
            )
        })
        .collect();
    // One loop runs in the foreground, as a user would type it; several run at once, and the
    // script fails when any of them does.
    let script = match loops.as_slice() {
        [one] => one.clone(),
        many => format!(
            "{}\nfor job in $(jobs -p); do wait $job || exit 1; done",
            many.iter()
                .map(|l| format!("({l}) &"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    };
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(&script).env("TF_CLI_CONFIG_FILE", rc);
    if let Some(c) = cache {
        let _ = std::fs::remove_dir_all(c);
        std::fs::create_dir_all(c)?;
        cmd.env("TF_PLUGIN_CACHE_DIR", c);
    }
    measure(|| {
        let status = cmd.status()?;
        anyhow::ensure!(status.success(), "the shell loop failed");
        Ok(())
    })
}

fn slipway(
    ws: &Arc<Workspace>,
    units: &[String],
    tf: &Path,
    rc: &Path,
    parallelism: usize,
) -> anyhow::Result<Took> {
    let work = tempfile::tempdir()?;
    let mut settings = EngineSettings::new(work.path());
    settings.terraform = tf.to_path_buf();
    settings.env = vec![("TF_CLI_CONFIG_FILE".into(), rc.display().to_string())];
    settings.parallelism = parallelism;
    settings.assume_roles = false;
    let store = Arc::new(DirStore::new(work.path().join("artifacts")));
    measure(|| {
        let results = engine::block_on(async {
            let runner = Runner::new(settings, store, None).await;
            runner.plan_all(ws.clone(), units).await
        })?;
        for (u, r) in results {
            if let Err(e) = r {
                anyhow::bail!("{u}: {e}");
            }
        }
        Ok(())
    })
}

fn main() -> anyhow::Result<()> {
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
    println!(
        "engine bench: {UNITS} units, null provider, terraform 1.0.3, {cores} cores, median of {reps}"
    );
    let names = [
        "shell loop `terraform init && terraform plan`",
        "shell loop with a shared plugin cache",
        "shell loop of `init, plan -out, show -json` (plugin cache)",
        "two such `init && plan` loops at once, 10 directories each (no engine at all)",
        "slipway, parallelism 1 (init, plan -out, plan file read by Slipway, stored)",
        "slipway, parallelism 2",
    ];
    let mut took: [Vec<Took>; 6] = Default::default();
    for r in 0..reps {
        let (first, second) = dirs.split_at(dirs.len() / 2);
        let runs = [
            shell_loop(&[&dirs], &tf, &rc, None, false)?,
            shell_loop(&[&dirs], &tf, &rc, Some(&cache), false)?,
            shell_loop(&[&dirs], &tf, &rc, Some(&cache), true)?,
            shell_loop(&[first, second], &tf, &rc, None, false)?,
            slipway(&ws, &units, &tf, &rc, 1)?,
            slipway(&ws, &units, &tf, &rc, 2)?,
        ];
        let mut line = format!("  rep {}:", r + 1);
        for (i, t) in runs.iter().enumerate() {
            took[i].push(*t);
            line.push_str(&format!(
                " [{}] {:.2}s wall {:.2}s cpu;",
                i + 1,
                t.wall.as_secs_f64(),
                t.children.as_secs_f64()
            ));
        }
        println!("{line}");
    }
    let med =
        |i: usize, f: fn(&Took) -> Duration| median(took[i].iter().map(f).collect()).as_secs_f64();
    let w: Vec<f64> = (0..names.len()).map(|i| med(i, |t| t.wall)).collect();
    let c: Vec<f64> = (0..names.len()).map(|i| med(i, |t| t.children)).collect();
    let own: Vec<f64> = (0..names.len()).map(|i| med(i, |t| t.own)).collect();
    println!();
    println!("| run | wall (s) | CPU of terraform and providers (s) | CPU of Slipway itself (s) |");
    println!("| --- | --- | --- | --- |");
    for i in 0..names.len() {
        let mine = if i >= 4 {
            format!("{:.2}", own[i])
        } else {
            "-".to_string()
        };
        println!("| {} | {:.2} | {:.2} | {mine} |", names[i], w[i], c[i]);
    }
    println!();
    let (lp, same, two, s1, s2) = (0, 2, 3, 4, 5);
    println!(
        "sequential overhead vs the init && plan loop: {:+.1}% wall, {:+.1}% CPU (target <= +10%)",
        (w[s1] / w[lp] - 1.0) * 100.0,
        (c[s1] / c[lp] - 1.0) * 100.0
    );
    println!(
        "sequential vs a loop of init, plan -out, show -json: {:+.1}% wall, {:+.1}% CPU",
        (w[s1] / w[same] - 1.0) * 100.0,
        (c[s1] / c[same] - 1.0) * 100.0
    );
    println!(
        "parallelism 2 speed-up: {:.2}x vs the init && plan loop (target >= 1.6x; two loops at once reach {:.2}x), {:.2}x vs parallelism 1",
        w[lp] / w[s2],
        w[lp] / w[two],
        w[s1] / w[s2]
    );
    println!("reproduce: cargo bench -p slipway-agent --bench engine_bench");
    Ok(())
}
