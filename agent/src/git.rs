//! Git access: revisions, merge bases and the files that changed between two commits.

use std::path::Path;

use anyhow::Context;
use git2::{Delta, DiffOptions, Oid, Repository};
use serde::Serialize;

/// How a file changed between two revisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// One changed file (a rename is a deletion and an addition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    pub kind: ChangeKind,
    /// The file's blob after the change (`None` when deleted).
    pub blob: Option<Oid>,
    /// The entry is a symbolic link (before or after).
    pub link: bool,
}

/// Opens the git repository at `dir` (or the one containing it).
pub fn open(dir: &Path) -> anyhow::Result<Repository> {
    Repository::discover(dir).with_context(|| format!("{} is not a git repository", dir.display()))
}

/// Resolves a revision (branch, tag, sha, `HEAD~1`, ...) to a commit id.
pub fn resolve(repo: &Repository, rev: &str) -> anyhow::Result<Oid> {
    // `:/text` and `REV^{/text}` pick the newest commit whose message matches: which commit a
    // review starts from must not depend on what someone wrote in a message.
    if rev.starts_with(":/") || rev.contains("^{/") {
        anyhow::bail!(
            "revision '{rev}' searches commit messages; pass a branch, a tag, a commit id or REV~N"
        );
    }
    let obj = repo.revparse_single(rev).map_err(|e| {
        let why = match e.message() {
            "" | "no error" => "no such branch, tag or commit".to_string(),
            m => m.trim_end_matches('.').to_string(),
        };
        anyhow::anyhow!("unknown revision '{rev}': {why}")
    })?;
    let commit = obj
        .peel_to_commit()
        .with_context(|| format!("revision '{rev}' is not a commit"))?;
    Ok(commit.id())
}

/// The commit a pull request's diff starts from: the merge base of `base` and `head`, as
/// GitHub's three-dot comparison does. Falls back to `base` when the histories are unrelated.
pub fn merge_base(repo: &Repository, base: Oid, head: Oid) -> Oid {
    repo.merge_base(base, head).unwrap_or(base)
}

/// Files that differ between two commits. libgit2 compares tree ids first, so unchanged
/// subtrees are skipped without being read.
pub fn changed_files(repo: &Repository, from: Oid, to: Oid) -> anyhow::Result<Vec<FileChange>> {
    let old = repo.find_commit(from)?.tree()?;
    let new = repo.find_commit(to)?.tree()?;
    let mut opts = DiffOptions::new();
    opts.ignore_submodules(true);
    let diff = repo
        .diff_tree_to_tree(Some(&old), Some(&new), Some(&mut opts))
        .context("cannot diff the two revisions")?;
    let mut out = Vec::new();
    for delta in diff.deltas() {
        // A name that is not UTF-8 is left out, as the snapshots leave it out.
        let utf8 = |f: git2::DiffFile<'_>| {
            f.path_bytes()
                .is_none_or(|b| std::str::from_utf8(b).is_ok())
        };
        if !utf8(delta.old_file()) || !utf8(delta.new_file()) {
            continue;
        }
        let path = |f: git2::DiffFile<'_>| {
            f.path()
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default()
        };
        let link = delta.old_file().mode() == git2::FileMode::Link
            || delta.new_file().mode() == git2::FileMode::Link;
        match delta.status() {
            Delta::Added | Delta::Copied => out.push(FileChange {
                path: path(delta.new_file()),
                kind: ChangeKind::Added,
                blob: Some(delta.new_file().id()),
                link,
            }),
            Delta::Deleted => out.push(FileChange {
                path: path(delta.old_file()),
                kind: ChangeKind::Deleted,
                blob: None,
                link,
            }),
            Delta::Renamed => {
                out.push(FileChange {
                    path: path(delta.old_file()),
                    kind: ChangeKind::Deleted,
                    blob: None,
                    link,
                });
                out.push(FileChange {
                    path: path(delta.new_file()),
                    kind: ChangeKind::Added,
                    blob: Some(delta.new_file().id()),
                    link,
                });
            }
            _ => out.push(FileChange {
                path: path(delta.new_file()),
                kind: ChangeKind::Modified,
                blob: Some(delta.new_file().id()),
                link,
            }),
        }
    }
    Ok(out)
}
