//! The `slipway` binary as a user runs it.

use std::path::Path;
use std::process::Command;

fn slipway(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(args)
        .output()
        .expect("slipway runs")
}

fn example() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/infra-repo")
        .display()
        .to_string()
}

#[test]
fn help_lists_the_six_subcommands() {
    let out = slipway(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "worker", "plan", "affected", "graph", "check"] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(cmd)),
            "`{cmd}` missing from:\n{text}"
        );
    }
}

#[test]
fn serve_without_a_webhook_secret_says_which_setting_is_missing_and_exits_2() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_slipway"))
        .arg("serve")
        .env_remove("SLIPWAY_WEBHOOK_SECRET")
        .env_remove("SLIPWAY_WEBHOOK_SECRET_FILE")
        .output()
        .expect("run slipway");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SLIPWAY_WEBHOOK_SECRET"));
}

#[test]
fn check_config_passes_the_example_and_names_a_typo_by_key_and_line() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/service.toml");
    let check = |config: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_slipway"))
            .args(["serve", "--check-config", "--config"])
            .arg(config)
            .env("SLIPWAY_WEBHOOK_SECRET", "s")
            .env_remove("SLIPWAY_GITHUB_TOKEN")
            .output()
            .expect("run slipway")
    };
    let ok = check(&example);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("configuration usable"));
    let dir = tempfile::tempdir().expect("tempdir");
    let typo = dir.path().join("service.toml");
    std::fs::write(&typo, "[repositories]\nallowed_overides = []\n").expect("write");
    let bad = check(&typo);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("line 2") && stderr.contains("allowed_overides"),
        "{stderr}"
    );
}

#[test]
fn worker_needs_a_postgresql_queue() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(["worker", "--database-url", "sqlite://x.db"])
        .output()
        .expect("run slipway");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("postgres://"));
}

#[test]
fn graph_json_lists_every_unit_with_env_and_dependencies() {
    let out = slipway(&["graph", "--repo", &example(), "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let units = doc["units"].as_array().expect("units array");
    assert_eq!(units.len(), 6);
    let app = units
        .iter()
        .find(|u| u["path"] == "live/accounts/prod/us-east-1/app")
        .expect("prod app");
    assert_eq!(app["env"], "prod");
    assert_eq!(
        app["dependencies"],
        serde_json::json!(["live/accounts/prod/us-east-1/database"])
    );
}

#[test]
fn graph_of_a_missing_directory_is_a_clear_error() {
    let out = slipway(&["graph", "--repo", "/nonexistent/infra"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/infra is not a directory"));
}

#[test]
fn graph_formats_dot_and_mermaid_draw_the_dependency_edges() {
    let dot = slipway(&["graph", "--repo", &example(), "--format", "dot"]);
    let dot = String::from_utf8_lossy(&dot.stdout);
    assert!(
        dot.contains(
            r#""live/accounts/dev/us-east-1/app" -> "live/accounts/dev/us-east-1/database";"#
        ),
        "{dot}"
    );
    let mermaid = slipway(&["graph", "--repo", &example(), "--format", "mermaid"]);
    let mermaid = String::from_utf8_lossy(&mermaid.stdout);
    assert!(mermaid.starts_with("graph LR"), "{mermaid}");
    assert_eq!(mermaid.matches(" --> ").count(), 3, "{mermaid}");
}

#[test]
fn a_broken_root_configuration_is_one_error_line_naming_the_units_it_failed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write(
        "live/terragrunt.hcl",
        "inputs = {\n  region = local.nowhere\n}\n",
    );
    for unit in ["a", "b", "c", "d", "e"] {
        write(
            &format!("live/{unit}/terragrunt.hcl"),
            "include \"root\" {\n  path = find_in_parent_folders()\n}\n",
        );
    }
    let out = slipway(&["graph", "--repo", &dir.path().display().to_string()]);
    // Units that fail are warnings: the command lists what it could and succeeds.
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].starts_with("warning: live/terragrunt.hcl:1: inputs:"),
        "{stderr}"
    );
    assert!(
        errors[0].ends_with("(evaluating live/a, live/b, live/c and 2 more units)"),
        "{stderr}"
    );
}

fn rules_fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../rules/tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn check_of_a_failed_plan_exits_1_and_says_plan_failed() {
    let out = slipway(&[
        "check",
        "--plan",
        &rules_fixture("issue11/errored-1.2.json"),
        "--env",
        "dev",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("plan failed"), "{stdout}");
    assert!(!stdout.contains("No changes"), "{stdout}");
}

#[test]
fn check_names_the_slipway_toml_it_found_and_json_stays_clean() {
    let out = slipway(&[
        "check",
        "--plan",
        &rules_fixture("aws-1.2.json"),
        "--env",
        "prod",
        "--format",
        "json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../slipway.toml");
    assert!(
        stderr.contains("using config") && stderr.contains("slipway.toml"),
        "{stderr}"
    );
    assert!(root.is_file());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json on stdout");
    assert!(doc["findings"].is_array());
}

#[test]
fn an_endless_plan_input_stops_at_the_cap_with_a_clear_error() {
    let out = slipway(&[
        "check",
        "--plan",
        "/dev/zero",
        "--env",
        "dev",
        "--max-plan-bytes",
        "1000000",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/dev/zero: the plan is longer than 1000000 bytes"),
        "{err}"
    );
}

#[test]
fn a_closed_standard_output_ends_quietly() {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(["graph", "--repo", &example()])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("slipway runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn unit_paths_cannot_forge_terminal_output_or_break_a_mermaid_label() {
    let dir = tempfile::tempdir().expect("tempdir");
    let unit = dir.path().join("live/red\u{1b}[31m\"x\nfake");
    std::fs::create_dir_all(&unit).expect("mkdir");
    std::fs::write(unit.join("terragrunt.hcl"), "inputs = {}\n").expect("write");
    let repo = dir.path().display().to_string();
    let text = slipway(&["graph", "--repo", &repo]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    assert!(
        stdout.contains(r#"live/red\u{1b}[31m"x\nfake"#),
        "{stdout:?}"
    );
    let mermaid = slipway(&["graph", "--repo", &repo, "--format", "mermaid"]);
    let mermaid = String::from_utf8_lossy(&mermaid.stdout);
    let label = mermaid.lines().nth(1).expect("a node");
    assert_eq!(label.matches('"').count(), 2, "{label}");
    assert!(label.contains("#quot;"), "{label}");
}
