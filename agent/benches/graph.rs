//! Benchmark of Terragrunt understanding at scale: cold full evaluation + affected set, and warm
//! (cached) affected set after a one-file change, on synthetic monorepos of 1,000 and 10,000
//! units. Run with `cargo bench -p slipway-agent --bench graph` (or `make bench`).

use std::time::{Duration, Instant};

use agent::repo::Repo;
use agent::synth;

// The allocator the `slipway` binary uses, so the figures are the shipped binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn best_of(n: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..n).map(|_| f()).min().unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000]
    } else {
        sizes
    };
    println!(
        "slipway graph benchmark ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for n in sizes {
        let dir = tempfile::tempdir()?;
        let files = synth::files(synth::Shape::new(n));
        let (repo, base) = synth::write_repo(dir.path(), &files)?;
        synth::pack(&repo, base)?;
        let repo = git2::Repository::open(dir.path())?;
        let head = synth::commit_files(
            &repo,
            Some(base),
            &[(
                synth::account_file(0),
                "locals {\n  account_name = \"acct-0000\"\n  account_id   = \"999999999999\"\n}\n"
                    .into(),
            )],
            "change one account",
        )?;
        let (base, head) = (base.to_string(), head.to_string());

        // Cold: a new Repo (empty caches) each time.
        let mut units = 0;
        let mut affected = 0;
        let cold = best_of(3, || {
            let r = Repo::open(dir.path()).expect("open");
            let t = Instant::now();
            let change = r.affected(&base, &head, false).expect("affected");
            let d = t.elapsed();
            units = change.head_view.inventory.units.len();
            affected = change.units.len();
            assert!(
                change.head_view.inventory.errors.is_empty(),
                "{:?}",
                change.head_view.inventory.errors.first()
            );
            d
        });

        // Warm: the same Repo, a further one-file change on top.
        let r = Repo::open(dir.path())?;
        r.affected(&base, &head, false)?;
        let mut parent = git2::Oid::from_str(&head)?;
        let mut i = 0;
        let warm = best_of(5, || {
            i += 1;
            let next = synth::commit_files(
                &repo,
                Some(parent),
                &[(
                    format!("{}/terragrunt.hcl.note", synth::unit_dir(1, 0, "api")),
                    format!("change {i}\n"),
                )],
                "one more change",
            )
            .expect("commit");
            let prev = parent.to_string();
            parent = next;
            let t = Instant::now();
            let change = r
                .affected(&prev, &next.to_string(), false)
                .expect("affected");
            let d = t.elapsed();
            assert_eq!(change.units.len(), 1);
            d
        });
        println!(
            "units={units:>6}  cold(full evaluation + affected)={:>8.1} ms  affected={affected}  warm(one-file change)={:>7.1} ms  peak RSS={:.0} MB",
            cold.as_secs_f64() * 1e3,
            warm.as_secs_f64() * 1e3,
            peak_rss_mb()
        );
    }
    Ok(())
}
