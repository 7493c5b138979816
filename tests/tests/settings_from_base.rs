//! A pull request cannot change its own gate: rights, requirements and policy come from the
//! base's `slipway.toml`; the change's own file is validated and its effect shown.

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use agent::artifacts::Manifest;
use agent::config::Overrides;
use agent::engine::PlanOutcome;
use agent::repo::{HeadSettings, Repo};
use slipway_tests::{workspace_root, TempRepo};
use webhook::comment::render;
use webhook::review::{assemble, prepare, Prepared};

const DB_UNIT: &str = "live/prod/database";

const BASE_SETTINGS: &str = r#"promotion = ["dev", "prod"]

[environments.dev]
path = "live/dev"

[environments.prod]
path = "live/prod"
apply = "command"
apply_rights = { teams = ["acme/platform"] }
requirements = { approvals = 2 }
"#;

const EXEMPTION: &str = r#"
[[policy.exemptions]]
rule = "db-deletion-protection"
address = "module.database.aws_db_instance.main"
reason = "the database is scratch"
"#;

/// A repository with a prod database unit, `settings` at `main`, and a pull request branch
/// `pr` that edits the unit and sets `head_settings`.
fn repo_with_change(settings: &str, head_settings: &str) -> TempRepo {
    let repo = TempRepo::with_files(&[
        ("slipway.toml", settings),
        (
            "live/prod/database/terragrunt.hcl",
            "terraform {\n  source = \"../../../modules/db\"\n}\ninputs = { size = \"small\" }\n",
        ),
        ("modules/db/main.tf", "variable \"size\" {}\n"),
    ]);
    let base = repo.commit("nothing");
    repo.branch("pr", &base);
    repo.write("slipway.toml", head_settings);
    repo.edit(
        "live/prod/database/terragrunt.hcl",
        "\"small\"",
        "\"large\"",
    );
    repo.commit("prod: a larger database");
    repo
}

/// The database unit's plan: the SARC-NG production plan, whose database has no deletion
/// protection.
fn planned(prepared: &Prepared) -> HashMap<String, Result<PlanOutcome, agent::engine::RunError>> {
    let plan_json = std::fs::read(workspace_root().join("rules/tests/fixtures/aws-1.2.json"))
        .expect("the fixture plan");
    assert_eq!(prepared.to_plan, [DB_UNIT], "the edited unit is planned");
    let outcome = PlanOutcome {
        unit: DB_UNIT.into(),
        plan_json,
        log: String::new(),
        manifest: Manifest {
            repo: "acme/infra".into(),
            pr: Some(1),
            commit: prepared.change.head.to_string(),
            unit: DB_UNIT.into(),
            plan_sha256: String::new(),
            plan_json_sha256: String::new(),
            log_sha256: String::new(),
            engine: "native".into(),
            created_at: 0,
        },
        identity: None,
        notes: Vec::new(),
        sources: Vec::new(),
        duration: Duration::ZERO,
    };
    HashMap::from([(DB_UNIT.to_string(), Ok(outcome))])
}

fn blocks_on_deletion_protection(prepared: &Prepared) -> (bool, String) {
    let (review, _) = assemble(prepared, planned(prepared));
    let report = review.units[0]
        .report
        .as_ref()
        .expect("the plan was checked");
    let blocked = report
        .blocking()
        .iter()
        .any(|f| f.rule.to_string() == "db-deletion-protection");
    (blocked, render(&review))
}

#[test]
fn an_exemption_added_by_the_change_does_not_exempt_its_own_database() {
    let repo = repo_with_change(BASE_SETTINGS, &format!("{BASE_SETTINGS}{EXEMPTION}"));
    let prepared =
        prepare(&Repo::open(repo.path()).expect("open"), "main", "HEAD").expect("prepare");
    assert!(
        prepared
            .change
            .head_view
            .config
            .policy
            .exemptions
            .is_empty(),
        "the plans run under the base's policy"
    );
    let (blocked, comment) = blocks_on_deletion_protection(&prepared);
    assert!(blocked, "the finding still blocks: {comment}");
    let row = comment
        .lines()
        .find(|l| l.contains("`policy.exemptions`"))
        .unwrap_or_else(|| panic!("the exemption is listed: {comment}"));
    assert!(
        row.contains("loosens a production protection"),
        "marked for review: {row}"
    );
    assert!(
        comment.contains("Its plans run under the base's settings"),
        "{comment}"
    );
}

#[test]
fn an_exemption_on_the_base_does_exempt_the_database() {
    // The same review once the exemption is merged: the exemption mechanism itself works, so
    // the test above fails if the head's policy were used.
    let merged = format!("{BASE_SETTINGS}{EXEMPTION}");
    let repo = repo_with_change(&merged, &merged);
    let prepared =
        prepare(&Repo::open(repo.path()).expect("open"), "main", "HEAD").expect("prepare");
    let (blocked, comment) = blocks_on_deletion_protection(&prepared);
    assert!(!blocked, "exempted on the base: {comment}");
    assert!(
        !comment.contains("### `slipway.toml`"),
        "the change leaves slipway.toml alone: {comment}"
    );
}

#[test]
fn a_change_adding_its_author_to_prod_rights_does_not_grant_them() {
    let head = BASE_SETTINGS.replace(
        "apply_rights = { teams = [\"acme/platform\"] }",
        "apply_rights = { teams = [\"acme/platform\"], users = [\"mallory\"] }\nrequirements = { approvals = 0 }",
    ).replace("requirements = { approvals = 2 }\n", "");
    let repo = repo_with_change(BASE_SETTINGS, &head);
    let prepared =
        prepare(&Repo::open(repo.path()).expect("open"), "main", "HEAD").expect("prepare");
    let prod = &prepared.change.head_view.config.environments["prod"];
    assert!(prod.apply_rights.users.is_empty(), "{prod:?}");
    assert_eq!(prod.requirements.approvals, 2);
    let Some(HeadSettings::Changes(changes)) = &prepared.change.settings.head else {
        panic!(
            "the change to slipway.toml is reported: {:?}",
            prepared.change.settings
        );
    };
    let keys: Vec<(&str, bool)> = changes.iter().map(|c| (c.key.as_str(), c.prod)).collect();
    assert_eq!(
        keys,
        [
            ("environments.prod.apply_rights.users", true),
            ("environments.prod.requirements.approvals", true)
        ]
    );
}

#[test]
fn an_invalid_slipway_toml_in_the_change_is_reported_and_the_review_goes_on() {
    let head = format!("{BASE_SETTINGS}aproval = 1\n");
    let repo = repo_with_change(BASE_SETTINGS, &head);
    let prepared =
        prepare(&Repo::open(repo.path()).expect("open"), "main", "HEAD").expect("prepare");
    let Some(HeadSettings::Invalid(e)) = &prepared.change.settings.head else {
        panic!("reported: {:?}", prepared.change.settings);
    };
    assert!(e.contains("line 11") && e.contains("aproval"), "{e}");
    let (blocked, comment) = blocks_on_deletion_protection(&prepared);
    assert!(
        blocked,
        "the plans are still checked, under the base's settings"
    );
    assert!(comment.contains("cannot be used"), "{comment}");
}

#[test]
fn a_setting_the_service_fixes_wins_and_one_it_does_not_allow_is_reported() {
    let repo = repo_with_change(BASE_SETTINGS, BASE_SETTINGS);
    let overrides = Overrides::parse(
        r#"
allowed_overrides = ["promotion", "environments.*.path", "environments.*.requirements"]
[fixed.environments.prod]
apply_rights = { teams = ["acme/sre"] }
"#,
        "service.toml",
    )
    .expect("valid overrides");
    let repo = Repo::open(repo.path())
        .expect("open")
        .with_overrides(overrides);
    let prepared = prepare(&repo, "main", "HEAD").expect("prepare");
    let prod = &prepared.change.head_view.config.environments["prod"];
    assert_eq!(prod.apply_rights.teams, ["acme/sre"], "the service's team");
    assert_eq!(prod.requirements.approvals, 2, "an allowed setting is kept");
    assert_eq!(
        prepared.change.settings.ignored,
        ["environments.prod.apply", "environments.prod.apply_rights"]
    );
    let (_, comment) = blocks_on_deletion_protection(&prepared);
    assert!(
        comment.contains("The service does not let this repository set `environments.prod.apply`, `environments.prod.apply_rights`"),
        "{comment}"
    );
}

#[test]
fn the_command_line_says_which_slipway_toml_it_used() {
    let repo = repo_with_change(BASE_SETTINGS, &format!("{BASE_SETTINGS}{EXEMPTION}"));
    let base = repo
        .repo
        .revparse_single("main")
        .expect("main")
        .id()
        .to_string();
    let out = Command::new(slipway_tests::service::slipway_bin())
        .args(["affected", "--base", "main", "--repo"])
        .arg(repo.path())
        .output()
        .expect("slipway affected runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "settings: slipway.toml of the base main (commit {})",
            &base[..7]
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 loosening a production protection"),
        "{stderr}"
    );
}
