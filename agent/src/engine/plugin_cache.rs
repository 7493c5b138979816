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

/// Waits until this run may `init` against the cache in `dir` (created when missing).
pub async fn lock(dir: &Path) -> std::io::Result<InitGuard> {
    std::fs::create_dir_all(dir)?;
    let dir = dir.canonicalize()?;
    let local = local_lock(&dir).lock_owned().await;
    let path = dir.join(LOCK_FILE);
    let file = tokio::task::spawn_blocking(move || -> std::io::Result<File> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)?;
        Ok(file)
    })
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
