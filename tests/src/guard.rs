//! Child processes that never outlive the test process: a test's shared world lives in a
//! `static` that is never dropped, so killing in `Drop` is not enough. Each child is started
//! under a small shell holding the read end of a pipe; when the test process ends (however it
//! ends) the pipe closes and the shell kills the child with SIGKILL. [`Guarded::kill`] does the
//! same on demand.

use std::io::Write;
use std::process::{Child, ChildStdin, Command, Stdio};

/// A running child under its guard.
pub struct Guarded {
    shell: Child,
    stdin: Option<ChildStdin>,
    pid: u32,
}

// Starts "$@" in the background, records its pid, and kills it when stdin ends or says so.
const GUARD: &str = r#"pidfile="$1"; shift; "$@" </dev/null & c=$!; echo $c > "$pidfile"; read _; kill -9 $c 2>/dev/null; wait $c 2>/dev/null; exit 0"#;

impl Guarded {
    /// Spawns `cmd` (its program, arguments and environment; stdout and stderr as given).
    pub fn spawn(cmd: &Command, stdout: Stdio, stderr: Stdio) -> Guarded {
        let dir = tempfile::tempdir().expect("temporary directory");
        let pidfile = dir.path().join("pid");
        let mut sh = Command::new("/bin/sh");
        sh.arg("-c")
            .arg(GUARD)
            .arg("guard")
            .arg(&pidfile)
            .arg(cmd.get_program())
            .args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => sh.env(k, v),
                None => sh.env_remove(k),
            };
        }
        if let Some(d) = cmd.get_current_dir() {
            sh.current_dir(d);
        }
        let mut shell = sh
            .stdin(Stdio::piped())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("start the guard shell");
        let stdin = shell.stdin.take();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let pid = loop {
            if let Some(pid) = std::fs::read_to_string(&pidfile)
                .ok()
                .and_then(|t| t.trim().parse::<u32>().ok())
            {
                break pid;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the guarded process did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        Guarded { shell, stdin, pid }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether the child has exited (it stays a zombie of its guard until killed: probed in
    /// `/proc`).
    pub fn exited(&self) -> bool {
        !std::path::Path::new(&format!("/proc/{}", self.pid)).exists()
            || std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
                .map(|s| s.split_whitespace().nth(2) == Some("Z"))
                .unwrap_or(true)
    }

    /// Kills the child with SIGKILL and waits until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"\n");
        }
        let _ = self.shell.wait();
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.kill();
    }
}
