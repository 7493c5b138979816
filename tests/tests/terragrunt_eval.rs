//! Slipway's native Terragrunt evaluation, function by function and block by block, on real git
//! repositories: what a unit's configuration evaluates to, which files it reads, and how a
//! configuration that cannot be evaluated is reported.

use std::sync::Arc;

use agent::repo::GraphView;
use agent::terragrunt::modules::Source;
use agent::terragrunt::{EvalError, ReadKind};
use serde_json::{json, Value};
use slipway_tests::{config_json, error_for, unit, TempRepo};

const APP: &str = "live/app";
const APP_FILE: &str = "live/app/terragrunt.hcl";

fn repo_with(files: &[(&str, &str)]) -> TempRepo {
    TempRepo::with_files(files)
}

fn inputs_in(r: &TempRepo, dir: &str) -> Value {
    r.inputs_at_head(dir)
}

/// The evaluated inputs of a lone unit `live/app` whose terragrunt.hcl is `hcl`.
fn inputs(hcl: &str) -> Value {
    inputs_in(&repo_with(&[(APP_FILE, hcl)]), APP)
}

/// The error reported for a lone unit `live/app` whose terragrunt.hcl is `hcl`.
fn error(hcl: &str) -> EvalError {
    let r = repo_with(&[(APP_FILE, hcl)]);
    let view = r.graph_at_head();
    assert!(
        !view.inventory.units.contains_key(APP),
        "the broken unit must not be listed as evaluated"
    );
    error_for(&view, APP_FILE).clone()
}

fn assert_mentions(e: &EvalError, parts: &[&str]) {
    let text = e.to_string();
    for p in parts {
        assert!(text.contains(p), "{p:?} is missing from the error: {text}");
    }
}

// ---------------------------------------------------------------------------------------------
// find_in_parent_folders

#[test]
fn find_in_parent_folders_without_a_name_finds_the_nearest_parent_terragrunt_hcl() {
    let r = repo_with(&[
        ("live/terragrunt.hcl", "inputs = {}\n"),
        ("live/dev/terragrunt.hcl", "inputs = {}\n"),
        (
            "live/dev/app/terragrunt.hcl",
            "inputs = {\n  found = find_in_parent_folders()\n}\n",
        ),
    ]);
    assert_eq!(
        inputs_in(&r, "live/dev/app")["found"],
        json!(format!("{}/live/dev/terragrunt.hcl", r.root()))
    );
}

#[test]
fn find_in_parent_folders_with_a_name_finds_the_nearest_file() {
    let r = repo_with(&[
        ("live/account.hcl", "locals {}\n"),
        ("live/accounts/dev/account.hcl", "locals {}\n"),
        (
            "live/accounts/dev/us-east-1/app/terragrunt.hcl",
            "inputs = {\n  found = find_in_parent_folders(\"account.hcl\")\n}\n",
        ),
    ]);
    assert_eq!(
        inputs_in(&r, "live/accounts/dev/us-east-1/app")["found"],
        json!(format!("{}/live/accounts/dev/account.hcl", r.root()))
    );
}

#[test]
fn find_in_parent_folders_with_a_relative_path_finds_it_under_the_nearest_ancestor() {
    let r = repo_with(&[
        ("live/_envcommon/app.hcl", "locals {}\n"),
        (
            "live/dev/eu/app/terragrunt.hcl",
            "inputs = {\n  found = find_in_parent_folders(\"_envcommon/app.hcl\")\n}\n",
        ),
    ]);
    assert_eq!(
        inputs_in(&r, "live/dev/eu/app")["found"],
        json!(format!("{}/live/_envcommon/app.hcl", r.root()))
    );
}

#[test]
fn find_in_parent_folders_starts_above_the_units_own_directory() {
    let r = repo_with(&[
        ("live/env.hcl", "locals {}\n"),
        ("live/app/env.hcl", "locals {}\n"),
        (
            APP_FILE,
            "inputs = {\n  found = find_in_parent_folders(\"env.hcl\")\n}\n",
        ),
    ]);
    assert_eq!(
        inputs_in(&r, APP)["found"],
        json!(format!("{}/live/env.hcl", r.root()))
    );
}

#[test]
fn find_in_parent_folders_with_a_fallback_returns_it_when_nothing_is_found() {
    let v = inputs(
        "inputs = {\n  found = find_in_parent_folders(\"nowhere.hcl\", \"no-such-file\")\n}\n",
    );
    assert_eq!(v["found"], json!("no-such-file"));
}

#[test]
fn find_in_parent_folders_that_finds_nothing_is_an_error_naming_the_file_it_looked_for() {
    let e = error("locals {\n  region = \"us-east-1\"\n  acct   = find_in_parent_folders(\"account.hcl\")\n}\n");
    assert_eq!(e.file, APP_FILE);
    assert_eq!(e.line, 3, "{e}");
    assert_eq!(e.construct, "local.acct");
    assert_mentions(&e, &["find_in_parent_folders", "account.hcl", "live/app"]);
}

// ---------------------------------------------------------------------------------------------
// read_terragrunt_config

/// account/region/env files as in gruntwork's example, and a root that reads them.
fn account_region_env_tree() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "live/terragrunt.hcl",
            r#"locals {
  account = read_terragrunt_config(find_in_parent_folders("account.hcl"))
  region  = read_terragrunt_config(find_in_parent_folders("region.hcl"))
  env     = read_terragrunt_config(find_in_parent_folders("env.hcl"))
}

inputs = {
  account_name = local.account.locals.account_name
  account_id   = local.account.locals.aws_account_id
  aws_region   = local.region.locals.aws_region
  environment  = local.env.locals.environment
}
"#,
        ),
        (
            "live/non-prod/account.hcl",
            "locals {\n  account_name   = \"non-prod\"\n  aws_account_id = \"111111111111\"\n}\n",
        ),
        (
            "live/non-prod/eu-west-1/region.hcl",
            "locals {\n  aws_region = \"eu-west-1\"\n}\n",
        ),
        (
            "live/non-prod/eu-west-1/qa/env.hcl",
            "locals {\n  environment = \"qa\"\n}\n",
        ),
        (
            "live/non-prod/eu-west-1/qa/app/terragrunt.hcl",
            "include \"root\" {\n  path = find_in_parent_folders()\n}\n",
        ),
    ]
}

#[test]
fn read_terragrunt_config_gives_the_locals_of_account_region_and_env_files() {
    let r = repo_with(&account_region_env_tree());
    let view = r.graph_at_head();
    let app = unit(&view, "live/non-prod/eu-west-1/qa/app");
    assert_eq!(
        config_json(app)["inputs"],
        json!({
            "account_name": "non-prod",
            "account_id": "111111111111",
            "aws_region": "eu-west-1",
            "environment": "qa",
        })
    );
    // Without slipway.toml environments, the unit's env, account and region come from them too.
    assert_eq!(app.env.as_deref(), Some("qa"));
    assert_eq!(app.account_id.as_deref(), Some("111111111111"));
    assert_eq!(app.region.as_deref(), Some("eu-west-1"));
}

#[test]
fn without_a_region_file_the_region_comes_from_the_aws_region_input() {
    let r = repo_with(&[(APP_FILE, "inputs = {\n  aws_region = \"ap-south-1\"\n}\n")]);
    let view = r.graph_at_head();
    assert_eq!(unit(&view, APP).region.as_deref(), Some("ap-south-1"));
}

#[test]
fn read_terragrunt_config_with_a_default_returns_the_default_when_the_file_is_missing() {
    let v = inputs(
        r#"locals {
  tier = read_terragrunt_config("tier.hcl", { locals = { tier = "basic" } })
}
inputs = {
  tier = local.tier.locals.tier
}
"#,
    );
    assert_eq!(v["tier"], json!("basic"));
}

#[test]
fn read_terragrunt_config_resolves_relative_paths_from_the_unit_and_returns_inputs_too() {
    let r = repo_with(&[
        (
            "live/common.hcl",
            "locals {\n  owner = \"platform\"\n}\ninputs = {\n  retention_days = 30\n}\n",
        ),
        (
            APP_FILE,
            r#"locals {
  common = read_terragrunt_config("../common.hcl")
}
inputs = {
  owner          = local.common.locals.owner
  retention_days = local.common.inputs.retention_days
}
"#,
        ),
    ]);
    assert_eq!(
        inputs_in(&r, APP),
        json!({"owner": "platform", "retention_days": 30})
    );
}

#[test]
fn read_terragrunt_config_of_another_unit_evaluates_that_units_includes() {
    // Terragrunt parses a read configuration fully, its own include blocks included; the
    // one-level rule only forbids an *included* file to include another.
    let r = repo_with(&[
        ("live/terragrunt.hcl", "inputs = {\n  owner = \"platform\"\n}\n"),
        (
            "live/vpc/terragrunt.hcl",
            "include \"root\" {\n  path = find_in_parent_folders()\n}\ninputs = {\n  cidr = \"10.0.0.0/16\"\n}\n",
        ),
        (
            "live/app/terragrunt.hcl",
            r#"include "root" {
  path = find_in_parent_folders()
}
locals {
  vpc = read_terragrunt_config("../vpc/terragrunt.hcl")
}
inputs = {
  vpc_cidr = local.vpc.inputs.cidr
}
"#,
        ),
    ]);
    assert_eq!(inputs_in(&r, APP)["vpc_cidr"], json!("10.0.0.0/16"));
}

// ---------------------------------------------------------------------------------------------
// Path functions

/// A root that reports every path function, included by `live/dev/app`.
fn path_function_tree() -> TempRepo {
    repo_with(&[
        (
            "live/terragrunt.hcl",
            r#"inputs = {
  rel_to_include   = path_relative_to_include()
  rel_from_include = path_relative_from_include()
  tg_dir           = get_terragrunt_dir()
  parent_dir       = get_parent_terragrunt_dir()
  original_dir     = get_original_terragrunt_dir()
  repo_root        = get_repo_root()
  from_repo_root   = get_path_from_repo_root()
  to_repo_root     = get_path_to_repo_root()
}
"#,
        ),
        (
            "live/dev/app/terragrunt.hcl",
            "include \"root\" {\n  path = find_in_parent_folders()\n}\n",
        ),
    ])
}

#[test]
fn path_relative_to_include_in_the_root_is_the_units_path_below_the_root() {
    let r = path_function_tree();
    assert_eq!(
        inputs_in(&r, "live/dev/app")["rel_to_include"],
        json!("dev/app")
    );
}

#[test]
fn path_relative_from_include_in_the_root_climbs_from_the_unit_to_the_root() {
    let r = path_function_tree();
    assert_eq!(
        inputs_in(&r, "live/dev/app")["rel_from_include"],
        json!("../..")
    );
}

#[test]
fn get_terragrunt_dir_in_an_included_root_is_the_units_directory() {
    let r = path_function_tree();
    let v = inputs_in(&r, "live/dev/app");
    assert_eq!(v["tg_dir"], json!(format!("{}/live/dev/app", r.root())));
    assert_eq!(
        v["original_dir"],
        json!(format!("{}/live/dev/app", r.root()))
    );
}

#[test]
fn get_parent_terragrunt_dir_in_an_included_root_is_the_roots_directory() {
    let r = path_function_tree();
    assert_eq!(
        inputs_in(&r, "live/dev/app")["parent_dir"],
        json!(format!("{}/live", r.root()))
    );
}

#[test]
fn repo_root_functions_give_the_root_and_the_paths_between_it_and_the_unit() {
    let r = path_function_tree();
    let v = inputs_in(&r, "live/dev/app");
    assert_eq!(v["repo_root"], json!(r.root()));
    assert_eq!(v["from_repo_root"], json!("live/dev/app"));
    assert_eq!(v["to_repo_root"], json!("../../.."));
}

#[test]
fn path_functions_in_the_unit_itself_refer_to_its_include() {
    // Terragrunt: called in the child, both functions use the (only, or named) include.
    let r = repo_with(&[
        ("live/terragrunt.hcl", "inputs = {}\n"),
        (
            "live/dev/app/terragrunt.hcl",
            r#"include "root" {
  path = find_in_parent_folders()
}
inputs = {
  parent_dir     = get_parent_terragrunt_dir()
  rel_to_include = path_relative_to_include()
}
"#,
        ),
    ]);
    let v = inputs_in(&r, "live/dev/app");
    assert_eq!(v["rel_to_include"], json!("dev/app"));
    assert_eq!(v["parent_dir"], json!(format!("{}/live", r.root())));
}

#[test]
fn get_original_terragrunt_dir_in_a_read_config_is_the_unit_that_read_it() {
    let reader = r#"locals {
  common = read_terragrunt_config(find_in_parent_folders("common.hcl"))
}
inputs = {
  unit_dir = local.common.locals.unit_dir
  own_dir  = local.common.locals.own_dir
}
"#;
    // Two units read the same file: each sees its own directory, not the first reader's.
    let r = repo_with(&[
        (
            "live/common.hcl",
            "locals {\n  unit_dir = get_original_terragrunt_dir()\n  own_dir  = get_terragrunt_dir()\n}\n",
        ),
        ("live/dev/app/terragrunt.hcl", reader),
        ("live/dev/web/terragrunt.hcl", reader),
    ]);
    for unit in ["live/dev/app", "live/dev/web"] {
        let v = inputs_in(&r, unit);
        assert_eq!(v["own_dir"], json!(format!("{}/live", r.root())));
        assert_eq!(v["unit_dir"], json!(format!("{}/{unit}", r.root())));
    }
}

// ---------------------------------------------------------------------------------------------
// get_env, and the functions that need the outside world

#[test]
fn get_env_reads_a_set_variable_and_falls_back_to_the_default() {
    std::env::set_var("TG_EVAL_TEST_REGION", "eu-west-3");
    std::env::remove_var("TG_EVAL_TEST_UNSET");
    let v = inputs(
        r#"inputs = {
  region = get_env("TG_EVAL_TEST_REGION", "us-east-1")
  tier   = get_env("TG_EVAL_TEST_UNSET", "basic")
}
"#,
    );
    assert_eq!(v["region"], json!("eu-west-3"));
    assert_eq!(v["tier"], json!("basic"));
}

// The functions that need the outside world are unknown during discovery: see
// tests/tests/discovery_unknowns.rs.

// ---------------------------------------------------------------------------------------------
// Terraform functions

#[test]
fn merge_lookup_and_concat_combine_maps_and_lists() {
    let v = inputs(
        r#"inputs = {
  merged  = merge({ team = "core", tier = "a" }, { tier = "b" }, null)
  found   = lookup({ small = "t3.small" }, "small")
  missing = lookup({ small = "t3.small" }, "large", "t3.large")
  joined  = concat(["a"], ["b", "c"], [])
}
"#,
    );
    assert_eq!(v["merged"], json!({"team": "core", "tier": "b"}));
    assert_eq!(v["found"], json!("t3.small"));
    assert_eq!(v["missing"], json!("t3.large"));
    assert_eq!(v["joined"], json!(["a", "b", "c"]));
}

#[test]
fn format_supports_s_d_zero_padded_d_q_v_and_percent() {
    let v = inputs(
        r#"inputs = {
  s   = format("%s-%s", "web", "eu")
  d   = format("node-%d", 7)
  pad = format("db-%05d", 42)
  neg = format("%05d", -42)
  q   = format("name=%q", "a \"b\"")
  v   = format("%v/%v/%v", "x", 3, true)
  pct = format("100%%")
}
"#,
    );
    assert_eq!(v["s"], json!("web-eu"));
    assert_eq!(v["d"], json!("node-7"));
    assert_eq!(v["pad"], json!("db-00042"));
    assert_eq!(v["neg"], json!("-0042"));
    assert_eq!(v["q"], json!(r#"name="a \"b\"""#));
    assert_eq!(v["v"], json!("x/3/true"));
    assert_eq!(v["pct"], json!("100%"));
}

#[test]
fn format_with_a_missing_argument_or_unknown_verb_is_an_error_naming_format() {
    let e = error("inputs = {\n  x = format(\"%s-%s\", \"one\")\n}\n");
    assert_mentions(&e, &["format", "not enough arguments"]);
    let e = error("inputs = {\n  x = format(\"%y\", \"one\")\n}\n");
    assert_mentions(&e, &["format", "%y"]);
}

#[test]
fn format_refuses_a_width_too_large_to_print_instead_of_exhausting_memory() {
    let e = error("inputs = {\n  x = format(\"%0100000000d\", 1)\n}\n");
    assert_mentions(&e, &["format", "width"]);
    let e = error("inputs = {\n  x = format(\"%.100000000f\", 1.5)\n}\n");
    assert_mentions(&e, &["format", "precision"]);
}

#[test]
fn jsonencode_sorts_object_keys_as_terraform_does() {
    let v = inputs(
        r#"inputs = {
  doc = jsonencode({ zone = "b", name = "web", ports = [80, 443], tags = { z = 1, a = 2 } })
}
"#,
    );
    assert_eq!(
        v["doc"],
        json!(r#"{"name":"web","ports":[80,443],"tags":{"a":2,"z":1},"zone":"b"}"#)
    );
}

#[test]
fn jsonencode_escapes_html_characters_as_terraform_does() {
    let v = inputs("inputs = {\n  doc = jsonencode({ html = \"<a href='x'>&</a>\" })\n}\n");
    assert_eq!(
        v["doc"],
        json!(r#"{"html":"\u003ca href='x'\u003e\u0026\u003c/a\u003e"}"#)
    );
}

#[test]
fn format_pads_to_a_width_left_or_right() {
    let v = inputs(
        r#"inputs = {
  right = format("[%6s]", "ab")
  left  = format("[%-6s]", "ab")
  num   = format("[%4d]", 7)
  trunc = format("%.3s", "abcdef")
  float = format("%.2f", 3.14159)
}
"#,
    );
    assert_eq!(v["right"], json!("[    ab]"));
    assert_eq!(v["left"], json!("[ab    ]"));
    assert_eq!(v["num"], json!("[   7]"));
    assert_eq!(v["trunc"], json!("abc"));
    assert_eq!(v["float"], json!("3.14"));
}

#[test]
fn jsondecode_and_yamldecode_of_json_give_values() {
    let v = inputs(
        r#"inputs = {
  decoded = jsondecode("{\"ports\": [80, 443], \"name\": \"web\"}")
  yaml    = yamldecode("{\"replicas\": 3}")
}
"#,
    );
    assert_eq!(v["decoded"], json!({"ports": [80, 443], "name": "web"}));
    assert_eq!(v["yaml"], json!({"replicas": 3}));
}

#[test]
fn yamldecode_reads_a_yaml_file_with_anchors_lists_and_nested_maps() {
    let r = repo_with(&[
        (
            "live/accounts.yaml",
            "defaults: &defaults\n  region: us-east-1\n  tier: basic\naccounts:\n  dev:\n    <<: *defaults\n    id: \"111111111111\"\n  prod:\n    <<: *defaults\n    tier: premium\n    id: \"333333333333\"\nzones:\n  - a\n  - b\nenabled: true\nreplicas: 3\n",
        ),
        (
            APP_FILE,
            "locals {\n  cfg = yamldecode(file(find_in_parent_folders(\"accounts.yaml\")))\n}\ninputs = {\n  prod    = local.cfg.accounts.prod\n  zones   = local.cfg.zones\n  enabled = local.cfg.enabled\n  count   = local.cfg.replicas\n}\n",
        ),
    ]);
    let v = inputs_in(&r, APP);
    assert_eq!(
        v["prod"],
        json!({"region": "us-east-1", "tier": "premium", "id": "333333333333"})
    );
    assert_eq!(v["zones"], json!(["a", "b"]));
    assert_eq!(v["enabled"], json!(true));
    assert_eq!(v["count"], json!(3));
    // The YAML file is one the unit reads: changing it affects the unit.
    let view = r.graph_at_head();
    assert!(unit(&view, APP).reads().contains_key("live/accounts.yaml"));
}

#[test]
fn yamldecode_of_broken_yaml_is_an_error_naming_the_function_and_the_place() {
    let e = error("inputs = {\n  cfg = yamldecode(\"a: [1, 2\\nb: 3\\n\")\n}\n");
    assert_eq!(e.line, 1, "{e}");
    assert_mentions(&e, &["yamldecode", "line"]);
}

#[test]
fn jsondecode_of_invalid_json_is_an_error_naming_the_function() {
    let e = error("inputs = {\n  cfg = jsondecode(\"{not json\")\n}\n");
    assert_mentions(&e, &["jsondecode", "invalid JSON"]);
}

#[test]
fn try_is_lazy_and_returns_the_first_argument_that_evaluates() {
    let v = inputs(
        r#"locals {
  present = { x = "real" }
}
inputs = {
  missing = try(local.missing.x, "default")
  present = try(local.present.x, "default")
  nested  = try(local.present.y.z, local.missing, "last")
  inside  = upper(try(local.missing, "fallback"))
}
"#,
    );
    assert_eq!(v["missing"], json!("default"));
    assert_eq!(v["present"], json!("real"));
    assert_eq!(v["nested"], json!("last"));
    assert_eq!(v["inside"], json!("FALLBACK"));
}

#[test]
fn try_with_no_argument_that_evaluates_is_an_error() {
    let e = error("inputs = {\n  x = try(local.nope, local.neither)\n}\n");
    assert_mentions(&e, &["try", "no argument could be evaluated"]);
}

#[test]
fn try_inside_a_string_template_is_lazy_too() {
    let v = inputs("inputs = {\n  name = \"app-${try(local.suffix, \"none\")}\"\n}\n");
    assert_eq!(v["name"], json!("app-none"));
}

#[test]
fn try_over_a_local_defined_later_uses_that_locals_value() {
    // Locals may be written in any order; `try` must not mistake "not evaluated yet" for
    // "does not exist".
    let v = inputs(
        r#"locals {
  size    = try(local.override, "small")
  known   = can(local.override)
  override = "large"
}
inputs = {
  size  = local.size
  known = local.known
}
"#,
    );
    assert_eq!(v["size"], json!("large"));
    assert_eq!(v["known"], json!(true));
}

#[test]
fn can_tells_whether_an_expression_evaluates() {
    let v = inputs(
        r#"locals {
  present = { x = 1 }
}
inputs = {
  yes = can(local.present.x)
  no  = can(local.present.y)
}
"#,
    );
    assert_eq!(v["yes"], json!(true));
    assert_eq!(v["no"], json!(false));
}

#[test]
fn coalesce_element_and_collection_functions_follow_terraform() {
    let v = inputs(
        r#"inputs = {
  first     = coalesce(null, "", "b", "c")
  wrapped   = element(["a", "b", "c"], 4)
  length    = [length([1, 2, 3]), length({ a = 1 }), length("héllo")]
  keys      = keys({ b = 1, a = 2 })
  values    = values({ b = 1, a = 2 })
  contains  = [contains(["a", "b"], "b"), contains(["a", "b"], "z")]
  distinct  = distinct(["a", "b", "a", "c", "b"])
  flatten   = flatten([["a"], ["b", ["c"]], []])
  zipmap    = zipmap(["a", "b"], [1, 2])
  range     = [range(3), range(1, 8, 3)]
  in_range  = contains(range(5), 4)
}
"#,
    );
    assert_eq!(v["first"], json!("b"));
    assert_eq!(v["wrapped"], json!("b"));
    assert_eq!(v["length"], json!([3, 1, 5]));
    assert_eq!(v["keys"], json!(["a", "b"]));
    assert_eq!(v["values"], json!([2, 1]));
    assert_eq!(v["contains"], json!([true, false]));
    assert_eq!(v["distinct"], json!(["a", "b", "c"]));
    assert_eq!(v["flatten"], json!(["a", "b", "c"]));
    assert_eq!(v["zipmap"], json!({"a": 1, "b": 2}));
    assert_eq!(v["range"], json!([[0, 1, 2], [1, 4, 7]]));
    assert_eq!(v["in_range"], json!(true));
}

#[test]
fn string_functions_split_join_replace_lower_upper_basename_dirname() {
    let v = inputs(
        r#"inputs = {
  split    = split(",", "a,b,,c")
  join     = join("-", ["eu", "west"], ["1"])
  replace  = replace("db.internal.example", ".", "-")
  lower    = lower("PROD-EU")
  upper    = upper("prod-eu")
  basename = basename("/repo/live/dev/app/main.tf")
  dirname  = dirname("/repo/live/dev/app/main.tf")
  bare     = dirname("main.tf")
}
"#,
    );
    assert_eq!(v["split"], json!(["a", "b", "", "c"]));
    assert_eq!(v["join"], json!("eu-west-1"));
    assert_eq!(v["replace"], json!("db-internal-example"));
    assert_eq!(v["lower"], json!("prod-eu"));
    assert_eq!(v["upper"], json!("PROD-EU"));
    assert_eq!(v["basename"], json!("main.tf"));
    assert_eq!(v["dirname"], json!("/repo/live/dev/app"));
    assert_eq!(v["bare"], json!("."));
}

#[test]
fn file_reads_relative_to_the_unit_and_fileexists_checks_without_reading() {
    let r = repo_with(&[
        ("live/app/policy.json", "{\"Version\": \"2012-10-17\"}"),
        ("live/shared/banner.txt", "hello\n"),
        (
            APP_FILE,
            r#"inputs = {
  policy = jsondecode(file("policy.json"))
  banner = trimspace(file("${get_terragrunt_dir()}/../shared/banner.txt"))
  has    = fileexists("policy.json")
  hasnt  = fileexists("absent.json")
}
"#,
        ),
    ]);
    let view = r.graph_at_head();
    let app = unit(&view, APP);
    let v = config_json(app)["inputs"].clone();
    assert_eq!(v["policy"], json!({"Version": "2012-10-17"}));
    assert_eq!(v["banner"], json!("hello"));
    assert_eq!(v["has"], json!(true));
    assert_eq!(v["hasnt"], json!(false));
    assert_eq!(
        app.reads().get("live/shared/banner.txt").map(|r| r.0),
        Some(ReadKind::File)
    );
    assert!(
        app.deps.probes.contains("live/app/absent.json"),
        "a file whose absence decided a value is watched: {:?}",
        app.deps.probes
    );
}

#[test]
fn cidrsubnet_computes_subnets() {
    let v = inputs(
        r#"inputs = {
  a = cidrsubnet("10.0.0.0/16", 8, 2)
  b = cidrsubnet("10.1.0.0/16", 4, 15)
  c = [for i in range(3) : cidrsubnet("172.16.0.0/12", 4, i)]
}
"#,
    );
    assert_eq!(v["a"], json!("10.0.2.0/24"));
    assert_eq!(v["b"], json!("10.1.240.0/20"));
    assert_eq!(
        v["c"],
        json!(["172.16.0.0/16", "172.17.0.0/16", "172.18.0.0/16"])
    );
}

#[test]
fn cidrsubnet_with_absurd_new_bits_is_an_error_not_a_crash() {
    let e = error("inputs = {\n  x = cidrsubnet(\"10.0.0.0/8\", 9223372036854775807, 0)\n}\n");
    assert_mentions(&e, &["cidrsubnet"]);
    assert!(
        !e.message.contains("internal error"),
        "the evaluator must not have panicked: {e}"
    );
}

#[test]
fn conversion_functions_tomap_tolist_tostring_tonumber() {
    let v = inputs(
        r#"inputs = {
  map    = tomap({ a = "b" })
  list   = tolist(["x", "y"])
  string = tostring(42)
  number = tonumber("42") + 1
  bool   = tostring(true)
}
"#,
    );
    assert_eq!(v["map"], json!({"a": "b"}));
    assert_eq!(v["list"], json!(["x", "y"]));
    assert_eq!(v["string"], json!("42"));
    assert_eq!(v["number"], json!(43));
    assert_eq!(v["bool"], json!("true"));
}

#[test]
fn a_function_given_the_wrong_type_is_an_error_naming_the_function() {
    let e = error("inputs = {\n  x = upper([\"a\"])\n}\n");
    assert_mentions(&e, &["upper", "must be a string"]);
}

#[test]
fn for_expressions_splats_conditionals_and_template_directives_evaluate_as_in_terraform() {
    let v = inputs(
        r#"locals {
  prod    = false
  subnets = [{ name = "a", public = true }, { name = "b", public = false }]
  tags    = { team = "core", env = "dev" }
}
inputs = {
  public   = [for s in local.subnets : upper(s.name) if s.public]
  by_name  = { for s in local.subnets : s.name => s.public }
  names    = local.subnets[*].name
  pairs    = [for k, v in local.tags : "${k}=${v}"]
  size     = local.prod ? "large" : "small"
  tier     = "%{if local.prod}gold%{else}bronze%{endif}"
  list     = "%{for s in local.subnets}${s.name};%{endfor}"
  literal  = "$${not_interpolated} and %%{not_a_directive}"
  nested   = "a-${"b-${upper("c")}"}"
}
"#,
    );
    assert_eq!(v["public"], json!(["A"]));
    assert_eq!(v["by_name"], json!({"a": true, "b": false}));
    assert_eq!(v["names"], json!(["a", "b"]));
    assert_eq!(v["pairs"], json!(["team=core", "env=dev"]));
    assert_eq!(v["size"], json!("small"));
    assert_eq!(v["tier"], json!("bronze"));
    assert_eq!(v["list"], json!("a;b;"));
    assert_eq!(
        v["literal"],
        json!("${not_interpolated} and %{not_a_directive}")
    );
    assert_eq!(v["nested"], json!("a-b-C"));
}

#[test]
fn heredocs_and_windows_line_endings_evaluate() {
    let v = inputs(
        "locals {\r\n  region = \"eu-west-1\"\r\n}\r\ninputs = {\r\n  plain = <<EOT\r\nregion ${local.region}\r\nEOT\r\n  indented = <<-EOT\r\n    a\r\n      b\r\n    EOT\r\n}\r\n",
    );
    let plain = v["plain"].as_str().expect("plain heredoc");
    assert_eq!(plain.trim_end_matches(['\r', '\n']), "region eu-west-1");
    let indented = v["indented"].as_str().expect("indented heredoc");
    assert_eq!(indented.replace('\r', ""), "a\n  b\n");
}

// ---------------------------------------------------------------------------------------------
// Blocks: include

#[test]
fn include_with_expose_makes_the_parents_locals_available_as_include_label_locals() {
    let r = repo_with(&[
        (
            "live/terragrunt.hcl",
            "locals {\n  project = \"sarc\"\n}\ninputs = {\n  from_root = true\n}\n",
        ),
        (
            APP_FILE,
            r#"include "root" {
  path   = find_in_parent_folders()
  expose = true
}
inputs = {
  name = "${include.root.locals.project}-app"
}
"#,
        ),
    ]);
    let view = r.graph_at_head();
    let app = unit(&view, APP);
    assert_eq!(
        config_json(app)["inputs"],
        json!({"from_root": true, "name": "sarc-app"})
    );
    let eval = app.eval.as_ref().expect("evaluated");
    assert_eq!(eval.includes.len(), 1);
    assert_eq!(eval.includes[0].label.as_deref(), Some("root"));
    assert_eq!(eval.includes[0].path, "live/terragrunt.hcl");
    assert!(eval.includes[0].expose);
    assert!(
        !view.inventory.units.contains_key("live"),
        "an included configuration is a parent, not a unit"
    );
}

#[test]
fn an_include_without_expose_is_not_visible_to_the_unit() {
    let r = repo_with(&[
        ("live/terragrunt.hcl", "locals {\n  project = \"sarc\"\n}\n"),
        (
            APP_FILE,
            "include \"root\" {\n  path = find_in_parent_folders()\n}\ninputs = {\n  name = include.root.locals.project\n}\n",
        ),
    ]);
    let view = r.graph_at_head();
    let e = error_for(&view, APP_FILE);
    assert_eq!(e.line, 4, "{e}");
    assert_eq!(e.construct, "inputs");
}

#[test]
fn several_labelled_includes_all_merge_and_each_exposed_one_is_reachable_by_label() {
    let r = repo_with(&[
        (
            "live/root.hcl",
            "inputs = {\n  owner = \"platform\"\n  tier  = \"root\"\n}\n",
        ),
        (
            "live/_envcommon/app.hcl",
            r#"locals {
  base_source_url = "git::https://example.com/modules.git//app"
}
inputs = {
  tier     = "envcommon"
  replicas = 2
}
"#,
        ),
        (
            "live/dev/app/terragrunt.hcl",
            r#"include "root" {
  path = find_in_parent_folders("root.hcl")
}
include "envcommon" {
  path   = "${dirname(find_in_parent_folders("root.hcl"))}/_envcommon/app.hcl"
  expose = true
}
terraform {
  source = "${include.envcommon.locals.base_source_url}?ref=v1.0.0"
}
inputs = {
  replicas = 3
}
"#,
        ),
    ]);
    let view = r.graph_at_head();
    let app = unit(&view, "live/dev/app");
    let cfg = config_json(app);
    assert_eq!(
        cfg["inputs"],
        json!({"owner": "platform", "tier": "envcommon", "replicas": 3})
    );
    assert_eq!(
        app.source,
        Some(Source::Remote {
            url: "git::https://example.com/modules.git//app?ref=v1.0.0".into()
        })
    );
    let included: Vec<&str> = app
        .eval
        .as_ref()
        .expect("evaluated")
        .includes
        .iter()
        .map(|i| i.path.as_str())
        .collect();
    assert_eq!(included, ["live/root.hcl", "live/_envcommon/app.hcl"]);
}

/// A parent and a child whose inputs overlap, merged with `strategy`.
fn merged_inputs(strategy: &str) -> Value {
    let r = repo_with(&[
        (
            "live/terragrunt.hcl",
            r#"inputs = {
  name  = "parent"
  tags  = { team = "core" }
  zones = ["a"]
}
"#,
        ),
        (
            APP_FILE,
            &format!(
                r#"include "root" {{
  path           = find_in_parent_folders()
  merge_strategy = "{strategy}"
}}
inputs = {{
  tags  = {{ app = "web" }}
  zones = ["b"]
}}
"#
            ),
        ),
    ]);
    inputs_in(&r, APP)
}

#[test]
fn merge_strategy_no_merge_keeps_only_the_units_own_inputs() {
    assert_eq!(
        merged_inputs("no_merge"),
        json!({"tags": {"app": "web"}, "zones": ["b"]})
    );
}

#[test]
fn merge_strategy_shallow_lets_the_unit_replace_whole_top_level_inputs() {
    assert_eq!(
        merged_inputs("shallow"),
        json!({"name": "parent", "tags": {"app": "web"}, "zones": ["b"]})
    );
}

#[test]
fn merge_strategy_deep_merges_maps_and_concatenates_lists() {
    assert_eq!(
        merged_inputs("deep"),
        json!({"name": "parent", "tags": {"team": "core", "app": "web"}, "zones": ["a", "b"]})
    );
}

#[test]
fn an_unknown_merge_strategy_is_an_error_listing_the_valid_ones() {
    let r = repo_with(&[
        ("live/terragrunt.hcl", "inputs = {}\n"),
        (
            APP_FILE,
            "include \"root\" {\n  path           = find_in_parent_folders()\n  merge_strategy = \"deepest\"\n}\n",
        ),
    ]);
    let view = r.graph_at_head();
    let e = error_for(&view, APP_FILE);
    assert_eq!(e.line, 1, "{e}");
    assert_eq!(e.construct, "include \"root\"");
    assert_mentions(e, &["deepest", "no_merge, shallow, deep"]);
}

// ---------------------------------------------------------------------------------------------
// Blocks: locals

#[test]
fn locals_can_refer_to_each_other_in_any_order() {
    let v = inputs(
        r#"locals {
  fqdn = "${local.name}.${local.zone}"
  name = "${local.env}-app"
  zone = "example.internal"
  env  = "dev"
}
inputs = {
  fqdn = local.fqdn
}
"#,
    );
    assert_eq!(v["fqdn"], json!("dev-app.example.internal"));
}

#[test]
fn locals_that_refer_to_each_other_in_a_cycle_are_an_error_not_a_hang() {
    let e = error("locals {\n  a = local.b\n  b = local.a\n}\n");
    assert_eq!(e.file, APP_FILE);
    assert!(e.line == 2 || e.line == 3, "{e}");
    assert!(e.construct == "local.a" || e.construct == "local.b", "{e}");
}

#[test]
fn locals_are_not_inherited_from_an_included_parent() {
    let r = repo_with(&[
        ("live/terragrunt.hcl", "locals {\n  parent_only = 1\n}\n"),
        (
            APP_FILE,
            "include \"root\" {\n  path = find_in_parent_folders()\n}\nlocals {\n  own = 2\n}\n",
        ),
    ]);
    let view = r.graph_at_head();
    assert_eq!(config_json(unit(&view, APP))["locals"], json!({"own": 2}));
}

// ---------------------------------------------------------------------------------------------
// Blocks: dependency and dependencies

fn dependency_tree(app: &str) -> TempRepo {
    repo_with(&[
        ("live/dev/vpc/terragrunt.hcl", "inputs = {}\n"),
        ("live/dev/iam/terragrunt.hcl", "inputs = {}\n"),
        ("live/dev/app/terragrunt.hcl", app),
    ])
}

#[test]
fn dependency_config_path_is_relative_to_the_unit_and_mock_outputs_feed_inputs() {
    let r = dependency_tree(
        r#"dependency "vpc" {
  config_path = "../vpc"
  mock_outputs = {
    vpc_id = "vpc-mock"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}
inputs = {
  vpc_id = dependency.vpc.outputs.vpc_id
}
"#,
    );
    let view = r.graph_at_head();
    let app = unit(&view, "live/dev/app");
    let cfg = config_json(app);
    assert_eq!(cfg["inputs"]["vpc_id"], json!("vpc-mock"));
    assert_eq!(
        cfg["dependency"]["vpc"]["mock_outputs_allowed_terraform_commands"],
        json!(["validate", "plan"])
    );
    assert_eq!(
        app.dependency_blocks.get("vpc").map(String::as_str),
        Some("live/dev/vpc")
    );
    assert_eq!(app.dependencies, ["live/dev/vpc"]);
}

#[test]
fn dependency_with_skip_outputs_still_records_the_dependency_and_uses_mocks() {
    let r = dependency_tree(
        r#"dependency "iam" {
  config_path  = "../iam"
  skip_outputs = true
  mock_outputs = { role_arn = "arn:aws:iam::111111111111:role/mock" }
}
inputs = {
  role = dependency.iam.outputs.role_arn
}
"#,
    );
    let view = r.graph_at_head();
    let app = unit(&view, "live/dev/app");
    let cfg = config_json(app);
    assert_eq!(cfg["dependency"]["iam"]["skip_outputs"], json!(true));
    assert_eq!(
        cfg["inputs"]["role"],
        json!("arn:aws:iam::111111111111:role/mock")
    );
    assert_eq!(app.dependencies, ["live/dev/iam"]);
}

#[test]
fn inputs_that_need_real_dependency_outputs_are_deferred_not_errors() {
    let r = dependency_tree(
        "dependency \"vpc\" {\n  config_path = \"../vpc\"\n}\ninputs = {\n  vpc_id = dependency.vpc.outputs.vpc_id\n}\n",
    );
    let view = r.graph_at_head();
    let app = unit(&view, "live/dev/app");
    let eval = app.eval.as_ref().expect("evaluated");
    assert_eq!(eval.deferred, ["inputs"]);
    assert_eq!(app.dependencies, ["live/dev/vpc"]);
}

#[test]
fn dependencies_paths_are_dependencies_too_sorted_and_deduplicated() {
    let r = dependency_tree(
        r#"dependency "vpc" {
  config_path  = "../vpc"
  skip_outputs = true
}
dependencies {
  paths = ["../vpc", "../iam"]
}
"#,
    );
    let view = r.graph_at_head();
    assert_eq!(
        unit(&view, "live/dev/app").dependencies,
        ["live/dev/iam", "live/dev/vpc"]
    );
}

#[test]
fn a_dependency_block_without_config_path_is_an_error_naming_it() {
    let e = error("inputs = {}\n\ndependency \"vpc\" {\n  mock_outputs = {}\n}\n");
    assert_eq!(e.line, 3, "{e}");
    assert_eq!(e.construct, "dependency \"vpc\"");
    assert_mentions(&e, &["config_path"]);
}

// ---------------------------------------------------------------------------------------------
// Blocks: terraform

#[test]
fn terraform_source_with_a_double_slash_copies_the_root_and_uses_the_subdirectory() {
    let r = repo_with(&[
        ("modules/app/main.tf", "variable \"name\" {}\n"),
        (
            "live/dev/app/terragrunt.hcl",
            "terraform {\n  source = \"../../../modules//app\"\n}\n",
        ),
    ]);
    let view = r.graph_at_head();
    let app = unit(&view, "live/dev/app");
    assert_eq!(
        app.source,
        Some(Source::Local {
            root: "modules".into(),
            dir: "modules/app".into()
        })
    );
    assert_eq!(app.module_dirs.iter().collect::<Vec<_>>(), ["modules/app"]);
}

#[test]
fn terraform_source_with_file_scheme_is_a_local_module() {
    let r = repo_with(&[
        ("modules/app/main.tf", "variable \"name\" {}\n"),
        (
            APP_FILE,
            "terraform {\n  source = \"file://${get_repo_root()}/modules/app\"\n}\n",
        ),
    ]);
    let view = r.graph_at_head();
    let app = unit(&view, APP);
    assert_eq!(
        app.source,
        Some(Source::Local {
            root: "modules/app".into(),
            dir: "modules/app".into()
        })
    );
    assert!(app.module_dirs.contains("modules/app"));
}

#[test]
fn remote_terraform_sources_are_recorded_and_not_followed() {
    for url in [
        "git::https://github.com/acme/modules.git//vpc?ref=v1.2.0",
        "git::git@github.com:acme/modules.git//vpc?ref=v1.2.0",
        "github.com/acme/modules//vpc?ref=v1.2.0",
        "tfr:///terraform-aws-modules/vpc/aws?version=5.0.0",
        "s3::https://s3-eu-west-1.amazonaws.com/acme-modules/vpc.zip",
    ] {
        let r = repo_with(&[(
            APP_FILE,
            &format!("terraform {{\n  source = \"{url}\"\n}}\n"),
        )]);
        let view = r.graph_at_head();
        let app = unit(&view, APP);
        assert_eq!(
            app.source,
            Some(Source::Remote { url: url.into() }),
            "{url}"
        );
        assert!(app.remote_sources.contains(url), "{url}");
        assert!(app.module_dirs.is_empty(), "{url}: {:?}", app.module_dirs);
    }
}

#[test]
fn a_gitlab_source_with_a_subdirectory_is_remote_not_a_missing_local_directory() {
    let url = "gitlab.com/acme/modules//vpc?ref=v1.2.0";
    let r = repo_with(&[(
        APP_FILE,
        &format!("terraform {{\n  source = \"{url}\"\n}}\n"),
    )]);
    let view = r.graph_at_head();
    assert_eq!(
        unit(&view, APP).source,
        Some(Source::Remote { url: url.into() })
    );
}

#[test]
fn a_local_terraform_source_that_does_not_exist_is_an_error_naming_the_directory() {
    let e = error("terraform {\n  source = \"../../modules//gone\"\n}\n");
    assert_eq!(e.construct, "terraform.source");
    assert_mentions(&e, &["modules/gone", "does not exist"]);
}

#[test]
fn extra_arguments_var_files_are_read_and_a_missing_optional_one_is_watched() {
    let r = repo_with(&[
        ("live/common.tfvars", "owner = \"platform\"\n"),
        ("live/app/app.tfvars", "replicas = 2\n"),
        (
            APP_FILE,
            r#"terraform {
  extra_arguments "vars" {
    commands           = get_terraform_commands_that_need_vars()
    required_var_files = ["${get_parent_terragrunt_dir()}/../common.tfvars", "app.tfvars"]
    optional_var_files = ["${get_terragrunt_dir()}/override.tfvars"]
  }
}
"#,
        ),
    ]);
    let view = r.graph_at_head();
    let app = unit(&view, APP);
    let cfg = config_json(app);
    assert_eq!(
        cfg["terraform"]["extra_arguments"]["vars"]["commands"][0],
        json!("apply")
    );
    assert_eq!(
        app.reads().get("live/common.tfvars").map(|r| r.0),
        Some(ReadKind::VarFile)
    );
    assert_eq!(
        app.reads().get("live/app/app.tfvars").map(|r| r.0),
        Some(ReadKind::VarFile)
    );
    assert!(!app.reads().contains_key("live/app/override.tfvars"));
    assert!(app.deps.probes.contains("live/app/override.tfvars"));
}

#[test]
fn a_missing_required_var_file_is_an_error_naming_it() {
    let e = error(
        "terraform {\n  extra_arguments \"vars\" {\n    commands           = [\"plan\"]\n    required_var_files = [\"missing.tfvars\"]\n  }\n}\n",
    );
    assert_eq!(e.construct, "extra_arguments \"vars\"");
    assert_mentions(&e, &["live/app/missing.tfvars", "does not exist"]);
}

#[test]
fn before_and_after_hooks_are_evaluated_by_name() {
    let r = repo_with(&[(
        APP_FILE,
        r#"terraform {
  before_hook "fmt" {
    commands = ["plan", "apply"]
    execute  = ["terraform", "fmt", "-check"]
  }
  after_hook "notify" {
    commands     = ["apply"]
    execute      = ["echo", "applied ${basename(get_terragrunt_dir())}"]
    run_on_error = true
  }
}
"#,
    )]);
    let view = r.graph_at_head();
    let tf = config_json(unit(&view, APP))["terraform"].clone();
    assert_eq!(
        tf["before_hook"]["fmt"]["execute"],
        json!(["terraform", "fmt", "-check"])
    );
    assert_eq!(
        tf["after_hook"]["notify"]["execute"],
        json!(["echo", "applied app"])
    );
    assert_eq!(tf["after_hook"]["notify"]["run_on_error"], json!(true));
}

#[test]
fn hooks_and_extra_arguments_of_parent_and_unit_are_merged_by_name() {
    let r = repo_with(&[
        (
            "live/terragrunt.hcl",
            r#"terraform {
  before_hook "fmt" {
    commands = ["plan"]
    execute  = ["terraform", "fmt"]
  }
  extra_arguments "retry" {
    commands  = ["apply"]
    arguments = ["-lock-timeout=20m"]
  }
}
"#,
        ),
        (
            APP_FILE,
            r#"include "root" {
  path = find_in_parent_folders()
}
terraform {
  source = "git::https://example.com/m.git//app"
  before_hook "lint" {
    commands = ["plan"]
    execute  = ["tflint"]
  }
}
"#,
        ),
    ]);
    let view = r.graph_at_head();
    let tf = config_json(unit(&view, APP))["terraform"].clone();
    let hooks: Vec<&String> = tf["before_hook"]
        .as_object()
        .expect("hooks")
        .keys()
        .collect();
    assert_eq!(hooks, ["fmt", "lint"]);
    assert_eq!(
        tf["extra_arguments"]["retry"]["arguments"],
        json!(["-lock-timeout=20m"])
    );
    assert_eq!(tf["source"], json!("git::https://example.com/m.git//app"));
}

#[test]
fn a_second_terraform_block_is_an_error_not_a_silent_override() {
    let r = repo_with(&[
        ("modules/app/main.tf", "variable \"name\" {}\n"),
        (
            APP_FILE,
            r#"terraform {
  source = "../../modules//app"
}

terraform {
  extra_arguments "vars" {
    commands = ["plan"]
  }
}
"#,
        ),
    ]);
    let view = r.graph_at_head();
    // Either refused with the duplicate's line, or both blocks kept: never the source dropped.
    match view.inventory.units.get(APP) {
        Some(app) => assert_eq!(
            app.source,
            Some(Source::Local {
                root: "modules".into(),
                dir: "modules/app".into()
            })
        ),
        None => {
            let e = error_for(&view, APP_FILE);
            assert_eq!(e.line, 5, "{e}");
            assert_mentions(e, &["terraform"]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Blocks: remote_state, generate, iam_role, prevent_destroy, skip, exclude

#[test]
fn remote_state_and_generate_are_evaluated_with_the_units_paths() {
    let r = repo_with(&[
        (
            "live/terragrunt.hcl",
            r#"locals {
  region = "eu-west-1"
}
remote_state {
  backend = "s3"
  config = {
    bucket = "acme-tfstate"
    key    = "${path_relative_to_include()}/terraform.tfstate"
    region = local.region
  }
  generate = {
    path      = "backend.tf"
    if_exists = "overwrite_terragrunt"
  }
}
generate "provider" {
  path      = "provider.tf"
  if_exists = "overwrite_terragrunt"
  contents  = <<EOF
provider "aws" {
  region = "${local.region}"
}
EOF
}
"#,
        ),
        (
            "live/dev/app/terragrunt.hcl",
            "include \"root\" {\n  path = find_in_parent_folders()\n}\n",
        ),
    ]);
    let view = r.graph_at_head();
    let cfg = config_json(unit(&view, "live/dev/app"));
    assert_eq!(cfg["remote_state"]["backend"], json!("s3"));
    assert_eq!(
        cfg["remote_state"]["config"]["key"],
        json!("dev/app/terraform.tfstate")
    );
    assert_eq!(cfg["remote_state"]["generate"]["path"], json!("backend.tf"));
    assert_eq!(cfg["generate"]["provider"]["path"], json!("provider.tf"));
    assert_eq!(
        cfg["generate"]["provider"]["contents"],
        json!("provider \"aws\" {\n  region = \"eu-west-1\"\n}\n")
    );
}

#[test]
fn iam_role_prevent_destroy_and_skip_are_unit_settings() {
    let r = repo_with(&[
        (
            "live/prod/db/terragrunt.hcl",
            "iam_role        = \"arn:aws:iam::333333333333:role/deployer\"\nprevent_destroy = true\n",
        ),
        ("live/prod/legacy/terragrunt.hcl", "skip = true\n"),
        ("live/prod/app/terragrunt.hcl", "inputs = {}\n"),
    ]);
    let view = r.graph_at_head();
    let db = unit(&view, "live/prod/db");
    assert_eq!(
        db.iam_role.as_deref(),
        Some("arn:aws:iam::333333333333:role/deployer")
    );
    assert!(db.prevent_destroy);
    assert!(!db.skip);
    assert!(unit(&view, "live/prod/legacy").skip);
    let app = unit(&view, "live/prod/app");
    assert!(!app.skip && !app.prevent_destroy && app.iam_role.is_none());
}

#[test]
fn exclude_skips_the_unit_only_when_it_always_applies_to_all_actions() {
    let r = repo_with(&[
        (
            "live/a/terragrunt.hcl",
            "exclude {\n  if      = true\n  actions = [\"all\"]\n}\n",
        ),
        (
            "live/b/terragrunt.hcl",
            "exclude {\n  if      = false\n  actions = [\"all\"]\n}\n",
        ),
        (
            "live/c/terragrunt.hcl",
            "exclude {\n  if      = true\n  actions = [\"apply\"]\n}\n",
        ),
    ]);
    let view = r.graph_at_head();
    assert!(unit(&view, "live/a").skip);
    assert!(!unit(&view, "live/b").skip);
    assert!(!unit(&view, "live/c").skip);
}

// ---------------------------------------------------------------------------------------------
// Files read

#[test]
fn a_units_reads_include_includes_read_configs_transitively_var_files_and_file_reads() {
    let r = repo_with(&[
        (
            "live/terragrunt.hcl",
            "locals {\n  account = read_terragrunt_config(find_in_parent_folders(\"account.hcl\"))\n}\n",
        ),
        (
            "live/dev/account.hcl",
            "locals {\n  common     = read_terragrunt_config(\"${get_terragrunt_dir()}/../common.hcl\")\n  account_id = \"111111111111\"\n}\n",
        ),
        ("live/common.hcl", "locals {\n  owner = \"platform\"\n}\n"),
        ("live/dev/dev.tfvars", "size = 1\n"),
        ("live/dev/app/user-data.sh", "#!/bin/sh\n"),
        (
            "live/dev/app/terragrunt.hcl",
            r#"include "root" {
  path = find_in_parent_folders()
}
terraform {
  extra_arguments "vars" {
    commands           = ["plan"]
    required_var_files = ["../dev.tfvars"]
  }
}
inputs = {
  user_data = file("user-data.sh")
}
"#,
        ),
    ]);
    let view = r.graph_at_head();
    let app = unit(&view, "live/dev/app");
    let reads: Vec<(&str, ReadKind)> = app
        .reads()
        .iter()
        .map(|(p, (k, _))| (p.as_str(), *k))
        .collect();
    assert_eq!(
        reads,
        [
            ("live/common.hcl", ReadKind::ReadConfig),
            ("live/dev/account.hcl", ReadKind::ReadConfig),
            ("live/dev/app/user-data.sh", ReadKind::File),
            ("live/dev/dev.tfvars", ReadKind::VarFile),
            ("live/terragrunt.hcl", ReadKind::Include),
        ]
    );
    assert_eq!(
        app.reads()["live/common.hcl"].1,
        "live/dev/account.hcl",
        "a transitive read names the file it was read through"
    );
}

#[test]
fn local_modules_are_followed_through_their_module_calls_and_remote_ones_recorded() {
    let r = repo_with(&[
        (
            "modules/app/main.tf",
            r#"module "network" {
  source = "../network"
}
module "labels" {
  source  = "cloudposse/label/null"
  version = "0.25.0"
}
"#,
        ),
        (
            "modules/network/main.tf",
            "module \"subnets\" {\n  source = \"./subnets\"\n}\n",
        ),
        ("modules/network/subnets/main.tf", "variable \"cidr\" {}\n"),
        ("modules/unused/main.tf", "variable \"x\" {}\n"),
        (
            "live/dev/app/terragrunt.hcl",
            "terraform {\n  source = \"${get_repo_root()}/modules//app\"\n}\n",
        ),
    ]);
    let view = r.graph_at_head();
    let app = unit(&view, "live/dev/app");
    assert_eq!(
        app.module_dirs.iter().collect::<Vec<_>>(),
        ["modules/app", "modules/network", "modules/network/subnets"]
    );
    assert_eq!(
        app.remote_sources.iter().collect::<Vec<_>>(),
        ["cloudposse/label/null"]
    );
}

#[test]
fn a_unit_without_terraform_source_follows_module_calls_from_its_own_tf_files() {
    let r = repo_with(&[
        ("modules/bucket/main.tf", "variable \"name\" {}\n"),
        ("live/dev/logs/terragrunt.hcl", "inputs = {}\n"),
        (
            "live/dev/logs/main.tf",
            "module \"bucket\" {\n  source = \"../../../modules/bucket\"\n}\n",
        ),
    ]);
    let view = r.graph_at_head();
    let logs = unit(&view, "live/dev/logs");
    assert_eq!(logs.source, None);
    assert_eq!(
        logs.module_dirs.iter().collect::<Vec<_>>(),
        ["modules/bucket"]
    );
}

// ---------------------------------------------------------------------------------------------
// Bad input: every broken unit is reported with file, line and cause; the others are evaluated.

const HEALTHY: &str = "live/healthy";

/// A repository with a healthy unit next to `files`; returns the graph view of HEAD, after
/// checking the healthy unit was evaluated in spite of its broken neighbours.
fn beside_a_healthy_unit(r: &TempRepo, files: &[(&str, &str)]) -> Arc<GraphView> {
    r.write(
        "live/healthy/terragrunt.hcl",
        "inputs = {\n  ok = upper(\"yes\")\n}\n",
    );
    r.write_all(files);
    r.commit("broken units");
    let view = r.graph_at_head();
    assert_eq!(
        config_json(unit(&view, HEALTHY))["inputs"],
        json!({"ok": "YES"}),
        "a broken unit must not stop the others"
    );
    view
}

#[test]
fn a_syntax_error_is_reported_with_file_and_line_and_the_other_units_still_evaluate() {
    let r = TempRepo::new();
    let view = beside_a_healthy_unit(
        &r,
        &[(
            APP_FILE,
            "locals {\n  a = 1\n}\n\ninputs = {\n  b = [1, 2\n}\n",
        )],
    );
    let e = error_for(&view, APP_FILE);
    assert_eq!(e.construct, "syntax");
    assert!(
        (6..=7).contains(&e.line),
        "the error points at the unclosed list: {e}"
    );
    assert_eq!(view.inventory.units.len(), 1);
}

#[test]
fn an_unknown_function_is_reported_with_its_name_file_and_line() {
    let r = TempRepo::new();
    let view = beside_a_healthy_unit(
        &r,
        &[(APP_FILE, "locals {\n  a = 1\n  b = frobnicate(\"x\")\n}\n")],
    );
    let e = error_for(&view, APP_FILE);
    assert_eq!(e.line, 3, "{e}");
    assert_eq!(e.construct, "local.b");
    assert_mentions(e, &["frobnicate"]);
}

#[test]
fn an_unknown_block_is_reported_with_its_name_file_and_line() {
    let r = TempRepo::new();
    let view = beside_a_healthy_unit(
        &r,
        &[(
            APP_FILE,
            "inputs = {}\n\nterragrunt_settings \"x\" {\n  a = 1\n}\n",
        )],
    );
    let e = error_for(&view, APP_FILE);
    assert_eq!(e.line, 3, "{e}");
    assert_eq!(e.construct, "terragrunt_settings");
    assert_mentions(e, &["unknown block"]);
}

#[test]
fn an_unknown_attribute_is_reported_with_its_name_file_and_line() {
    let r = TempRepo::new();
    let view = beside_a_healthy_unit(&r, &[(APP_FILE, "inputs = {}\ninptus = {}\n")]);
    let e = error_for(&view, APP_FILE);
    assert_eq!(e.line, 2, "{e}");
    assert_eq!(e.construct, "inptus");
    assert_mentions(e, &["unknown attribute"]);
}

#[test]
fn a_missing_include_file_is_reported_naming_the_file() {
    let r = TempRepo::new();
    let view = beside_a_healthy_unit(
        &r,
        &[(
            APP_FILE,
            "inputs = {}\n\ninclude \"common\" {\n  path = \"../_envcommon/app.hcl\"\n}\n",
        )],
    );
    let e = error_for(&view, APP_FILE);
    assert_eq!(e.line, 3, "{e}");
    assert_eq!(e.construct, "include \"common\"");
    assert_mentions(e, &["live/_envcommon/app.hcl", "does not exist"]);
}

#[test]
fn an_included_file_that_includes_another_is_refused_one_level_only() {
    let r = TempRepo::new();
    let view = beside_a_healthy_unit(
        &r,
        &[
            ("live/root.hcl", "inputs = {}\n"),
            (
                "live/_envcommon/app.hcl",
                "# common settings\ninclude \"root\" {\n  path = find_in_parent_folders(\"root.hcl\")\n}\n",
            ),
            (
                APP_FILE,
                "include \"common\" {\n  path = \"../_envcommon/app.hcl\"\n}\n",
            ),
        ],
    );
    let e = error_for(&view, "live/_envcommon/app.hcl");
    assert_eq!(e.line, 2, "{e}");
    assert_mentions(e, &["one level of include"]);
    assert!(!view.inventory.units.contains_key(APP));
}

#[test]
fn a_syntax_error_in_an_included_file_names_the_included_file() {
    let r = TempRepo::new();
    let view = beside_a_healthy_unit(
        &r,
        &[
            ("live/root.hcl", "locals {\n  a = \n}\n"),
            (
                APP_FILE,
                "include \"root\" {\n  path = find_in_parent_folders(\"root.hcl\")\n}\n",
            ),
        ],
    );
    let e = error_for(&view, "live/root.hcl");
    assert_eq!(e.construct, "syntax");
    assert!((2..=3).contains(&e.line), "{e}");
}

#[test]
fn an_unknown_function_in_an_included_file_names_that_file_and_line() {
    let r = TempRepo::new();
    let view = beside_a_healthy_unit(
        &r,
        &[
            (
                "live/root.hcl",
                "locals {\n  region = \"eu-west-1\"\n  zone   = pick_zone(local.region)\n}\n",
            ),
            (
                APP_FILE,
                "include \"root\" {\n  path = find_in_parent_folders(\"root.hcl\")\n}\n",
            ),
        ],
    );
    let e = error_for(&view, "live/root.hcl");
    assert_eq!(e.line, 3, "{e}");
    assert_eq!(e.construct, "local.zone");
    assert_mentions(e, &["pick_zone"]);
}

#[test]
fn an_error_in_a_read_config_names_that_file_and_line() {
    let r = TempRepo::new();
    let view = beside_a_healthy_unit(
        &r,
        &[
            (
                "live/account.hcl",
                "locals {\n  name = \"dev\"\n  id   = nosuchfn()\n}\n",
            ),
            (
                APP_FILE,
                "locals {\n  account = read_terragrunt_config(find_in_parent_folders(\"account.hcl\"))\n}\n",
            ),
        ],
    );
    let e = error_for(&view, APP_FILE);
    assert_eq!(e.line, 2, "{e}");
    assert_mentions(e, &["live/account.hcl:3", "nosuchfn"]);
}

#[test]
fn a_config_that_reads_itself_is_an_error_not_a_stack_overflow() {
    let r = TempRepo::new();
    let view = beside_a_healthy_unit(
        &r,
        &[(
            APP_FILE,
            "locals {\n  me = read_terragrunt_config(\"terragrunt.hcl\")\n}\n",
        )],
    );
    let e = error_for(&view, APP_FILE);
    assert_eq!(e.line, 2, "{e}");
    assert_mentions(
        e,
        &["reads itself: live/app/terragrunt.hcl -> live/app/terragrunt.hcl"],
    );
}

#[test]
fn configs_that_read_each_other_in_a_cycle_are_an_error_naming_the_cycle() {
    let r = TempRepo::new();
    let view = beside_a_healthy_unit(
        &r,
        &[
            (
                "live/a.hcl",
                "locals {\n  b = read_terragrunt_config(\"${get_terragrunt_dir()}/b.hcl\")\n}\n",
            ),
            (
                "live/b.hcl",
                "locals {\n  a = read_terragrunt_config(\"${get_terragrunt_dir()}/a.hcl\")\n}\n",
            ),
            (
                APP_FILE,
                "locals {\n  a = read_terragrunt_config(\"../a.hcl\")\n}\n",
            ),
        ],
    );
    let e = error_for(&view, APP_FILE);
    assert_mentions(
        e,
        &["live/a.hcl reads itself: live/a.hcl -> live/b.hcl -> live/a.hcl"],
    );
}

#[test]
fn paths_escaping_the_repository_are_refused_in_read_terragrunt_config_and_file() {
    let r = TempRepo::new();
    let view = beside_a_healthy_unit(
        &r,
        &[
            (
                "live/a/terragrunt.hcl",
                "locals {\n  x = read_terragrunt_config(\"../../../../etc/passwd\")\n}\n",
            ),
            (
                "live/b/terragrunt.hcl",
                "inputs = {\n  x = file(\"../../../../etc/passwd\")\n}\n",
            ),
            (
                "live/c/terragrunt.hcl",
                "inputs = {\n  x = file(\"/etc/passwd\")\n}\n",
            ),
        ],
    );
    for (file, line) in [
        ("live/a/terragrunt.hcl", 2),
        ("live/b/terragrunt.hcl", 1),
        ("live/c/terragrunt.hcl", 1),
    ] {
        let e = error_for(&view, file);
        assert_eq!(e.line, line, "{e}");
        assert!(
            e.message.contains("escapes the repository")
                || e.message.contains("is outside the repository"),
            "{e}"
        );
    }
}

#[test]
fn a_terraform_source_escaping_the_repository_is_refused() {
    let r = TempRepo::new();
    let view = beside_a_healthy_unit(
        &r,
        &[(
            APP_FILE,
            "terraform {\n  source = \"../../../../../opt/modules//vpc\"\n}\n",
        )],
    );
    let e = error_for(&view, APP_FILE);
    assert_eq!(e.construct, "terraform.source");
    assert_mentions(e, &["escapes the repository"]);
}

#[test]
fn file_through_a_symlink_pointing_outside_the_repository_is_refused() {
    let r = TempRepo::new();
    r.symlink("live/app/hosts", "/etc/hosts");
    let view = beside_a_healthy_unit(
        &r,
        &[(APP_FILE, "inputs = {\n  hosts = file(\"hosts\")\n}\n")],
    );
    let e = error_for(&view, APP_FILE);
    assert_eq!(e.line, 1, "{e}");
    assert_mentions(
        e,
        &["live/app/hosts", "symlink points outside the repository"],
    );
}

#[test]
fn read_terragrunt_config_through_a_symlink_pointing_outside_the_repository_is_refused() {
    let r = TempRepo::new();
    r.symlink("live/app/account.hcl", "/etc/hosts");
    let view = beside_a_healthy_unit(
        &r,
        &[(
            APP_FILE,
            "locals {\n  account = read_terragrunt_config(\"account.hcl\", { locals = {} })\n}\n",
        )],
    );
    let e = error_for(&view, APP_FILE);
    assert_eq!(e.line, 2, "{e}");
    assert_mentions(
        e,
        &[
            "live/app/account.hcl",
            "symlink points outside the repository",
        ],
    );
}

#[test]
fn find_in_parent_folders_does_not_look_past_a_symlink_pointing_outside_the_repository() {
    let r = TempRepo::new();
    r.write(
        "live/account.hcl",
        "locals {\n  account_id = \"111111111111\"\n}\n",
    );
    r.symlink("live/dev/account.hcl", "/etc/hosts");
    let view = beside_a_healthy_unit(
        &r,
        &[(
            "live/dev/app/terragrunt.hcl",
            "locals {\n  account = find_in_parent_folders(\"account.hcl\")\n}\n",
        )],
    );
    let e = error_for(&view, "live/dev/app/terragrunt.hcl");
    assert_eq!(e.line, 2, "{e}");
    assert_mentions(
        e,
        &[
            "live/dev/account.hcl",
            "symlink points outside the repository",
        ],
    );
}

#[test]
fn a_unit_file_that_is_a_symlink_pointing_outside_the_repository_is_reported() {
    let r = TempRepo::new();
    r.symlink(APP_FILE, "/etc/hosts");
    let view = beside_a_healthy_unit(&r, &[]);
    let e = error_for(&view, APP_FILE);
    assert_mentions(e, &["symlink points outside the repository"]);
}

#[test]
fn arithmetic_the_evaluator_cannot_do_is_an_error_and_the_other_units_are_still_evaluated() {
    let r = TempRepo::new();
    let mut files: Vec<(String, String)> = (0..6)
        .map(|i| {
            (
                format!("live/ok{i}/terragrunt.hcl"),
                "inputs = {\n  x = 1\n}\n".to_string(),
            )
        })
        .collect();
    files.push((
        "live/mod/terragrunt.hcl".into(),
        "locals {\n  zero = 0\n}\ninputs = {\n  x = 10 % local.zero\n}\n".into(),
    ));
    files.push((
        "live/overflow/terragrunt.hcl".into(),
        "inputs = {\n  x = -9223372036854775807 + -9223372036854775807\n}\n".into(),
    ));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let view = beside_a_healthy_unit(&r, &refs);
    for i in 0..6 {
        unit(&view, &format!("live/ok{i}"));
    }
    let e = error_for(&view, "live/mod/terragrunt.hcl");
    assert_eq!(e.line, 4, "{e}");
    assert_eq!(e.construct, "inputs");
    // Terraform computes this in arbitrary precision; an error is acceptable, a crash is not.
    if let Some(e) = view
        .inventory
        .errors
        .iter()
        .find(|e| e.file == "live/overflow/terragrunt.hcl")
    {
        assert_eq!(e.line, 1, "{e}");
    }
}

#[test]
fn an_include_through_a_symlink_pointing_outside_the_repository_is_refused() {
    let r = TempRepo::new();
    r.symlink("live/root.hcl", "/etc/hosts");
    let view = beside_a_healthy_unit(
        &r,
        &[(
            APP_FILE,
            "include \"root\" {\n  path = \"../root.hcl\"\n}\n",
        )],
    );
    let e = error_for(&view, APP_FILE);
    assert_mentions(
        e,
        &["live/root.hcl", "symlink points outside the repository"],
    );
}

#[test]
fn an_include_found_through_a_symlink_pointing_outside_the_repository_is_refused() {
    let r = TempRepo::new();
    r.symlink("live/root.hcl", "/etc/hosts");
    let view = beside_a_healthy_unit(
        &r,
        &[(
            APP_FILE,
            "include \"root\" {\n  path = find_in_parent_folders(\"root.hcl\")\n}\n",
        )],
    );
    let e = error_for(&view, APP_FILE);
    // The line of the `path` expression, not of its block.
    assert_eq!(e.line, 2, "{e}");
    assert_mentions(
        e,
        &["live/root.hcl", "symlink points outside the repository"],
    );
}

#[test]
fn a_symlink_to_a_file_inside_the_repository_is_read_like_the_file() {
    let r = TempRepo::new();
    r.write(
        "live/shared/account.hcl",
        "locals {\n  account_id = \"444444444444\"\n}\n",
    );
    r.symlink("live/app/account.hcl", "../shared/account.hcl");
    let view = beside_a_healthy_unit(
        &r,
        &[(
            APP_FILE,
            "locals {\n  account = read_terragrunt_config(\"account.hcl\")\n}\ninputs = {\n  id = local.account.locals.account_id\n}\n",
        )],
    );
    assert_eq!(
        config_json(unit(&view, APP))["inputs"]["id"],
        json!("444444444444")
    );
}

// ---------------------------------------------------------------------------------------------
// Variable references: looked up by reference, with hcl's own rules where that cannot be done

#[test]
fn references_to_locals_work_in_object_keys_indexes_splats_and_for_expressions() {
    let v = inputs(
        r#"locals {
  env   = { name = "dev", zones = ["a", "b"] }
  which = "name"
  apps  = [{ name = "api" }, { name = "web" }]
  tags  = { team = "core", tier = "1" }
}
inputs = {
  keyed   = { "/app/${local.env.name}/audit" = 365 }
  indexed = local.env[local.which]
  second  = local.env.zones[1]
  legacy  = local.env.zones.0
  splat   = local.apps[*].name
  pairs   = [for k, v in local.tags : "${k}=${v}"]
  shadow  = [for local in ["x", "y"] : upper(local)]
}
"#,
    );
    assert_eq!(v["keyed"], json!({"/app/dev/audit": 365}));
    assert_eq!(v["indexed"], json!("dev"));
    assert_eq!(v["second"], json!("b"));
    assert_eq!(v["legacy"], json!("a"));
    assert_eq!(v["splat"], json!(["api", "web"]));
    assert_eq!(v["pairs"], json!(["team=core", "tier=1"]));
    assert_eq!(v["shadow"], json!(["X", "Y"]));
}

#[test]
fn a_reference_to_a_missing_attribute_of_a_local_is_an_error_naming_it() {
    let e = error(
        "locals {\n  env = { name = \"dev\" }\n}\ninputs = {\n  region = local.env.region\n}\n",
    );
    assert_eq!(e.construct, "inputs");
    assert_mentions(&e, &["region"]);
}

#[test]
fn a_second_locals_block_is_an_error_naming_its_line() {
    let e = error("locals {\n  a = 1\n}\n\nlocals {\n  b = 2\n}\n");
    assert_eq!(e.file, APP_FILE);
    assert_eq!(e.line, 5, "{e}");
    assert_mentions(&e, &["locals", "merge"]);
}

#[test]
fn a_broken_root_configuration_names_the_unit_whose_evaluation_it_failed() {
    let r = repo_with(&[
        (
            "live/terragrunt.hcl",
            "inputs = {\n  region = local.nowhere\n}\n",
        ),
        (
            APP_FILE,
            "include \"root\" {\n  path = find_in_parent_folders()\n}\n",
        ),
    ]);
    let view = r.graph_at_head();
    let e = view
        .inventory
        .errors
        .iter()
        .find(|e| e.unit.as_deref() == Some(APP))
        .unwrap_or_else(|| panic!("no error names {APP}: {:?}", view.inventory.errors));
    assert_eq!(e.file, "live/terragrunt.hcl");
    assert_eq!(e.line, 1);
    assert!(
        e.to_string().ends_with(&format!("(evaluating {APP})")),
        "{e}"
    );
    // The root is a parent, though its includer failed: not a failed unit of its own.
    assert_eq!(
        view.inventory.failed().map(|(d, _)| d).collect::<Vec<_>>(),
        [APP]
    );
    assert_eq!(
        view.inventory.errors.len(),
        1,
        "{:?}",
        view.inventory.errors
    );
}

#[test]
fn an_error_quotes_the_expression_as_written_not_the_values_of_its_references() {
    let e = error("locals {\n  tags = { team = \"core\" }\n}\ninputs = merge(local.tags, \"x\")\n");
    assert_eq!(e.construct, "inputs");
    assert_mentions(&e, &["merge(local.tags"]);
}

// ---------------------------------------------------------------------------------------------
// Regular expressions and templates

#[test]
fn replace_with_a_pattern_in_slashes_is_a_regular_expression_replacement() {
    let v = inputs(
        r#"inputs = {
  plain   = replace("a.b.c", ".", "-")
  pattern = replace("prod-eu-west-1", "/^(\\w+)-(.*)$/", "$2/$1")
  digits  = replace("v1.2.3", "/[0-9]/", "N")
}
"#,
    );
    assert_eq!(v["plain"], json!("a-b-c"));
    assert_eq!(v["pattern"], json!("eu-west-1/prod"));
    assert_eq!(v["digits"], json!("vN.N.N"));
}

#[test]
fn regex_and_regexall_give_matches_lists_and_objects_as_terraform_does() {
    let v = inputs(
        r#"inputs = {
  whole  = regex("[a-z]+", "123abc456")
  groups = regex("(\\d+)-(\\d+)", "ports 80-443")
  named  = regex("(?P<env>[a-z]+)-(?P<region>[a-z]+-[a-z]+-\\d)", "svc-prod-eu-west-1")
  all    = regexall("\\d+", "a1b22c333")
  none   = length(regexall("x", "abc"))
}
"#,
    );
    assert_eq!(v["whole"], json!("abc"));
    assert_eq!(v["groups"], json!(["80", "443"]));
    // Leftmost match, as RE2: "svc-" cannot start one, "prod-eu-west-1" does.
    assert_eq!(v["named"], json!({"env": "prod", "region": "eu-west-1"}));
    assert_eq!(v["all"], json!(["1", "22", "333"]));
    assert_eq!(v["none"], json!(0));
}

#[test]
fn regex_without_a_match_or_with_a_bad_pattern_is_an_error_naming_it() {
    let e = error("inputs = {\n  x = regex(\"z+\", \"abc\")\n}\n");
    assert_mentions(&e, &["regex", "does not match"]);
    let e = error("inputs = {\n  x = replace(\"abc\", \"/(/\", \"\")\n}\n");
    assert_mentions(&e, &["replace", "invalid regular expression"]);
}

#[test]
fn templatefile_renders_with_vars_and_functions_and_its_file_is_read_by_the_unit() {
    let r = repo_with(&[
        (
            "live/app/policy.json.tftpl",
            "{\"env\": \"${upper(env)}\", \"ports\": [%{ for i, p in ports }%{ if i > 0 }, %{ endif }${p}%{ endfor }]}\n",
        ),
        (
            APP_FILE,
            "inputs = {\n  policy = jsondecode(templatefile(\"policy.json.tftpl\", { env = \"dev\", ports = [80, 443] }))\n}\n",
        ),
    ]);
    let v = inputs_in(&r, APP);
    assert_eq!(v["policy"], json!({"env": "DEV", "ports": [80, 443]}));
    let view = r.graph_at_head();
    assert!(unit(&view, APP)
        .reads()
        .contains_key("live/app/policy.json.tftpl"));
}

#[test]
fn templatefile_with_a_variable_it_was_not_given_is_an_error_naming_the_template() {
    let r = repo_with(&[
        ("live/app/t.tftpl", "hello ${name}\n"),
        (
            APP_FILE,
            "inputs = {\n  x = templatefile(\"t.tftpl\", {})\n}\n",
        ),
    ]);
    let view = r.graph_at_head();
    let e = error_for(&view, APP_FILE);
    assert_mentions(e, &["templatefile", "live/app/t.tftpl", "name"]);
}
