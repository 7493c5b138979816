//! Child processes of a run: environment built from scratch for AWS (the assumed credentials
//! and nothing of Slipway's own), output streamed line by line (redacted) to the run's event
//! channel, a deadline, and cancellation that stops the child cleanly: SIGTERM first (terraform
//! then finishes the operation in flight and releases its state lock), SIGKILL to the whole
//! process group after a grace period.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::redact::Redactor;
use super::RunEvent;
use crate::aws::Secret;

/// Environment variables through which a child could find credentials other than the ones
/// Slipway gives it; removed from every child.
pub const AMBIENT_AWS_VARS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
];

/// One command to run, fully described (so the engines' commands can be unit-tested).
#[derive(Debug, Clone)]
pub struct CommandSpec {
    /// The step's name in logs and errors (`init`, `plan`, ...).
    pub step: String,
    pub program: PathBuf,
    pub args: Vec<String>,
    pub cwd: PathBuf,
    /// Environment added to the child's; secrets stay wrapped until the spawn.
    pub env: Vec<(String, Secret)>,
    /// Capture stdout as bytes instead of streaming it as log lines (`show -json`).
    pub capture_stdout: bool,
}

impl CommandSpec {
    pub fn env_value(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.expose())
    }

    /// `program args...` for logs (arguments never carry secrets).
    pub fn display(&self) -> String {
        let name = self
            .program
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| self.program.display().to_string());
        std::iter::once(name)
            .chain(self.args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// How a child ended when it did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Exited non-zero (or by a signal: -1).
    Failed {
        code: i32,
    },
    TimedOut,
    Cancelled,
    Spawn(String),
}

/// What a child produced.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// Captured stdout (only with `capture_stdout`).
    pub stdout: Vec<u8>,
    /// Redacted output lines, as streamed.
    pub log: String,
}

/// Everything a child needs from its run: where lines go, the deadline, cancellation.
#[derive(Clone)]
pub struct RunIo {
    pub unit: String,
    pub events: Option<mpsc::UnboundedSender<RunEvent>>,
    pub redactor: Redactor,
    pub deadline: Instant,
    pub cancel: watch::Receiver<bool>,
    /// Time between SIGTERM and SIGKILL.
    pub grace: Duration,
}

impl RunIo {
    /// Sends an event; a closed channel is not an error (nobody is watching).
    pub fn emit(&self, event: RunEvent) {
        if let Some(tx) = &self.events {
            let _ = tx.send(event);
        }
    }

    /// Emits one (redacted) log line of the unit.
    pub fn line(&self, step: &str, text: &str) {
        self.emit(RunEvent::Line {
            unit: self.unit.clone(),
            step: step.to_string(),
            line: self.redactor.redact(text),
        });
    }

    pub fn is_cancelled(&self) -> bool {
        *self.cancel.borrow()
    }
}

/// Runs one command to completion, streaming its output.
pub async fn run(spec: &CommandSpec, io: &RunIo) -> Result<Output, (Stop, Output)> {
    if io.is_cancelled() {
        return Err((Stop::Cancelled, Output::default()));
    }
    let mut cmd = tokio::process::Command::new(&spec.program);
    cmd.args(&spec.args)
        .current_dir(&spec.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        // Own process group: the SIGKILL of a stuck run also reaches provider plugins.
        .process_group(0);
    for var in AMBIENT_AWS_VARS {
        cmd.env_remove(var);
    }
    // No shared files or instance metadata either: only the environment's credentials count.
    cmd.env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in &spec.env {
        cmd.env(k, v.expose());
    }
    io.line(&spec.step, &format!("$ {}", spec.display()));
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Err((
                Stop::Spawn(format!("cannot start {}: {e}", spec.program.display())),
                Output::default(),
            ))
        }
    };
    let pid = child.id();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();

    let out_task = {
        let io = io.clone();
        let step = spec.step.clone();
        let capture = spec.capture_stdout;
        tokio::spawn(async move {
            match stdout {
                Some(s) if capture => {
                    let mut buf = Vec::new();
                    let mut s = s;
                    let _ = s.read_to_end(&mut buf).await;
                    (buf, String::new())
                }
                Some(s) => (Vec::new(), stream_lines(s, &io, &step).await),
                None => (Vec::new(), String::new()),
            }
        })
    };
    let err_task = {
        let io = io.clone();
        let step = spec.step.clone();
        tokio::spawn(async move {
            match stderr {
                Some(s) => stream_lines(s, &io, &step).await,
                None => String::new(),
            }
        })
    };

    let mut cancel = io.cancel.clone();
    let stop = tokio::select! {
        status = child.wait() => match status {
            Ok(s) if s.success() => None,
            Ok(s) => Some(Stop::Failed { code: s.code().unwrap_or(-1) }),
            Err(e) => Some(Stop::Spawn(format!("waiting for {}: {e}", spec.program.display()))),
        },
        _ = tokio::time::sleep_until(io.deadline) => Some(Stop::TimedOut),
        _ = wait_cancelled(&mut cancel) => Some(Stop::Cancelled),
    };
    if matches!(stop, Some(Stop::TimedOut | Stop::Cancelled)) {
        io.line(
            &spec.step,
            &format!(
                "slipway: stopping {} (SIGTERM, SIGKILL after {}s)",
                spec.display(),
                io.grace.as_secs()
            ),
        );
        terminate(&mut child, pid, io.grace).await;
    }
    let (stdout, out_log) = out_task.await.unwrap_or_default();
    let err_log = err_task.await.unwrap_or_default();
    let output = Output {
        stdout,
        log: format!("$ {}\n{out_log}{err_log}", spec.display()),
    };
    match stop {
        None => Ok(output),
        Some(s) => Err((s, output)),
    }
}

async fn wait_cancelled(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            // The sender is gone: nobody can cancel any more.
            std::future::pending::<()>().await;
        }
    }
}

/// SIGTERM to the child, then SIGKILL to its process group after `grace`.
async fn terminate(child: &mut tokio::process::Child, pid: Option<u32>, grace: Duration) {
    let pid = pid
        .and_then(|p| i32::try_from(p).ok())
        .and_then(rustix::process::Pid::from_raw);
    if let Some(pid) = pid {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    }
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        if let Some(pid) = pid {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
        let _ = child.start_kill();
        let _ = child.wait().await;
    } else if let Some(pid) = pid {
        // Terraform is gone; make sure no plugin it started outlives it.
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

async fn stream_lines<R: AsyncRead + Unpin>(r: R, io: &RunIo, step: &str) -> String {
    let mut lines = BufReader::new(r).lines();
    let mut log = String::new();
    loop {
        match lines.next_line().await {
            Ok(Some(l)) => {
                let red = io.redactor.redact(&l);
                io.emit(RunEvent::Line {
                    unit: io.unit.clone(),
                    step: step.to_string(),
                    line: red.clone(),
                });
                log.push_str(&red);
                log.push('\n');
            }
            Ok(None) => break,
            Err(_) => {
                // Not UTF-8: read the rest raw so the child never blocks on a full pipe.
                let mut rest = Vec::new();
                let mut inner = lines.into_inner();
                let _ = inner.read_to_end(&mut rest).await;
                log.push_str(&io.redactor.redact(&String::from_utf8_lossy(&rest)));
                break;
            }
        }
    }
    log
}

/// A directory path as a string for arguments and environment.
pub fn path_arg(p: &Path) -> String {
    p.display().to_string()
}
