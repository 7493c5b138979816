//! Terraform module sources: which are local (and so part of what a unit reads), and the local
//! modules those modules call in turn.

use std::collections::BTreeSet;

use crate::snapshot::{join, normalize, Snapshot};

/// Where a `terraform.source` points.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Source {
    /// A directory of this repository. `root` is what gets copied (the part before `//`),
    /// `dir` the module inside it.
    Local { root: String, dir: String },
    /// git, registry, s3, http...: recorded, not followed.
    Remote { url: String },
}

/// Splits a local source `path//sub/dir` into (copied root, module dir).
fn split_subdir(path: &str) -> (&str, &str) {
    // `//` after a scheme (`git::https://`) is not a subdirectory separator; callers pass local
    // paths only.
    match path.find("//") {
        Some(i) => (&path[..i], &path[i + 2..]),
        None => (path, ""),
    }
}

/// True for sources Terraform fetches from elsewhere.
pub fn is_remote(source: &str) -> bool {
    let s = source.trim();
    s.contains("::")
        || s.starts_with("http://")
        || s.starts_with("https://")
        || s.starts_with("git@")
        || s.starts_with("github.com/")
        || s.starts_with("bitbucket.org/")
        || s.starts_with("tfr://")
        || looks_like_host(s)
        || (!s.starts_with('.')
            && !s.starts_with('/')
            && s.split('/').count() >= 3
            && !s.contains("//"))
}

/// `gitlab.com/org/repo//sub`, `bucket.s3.amazonaws.com/key`: a first path component with a dot
/// in it is a host, as go-getter's detectors read it, even when a `//` subdirectory follows.
fn looks_like_host(s: &str) -> bool {
    let first = s.split('/').next().unwrap_or_default();
    s.contains('/') && !first.starts_with('.') && !first.contains(':') && first.contains('.')
}

/// Classifies a unit's `terraform.source`, resolving local paths with `resolve` (which refuses
/// paths outside the repository).
pub fn classify(
    source: &str,
    resolve: impl Fn(&str) -> Result<String, String>,
) -> Result<Source, String> {
    if is_remote(source) {
        return Ok(Source::Remote {
            url: source.to_string(),
        });
    }
    let local = source.strip_prefix("file://").unwrap_or(source);
    let (root, sub) = split_subdir(local);
    let root = resolve(if root.is_empty() { "." } else { root })?;
    let dir =
        normalize(&join(&root, sub)).ok_or_else(|| format!("{source} escapes the repository"))?;
    Ok(Source::Local { root, dir })
}

/// The local module directories reachable from `start` through `module` blocks with local
/// sources (`./x`, `../y`), `start` included; remote sources and absent directories apart.
pub fn follow(snap: &Snapshot, start: &str) -> Followed {
    let mut seen = BTreeSet::new();
    let mut remote = BTreeSet::new();
    let mut missing = BTreeSet::new();
    let mut stack = vec![start.to_string()];
    while let Some(dir) = stack.pop() {
        if !seen.insert(dir.clone()) {
            continue;
        }
        for (path, source) in module_calls(snap, &dir) {
            let _ = path;
            if source.starts_with("./") || source.starts_with("../") {
                let (root, sub) = split_subdir(&source);
                if let Some(next) = normalize(&join(&join(&dir, root), sub)) {
                    if snap.is_dir(&next) {
                        stack.push(next);
                    } else {
                        // Not there (yet): watched, so the unit is affected when it appears.
                        missing.insert(next);
                    }
                }
            } else {
                remote.insert(source);
            }
        }
    }
    Followed {
        dirs: seen,
        remote,
        missing,
    }
}

/// What following a module's local calls found.
#[derive(Debug, Clone, Default)]
pub struct Followed {
    /// Local module directories, the start included.
    pub dirs: BTreeSet<String>,
    /// Remote module sources, recorded but not followed.
    pub remote: BTreeSet<String>,
    /// Local module directories called but absent: watched for their appearance.
    pub missing: BTreeSet<String>,
}

/// `(file, source)` of every `module` block in the `.tf` files directly in `dir`.
fn module_calls(snap: &Snapshot, dir: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let mut files: Vec<&str> = snap
        .files_under(dir)
        .filter(|p| {
            p.ends_with(".tf")
                && p.strip_prefix(prefix.as_str())
                    .is_some_and(|r| !r.contains('/'))
        })
        .collect();
    files.sort_unstable();
    for file in files {
        let Ok(text) = snap.read_text(file) else {
            continue;
        };
        // Cheap pre-check: most files call no module.
        if !text.contains("module") {
            continue;
        }
        let Ok(body) = hcl::parse(&text) else {
            continue;
        };
        for block in body.blocks().filter(|b| b.identifier() == "module") {
            for attr in block.body.attributes().filter(|a| a.key() == "source") {
                if let hcl::Expression::String(s) = attr.expr() {
                    out.push((file.to_string(), s.clone()));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_sources_are_recognised() {
        for s in [
            "git::https://github.com/org/modules.git//vpc?ref=v1.0.0",
            "github.com/org/modules//vpc",
            "tfr:///terraform-aws-modules/vpc/aws?version=5.0.0",
            "terraform-aws-modules/vpc/aws",
            "s3::https://s3.amazonaws.com/bucket/vpc.zip",
            "https://example.com/vpc.zip",
        ] {
            assert!(is_remote(s), "{s}");
        }
        for s in [
            "../../modules//vpc",
            "./module",
            "/repo/modules/vpc",
            "file:///repo/modules/vpc",
        ] {
            assert!(!is_remote(s), "{s}");
        }
    }

    #[test]
    fn double_slash_separates_the_copied_root_from_the_module() {
        let src = classify("../../modules//network/vpc", |p| {
            normalize(&join("live/dev/net", p)).ok_or_else(|| "escapes".to_string())
        })
        .unwrap();
        assert_eq!(
            src,
            Source::Local {
                root: "live/modules".into(),
                dir: "live/modules/network/vpc".into()
            }
        );
    }
}
