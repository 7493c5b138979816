//! `slipway serve` end to end, on real parts: the real binary and router fed signed deliveries,
//! a real git repository fetched into the service's mirror, real terraform planning under each
//! account's assumed role with state in the AWS emulator, and a fake GitHub that checks every
//! request against GitHub's REST description and GraphQL schema.
//!
//! The tests of this file share one world (one fake GitHub, one moto, one repository, one
//! service and its plugin cache); each works on its own pull request.

use std::sync::OnceLock;
use std::time::Duration;

use slipway_tests::service::{live_comments, pull_request_payload, World, REPO, WAIT};

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(World::start)
}

#[test]
fn an_opened_pull_request_gets_one_sticky_comment_and_both_check_runs() {
    let w = world();
    let head = w
        .origin
        .push(1, &[("live/dev/app/terragrunt.hcl", "\"v1\"", "\"v2\"")]);
    let (status, body) = w.deliver_pr("opened", 1, &head);
    assert_eq!(status, 202, "{body}");

    let comment = w.final_comment(1, &head);
    assert!(comment.body.contains("live/dev/app"), "{}", comment.body);
    assert!(
        comment.body.contains("null_resource.app will be created"),
        "{}",
        comment.body
    );
    assert!(
        comment.body.contains(r#"triggers.image = "v2""#),
        "{}",
        comment.body
    );
    assert!(comment.body.contains("```mermaid"), "{}", comment.body);
    assert!(!comment.body.contains("live/prod"), "{}", comment.body);
    // The live form came first: the same comment, edited, never a second one.
    assert!(
        comment.edits() >= 1,
        "the comment was never edited in place"
    );
    assert!(
        comment.previous_bodies[0].contains("⏳ planning"),
        "{:?}",
        comment.previous_bodies
    );
    assert_eq!(w.github.with_state(|s| live_comments(s, 1).len()), 1);

    let done = |name: &'static str| {
        w.github
            .wait_for(WAIT, |s| {
                s.check_runs
                    .values()
                    .find(|c| {
                        c.repo == REPO
                            && c.head_sha == head
                            && c.name == name
                            && c.status == "completed"
                    })
                    .cloned()
            })
            .unwrap_or_else(|| panic!("{name} never completed:\n{}", w.service.log()))
    };
    let plan = done("slipway/plan");
    assert_eq!(plan.conclusion.as_deref(), Some("success"), "{plan:?}");
    let policy = done("slipway/policy");
    assert_eq!(policy.conclusion.as_deref(), Some("success"), "{policy:?}");
    w.github.assert_no_violations();
}

#[test]
fn a_duplicate_delivery_makes_no_second_job() {
    let w = world();
    let url = w.origin.url();
    let payload = pull_request_payload(
        "labeled",
        REPO,
        &url,
        99,
        &"c".repeat(40),
        "main",
        &w.origin.base,
        false,
    );
    let id = "11111111-2222-4333-8444-555555555555";
    let (first, _) = w.service.deliver_as(id, "pull_request", &payload);
    let (second, body) = w.service.deliver_as(id, "pull_request", &payload);
    assert_eq!((first, second), (202, 200), "{body}");
    assert!(body.contains("already recorded"), "{body}");
}

#[test]
fn bad_deliveries_are_refused_and_nothing_is_stored() {
    let w = world();
    let body = br#"{"zen":"Design for failure."}"#;
    let headers = |sig: &'static str| {
        vec![
            ("X-GitHub-Event", "ping"),
            ("X-GitHub-Delivery", "aaaaaaaa-0000-4000-8000-000000000001"),
            ("X-Hub-Signature-256", sig),
        ]
    };
    let (status, _) = w.service.post(
        "/webhooks/github",
        &[
            ("X-GitHub-Event", "ping"),
            ("X-GitHub-Delivery", "aaaaaaaa-0000-4000-8000-000000000001"),
        ],
        body,
    );
    assert_eq!(status, 401, "no signature");
    let (status, _) = w
        .service
        .post("/webhooks/github", &headers("sha256=00"), body);
    assert_eq!(status, 401, "wrong signature");
    let sig = webhook::server::sign(slipway_tests::service::SECRET.as_bytes(), b"{not json");
    let (status, _) = w.service.post(
        "/webhooks/github",
        &[
            ("X-GitHub-Event", "ping"),
            ("X-GitHub-Delivery", "aaaaaaaa-0000-4000-8000-000000000001"),
            ("X-Hub-Signature-256", &sig),
        ],
        b"{not json",
    );
    assert_eq!(status, 400, "malformed JSON");
    let big = vec![b' '; webhook::server::MAX_BODY_BYTES + 1];
    let (status, _) = w
        .service
        .post("/webhooks/github", &headers("sha256=00"), &big);
    assert_eq!(status, 413, "over 25 MB");
    // None of them was recorded: the same id with a good signature is new.
    let (status, answer) = w.service.deliver_as(
        "aaaaaaaa-0000-4000-8000-000000000001",
        "ping",
        &serde_json::json!({"zen": "Design for failure."}),
    );
    assert_eq!(status, 202, "{answer}");
    // An event Slipway does not act on is recorded all the same.
    let (status, _) = w
        .service
        .deliver("star", &serde_json::json!({"action": "created"}));
    assert_eq!(status, 202);
    let (status, ready) = w.service.get("/readyz");
    assert_eq!(status, 200, "{ready}");
    assert_eq!(w.service.get("/healthz").0, 200);
}

#[test]
fn a_new_push_edits_the_same_comment_and_nothing_of_the_old_plan_is_posted_after() {
    let w = world();
    let first = w.origin.push(
        2,
        &[("live/dev/network/terragrunt.hcl", "\"dev\"", "\"dev-a\"")],
    );
    assert_eq!(w.deliver_pr("opened", 2, &first).0, 202);
    let second = w.origin.push(
        2,
        &[("live/dev/network/terragrunt.hcl", "\"dev-a\"", "\"dev-b\"")],
    );
    assert_eq!(w.deliver_pr("synchronize", 2, &second).0, 202);
    let comment = w.final_comment(2, &second);
    assert!(
        comment.body.contains(r#"triggers.name = "dev-b""#),
        "{}",
        comment.body
    );
    // Give a straggler of the first plan time to post, then look: one comment, at the new head.
    std::thread::sleep(Duration::from_secs(3));
    let comments = w.github.with_state(|s| live_comments(s, 2));
    assert_eq!(comments.len(), 1, "{comments:#?}");
    assert!(
        comments[0].body.contains(&second[..7]),
        "the comment went back to the old head: {}",
        comments[0].body
    );
    let new_check = w.github.with_state(|s| {
        s.check_runs
            .values()
            .any(|c| c.head_sha == second && c.name == "slipway/plan")
    });
    assert!(new_check, "no check run on the new head");
    w.github.assert_no_violations();
}

#[test]
fn a_review_longer_than_one_comment_is_split_and_every_part_fits() {
    let w = world();
    // Three units, each with a map input of 600 long entries: far over one comment.
    let extra: String = (0..600)
        .map(|i| format!("    key_{i:04} = \"{}\"\n", "x".repeat(40)))
        .collect();
    let units = ["live/dev/big-a", "live/dev/big-b", "live/dev/big-c"];
    let mut edits = Vec::new();
    let bodies: Vec<(String, String)> = units
        .iter()
        .map(|u| {
            (
                format!("{u}/terragrunt.hcl"),
                format!(
                    "include \"root\" {{\n  path = find_in_parent_folders()\n}}\n\nterraform {{\n  source = \"../../../modules//app\"\n}}\n\ninputs = {{\n  vpc_id = \"vpc-big\"\n  image  = \"v1\"\n  extra = {{\n{extra}  }}\n}}\n"
                ),
            )
        })
        .collect();
    for (path, body) in &bodies {
        edits.push((path.as_str(), "", body.as_str()));
    }
    let head = w.origin.push(3, &edits);
    assert_eq!(w.deliver_pr("opened", 3, &head).0, 202);
    let first = w.final_comment(3, &head);
    let parts = w
        .github
        .wait_for(WAIT, |s| {
            let parts = live_comments(s, 3);
            let all_in = units.iter().all(|u| {
                parts
                    .iter()
                    .any(|p| p.body.contains(&format!("<code>{u}</code>")))
            });
            (parts.len() > 1 && all_in && parts.iter().all(|c| !c.body.contains("⏳")))
                .then_some(parts)
        })
        .unwrap_or_else(|| panic!("the review was not split: {}", first.body.len()));
    for (i, p) in parts.iter().enumerate() {
        let chars = p.body.chars().count();
        assert!(chars < 65_536, "part {i} has {chars} characters");
        assert_eq!(
            p.body.matches("```").count() % 2,
            0,
            "part {i} breaks a code fence"
        );
        assert_eq!(
            p.body.matches("<details").count(),
            p.body.matches("</details>").count(),
            "part {i} breaks a <details> block"
        );
    }
    assert!(
        parts[1].body.contains("continued (2 of"),
        "{}",
        parts[1].body
    );
    w.github.assert_no_violations();
}

#[test]
fn an_invalid_slipway_toml_in_the_change_is_named_and_the_plans_run_under_the_bases() {
    let w = world();
    let head = w.origin.push(
        4,
        &[
            (
                "slipway.toml",
                "apply = \"command\"",
                "apply = \"command\"\naproval = 1",
            ),
            ("live/dev/app/terragrunt.hcl", "\"v1\"", "\"v4\""),
        ],
    );
    assert_eq!(w.deliver_pr("opened", 4, &head).0, 202);
    let comment = w.final_comment(4, &head);
    for want in [
        "aproval",
        "line",
        "cannot be used",
        "run under the base's settings",
    ] {
        assert!(comment.body.contains(want), "{want}: {}", comment.body);
    }
    let unit = comment
        .body
        .lines()
        .find(|l| l.starts_with("| `live/dev/app` | dev |"))
        .unwrap_or_else(|| panic!("the unit is listed: {}", comment.body));
    assert!(
        unit.contains('+') && !unit.contains("failed"),
        "the unit is planned all the same: {unit}"
    );
    let plan = w
        .github
        .wait_for(WAIT, |s| {
            s.check_runs
                .values()
                .find(|c| c.head_sha == head && c.name == "slipway/plan" && c.status == "completed")
                .cloned()
        })
        .expect("the plan check completes");
    assert_eq!(
        plan.conclusion.as_deref(),
        Some("failure"),
        "merged, the file would stop Slipway"
    );
}

#[test]
fn a_change_granting_its_author_prod_rights_shows_them_as_a_loosened_prod_protection() {
    let w = world();
    let head = w.origin.push(
        5,
        &[
            ("slipway.toml", "apply = \"command\"", "apply = \"auto\""),
            (
                "slipway.toml",
                "teams = [\"acme/platform\"]",
                "teams = [\"acme/platform\"], users = [\"mallory\"]",
            ),
            ("live/prod/app/terragrunt.hcl", "\"v1\"", "\"v5\""),
        ],
    );
    assert_eq!(w.deliver_pr("opened", 5, &head).0, 202);
    let comment = w.final_comment(5, &head);
    let row = |key: &str| {
        comment
            .body
            .lines()
            .find(|l| l.starts_with(&format!("| `{key}` | prod |")))
            .unwrap_or_else(|| panic!("no row for {key}: {}", comment.body))
            .to_string()
    };
    assert!(row("environments.prod.apply").contains("loosens a production protection"));
    let users = row("environments.prod.apply_rights.users");
    assert!(
        users.contains("added mallory") && users.contains("loosens a production protection"),
        "{users}"
    );
    w.github.assert_no_violations();
}
