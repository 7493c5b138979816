//! Concurrency: bounded parallel runs, one run per unit at a time, a shared plugin cache, per-run
//! timeouts and cancellation that stop the child cleanly. Stand-in programs play terraform where
//! the test needs a run that hangs or ignores signals; the plugin cache is exercised with real
//! terraform.

mod engine_support;

use std::time::{Duration, Instant};

use agent::aws::Action;
use agent::engine::{RunError, RunEvent};
use engine_support::*;
use slipway_tests::TempRepo;

fn example_units() -> Vec<String> {
    ["dev", "staging", "prod"]
        .iter()
        .flat_map(|env| {
            ["app", "database"]
                .iter()
                .map(move |u| format!("live/accounts/{env}/us-east-1/{u}"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_are_bounded_and_never_two_on_one_unit() {
    let repo = TempRepo::example();
    let work = tempfile::tempdir().unwrap();
    let mut s = settings(work.path());
    s.terraform = quick_terraform(work.path(), "0.2");
    s.parallelism = 2;
    let (runner, _store, mut events) = runner(s).await;
    let ws = workspace(&repo);
    let mut units = example_units();
    // The same unit asked for three times at once.
    let twice = units[0].clone();
    units.push(twice.clone());
    units.push(twice.clone());

    let results = runner.plan_all(ws, &units).await;
    assert!(
        results.iter().all(|(_, r)| r.is_ok()),
        "{:?}",
        results
            .iter()
            .filter(|(_, r)| r.is_err())
            .collect::<Vec<_>>()
    );

    let mut running = 0usize;
    let mut most = 0usize;
    let mut on_unit = 0usize;
    for e in drain(&mut events) {
        match e {
            RunEvent::Started { unit, .. } => {
                running += 1;
                most = most.max(running);
                if unit == twice {
                    on_unit += 1;
                    assert_eq!(on_unit, 1, "two runs on {unit} at once");
                }
            }
            RunEvent::Finished { unit, .. } => {
                running -= 1;
                if unit == twice {
                    on_unit -= 1;
                }
            }
            _ => {}
        }
    }
    assert_eq!(most, 2, "at most `parallelism` runs at once, and that many");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_runs_share_one_plugin_cache() {
    let repo = TempRepo::example();
    let work = tempfile::tempdir().unwrap();
    let mut s = settings(work.path());
    s.parallelism = 3;
    let cache = work.path().join("plugins");
    s.plugin_cache = Some(cache.clone());
    let (runner, _store, _events) = runner(s).await;
    let ws = workspace(&repo);
    let results = runner.plan_all(ws, &example_units()).await;
    for (u, r) in &results {
        assert!(r.is_ok(), "{u}: {r:?}");
    }
    let cached = cache.join("registry.terraform.io/hashicorp/null/2.1.2/linux_amd64");
    assert!(cached.is_dir(), "the provider is in the shared cache");
    assert!(cache.join(agent::engine::plugin_cache::LOCK_FILE).is_file());
    // Every working directory links to the one cached copy rather than holding its own.
    let linked = work
        .path()
        .join("live_accounts_prod_us-east-1_app/app/.terraform/providers/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64");
    let target = std::fs::read_link(&linked).expect("a link into the cache");
    assert_eq!(target, cached);
}

/// A terraform whose `plan` hangs; it notes the signals it gets in `marks` (unless `ignore`,
/// where it ignores SIGTERM altogether).
fn hanging_terraform(
    dir: &std::path::Path,
    marks: &std::path::Path,
    ignore: bool,
) -> std::path::PathBuf {
    let trap = if ignore {
        "trap '' TERM".to_string()
    } else {
        format!("trap 'echo TERM >> \"{}\"; exit 143' TERM", marks.display())
    };
    script(
        dir,
        "terraform",
        &format!(
            r#"case "$1" in
  plan) {trap}
        echo "planning forever"
        sleep 30 &
        wait $! ;;
esac
"#
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_over_its_timeout_gets_sigterm_and_is_reported() {
    let repo = TempRepo::example();
    let work = tempfile::tempdir().unwrap();
    let marks = work.path().join("marks");
    let mut s = settings(work.path());
    s.terraform = hanging_terraform(work.path(), &marks, false);
    s.timeout = Duration::from_secs(2);
    s.grace = Duration::from_secs(10);
    let (runner, _store, mut events) = runner(s).await;
    let started = Instant::now();
    let err = runner
        .plan(workspace(&repo), &example_units()[1])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RunError::TimedOut { step, .. } if step == "plan"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "stopped promptly"
    );
    assert_eq!(std::fs::read_to_string(&marks).unwrap().trim(), "TERM");
    let lines: Vec<String> = drain(&mut events)
        .into_iter()
        .filter_map(|e| match e {
            RunEvent::Line { line, .. } => Some(line),
            _ => None,
        })
        .collect();
    assert!(lines.iter().any(|l| l == "planning forever"), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("stopping terraform plan")),
        "{lines:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_ignoring_sigterm_is_killed_after_the_grace_period() {
    let repo = TempRepo::example();
    let work = tempfile::tempdir().unwrap();
    let marks = work.path().join("marks");
    let mut s = settings(work.path());
    s.terraform = hanging_terraform(work.path(), &marks, true);
    s.timeout = Duration::from_secs(1);
    s.grace = Duration::from_secs(1);
    let (runner, _store, _events) = runner(s).await;
    let started = Instant::now();
    let err = runner
        .plan(workspace(&repo), &example_units()[1])
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::TimedOut { .. }), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "killed after the grace period, not after the child's 30 s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_the_run_in_flight_and_the_queued_ones() {
    let repo = TempRepo::example();
    let work = tempfile::tempdir().unwrap();
    let marks = work.path().join("marks");
    let mut s = settings(work.path());
    s.terraform = hanging_terraform(work.path(), &marks, false);
    s.parallelism = 1;
    let (runner, _store, mut events) = runner(s).await;
    let ws = workspace(&repo);
    let units: Vec<String> = example_units().into_iter().take(3).collect();
    let started = Instant::now();
    let all = {
        let (runner, units) = (runner.clone(), units.clone());
        tokio::spawn(async move { runner.plan_all(ws, &units).await })
    };
    // Cancel once the first run is inside terraform's plan.
    loop {
        match tokio::time::timeout(Duration::from_secs(30), events.recv()).await {
            Ok(Some(RunEvent::Line { line, .. })) if line == "planning forever" => break,
            Ok(Some(_)) => {}
            other => panic!("no plan started: {other:?}"),
        }
    }
    runner.cancel();
    let results = all.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(20));
    for (u, r) in &results {
        assert!(matches!(r, Err(RunError::Cancelled { .. })), "{u}: {r:?}");
    }
    assert_eq!(std::fs::read_to_string(&marks).unwrap().trim(), "TERM");
    // Queued units never started.
    let starts = drain(&mut events)
        .into_iter()
        .filter(|e| {
            matches!(
                e,
                RunEvent::Started {
                    action: Action::Plan,
                    ..
                }
            )
        })
        .count();
    assert_eq!(
        starts, 0,
        "only the first run had started before the cancel"
    );
}
