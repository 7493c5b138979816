//! Writing into a unit's working directory without ever following a link. The files written
//! there (module copies, the unit's own files, `generate` blocks, the backend, the inputs) come
//! from a pull request: every path is resolved component by component from a handle on the
//! working directory, no component may be a symlink, and the file itself is opened with
//! `O_NOFOLLOW`, so nothing can be written through a link into the plugin cache, the provider
//! mirror or anywhere else outside the directory.

use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::fs::{mkdirat, openat, Mode, OFlags, CWD};
use rustix::io::Errno;

/// What to do when the file exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Replace its content.
    Replace,
    /// Leave it, and report that nothing was written.
    Keep,
    /// Fail.
    Fail,
}

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0}: the path leaves the working directory")]
    Escapes(String),
    #[error("{path}: {part} is a symlink or not a directory; nothing is written through it")]
    NotADirectory { path: String, part: String },
    #[error("{0}: is a symlink; nothing is written through it")]
    Symlink(String),
    #[error("{0}: already exists")]
    Exists(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &str, e: impl Into<std::io::Error>) -> WriteError {
    WriteError::Io {
        path: path.to_string(),
        source: e.into(),
    }
}

const DIR: OFlags = OFlags::DIRECTORY
    .union(OFlags::NOFOLLOW)
    .union(OFlags::RDONLY)
    .union(OFlags::CLOEXEC);

/// The components of a relative path that stays inside its base: no absolute path, no `..`.
fn components(rel: &str) -> Result<Vec<&str>, WriteError> {
    let parts: Vec<&str> = rel
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    if rel.starts_with('/') || parts.is_empty() || parts.contains(&"..") {
        return Err(WriteError::Escapes(rel.to_string()));
    }
    Ok(parts)
}

/// Opens (making it when missing) the directory `rel` inside `root`, following no link.
fn open_dir(root: &Path, rel: &str, parts: &[&str]) -> Result<OwnedFd, WriteError> {
    let mut fd = openat(CWD, root, DIR, Mode::empty()).map_err(|e| io(rel, e))?;
    for part in parts {
        fd = match openat(&fd, *part, DIR, Mode::empty()) {
            Ok(next) => next,
            Err(Errno::NOENT) => {
                match mkdirat(&fd, *part, Mode::from_raw_mode(0o755)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(io(rel, e)),
                }
                openat(&fd, *part, DIR, Mode::empty()).map_err(|e| not_dir(rel, part, e))?
            }
            Err(e) => return Err(not_dir(rel, part, e)),
        };
    }
    Ok(fd)
}

fn not_dir(rel: &str, part: &str, e: Errno) -> WriteError {
    if e == Errno::LOOP || e == Errno::NOTDIR {
        WriteError::NotADirectory {
            path: rel.to_string(),
            part: part.to_string(),
        }
    } else {
        io(rel, e)
    }
}

/// Writes `bytes` to `rel` inside `root`, making the directories on the way; returns whether
/// it wrote (false when the file existed and `existing` is [`Existing::Keep`]).
pub fn write(root: &Path, rel: &str, bytes: &[u8], existing: Existing) -> Result<bool, WriteError> {
    let parts = components(rel)?;
    let (name, dirs) = parts
        .split_last()
        .ok_or_else(|| WriteError::Escapes(rel.into()))?;
    let dir = open_dir(root, rel, dirs)?;
    let base = OFlags::WRONLY | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mode = Mode::from_raw_mode(0o644);
    let fd = match openat(&dir, *name, base | OFlags::EXCL, mode) {
        Ok(fd) => fd,
        Err(Errno::EXIST) => match existing {
            Existing::Keep => return Ok(false),
            Existing::Fail => return Err(WriteError::Exists(rel.to_string())),
            Existing::Replace => match openat(&dir, *name, base | OFlags::TRUNC, mode) {
                Ok(fd) => fd,
                Err(Errno::LOOP) => return Err(WriteError::Symlink(rel.to_string())),
                Err(e) => return Err(io(rel, e)),
            },
        },
        Err(Errno::LOOP) => return Err(WriteError::Symlink(rel.to_string())),
        Err(e) => return Err(io(rel, e)),
    };
    let mut file = File::from(fd);
    file.write_all(bytes).map_err(|e| io(rel, e))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_makes_directories() {
        let d = tempfile::tempdir().unwrap();
        assert!(write(d.path(), "a/b/c.tf", b"x", Existing::Fail).unwrap());
        assert_eq!(std::fs::read(d.path().join("a/b/c.tf")).unwrap(), b"x");
        assert!(!write(d.path(), "a/b/c.tf", b"y", Existing::Keep).unwrap());
        assert!(matches!(
            write(d.path(), "a/b/c.tf", b"y", Existing::Fail),
            Err(WriteError::Exists(_))
        ));
        assert!(write(d.path(), "a/b/c.tf", b"z", Existing::Replace).unwrap());
        assert_eq!(std::fs::read(d.path().join("a/b/c.tf")).unwrap(), b"z");
    }

    #[test]
    fn never_writes_through_a_link() {
        let d = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("binary"), b"original").unwrap();
        std::os::unix::fs::symlink(outside.path().join("binary"), d.path().join("file")).unwrap();
        std::os::unix::fs::symlink(outside.path(), d.path().join("dir")).unwrap();
        for existing in [Existing::Replace, Existing::Fail] {
            assert!(write(d.path(), "file", b"evil", existing).is_err());
            assert!(write(d.path(), "dir/binary", b"evil", existing).is_err());
            assert!(write(d.path(), "dir/new", b"evil", existing).is_err());
        }
        assert_eq!(
            std::fs::read(outside.path().join("binary")).unwrap(),
            b"original"
        );
        assert!(!outside.path().join("new").exists());
        assert!(matches!(
            write(d.path(), "../x", b"", Existing::Replace),
            Err(WriteError::Escapes(_))
        ));
    }
}
