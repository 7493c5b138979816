//! `slipway serve` and `slipway worker` as real processes for end-to-end tests: started with
//! a data directory and settings, fed signed deliveries over loopback HTTP, killed with
//! SIGKILL when a test says so.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
    child: Option<Child>,
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
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        self.child = Some(cmd.spawn().expect("start slipway"));
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
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("slipway {} exited ({status}):\n{fresh}", self.args[0]);
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
            let _ = c.kill();
            let _ = c.wait();
        }
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
