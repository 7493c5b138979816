//! Comment commands end to end: `/plan`, `/apply`, `/unlock`, `/help` given on pull requests of
//! the fake GitHub to the real service, with rights from the base's `slipway.toml` (prod:
//! the team `acme/platform`, one approval), GitHub's answers about people, unit locks in prod,
//! and every command recorded in the store.
//!
//! The tests share one world; each works on its own pull request and its own new prod unit, so
//! that no test's lock stands in another's way.

use std::sync::OnceLock;

use agent::store::{PrNumber, RepoName, SqliteStore, Store};
use slipway_tests::github::{Comment, PullSpec};
use slipway_tests::service::{comment_payload, World, BOT, REPO, WAIT};

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let w = World::start();
        w.github.set_permission(REPO, "mallory", "write");
        w.github.set_permission(REPO, "tess", "write");
        w.github.set_permission(REPO, "rita", "read");
        w.github
            .add_team_member("acme", "platform", "tess", "member");
        w
    })
}

/// A new prod unit `live/prod/<name>` like the others (app on the network's mock outputs).
fn new_unit(name: &str) -> (String, String) {
    new_unit_in("prod", name)
}

/// A new unit `live/<env>/<name>` like the others.
fn new_unit_in(env: &str, name: &str) -> (String, String) {
    (
        format!("live/{env}/{name}/terragrunt.hcl"),
        format!(
            "include \"root\" {{\n  path = find_in_parent_folders()\n}}\n\nterraform {{\n  source = \"../../../modules//app\"\n}}\n\ndependency \"network\" {{\n  config_path = \"../network\"\n  mock_outputs = {{\n    vpc_id = \"vpc-mock\"\n  }}\n  mock_outputs_allowed_terraform_commands = [\"plan\"]\n}}\n\ninputs = {{\n  vpc_id = dependency.network.outputs.vpc_id\n  image  = \"{name}\"\n}}\n"
        ),
    )
}

/// Opens pull request `pr` adding the prod unit `name` (plus `edits`), and waits for its review.
fn open_with_unit(w: &World, pr: u64, name: &str, edits: &[(&str, &str, &str)]) -> String {
    let (path, text) = new_unit(name);
    let mut all = vec![(path.as_str(), "", text.as_str())];
    all.extend_from_slice(edits);
    let head = w.origin.push(pr, &all);
    assert_eq!(w.deliver_pr("opened", pr, &head).0, 202);
    w.final_comment(pr, &head);
    head
}

/// Slipway's reply on `pr` containing `text`.
fn reply(w: &World, pr: u64, text: &str) -> Comment {
    w.github
        .wait_for(WAIT, |s| {
            s.comments_on(REPO, pr)
                .into_iter()
                .find(|c| c.author == BOT && !c.deleted && c.body.contains(text))
                .cloned()
        })
        .unwrap_or_else(|| {
            panic!(
                "no reply on #{pr} saying {text:?}: {:#?}\n{}",
                w.github.comments(REPO, pr),
                w.service.log()
            )
        })
}

fn replies(w: &World, pr: u64) -> Vec<Comment> {
    w.github
        .comments(REPO, pr)
        .into_iter()
        .filter(|c| c.author == BOT && !c.body.starts_with("<!-- slipway:"))
        .collect()
}

async fn audit(w: &World, pr: u64) -> Vec<(String, String, Option<String>, String)> {
    let store = SqliteStore::open(&w.store())
        .await
        .expect("the service's store");
    let repo = RepoName::parse(REPO).expect("name");
    store
        .commands_of_pr(&repo, PrNumber(pr))
        .await
        .expect("commands")
        .into_iter()
        .map(|c| (c.author, c.command, c.env, c.outcome))
        .collect()
}

fn check(w: &World, head: &str, name: &str, conclusion: &str) {
    let found = w.github.wait_for(WAIT, |s| {
        s.check_runs
            .values()
            .find(|c| {
                c.head_sha == head
                    && c.name == name
                    && c.status == "completed"
                    && c.conclusion.as_deref() == Some(conclusion)
            })
            .cloned()
    });
    assert!(
        found.is_some(),
        "{name} on {head} never became {conclusion}: {:#?}\n{}",
        w.github.check_runs(REPO, head),
        w.service.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_prod_by_someone_outside_the_allowed_team_is_refused_with_the_reason() {
    let w = world();
    open_with_unit(w, 10, "cmd-outsider", &[]);
    let id = w.say(10, "mallory", "Looks fine to me.\n\n/apply prod");
    let r = reply(w, 10, "may not apply prod");
    assert!(
        r.body.contains("acme/platform") && r.body.contains("mallory has write permission"),
        "{}",
        r.body
    );
    assert!(
        w.github.reactions(id).iter().any(|x| x.content == "eyes"),
        "the command was acknowledged"
    );
    assert!(
        audit(w, 10).await.contains(&(
            "mallory".into(),
            "/apply prod".into(),
            Some("prod".into()),
            "refused".into()
        )),
        "{:?}",
        audit(w, 10).await
    );
    w.github.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_prod_by_a_member_needs_the_approval_and_then_passes() {
    let w = world();
    let head = open_with_unit(w, 11, "cmd-member", &[]);
    w.say(11, "tess", "/apply prod");
    let r = reply(w, 11, "the requirements do not hold");
    assert!(r.body.contains("approvals: 1 needed"), "{}", r.body);
    // An approval of the head by someone else: the same command now passes.
    w.github.add_review(REPO, 11, "rev", "APPROVED", &head);
    w.say(11, "tess", "/apply prod");
    let ok = reply(w, 11, "tess may apply `prod`");
    assert!(ok.body.contains("after merge"), "{}", ok.body);
    let outcomes: Vec<String> = audit(w, 11).await.into_iter().map(|a| a.3).collect();
    assert_eq!(outcomes, ["refused", "accepted"]);
    w.github.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_request_granting_its_author_prod_rights_is_still_refused_under_the_bases() {
    let w = world();
    open_with_unit(
        w,
        12,
        "cmd-self-grant",
        &[(
            "slipway.toml",
            "teams = [\"acme/platform\"]",
            "teams = [\"acme/platform\"], users = [\"mallory\"]",
        )],
    );
    w.say(12, "mallory", "/apply prod");
    let r = reply(w, 12, "mallory may not apply prod");
    assert!(r.body.contains("acme/platform"), "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mistyped_command_is_answered_with_the_nearest_one_and_code_is_not_read() {
    let w = world();
    open_with_unit(w, 13, "cmd-typo", &[]);
    let quiet = w.say(
        13,
        "tess",
        "Run this:\n\n```\n/plan\n```\n\n> /apply prod\n",
    );
    w.say(13, "tess", "/aply prod");
    let r = reply(w, 13, "did you mean");
    assert!(r.body.contains("`/apply prod`"), "{}", r.body);
    w.say(13, "tess", "/help");
    let help = reply(w, 13, "/unlock");
    assert!(help.body.contains("/plan") && help.body.contains("/apply"));
    assert!(
        w.github.reactions(quiet).is_empty(),
        "a command in code or a quote is not read"
    );
    assert_eq!(replies(w, 13).len(), 2, "{:#?}", replies(w, 13));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_prod_unit_fails_the_other_pull_requests_lock_check_until_the_holder_closes() {
    let w = world();
    let first = open_with_unit(w, 14, "cmd-locked", &[]);
    check(w, &first, "slipway/lock", "success");
    let second = open_with_unit(w, 15, "cmd-locked", &[]);
    check(w, &second, "slipway/lock", "failure");
    let comment = w.final_comment(15, &second);
    assert!(
        comment.body.contains("`live/prod/cmd-locked` by #14"),
        "{}",
        comment.body
    );
    let lock = w
        .github
        .check_run(REPO, &second, "slipway/lock")
        .expect("the lock check");
    assert!(
        lock.title.as_deref().unwrap_or_default().contains("#14"),
        "{lock:?}"
    );
    // The holder closes: its locks go, and the waiting pull request is checked again.
    w.github
        .update_pull(REPO, 14, |p| p.state = "closed".into());
    assert_eq!(w.deliver_pr("closed", 14, &first).0, 202);
    check(w, &second, "slipway/lock", "success");
    w.github.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlock_by_someone_with_apply_rights_frees_the_unit() {
    let w = world();
    let first = open_with_unit(w, 16, "cmd-unlock", &[]);
    check(w, &first, "slipway/lock", "success");
    w.say(16, "rita", "/unlock");
    reply(w, 16, "rita may not unlock prod");
    w.say(16, "tess", "/unlock");
    reply(w, 16, "Released: `live/prod/cmd-unlock`");
    let second = open_with_unit(w, 17, "cmd-unlock", &[]);
    check(w, &second, "slipway/lock", "success");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fork_is_not_planned_with_the_roles_until_a_writer_says_plan() {
    let w = world();
    let (path, text) = new_unit("cmd-fork");
    let head = w.origin.push(18, &[(path.as_str(), "", text.as_str())]);
    let mut spec = PullSpec::new(18, &head);
    spec.base_sha = w.origin.base.clone();
    spec.fork_owner = Some("eve".into());
    spec.author = "eve".into();
    w.github.add_pull(REPO, spec);
    let payload = slipway_tests::service::pull_request_payload(
        "opened",
        REPO,
        &w.origin.url(),
        18,
        &head,
        "main",
        &w.origin.base,
        false,
    );
    assert_eq!(w.service.deliver("pull_request", &payload).0, 202);
    let held = w.final_comment(18, &head);
    assert!(
        held.body.contains("comes from a fork"),
        "the unit is shown as not planned, with the reason: {}",
        held.body
    );
    assert!(!held.body.contains("will be created"), "{}", held.body);
    // Someone without write permission cannot lift it; a writer can, once.
    w.say(18, "rita", "/plan");
    reply(w, 18, "rita may not plan prod");
    w.say(18, "tess", "/plan");
    let planned = w
        .github
        .wait_for(WAIT, |s| {
            slipway_tests::service::live_comments(s, 18)
                .into_iter()
                .find(|c| {
                    c.body.contains("null_resource.app will be created") && !c.body.contains("⏳")
                })
        })
        .unwrap_or_else(|| panic!("never planned:\n{}", w.service.log()));
    assert!(planned.body.contains("cmd-fork"), "{}", planned.body);
    w.github.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_to_main_plans_again_the_pull_requests_whose_units_read_what_it_changed() {
    let w = world();
    let reader = r#"include "root" {
  path = find_in_parent_folders()
}

terraform {
  source = "../../../modules//app"
}

locals {
  shared = read_terragrunt_config("${get_terragrunt_dir()}/../../../shared/cmd-base.hcl")
}

inputs = {
  vpc_id = "vpc-shared"
  image  = local.shared.locals.image
}
"#;
    let shared = "locals {\n  image = \"v1\"\n}\n";
    let head = w.origin.push(
        19,
        &[
            ("live/prod/cmd-base/terragrunt.hcl", "", reader),
            ("shared/cmd-base.hcl", "", shared),
        ],
    );
    assert_eq!(w.deliver_pr("opened", 19, &head).0, 202);
    w.final_comment(19, &head);
    let other = open_with_unit(w, 20, "cmd-base-other", &[]);

    let (before, after) = w
        .origin
        .advance_main(&[("shared/cmd-base.hcl", "locals {\n  image = \"v2\"\n}\n")]);
    let push = serde_json::json!({
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "repository": {"full_name": REPO, "clone_url": w.origin.url(), "default_branch": "main"},
        "sender": {"login": "ada", "id": 1, "type": "User"}
    });
    assert_eq!(w.service.deliver("push", &push).0, 202);
    let again = w
        .github
        .wait_for(WAIT, |s| {
            slipway_tests::service::live_comments(s, 19)
                .into_iter()
                .find(|c| c.body.contains("Planned again: main moved to") && !c.body.contains("⏳"))
        })
        .unwrap_or_else(|| panic!("#19 was not planned again:\n{}", w.service.log()));
    assert!(
        again.body.contains("live/prod/cmd-base"),
        "the comment says which unit: {}",
        again.body
    );
    // The push's job names what it planned again once it is through every pull request.
    let deadline = std::time::Instant::now() + WAIT;
    let line = loop {
        let log = w.service.log();
        if let Some(l) = log
            .lines()
            .find(|l| l.contains("pull request(s) planned again"))
        {
            break l.to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the push never finished:\n{log}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(line.contains("#19") && !line.contains("#20"), "{line}");
    let untouched = w.final_comment(20, &other);
    assert!(
        !untouched.body.contains("Planned again"),
        "a pull request the push leaves alone keeps its plan: {}",
        untouched.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_comments_get_one_bounded_answer_and_run_nothing() {
    let w = world();
    let head = open_with_unit(w, 21, "cmd-bad", &[]);
    // Ten thousand commands: one answer, nothing run.
    let flood = "/plan\n".repeat(10_000);
    w.say(21, "tess", &flood);
    let r = reply(w, 21, "so none was run");
    assert!(r.body.len() < 4_000, "bounded: {} bytes", r.body.len());
    // A command edited into a comment after the pull request closed.
    w.github
        .update_pull(REPO, 21, |p| p.state = "closed".into());
    let id = w.github.add_comment(REPO, 21, "tess", "thanks");
    let edited = comment_payload(
        "edited",
        REPO,
        &w.origin.url(),
        21,
        id,
        "tess",
        "thanks\n\n/plan",
        Some("thanks"),
    );
    assert_eq!(w.service.deliver("issue_comment", &edited).0, 202);
    reply(w, 21, "this pull request is closed");
    let plans = w
        .github
        .check_runs(REPO, &head)
        .into_iter()
        .filter(|c| c.name == "slipway/plan")
        .count();
    assert_eq!(plans, 1, "nothing was planned again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dev_failure_stops_prod_and_apply_dev_retries_what_failed() {
    let w = world();
    let marker = tempfile::tempdir()
        .expect("a directory")
        .keep()
        .join("ready");
    let module = format!(
        "{}\nvariable \"marker\" {{\n  type = string\n}}\n\nresource \"null_resource\" \"flaky\" {{\n  provisioner \"local-exec\" {{\n    command = \"test -f ${{var.marker}}\"\n  }}\n}}\n",
        slipway_tests::NULL_PROVIDER_TF
    );
    let dev = format!(
        "include \"root\" {{\n  path = find_in_parent_folders()\n}}\n\nterraform {{\n  source = \"../../../modules//flaky\"\n}}\n\ninputs = {{\n  marker = \"{}\"\n}}\n",
        marker.display()
    );
    let prod = "include \"root\" {\n  path = find_in_parent_folders()\n}\n\nterraform {\n  source = \"../../../modules//app\"\n}\n\ninputs = {\n  vpc_id = \"vpc-pipe\"\n  image  = \"pipe-b\"\n}\n";
    let files = [
        ("modules/flaky/main.tf", module.as_str()),
        ("live/dev/pipe-b/terragrunt.hcl", dev.as_str()),
        ("live/prod/pipe-b/terragrunt.hcl", prod),
    ];
    let edits: Vec<(&str, &str, &str)> = files.iter().map(|(p, t)| (*p, "", *t)).collect();
    let head = w.origin.push(24, &edits);
    assert_eq!(w.deliver_pr("opened", 24, &head).0, 202);
    w.final_comment(24, &head);
    let (_, merge) = w.origin.advance_main(&files);
    w.deliver_merge(24, &head, &merge);

    let failed = w.pipeline_saying(24, "❌ failed");
    assert!(
        failed.body.contains("| prod | `/apply prod` | ⛔ blocked"),
        "a failed stage blocks the later ones: {}",
        failed.body
    );
    assert!(
        failed.body.contains("local-exec"),
        "the error is shown: {}",
        failed.body
    );
    check(w, &merge, "slipway/apply/dev", "failure");

    // The cause goes away; `/apply dev` retries the failed stage, and prod's turn comes.
    std::fs::write(&marker, "").expect("marker");
    w.say(24, "tess", "/apply dev");
    reply(w, 24, "tess opened `dev`");
    let waiting = w
        .github
        .wait_for(WAIT, |s| {
            s.comments_on(REPO, 24)
                .into_iter()
                .find(|c| {
                    c.body.contains("Slipway apply of")
                        && c.body.contains("waiting for `/apply prod`")
                })
                .cloned()
        })
        .unwrap_or_else(|| {
            panic!(
                "dev never applied on retry: {:#?}",
                w.github.comments(REPO, 24)
            )
        });
    assert!(
        waiting.body.contains("| dev | auto | ✅ applied"),
        "{}",
        waiting.body
    );
    check(w, &merge, "slipway/apply/dev", "success");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merge_applies_dev_and_prod_waits_for_apply_prod_from_someone_allowed() {
    let w = world();
    // Units of their own (no dependency whose state would be needed): they apply for real.
    let standalone = |env: &str| {
        (
            format!("live/{env}/pipe-a/terragrunt.hcl"),
            "include \"root\" {\n  path = find_in_parent_folders()\n}\n\nterraform {\n  source = \"../../../modules//app\"\n}\n\ninputs = {\n  vpc_id = \"vpc-pipe\"\n  image  = \"pipe-a\"\n}\n".to_string(),
        )
    };
    let (dev_path, dev_text) = standalone("dev");
    let (prod_path, prod_text) = standalone("prod");
    let head = w.origin.push(
        23,
        &[
            (dev_path.as_str(), "", dev_text.as_str()),
            (prod_path.as_str(), "", prod_text.as_str()),
        ],
    );
    assert_eq!(w.deliver_pr("opened", 23, &head).0, 202);
    w.final_comment(23, &head);

    // Merged (squashed onto main).
    let (_, merge) = w
        .origin
        .advance_main(&[(&dev_path, &dev_text), (&prod_path, &prod_text)]);
    w.deliver_merge(23, &head, &merge);
    let pipeline = |text: &str| w.pipeline_saying(23, text);
    let waiting = pipeline("waiting for `/apply prod`");
    assert!(
        waiting.body.contains("waiting for `/apply prod`"),
        "{}",
        waiting.body
    );
    assert!(
        waiting.body.contains("| dev | auto | ✅ applied"),
        "{}",
        waiting.body
    );
    let state = |env: &str, account: &str| {
        w.moto.read_object_as(
            &format!("arn:aws:iam::{account}:role/slipway-apply"),
            &format!("slipway-state-{env}"),
            &format!("{env}/pipe-a/terraform.tfstate"),
        )
    };
    let dev_state = state("dev", "111111111111").expect("dev's state was written");
    assert!(dev_state.contains("pipe-a"), "{dev_state}");
    assert!(
        state("prod", "333333333333").is_err(),
        "prod is not applied before its gate"
    );
    check(w, &merge, "slipway/apply/dev", "success");

    w.say(23, "mallory", "/apply prod");
    reply(w, 23, "mallory may not apply prod");
    w.say(23, "tess", "/apply prod");
    reply(w, 23, "tess opened `prod`");
    let done = pipeline("| prod | `/apply prod` | ✅ applied");
    assert!(
        done.body.contains("| prod | `/apply prod` | ✅ applied"),
        "{}",
        done.body
    );
    assert!(done.body.contains("opened by tess"), "{}", done.body);
    let prod_state = state("prod", "333333333333").expect("prod's state was written");
    assert!(prod_state.contains("pipe-a"), "{prod_state}");
    check(w, &merge, "slipway/apply/prod", "success");
    w.github.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_prod_gate_keeps_the_rights_it_started_with_when_a_later_merge_changes_them() {
    // A world of its own: this test changes main's slipway.toml.
    let w = World::start();
    w.github.set_permission(REPO, "mallory", "write");
    w.github.set_permission(REPO, "tess", "write");
    w.github
        .add_team_member("acme", "platform", "tess", "member");
    let unit = "live/prod/pipe-c/terragrunt.hcl";
    let text = "include \"root\" {\n  path = find_in_parent_folders()\n}\n\nterraform {\n  source = \"../../../modules//app\"\n}\n\ninputs = {\n  vpc_id = \"vpc-c\"\n  image  = \"pipe-c\"\n}\n";
    let head = w.origin.push(25, &[(unit, "", text)]);
    assert_eq!(w.deliver_pr("opened", 25, &head).0, 202);
    w.final_comment(25, &head);
    let (_, merge) = w.origin.advance_main(&[(unit, text)]);
    w.deliver_merge(25, &head, &merge);
    w.pipeline_saying(25, "waiting for `/apply prod`");

    // A later merge adds mallory to prod's apply rights.
    let toml = w.origin.read_main("slipway.toml").replace(
        "teams = [\"acme/platform\"]",
        "teams = [\"acme/platform\"], users = [\"mallory\"]",
    );
    assert!(toml.contains("mallory"));
    w.origin.advance_main(&[("slipway.toml", &toml)]);

    w.say(25, "mallory", "/apply prod");
    reply(&w, 25, "mallory may not apply prod");
    w.say(25, "tess", "/apply prod");
    reply(&w, 25, "tess opened `prod`");
}
