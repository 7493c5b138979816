//! A fetched module tree, checked as a local one would be before any run sees it: no link
//! leaving it, nothing but files, directories and links inside, within the size and file count
//! limits. Then made read-only in the cache, and copied (never linked) into working
//! directories.

use std::path::{Component, Path, PathBuf};

/// How much one fetched source may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of all files together (uncompressed).
    pub max_bytes: u64,
    /// Files, directories and links together.
    pub max_files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 512 * 1024 * 1024,
            max_files: 50_000,
        }
    }
}

/// Running totals against [`Limits`], for extraction and for checking.
#[derive(Debug, Default)]
pub struct Budget {
    pub bytes: u64,
    pub files: usize,
}

impl Budget {
    pub fn entry(&mut self, limits: &Limits) -> Result<(), String> {
        self.files += 1;
        if self.files > limits.max_files {
            return Err(format!(
                "the module source has more than {} files (the limit)",
                limits.max_files
            ));
        }
        Ok(())
    }

    pub fn bytes(&mut self, n: u64, limits: &Limits) -> Result<(), String> {
        self.bytes = self.bytes.saturating_add(n);
        if self.bytes > limits.max_bytes {
            return Err(format!(
                "the module source is larger than {} bytes (the limit)",
                limits.max_bytes
            ));
        }
        Ok(())
    }
}

/// Whether a link at `link` (relative to the tree root) pointing to `target` stays inside
/// the tree.
pub fn link_stays_inside(link: &Path, target: &Path) -> bool {
    if target.is_absolute() {
        return false;
    }
    let mut depth: Vec<&std::ffi::OsStr> = Vec::new();
    let parent = link.parent().unwrap_or(Path::new(""));
    for c in parent.components().chain(target.components()) {
        match c {
            Component::Normal(n) => depth.push(n),
            Component::CurDir => {}
            Component::ParentDir => {
                if depth.pop().is_none() {
                    return false;
                }
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

/// Checks every entry under `root`: links must stay inside, only files, directories and links,
/// within `limits`.
pub fn check(root: &Path, limits: &Limits) -> Result<(), String> {
    let mut budget = Budget::default();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", rel.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read {}: {e}", rel.display()))?;
            let path = rel.join(entry.file_name());
            budget.entry(limits)?;
            let meta = std::fs::symlink_metadata(root.join(&path))
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let ft = meta.file_type();
            if ft.is_symlink() {
                let target = std::fs::read_link(root.join(&path))
                    .map_err(|e| format!("cannot read the link {}: {e}", path.display()))?;
                if !link_stays_inside(&path, &target) {
                    return Err(format!(
                        "the link {} points outside the module source (to {}): refused",
                        path.display(),
                        target.display()
                    ));
                }
            } else if ft.is_dir() {
                stack.push(path);
            } else if ft.is_file() {
                budget.bytes(meta.len(), limits)?;
            } else {
                return Err(format!(
                    "{} is neither a file, a directory nor a link: refused",
                    path.display()
                ));
            }
        }
    }
    Ok(())
}

/// Makes every file under `root` read-only (directories stay writable so that the cache can
/// be deleted with `rm -r`).
pub fn make_read_only(root: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let ft = entry.file_type()?;
            if ft.is_dir() {
                stack.push(entry.path());
            } else if ft.is_file() {
                let mode = entry.metadata()?.permissions().mode();
                let ro = if mode & 0o111 != 0 { 0o555 } else { 0o444 };
                std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(ro))?;
            }
        }
    }
    Ok(())
}

/// Directories never copied into a working directory.
fn skipped(name: &std::ffi::OsStr) -> bool {
    name == ".terraform" || name == ".terragrunt-cache" || name == ".git"
}

/// Copies the checked tree `src` into the working directory `dest` as a local module is
/// copied: files written through [`crate::engine::safe_fs`] (never through a link, the
/// executable bit kept), a link inside the tree written as a copy of what it points to.
pub fn copy_into(src: &Path, dest: &Path) -> Result<(), String> {
    let root = src
        .canonicalize()
        .map_err(|e| format!("cannot read {}: {e}", src.display()))?;
    let mut chain = vec![root.clone()];
    copy_dir(&root, &root, "", dest, &mut chain)
}

fn copy_dir(
    root: &Path,
    dir: &Path,
    rel: &str,
    dest: &Path,
    chain: &mut Vec<PathBuf>,
) -> Result<(), String> {
    use crate::engine::safe_fs::{self, Existing};
    use std::os::unix::fs::PermissionsExt;
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {rel}: {e}"))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {rel}: {e}"))?;
        let name = entry.file_name();
        if skipped(&name) {
            continue;
        }
        let Some(name) = name.to_str() else {
            return Err(format!("{rel}: a file name that is not UTF-8"));
        };
        let child = if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        };
        let mut path = entry.path();
        let ft = entry
            .file_type()
            .map_err(|e| format!("cannot read {child}: {e}"))?;
        if ft.is_symlink() {
            path = path
                .canonicalize()
                .map_err(|e| format!("the link {child} leads nowhere: {e}"))?;
            if !path.starts_with(root) {
                return Err(format!("the link {child} leads out of the module source"));
            }
        }
        let meta = std::fs::metadata(&path).map_err(|e| format!("cannot read {child}: {e}"))?;
        if meta.is_dir() {
            let canonical = path
                .canonicalize()
                .map_err(|e| format!("cannot read {child}: {e}"))?;
            if chain.contains(&canonical) {
                return Err(format!("the link {child} makes a loop"));
            }
            chain.push(canonical.clone());
            copy_dir(root, &canonical, &child, dest, chain)?;
            chain.pop();
        } else if meta.is_file() {
            let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {child}: {e}"))?;
            safe_fs::write(dest, &child, &bytes, Existing::Replace).map_err(|e| e.to_string())?;
            if meta.permissions().mode() & 0o111 != 0 {
                std::fs::set_permissions(dest.join(&child), std::fs::Permissions::from_mode(0o755))
                    .map_err(|e| format!("{child}: {e}"))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_inside_are_kept_and_links_out_refused() {
        assert!(link_stays_inside(Path::new("a/b"), Path::new("../c")));
        assert!(link_stays_inside(Path::new("a/b"), Path::new("./c/d")));
        assert!(!link_stays_inside(Path::new("a/b"), Path::new("../../c")));
        assert!(!link_stays_inside(Path::new("b"), Path::new("/etc/passwd")));
        assert!(!link_stays_inside(Path::new("b"), Path::new("..")));
    }

    #[test]
    fn a_tree_with_a_link_out_is_refused_and_limits_hold() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("m")).unwrap();
        std::fs::write(dir.path().join("m/main.tf"), "# x\n").unwrap();
        std::os::unix::fs::symlink("main.tf", dir.path().join("m/alias.tf")).unwrap();
        check(dir.path(), &Limits::default()).unwrap();
        let small = Limits {
            max_bytes: 2,
            max_files: 10,
        };
        assert!(check(dir.path(), &small)
            .unwrap_err()
            .contains("larger than 2 bytes"));
        let few = Limits {
            max_bytes: 100,
            max_files: 2,
        };
        assert!(check(dir.path(), &few)
            .unwrap_err()
            .contains("more than 2 files"));
        std::os::unix::fs::symlink("../../../etc/passwd", dir.path().join("m/evil")).unwrap();
        let e = check(dir.path(), &Limits::default()).unwrap_err();
        assert!(e.contains("m/evil") && e.contains("outside"), "{e}");
    }

    #[test]
    fn copies_are_writable_and_links_become_copies() {
        let src = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(src.path().join("m/.git")).unwrap();
        std::fs::write(src.path().join("m/.git/HEAD"), "x").unwrap();
        std::fs::write(src.path().join("m/main.tf"), "# x\n").unwrap();
        std::os::unix::fs::symlink("main.tf", src.path().join("m/alias.tf")).unwrap();
        std::os::unix::fs::symlink("..", src.path().join("m/up")).unwrap();
        make_read_only(src.path()).unwrap();
        let dest = tempfile::tempdir().unwrap();
        let e = copy_into(src.path(), dest.path()).unwrap_err();
        assert!(e.contains("m/up makes a loop"), "{e}");
        std::fs::remove_file(src.path().join("m/up")).unwrap();
        let dest = tempfile::tempdir().unwrap();
        copy_into(src.path(), dest.path()).unwrap();
        std::fs::write(dest.path().join("m/main.tf"), "# changed\n").unwrap();
        let alias = dest.path().join("m/alias.tf");
        assert!(!alias.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(alias).unwrap(), "# x\n");
        assert!(!dest.path().join("m/.git").exists());
        assert!(std::fs::write(src.path().join("m/main.tf"), "no").is_err() || is_root());
    }

    fn is_root() -> bool {
        rustix::process::geteuid().is_root()
    }
}
