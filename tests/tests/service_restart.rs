//! The service survives its own death: `slipway serve` killed with SIGKILL while a plan runs
//! and started again on the same data directory takes the job again and ends the comment
//! right, posting nothing twice; killed while a merged pull request applies, the unit that was
//! applying is marked interrupted and applied once, on a person's word; and two `slipway
//! worker` processes on one PostgreSQL queue run every job exactly once.

use std::time::Duration;

use agent::store::{CommitSha, JobKind, JobState, NewJob, RepoName};
use slipway_tests::github::{FakeGithub, PullSpec, TOKEN};
use slipway_tests::service::{one_unit_repo, pull_request_payload, Service, REPO};
use slipway_tests::{terraform, terraform_env};

const WAIT: Duration = Duration::from_secs(240);

/// Real terraform behind a wrapper that takes `secs` seconds before each plan.
fn slow_terraform(dir: &std::path::Path, secs: u32) -> std::path::PathBuf {
    slow_terraform_on(dir, "plan", secs)
}

/// Real terraform behind a wrapper that takes `secs` seconds before each `command`; each
/// process it runs writes its id to `<dir>/pids` (to kill it with the service, as a machine's
/// crash would).
fn slow_terraform_on(dir: &std::path::Path, command: &str, secs: u32) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("terraform");
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\necho \"$$ $1\" >> '{}'\ncase \"$1\" in {command}) sleep {secs};; esac\nexec '{}' \"$@\"\n",
            dir.join("pids").display(),
            terraform().display()
        ),
    )
    .expect("write wrapper");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    p
}

#[test]
fn a_service_killed_while_planning_takes_the_job_again_and_posts_nothing_twice() {
    let github = FakeGithub::start();
    github.add_repo("acme", "infra");
    let repo = one_unit_repo();
    let base = repo.commit("infrastructure");
    repo.edit("live/dev/app/terragrunt.hcl", "\"v1\"", "\"v2\"");
    let head = repo.commit("v2");
    let base_oid = git2::Oid::from_str(&base).expect("oid");
    let head_oid = git2::Oid::from_str(&head).expect("oid");
    repo.repo
        .reference("refs/pull/5/head", head_oid, true, "pr")
        .expect("pull ref");
    repo.repo
        .reference("refs/heads/main", base_oid, true, "main at the base")
        .expect("main");

    let tmp = tempfile::tempdir().expect("tmp");
    let wrapper = slow_terraform(tmp.path(), 6);
    let mut env = vec![
        ("SLIPWAY_GITHUB_TOKEN".to_string(), TOKEN.to_string()),
        ("SLIPWAY_GITHUB_API_URL".to_string(), github.url()),
        (
            "SLIPWAY_TERRAFORM".to_string(),
            wrapper.display().to_string(),
        ),
        ("SLIPWAY_ASSUME_ROLES".to_string(), "0".to_string()),
        ("SLIPWAY_LEASE_SECONDS".to_string(), "3".to_string()),
        (
            "SLIPWAY_COMMENT_EDIT_SECONDS".to_string(),
            "0.2".to_string(),
        ),
    ];
    env.extend(terraform_env());
    let mut service = Service::serve(&tmp.path().join("data"), &env);

    let mut spec = PullSpec::new(5, &head);
    spec.base_sha = base.clone();
    github.add_pull("acme/infra", spec);
    let url = format!("file://{}", repo.path().display());
    let (status, body) = service.deliver(
        "pull_request",
        &pull_request_payload("opened", "acme/infra", &url, 5, &head, "main", &base, false),
    );
    assert_eq!(status, 202, "{body}");

    // The live comment is up and terraform is planning: kill the service there.
    let planning = github.wait_until(WAIT, |s| {
        s.comments_on("acme/infra", 5)
            .iter()
            .any(|c| c.body.contains("⏳ planning"))
    });
    assert!(planning, "no live comment:\n{}", service.log());
    std::thread::sleep(Duration::from_millis(500));
    service.kill();
    service.start();

    let done = github.wait_until(WAIT, |s| {
        s.comments_on("acme/infra", 5)
            .iter()
            .any(|c| c.body.contains("null_resource.app will be created"))
            && s.check_runs
                .values()
                .filter(|c| c.name == "slipway/policy" && c.status == "completed")
                .count()
                == 1
    });
    assert!(
        done,
        "the job was not finished after the restart:\n{}",
        service.log()
    );
    let comments: Vec<_> = github
        .comments("acme/infra", 5)
        .into_iter()
        .filter(|c| !c.deleted)
        .collect();
    assert_eq!(comments.len(), 1, "posted twice: {comments:#?}");
    for name in ["slipway/plan", "slipway/policy"] {
        let runs = github.with_state(|s| {
            s.check_runs
                .values()
                .filter(|c| c.name == name && c.head_sha == head)
                .count()
        });
        assert_eq!(runs, 1, "{name} was created {runs} times");
    }
    assert_eq!(
        github
            .check_run("acme/infra", &head, "slipway/plan")
            .and_then(|c| c.conclusion),
        Some("success".to_string())
    );
    assert!(
        service.log().contains("attempt=2"),
        "the job was not taken again:\n{}",
        service.log()
    );
    github.assert_no_violations();
}

/// A fresh database on the PostgreSQL `make test` starts, for one test.
fn fresh_database() -> String {
    let admin = std::env::var("SLIPWAY_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/slipway_test".to_string());
    let name = format!(
        "slipway_workers_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| {
                panic!("PostgreSQL at {admin}: {e} (make test starts it: scripts/services.sh)")
            });
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut c)
            .await
            .expect("create database");
    });
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .expect("a database URL");
    format!("{base}/{name}")
}

#[test]
fn two_worker_processes_on_one_postgresql_queue_run_every_job_exactly_once() {
    let github = FakeGithub::start();
    let url = fresh_database();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let store = rt
        .block_on(agent::store::open(&url))
        .expect("open the store");
    let tmp = tempfile::tempdir().expect("tmp");
    let env = vec![
        ("SLIPWAY_GITHUB_TOKEN".to_string(), TOKEN.to_string()),
        ("SLIPWAY_GITHUB_API_URL".to_string(), github.url()),
        ("SLIPWAY_DATABASE_URL".to_string(), url.clone()),
        ("SLIPWAY_WORKERS".to_string(), "4".to_string()),
    ];
    let _a = Service::worker(&tmp.path().join("a"), &env);
    let _b = Service::worker(&tmp.path().join("b"), &env);
    let repo = RepoName::parse("acme/infra").expect("name");
    // Pull requests closed unmerged: each job asks nothing of GitHub.
    let jobs: Vec<NewJob> = (1..=200u64)
        .map(|i| NewJob {
            kind: JobKind::Close,
            repo: repo.clone(),
            pr: Some(agent::store::PrNumber(i)),
            head: Some(CommitSha::parse(&format!("{i:040x}")).expect("sha")),
            payload: serde_json::json!({
                "repo": {"name": "acme/infra", "clone_url": "file:///nowhere", "default_branch": "main", "installation": null},
                "pr": i, "merged": false, "merge_commit": null
            }),
        })
        .collect();
    let ids = rt.block_on(store.enqueue(&jobs)).expect("enqueue");
    assert_eq!(ids.len(), 200);
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let left = rt.block_on(store.queue_depth()).expect("depth");
        if left == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{left} jobs left");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut holders = std::collections::BTreeSet::new();
    for id in ids {
        let job = rt.block_on(store.job(id)).expect("job").expect("exists");
        assert_eq!(job.state, JobState::Done, "job {id}: {job:?}");
        assert_eq!(
            job.attempts, 1,
            "job {id} was claimed {} times",
            job.attempts
        );
        if let Some(h) = job.lease_holder {
            holders.insert(h.rsplit_once('-').map(|(p, _)| p.to_string()).unwrap_or(h));
        }
    }
    assert!(!holders.is_empty());
}

#[test]
fn a_service_killed_while_applying_marks_the_unit_interrupted_and_it_applies_once_on_a_persons_word(
) {
    let tmp = tempfile::tempdir().expect("tmp");
    let wrapper = slow_terraform_on(tmp.path(), "apply", 8);
    let wrapper = wrapper.display().to_string();
    let mut w = slipway_tests::service::World::start_with(&[
        ("SLIPWAY_TERRAFORM", wrapper.as_str()),
        ("SLIPWAY_LEASE_SECONDS", "3"),
    ]);
    w.github.set_permission(REPO, "tess", "write");
    let unit = "live/dev/killed/terragrunt.hcl";
    let text = "include \"root\" {\n  path = find_in_parent_folders()\n}\n\nterraform {\n  source = \"../../../modules//app\"\n}\n\ninputs = {\n  vpc_id = \"vpc-k\"\n  image  = \"killed\"\n}\n";
    let head = w.origin.push(30, &[(unit, "", text)]);
    assert_eq!(w.deliver_pr("opened", 30, &head).0, 202);
    w.final_comment(30, &head);
    let (_, merge) = w.origin.advance_main(&[(unit, text)]);
    w.deliver_merge(30, &head, &merge);

    // terraform apply is starting (its wrapper waits first): the machine goes down there, the
    // service and what it runs.
    w.pipeline_saying(30, "`live/dev/killed`: applying");
    let pids = tmp.path().join("pids");
    let deadline = std::time::Instant::now() + WAIT;
    while !std::fs::read_to_string(&pids)
        .unwrap_or_default()
        .lines()
        .any(|l| l.ends_with(" apply"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "terraform apply never started"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    w.service.kill();
    for line in std::fs::read_to_string(&pids).unwrap_or_default().lines() {
        if let Some(pid) = line.split(' ').next() {
            let _ = std::process::Command::new("kill")
                .args(["-9", pid])
                .status();
        }
    }
    w.service.start();

    let interrupted = w.pipeline_saying(30, "**interrupted**");
    assert!(
        interrupted.body.contains("| dev | auto | ❌ failed"),
        "{}",
        interrupted.body
    );
    let state = || {
        w.moto.read_object_as(
            "arn:aws:iam::111111111111:role/slipway-apply",
            "slipway-state-dev",
            "dev/killed/terraform.tfstate",
        )
    };
    assert!(state().is_err(), "the killed apply never wrote its state");
    assert!(
        w.service.log().contains("attempt=2"),
        "the stage was taken again:\n{}",
        w.service.log()
    );

    let applies = || {
        std::fs::read_to_string(&pids)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.ends_with(" apply"))
            .count()
    };
    assert_eq!(
        applies(),
        1,
        "the interrupted apply was not run again by itself"
    );
    // A person looks, and says apply: it applies, once.
    w.say(30, "tess", "/apply dev");
    let applied = w
        .github
        .wait_for(WAIT, |s| {
            s.comments_on(REPO, 30)
                .into_iter()
                .find(|c| c.body.contains("| dev | auto | ✅ applied"))
                .cloned()
        })
        .unwrap_or_else(|| {
            panic!(
                "never applied: {:#?}\n{}",
                w.github
                    .comments(REPO, 30)
                    .into_iter()
                    .find(|c| c.body.contains("Slipway apply"))
                    .map(|c| c.body),
                w.service.log()
            )
        });
    assert!(applied.body.contains("opened by tess"), "{}", applied.body);
    let state = state().expect("the state was written");
    let state: serde_json::Value = serde_json::from_str(&state).expect("state JSON");
    assert_eq!(
        state["resources"].as_array().map(Vec::len),
        Some(1),
        "{state}"
    );
    assert_eq!(
        applies(),
        2,
        "one apply killed before it ran, one run on tess's word"
    );
}

#[test]
fn two_pull_requests_merged_back_to_back_on_one_unit_apply_in_merge_order() {
    let tmp = tempfile::tempdir().expect("tmp");
    let wrapper = slow_terraform_on(tmp.path(), "apply", 4);
    let wrapper = wrapper.display().to_string();
    let w = slipway_tests::service::World::start_with(&[("SLIPWAY_TERRAFORM", wrapper.as_str())]);
    let unit = "live/dev/ordered/terragrunt.hcl";
    let text = |image: &str| {
        format!("include \"root\" {{\n  path = find_in_parent_folders()\n}}\n\nterraform {{\n  source = \"../../../modules//app\"\n}}\n\ninputs = {{\n  vpc_id = \"vpc-o\"\n  image  = \"{image}\"\n}}\n")
    };
    let (a, b) = (text("first"), text("second"));
    let head_a = w.origin.push(40, &[(unit, "", a.as_str())]);
    let head_b = w.origin.push(41, &[(unit, "", b.as_str())]);
    for (pr, head) in [(40, &head_a), (41, &head_b)] {
        assert_eq!(w.deliver_pr("opened", pr, head).0, 202);
        w.final_comment(pr, head);
    }
    let (_, merge_a) = w.origin.advance_main(&[(unit, a.as_str())]);
    let (_, merge_b) = w.origin.advance_main(&[(unit, b.as_str())]);
    w.deliver_merge(40, &head_a, &merge_a);
    w.pipeline_saying(40, "`live/dev/ordered`: applying");
    // The second merge arrives while the first applies: it waits, then applies after it.
    w.deliver_merge(41, &head_b, &merge_b);
    let applied = |pr: u64| {
        w.github
            .wait_for(WAIT, |s| {
                s.comments_on(REPO, pr)
                    .into_iter()
                    .find(|c| {
                        c.body.contains("Slipway apply of")
                            && c.body.contains("| dev | auto | ✅ applied")
                    })
                    .cloned()
            })
            .unwrap_or_else(|| {
                panic!(
                    "#{pr} never applied: {:#?}\n{}",
                    w.github.comments(REPO, pr),
                    w.service.log()
                )
            })
    };
    applied(40);
    let second = applied(41);
    assert!(
        second
            .previous_bodies
            .iter()
            .any(|b| b.contains("waiting for #40 (merged earlier)")),
        "the later merge waited: {:#?}",
        second.previous_bodies
    );
    let state = w
        .moto
        .read_object_as(
            "arn:aws:iam::111111111111:role/slipway-apply",
            "slipway-state-dev",
            "dev/ordered/terraform.tfstate",
        )
        .expect("the state");
    assert!(
        state.contains("\"second\"") && !state.contains("\"first\""),
        "the later merge applied last: {state}"
    );
}
