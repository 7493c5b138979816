//! Git sources through the git command (it speaks HTTPS, SSH and the rest, as terraform's own
//! getter does): a ref resolved to a commit with `ls-remote`, then that one commit fetched
//! shallowly into a fresh directory and checked out, without its `.git`.
//!
//! Every git runs with no system or global configuration (no credential helper or `insteadOf`
//! of the machine's user gets involved), no prompt, a fixed list of protocols (never `ext::`),
//! and the service's credentials for the host passed as an HTTP header through the
//! environment, never on the command line.

use std::path::Path;
use std::process::Stdio;

use super::address::{GitAddress, Transport};
use crate::aws::Secret;
use crate::engine::redact::Redactor;

/// How git commands of one fetch run.
pub struct GitRun<'a> {
    pub git: &'a Path,
    /// `Authorization` header value for the repository's host, when it gets credentials.
    pub auth: Option<Secret>,
    pub allow_file: bool,
    pub redactor: &'a Redactor,
    pub deadline: tokio::time::Instant,
}

impl GitRun<'_> {
    fn command(
        &self,
        repo: &GitAddress,
        cwd: Option<&Path>,
        args: &[&str],
    ) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(self.git);
        for var in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_OBJECT_DIRECTORY",
            "GIT_ALTERNATE_OBJECT_DIRECTORIES",
            "GIT_CONFIG",
            "GIT_CONFIG_PARAMETERS",
            "GIT_NAMESPACE",
            "GIT_ASKPASS",
            "SSH_ASKPASS",
        ] {
            cmd.env_remove(var);
        }
        let protocols = if self.allow_file {
            "https:http:ssh:git:file"
        } else {
            "https:http:ssh:git"
        };
        cmd.env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_ALLOW_PROTOCOL", protocols)
            .env("LC_ALL", "C");
        if std::env::var_os("GIT_SSH_COMMAND").is_none() {
            // Never a password or host-key prompt: a prompt would hang until the timeout.
            cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
        }
        let mut config: Vec<(String, String)> = Vec::new();
        if let (Some(auth), Some(host)) = (&self.auth, &repo.host) {
            let scheme = if repo.transport == Transport::Http {
                "http"
            } else {
                "https"
            };
            config.push((
                format!("http.{scheme}://{host}/.extraHeader"),
                format!("Authorization: {}", auth.expose()),
            ));
            // The header must not follow a redirect to another host.
            config.push(("http.followRedirects".into(), "false".into()));
        }
        cmd.env("GIT_CONFIG_COUNT", config.len().to_string());
        for (i, (k, v)) in config.iter().enumerate() {
            cmd.env(format!("GIT_CONFIG_KEY_{i}"), k);
            cmd.env(format!("GIT_CONFIG_VALUE_{i}"), v);
        }
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        cmd
    }

    /// Runs git; stdout on success, a redacted message naming the step otherwise.
    async fn run(
        &self,
        repo: &GitAddress,
        cwd: Option<&Path>,
        step: &str,
        args: &[&str],
    ) -> Result<Vec<u8>, String> {
        let mut cmd = self.command(repo, cwd, args);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.git.display()))?;
        let pid = child.id();
        match tokio::time::timeout_at(self.deadline, child.wait_with_output()).await {
            Err(_) => {
                if let Some(pid) = pid.and_then(|p| rustix::process::Pid::from_raw(p as i32)) {
                    let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
                }
                Err(format!("git {step} did not finish in time and was stopped"))
            }
            Ok(Err(e)) => Err(format!("git {step}: {e}")),
            Ok(Ok(out)) if out.status.success() => Ok(out.stdout),
            Ok(Ok(out)) => {
                let text = String::from_utf8_lossy(&out.stderr);
                let text = self.redactor.redact(text.trim());
                Err(format!(
                    "git {step} failed{}",
                    if text.is_empty() {
                        String::new()
                    } else {
                        format!(": {text}")
                    }
                ))
            }
        }
    }

    /// The refs the repository advertises, as `(commit, ref)`.
    pub async fn ls_remote(&self, repo: &GitAddress) -> Result<Vec<(String, String)>, String> {
        let out = self
            .run(repo, None, "ls-remote", &["ls-remote", "--", &repo.url])
            .await?;
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .filter_map(|l| {
                let (sha, name) = l.split_once('\t')?;
                Some((sha.trim().to_string(), name.trim().to_string()))
            })
            .collect())
    }

    /// Fetches `commit` (by `refname` when known) into `dest` (created empty) and checks it out;
    /// `dest` then holds the tree and no `.git`.
    pub async fn fetch(
        &self,
        repo: &GitAddress,
        commit: &str,
        refname: Option<&str>,
        dest: &Path,
    ) -> Result<(), String> {
        let depth = format!("--depth={}", repo.depth.unwrap_or(1));
        let dest_arg = dest.to_string_lossy().to_string();
        self.run(repo, None, "init", &["init", "-q", "--", &dest_arg])
            .await?;
        let want = refname.unwrap_or(commit);
        let first = self
            .run(
                repo,
                Some(dest),
                "fetch",
                &["fetch", "-q", "--no-tags", &depth, "--", &repo.url, want],
            )
            .await;
        let fetched = match first {
            Ok(_) => self.fetched_commit(repo, dest).await?,
            Err(e) if refname.is_some() => return Err(e),
            Err(_) => String::new(),
        };
        if fetched != commit {
            // The ref moved since it was resolved, or the server does not give commits by id:
            // everything, then the commit.
            self.run(
                repo,
                Some(dest),
                "fetch",
                &[
                    "fetch",
                    "-q",
                    "--",
                    &repo.url,
                    "+refs/heads/*:refs/remotes/origin/*",
                    "+refs/tags/*:refs/tags/*",
                ],
            )
            .await?;
        }
        self.run(
            repo,
            Some(dest),
            "checkout",
            &[
                "-c",
                "advice.detachedHead=false",
                "checkout",
                "-q",
                "--detach",
                commit,
                "--",
            ],
        )
        .await
        .map_err(|e| format!("commit {commit} is not in the repository: {e}"))?;
        std::fs::remove_dir_all(dest.join(".git"))
            .map_err(|e| format!("cannot remove .git from the fetched tree: {e}"))?;
        Ok(())
    }

    async fn fetched_commit(&self, repo: &GitAddress, dest: &Path) -> Result<String, String> {
        let out = self
            .run(
                repo,
                Some(dest),
                "rev-parse",
                &["rev-parse", "--verify", "FETCH_HEAD^{commit}"],
            )
            .await?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }
}

/// The commit a ref names among `refs` (from `ls-remote`), with the full ref name to fetch:
/// a tag (peeled), then a branch, then a full ref name; a full commit id stands for itself.
pub fn pick(
    refs: &[(String, String)],
    reference: Option<&str>,
) -> Result<(String, Option<String>), String> {
    let find = |name: &str| refs.iter().find(|(_, n)| n == name).map(|(s, _)| s.clone());
    let Some(r) = reference else {
        return find("HEAD")
            .map(|s| (s, None))
            .ok_or_else(|| "the repository has no HEAD (no default branch): give ?ref=".into());
    };
    let tag = format!("refs/tags/{r}");
    if let Some(peeled) = find(&format!("{tag}^{{}}")) {
        return Ok((peeled, Some(tag)));
    }
    for name in [tag, format!("refs/heads/{r}"), r.to_string()] {
        if let Some(sha) = find(&name) {
            return Ok((sha, Some(name)));
        }
    }
    if is_commit_id(r) {
        return Ok((r.to_ascii_lowercase(), None));
    }
    if r.len() >= 7 && r.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "ref={r} looks like a short commit id: write the full 40-character commit id"
        ));
    }
    Err(format!("ref={r} is no tag or branch of the repository"))
}

pub fn is_commit_id(r: &str) -> bool {
    (r.len() == 40 || r.len() == 64) && r.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_then_branches_then_commits() {
        let refs = vec![
            ("a".repeat(40), "HEAD".to_string()),
            ("a".repeat(40), "refs/heads/main".to_string()),
            ("b".repeat(40), "refs/tags/v1.0.0".to_string()),
            ("c".repeat(40), "refs/tags/v1.0.0^{}".to_string()),
            ("d".repeat(40), "refs/heads/v1.0.0".to_string()),
        ];
        assert_eq!(pick(&refs, None).unwrap().0, "a".repeat(40));
        assert_eq!(
            pick(&refs, Some("v1.0.0")).unwrap(),
            ("c".repeat(40), Some("refs/tags/v1.0.0".into()))
        );
        assert_eq!(
            pick(&refs, Some("main")).unwrap(),
            ("a".repeat(40), Some("refs/heads/main".into()))
        );
        let sha = "e".repeat(40);
        assert_eq!(pick(&refs, Some(&sha)).unwrap(), (sha, None));
        assert!(pick(&refs, Some("abc1234"))
            .unwrap_err()
            .contains("full 40"));
        assert!(pick(&refs, Some("v9"))
            .unwrap_err()
            .contains("no tag or branch"));
    }
}
