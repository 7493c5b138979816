//! A pull request cannot hide a unit from review: only a directory's own `terragrunt.hcl`
//! included by another unit makes that directory a parent; every other `terragrunt.hcl` is a
//! unit, or an error naming the files.

use slipway_tests::{error_for, unit, TempRepo};

const ROOT: &str = "remote_state {\n  backend = \"local\"\n  config = {}\n}\n";

fn includes(path: &str) -> String {
    format!("include \"x\" {{\n  path = \"{path}\"\n}}\n")
}

fn affected_paths(r: &TempRepo, base: &str) -> Vec<String> {
    r.affected_since(base, false)
        .units
        .into_iter()
        .map(|a| a.path)
        .collect()
}

#[test]
fn including_another_units_extra_file_does_not_hide_that_unit() {
    let r = TempRepo::with_files(&[
        ("live/terragrunt.hcl", ROOT),
        (
            "live/db/terragrunt.hcl",
            &format!(
                "{}inputs = {{\n  size = 1\n}}\n",
                includes("${find_in_parent_folders()}")
            ),
        ),
        ("live/db/extra.hcl", "inputs = {\n  extra = true\n}\n"),
        (
            "live/app/terragrunt.hcl",
            &format!(
                "{}include \"db\" {{\n  path = \"../db/extra.hcl\"\n}}\n",
                includes("${find_in_parent_folders()}")
            ),
        ),
    ]);
    let base = r.commit("unchanged");
    let view = r.graph_at_head();
    unit(&view, "live/db");
    unit(&view, "live/app");
    assert!(
        !view.inventory.units.contains_key("live"),
        "the root configuration is a parent"
    );

    r.edit("live/db/terragrunt.hcl", "size = 1", "size = 2");
    r.commit("grow the database");
    assert_eq!(affected_paths(&r, &base), ["live/db"]);
}

#[test]
fn a_unit_including_a_file_of_its_own_directory_stays_a_unit() {
    let r = TempRepo::with_files(&[
        ("live/app/common.hcl", "inputs = {\n  name = \"app\"\n}\n"),
        ("live/app/terragrunt.hcl", &includes("./common.hcl")),
    ]);
    let view = r.graph_at_head();
    let u = unit(&view, "live/app");
    assert!(u.reads().contains_key("live/app/common.hcl"));
}

#[test]
fn a_unit_including_itself_is_reported_not_dropped() {
    let r = TempRepo::with_files(&[
        ("live/app/terragrunt.hcl", &includes("./terragrunt.hcl")),
        ("live/web/terragrunt.hcl", "inputs = {}\n"),
    ]);
    let view = r.graph_at_head();
    unit(&view, "live/web");
    let listed = view.inventory.units.contains_key("live/app")
        || view.inventory.failed().any(|(d, _)| d == "live/app");
    assert!(
        listed,
        "live/app vanished: units {:?}, errors {:?}",
        view.inventory.units.keys().collect::<Vec<_>>(),
        view.inventory.errors
    );
}

#[test]
fn a_parent_that_also_holds_terraform_files_is_an_error_naming_both_files() {
    let r = TempRepo::with_files(&[
        ("live/terragrunt.hcl", ROOT),
        ("live/main.tf", "resource \"null_resource\" \"x\" {}\n"),
        (
            "live/app/terragrunt.hcl",
            &includes("${find_in_parent_folders()}"),
        ),
    ]);
    let view = r.graph_at_head();
    unit(&view, "live/app");
    let e = error_for(&view, "live/terragrunt.hcl");
    let msg = e.to_string();
    assert!(msg.contains("live/app/terragrunt.hcl"), "{msg}");
    assert!(msg.contains("live/main.tf"), "{msg}");
}

#[test]
fn an_include_added_by_a_change_cannot_hide_the_unit_it_points_into() {
    let r = TempRepo::with_files(&[
        ("live/db/terragrunt.hcl", "inputs = {\n  size = 1\n}\n"),
        ("live/db/extra.hcl", "inputs = {}\n"),
        ("live/app/terragrunt.hcl", "inputs = {}\n"),
    ]);
    let base = r.commit("unchanged");
    // One change both points app at db's extra file and edits db: db is still reviewed.
    r.write("live/app/terragrunt.hcl", &includes("../db/extra.hcl"));
    r.edit("live/db/terragrunt.hcl", "size = 1", "size = 9");
    r.commit("hide db");
    let affected = affected_paths(&r, &base);
    assert!(affected.contains(&"live/db".to_string()), "{affected:?}");
}

// --- Budgets: no input takes the process down, one unit's failure is that unit's. ---

const GOOD: (&str, &str) = ("live/good/terragrunt.hcl", "inputs = {\n  a = 1\n}\n");

/// The error reported for `live/bad`, with the good unit still listed beside it.
fn bad_unit_error(files: &[(&str, &str)]) -> String {
    let mut all = vec![GOOD];
    all.extend_from_slice(files);
    let r = TempRepo::with_files(&all);
    let view = r.graph_at_head();
    unit(&view, "live/good");
    assert!(!view.inventory.units.contains_key("live/bad"));
    error_for(&view, "live/bad/terragrunt.hcl").to_string()
}

#[test]
fn a_template_rendering_itself_is_that_units_error() {
    let msg = bad_unit_error(&[
        ("live/bad/t.tpl", "${templatefile(\"t.tpl\", {})}"),
        (
            "live/bad/terragrunt.hcl",
            "inputs = {\n  x = templatefile(\"t.tpl\", {})\n}\n",
        ),
    ]);
    assert!(
        msg.contains("templatefile cannot be called recursively"),
        "{msg}"
    );
}

#[test]
fn four_hundred_chained_reads_are_that_units_error() {
    let mut files: Vec<(String, String)> = (0..400)
        .map(|i| {
            (
                format!("live/bad/r{i}.hcl"),
                format!(
                    "locals {{\n  x = read_terragrunt_config(\"r{}.hcl\")\n}}\n",
                    i + 1
                ),
            )
        })
        .collect();
    files.push(("live/bad/r400.hcl".into(), "locals {\n  x = 1\n}\n".into()));
    files.push((
        "live/bad/terragrunt.hcl".into(),
        "locals {\n  c = read_terragrunt_config(\"r0.hcl\")\n}\n".into(),
    ));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let msg = bad_unit_error(&refs);
    assert!(msg.contains("nest deeper than 16 files"), "{msg}");
}

fn doubling_locals(times: usize) -> String {
    let mut hcl = String::from("locals {\n  l0 = [\"aaaaaaaa\"]\n");
    for i in 0..times {
        hcl.push_str(&format!("  l{} = concat(local.l{i}, local.l{i})\n", i + 1));
    }
    hcl.push_str(&format!(
        "}}\ninputs = {{\n  n = length(local.l{times})\n}}\n"
    ));
    hcl
}

#[test]
fn locals_doubling_a_list_forty_times_hit_the_units_budget() {
    let msg = bad_unit_error(&[("live/bad/terragrunt.hcl", &doubling_locals(40))]);
    assert!(msg.contains("budget of"), "{msg}");
    assert!(msg.contains("local.l2"), "names the local that grew: {msg}");
}

#[test]
fn nested_for_expressions_hit_the_budget_inside_one_expression() {
    let msg = bad_unit_error(&[(
        "live/bad/terragrunt.hcl",
        "locals {\n  xs = [for i in range(1000) : [for j in range(1000) : [for k in range(1000) : k]]]\n}\n",
    )]);
    assert!(msg.contains("budget of"), "{msg}");
}

#[test]
fn a_precision_rust_cannot_format_is_an_error_not_a_panic() {
    let msg = bad_unit_error(&[(
        "live/bad/terragrunt.hcl",
        "inputs = {\n  x = format(\"%.70000f\", 1)\n}\n",
    )]);
    assert!(msg.contains("precision 70000"), "{msg}");
}

#[test]
fn try_falls_back_on_a_division_by_zero() {
    let r = TempRepo::with_files(&[(
        "live/app/terragrunt.hcl",
        "inputs = {\n  x = try(1 % 0, \"fallback\")\n}\n",
    )]);
    assert_eq!(r.inputs_at_head("live/app")["x"], "fallback");
}

// --- No accidental quadratic work: each shape ends quickly (measured in the README's
// benchmark, not timed here) with the right value or a budget error. ---

#[test]
fn four_thousand_chained_locals_evaluate() {
    let mut hcl = String::from("locals {\n  l0 = 1\n");
    for i in 0..4000 {
        hcl.push_str(&format!("  l{} = local.l{i} + 1\n", i + 1));
    }
    hcl.push_str("}\ninputs = {\n  n = local.l4000\n}\n");
    let r = TempRepo::with_files(&[("live/app/terragrunt.hcl", &hcl)]);
    assert_eq!(r.inputs_at_head("live/app")["n"], 4001);
}

#[test]
fn locals_declared_in_reverse_order_evaluate() {
    let mut hcl = String::from("locals {\n");
    for i in (0..500).rev() {
        hcl.push_str(&format!("  l{i} = local.l{} + 1\n", i + 1));
    }
    hcl.push_str("  l500 = 0\n}\ninputs = {\n  n = local.l0\n}\n");
    let r = TempRepo::with_files(&[("live/app/terragrunt.hcl", &hcl)]);
    assert_eq!(r.inputs_at_head("live/app")["n"], 500);
}

#[test]
fn an_object_of_forty_thousand_keys_is_refused_naming_the_limit() {
    let mut hcl = String::from("inputs = {\n");
    for i in 0..40_000 {
        hcl.push_str(&format!("  k{i} = {i}\n"));
    }
    hcl.push_str("}\n");
    let msg = bad_unit_error(&[("live/bad/terragrunt.hcl", &hcl)]);
    assert!(msg.contains("more than 10000 entries"), "{msg}");
    assert!(msg.contains("live/bad/terragrunt.hcl:1"), "{msg}");
}

#[test]
fn distinct_of_a_large_list_keeps_first_occurrences_in_order() {
    let r = TempRepo::with_files(&[(
        "live/app/terragrunt.hcl",
        "locals {\n  xs = flatten([for i in range(1000) : [for j in range(200) : j]])\n}\n\
         inputs = {\n  n = length(distinct(local.xs))\n  first = distinct(concat([\"b\", \"a\", \"b\"], [1, \"1\"]))\n}\n",
    )]);
    let inputs = r.inputs_at_head("live/app");
    assert_eq!(inputs["n"], 200);
    assert_eq!(inputs["first"], serde_json::json!(["b", "a", 1, "1"]));
}

#[test]
fn a_list_nested_fifteen_hundred_deep_local_by_local_evaluates() {
    let mut hcl = String::from("locals {\n  l0 = []\n");
    for i in 0..1500 {
        hcl.push_str(&format!("  l{} = [local.l{i}]\n", i + 1));
    }
    hcl.push_str("}\ninputs = {\n  n = length(local.l1500)\n}\n");
    let r = TempRepo::with_files(&[("live/app/terragrunt.hcl", &hcl)]);
    assert_eq!(r.inputs_at_head("live/app")["n"], 1);
}

// --- Smaller ---

#[test]
fn a_number_out_of_range_says_so() {
    let msg = bad_unit_error(&[("live/bad/terragrunt.hcl", "inputs = {\n  n = 1e400\n}\n")]);
    assert!(msg.contains("the number 1e400 is out of range"), "{msg}");
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_configuration() {
    let r = TempRepo::with_files(&[
        (
            "live/app/terragrunt.hcl",
            "\u{feff}inputs = {\n  a = 1\n}\n",
        ),
        ("slipway.toml", "\u{feff}live_dir = \"live\"\n"),
    ]);
    assert_eq!(r.inputs_at_head("live/app")["a"], 1);
}

#[test]
fn a_live_dir_outside_the_repository_is_an_error() {
    let r = TempRepo::with_files(&[
        ("live/app/terragrunt.hcl", "inputs = {}\n"),
        ("slipway.toml", "live_dir = \"../elsewhere\"\n"),
    ]);
    let repo = agent::repo::Repo::open(r.path()).expect("test setup");
    let Err(err) = repo.graph(Some("HEAD")) else {
        panic!("a live_dir outside the repository was accepted")
    };
    let err = err.to_string();
    assert!(err.contains("live_dir"), "{err}");
}

#[test]
fn a_slipway_toml_that_is_a_symlink_is_an_error() {
    let r = TempRepo::new();
    r.write("live/app/terragrunt.hcl", "inputs = {}\n");
    r.write("config/real.toml", "live_dir = \"live\"\n");
    r.symlink("slipway.toml", "config/real.toml");
    r.commit("linked settings");
    let repo = agent::repo::Repo::open(r.path()).expect("test setup");
    let Err(err) = repo.graph(Some("HEAD")) else {
        panic!("a linked slipway.toml was accepted")
    };
    let err = format!("{err:#}");
    assert!(err.contains("symlink"), "{err}");
}

#[test]
fn a_directory_whose_name_is_not_utf8_does_not_break_the_other_units() {
    use std::os::unix::ffi::OsStrExt;
    let r = TempRepo::with_files(&[("live/app/terragrunt.hcl", "inputs = {}\n")]);
    let odd = r
        .path()
        .join("live")
        .join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
    std::fs::create_dir_all(&odd).expect("test setup");
    std::fs::write(odd.join("terragrunt.hcl"), "inputs = {}\n").expect("test setup");
    let git = git2::Repository::open(r.path()).expect("test setup");
    let mut index = git.index().expect("test setup");
    index
        .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
        .expect("test setup");
    index.write().expect("test setup");
    r.commit("odd name");
    let view = r.graph_at_head();
    unit(&view, "live/app");
    assert_eq!(view.snapshot.skipped(), ["live/caf\u{fffd}"]);
}

#[test]
fn a_revision_searching_commit_messages_is_refused() {
    let r = TempRepo::with_files(&[("live/app/terragrunt.hcl", "inputs = {}\n")]);
    let repo = agent::repo::Repo::open(r.path()).expect("test setup");
    let Err(err) = repo.affected(":/infrastructure", "HEAD", false) else {
        panic!("a revision searching commit messages was accepted")
    };
    assert!(
        err.to_string().contains("searches commit messages"),
        "{err}"
    );
}
