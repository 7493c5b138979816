//! A pull request cannot write outside its unit's working directory, nor through what an
//! earlier run left there: the provider binary that every later plan executes stays the
//! mirror's, byte for byte.

mod engine_support;

use std::path::{Path, PathBuf};

use engine_support::{runner, settings, workspace};
use sha2::{Digest, Sha256};
use slipway_tests::{copy_dir, workspace_root, TempRepo};

const UNIT: &str = "live/app";
const PROVIDER: &str =
    "registry.terraform.io/hashicorp/null/2.1.2/linux_amd64/terraform-provider-null_v2.1.2_x4";

fn sha(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A copy of the provider mirror and a terraform CLI configuration pointing at it, so that
/// whatever a run does, the project's own mirror is not at stake.
fn mirror_copy(dir: &Path) -> (PathBuf, PathBuf) {
    let mirror = dir.join("mirror");
    copy_dir(&workspace_root().join(".tools/mirror"), &mirror);
    let rc = dir.join("terraformrc");
    std::fs::write(
        &rc,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n    include = [\"registry.terraform.io/hashicorp/null\"]\n  }}\n  direct {{\n    exclude = [\"registry.terraform.io/hashicorp/null\"]\n  }}\n}}\n",
            mirror.display()
        ),
    )
    .expect("test setup");
    (mirror, rc)
}

const MAIN_TF: &str = "resource \"null_resource\" \"app\" {}\n";

fn unit_with_generate(path: &str, marker: &Path) -> String {
    format!(
        "generate \"evil\" {{\n  path = \"{path}\"\n  if_exists = \"overwrite\"\n  contents = <<EOF\n#!/bin/sh\ntouch {}\nEOF\n}}\n",
        marker.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_plan_cannot_write_through_the_first_runs_provider_links() {
    let tmp = tempfile::tempdir().expect("test setup");
    let (mirror, rc) = mirror_copy(tmp.path());
    let before = sha(&mirror.join(PROVIDER));
    let marker = tmp.path().join("executed");

    let repo = TempRepo::with_files(&[
        ("live/app/terragrunt.hcl", "inputs = {}\n"),
        ("live/app/main.tf", MAIN_TF),
    ]);
    let mut s = settings(&tmp.path().join("work"));
    s.env = vec![("TF_CLI_CONFIG_FILE".into(), rc.display().to_string())];
    s.plugin_cache = Some(tmp.path().join("plugins"));
    let (runner, _store, _events) = runner(s).await;
    runner
        .plan(workspace(&repo), UNIT)
        .await
        .expect("first plan");

    // The pull request's next commit aims a generate block at the provider binary's place in
    // `.terraform`, which the first run filled with links into the cache and the mirror.
    for path in [
        format!(".terraform/providers/{PROVIDER}"),
        format!("./.terraform/providers/{PROVIDER}"),
    ] {
        repo.write(
            "live/app/terragrunt.hcl",
            &unit_with_generate(&path, &marker),
        );
        repo.commit("overwrite the provider");
        let err = runner
            .plan(workspace(&repo), UNIT)
            .await
            .expect_err("the plan is refused");
        assert!(err.to_string().contains(".terraform"), "{err}");
    }
    assert_eq!(sha(&mirror.join(PROVIDER)), before, "the mirror's binary");
    let cached = tmp.path().join("plugins").join(PROVIDER);
    if cached.exists() {
        assert_eq!(sha(&cached), before, "the cache's binary");
    }
    assert!(!marker.exists(), "nothing planted was executed");

    // And the unit plans again once the pull request drops the block.
    repo.write("live/app/terragrunt.hcl", "inputs = {}\n");
    repo.commit("drop it");
    runner.plan(workspace(&repo), UNIT).await.expect("plan");
    assert_eq!(sha(&mirror.join(PROVIDER)), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_changed_in_the_plugin_cache_is_never_run() {
    let tmp = tempfile::tempdir().expect("test setup");
    let (_mirror, rc) = mirror_copy(tmp.path());
    let marker = tmp.path().join("executed");
    let repo = TempRepo::with_files(&[
        ("live/app/terragrunt.hcl", "inputs = {}\n"),
        ("live/app/main.tf", MAIN_TF),
    ]);
    let cache = tmp.path().join("plugins");
    let mut s = settings(&tmp.path().join("work"));
    s.env = vec![("TF_CLI_CONFIG_FILE".into(), rc.display().to_string())];
    s.plugin_cache = Some(cache.clone());
    let (runner, _store, _events) = runner(s).await;
    runner
        .plan(workspace(&repo), UNIT)
        .await
        .expect("first plan");

    // Something rewrites the cached provider (through whatever link) between two runs.
    let cached = cache.join(PROVIDER);
    let real = std::fs::canonicalize(&cached).expect("test setup");
    std::fs::write(&real, format!("#!/bin/sh\ntouch {}\n", marker.display())).expect("test setup");

    let err = runner
        .plan(workspace(&repo), UNIT)
        .await
        .expect_err("refused");
    let msg = err.to_string();
    assert!(msg.contains("changed since it was installed"), "{msg}");
    assert!(!marker.exists(), "the rewritten provider was not executed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generate_path_leaving_the_working_directory_is_refused() {
    let tmp = tempfile::tempdir().expect("test setup");
    let outside = tmp.path().join("outside.txt");
    let repo = TempRepo::with_files(&[
        (
            "live/app/terragrunt.hcl",
            "generate \"x\" {\n  path = \"../../../../outside.txt\"\n  contents = \"x\"\n}\n",
        ),
        ("live/app/main.tf", MAIN_TF),
    ]);
    let (runner, _store, _events) = runner(settings(&tmp.path().join("work"))).await;
    let err = runner
        .plan(workspace(&repo), UNIT)
        .await
        .expect_err("refused");
    assert!(
        err.to_string().contains("escapes the working directory"),
        "{err}"
    );
    assert!(!outside.exists());
}
