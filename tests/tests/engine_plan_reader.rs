//! Slipway reads plan files itself instead of running `terraform show -json` per unit: the plan
//! a reviewer sees is the same either way (real terraform, the example repository), and a plan
//! the reader cannot be sure of is read by terraform instead.

mod engine_support;

use agent::engine::PlanReader;
use engine_support::*;
use rules::plan::Plan;
use slipway_tests::TempRepo;

const UNITS: [&str; 2] = [
    "live/accounts/dev/us-east-1/database",
    "live/accounts/dev/us-east-1/app",
];
const FALLBACK_NOTE: &str = "reading the plan with `terraform show -json`";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_slipway_reads_is_the_plan_terraform_shows() {
    let repo = TempRepo::example();
    let ws = workspace(&repo);
    let native_work = tempfile::tempdir().unwrap();
    let (native, _, _) = runner(settings(native_work.path())).await;
    let shown_work = tempfile::tempdir().unwrap();
    let mut s = settings(shown_work.path());
    s.plan_reader = PlanReader::Terraform;
    let (shown, _, _) = runner(s).await;
    for unit in UNITS {
        let a = native.plan(ws.clone(), unit).await.unwrap();
        let b = shown.plan(ws.clone(), unit).await.unwrap();
        assert!(!a.log.contains(FALLBACK_NOTE), "{}", a.log);
        let read = Plan::parse(&a.plan_json).unwrap();
        let by_terraform = Plan::parse(&b.plan_json).unwrap();
        assert!(!read.resource_changes.is_empty(), "{unit}: nothing planned");
        assert_eq!(read, by_terraform, "{unit}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_the_reader_cannot_be_sure_of_is_read_by_terraform_and_says_so() {
    let repo = TempRepo::new();
    repo.write("slipway.toml", "live_dir = \"live\"\n");
    repo.write("live/app/terragrunt.hcl", "inputs = {}\n");
    // A number a float64 cannot hold exactly: the reader refuses to round it.
    repo.write(
        "live/app/main.tf",
        &[
            slipway_tests::NULL_PROVIDER_TF,
            r#"
resource "null_resource" "a" {}

output "big" {
  value = 123456789012345678901234567890
}
"#,
        ]
        .concat(),
    );
    repo.commit("an output too big for a float");
    let work = tempfile::tempdir().unwrap();
    let (runner, _, _) = runner(settings(work.path())).await;
    let plan = runner.plan(workspace(&repo), "live/app").await.unwrap();
    let why = plan
        .log
        .lines()
        .find(|l| l.contains(FALLBACK_NOTE))
        .unwrap_or_else(|| panic!("no fallback line in the log:\n{}", plan.log));
    assert!(why.contains("float64"), "{why}");
    // The value stays out of the reason: an output may be sensitive.
    assert!(!why.contains("1234567890"), "{why}");
    let json = String::from_utf8_lossy(&plan.plan_json);
    assert!(json.contains("123456789012345678901234567890"), "{json}");
    let parsed = Plan::parse(&plan.plan_json).unwrap();
    assert_eq!(parsed.resource_changes.len(), 1);
}
