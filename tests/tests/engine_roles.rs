//! Runs under each account's assumed role, for real: terraform 1.0.3 keeps state in S3 and
//! locks it in DynamoDB, served by moto. A lock table exists only in the account that made it,
//! so a unit can only plan and apply (both take the lock) when the credentials its terraform
//! process was given belong to its own account, and the state digest terraform leaves in the
//! table after an apply shows which account it wrote as.

mod engine_support;

use agent::artifacts::ArtifactStore;
use agent::engine::{PlanSource, RunError, RunEvent};
use engine_support::*;
use slipway_tests::moto::Moto;
use slipway_tests::TempRepo;

const DEV_PLAN: &str = "arn:aws:iam::111111111111:role/slipway-plan";
const PROD_PLAN: &str = "arn:aws:iam::333333333333:role/slipway-plan";
const DEV_ADMIN: &str = "arn:aws:iam::111111111111:role/admin";
const PROD_ADMIN: &str = "arn:aws:iam::333333333333:role/admin";

/// dev (account 111111111111) and prod (333333333333), each with a network unit and an app
/// unit depending on it, state in `slipway-state-<env>` of the environment's own account.
fn two_account_repo(moto: &Moto) -> TempRepo {
    let repo = TempRepo::new();
    slipway_tests::moto::two_account_tree(&repo, &moto.endpoint());
    for env in ["dev", "prod"] {
        repo.write(
            &format!("live/{env}/app/terragrunt.hcl"),
            r#"include "root" {
  path = find_in_parent_folders()
}

terraform {
  source = "../../../modules//app"
}

dependency "network" {
  config_path = "../network"
  mock_outputs = {
    vpc_id = "vpc-mock"
  }
  mock_outputs_allowed_terraform_commands = ["plan"]
}

inputs = {
  vpc_id = dependency.network.outputs.vpc_id
}
"#,
        );
    }
    let provider = slipway_tests::NULL_PROVIDER_TF;
    repo.write(
        "modules/app/main.tf",
        &format!(
            r#"{provider}
variable "vpc_id" {{
  type = string
}}

resource "null_resource" "app" {{
  triggers = {{
    vpc_id = var.vpc_id
  }}
}}
"#
        ),
    );
    repo.commit("two accounts");
    repo
}

fn buckets(moto: &Moto) {
    moto.create_state_bucket(DEV_ADMIN, "slipway-state-dev");
    moto.create_state_bucket(PROD_ADMIN, "slipway-state-prod");
}

const DEV_NET: &str = "live/dev/network";
const DEV_APP: &str = "live/dev/app";
const PROD_NET: &str = "live/prod/network";
const PROD_APP: &str = "live/prod/app";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_unit_plans_as_its_own_accounts_plan_role() {
    let moto = Moto::start();
    buckets(&moto);
    let repo = two_account_repo(&moto);
    // A prod unit pointed at dev's state and lock table: it can only work as dev.
    repo.write(
        "live/prod/misplaced/terragrunt.hcl",
        &format!(
            "{}\nremote_state {{\n  backend = \"s3\"\n  config = {{\n    bucket = \"slipway-state-dev\"\n    key = \"misplaced.tfstate\"\n    region = \"us-east-1\"\n    dynamodb_table = \"slipway-state-dev-lock\"\n    endpoint = \"{ep}\"\n    sts_endpoint = \"{ep}\"\n    dynamodb_endpoint = \"{ep}\"\n    force_path_style = true\n    skip_credentials_validation = true\n    skip_metadata_api_check = true\n    skip_region_validation = true\n  }}\n}}\n",
            repo.read("live/prod/network/terragrunt.hcl"),
            ep = moto.endpoint()
        ),
    );
    repo.commit("misplaced unit");
    let work = tempfile::tempdir().unwrap();
    let record = work.path().join("invocations");
    let mut s = moto_settings(work.path(), &moto, None);
    s.terraform = recording_terraform(work.path(), &record);
    let (runner, _store, mut events) = runner(s).await;
    let ws = workspace(&repo);

    let units: Vec<String> = [DEV_NET, DEV_APP, PROD_NET, PROD_APP, "live/prod/misplaced"]
        .map(String::from)
        .to_vec();
    let results = runner.plan_all(ws, &units).await;
    let by_unit = |u: &str| &results.iter().find(|(p, _)| p == u).unwrap().1;
    for u in [DEV_NET, DEV_APP, PROD_NET, PROD_APP] {
        assert!(
            by_unit(u).is_ok(),
            "{u}: {:?}\n{}",
            by_unit(u),
            moto.log_text()
        );
    }

    // What terraform itself was given, asked back of STS.
    let calls = invocations(&record);
    let seen_by = |workdir_part: &str| {
        let call = calls
            .iter()
            .find(|c| c.dir.contains(workdir_part) && c.command == "plan")
            .unwrap_or_else(|| panic!("no plan in {workdir_part}: {calls:?}"));
        moto.caller_arn(&call.key_id, &call.secret, Some(&call.token))
    };
    let session = "slipway-example-org.infra-pr7";
    assert_eq!(
        seen_by("live_dev_network"),
        format!("arn:aws:sts::111111111111:assumed-role/slipway-plan/{session}")
    );
    assert_eq!(
        seen_by("live_prod_app"),
        format!("arn:aws:sts::333333333333:assumed-role/slipway-plan/{session}")
    );
    let outcome = by_unit(PROD_NET).as_ref().unwrap();
    assert_eq!(
        outcome.identity.as_deref(),
        Some(format!("arn:aws:sts::333333333333:assumed-role/slipway-plan/{session}").as_str())
    );

    // The misplaced prod unit ran with prod's credentials, for which dev's lock table does
    // not exist: terraform could not lock the state.
    let err = by_unit("live/prod/misplaced")
        .as_ref()
        .unwrap_err()
        .to_string();
    assert!(err.contains("plan failed"), "{err}");
    assert!(err.contains("Error acquiring the state lock"), "{err}");
    assert!(err.contains("ResourceNotFoundException"), "{err}");

    // The credentials terraform printed never left the run unmasked.
    let events = drain(&mut events);
    let lines: Vec<&String> = events
        .iter()
        .filter_map(|e| match e {
            RunEvent::Line { line, .. } => Some(line),
            _ => None,
        })
        .collect();
    assert!(lines
        .iter()
        .any(|l| l.contains("debug: aws_secret_access_key=***")));
    for call in &calls {
        for secret in [&call.key_id, &call.secret, &call.token] {
            assert!(!secret.is_empty());
            assert!(
                !lines.iter().any(|l| l.contains(secret.as_str())),
                "a secret reached the event stream"
            );
            assert!(
                !outcome.log.contains(secret.as_str()),
                "a secret reached the log"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_writes_state_to_the_accounts_own_bucket_and_dependents_read_it() {
    let moto = Moto::start();
    buckets(&moto);
    let repo = two_account_repo(&moto);
    let work = tempfile::tempdir().unwrap();
    let (runner, store, _events) = runner(moto_settings(work.path(), &moto, None)).await;
    let ws = workspace(&repo);

    // The app cannot be applied before its network: mocks are allowed for plan only.
    let err = runner.apply(ws.clone(), DEV_APP, None).await.unwrap_err();
    assert!(matches!(err, RunError::Dependency { .. }), "{err}");
    assert!(err.to_string().contains("not allowed for apply"), "{err}");

    // Plan, then apply the stored plan under the apply role.
    let plan = runner.plan(ws.clone(), DEV_NET).await.unwrap();
    let applied = runner
        .apply(ws.clone(), DEV_NET, Some(&plan.manifest.plan_sha256))
        .await
        .unwrap();
    assert_eq!(
        applied.source,
        PlanSource::Stored {
            sha256: plan.manifest.plan_sha256.clone()
        }
    );
    assert!(applied
        .identity
        .as_deref()
        .unwrap()
        .starts_with("arn:aws:sts::111111111111:assumed-role/slipway-apply/"));

    // The state is in dev's bucket, and terraform recorded its digest in dev's own lock table,
    // which prod's account does not even have.
    let state = moto
        .read_object_as(
            DEV_PLAN,
            "slipway-state-dev",
            "dev/network/terraform.tfstate",
        )
        .unwrap();
    assert!(state.contains("vpc-dev-0001"), "{state}");
    assert_eq!(
        moto.lock_ids_as(DEV_PLAN, "slipway-state-dev-lock"),
        Ok(vec![
            "slipway-state-dev/dev/network/terraform.tfstate-md5".to_string()
        ])
    );
    assert_eq!(
        moto.lock_ids_as(PROD_PLAN, "slipway-state-dev-lock"),
        Err("ResourceNotFoundException".to_string())
    );
    assert_eq!(
        moto.lock_ids_as(PROD_PLAN, "slipway-state-prod-lock"),
        Ok(vec![])
    );

    // The dev app now plans with the network's real output, read from S3 as dev; prod's app,
    // whose network has no state yet, falls back to its mocks, and says so.
    let (dev_app, prod_app) = tokio::join!(
        runner.plan(ws.clone(), DEV_APP),
        runner.plan(ws.clone(), PROD_APP)
    );
    let dev_app = dev_app.unwrap();
    let json = String::from_utf8_lossy(&dev_app.plan_json);
    assert!(json.contains("vpc-dev-0001"), "{json}");
    assert!(!json.contains("vpc-mock"));
    assert!(dev_app.notes.iter().all(|n| !n.contains("mock_outputs")));
    let prod_app = prod_app.unwrap();
    assert!(String::from_utf8_lossy(&prod_app.plan_json).contains("vpc-mock"));
    assert!(
        prod_app
            .notes
            .iter()
            .any(|n| n.contains("using mock_outputs for plan")),
        "{:?}",
        prod_app.notes
    );

    // Every plan is stored under repo / PR / commit / unit.
    let stored = store.get(&ws.key(DEV_APP)).await.unwrap().unwrap();
    assert_eq!(stored.manifest.plan_sha256, dev_app.manifest.plan_sha256);
    assert_eq!(stored.manifest.commit, ws.commit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_can_be_kept_in_s3() {
    let moto = Moto::start();
    moto.boto3(r#"client("s3").create_bucket(Bucket="slipway-artifacts")"#);
    let settings = moto_settings(std::path::Path::new("/nonexistent"), &moto, None);
    let assumer = agent::aws::Assumer::new(settings.aws.clone()).await;
    let store = agent::artifacts::S3Store::new(
        assumer.s3(None, None, None, false),
        "slipway-artifacts",
        "plans",
    );
    let key = agent::artifacts::ArtifactKey {
        repo: REPO.into(),
        pr: Some(PR),
        commit: "0123456789abcdef".into(),
        unit: DEV_APP.into(),
    };
    assert!(store.get(&key).await.unwrap().is_none());
    let artifacts = agent::artifacts::PlanArtifacts {
        plan_file: b"binary plan".to_vec(),
        plan_json: b"{}".to_vec(),
        log: "Plan: 1 to add".into(),
    };
    let manifest = store.put(&key, &artifacts, "native").await.unwrap();
    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.manifest, manifest);
    assert!(stored.verify(&key, Some(&manifest.plan_sha256)).is_ok());
    // Where it landed, seen by an independent client.
    let listed = moto.boto3(
        r#"print("\n".join(o["Key"] for o in client("s3").list_objects_v2(Bucket="slipway-artifacts")["Contents"]))"#,
    );
    assert!(
        listed.contains("plans/example-org/infra/pr-7/0123456789abcdef/live/dev/app/plan.tfplan"),
        "{listed}"
    );
    assert!(listed.contains("/live/dev/app/manifest.json"), "{listed}");
}
