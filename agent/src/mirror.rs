//! One bare mirror per repository under the data directory, fetched with git2: a branch and
//! a pull request's head (`refs/pull/N/head`, which also carries heads from forks), over any
//! transport git2 speaks (HTTPS with a token, `file://` in tests).
//!
//! Fetches of one mirror are serialised by a lock file beside it, so several workers (threads
//! or processes) never write one mirror at once.

use std::path::{Path, PathBuf};

use anyhow::Context;
use git2::{AutotagOption, Cred, FetchOptions, RemoteCallbacks, Repository};

/// Where the mirror of `owner/name` lives under `root`.
pub fn path(root: &Path, owner: &str, name: &str) -> PathBuf {
    root.join(owner).join(format!("{name}.git"))
}

/// What to fetch into a mirror.
#[derive(Debug, Clone)]
pub struct FetchSpec<'a> {
    pub url: &'a str,
    /// A token for HTTPS (sent as the password of `x-access-token`), if the host needs one.
    pub token: Option<&'a str>,
    /// Branches to fetch, each into `refs/heads/<branch>`.
    pub branches: &'a [&'a str],
    /// A pull request whose head to fetch into `refs/pull/<n>/head`.
    pub pull: Option<u64>,
}

/// Fetches `spec` into the mirror at `dir` (made when missing) and returns the repository.
pub fn fetch(dir: &Path, spec: &FetchSpec<'_>) -> anyhow::Result<Repository> {
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let lock = crate::engine::plugin_cache::lock_file(&dir.with_extension("git.lock"))
        .map_err(|e| anyhow::anyhow!("cannot lock the mirror {}: {e}", dir.display()))?;
    let repo = match Repository::open_bare(dir) {
        Ok(r) => r,
        Err(_) => Repository::init_bare(dir)
            .with_context(|| format!("cannot create the mirror {}", dir.display()))?,
    };
    let mut refspecs: Vec<String> = spec
        .branches
        .iter()
        .map(|b| format!("+refs/heads/{b}:refs/heads/{b}"))
        .collect();
    if let Some(n) = spec.pull {
        refspecs.push(format!("+refs/pull/{n}/head:refs/pull/{n}/head"));
    }
    let mut callbacks = RemoteCallbacks::new();
    if let Some(token) = spec.token {
        let token = token.to_string();
        callbacks.credentials(move |_url, _user, _allowed| {
            Cred::userpass_plaintext("x-access-token", &token)
        });
    }
    let mut options = FetchOptions::new();
    options
        .remote_callbacks(callbacks)
        .download_tags(AutotagOption::None);
    {
        let mut remote = repo
            .remote_anonymous(spec.url)
            .with_context(|| format!("{} is not a URL git can fetch", redact(spec.url)))?;
        remote
            .fetch(&refspecs, Some(&mut options), None)
            .with_context(|| format!("cannot fetch {}", redact(spec.url)))?;
    }
    drop(lock);
    Ok(repo)
}

/// A URL without any password it carries.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(repo: &Repository, file: &str, text: &str, parent: Option<git2::Oid>) -> git2::Oid {
        let blob = repo.blob(text.as_bytes()).expect("blob");
        let mut tb = repo.treebuilder(None).expect("treebuilder");
        tb.insert(file, blob, 0o100644).expect("insert");
        let tree = repo
            .find_tree(tb.write().expect("tree"))
            .expect("find tree");
        let sig = git2::Signature::now("t", "t@example.com").expect("sig");
        let parents: Vec<git2::Commit> = parent
            .map(|p| repo.find_commit(p).expect("parent"))
            .into_iter()
            .collect();
        let refs: Vec<&git2::Commit> = parents.iter().collect();
        repo.commit(None, &sig, &sig, "c", &tree, &refs)
            .expect("commit")
    }

    #[test]
    fn a_branch_and_a_pull_request_head_are_fetched_and_fetched_again() {
        let tmp = tempfile::tempdir().expect("tmp");
        let origin = Repository::init_bare(tmp.path().join("origin.git")).expect("origin");
        let base = commit(&origin, "a", "1", None);
        origin
            .reference("refs/heads/main", base, true, "main")
            .expect("main");
        let head = commit(&origin, "a", "2", Some(base));
        origin
            .reference("refs/pull/3/head", head, true, "pr")
            .expect("pr");
        let url = format!("file://{}", tmp.path().join("origin.git").display());
        let spec = FetchSpec {
            url: &url,
            token: None,
            branches: &["main"],
            pull: Some(3),
        };
        let dir = path(&tmp.path().join("mirrors"), "acme", "infra");
        let m = fetch(&dir, &spec).expect("first fetch");
        assert_eq!(m.refname_to_id("refs/pull/3/head").expect("pr ref"), head);
        // A force-push moves the head; the next fetch follows it.
        let moved = commit(&origin, "a", "3", Some(base));
        origin
            .reference("refs/pull/3/head", moved, true, "force")
            .expect("move");
        let m = fetch(&dir, &spec).expect("second fetch");
        assert_eq!(m.refname_to_id("refs/pull/3/head").expect("pr ref"), moved);
        assert_eq!(m.refname_to_id("refs/heads/main").expect("main"), base);
    }

    #[test]
    fn a_missing_remote_is_an_error_naming_it() {
        let tmp = tempfile::tempdir().expect("tmp");
        let url = format!("file://{}", tmp.path().join("nowhere.git").display());
        let spec = FetchSpec {
            url: &url,
            token: None,
            branches: &["main"],
            pull: None,
        };
        let Err(e) = fetch(&tmp.path().join("m.git"), &spec) else {
            panic!("fetching a missing remote succeeded");
        };
        assert!(format!("{e:#}").contains("nowhere.git"), "{e:#}");
    }
}
