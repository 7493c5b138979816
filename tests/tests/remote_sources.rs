//! Remote module sources with the native engine: real git repositories tagged v1.0.0 and
//! v1.1.0, served as `git::file://` and through git's own smart HTTP server on loopback (with
//! basic auth for the private one), a registry stand-in speaking the module registry protocol,
//! archives; real terraform with the null provider.

mod engine_support;

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use agent::aws::Secret;
use agent::engine::source::SourceCredentials;
use agent::engine::{EngineSettings, PlanOutcome, RunError, Workspace};
use engine_support::{quick_terraform, runner, settings, workspace};
use slipway_tests::remote::{git_http_backend, tar_gz, ModuleRepo, Response, Server};
use slipway_tests::{terraform, terraform_env, TempRepo, NULL_PROVIDER_TF};

const TOKEN: &str = "ghs_installationtoken0123456789";

/// The modules repository: `app` (a variable, `null_resource.first`, and a call of the local
/// module `../lib`) and `lib`; v1.0.0, then v1.1.0 where `app` adds `null_resource.second`.
struct Modules {
    repo: ModuleRepo,
    v1_0: String,
    v1_1: String,
}

const APP_V1: &str = r#"
variable "name" {
  type = string
}

resource "null_resource" "first" {
  triggers = {
    name = var.name
  }
}

module "lib" {
  source = "../lib"
}
"#;

const SECOND: &str = r#"
resource "null_resource" "second" {}
"#;

fn modules(dir: &Path) -> Modules {
    let repo = ModuleRepo::init(dir);
    repo.write("app/main.tf", &format!("{NULL_PROVIDER_TF}{APP_V1}"))
        .write(
            "lib/main.tf",
            &format!("{NULL_PROVIDER_TF}\nresource \"null_resource\" \"lib\" {{}}\n"),
        );
    let v1_0 = repo.commit("app and lib");
    repo.tag("v1.0.0");
    repo.write(
        "app/main.tf",
        &format!("{NULL_PROVIDER_TF}{APP_V1}{SECOND}"),
    );
    let v1_1 = repo.commit("app: a second resource");
    repo.tag("v1.1.0");
    Modules { repo, v1_0, v1_1 }
}

const V1_0: [&str; 2] = ["module.lib.null_resource.lib", "null_resource.first"];
const V1_1: [&str; 3] = [
    "module.lib.null_resource.lib",
    "null_resource.first",
    "null_resource.second",
];

/// A live repository with one unit per `(path, source)`.
fn live(units: &[(&str, &str)]) -> TempRepo {
    let r = TempRepo::new();
    for (path, source) in units {
        r.write(
            &format!("{path}/terragrunt.hcl"),
            &format!(
                "terraform {{\n  source = \"{source}\"\n}}\n\ninputs = {{\n  name = \"{path}\"\n}}\n"
            ),
        );
    }
    r.commit("live units");
    r
}

fn file_settings(work: &Path) -> EngineSettings {
    let mut s = settings(work);
    s.sources.allow_file = true;
    s
}

/// The addresses a plan creates, sorted.
fn created(outcome: &PlanOutcome) -> Vec<String> {
    let plan: serde_json::Value = serde_json::from_slice(&outcome.plan_json).expect("plan JSON");
    let mut out: Vec<String> = plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|rc| rc["change"]["actions"] == serde_json::json!(["create"]))
        .filter_map(|rc| rc["address"].as_str().map(str::to_string))
        .collect();
    out.sort();
    out
}

fn ok<'a>(results: &'a [(String, Result<PlanOutcome, RunError>)], unit: &str) -> &'a PlanOutcome {
    match results.iter().find(|(u, _)| u == unit) {
        Some((_, Ok(o))) => o,
        Some((_, Err(e))) => panic!("{unit} failed: {e}"),
        None => panic!("{unit} was not planned"),
    }
}

fn err(results: &[(String, Result<PlanOutcome, RunError>)], unit: &str) -> String {
    match results.iter().find(|(u, _)| u == unit) {
        Some((_, Err(e))) => e.to_string(),
        Some((_, Ok(_))) => panic!("{unit} planned, but should have failed"),
        None => panic!("{unit} was not planned"),
    }
}

/// A loopback server of the repositories under `root` through `git http-backend`, answering
/// only requests with basic auth `x-access-token:<token>` when `token` is given.
fn git_server(root: &Path, token: Option<&'static str>) -> Server {
    let root = root.to_path_buf();
    Server::start(move |req| match token {
        Some(t) if !req.has_basic_auth("x-access-token", t) => {
            Response::new(401).header("www-authenticate", "Basic realm=\"modules\"")
        }
        Some(_) => git_http_backend(&root, "", req, Some("x-access-token")),
        None => git_http_backend(&root, "", req, None),
    })
}

fn units(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("live/dev/app{i}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_pinned_to_v1_0_0_plans_that_versions_resources_from_its_subdirectory() {
    let tmp = tempfile::tempdir().unwrap();
    let m = modules(&tmp.path().join("modules"));
    let source = format!("{}//app?ref=v1.0.0", m.repo.file_source());
    let repo = live(&[("live/dev/app", &source)]);
    let work = tempfile::tempdir().unwrap();
    let (runner, _store, _events) = runner(file_settings(work.path())).await;
    let results = runner
        .plan_all(workspace(&repo), &["live/dev/app".to_string()])
        .await;
    let outcome = ok(&results, "live/dev/app");
    assert_eq!(
        created(outcome),
        V1_0,
        "v1.0.0's app, and lib called as ../lib"
    );
    assert_eq!(outcome.sources.len(), 1);
    assert_eq!(outcome.sources[0].commit.as_deref(), Some(m.v1_0.as_str()));
    assert_eq!(outcome.sources[0].source, source);
    assert_eq!(outcome.sources[0].form, "git from a local path");
    assert!(
        outcome
            .notes
            .iter()
            .any(|n| n.contains(&m.v1_0) && n.contains("?ref=v1.0.0")),
        "{:?}",
        outcome.notes
    );
    // The cached tree is read-only; the working copy is not, and has no .git.
    let cached = runner.source_cache().dir().join("git");
    let entry = std::fs::read_dir(&cached)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(entry
        .join("app/main.tf")
        .metadata()
        .unwrap()
        .permissions()
        .readonly());
    assert!(!entry.join(".git").exists());
}

#[test]
fn bumping_the_ref_is_an_affected_change_found_offline_and_plans_the_new_resource() {
    let tmp = tempfile::tempdir().unwrap();
    let m = modules(&tmp.path().join("modules"));
    let server = git_server(tmp.path(), None);
    let base_source = format!("git::{}/modules//app?ref=v1.0.0", server.url());
    let repo = live(&[("live/dev/app", &base_source)]);
    let base = repo.commit("nothing");
    repo.edit("live/dev/app/terragrunt.hcl", "ref=v1.0.0", "ref=v1.1.0");
    repo.commit("app: modules v1.1.0");

    let change = repo.affected_since(&base, false);
    let paths: Vec<&str> = change.units.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(paths, ["live/dev/app"]);
    assert!(
        server.requests().is_empty(),
        "discovery fetched something: {:?}",
        server.requests()
    );

    std::env::set_var("SLIPWAY_TERRAFORM", terraform());
    let args = webhook::cmd::plan::PlanArgs {
        change: webhook::cmd::ChangeArgs {
            repo: repo.path().to_path_buf(),
            base: base.clone(),
            head: "HEAD".into(),
        },
        work_dir: None,
    };
    let (review, failed) = webhook::cmd::plan::review(&args, terraform_env()).expect("review");
    let comment = webhook::comment::render(&review);
    assert!(!failed, "{comment}");
    assert!(
        comment.contains("+ null_resource.second will be created"),
        "{comment}"
    );
    assert!(
        comment.contains(&format!(
            "Module source: `git::{}/modules//app?ref=v1.1.0` at commit `{}`",
            server.url(),
            m.v1_1
        )),
        "{comment}"
    );
    assert!(comment.contains("Plan: 3 to add"), "{comment}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_units_on_one_source_fetch_it_once() {
    let tmp = tempfile::tempdir().unwrap();
    let m = modules(&tmp.path().join("modules"));
    let server = git_server(tmp.path(), None);
    let at = |sub: &str| format!("git::{}/modules//{sub}?ref=v1.1.0", server.url());
    let repo = live(&[("live/dev/app", &at("app")), ("live/dev/lib", &at("lib"))]);
    let work = tempfile::tempdir().unwrap();
    let (runner, _store, _events) = runner(settings(work.path())).await;
    let both = ["live/dev/app".to_string(), "live/dev/lib".to_string()];
    let results = runner.plan_all(workspace(&repo), &both).await;
    assert_eq!(created(ok(&results, "live/dev/app")), V1_1);
    assert_eq!(created(ok(&results, "live/dev/lib")), ["null_resource.lib"]);
    for u in &both {
        assert_eq!(
            ok(&results, u).sources[0].commit.as_deref(),
            Some(m.v1_1.as_str())
        );
    }
    assert_eq!(
        runner.source_cache().fetches(),
        1,
        "one clone for both units"
    );
    assert_eq!(runner.source_cache().resolutions(), 1, "one ls-remote");
    assert_eq!(server.git_fetches(), 1, "{:?}", server.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branch_is_resolved_once_per_run_so_every_unit_sees_the_same_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let m = modules(&tmp.path().join("modules"));
    let source = format!("{}//app?ref=main", m.repo.file_source());
    let repo = live(&[("live/dev/a", &source), ("live/dev/b", &source)]);
    let work = tempfile::tempdir().unwrap();
    let (runner, _store, _events) = runner(file_settings(work.path())).await;
    let ws = workspace(&repo);
    let a = runner
        .plan(ws.clone(), "live/dev/a")
        .await
        .expect("a plans");
    assert_eq!(a.sources[0].commit.as_deref(), Some(m.v1_1.as_str()));

    // main moves while the run goes on: the run's other unit still sees the first commit.
    m.repo
        .write("app/third.tf", "resource \"null_resource\" \"third\" {}\n");
    let moved = m.repo.commit("app: a third resource");
    let b = runner
        .plan(ws.clone(), "live/dev/b")
        .await
        .expect("b plans");
    assert_eq!(b.sources[0].commit.as_deref(), Some(m.v1_1.as_str()));
    assert_eq!(created(&b), V1_1);
    assert_eq!(runner.source_cache().resolutions(), 1);

    // The next run resolves the branch again.
    let next = runner
        .plan(workspace(&repo), "live/dev/b")
        .await
        .expect("b plans again");
    assert_eq!(next.sources[0].commit.as_deref(), Some(moved.as_str()));
    assert!(created(&next).contains(&"null_resource.third".to_string()));
    assert_eq!(runner.source_cache().resolutions(), 2);
    assert_eq!(runner.source_cache().fetches(), 2);
}

/// A registry stand-in on loopback: discovery, the versions of `acme/app/null` (1.0.0, 1.1.0,
/// 2.0.0), and a download location per version pointing (relatively) at a `.tar.gz` of the
/// modules tree that the same server serves, with `//app` as the module's directory.
fn registry(archives: Vec<(String, Vec<u8>)>) -> Server {
    Server::start(move |req| {
        let path = req.path.as_str();
        if path == "/.well-known/terraform.json" {
            return Response::json(&serde_json::json!({"modules.v1": "/v1/modules/"}));
        }
        if path == "/v1/modules/acme/app/null/versions" {
            return Response::json(&serde_json::json!({"modules": [{"versions": [
                {"version": "1.0.0"}, {"version": "2.0.0"}, {"version": "1.1.0"}
            ]}]}));
        }
        if let Some(v) = path
            .strip_prefix("/v1/modules/acme/app/null/")
            .and_then(|r| r.strip_suffix("/download"))
        {
            return Response::new(204).header(
                "x-terraform-get",
                &format!("/archives/modules-{v}.tar.gz//app"),
            );
        }
        for (name, bytes) in &archives {
            if path == format!("/archives/{name}") {
                return Response::ok(bytes.clone());
            }
        }
        Response::new(404)
    })
}

/// The modules tree at `commit`, as a `.tar.gz`.
fn archive_of(m: &Modules, commit: &str, scratch: &Path) -> Vec<u8> {
    let tree = scratch.join(format!("tree-{commit}"));
    slipway_tests::remote::git(
        &m.repo.dir,
        &[
            "worktree",
            "add",
            "--detach",
            &tree.to_string_lossy(),
            commit,
        ],
    );
    std::fs::remove_file(tree.join(".git")).expect("remove the worktree link");
    tar_gz(&tree)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_module_is_found_through_the_registry_protocol_and_cached_by_version() {
    let tmp = tempfile::tempdir().unwrap();
    let m = modules(&tmp.path().join("modules"));
    let scratch = tmp.path().join("scratch");
    let archives = vec![
        (
            "modules-1.0.0.tar.gz".to_string(),
            archive_of(&m, &m.v1_0, &scratch),
        ),
        (
            "modules-1.1.0.tar.gz".to_string(),
            archive_of(&m, &m.v1_1, &scratch),
        ),
    ];
    let server = registry(archives);
    let source = format!("tfr://{}/acme/app/null?version=~> 1.0", server.host());
    let repo = live(&[("live/dev/app", &source)]);
    let work = tempfile::tempdir().unwrap();

    let (runner1, _store, _events) = runner(settings(work.path())).await;
    let results = runner1
        .plan_all(workspace(&repo), &["live/dev/app".to_string()])
        .await;
    let outcome = ok(&results, "live/dev/app");
    assert_eq!(created(outcome), V1_1, "~> 1.0 picks 1.1.0, not 2.0.0");
    assert_eq!(outcome.sources[0].version.as_deref(), Some("1.1.0"));
    assert_eq!(outcome.sources[0].form, "Terraform registry module");
    assert!(outcome.sources[0].sha256.is_some());
    assert_eq!(server.count("GET", "/archives/modules-1.1.0.tar.gz"), 1);
    assert_eq!(server.count("GET", "/1.1.0/download"), 1);

    // A second plan looks the versions up again (a constraint) but downloads nothing.
    let (runner2, _store, _events) = runner(settings(work.path())).await;
    let again = runner2
        .plan_all(workspace(&repo), &["live/dev/app".to_string()])
        .await;
    assert_eq!(created(ok(&again, "live/dev/app")), V1_1);
    assert_eq!(runner2.source_cache().fetches(), 0);
    assert_eq!(server.count("GET", "/archives/modules-1.1.0.tar.gz"), 1);
    assert_eq!(server.count("GET", "/1.1.0/download"), 1);
    assert_eq!(server.count("GET", "/versions"), 2);

    // An exact version of a cached module needs no request at all.
    let exact = live(&[(
        "live/dev/app",
        &format!("tfr://{}/acme/app/null?version=1.1.0", server.host()),
    )]);
    let before = server.requests().len();
    let (runner3, _store, _events) = runner(settings(work.path())).await;
    let third = runner3
        .plan_all(workspace(&exact), &["live/dev/app".to_string()])
        .await;
    assert_eq!(created(ok(&third, "live/dev/app")), V1_1);
    assert_eq!(server.requests().len(), before, "{:?}", server.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_with_a_link_out_of_it_is_refused_and_the_other_unit_still_plans() {
    let tmp = tempfile::tempdir().unwrap();
    let m = modules(&tmp.path().join("modules"));
    let evil = tmp.path().join("evil");
    std::fs::create_dir_all(&evil).unwrap();
    std::fs::write(evil.join("main.tf"), NULL_PROVIDER_TF).unwrap();
    std::os::unix::fs::symlink("../../../../../../etc/passwd", evil.join("passwd.tf")).unwrap();
    let bytes = tar_gz(&evil);
    let server = Server::start(move |req| {
        if req.path == "/evil.tar.gz" {
            Response::ok(bytes.clone())
        } else {
            Response::new(404)
        }
    });
    let evil_source = format!("{}/evil.tar.gz", server.url());
    let good_source = format!("{}//app?ref=v1.0.0", m.repo.file_source());
    let repo = live(&[
        ("live/dev/evil", &evil_source),
        ("live/dev/good", &good_source),
    ]);
    let work = tempfile::tempdir().unwrap();
    let (runner, _store, _events) = runner(file_settings(work.path())).await;
    let results = runner
        .plan_all(
            workspace(&repo),
            &["live/dev/evil".to_string(), "live/dev/good".to_string()],
        )
        .await;
    let e = err(&results, "live/dev/evil");
    assert!(e.starts_with("live/dev/evil: "), "{e}");
    assert!(e.contains(&evil_source), "{e}");
    assert!(e.contains("(archive over HTTP)"), "{e}");
    assert!(
        e.contains("passwd.tf points outside the module source"),
        "{e}"
    );
    assert_eq!(created(ok(&results, "live/dev/good")), V1_0);
    assert!(
        !work.path().join("live_dev_evil/passwd.tf").exists(),
        "nothing of the refused archive reached the working directory"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_https_repository_needs_the_token_and_fails_clearly_without_it() {
    let tmp = tempfile::tempdir().unwrap();
    let m = modules(&tmp.path().join("modules"));
    let server = git_server(tmp.path(), Some(TOKEN));
    let source = format!("git::{}/modules//app?ref=v1.0.0", server.url());
    let repo = live(&[("live/dev/app", &source)]);
    let unit = ["live/dev/app".to_string()];
    let with = |token: Option<&str>| {
        let work = tempfile::tempdir().unwrap();
        let mut s = settings(work.path());
        s.sources.credentials = SourceCredentials {
            github_host: server.host(),
            github_token: token.map(Secret::new),
            ..SourceCredentials::default()
        };
        (work, s)
    };

    let (_w, s) = with(None);
    let (r, _store, _events) = runner(s).await;
    let e = err(&r.plan_all(workspace(&repo), &unit).await, "live/dev/app");
    assert!(
        e.starts_with("live/dev/app: cannot fetch module source"),
        "{e}"
    );
    assert!(e.contains(&source) && e.contains("git over HTTP"), "{e}");
    assert!(
        e.contains(&format!(
            "{} asks for credentials, and none are configured for it",
            server.host()
        )),
        "{e}"
    );

    let wrong = "ghs_wrongtoken9876543210";
    let (_w, s) = with(Some(wrong));
    let (r, _store, _events) = runner(s).await;
    let e = err(&r.plan_all(workspace(&repo), &unit).await, "live/dev/app");
    assert!(
        e.contains(&format!(
            "{} refused the configured credentials",
            server.host()
        )),
        "{e}"
    );
    assert!(!e.contains(wrong), "the token leaked: {e}");

    let (_w, s) = with(Some(TOKEN));
    let (r, _store, _events) = runner(s).await;
    let results = r.plan_all(workspace(&repo), &unit).await;
    let outcome = ok(&results, "live/dev/app");
    assert_eq!(created(outcome), V1_0);
    assert_eq!(outcome.sources[0].commit.as_deref(), Some(m.v1_0.as_str()));
    assert!(!outcome.log.contains(TOKEN));

    // A fork's pull request never gets the token, even with the module in the cache.
    let mut fork: Workspace = (*workspace(&repo)).clone();
    fork.fork = true;
    fork.sources = Arc::default();
    let e = err(&r.plan_all(Arc::new(fork), &unit).await, "live/dev/app");
    assert!(
        e.contains("asks for credentials, and a fork's pull request gets none"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_that_cannot_be_fetched_name_the_unit_the_source_and_the_form() {
    let tmp = tempfile::tempdir().unwrap();
    let m = modules(&tmp.path().join("modules"));
    let missing_tag = format!("{}//app?ref=v9.9.9", m.repo.file_source());
    let missing_dir = format!("{}//nowhere?ref=v1.0.0", m.repo.file_source());
    let s3 = "s3::https://s3-eu-west-1.amazonaws.com/acme-modules/app.zip";
    let repo = live(&[
        ("live/dev/tag", &missing_tag),
        ("live/dev/dir", &missing_dir),
        ("live/dev/s3", s3),
    ]);
    let work = tempfile::tempdir().unwrap();
    let (r, _store, _events) = runner(file_settings(work.path())).await;
    let all = ["live/dev/tag", "live/dev/dir", "live/dev/s3"].map(String::from);
    let results = r.plan_all(workspace(&repo), &all).await;
    let e = err(&results, "live/dev/tag");
    assert!(
        e.contains("live/dev/tag")
            && e.contains(&missing_tag)
            && e.contains("ref=v9.9.9 is no tag or branch"),
        "{e}"
    );
    let e = err(&results, "live/dev/dir");
    assert!(e.contains("no directory //nowhere"), "{e}");
    let e = err(&results, "live/dev/s3");
    assert!(e.contains(s3) && e.contains("(S3 object)"), "{e}");

    // file:// sources are off unless allowed.
    let work = tempfile::tempdir().unwrap();
    let (strict, _store, _events) = runner(settings(work.path())).await;
    let ok_source = live(&[(
        "live/dev/app",
        &format!("{}//app?ref=v1.0.0", m.repo.file_source()),
    )]);
    let e = err(
        &strict
            .plan_all(workspace(&ok_source), &["live/dev/app".to_string()])
            .await,
        "live/dev/app",
    );
    assert!(e.contains("git::file:// sources are off"), "{e}");
}

/// Twenty units on one source over HTTP: one clone on the first plan, none on the second (a
/// new runner on the same cache, as a second `slipway plan` would be). Terraform is a stand-in
/// here: what is measured is Slipway's fetching.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_plan_of_twenty_units_sharing_a_source_fetches_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let _m = modules(&tmp.path().join("modules"));
    let server = git_server(tmp.path(), None);
    let source = format!("git::{}/modules//app?ref=v1.1.0", server.url());
    let names = units(20);
    let pairs: Vec<(&str, &str)> = names
        .iter()
        .map(|u| (u.as_str(), source.as_str()))
        .collect();
    let repo = live(&pairs);
    let work = tempfile::tempdir().unwrap();
    let fake = quick_terraform(work.path(), "0");
    let mk = || {
        let mut s = settings(work.path());
        s.terraform = fake.clone();
        s.parallelism = 4;
        s
    };

    let (first, _store, _events) = runner(mk()).await;
    let started = Instant::now();
    let results = first.plan_all(workspace(&repo), &names).await;
    let first_time = started.elapsed();
    for u in &names {
        ok(&results, u);
    }
    assert_eq!(first.source_cache().fetches(), 1);
    assert_eq!(server.git_fetches(), 1, "one clone for twenty units");

    let (second, _store, _events) = runner(mk()).await;
    let started = Instant::now();
    let results = second.plan_all(workspace(&repo), &names).await;
    let second_time = started.elapsed();
    for u in &names {
        ok(&results, u);
    }
    assert_eq!(second.source_cache().fetches(), 0);
    assert_eq!(
        second.source_cache().resolutions(),
        1,
        "one ls-remote per run"
    );
    assert_eq!(server.git_fetches(), 1, "the second plan fetched nothing");
    eprintln!(
        "20 units, one source: first plan {first_time:?} (one clone), second {second_time:?} (no fetch)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_that_hangs_is_stopped_at_the_source_timeout() {
    let server = Server::start(|_| {
        std::thread::sleep(std::time::Duration::from_secs(20));
        Response::new(404)
    });
    let source = format!("git::{}/modules//app?ref=v1.0.0", server.url());
    let repo = live(&[("live/dev/app", &source)]);
    let work = tempfile::tempdir().unwrap();
    let mut s = settings(work.path());
    s.sources.timeout = std::time::Duration::from_secs(1);
    let (r, _store, _events) = runner(s).await;
    let started = Instant::now();
    let results = r
        .plan_all(workspace(&repo), &["live/dev/app".to_string()])
        .await;
    let e = err(&results, "live/dev/app");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(e.contains(&source) && e.contains("did not finish"), "{e}");
}
