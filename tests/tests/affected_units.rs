//! Which units a change affects, and why; the unit graph; the shapes `slipway affected` and
//! `slipway graph` print. Every case is a real git repository with real commits.

use agent::affected::{Affected, Reason, Status};
use agent::graph::GraphProblem;
use agent::repo::Repo;
use serde_json::json;
use slipway_tests::{unit, TempRepo};

const DEV_VPC: &str = "live/accounts/dev/us-east-1/vpc";
const DEV_APP: &str = "live/accounts/dev/us-east-1/app";
const DEV_DNS: &str = "live/accounts/dev/us-east-1/dns";
const PROD_VPC: &str = "live/accounts/prod/us-east-1/vpc";
const PROD_APP: &str = "live/accounts/prod/us-east-1/app";

const SLIPWAY_TOML: &str = r#"live_dir = "live"
promotion = ["dev", "prod"]

[environments.dev]
path = "live/accounts/dev"
account_id = "111111111111"

[environments.prod]
path = "live/accounts/prod"
account_id = "333333333333"
"#;

const ROOT: &str = r#"locals {
  account = read_terragrunt_config(find_in_parent_folders("account.hcl"))
  region  = read_terragrunt_config(find_in_parent_folders("region.hcl"))
}
remote_state {
  backend = "local"
  config = {
    path = "${get_repo_root()}/.state/${path_relative_to_include()}/terraform.tfstate"
  }
}
inputs = {
  account_name = local.account.locals.account_name
  aws_region   = local.region.locals.aws_region
}
"#;

const VPC: &str = r#"include "root" {
  path = find_in_parent_folders()
}
terraform {
  source = "${get_repo_root()}/modules//vpc"
}
inputs = {
  cidr = "10.0.0.0/16"
}
"#;

const APP_UNIT: &str = r#"include "root" {
  path = find_in_parent_folders()
}
terraform {
  source = "${get_repo_root()}/modules//app"
}
dependency "vpc" {
  config_path  = "../vpc"
  mock_outputs = { vpc_id = "vpc-mock" }
}
inputs = {
  vpc_id = dependency.vpc.outputs.vpc_id
}
"#;

const DNS: &str = r#"include "root" {
  path = find_in_parent_folders()
}
dependency "app" {
  config_path  = "../app"
  mock_outputs = { endpoint = "app.mock" }
}
inputs = {
  target = dependency.app.outputs.endpoint
}
"#;

/// Two accounts (dev, prod) with a vpc and an app each (dev also a dns unit), a root that
/// reads account.hcl and region.hcl, local modules (app calls a nested security-group module),
/// a dev var file, and a README. Committed; returns the repository and the commit.
fn two_accounts() -> (TempRepo, String) {
    let r = TempRepo::new();
    r.write_all(&[
        ("slipway.toml", SLIPWAY_TOML),
        ("README.md", "# Infrastructure\n"),
        ("live/README.md", "# Live tree\n"),
        ("live/terragrunt.hcl", ROOT),
        (
            "live/accounts/dev/account.hcl",
            "locals {\n  account_name = \"dev\"\n}\n",
        ),
        (
            "live/accounts/dev/us-east-1/region.hcl",
            "locals {\n  aws_region = \"us-east-1\"\n}\n",
        ),
        ("live/accounts/dev/dev.tfvars", "instance_type = \"t3.small\"\n"),
        (&format!("{DEV_VPC}/terragrunt.hcl"), VPC),
        (
            &format!("{DEV_APP}/terragrunt.hcl"),
            &APP_UNIT.replace(
                "//app\"\n",
                "//app\"\n  extra_arguments \"vars\" {\n    commands           = [\"plan\"]\n    required_var_files = [\"../../dev.tfvars\"]\n  }\n",
            ),
        ),
        (&format!("{DEV_DNS}/terragrunt.hcl"), DNS),
        (
            "live/accounts/prod/account.hcl",
            "locals {\n  account_name = \"prod\"\n}\n",
        ),
        (
            "live/accounts/prod/us-east-1/region.hcl",
            "locals {\n  aws_region = \"us-east-1\"\n}\n",
        ),
        (&format!("{PROD_VPC}/terragrunt.hcl"), VPC),
        (&format!("{PROD_APP}/terragrunt.hcl"), APP_UNIT),
        ("modules/vpc/main.tf", "variable \"cidr\" {}\n"),
        (
            "modules/app/main.tf",
            "variable \"vpc_id\" {}\nmodule \"sg\" {\n  source = \"../security-group\"\n}\n",
        ),
        ("modules/security-group/main.tf", "variable \"vpc_id\" {}\n"),
    ]);
    let base = r.commit("two accounts");
    // The tree must evaluate cleanly, or every test below would prove nothing.
    let view = r.graph_at_head();
    assert!(
        view.inventory.errors.is_empty(),
        "{:?}",
        view.inventory.errors
    );
    assert_eq!(
        view.inventory.units.keys().collect::<Vec<_>>(),
        [DEV_APP, DEV_DNS, DEV_VPC, PROD_APP, PROD_VPC]
    );
    for app in [DEV_APP, PROD_APP] {
        assert!(
            unit(&view, app)
                .module_dirs
                .contains("modules/security-group"),
            "{app} uses the app module"
        );
    }
    assert!(unit(&view, DEV_APP)
        .reads()
        .contains_key("live/accounts/dev/dev.tfvars"));
    (r, base)
}

fn paths(units: &[Affected]) -> Vec<&str> {
    units.iter().map(|u| u.path.as_str()).collect()
}

fn find<'a>(units: &'a [Affected], path: &str) -> &'a Affected {
    units
        .iter()
        .find(|u| u.path == path)
        .unwrap_or_else(|| panic!("{path} is not affected: {:?}", paths(units)))
}

// ---------------------------------------------------------------------------------------------
// Affected units

#[test]
fn a_change_to_a_units_own_file_affects_only_that_unit() {
    let (r, base) = two_accounts();
    r.edit(
        &format!("{DEV_VPC}/terragrunt.hcl"),
        "10.0.0.0/16",
        "10.1.0.0/16",
    );
    r.commit("dev vpc: new cidr");
    let change = r.affected_since(&base, false);
    assert_eq!(paths(&change.units), [DEV_VPC]);
    let vpc = &change.units[0];
    assert_eq!(vpc.env.as_deref(), Some("dev"));
    assert_eq!(vpc.status, Status::Changed);
    assert_eq!(
        vpc.reasons,
        [Reason::OwnFile {
            file: format!("{DEV_VPC}/terragrunt.hcl")
        }]
    );
    assert!(change.errors.is_empty());
}

#[test]
fn a_new_file_in_a_units_directory_affects_that_unit() {
    let (r, base) = two_accounts();
    r.write(
        &format!("{PROD_APP}/outputs.tf"),
        "output \"x\" {\n  value = 1\n}\n",
    );
    r.commit("prod app: an output");
    let change = r.affected_since(&base, false);
    assert_eq!(paths(&change.units), [PROD_APP]);
    assert_eq!(
        change.units[0].reasons,
        [Reason::OwnFile {
            file: format!("{PROD_APP}/outputs.tf")
        }]
    );
}

#[test]
fn a_change_to_the_root_include_affects_every_unit_that_includes_it() {
    let (r, base) = two_accounts();
    r.edit(
        "live/terragrunt.hcl",
        "backend = \"local\"",
        "backend = \"s3\"",
    );
    r.commit("root: s3 state");
    let change = r.affected_since(&base, false);
    assert_eq!(
        paths(&change.units),
        [DEV_APP, DEV_DNS, DEV_VPC, PROD_APP, PROD_VPC]
    );
    for u in &change.units {
        assert_eq!(
            u.reasons,
            [Reason::Include {
                file: "live/terragrunt.hcl".into()
            }],
            "{}",
            u.path
        );
    }
}

#[test]
fn a_change_to_account_hcl_affects_exactly_that_accounts_units() {
    let (r, base) = two_accounts();
    r.edit(
        "live/accounts/prod/account.hcl",
        "\"prod\"",
        "\"production\"",
    );
    r.commit("prod: rename account");
    let change = r.affected_since(&base, false);
    assert_eq!(paths(&change.units), [PROD_APP, PROD_VPC]);
    for u in &change.units {
        assert_eq!(u.env.as_deref(), Some("prod"));
        assert!(
            u.reasons.iter().any(|r| matches!(
                r,
                Reason::ReadConfig { file, .. } if file == "live/accounts/prod/account.hcl"
            )),
            "{}: {:?}",
            u.path,
            u.reasons
        );
    }
}

#[test]
fn a_module_change_affects_every_unit_using_it() {
    let (r, base) = two_accounts();
    r.write(
        "modules/vpc/main.tf",
        "variable \"cidr\" {}\nvariable \"azs\" {\n  default = 2\n}\n",
    );
    r.commit("vpc module: azs");
    let change = r.affected_since(&base, false);
    assert_eq!(paths(&change.units), [DEV_VPC, PROD_VPC]);
    for u in &change.units {
        assert_eq!(
            u.reasons,
            [Reason::Module {
                file: "modules/vpc/main.tf".into(),
                module: "modules/vpc".into()
            }]
        );
    }
}

#[test]
fn a_change_to_a_module_called_by_a_module_affects_the_units_using_the_outer_one() {
    let (r, base) = two_accounts();
    r.write(
        "modules/security-group/rules.tf",
        "variable \"ports\" {\n  default = [443]\n}\n",
    );
    r.commit("security group: ports");
    let change = r.affected_since(&base, false);
    assert_eq!(paths(&change.units), [DEV_APP, PROD_APP]);
    assert_eq!(
        change.units[0].reasons,
        [Reason::Module {
            file: "modules/security-group/rules.tf".into(),
            module: "modules/security-group".into()
        }]
    );
}

#[test]
fn a_var_file_change_affects_the_unit_that_names_it() {
    let (r, base) = two_accounts();
    r.edit("live/accounts/dev/dev.tfvars", "t3.small", "t3.large");
    r.commit("dev: bigger instances");
    let change = r.affected_since(&base, false);
    assert_eq!(paths(&change.units), [DEV_APP]);
    assert_eq!(
        change.units[0].reasons,
        [Reason::File {
            file: "live/accounts/dev/dev.tfvars".into()
        }]
    );
}

#[test]
fn a_new_account_hcl_between_a_unit_and_the_one_it_used_reaffects_the_unit() {
    let (r, base) = two_accounts();
    // Nearer to the dev us-east-1 units than live/accounts/dev/account.hcl.
    r.write(
        "live/accounts/dev/us-east-1/account.hcl",
        "locals {\n  account_name = \"dev-use1\"\n}\n",
    );
    r.commit("dev us-east-1: its own account settings");
    let change = r.affected_since(&base, false);
    assert_eq!(paths(&change.units), [DEV_APP, DEV_DNS, DEV_VPC]);
    for u in &change.units {
        assert!(
            u.reasons.iter().any(|r| matches!(
                r,
                Reason::Probe { file } | Reason::ReadConfig { file, .. }
                    if file == "live/accounts/dev/us-east-1/account.hcl"
            )),
            "{}: {:?}",
            u.path,
            u.reasons
        );
    }
    // And the unit now reads the new file.
    let view = r.graph_at_head();
    assert_eq!(
        slipway_tests::config_json(unit(&view, DEV_VPC))["inputs"]["account_name"],
        json!("dev-use1")
    );
}

#[test]
fn a_deleted_unit_is_reported_removed_with_its_environment() {
    let (r, base) = two_accounts();
    r.remove(PROD_APP);
    r.commit("prod: retire the app");
    let change = r.affected_since(&base, false);
    assert_eq!(paths(&change.units), [PROD_APP]);
    let app = &change.units[0];
    assert_eq!(app.status, Status::Removed);
    assert_eq!(app.env.as_deref(), Some("prod"));
    assert_eq!(
        app.reasons,
        [Reason::Removed {
            file: format!("{PROD_APP}/terragrunt.hcl")
        }]
    );
}

#[test]
fn a_renamed_unit_is_the_old_path_removed_and_the_new_path_changed() {
    let (r, base) = two_accounts();
    let text = r.read(&format!("{PROD_VPC}/terragrunt.hcl"));
    r.remove(PROD_VPC);
    r.write("live/accounts/prod/us-east-1/network/terragrunt.hcl", &text);
    r.edit(
        &format!("{PROD_APP}/terragrunt.hcl"),
        "../vpc",
        "../network",
    );
    r.commit("prod: vpc is now network");
    let change = r.affected_since(&base, false);
    assert_eq!(
        paths(&change.units),
        [PROD_APP, "live/accounts/prod/us-east-1/network", PROD_VPC]
    );
    assert_eq!(find(&change.units, PROD_VPC).status, Status::Removed);
    assert_eq!(
        find(&change.units, "live/accounts/prod/us-east-1/network").status,
        Status::Changed
    );
}

#[test]
fn include_dependents_adds_downstream_units_with_a_dependency_reason() {
    let (r, base) = two_accounts();
    r.edit(
        &format!("{DEV_VPC}/terragrunt.hcl"),
        "10.0.0.0/16",
        "10.2.0.0/16",
    );
    r.commit("dev vpc: new cidr");
    let without = r.affected_since(&base, false);
    assert_eq!(paths(&without.units), [DEV_VPC]);
    let with = r.affected_since(&base, true);
    assert_eq!(paths(&with.units), [DEV_APP, DEV_DNS, DEV_VPC]);
    let app = find(&with.units, DEV_APP);
    assert_eq!(app.status, Status::Dependent);
    assert_eq!(
        app.reasons,
        [Reason::Dependency {
            unit: DEV_VPC.into()
        }]
    );
    assert_eq!(find(&with.units, DEV_DNS).status, Status::Dependent);
}

#[test]
fn a_transitive_dependent_names_the_affected_unit_it_depends_on() {
    let (r, base) = two_accounts();
    r.edit(
        &format!("{DEV_VPC}/terragrunt.hcl"),
        "10.0.0.0/16",
        "10.2.0.0/16",
    );
    r.commit("dev vpc: new cidr");
    let with = r.affected_since(&base, true);
    // dns depends on app, which depends on the changed vpc.
    assert_eq!(
        find(&with.units, DEV_DNS).reasons,
        [Reason::Dependency {
            unit: DEV_APP.into()
        }]
    );
}

#[test]
fn a_change_to_the_target_of_a_symlink_a_unit_reads_affects_the_unit() {
    let r = TempRepo::new();
    r.write_all(&[
        (
            "live/shared/account.hcl",
            "locals {\n  account_id = \"111111111111\"\n}\n",
        ),
        (
            "live/app/terragrunt.hcl",
            "locals {\n  account = read_terragrunt_config(\"account.hcl\")\n}\ninputs = {\n  id = local.account.locals.account_id\n}\n",
        ),
    ]);
    r.symlink("live/app/account.hcl", "../shared/account.hcl");
    let base = r.commit("account through a symlink");
    r.edit("live/shared/account.hcl", "111111111111", "222222222222");
    r.commit("new account id");
    let change = r.affected_since(&base, false);
    assert_eq!(paths(&change.units), ["live/app"]);
}

#[test]
fn a_change_reaches_a_unit_through_a_symlink_to_a_symlink_and_a_deleted_target_too() {
    let r = TempRepo::new();
    r.write_all(&[
        (
            "live/common/account.hcl",
            "locals {\n  account_id = \"111111111111\"\n}\n",
        ),
        (
            "live/app/terragrunt.hcl",
            "locals {\n  account = read_terragrunt_config(\"account.hcl\")\n}\ninputs = {\n  id = local.account.locals.account_id\n}\n",
        ),
        ("live/other/terragrunt.hcl", "inputs = {}\n"),
    ]);
    r.symlink("live/shared/account.hcl", "../common/account.hcl");
    r.symlink("live/app/account.hcl", "../shared/account.hcl");
    let base = r.commit("account through two symlinks");
    r.edit("live/common/account.hcl", "111111111111", "222222222222");
    let edited = r.commit("new account id");
    let change = r.affected_since(&base, false);
    assert_eq!(paths(&change.units), ["live/app"]);

    r.remove("live/common/account.hcl");
    r.commit("the account file goes away");
    let change = r.affected_since(&edited, false);
    assert!(
        change.errors.iter().any(|e| e.file.starts_with("live/app")),
        "the unit reading the dangling link must fail, not be skipped: {:?} {:?}",
        change.units,
        change.errors
    );
}

#[test]
fn changes_on_the_base_branch_after_the_pull_request_branched_off_are_not_its_changes() {
    let (r, base) = two_accounts();
    // main moves on: the prod account changes.
    r.edit(
        "live/accounts/prod/account.hcl",
        "\"prod\"",
        "\"production\"",
    );
    let main = r.commit("prod: rename account");
    // The pull request branched off before that and changes the dev vpc only.
    r.branch("feature", &base);
    r.edit(
        &format!("{DEV_VPC}/terragrunt.hcl"),
        "10.0.0.0/16",
        "10.3.0.0/16",
    );
    let feature = r.commit("dev vpc: new cidr");
    let repo = Repo::open(r.path()).expect("open");
    let change = repo.affected(&main, &feature, false).expect("affected");
    assert_eq!(change.merge_base.to_string(), base);
    assert_eq!(paths(&change.units), [DEV_VPC]);
    // And by branch names, as the CLI is called.
    let change = repo.affected("main", "feature", false).expect("affected");
    assert_eq!(paths(&change.units), [DEV_VPC]);
}

#[test]
fn the_most_specific_slipway_toml_environment_wins_and_env_hcl_fills_in_elsewhere() {
    let r = TempRepo::new();
    r.write_all(&[
        (
            "slipway.toml",
            "[environments.prod]\npath = \"live/prod\"\naccount_id = \"333333333333\"\n\n[environments.prod-eu]\npath = \"live/prod/eu\"\naccount_id = \"444444444444\"\n",
        ),
        ("live/prod/us/app/terragrunt.hcl", "inputs = {}\n"),
        ("live/prod/eu/app/terragrunt.hcl", "inputs = {}\n"),
        ("live/prod-archive/app/terragrunt.hcl", "inputs = {}\n"),
        (
            "live/sandbox/env.hcl",
            "locals {\n  environment = \"sandbox\"\n}\n",
        ),
        (
            "live/sandbox/account.hcl",
            "locals {\n  aws_account_id = \"555555555555\"\n}\n",
        ),
        ("live/sandbox/app/terragrunt.hcl", "inputs = {}\n"),
    ]);
    r.commit("environments");
    let view = r.graph_at_head();
    let env = |p: &str| {
        let u = unit(&view, p);
        (u.env.clone(), u.account_id.clone())
    };
    let some = |e: &str, a: &str| (Some(e.to_string()), Some(a.to_string()));
    assert_eq!(env("live/prod/us/app"), some("prod", "333333333333"));
    assert_eq!(env("live/prod/eu/app"), some("prod-eu", "444444444444"));
    assert_eq!(
        env("live/prod-archive/app"),
        (None, None),
        "a path prefix matches whole directories only"
    );
    assert_eq!(env("live/sandbox/app"), some("sandbox", "555555555555"));
}

#[test]
fn a_readme_outside_every_unit_affects_nothing() {
    let (r, base) = two_accounts();
    r.edit(
        "README.md",
        "# Infrastructure",
        "# Infrastructure\n\nHow to deploy.",
    );
    r.edit("live/README.md", "# Live tree", "# Live tree, by account");
    r.write("docs/runbook.md", "# Runbook\n");
    r.commit("docs");
    let change = r.affected_since(&base, true);
    assert!(change.units.is_empty(), "{:?}", paths(&change.units));
    assert!(change.errors.is_empty());
}

#[test]
fn a_change_that_breaks_one_unit_reports_it_with_file_and_line_and_lists_the_others() {
    let (r, base) = two_accounts();
    r.edit(
        &format!("{DEV_VPC}/terragrunt.hcl"),
        "cidr = \"10.0.0.0/16\"",
        "cidr = cidrsubnet(\"10.0.0.0/16\")",
    );
    r.edit(
        &format!("{PROD_VPC}/terragrunt.hcl"),
        "10.0.0.0/16",
        "10.9.0.0/16",
    );
    r.commit("vpcs");
    let change = r.affected_since(&base, false);
    // The broken unit is listed as failed, never left out.
    assert_eq!(paths(&change.units), [DEV_VPC, PROD_VPC]);
    assert_eq!(change.units[0].status, agent::affected::Status::Failed);
    assert_eq!(change.errors.len(), 1, "{:?}", change.errors);
    let e = &change.errors[0];
    assert_eq!(e.file, format!("{DEV_VPC}/terragrunt.hcl"));
    assert_eq!(e.line, 7, "{e}");
    assert!(e.to_string().contains("cidrsubnet"), "{e}");
}

#[test]
fn the_same_repo_reevaluates_a_read_config_when_a_file_it_looked_for_appears() {
    // The evaluation cache is shared across revisions; it must not hand back a stale
    // read_terragrunt_config result. env.hcl looks for common.hcl from live/dev upwards.
    let r = TempRepo::new();
    r.write_all(&[
        (
            "live/common.hcl",
            "locals {\n  owner = \"platform\"\n}\n",
        ),
        (
            "live/dev/us-east-1/env.hcl",
            "locals {\n  common = read_terragrunt_config(find_in_parent_folders(\"common.hcl\"))\n  owner  = local.common.locals.owner\n}\n",
        ),
        (
            "live/dev/us-east-1/app/terragrunt.hcl",
            "locals {\n  env = read_terragrunt_config(find_in_parent_folders(\"env.hcl\"))\n}\ninputs = {\n  owner = local.env.locals.owner\n}\n",
        ),
    ]);
    let first = r.commit("owner from the top");
    r.write(
        "live/dev/common.hcl",
        "locals {\n  owner = \"dev-team\"\n}\n",
    );
    let second = r.commit("dev has its own owner");
    r.edit("live/dev/common.hcl", "dev-team", "app-team");
    let third = r.commit("dev owner renamed");
    let repo = Repo::open(r.path()).expect("open");
    let owner = |rev: &str| {
        let view = repo.graph(Some(rev)).expect("graph");
        slipway_tests::config_json(unit(&view, "live/dev/us-east-1/app"))["inputs"]["owner"].clone()
    };
    assert_eq!(owner(&first), json!("platform"));
    assert_eq!(owner(&second), json!("dev-team"));
    assert_eq!(owner(&third), json!("app-team"));
    assert_eq!(owner(&first), json!("platform"));
}

// ---------------------------------------------------------------------------------------------
// The unit graph

fn unit_with_deps(deps: &[&str]) -> String {
    if deps.is_empty() {
        return "inputs = {}\n".into();
    }
    let list: Vec<String> = deps.iter().map(|d| format!("\"../{d}\"")).collect();
    format!("dependencies {{\n  paths = [{}]\n}}\n", list.join(", "))
}

#[test]
fn the_graph_orders_dependencies_before_dependents() {
    let r = TempRepo::new();
    r.write_all(&[
        ("live/net/terragrunt.hcl", &unit_with_deps(&[])),
        ("live/db/terragrunt.hcl", &unit_with_deps(&["net"])),
        ("live/cache/terragrunt.hcl", &unit_with_deps(&["net"])),
        ("live/app/terragrunt.hcl", &unit_with_deps(&["db", "cache"])),
        ("live/alerts/terragrunt.hcl", &unit_with_deps(&[])),
    ]);
    r.commit("diamond");
    let view = r.graph_at_head();
    assert!(view.graph.problems.is_empty(), "{:?}", view.graph.problems);
    assert_eq!(
        view.graph.order,
        [
            "live/alerts",
            "live/net",
            "live/cache",
            "live/db",
            "live/app"
        ]
    );
}

#[test]
fn a_dependency_cycle_is_reported_with_its_paths_and_the_other_units_are_ordered() {
    let r = TempRepo::new();
    r.write_all(&[
        ("live/a/terragrunt.hcl", &unit_with_deps(&["b"])),
        ("live/b/terragrunt.hcl", &unit_with_deps(&["c"])),
        ("live/c/terragrunt.hcl", &unit_with_deps(&["a"])),
        ("live/base/terragrunt.hcl", &unit_with_deps(&[])),
        ("live/top/terragrunt.hcl", &unit_with_deps(&["base"])),
    ]);
    r.commit("cycle");
    let view = r.graph_at_head();
    assert_eq!(
        view.graph.problems,
        [GraphProblem::Cycle {
            paths: vec![
                "live/a".into(),
                "live/b".into(),
                "live/c".into(),
                "live/a".into()
            ]
        }]
    );
    assert_eq!(
        view.graph.problems[0].to_string(),
        "dependency cycle: live/a -> live/b -> live/c -> live/a"
    );
    assert_eq!(&view.graph.order[..2], ["live/base", "live/top"]);
    assert_eq!(
        view.graph.order.len(),
        5,
        "units on a cycle are still listed"
    );
}

#[test]
fn a_unit_depending_on_itself_is_a_cycle() {
    let r = TempRepo::new();
    r.write(
        "live/a/terragrunt.hcl",
        "dependency \"me\" {\n  config_path  = \".\"\n  skip_outputs = true\n}\n",
    );
    r.commit("self");
    let view = r.graph_at_head();
    assert_eq!(
        view.graph.problems,
        [GraphProblem::Cycle {
            paths: vec!["live/a".into(), "live/a".into()]
        }]
    );
}

#[test]
fn a_dependency_on_a_directory_that_is_not_a_unit_is_reported() {
    let r = TempRepo::new();
    r.write_all(&[
        ("live/terragrunt.hcl", "inputs = {}\n"),
        (
            "live/app/terragrunt.hcl",
            "include \"root\" {\n  path = find_in_parent_folders()\n}\ndependencies {\n  paths = [\"../vpc\", \"..\"]\n}\n",
        ),
    ]);
    r.commit("dangling");
    let view = r.graph_at_head();
    assert_eq!(
        view.graph.problems,
        [
            GraphProblem::MissingDependency {
                unit: "live/app".into(),
                target: "live".into()
            },
            GraphProblem::MissingDependency {
                unit: "live/app".into(),
                target: "live/vpc".into()
            },
        ]
    );
    assert_eq!(
        view.graph.problems[1].to_string(),
        "live/app/terragrunt.hcl: dependency live/vpc is not a Terragrunt unit (no live/vpc/terragrunt.hcl)"
    );
}

// ---------------------------------------------------------------------------------------------
// What `slipway affected --format json` and `slipway graph --format json` are made of

#[test]
fn affected_units_serialize_with_path_env_status_and_tagged_reasons() {
    let (r, base) = two_accounts();
    r.edit(
        "modules/vpc/main.tf",
        "variable \"cidr\" {}",
        "variable \"cidr\" {\n  type = string\n}",
    );
    r.remove(PROD_APP);
    r.commit("vpc type; prod app retired");
    let change = r.affected_since(&base, false);
    let doc = serde_json::to_value(&change.units).expect("json");
    assert_eq!(
        doc,
        json!([
            {
                "path": DEV_VPC,
                "env": "dev",
                "status": "changed",
                "reasons": [{"kind": "module", "file": "modules/vpc/main.tf", "module": "modules/vpc"}],
            },
            {
                "path": PROD_APP,
                "env": "prod",
                "status": "removed",
                "reasons": [{"kind": "removed", "file": format!("{PROD_APP}/terragrunt.hcl")}],
            },
            {
                "path": PROD_VPC,
                "env": "prod",
                "status": "changed",
                "reasons": [{"kind": "module", "file": "modules/vpc/main.tf", "module": "modules/vpc"}],
            },
        ])
    );
}

#[test]
fn graph_units_carry_path_env_account_region_and_dependencies() {
    let (r, _) = two_accounts();
    let view = r.graph_at_head();
    let app = serde_json::to_value(unit(&view, PROD_APP)).expect("json");
    assert_eq!(app["path"], json!(PROD_APP));
    assert_eq!(app["env"], json!("prod"));
    assert_eq!(app["account_id"], json!("333333333333"));
    assert_eq!(app["region"], json!("us-east-1"));
    assert_eq!(app["dependencies"], json!([PROD_VPC]));
    assert_eq!(
        app["source"],
        json!({"kind": "local", "root": "modules", "dir": "modules/app"})
    );
    let pos = |p: &str| {
        view.graph
            .order
            .iter()
            .position(|x| x == p)
            .expect("ordered")
    };
    assert!(pos(PROD_VPC) < pos(PROD_APP));
    assert!(pos(DEV_VPC) < pos(DEV_APP) && pos(DEV_APP) < pos(DEV_DNS));
}
