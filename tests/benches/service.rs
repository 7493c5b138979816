//! Service benchmarks (run with `--release`):
//!
//! ```sh
//! cargo bench -p slipway-tests --bench service -- ingest sqlite     # 500 deliveries/s for 30 s
//! cargo bench -p slipway-tests --bench service -- ingest postgres   # the same on PostgreSQL
//! cargo bench -p slipway-tests --bench service -- first-comment     # delivery -> first comment
//! cargo bench -p slipway-tests --bench service -- idle-rss          # resident memory, idle
//! ```
//!
//! `SLIPWAY_BENCH_SECONDS` shortens or lengthens the ingest run; `SLIPWAY_BENCH_RATE` changes
//! its rate. Ingest drives the real router (`webhook::server::router`) over loopback HTTP with
//! signed `pull_request.opened` deliveries of GitHub's size (each makes a plan job), open loop
//! (a request every 2 ms whatever the answers do), then checks that every delivery was stored
//! exactly once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use agent::store::Store;
use axum::body::Bytes;
use http_body_util::Full;
use slipway_tests::github::{FakeGithub, PullSpec, TOKEN};
use slipway_tests::service::{pull_request_payload, slipway_bin, Origin, Service, SECRET};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("ingest") => ingest(args.get(1).map_or("sqlite", String::as_str)),
        Some("first-comment") => first_comment(),
        Some("idle-rss") => idle_rss(),
        _ => {
            ingest("sqlite");
            ingest("postgres");
            first_comment();
            idle_rss();
        }
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ingest(which: &str) {
    let seconds = env_number("SLIPWAY_BENCH_SECONDS", 30);
    let rate = env_number("SLIPWAY_BENCH_RATE", 500);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let tmp = tempfile::tempdir().expect("tmp");
        let mut cleanup = None;
        let (store, count): (Arc<dyn Store>, Box<dyn Fn() -> futures_count::Count>) = match which {
            "postgres" => {
                let url = std::env::var("SLIPWAY_TEST_DATABASE_URL").unwrap_or_else(|_| {
                    "postgres://postgres@127.0.0.1:5432/slipway_test".to_string()
                });
                let schema = format!("bench_{}", std::process::id());
                let pg = agent::store::PgStore::open_in_schema(&url, &schema)
                    .await
                    .expect("PostgreSQL (scripts/services.sh starts it)");
                let pool = pg.pool().clone();
                cleanup = Some((pool.clone(), schema));
                (
                    Arc::new(pg),
                    Box::new(move || futures_count::pg(pool.clone())),
                )
            }
            _ => {
                let lite = agent::store::SqliteStore::open(&tmp.path().join("bench.db"))
                    .await
                    .expect("SQLite");
                let pool = lite.pool().clone();
                (
                    Arc::new(lite),
                    Box::new(move || futures_count::sqlite(pool.clone())),
                )
            }
        };
        let ingest = Arc::new(webhook::server::Ingest {
            store,
            secrets: vec![SECRET.as_bytes().to_vec()],
            policy: webhook::jobs::JobPolicy::default(),
            cannot_act: None,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, webhook::server::router(ingest)).await;
        });

        let client: hyper_util::client::legacy::Client<_, Full<Bytes>> =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .pool_max_idle_per_host(256)
                .build_http();
        // A payload of GitHub's size: a pull_request event is 20-30 KB.
        let padding = "x".repeat(20_000);
        let total = seconds * rate;
        let interval = Duration::from_nanos(1_000_000_000 / rate);
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        for i in 0..total {
            ticker.tick().await;
            let mut payload = pull_request_payload(
                "opened",
                "acme/infra",
                "https://github.com/acme/infra.git",
                i + 1,
                &format!("{:040x}", i + 1),
                "main",
                &"b".repeat(40),
                false,
            );
            payload["pull_request"]["body"] = serde_json::Value::String(padding.clone());
            let body = serde_json::to_vec(&payload).expect("payload");
            let sig = webhook::server::sign(SECRET.as_bytes(), &body);
            let req = hyper::Request::post(format!("http://{addr}/webhooks/github"))
                .header("X-GitHub-Event", "pull_request")
                .header("X-GitHub-Delivery", format!("00000000-0000-4000-8000-{i:012}"))
                .header("X-Hub-Signature-256", sig)
                .header("Content-Type", "application/json")
                .body(Full::new(Bytes::from(body)))
                .expect("request");
            let client = client.clone();
            tasks.spawn(async move {
                let t = Instant::now();
                let status = client.request(req).await.map(|r| r.status().as_u16()).unwrap_or(0);
                (status, t.elapsed())
            });
        }
        let sent_in = started.elapsed();
        let mut latencies = Vec::with_capacity(total as usize);
        let mut bad = 0;
        while let Some(r) = tasks.join_next().await {
            let (status, took) = r.expect("task");
            if status != 202 {
                bad += 1;
            }
            latencies.push(took);
        }
        latencies.sort();
        let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        let stored = count().await;
        println!(
            "ingest {which}: {total} deliveries in {:.1} s ({:.0}/s); acknowledgement p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {bad} not 202; stored {} deliveries and {} jobs",
            sent_in.as_secs_f64(),
            total as f64 / sent_in.as_secs_f64(),
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
            stored.deliveries,
            stored.jobs,
        );
        if let Some((pool, schema)) = cleanup {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&pool)
                .await;
        }
        assert_eq!(stored.deliveries, total, "every delivery stored exactly once");
        assert_eq!(stored.jobs, total, "one job per delivery");
    });
}

/// Rows counted straight from the store's tables.
mod futures_count {
    use std::future::Future;
    use std::pin::Pin;

    pub struct Counted {
        pub deliveries: u64,
        pub jobs: u64,
    }
    pub type Count = Pin<Box<dyn Future<Output = Counted> + Send>>;

    /// The same two counts on either database's pool.
    macro_rules! counter {
        ($name:ident, $pool:ty) => {
            pub fn $name(pool: $pool) -> Count {
                Box::pin(async move {
                    let mut n = [0u64; 2];
                    for (i, table) in ["deliveries", "jobs"].into_iter().enumerate() {
                        let q = format!("SELECT count(*) FROM {table}");
                        let c: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(q))
                            .fetch_one(&pool)
                            .await
                            .expect("count");
                        n[i] = c as u64;
                    }
                    Counted {
                        deliveries: n[0],
                        jobs: n[1],
                    }
                })
            }
        };
    }
    counter!(sqlite, sqlx::SqlitePool);
    counter!(pg, sqlx::PgPool);
}

/// From `pull_request.opened` to the first comment (the units listed, planning), on the
/// SARC-NG tree of this repository (`live/`, every unit affected by a change to the root
/// configuration). Terraform is a stand-in that never finishes: only the first comment counts.
fn first_comment() {
    let github = FakeGithub::start();
    github.add_repo("acme", "infra");
    let tmp = tempfile::tempdir().expect("tmp");
    let repo = slipway_tests::TempRepo::new();
    let root = slipway_tests::workspace_root();
    for d in ["live", "modules"] {
        slipway_tests::copy_dir(&root.join(d), &repo.path().join(d));
    }
    std::fs::copy(root.join("slipway.toml"), repo.path().join("slipway.toml"))
        .expect("slipway.toml");
    let origin = Origin::new(repo);
    let stand_in = tmp.path().join("terraform");
    std::fs::write(&stand_in, "#!/bin/sh\nsleep 600\n").expect("stand-in");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let env = vec![
        ("SLIPWAY_GITHUB_TOKEN".to_string(), TOKEN.to_string()),
        ("SLIPWAY_GITHUB_API_URL".to_string(), github.url()),
        (
            "SLIPWAY_TERRAFORM".to_string(),
            stand_in.display().to_string(),
        ),
        ("SLIPWAY_ASSUME_ROLES".to_string(), "0".to_string()),
        // Each pull request's plans never end: one job slot per pull request.
        ("SLIPWAY_WORKERS".to_string(), "8".to_string()),
    ];
    let service = Service::serve(&tmp.path().join("data"), &env);
    let mut runs = Vec::new();
    for pr in 1..=5u64 {
        let head = origin.push(
            pr,
            &[(
                "live/root.hcl",
                "",
                &format!(
                    "{}\n# change {pr}\n",
                    std::fs::read_to_string(root.join("live/root.hcl")).unwrap_or_default()
                ),
            )],
        );
        let mut spec = PullSpec::new(pr, &head);
        spec.base_sha = origin.base.clone();
        github.add_pull("acme/infra", spec);
        let t = Instant::now();
        let (status, _) = service.deliver(
            "pull_request",
            &pull_request_payload(
                "opened",
                "acme/infra",
                &origin.url(),
                pr,
                &head,
                "main",
                &origin.base,
                false,
            ),
        );
        assert_eq!(status, 202);
        let units = github
            .wait_for(Duration::from_secs(60), |s| {
                s.comments_on("acme/infra", pr)
                    .first()
                    .map(|c| c.body.matches("⏳ planning").count())
            })
            .unwrap_or_else(|| panic!("no first comment:\n{}", service.log()));
        runs.push((t.elapsed(), units));
    }
    let best = runs.iter().map(|r| r.0).min().unwrap_or_default();
    let worst = runs.iter().map(|r| r.0).max().unwrap_or_default();
    println!(
        "first comment: {} units listed as planning; delivery -> first comment best {:.0} ms, worst {:.0} ms over {} pull requests (the first one fetches the mirror)",
        runs[0].1,
        best.as_secs_f64() * 1e3,
        worst.as_secs_f64() * 1e3,
        runs.len()
    );
}

/// `slipway serve`'s resident memory after it started and served a few health checks.
fn idle_rss() {
    let _ = slipway_bin();
    let github = FakeGithub::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let env = vec![
        ("SLIPWAY_GITHUB_TOKEN".to_string(), TOKEN.to_string()),
        ("SLIPWAY_GITHUB_API_URL".to_string(), github.url()),
    ];
    let service = Service::serve(&tmp.path().join("data"), &env);
    for _ in 0..10 {
        assert_eq!(service.get("/readyz").0, 200);
    }
    std::thread::sleep(Duration::from_secs(3));
    let pid = service.pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap_or("VmRSS: ?")
        .to_string();
    println!("idle slipway serve ({}): {rss}", slipway_bin().display());
}
