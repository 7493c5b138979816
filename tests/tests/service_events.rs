//! The service's events and its GitHub client against the fake GitHub, each test with its own
//! service (faults injected on the fake affect only that test): drafts, check re-runs, GitHub
//! failing and rate-limiting, GitHub App credentials, and no credentials at all.

use std::time::Duration;

use slipway_tests::github::{FakeGithub, Fault, PullSpec, State, APP_ID, TOKEN};
use slipway_tests::service::{one_unit_repo, pull_request_payload, Origin, Service};
use slipway_tests::{terraform, terraform_env};

const REPO: &str = "acme/infra";
const WAIT: Duration = Duration::from_secs(180);

struct Local {
    github: FakeGithub,
    origin: Origin,
    service: Service,
    _data: tempfile::TempDir,
}

fn base_env(github: &FakeGithub) -> Vec<(String, String)> {
    let mut env = vec![
        ("SLIPWAY_GITHUB_API_URL".to_string(), github.url()),
        (
            "SLIPWAY_TERRAFORM".to_string(),
            terraform().display().to_string(),
        ),
        ("SLIPWAY_ASSUME_ROLES".to_string(), "0".to_string()),
        (
            "SLIPWAY_COMMENT_EDIT_SECONDS".to_string(),
            "0.2".to_string(),
        ),
        ("SLIPWAY_GITHUB_RETRY_SECONDS".to_string(), "60".to_string()),
    ];
    env.extend(terraform_env());
    env
}

impl Local {
    fn start(extra: &[(&str, &str)]) -> Local {
        let github = FakeGithub::start();
        github.add_repo("acme", "infra");
        let mut env = base_env(&github);
        if !extra
            .iter()
            .any(|(k, _)| k.starts_with("SLIPWAY_GITHUB_APP") || *k == "NO_TOKEN")
        {
            env.push(("SLIPWAY_GITHUB_TOKEN".to_string(), TOKEN.to_string()));
        }
        env.extend(
            extra
                .iter()
                .filter(|(k, _)| *k != "NO_TOKEN")
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let data = tempfile::tempdir().expect("data");
        let service = Service::serve(&data.path().join("slipway"), &env);
        Local {
            github,
            origin: Origin::new(one_unit_repo()),
            service,
            _data: data,
        }
    }

    fn deliver_pr(&self, action: &str, pr: u64, head: &str, draft: bool) -> (u16, String) {
        let mut spec = PullSpec::new(pr, head);
        spec.base_sha = self.origin.base.clone();
        spec.draft = draft;
        if self.github.with_state(|s| s.pull(REPO, pr).is_some()) {
            self.github.update_pull(REPO, pr, |p| {
                p.head_sha = head.to_string();
                p.draft = draft;
            });
        } else {
            self.github.add_pull(REPO, spec);
        }
        let mut payload = pull_request_payload(
            action,
            REPO,
            &self.origin.url(),
            pr,
            head,
            "main",
            &self.origin.base,
            draft,
        );
        if let Some(id) = self.github.installation_id("acme") {
            payload["installation"] = serde_json::json!({ "id": id });
        }
        self.service.deliver("pull_request", &payload)
    }

    /// Waits for the finished review of `head`.
    fn reviewed(&self, pr: u64, head: &str) -> Vec<slipway_tests::github::Comment> {
        let short = head[..7].to_string();
        self.github
            .wait_for(WAIT, |s| {
                let live = live(s, pr);
                live.iter()
                    .any(|c| {
                        c.body.contains(&format!("plan for `{short}`"))
                            && c.body.contains("will be created")
                            && !c.body.contains("⏳")
                    })
                    .then_some(live)
            })
            .unwrap_or_else(|| {
                panic!(
                    "no review of {short}: {:#?}\n{}",
                    self.github.comments(REPO, pr),
                    self.service.log()
                )
            })
    }
}

fn live(s: &State, pr: u64) -> Vec<slipway_tests::github::Comment> {
    s.comments_on(REPO, pr)
        .into_iter()
        .filter(|c| !c.deleted)
        .cloned()
        .collect()
}

#[test]
fn a_draft_waits_until_it_is_ready_for_review() {
    let l = Local::start(&[]);
    let head = l
        .origin
        .push(1, &[("live/dev/app/terragrunt.hcl", "\"v1\"", "\"v2\"")]);
    let (status, body) = l.deliver_pr("opened", 1, &head, true);
    assert_eq!(status, 202);
    assert!(body.contains("\"jobs\":[]"), "a draft made a job: {body}");
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        l.github.comments(REPO, 1).is_empty(),
        "a draft was reviewed"
    );
    assert_eq!(l.deliver_pr("ready_for_review", 1, &head, false).0, 202);
    assert_eq!(l.reviewed(1, &head).len(), 1);
    l.github.assert_no_violations();
}

#[test]
fn a_check_rerun_plans_again_and_edits_the_same_comment() {
    let l = Local::start(&[]);
    let head = l
        .origin
        .push(2, &[("live/dev/app/terragrunt.hcl", "\"v1\"", "\"v3\"")]);
    assert_eq!(l.deliver_pr("opened", 2, &head, false).0, 202);
    l.reviewed(2, &head);
    // The first plan's job is over once its last check run is written.
    let finished = l.github.wait_until(WAIT, |s| {
        s.check_runs
            .values()
            .any(|c| c.head_sha == head && c.name == "slipway/policy" && c.status == "completed")
    });
    assert!(finished, "{}", l.service.log());
    std::thread::sleep(Duration::from_millis(500));
    let first = l.github.comments(REPO, 2);
    let edits_before = first[0].edits();
    let plans_before = l
        .github
        .check_run(REPO, &head, "slipway/plan")
        .expect("plan check");
    let payload = serde_json::json!({
        "action": "rerequested",
        "check_run": {
            "name": "slipway/plan", "head_sha": head,
            "pull_requests": [{"number": 2}]
        },
        "repository": {"full_name": REPO, "clone_url": l.origin.url(), "default_branch": "main"},
        "sender": {"login": "ada", "type": "User"}
    });
    let (status, body) = l.service.deliver("check_run", &payload);
    assert_eq!(status, 202, "{body}");
    assert!(
        !body.contains("\"jobs\":[]"),
        "no job for the re-run: {body}"
    );
    let again = l.github.wait_until(WAIT, |s| {
        live(s, 2)
            .first()
            .is_some_and(|c| c.edits() > edits_before + 1 && !c.body.contains("⏳"))
    });
    assert!(
        again,
        "the comment was not edited by a new plan:\n{}",
        l.service.log()
    );
    assert_eq!(
        l.github.comments(REPO, 2).len(),
        1,
        "a second comment was posted"
    );
    // As GitHub expects of a re-run: a new check run, carrying nothing of the old one.
    let second_done = l.github.wait_until(WAIT, |s| {
        s.check_runs.values().any(|c| {
            c.head_sha == head
                && c.name == "slipway/plan"
                && c.id != plans_before.id
                && c.status == "completed"
        })
    });
    assert!(second_done, "{}", l.service.log());
    let runs: Vec<_> = l
        .github
        .check_runs(REPO, &head)
        .into_iter()
        .filter(|c| c.name == "slipway/plan")
        .collect();
    assert_eq!(runs.len(), 2, "{runs:#?}");
    let newest = runs.iter().max_by_key(|c| c.id).expect("a run");
    assert_ne!(newest.id, plans_before.id);
    assert_eq!(newest.status, "completed", "{newest:?}");
    l.github.assert_no_violations();
}

#[test]
fn github_failing_and_rate_limiting_delays_the_review_but_it_is_posted_once() {
    let l = Local::start(&[]);
    // Every first attempt at the comment fails: three 502s, then a secondary rate limit.
    l.github.inject(
        Fault::status(502)
            .times(3)
            .matching("POST", "/repos/acme/infra/issues/3/comments"),
    );
    l.github.inject(
        Fault::secondary_rate_limit(Duration::from_secs(1))
            .matching("POST", "/repos/acme/infra/issues/3/comments"),
    );
    l.github.inject(
        Fault::status(503)
            .times(2)
            .matching("PATCH", "/repos/acme/infra/check-runs"),
    );
    let head = l
        .origin
        .push(3, &[("live/dev/app/terragrunt.hcl", "\"v1\"", "\"v4\"")]);
    assert_eq!(l.deliver_pr("opened", 3, &head, false).0, 202);
    let comments = l.reviewed(3, &head);
    assert_eq!(comments.len(), 1, "posted more than once: {comments:#?}");
    let plan = l.github.wait_for(WAIT, |s| {
        s.check_runs
            .values()
            .find(|c| c.head_sha == head && c.name == "slipway/plan" && c.status == "completed")
            .cloned()
    });
    assert_eq!(
        plan.and_then(|p| p.conclusion).as_deref(),
        Some("success"),
        "{}",
        l.service.log()
    );
    let refused = l
        .github
        .requests()
        .iter()
        .filter(|r| r.path == "/repos/acme/infra/issues/3/comments" && r.method == "POST")
        .count();
    assert!(
        refused >= 5,
        "the failures were not retried: {refused} POSTs"
    );
    l.github.assert_no_violations();
}

#[test]
fn a_github_app_acts_through_one_cached_installation_token() {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = tmp.path().join("app.pem");
    let made = std::process::Command::new("openssl")
        .args(["genrsa", "-out"])
        .arg(&key)
        .arg("2048")
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let app_id = APP_ID.to_string();
    let key_path = key.display().to_string();
    let l = Local::start(&[
        ("SLIPWAY_GITHUB_APP_ID", app_id.as_str()),
        ("SLIPWAY_GITHUB_PRIVATE_KEY_FILE", key_path.as_str()),
    ]);
    let head = l
        .origin
        .push(4, &[("live/dev/app/terragrunt.hcl", "\"v1\"", "\"v5\"")]);
    assert_eq!(l.deliver_pr("opened", 4, &head, false).0, 202);
    let comments = l.reviewed(4, &head);
    assert_eq!(comments[0].author, "slipway[bot]");
    assert_eq!(
        l.github.tokens_issued(),
        1,
        "the installation token was not cached"
    );
    l.github.assert_no_violations();
}

#[test]
fn without_credentials_deliveries_are_recorded_and_nothing_is_done() {
    let l = Local::start(&[("NO_TOKEN", "")]);
    let (status, ready) = l.service.get("/readyz");
    assert_eq!(status, 200);
    assert!(ready.contains("not acted on"), "{ready}");
    let head = l
        .origin
        .push(5, &[("live/dev/app/terragrunt.hcl", "\"v1\"", "\"v6\"")]);
    let (status, body) = l.deliver_pr("opened", 5, &head, false);
    assert_eq!(status, 202, "{body}");
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        l.github.requests().is_empty(),
        "it called GitHub without credentials"
    );
    assert!(
        l.service.log().contains("not acted on"),
        "{}",
        l.service.log()
    );
}

#[test]
fn slipways_comments_about_an_earlier_head_are_folded_away_as_outdated() {
    let l = Local::start(&[]);
    let old = "d".repeat(40);
    l.github.add_pull(REPO, PullSpec::new(6, &old));
    let stale = l.github.add_comment(
        REPO,
        6,
        "slipway[bot]",
        &format!(
            "<!-- slipway: {{\"version\":1,\"head\":\"{old}\",\"units\":[]}} -->\nApplied `{}`.",
            &old[..7]
        ),
    );
    let someone = l.github.add_comment(
        REPO,
        6,
        "ada",
        &format!("<!-- slipway: {{\"head\":\"{old}\"}} --> mine"),
    );
    let head = l
        .origin
        .push(6, &[("live/dev/app/terragrunt.hcl", "\"v1\"", "\"v7\"")]);
    assert_eq!(l.deliver_pr("synchronize", 6, &head, false).0, 202);
    l.reviewed(6, &head);
    let folded = l.github.wait_until(WAIT, |s| {
        s.comments
            .get(&stale)
            .is_some_and(|c| c.minimized.as_deref() == Some("OUTDATED"))
    });
    assert!(
        folded,
        "the outdated comment was not minimized:\n{}",
        l.service.log()
    );
    assert_eq!(
        l.github.comment(someone).and_then(|c| c.minimized),
        None,
        "a person's comment was folded"
    );
    l.github.assert_no_violations();
}

#[test]
fn a_delivery_for_a_head_the_pull_request_no_longer_has_plans_nothing() {
    let l = Local::start(&[]);
    let old = l
        .origin
        .push(7, &[("live/dev/app/terragrunt.hcl", "\"v1\"", "\"v8\"")]);
    let new = l
        .origin
        .push(7, &[("live/dev/app/terragrunt.hcl", "\"v8\"", "\"v9\"")]);
    // GitHub already has the newer head when the older delivery arrives late.
    let mut spec = PullSpec::new(7, &new);
    spec.base_sha = l.origin.base.clone();
    l.github.add_pull(REPO, spec);
    let payload = pull_request_payload(
        "synchronize",
        REPO,
        &l.origin.url(),
        7,
        &old,
        "main",
        &l.origin.base,
        false,
    );
    assert_eq!(l.service.deliver("pull_request", &payload).0, 202);
    let logged = l.github.wait_until(WAIT, |s| {
        s.requests
            .iter()
            .any(|r| r.path == "/repos/acme/infra/pulls/7")
    });
    assert!(logged, "the job never asked GitHub for the pull request");
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        l.github.comments(REPO, 7).is_empty(),
        "a plan of the old head was posted: {:#?}",
        l.github.comments(REPO, 7)
    );
    assert!(
        l.github.check_runs(REPO, &old).is_empty(),
        "a check run on the old head"
    );
    assert_eq!(l.deliver_pr("synchronize", 7, &new, false).0, 202);
    l.reviewed(7, &new);
    l.github.assert_no_violations();
}

#[test]
fn a_comment_github_made_but_whose_answer_was_lost_is_not_posted_again() {
    let l = Local::start(&[]);
    // GitHub makes the comment and the check run, and the answers are lost (502).
    l.github
        .inject(Fault::applied_then(502).matching("POST", "/repos/acme/infra/issues/8/comments"));
    l.github
        .inject(Fault::applied_then(502).matching("POST", "/repos/acme/infra/check-runs"));
    let head = l
        .origin
        .push(8, &[("live/dev/app/terragrunt.hcl", "\"v1\"", "\"v10\"")]);
    assert_eq!(l.deliver_pr("opened", 8, &head, false).0, 202);
    let comments = l.reviewed(8, &head);
    assert_eq!(comments.len(), 1, "posted twice: {comments:#?}");
    let done = l.github.wait_until(WAIT, |s| {
        s.check_runs
            .values()
            .any(|c| c.head_sha == head && c.name == "slipway/policy" && c.status == "completed")
    });
    assert!(done, "{}", l.service.log());
    let plans = l.github.with_state(|s| {
        s.check_runs
            .values()
            .filter(|c| c.head_sha == head && c.name == "slipway/plan")
            .count()
    });
    assert_eq!(plans, 1, "the plan check run was made twice");
    l.github.assert_no_violations();
}
