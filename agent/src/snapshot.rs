//! A read-only view of the repository's files at one point: a git commit, or a directory on
//! disk. Every path is repo-relative with `/` separators; nothing outside the repository can be
//! read through it.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use git2::{ObjectType, Oid, Repository};

/// Why a file could not be read.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ReadError {
    #[error("{0}: no such file")]
    NotFound(String),
    #[error("{path}: path escapes the repository")]
    Escapes { path: String },
    #[error("{path}: symlink points outside the repository (to {target})")]
    SymlinkOutside { path: String, target: String },
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

/// A file that is not in the repository but would be on disk when Terragrunt runs: what stack
/// expansion generates under `.terragrunt-stack/` (see [`crate::terragrunt::stack`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Generated {
    /// A copy of the repository file at this path (a unit template's file).
    Copy(String),
    /// Content Slipway made (a `terragrunt.values.hcl`), with its blob id.
    Text(Oid, Arc<[u8]>),
}

impl Generated {
    /// Generated content, its blob id computed as git would.
    pub fn text(bytes: Arc<[u8]>) -> Generated {
        let oid = Oid::hash_object(ObjectType::Blob, &bytes).unwrap_or(Oid::ZERO_SHA1);
        Generated::Text(oid, bytes)
    }
}

#[derive(Debug, Clone)]
enum Backing {
    Git { repo_dir: PathBuf },
    Dir,
}

/// The files of the repository at one revision (or on disk), indexed by path.
#[derive(Debug, Clone)]
pub struct Snapshot {
    root: PathBuf,
    backing: Backing,
    /// Regular files, by repo-relative path, with their git blob id.
    files: HashMap<String, Oid>,
    /// Every directory that holds at least one file ("" is the root).
    dirs: HashSet<String>,
    /// Symlinks whose target leaves the repository.
    escaping_links: HashMap<String, String>,
    /// Symlinks that point inside the repository: link path -> (target path, target as
    /// written). A link whose target (followed through other links) is a file maps to that
    /// file's blob in `files`; a dangling one is refused like an escaping one.
    links: HashMap<String, (String, String)>,
    /// The commit this snapshot was taken from, when it came from git.
    commit: Option<Oid>,
    /// Paths whose name is not UTF-8, shown with replacement characters: left out of the
    /// snapshot (Terragrunt paths are text), reported rather than breaking every unit.
    skipped: Vec<String>,
    /// Generated files laid over the repository's (they win over a file of the same path), with
    /// a blob id for their content. Empty unless the repository has stacks.
    overlay: Arc<HashMap<String, (Oid, Generated)>>,
}

/// Files above this size are identified on disk by their metadata, not their content: a
/// 4 GB binary next to the configuration is never read unless evaluation reads it.
const HASHED_UP_TO: u64 = 1 << 20;

/// The id of a file on disk: its git blob id, or for a large file an id of its path, size,
/// inode and modification time (stable while the file is unchanged, which is what the parse
/// cache and the comparison of two disk snapshots need).
fn disk_id(path: &Path) -> std::io::Result<Oid> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)?;
    if meta.len() <= HASHED_UP_TO {
        return Oid::hash_file(ObjectType::Blob, path).map_err(std::io::Error::other);
    }
    let id = format!(
        "slipway-large-file {} {} {} {}.{}",
        path.display(),
        meta.len(),
        meta.ino(),
        meta.mtime(),
        meta.mtime_nsec()
    );
    Oid::hash_object(ObjectType::Blob, id.as_bytes()).map_err(std::io::Error::other)
}

impl Snapshot {
    /// The files of `commit` in the repository at `repo_dir`, without checking anything out.
    pub fn from_commit(repo: &Repository, commit: Oid) -> Result<Self, git2::Error> {
        let tree = repo.find_commit(commit)?.tree()?;
        let mut files = HashMap::new();
        let mut links = Vec::new();
        let mut skipped = Vec::new();
        // libgit2's own walk gives up on the first name that is not UTF-8; this one skips it.
        let mut stack = vec![(tree, String::new())];
        while let Some((tree, dir)) = stack.pop() {
            for entry in tree.iter() {
                let Ok(name) = std::str::from_utf8(entry.name_bytes()) else {
                    skipped.push(format!(
                        "{dir}{}",
                        String::from_utf8_lossy(entry.name_bytes())
                    ));
                    continue;
                };
                let path = format!("{dir}{name}");
                match entry.kind() {
                    Some(ObjectType::Blob) if entry.filemode() == 0o120000 => {
                        links.push((path, entry.id()));
                    }
                    Some(ObjectType::Blob) => {
                        files.insert(path, entry.id());
                    }
                    Some(ObjectType::Tree) => {
                        stack.push((repo.find_tree(entry.id())?, format!("{path}/")));
                    }
                    _ => {}
                }
            }
        }
        skipped.sort();
        let mut snap = Snapshot {
            root: repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf(),
            backing: Backing::Git {
                repo_dir: repo.path().to_path_buf(),
            },
            files,
            dirs: HashSet::new(),
            escaping_links: HashMap::new(),
            links: HashMap::new(),
            commit: Some(commit),
            skipped,
            overlay: Arc::default(),
        };
        let links = links
            .into_iter()
            .map(|(path, oid)| {
                let target = repo
                    .find_blob(oid)
                    .map(|b| String::from_utf8_lossy(b.content()).into_owned())
                    .unwrap_or_default();
                (path, target)
            })
            .collect();
        snap.add_links(links);
        snap.index_dirs();
        Ok(snap)
    }

    /// The files under `root` on disk. Hidden directories (`.git`, `.terraform`,
    /// `.terragrunt-cache`, ...) are skipped.
    pub fn from_dir(root: &Path) -> std::io::Result<Self> {
        let mut snap = Snapshot {
            root: root.to_path_buf(),
            backing: Backing::Dir,
            files: HashMap::new(),
            dirs: HashSet::new(),
            escaping_links: HashMap::new(),
            links: HashMap::new(),
            commit: None,
            skipped: Vec::new(),
            overlay: Arc::default(),
        };
        let mut stack = vec![(root.to_path_buf(), String::new())];
        let mut links = Vec::new();
        while let Some((dir, rel)) = stack.pop() {
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                    let lossy = entry.file_name().to_string_lossy().into_owned();
                    snap.skipped.push(if rel.is_empty() {
                        lossy
                    } else {
                        format!("{rel}/{lossy}")
                    });
                    continue;
                };
                let path = if rel.is_empty() {
                    name.clone()
                } else {
                    format!("{rel}/{name}")
                };
                let ty = entry.file_type()?;
                if ty.is_dir() {
                    if !name.starts_with('.') && name != "target" && name != "node_modules" {
                        stack.push((entry.path(), path));
                    }
                } else if ty.is_symlink() {
                    let target = std::fs::read_link(entry.path())?;
                    links.push((path, target.to_string_lossy().into_owned()));
                } else if ty.is_file() {
                    snap.files.insert(path, disk_id(&entry.path())?);
                }
            }
        }
        snap.add_links(links);
        snap.index_dirs();
        Ok(snap)
    }

    /// The snapshot of `commit`, derived from this one (taken at its parent, or any earlier
    /// commit) by applying the files that changed in between. Unchanged subtrees are never read.
    pub fn with_changes(&self, commit: Oid, changes: &[crate::git::FileChange]) -> Snapshot {
        let mut next = Snapshot {
            root: self.root.clone(),
            backing: self.backing.clone(),
            files: self.files.clone(),
            dirs: HashSet::new(),
            escaping_links: self.escaping_links.clone(),
            links: self.links.clone(),
            commit: Some(commit),
            skipped: self.skipped.clone(),
            // Generated files depend on the stacks of the revision: expanded again for it.
            overlay: Arc::default(),
        };
        let mut deleted = false;
        for c in changes {
            next.escaping_links.remove(&c.path);
            match c.blob {
                Some(oid) => {
                    next.files.insert(c.path.clone(), oid);
                }
                None => {
                    deleted = true;
                    next.files.remove(&c.path);
                    // A link whose target went away dangles: refused, as when read cold.
                    if let Some((_, text)) = self.links.get(&c.path).filter(|_| !c.link) {
                        next.escaping_links.insert(c.path.clone(), text.clone());
                    }
                }
            }
        }
        if deleted || !self.overlay.is_empty() {
            // A directory may have emptied (or was only generated): index from scratch.
            next.index_dirs();
        } else {
            next.dirs = self.dirs.clone();
            for c in changes {
                add_parents(&mut next.dirs, &c.path);
            }
        }
        next
    }

    /// The changes `changes` make to files read through in-repository symlinks: a link whose
    /// target changed (directly or through other links) reads differently too, though git sees
    /// no change to the link itself.
    pub fn link_changes(&self, changes: &[crate::git::FileChange]) -> Vec<crate::git::FileChange> {
        use crate::git::{ChangeKind, FileChange};
        if self.links.is_empty() {
            return Vec::new();
        }
        // A change to a link itself carries the link's own blob: what it reads is its target's.
        let mut changed: HashMap<String, Option<Oid>> = changes
            .iter()
            .map(|c| {
                let blob = if c.link {
                    self.files.get(&c.path).copied()
                } else {
                    c.blob
                };
                (c.path.clone(), blob)
            })
            .collect();
        let mut out = Vec::new();
        loop {
            let next: Vec<(String, Option<Oid>)> = self
                .links
                .iter()
                .filter(|(link, _)| !changed.contains_key(*link))
                .filter_map(|(link, (target, _))| Some((link.clone(), *changed.get(target)?)))
                .collect();
            if next.is_empty() {
                break;
            }
            for (link, blob) in next {
                out.push(FileChange {
                    path: link.clone(),
                    kind: if blob.is_some() {
                        ChangeKind::Modified
                    } else {
                        ChangeKind::Deleted
                    },
                    blob,
                    link: false,
                });
                changed.insert(link, blob);
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    /// Records symlinks (path, target as written), following links to links.
    fn add_links(&mut self, links: Vec<(String, String)>) {
        for (path, text) in links {
            let resolved = if text.starts_with('/') {
                None
            } else {
                normalize(&join(parent(&path), &text))
            };
            match resolved {
                Some(r) => {
                    self.links.insert(path, (r, text));
                }
                None => {
                    self.escaping_links.insert(path, text);
                }
            }
        }
        let paths: Vec<String> = self.links.keys().cloned().collect();
        for path in paths {
            let mut target = path.clone();
            // A chain longer than the number of links is a loop.
            for _ in 0..=self.links.len() {
                match self.links.get(&target) {
                    Some((next, _)) => target = next.clone(),
                    None => break,
                }
            }
            match self.files.get(&target).copied() {
                Some(oid) if !self.links.contains_key(&target) => {
                    self.files.insert(path, oid);
                }
                _ => {
                    let text = self.links[&path].1.clone();
                    self.escaping_links.insert(path, text);
                }
            }
        }
    }

    fn index_dirs(&mut self) {
        self.dirs.insert(String::new());
        for path in self.files.keys().chain(self.overlay.keys()) {
            add_parents(&mut self.dirs, path);
        }
    }

    /// This snapshot with `generated` laid over it (added to what is already generated).
    /// A copy of a generated file is a copy of what that file copies.
    pub fn with_generated(&self, generated: Vec<(String, Generated)>) -> Snapshot {
        let mut next = self.clone();
        let mut overlay = (*self.overlay).clone();
        for (path, g) in generated {
            let entry = match g {
                Generated::Copy(of) => match overlay.get(&of) {
                    Some(e) => e.clone(),
                    None => match self.files.get(&of) {
                        Some(oid) => (*oid, Generated::Copy(of)),
                        None => continue,
                    },
                },
                Generated::Text(oid, bytes) => (oid, Generated::Text(oid, bytes)),
            };
            add_parents(&mut next.dirs, &path);
            overlay.insert(path, entry);
        }
        next.overlay = Arc::new(overlay);
        next
    }

    /// This snapshot without its generated files: the repository's own.
    pub fn without_generated(&self) -> Snapshot {
        if self.overlay.is_empty() {
            return self.clone();
        }
        let mut own = self.clone();
        own.overlay = Arc::default();
        own.dirs = HashSet::new();
        own.index_dirs();
        own
    }

    /// The generated files laid over the repository's.
    pub fn generated(&self) -> impl Iterator<Item = (&str, &Generated)> {
        self.overlay.iter().map(|(p, (_, g))| (p.as_str(), g))
    }

    /// Whether `path` is a generated file (not one of the repository's).
    pub fn is_generated(&self, path: &str) -> bool {
        !self.overlay.is_empty() && self.overlay.contains_key(path)
    }

    /// Directory on disk the repository lives in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Paths left out because their name is not UTF-8 (shown with replacement characters).
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    /// The commit the snapshot shows, if it came from git.
    pub fn commit(&self) -> Option<Oid> {
        self.commit
    }

    /// Where a symlink that leaves the repository points, when `path` is one.
    pub fn escaping_link(&self, path: &str) -> Option<&str> {
        self.escaping_links.get(path).map(String::as_str)
    }

    /// Every symlink that leaves the repository: (path, target).
    pub fn escaping_links(&self) -> impl Iterator<Item = (&str, &str)> {
        self.escaping_links
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
    }

    /// Whether `path` is a symlink (inside the repository or not).
    pub fn is_link(&self, path: &str) -> bool {
        self.links.contains_key(path) || self.escaping_links.contains_key(path)
    }

    pub fn is_file(&self, path: &str) -> bool {
        self.files.contains_key(path) || self.is_generated(path)
    }

    pub fn is_dir(&self, path: &str) -> bool {
        self.dirs.contains(path)
    }

    /// Blob id of a file: the cache key of everything derived from its content.
    pub fn blob_id(&self, path: &str) -> Option<Oid> {
        if !self.overlay.is_empty() {
            if let Some((oid, _)) = self.overlay.get(path) {
                return Some(*oid);
            }
        }
        self.files.get(path).copied()
    }

    /// Every file path (generated ones included), in no particular order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        let overlay = &self.overlay;
        self.files
            .keys()
            .filter(move |p| overlay.is_empty() || !overlay.contains_key(*p))
            .chain(overlay.keys())
            .map(String::as_str)
    }

    /// Files at or below `dir` (every file when `dir` is empty).
    pub fn files_under<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.paths()
            .filter(move |p| crate::config::path_has_prefix(p, dir) && *p != dir)
    }

    /// Reads a file's content.
    pub fn read(&self, path: &str) -> Result<Arc<[u8]>, ReadError> {
        if !self.overlay.is_empty() {
            match self.overlay.get(path) {
                Some((_, Generated::Text(_, bytes))) => return Ok(bytes.clone()),
                Some((_, Generated::Copy(of))) => return self.read_own(of),
                None => {}
            }
        }
        self.read_own(path)
    }

    /// Reads one of the repository's own files.
    fn read_own(&self, path: &str) -> Result<Arc<[u8]>, ReadError> {
        if let Some(target) = self.escaping_links.get(path) {
            return Err(ReadError::SymlinkOutside {
                path: path.to_string(),
                target: target.clone(),
            });
        }
        let oid = *self
            .files
            .get(path)
            .ok_or_else(|| ReadError::NotFound(path.to_string()))?;
        match &self.backing {
            Backing::Dir => std::fs::read(self.root.join(path))
                .map(Arc::from)
                .map_err(|e| ReadError::Io {
                    path: path.to_string(),
                    message: e.to_string(),
                }),
            Backing::Git { repo_dir } => read_blob(repo_dir, oid).map_err(|e| ReadError::Io {
                path: path.to_string(),
                message: e.message().to_string(),
            }),
        }
    }

    /// Reads a file as UTF-8 text.
    pub fn read_text(&self, path: &str) -> Result<String, ReadError> {
        let bytes = self.read(path)?;
        String::from_utf8(bytes.to_vec()).map_err(|e| ReadError::Io {
            path: path.to_string(),
            message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        })
    }
}

thread_local! {
    // git2 repositories are not Sync: each evaluation thread keeps its own handle.
    static REPOS: RefCell<HashMap<PathBuf, Repository>> = RefCell::new(HashMap::new());
}

fn read_blob(repo_dir: &Path, oid: Oid) -> Result<Arc<[u8]>, git2::Error> {
    REPOS.with(|repos| {
        let mut repos = repos.borrow_mut();
        if !repos.contains_key(repo_dir) {
            repos.insert(repo_dir.to_path_buf(), Repository::open(repo_dir)?);
        }
        let repo = repos
            .get(repo_dir)
            .ok_or_else(|| git2::Error::from_str("repository handle vanished"))?;
        let blob = repo.find_blob(oid)?;
        Ok(Arc::from(blob.content()))
    })
}

/// Adds every directory above `path` to `dirs`, stopping at the first one already there (its
/// own parents are then there too).
fn add_parents(dirs: &mut HashSet<String>, path: &str) {
    let mut p = path;
    while let Some(i) = p.rfind('/') {
        p = &p[..i];
        if !dirs.insert(p.to_string()) {
            break;
        }
    }
}

/// Parent directory of a repo-relative path ("" for top-level entries).
pub fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// Joins a repo-relative directory and a relative path.
pub fn join(dir: &str, rel: &str) -> String {
    if dir.is_empty() {
        rel.to_string()
    } else if rel.is_empty() {
        dir.to_string()
    } else {
        format!("{dir}/{rel}")
    }
}

/// Lexically normalises a repo-relative path (`.`, `..`, repeated `/`). `None` when it climbs
/// above the repository root.
pub fn normalize(path: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            c => out.push(c),
        }
    }
    Some(out.join("/"))
}

/// Relative path from directory `from` to `to` (both repo-relative), as Terragrunt prints it.
pub fn relative(from: &str, to: &str) -> String {
    let f: Vec<&str> = from.split('/').filter(|c| !c.is_empty()).collect();
    let t: Vec<&str> = to.split('/').filter(|c| !c.is_empty()).collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; f.len() - common];
    parts.extend(&t[common..]);
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_refuses_to_climb_above_the_root() {
        assert_eq!(
            normalize("live/dev/../prod/./db").as_deref(),
            Some("live/prod/db")
        );
        assert_eq!(normalize("live/../../etc/passwd"), None);
    }

    #[test]
    fn relative_paths_match_terragrunt() {
        assert_eq!(relative("live", "live/dev/app"), "dev/app");
        assert_eq!(relative("live/dev/app", "live"), "../..");
        assert_eq!(relative("live/dev/app", "live/prod/db"), "../../prod/db");
        assert_eq!(relative("live", "live"), ".");
    }
}
