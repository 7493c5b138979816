//! Discovery needs no credentials, environment or commands: what `run_cmd`, `get_aws_*`,
//! `get_env` of an unset variable or a file missing from the repository would give is unknown,
//! and the unit is still listed, with its reads and dependencies. Only where an unknown decides
//! what discovery must know (an include path, a dependency, `terraform.source`, `skip`) is the
//! unit an error naming the construct, file and line.

use agent::terragrunt::unknown;
use serde_json::Value as Json;
use slipway_tests::{error_for, unit, TempRepo};

const APP: &str = "live/app";
const APP_FILE: &str = "live/app/terragrunt.hcl";

fn repo_with(files: &[(&str, &str)]) -> TempRepo {
    TempRepo::with_files(files)
}

/// Why the input `name` of `live/app` is unknown; panics when it is known.
fn unknown_input(r: &TempRepo, name: &str) -> String {
    let view = r.graph_at_head();
    let u = unit(&view, APP);
    let eval = u.eval.as_ref().expect("evaluated");
    let inputs = eval.config.get("inputs").expect("inputs");
    let v = inputs
        .as_object()
        .and_then(|o| o.get(name))
        .unwrap_or_else(|| panic!("no input {name}"));
    unknown::reason(v).unwrap_or_else(|| panic!("input {name} is known: {v:?}"))
}

fn lone_unit(hcl: &str) -> TempRepo {
    repo_with(&[(APP_FILE, hcl)])
}

#[test]
fn run_cmd_in_inputs_leaves_the_unit_listed_with_an_unknown_input() {
    let r = lone_unit("inputs = {\n  sha = run_cmd(\"git\", \"rev-parse\", \"HEAD\")\n}\n");
    let why = unknown_input(&r, "sha");
    assert!(
        why.contains("run_cmd(\"git\", \"rev-parse\", \"HEAD\")"),
        "{why}"
    );
}

#[test]
fn a_run_cmd_only_used_in_a_local_nobody_reads_changes_nothing() {
    let r =
        lone_unit("locals {\n  who = run_cmd(\"whoami\")\n}\ninputs = {\n  name = \"app\"\n}\n");
    let view = r.graph_at_head();
    let u = unit(&view, APP);
    let eval = u.eval.as_ref().expect("evaluated");
    assert_eq!(eval.unknown, None, "inputs are all known");
    assert!(
        view.inventory.errors.is_empty(),
        "{:?}",
        view.inventory.errors
    );
}

#[test]
fn aws_identity_functions_are_unknown_during_discovery() {
    let r = lone_unit(
        r#"locals {
  account = get_aws_account_id()
}
inputs = {
  account = local.account
  arn     = get_aws_caller_identity_arn()
  user    = get_aws_caller_identity_user_id()
  alias   = get_aws_account_alias()
  bucket  = "state-${local.account}"
}
"#,
    );
    assert!(unknown_input(&r, "account").contains("get_aws_account_id()"));
    assert!(unknown_input(&r, "arn").contains("get_aws_caller_identity_arn()"));
    assert!(unknown_input(&r, "user").contains("get_aws_caller_identity_user_id()"));
    assert!(unknown_input(&r, "alias").contains("get_aws_account_alias()"));
    // A template keeps the unknown part: the bucket name is unknown, not "state-".
    assert!(unknown_input(&r, "bucket").contains("get_aws_account_id()"));
}

#[test]
fn get_env_of_an_unset_variable_without_default_is_unknown_naming_the_variable() {
    std::env::remove_var("TG_DISCOVERY_TEST_NEVER_SET");
    let r = lone_unit("inputs = {\n  x = get_env(\"TG_DISCOVERY_TEST_NEVER_SET\")\n}\n");
    let why = unknown_input(&r, "x");
    assert!(
        why.contains("TG_DISCOVERY_TEST_NEVER_SET") && why.contains("not set"),
        "{why}"
    );
}

#[test]
fn get_env_never_reads_slipways_or_the_clouds_secrets() {
    std::env::set_var("SLIPWAY_WEBHOOK_SECRET", "hunter2");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "hunter3");
    let r = lone_unit(
        r#"inputs = {
  secret = get_env("SLIPWAY_WEBHOOK_SECRET")
  key    = get_env("AWS_SECRET_ACCESS_KEY", "none")
}
"#,
    );
    let why = unknown_input(&r, "secret");
    assert!(
        why.contains("SLIPWAY_WEBHOOK_SECRET") && why.contains("may not be read"),
        "{why}"
    );
    let inputs = r.inputs_at_head(APP);
    assert_eq!(
        inputs["key"],
        Json::from("none"),
        "a refused variable reads as unset"
    );
    assert!(!inputs.to_string().contains("hunter"));
}

#[test]
fn a_file_that_is_not_in_the_repository_is_unknown_and_watched() {
    let r = lone_unit(
        r#"locals {
  cfg = read_terragrunt_config("generated.hcl")
}
inputs = {
  hosts = file("hosts.txt")
  tier  = local.cfg.locals.tier
}
"#,
    );
    assert!(unknown_input(&r, "hosts").contains("live/app/hosts.txt is not in the repository"));
    assert!(unknown_input(&r, "tier").contains("live/app/generated.hcl"));
    let view = r.graph_at_head();
    let u = unit(&view, APP);
    assert!(u.deps.probes.contains("live/app/hosts.txt"));
    assert!(u.deps.probes.contains("live/app/generated.hcl"));
}

#[test]
fn a_comparison_with_an_unknown_picks_no_branch() {
    let r = lone_unit(
        r#"locals {
  who = run_cmd("whoami")
}
inputs = {
  admin = local.who == "root" ? "yes" : "no"
  upper = upper(local.who)
  known = merge({ a = 1 }, { b = local.who })
}
"#,
    );
    assert!(unknown_input(&r, "admin").contains("run_cmd(\"whoami\")"));
    assert!(unknown_input(&r, "upper").contains("run_cmd(\"whoami\")"));
    let inputs = r.inputs_at_head(APP);
    assert_eq!(
        inputs["known"]["a"],
        Json::from(1),
        "known parts stay known"
    );
}

#[test]
fn an_include_path_that_depends_on_a_command_is_an_error_at_its_line() {
    let r = repo_with(&[
        ("live/root.hcl", "inputs = {}\n"),
        (
            APP_FILE,
            "include \"root\" {\n  path = \"${run_cmd(\"pwd\")}/root.hcl\"\n}\n",
        ),
    ]);
    let view = r.graph_at_head();
    let e = error_for(&view, APP_FILE);
    assert_eq!(e.line, 2, "{e}");
    assert_eq!(e.construct, "include \"root\"");
    let text = e.to_string();
    assert!(
        text.contains("must be known during discovery") && text.contains("run_cmd"),
        "{text}"
    );
}

#[test]
fn skip_and_source_that_depend_on_unknowns_are_errors_naming_them() {
    for (hcl, construct, line) in [
        (
            "skip = get_env(\"TG_DISCOVERY_TEST_NEVER_SET\") == \"1\"\n",
            "skip",
            1,
        ),
        (
            "\nterraform {\n  source = \"../modules/${get_aws_account_id()}\"\n}\n",
            "terraform.source",
            3,
        ),
        (
            "dependency \"vpc\" {\n  config_path = run_cmd(\"pwd\")\n}\n",
            "dependency \"vpc\"",
            2,
        ),
    ] {
        std::env::remove_var("TG_DISCOVERY_TEST_NEVER_SET");
        let r = lone_unit(hcl);
        let view = r.graph_at_head();
        let e = error_for(&view, APP_FILE);
        assert_eq!(e.construct, construct, "{e}");
        assert_eq!(e.line, line, "{e}");
    }
}

#[test]
fn two_units_on_one_module_are_both_affected_when_one_runs_a_command() {
    let r = repo_with(&[
        ("modules/app/main.tf", "variable \"name\" {}\n"),
        (
            "live/a/terragrunt.hcl",
            "terraform {\n  source = \"../../modules/app\"\n}\ninputs = {\n  name = \"a\"\n}\n",
        ),
        (
            "live/b/terragrunt.hcl",
            "locals {\n  who = run_cmd(\"whoami\")\n}\nterraform {\n  source = \"../../modules/app\"\n}\ninputs = {\n  name = local.who\n}\n",
        ),
    ]);
    r.write(
        "modules/app/main.tf",
        "variable \"name\" {}\nvariable \"size\" {\n  default = 1\n}\n",
    );
    r.commit("bigger module");
    let repo = agent::repo::Repo::open(r.path()).expect("open");
    let change = repo.affected("HEAD~1", "HEAD", false).expect("affected");
    let paths: Vec<&str> = change.units.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(paths, ["live/a", "live/b"]);
}

#[test]
fn try_catches_errors_inside_index_and_for_expressions() {
    let r = lone_unit(
        r#"locals {
  m = { a = 1 }
  k = "missing"
}
inputs = {
  index = local.m[try(local.nope, "a")]
  list  = [for x in try(local.nope, [1, 2]) : x * 2]
  body  = [for x in ["a", "b"] : try(local.m[x], 0)]
  zero  = try(1 % 0, "fallback")
}
"#,
    );
    let inputs = r.inputs_at_head(APP);
    assert_eq!(inputs["index"], Json::from(1));
    assert_eq!(inputs["list"], serde_json::json!([2, 4]));
    assert_eq!(inputs["body"], serde_json::json!([1, 0]));
    assert_eq!(inputs["zero"], Json::from("fallback"));
}

#[test]
fn a_dependency_config_path_naming_terragrunt_hcl_is_that_unit() {
    let r = repo_with(&[
        ("live/vpc/terragrunt.hcl", "inputs = {}\n"),
        (
            APP_FILE,
            "dependency \"vpc\" {\n  config_path = \"../vpc/terragrunt.hcl\"\n}\n",
        ),
    ]);
    let view = r.graph_at_head();
    assert_eq!(unit(&view, APP).dependencies, ["live/vpc"]);
}

#[test]
fn a_disabled_dependency_is_no_edge() {
    let r = repo_with(&[
        ("live/vpc/terragrunt.hcl", "inputs = {}\n"),
        (
            APP_FILE,
            "dependency \"vpc\" {\n  config_path = \"../vpc\"\n  enabled     = false\n}\n",
        ),
    ]);
    let view = r.graph_at_head();
    assert!(unit(&view, APP).dependencies.is_empty());
}

#[test]
fn file_in_an_included_configuration_is_read_from_that_files_directory() {
    let r = repo_with(&[
        ("live/common/ports.txt", "443"),
        (
            "live/common/app.hcl",
            "inputs = {\n  port = file(\"ports.txt\")\n}\n",
        ),
        (
            APP_FILE,
            "include \"common\" {\n  path = \"../common/app.hcl\"\n}\n",
        ),
    ]);
    let inputs = r.inputs_at_head(APP);
    assert_eq!(inputs["port"], Json::from("443"));
}

#[test]
fn file_digests_and_fileset_read_the_repository_and_count_as_read() {
    let r = repo_with(&[
        ("live/app/policies/a.json", "{}"),
        ("live/app/policies/b.json", "[]"),
        ("live/app/policies/readme.md", "x"),
        (
            APP_FILE,
            r#"inputs = {
  sum     = filesha256("policies/a.json")
  b64     = filebase64("policies/b.json")
  files   = fileset("policies", "*.json")
  missing = filemd5("generated.bin")
}
"#,
        ),
    ]);
    let view = r.graph_at_head();
    let u = unit(&view, APP);
    let inputs = slipway_tests::config_json(u)["inputs"].clone();
    assert_eq!(
        inputs["sum"],
        Json::from("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
    );
    assert_eq!(inputs["b64"], Json::from("W10="));
    assert_eq!(inputs["files"], serde_json::json!(["a.json", "b.json"]));
    assert!(unknown_input(&r, "missing").contains("live/app/generated.bin"));
    assert!(u.reads().contains_key("live/app/policies/b.json"));
}

#[test]
fn a_unit_that_stops_evaluating_is_listed_as_failed_never_dropped() {
    let r = repo_with(&[
        ("modules/app/main.tf", "variable \"name\" {}\n"),
        (
            "live/a/terragrunt.hcl",
            "terraform {\n  source = \"../../modules/app\"\n}\n",
        ),
        (
            "live/b/terragrunt.hcl",
            "terraform {\n  source = \"../../modules/app\"\n}\n",
        ),
    ]);
    // The change breaks b's configuration and changes the module both use.
    r.write(
        "live/b/terragrunt.hcl",
        "terraform {\n  source = \"../../modules/app\"\n}\ninputs = {\n  x = local.nowhere\n}\n",
    );
    r.write(
        "modules/app/main.tf",
        "variable \"name\" {}\nvariable \"size\" {}\n",
    );
    r.commit("break b");
    let repo = agent::repo::Repo::open(r.path()).expect("open");
    let change = repo.affected("HEAD~1", "HEAD", false).expect("affected");
    let listed: Vec<(&str, agent::affected::Status)> = change
        .units
        .iter()
        .map(|u| (u.path.as_str(), u.status))
        .collect();
    assert_eq!(
        listed,
        [
            ("live/a", agent::affected::Status::Changed),
            ("live/b", agent::affected::Status::Failed)
        ]
    );
    assert!(change.units[1].reasons[0]
        .to_string()
        .contains("could not be evaluated"));
}

#[test]
fn a_unit_broken_when_only_its_module_changes_is_still_listed() {
    let r = repo_with(&[
        ("modules/app/main.tf", "variable \"name\" {}\n"),
        (
            "live/b/terragrunt.hcl",
            "terraform {\n  source = \"../../modules/app\"\n}\n",
        ),
    ]);
    r.write(
        "live/b/terragrunt.hcl",
        "terraform {\n  source = \"../../modules/app\"\n}\ninputs = {\n  x = local.nowhere\n}\n",
    );
    r.commit("break b");
    r.write(
        "modules/app/main.tf",
        "variable \"name\" {}\nvariable \"size\" {}\n",
    );
    r.commit("module change only");
    let repo = agent::repo::Repo::open(r.path()).expect("open");
    let change = repo.affected("HEAD~1", "HEAD", false).expect("affected");
    let paths: Vec<&str> = change.units.iter().map(|u| u.path.as_str()).collect();
    // b fails at both revisions: nothing says which module it uses, so it is listed only
    // when the change touches its own directory or what it includes.
    assert!(paths.is_empty() || paths == ["live/b"], "{paths:?}");
}

#[test]
fn extra_atlantis_dependencies_are_read_by_the_unit() {
    let r = repo_with(&[
        ("live/shared/versions.yaml", "a: 1\n"),
        ("live/shared/policies/p.json", "{}"),
        (
            APP_FILE,
            "locals {\n  extra_atlantis_dependencies = [\"../shared/versions.yaml\", \"../shared/policies\"]\n}\n",
        ),
    ]);
    r.write("live/shared/versions.yaml", "a: 2\n");
    r.write("live/shared/policies/p.json", "{\"v\": 2}");
    r.commit("shared files");
    let repo = agent::repo::Repo::open(r.path()).expect("open");
    let change = repo.affected("HEAD~1", "HEAD", false).expect("affected");
    assert_eq!(change.units.len(), 1);
    let reasons: Vec<String> = change.units[0]
        .reasons
        .iter()
        .map(|x| x.to_string())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|x| x.contains("live/shared/versions.yaml")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|x| x.contains("live/shared/policies/p.json")),
        "{reasons:?}"
    );
}

#[test]
fn find_in_parent_folders_finds_a_directory() {
    let r = repo_with(&[
        ("live/shared/tags.hcl", "locals {\n  owner = \"platform\"\n}\n"),
        (
            "live/dev/app/terragrunt.hcl",
            "locals {\n  shared = find_in_parent_folders(\"shared\")\n  tags   = read_terragrunt_config(\"${local.shared}/tags.hcl\")\n}\ninputs = {\n  owner = local.tags.locals.owner\n}\n",
        ),
    ]);
    let inputs = r.inputs_at_head("live/dev/app");
    assert_eq!(inputs["owner"], Json::from("platform"));
}

#[test]
fn an_account_id_unknown_during_discovery_is_no_account_id() {
    let r = repo_with(&[
        (
            "live/account.hcl",
            "locals {\n  account_id = get_aws_account_id()\n}\n",
        ),
        (
            "live/region.hcl",
            "locals {\n  aws_region = \"eu-west-1\"\n}\n",
        ),
        (APP_FILE, "inputs = {}\n"),
    ]);
    let view = r.graph_at_head();
    let u = unit(&view, APP);
    assert_eq!(u.account_id, None, "not the unknown's text");
    assert_eq!(u.region.as_deref(), Some("eu-west-1"));
}
