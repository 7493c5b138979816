//! At plan time the values discovery leaves unknown are real: the AWS identity from STS with
//! the run's assumed role (on moto), `get_env` from the environment's `env` table and
//! `env_allow`, `run_cmd` only where `allow_run_cmd` says so and never for a fork. A value that
//! is still unknown, or a secret of Slipway's own environment, fails that unit's plan naming it.

mod engine_support;

use std::sync::Arc;

use engine_support::{moto_settings, runner, settings, workspace};
use slipway_tests::moto::Moto;
use slipway_tests::TempRepo;

const UNIT: &str = "live/dev/app";

const MAIN_TF: &str = "variable \"value\" {}\n\nresource \"null_resource\" \"app\" {\n  triggers = {\n    value = var.value\n  }\n}\n";

fn repo(value: &str, env_table: &str) -> TempRepo {
    TempRepo::with_files(&[
        (
            "slipway.toml",
            &format!(
                "live_dir = \"live\"\n\n[environments.dev]\npath = \"live/dev\"\nplan_role = \"arn:aws:iam::111111111111:role/slipway-plan\"\nregion = \"us-east-1\"\n{env_table}"
            ),
        ),
        (
            "live/dev/app/terragrunt.hcl",
            &format!("inputs = {{\n  value = {value}\n}}\n"),
        ),
        ("live/dev/app/main.tf", MAIN_TF),
    ])
}

/// The planned `triggers.value` of the unit's resource.
fn planned_value(plan_json: &[u8]) -> String {
    let plan: serde_json::Value = serde_json::from_slice(plan_json).expect("plan JSON");
    plan["resource_changes"][0]["change"]["after"]["triggers"]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("no value in {plan}"))
        .to_string()
}

async fn plan_error(r: &TempRepo, s: agent::engine::EngineSettings, fork: bool) -> String {
    let (runner, _store, _events) = runner(s).await;
    let mut ws = (*workspace(r)).clone();
    ws.fork = fork;
    match runner.plan(Arc::new(ws), UNIT).await {
        Ok(o) => panic!("planned: {}", String::from_utf8_lossy(&o.plan_json)),
        Err(e) => e.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_aws_account_id_is_the_assumed_roles_account_from_sts() {
    let moto = Moto::start();
    let r = repo("get_aws_account_id()", "");
    let work = tempfile::tempdir().expect("tempdir");
    let (runner, _store, _events) = runner(moto_settings(work.path(), &moto, None)).await;
    let out = runner.plan(workspace(&r), UNIT).await.expect("plan");
    assert_eq!(planned_value(&out.plan_json), "111111111111");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_env_reads_the_environments_env_table() {
    let r = repo(
        "get_env(\"TIER\")",
        "\n[environments.dev.env]\nTIER = \"gold\"\n",
    );
    let work = tempfile::tempdir().expect("tempdir");
    let mut s = settings(work.path());
    s.user_env = false;
    let (runner, _store, _events) = runner(s).await;
    let out = runner.plan(workspace(&r), UNIT).await.expect("plan");
    assert_eq!(planned_value(&out.plan_json), "gold");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_the_service_get_env_reads_only_allowed_names() {
    let home = std::env::var("HOME").expect("HOME is set");
    // As `slipway serve` runs: discovery reads nothing of Slipway's own environment.
    agent::terragrunt::runtime::discovery_without_process_env();
    let work = tempfile::tempdir().expect("tempdir");
    let mut s = settings(work.path());
    s.user_env = false;
    let refused = plan_error(&repo("get_env(\"HOME\")", ""), s.clone(), false).await;
    assert!(refused.contains("get_env(\"HOME\")"), "{refused}");
    assert!(refused.contains("still unknown"), "{refused}");

    let allowed = repo("get_env(\"HOME\")", "env_allow = [\"HOME\"]\n");
    let (runner, _store, _events) = runner(s).await;
    let out = runner.plan(workspace(&allowed), UNIT).await.expect("plan");
    assert_eq!(planned_value(&out.plan_json), home);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slipways_own_secrets_are_never_readable_even_when_allowed() {
    const NAME: &str = "SLIPWAY_WEBHOOK_SECRET";
    // Set in this test binary only; no other test here reads it.
    std::env::set_var(NAME, "hunter2-webhook-secret");
    let r = repo(
        &format!("get_env(\"{NAME}\")"),
        &format!("env_allow = [\"{NAME}\"]\n"),
    );
    // Discovery lists the unit; the value is unknown there.
    let view = r.graph_at_head();
    slipway_tests::unit(&view, UNIT);
    let work = tempfile::tempdir().expect("tempdir");
    for user_env in [true, false] {
        let mut s = settings(work.path());
        s.user_env = user_env;
        let msg = plan_error(&r, s, false).await;
        assert!(msg.contains(NAME), "{msg}");
        assert!(msg.contains("may not be read"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_cmd_runs_only_where_allowed_and_never_for_a_fork() {
    let work = tempfile::tempdir().expect("tempdir");
    let value = "run_cmd(\"echo\", \"from-a-command\")";
    let refused = plan_error(&repo(value, ""), settings(work.path()), false).await;
    assert!(
        refused.contains("run_cmd is not allowed in environment \"dev\""),
        "{refused}"
    );

    let allowed = repo(value, "allow_run_cmd = true\n");
    let fork = plan_error(&allowed, settings(work.path()), true).await;
    assert!(
        fork.contains("never run for a pull request from a fork"),
        "{fork}"
    );

    let (runner, _store, _events) = runner(settings(work.path())).await;
    let out = runner.plan(workspace(&allowed), UNIT).await.expect("plan");
    assert_eq!(planned_value(&out.plan_json), "from-a-command");

    // In the unit's own directory, as Terragrunt runs it.
    let pwd = repo("run_cmd(\"pwd\")", "allow_run_cmd = true\n");
    let out = runner.plan(workspace(&pwd), UNIT).await.expect("plan");
    let dir = planned_value(&out.plan_json);
    assert!(dir.ends_with("/live/dev/app"), "{dir}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamp_is_real_when_planning() {
    let r = repo("timestamp()", "");
    let work = tempfile::tempdir().expect("tempdir");
    let (runner, _store, _events) = runner(settings(work.path())).await;
    let out = runner.plan(workspace(&r), UNIT).await.expect("plan");
    let t = planned_value(&out.plan_json);
    assert!(
        t.starts_with("20") && t.ends_with('Z') && t.len() == 20,
        "{t}"
    );
}
