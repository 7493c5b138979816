//! `slipway serve` and `slipway worker` as real processes for end-to-end tests: started with
//! a data directory and settings, fed signed deliveries over loopback HTTP, killed with
//! SIGKILL when a test says so.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::github::{Comment, FakeGithub, PullSpec, State, TOKEN};
use crate::moto::{Moto, BASE_KEY_ID, BASE_SECRET};
use crate::{terraform, terraform_env, TempRepo, NULL_PROVIDER_TF};

/// The webhook secret tests sign with.
pub const SECRET: &str = "slipway-test-webhook-secret";

/// The `slipway` binary cargo built beside the test binaries.
pub fn slipway_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test> -> target/<profile>/slipway
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("slipway"))
        .expect("the target directory");
    assert!(
        bin.is_file(),
        "{} is missing: build it with `cargo build -p slipway` (cargo test --workspace does)",
        bin.display()
    );
    bin
}

/// A running `slipway serve` (or `worker`).
pub struct Service {
    child: Option<crate::guard::Guarded>,
    addr: Option<String>,
    log: PathBuf,
    pub data_dir: PathBuf,
    env: Vec<(String, String)>,
    args: Vec<String>,
}

static DELIVERY: AtomicU64 = AtomicU64::new(1);

impl Service {
    /// Starts `slipway serve` on a free loopback port with `data_dir` and `env` (added to
    /// `SLIPWAY_WEBHOOK_SECRET` and `SLIPWAY_LISTEN`), and waits until it listens.
    pub fn serve(data_dir: &Path, env: &[(String, String)]) -> Service {
        let mut s = Service {
            child: None,
            addr: None,
            log: data_dir.with_extension("log"),
            data_dir: data_dir.to_path_buf(),
            env: env.to_vec(),
            args: vec!["serve".into()],
        };
        s.start();
        s
    }

    /// Starts `slipway worker` (no HTTP side) with `env`.
    pub fn worker(data_dir: &Path, env: &[(String, String)]) -> Service {
        let mut s = Service {
            child: None,
            addr: None,
            log: data_dir.with_extension("log"),
            data_dir: data_dir.to_path_buf(),
            env: env.to_vec(),
            args: vec!["worker".into()],
        };
        s.start();
        s
    }

    /// (Re)starts the process with the same settings, on the same data directory.
    pub fn start(&mut self) {
        std::fs::create_dir_all(&self.data_dir).expect("data directory");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("service log");
        let start_len = std::fs::metadata(&self.log).map(|m| m.len()).unwrap_or(0);
        let mut cmd = Command::new(slipway_bin());
        cmd.args(&self.args)
            .env("SLIPWAY_DATA_DIR", &self.data_dir)
            .env("SLIPWAY_WEBHOOK_SECRET", SECRET)
            .env("SLIPWAY_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null());
        self.child = Some(crate::guard::Guarded::spawn(
            &cmd,
            Stdio::from(log.try_clone().expect("log")),
            Stdio::from(log),
        ));
        let want = if self.args[0] == "serve" {
            "listening on http://"
        } else {
            "claiming jobs"
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            let fresh = text.get(start_len as usize..).unwrap_or("");
            if let Some(i) = fresh.find(want) {
                if self.args[0] == "serve" {
                    let rest = &fresh[i + want.len()..];
                    self.addr = rest.split_whitespace().next().map(str::to_string);
                }
                return;
            }
            if self
                .child
                .as_ref()
                .is_some_and(crate::guard::Guarded::exited)
            {
                panic!("slipway {} exited:\n{fresh}", self.args[0]);
            }
            assert!(
                Instant::now() < deadline,
                "slipway {} did not start:\n{fresh}",
                self.args[0]
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The process's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills the process with SIGKILL (no chance to clean up) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill();
        }
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> u32 {
        self.child
            .as_ref()
            .map(crate::guard::Guarded::pid)
            .expect("a running slipway")
    }

    pub fn addr(&self) -> &str {
        self.addr.as_deref().expect("slipway serve's address")
    }

    /// A signed delivery of `event` with a fresh delivery id; returns (status, body).
    pub fn deliver(&self, event: &str, payload: &serde_json::Value) -> (u16, String) {
        let id = format!(
            "00000000-0000-4000-8000-{:012}",
            DELIVERY.fetch_add(1, Ordering::Relaxed)
        );
        self.deliver_as(&id, event, payload)
    }

    /// A signed delivery with the delivery id `id`.
    pub fn deliver_as(&self, id: &str, event: &str, payload: &serde_json::Value) -> (u16, String) {
        let body = serde_json::to_vec(payload).expect("payload");
        let sig = webhook::server::sign(SECRET.as_bytes(), &body);
        self.post(
            "/webhooks/github",
            &[
                ("X-GitHub-Event", event),
                ("X-GitHub-Delivery", id),
                ("X-Hub-Signature-256", &sig),
                ("Content-Type", "application/json"),
            ],
            &body,
        )
    }

    /// A POST with the given headers and body.
    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
        http(self.addr(), "POST", path, headers, body)
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        http(self.addr(), "GET", path, &[], b"")
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One HTTP/1.1 request over a fresh connection; (status, body).
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect to slipway");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    // A refused request may close the connection before the whole body is read.
    let _ = s.write_all(req.as_bytes()).and_then(|()| s.write_all(body));
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// A `pull_request` payload as GitHub sends it, with the fields Slipway reads.
#[allow(clippy::too_many_arguments)]
pub fn pull_request_payload(
    action: &str,
    repo: &str,
    clone_url: &str,
    pr: u64,
    head: &str,
    base_ref: &str,
    base: &str,
    draft: bool,
) -> serde_json::Value {
    let user = serde_json::json!({"login": "ada", "id": 1, "type": "User"});
    serde_json::json!({
        "action": action,
        "number": pr,
        "pull_request": {
            "number": pr, "state": "open", "draft": draft, "merged": false,
            "merge_commit_sha": null, "user": user,
            "head": {"ref": "feature", "sha": head, "repo": {"full_name": repo}},
            "base": {"ref": base_ref, "sha": base, "repo": {"full_name": repo}}
        },
        "repository": {"full_name": repo, "clone_url": clone_url, "default_branch": "main"},
        "sender": user
    })
}

#[allow(clippy::too_many_arguments)]
/// An `issue_comment` payload as GitHub sends it for a comment on pull request `pr`
/// (`action` is `created` or `edited`; an edit carries the body it had before).
pub fn comment_payload(
    action: &str,
    repo: &str,
    clone_url: &str,
    pr: u64,
    comment_id: u64,
    login: &str,
    body: &str,
    previous_body: Option<&str>,
) -> serde_json::Value {
    let user = serde_json::json!({"login": login, "id": 7, "type": "User"});
    let mut payload = serde_json::json!({
        "action": action,
        "issue": {
            "number": pr,
            "pull_request": {"url": format!("https://api.github.com/repos/{repo}/pulls/{pr}")}
        },
        "comment": {"id": comment_id, "body": body, "user": user},
        "repository": {"full_name": repo, "clone_url": clone_url, "default_branch": "main"},
        "sender": user
    });
    if let Some(before) = previous_body {
        payload["changes"] = serde_json::json!({"body": {"from": before}});
    }
    payload
}

/// The repository GitHub would host for the service to fetch: `main` stays at the base and each
/// pull request's head is `refs/pull/<n>/head`, as GitHub keeps them.
pub struct Origin {
    dir: tempfile::TempDir,
    /// The base commit (`main`).
    pub base: String,
    lock: std::sync::Mutex<()>,
}

impl Origin {
    /// Takes over `repo`, committing what it holds as the base.
    pub fn new(repo: crate::TempRepo) -> Origin {
        let base = repo.commit("infrastructure");
        let crate::TempRepo { dir, .. } = repo;
        Origin {
            dir,
            base,
            lock: std::sync::Mutex::new(()),
        }
    }

    /// The URL the service fetches.
    pub fn url(&self) -> String {
        format!("file://{}", self.dir.path().display())
    }

    /// Commits `edits` (path, text to replace or `""` for a new file, new text) on top of pull
    /// request `pr`'s head (or the base) as its new head; returns the commit id.
    pub fn push(&self, pr: u64, edits: &[(&str, &str, &str)]) -> String {
        let _serial = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let git = git2::Repository::open(self.dir.path()).expect("open the repository");
        let base = git2::Oid::from_str(&self.base).expect("base id");
        let start = git
            .find_reference(&format!("refs/pull/{pr}/head"))
            .ok()
            .and_then(|r| r.target())
            .unwrap_or(base);
        let mut tree = git
            .find_commit(start)
            .expect("start commit")
            .tree()
            .expect("tree");
        for (path, from, to) in edits {
            let old = tree
                .get_path(Path::new(path))
                .ok()
                .map(|e| {
                    let blob = git.find_blob(e.id()).expect("blob");
                    String::from_utf8_lossy(blob.content()).into_owned()
                })
                .unwrap_or_default();
            let new = if from.is_empty() {
                to.to_string()
            } else {
                assert!(old.contains(from), "{path} has no {from:?}");
                old.replacen(from, to, 1)
            };
            tree = write_path(&git, &tree, path, &new);
        }
        let sig = git2::Signature::now("Ada", "ada@example.com").expect("signature");
        let parent = git.find_commit(start).expect("parent");
        let id = git
            .commit(None, &sig, &sig, &format!("pr {pr}"), &tree, &[&parent])
            .expect("commit");
        git.reference(
            &format!("refs/pull/{pr}/head"),
            id,
            true,
            "pull request head",
        )
        .expect("pull ref");
        id.to_string()
    }
}

impl Origin {
    /// The text of `path` on `main`.
    pub fn read_main(&self, path: &str) -> String {
        let git = git2::Repository::open(self.dir.path()).expect("open the repository");
        let tree = git
            .find_reference("refs/heads/main")
            .and_then(|r| r.peel_to_tree())
            .expect("main's tree");
        let entry = tree.get_path(Path::new(path)).expect("the file is on main");
        let blob = git.find_blob(entry.id()).expect("blob");
        String::from_utf8_lossy(blob.content()).into_owned()
    }

    /// Commits `edits` (path, whole new text) on `main`, as a merge to the default branch would;
    /// returns main's commit before and after. Pull requests opened afterwards still start from
    /// [`Origin::base`].
    pub fn advance_main(&self, edits: &[(&str, &str)]) -> (String, String) {
        let _serial = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let git = git2::Repository::open(self.dir.path()).expect("open the repository");
        let tip = git
            .find_reference("refs/heads/main")
            .expect("main")
            .target()
            .expect("main's commit");
        let mut tree = git.find_commit(tip).expect("tip").tree().expect("tree");
        for (path, text) in edits {
            tree = write_path(&git, &tree, path, text);
        }
        let sig = git2::Signature::now("Ada", "ada@example.com").expect("signature");
        let parent = git.find_commit(tip).expect("parent");
        let id = git
            .commit(None, &sig, &sig, "main moves", &tree, &[&parent])
            .expect("commit");
        git.reference("refs/heads/main", id, true, "main moves")
            .expect("main");
        (tip.to_string(), id.to_string())
    }
}

fn write_path<'r>(
    repo: &'r git2::Repository,
    tree: &git2::Tree<'r>,
    path: &str,
    content: &str,
) -> git2::Tree<'r> {
    let (first, rest) = match path.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (path, None),
    };
    let mut builder = repo.treebuilder(Some(tree)).expect("treebuilder");
    match rest {
        None => {
            let blob = repo.blob(content.as_bytes()).expect("blob");
            builder.insert(first, blob, 0o100644).expect("insert");
        }
        Some(rest) => {
            let sub = match tree
                .get_name(first)
                .and_then(|e| repo.find_tree(e.id()).ok())
            {
                Some(t) => t,
                None => repo
                    .find_tree(repo.treebuilder(None).expect("tb").write().expect("empty"))
                    .expect("empty tree"),
            };
            let new = write_path(repo, &sub, rest, content);
            builder
                .insert(first, new.id(), 0o040000)
                .expect("insert dir");
        }
    }
    repo.find_tree(builder.write().expect("write tree"))
        .expect("tree")
}

/// A repository with one dev unit (`live/dev/app`, input `image = "v1"`) on the null provider,
/// state kept locally: no AWS needed.
pub fn one_unit_repo() -> crate::TempRepo {
    let repo = crate::TempRepo::new();
    repo.write(
        "slipway.toml",
        "live_dir = \"live\"\npromotion = [\"dev\"]\n\n[environments.dev]\npath = \"live/dev\"\n",
    );
    repo.write(
        "live/dev/app/terragrunt.hcl",
        "terraform {\n  source = \"../../../modules//app\"\n}\n\ninputs = {\n  image = \"v1\"\n}\n",
    );
    repo.write(
        "modules/app/main.tf",
        &format!("{}\nvariable \"image\" {{\n  type = string\n}}\n\nresource \"null_resource\" \"app\" {{\n  triggers = {{\n    image = var.image\n  }}\n}}\n", crate::NULL_PROVIDER_TF),
    );
    repo
}

/// The repository the service worlds serve.
pub const REPO: &str = "acme/infra";
/// Slipway's login on the fake GitHub.
pub const BOT: &str = "slipway[bot]";
/// How long a service test waits for what it expects.
pub const WAIT: Duration = Duration::from_secs(240);

/// One service world, shared by the tests of a file: a fake GitHub, moto for roles and state, a
/// repository GitHub would host (dev and prod, each a network and an app unit; prod applies on
/// a command by the team `acme/platform`, with one approval), and `slipway serve` on them.
pub struct World {
    pub github: FakeGithub,
    /// The AWS emulator holding each environment's state.
    pub moto: Moto,
    /// The repository GitHub would host.
    pub origin: Origin,
    pub service: Service,
    data: tempfile::TempDir,
}

/// What the service is started with: the fake GitHub, moto for roles and state, terraform.
pub fn service_env(github: &FakeGithub, moto: &Moto) -> Vec<(String, String)> {
    let mut env = vec![
        ("SLIPWAY_GITHUB_TOKEN".to_string(), TOKEN.to_string()),
        ("SLIPWAY_GITHUB_API_URL".to_string(), github.url()),
        (
            "SLIPWAY_TERRAFORM".to_string(),
            terraform().display().to_string(),
        ),
        ("SLIPWAY_AWS_ENDPOINT_URL".to_string(), moto.endpoint()),
        ("SLIPWAY_ASSUME_ROLES".to_string(), "1".to_string()),
        ("AWS_ACCESS_KEY_ID".to_string(), BASE_KEY_ID.to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), BASE_SECRET.to_string()),
        ("AWS_REGION".to_string(), "us-east-1".to_string()),
        (
            "SLIPWAY_COMMENT_EDIT_SECONDS".to_string(),
            "0.5".to_string(),
        ),
        ("SLIPWAY_GITHUB_RETRY_SECONDS".to_string(), "60".to_string()),
        ("SLIPWAY_WORKERS".to_string(), "2".to_string()),
    ];
    env.extend(terraform_env());
    env
}

/// dev (account 111111111111) and prod (333333333333), each with a network unit and an app
/// unit depending on it; state in the environment's own account, in moto.
fn repository(moto: &Moto) -> TempRepo {
    let repo = TempRepo::new();
    crate::moto::two_account_tree(&repo, &moto.endpoint());
    // Production applies only on a command.
    let toml = repo.read("slipway.toml");
    repo.write(
        "slipway.toml",
        &format!("{toml}apply = \"command\"\napply_rights = {{ teams = [\"acme/platform\"] }}\nrequirements = {{ approvals = 1 }}\n"),
    );
    for env in ["dev", "prod"] {
        repo.write(
            &format!("live/{env}/app/terragrunt.hcl"),
            r#"include "root" {
  path = find_in_parent_folders()
}

terraform {
  source = "../../../modules//app"
}

dependency "network" {
  config_path = "../network"
  mock_outputs = {
    vpc_id = "vpc-mock"
  }
  mock_outputs_allowed_terraform_commands = ["plan"]
}

inputs = {
  vpc_id = dependency.network.outputs.vpc_id
  image  = "v1"
}
"#,
        );
    }
    repo.write(
        "modules/app/main.tf",
        &format!(
            "{NULL_PROVIDER_TF}\nvariable \"vpc_id\" {{\n  type = string\n}}\n\nvariable \"image\" {{\n  type = string\n}}\n\nvariable \"extra\" {{\n  type    = map(string)\n  default = {{}}\n}}\n\nresource \"null_resource\" \"app\" {{\n  triggers = merge({{\n    vpc_id = var.vpc_id\n    image  = var.image\n  }}, var.extra)\n}}\n"
        ),
    );
    repo
}

impl World {
    /// Starts everything.
    pub fn start() -> World {
        World::start_with(&[])
    }

    /// Starts everything, the service with `extra` settings over the usual ones (a later
    /// variable of the same name wins).
    pub fn start_with(extra: &[(&str, &str)]) -> World {
        let github = FakeGithub::start();
        github.add_repo("acme", "infra");
        let moto = Moto::start();
        for (env, account) in [("dev", "111111111111"), ("prod", "333333333333")] {
            moto.create_state_bucket(
                &format!("arn:aws:iam::{account}:role/slipway-plan"),
                &format!("slipway-state-{env}"),
            );
        }
        let origin = Origin::new(repository(&moto));
        let data = tempfile::tempdir().expect("data directory");
        let mut env = service_env(&github, &moto);
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let service = Service::serve(&data.path().join("slipway"), &env);
        World {
            github,
            moto,
            origin,
            service,
            data,
        }
    }

    /// `login` comments `body` on pull request `pr` (on the fake, and as a delivery); returns
    /// the comment's id.
    pub fn say(&self, pr: u64, login: &str, body: &str) -> u64 {
        let id = self.github.add_comment(REPO, pr, login, body);
        let payload = comment_payload(
            "created",
            REPO,
            &self.origin.url(),
            pr,
            id,
            login,
            body,
            None,
        );
        let (status, answer) = self.service.deliver("issue_comment", &payload);
        assert_eq!(status, 202, "{answer}");
        id
    }

    /// Delivers pull request `pr`'s merge as `merge` (already on main).
    pub fn deliver_merge(&self, pr: u64, head: &str, merge: &str) {
        self.github.update_pull(REPO, pr, |p| {
            p.state = "closed".into();
            p.merged = true;
        });
        let mut payload = pull_request_payload(
            "closed",
            REPO,
            &self.origin.url(),
            pr,
            head,
            "main",
            &self.origin.base,
            false,
        );
        payload["pull_request"]["state"] = "closed".into();
        payload["pull_request"]["merged"] = true.into();
        payload["pull_request"]["merge_commit_sha"] = merge.into();
        assert_eq!(self.service.deliver("pull_request", &payload).0, 202);
    }

    /// Slipway's pipeline comment on `pr` once it says `text` (or shows a failure).
    pub fn pipeline_saying(&self, pr: u64, text: &str) -> Comment {
        self.github
            .wait_for(WAIT, |s| {
                s.comments_on(REPO, pr)
                    .into_iter()
                    .find(|c| {
                        c.body.contains("Slipway apply of")
                            && (c.body.contains(text) || c.body.contains("❌ failed"))
                    })
                    .cloned()
            })
            .unwrap_or_else(|| {
                panic!(
                    "no pipeline comment saying {text:?}: {:#?}\n{}",
                    self.github.comments(REPO, pr),
                    self.service.log()
                )
            })
    }

    /// The service's SQLite store, opened beside it (WAL: both may use it at once).
    pub fn store(&self) -> std::path::PathBuf {
        self.data.path().join("slipway/slipway.db")
    }

    /// Tells the service (and the fake GitHub) about pull request `pr` at `head`.
    pub fn deliver_pr(&self, action: &str, pr: u64, head: &str) -> (u16, String) {
        let mut spec = PullSpec::new(pr, head);
        spec.base_sha = self.origin.base.clone();
        if self.github.with_state(|s| s.pull(REPO, pr).is_some()) {
            self.github
                .update_pull(REPO, pr, |p| p.head_sha = head.to_string());
        } else {
            self.github.add_pull(REPO, spec);
        }
        let url = self.origin.url();
        self.service.deliver(
            "pull_request",
            &pull_request_payload(
                action,
                REPO,
                &url,
                pr,
                head,
                "main",
                &self.origin.base,
                false,
            ),
        )
    }

    pub fn final_comment(&self, pr: u64, head: &str) -> Comment {
        let short = &head[..7];
        self.github
            .wait_for(WAIT, |s| {
                live_comments(s, pr).into_iter().find(|c| {
                    c.body.contains(&format!("Slipway plan for `{short}`"))
                        && !c.body.contains("⏳")
                })
            })
            .unwrap_or_else(|| {
                panic!(
                    "no final comment for {short} on #{pr}: {:#?}\n{}",
                    self.github.comments(REPO, pr),
                    self.service.log()
                )
            })
    }
}

/// The pull request's comments by Slipway that are not deleted.
pub fn live_comments(s: &State, pr: u64) -> Vec<Comment> {
    s.comments_on(REPO, pr)
        .into_iter()
        .filter(|c| c.author == BOT && !c.deleted)
        .cloned()
        .collect()
}
