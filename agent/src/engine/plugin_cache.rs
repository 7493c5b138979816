//! The provider plugin cache shared by every run (`TF_PLUGIN_CACHE_DIR`). Terraform does not
//! make concurrent `init`s against one cache safe (two installs of the same provider race and
//! leave "plugins are not consistent" errors), so `init` is serialised per cache: a process-wide
//! async mutex for the runs of this process, and an exclusive `flock` on a lock file in the
//! cache for other Slipway processes sharing it.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Name of the lock file inside the cache directory.
pub const LOCK_FILE: &str = ".slipway-init.lock";

/// Name of the manifest inside the cache directory: each provider file's SHA-256 as it was
/// when it first appeared there, and the file's metadata then.
pub const MANIFEST_FILE: &str = ".slipway-manifest.json";

/// One file of the cache as recorded in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Entry {
    len: u64,
    mtime_ns: i64,
    ino: u64,
    sha256: String,
}

/// Checks every file of the cache (following its links into a provider mirror) against the
/// manifest and records the files new since the last check. A file whose metadata changed is
/// hashed again; a different SHA-256 means something rewrote a provider that every later plan
/// and apply would execute: an error naming the file, and nothing is run. Called under the
/// cache's lock, before and after each `init`.
pub fn verify(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let manifest_path = dir.join(MANIFEST_FILE);
    let mut manifest: std::collections::BTreeMap<String, Entry> =
        match std::fs::read(&manifest_path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| {
                format!(
                    "{}: unreadable ({e}); remove the plugin cache to start afresh",
                    manifest_path.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Default::default(),
            Err(e) => return Err(format!("{}: {e}", manifest_path.display())),
        };
    let mut files = Vec::new();
    walk(dir, String::new(), 0, &mut files)
        .map_err(|e| format!("cannot read the plugin cache {}: {e}", dir.display()))?;
    let mut seen = std::collections::BTreeMap::new();
    for (rel, path) in files {
        let meta = std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let (len, mtime_ns, ino) = (
            meta.len(),
            meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            meta.ino(),
        );
        let entry = match manifest.remove(&rel) {
            Some(e) if e.len == len && e.mtime_ns == mtime_ns && e.ino == ino => e,
            Some(e) => {
                let sha256 = sha256_file(&path)?;
                if sha256 != e.sha256 {
                    return Err(format!(
                        "the plugin cache file {} changed since it was installed (SHA-256 {} instead of {}): refused; nothing runs with it; remove the plugin cache to reinstall",
                        path.display(),
                        sha256,
                        e.sha256
                    ));
                }
                Entry {
                    len,
                    mtime_ns,
                    ino,
                    sha256,
                }
            }
            None => Entry {
                len,
                mtime_ns,
                ino,
                sha256: sha256_file(&path)?,
            },
        };
        seen.insert(rel, entry);
    }
    let bytes = serde_json::to_vec_pretty(&seen).map_err(|e| e.to_string())?;
    let tmp = dir.join(format!("{MANIFEST_FILE}.tmp"));
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, &manifest_path))
        .map_err(|e| format!("{}: {e}", manifest_path.display()))
}

fn sha256_file(path: &Path) -> Result<String, String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The regular files under `dir`, following links (the cache links into a mirror), at most
/// 16 directories deep.
fn walk(
    dir: &Path,
    rel: String,
    depth: usize,
    out: &mut Vec<(String, PathBuf)>,
) -> std::io::Result<()> {
    if depth > 16 {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if depth == 0 && name.starts_with(".slipway-") {
            continue;
        }
        let path = entry.path();
        let r = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let meta = std::fs::metadata(&path)?;
        if meta.is_dir() {
            walk(&path, r, depth + 1, out)?;
        } else if meta.is_file() {
            out.push((r, path));
        }
    }
    Ok(())
}

/// Holds the cache for one `init`; released on drop.
pub struct InitGuard {
    _file: File,
    _local: tokio::sync::OwnedMutexGuard<()>,
}

fn local_lock(dir: &Path) -> Arc<tokio::sync::Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    let mut map = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    map.entry(dir.to_path_buf()).or_default().clone()
}

/// Opens (making it when missing) `path` and waits for an exclusive `flock` on it: what keeps
/// Slipway processes sharing a cache directory out of each other's way.
pub fn lock_file(path: &Path) -> std::io::Result<File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)?;
    Ok(file)
}

/// Waits until this run may `init` against the cache in `dir` (created when missing).
pub async fn lock(dir: &Path) -> std::io::Result<InitGuard> {
    std::fs::create_dir_all(dir)?;
    let dir = dir.canonicalize()?;
    let local = local_lock(&dir).lock_owned().await;
    let path = dir.join(LOCK_FILE);
    let file = tokio::task::spawn_blocking(move || lock_file(&path))
        .await
        .map_err(std::io::Error::other)??;
    Ok(InitGuard {
        _file: file,
        _local: local,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn inits_on_one_cache_never_overlap() {
        let dir = tempfile::tempdir().unwrap();
        let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let max = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let (dir, inside, max) = (dir.path().to_path_buf(), inside.clone(), max.clone());
            tasks.push(tokio::spawn(async move {
                let _g = lock(&dir).await.unwrap();
                let now = inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                max.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(max.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(dir.path().join(LOCK_FILE).is_file());
    }

    #[tokio::test]
    async fn another_process_holding_the_lock_file_is_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        // Stands for another Slipway process: a separate open file description holding flock.
        let other = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .unwrap();
        rustix::fs::flock(&other, rustix::fs::FlockOperation::LockExclusive).unwrap();
        let d = dir.path().to_path_buf();
        let waiter = tokio::spawn(async move { lock(&d).await.map(|_| ()) });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !waiter.is_finished(),
            "init ran while another process held the cache"
        );
        drop(other);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("lock acquired after release")
            .unwrap()
            .unwrap();
    }
}
