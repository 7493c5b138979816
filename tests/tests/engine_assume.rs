//! A role that cannot be assumed fails its unit with a clear error, and only its unit: moto with
//! IAM authentication on, Slipway's identity a user allowed nothing but reads.

mod engine_support;

use agent::engine::RunError;
use engine_support::*;
use slipway_tests::moto::Moto;
use slipway_tests::TempRepo;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_assume_role_fails_that_unit_only_and_names_role_and_unit() {
    let moto = Moto::start();
    let keys = moto.enable_iam_with_powerless_user();
    let repo = TempRepo::example();
    // A sandbox environment with no roles: its units run without AWS credentials.
    repo.write(
        "live/accounts/sandbox/env.hcl",
        &repo
            .read("live/accounts/dev/env.hcl")
            .replace("\"dev\"", "\"sandbox\""),
    );
    repo.write(
        "live/accounts/sandbox/account.hcl",
        "locals {\n  account_name = \"sandbox\"\n  account_id   = \"444444444444\"\n}\n",
    );
    repo.write(
        "live/accounts/sandbox/us-east-1/region.hcl",
        &repo.read("live/accounts/dev/us-east-1/region.hcl"),
    );
    repo.write(
        "live/accounts/sandbox/us-east-1/database/terragrunt.hcl",
        &repo.read("live/accounts/dev/us-east-1/database/terragrunt.hcl"),
    );
    let toml = repo.read("slipway.toml");
    repo.write(
        "slipway.toml",
        &toml.replace(
            "[environments.prod]",
            "[environments.sandbox]\npath = \"live/accounts/sandbox\"\n\n[environments.prod]",
        ),
    );
    repo.commit("sandbox");

    let work = tempfile::tempdir().unwrap();
    let (runner, _store, _events) = runner(moto_settings(work.path(), &moto, Some(keys))).await;
    let units = [
        "live/accounts/prod/us-east-1/app",
        "live/accounts/dev/us-east-1/database",
        "live/accounts/sandbox/us-east-1/database",
    ]
    .map(String::from);
    let results = runner.plan_all(workspace(&repo), &units).await;

    let err = results[0].1.as_ref().unwrap_err();
    assert!(matches!(err, RunError::Assume(_)), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with(
            "cannot assume arn:aws:iam::333333333333:role/slipway-plan for live/accounts/prod/us-east-1/app: AccessDenied"
        ),
        "{text}"
    );
    assert!(
        text.contains("not authorized to perform: sts:AssumeRole"),
        "{text}"
    );
    let err = results[1].1.as_ref().unwrap_err().to_string();
    assert!(
        err.starts_with(
            "cannot assume arn:aws:iam::111111111111:role/slipway-plan for live/accounts/dev/us-east-1/database: AccessDenied"
        ),
        "{err}"
    );
    let sandbox = results[2].1.as_ref().unwrap();
    assert!(sandbox.identity.is_none());
    assert!(
        sandbox
            .notes
            .iter()
            .any(|n| n.contains("no plan role is configured")),
        "{:?}",
        sandbox.notes
    );
}

#[test]
fn roles_come_from_account_hcl_when_slipway_toml_names_none() {
    let repo = TempRepo::example();
    let toml: String = repo
        .read("slipway.toml")
        .lines()
        .filter(|l| !l.starts_with("plan_role") && !l.starts_with("apply_role"))
        .map(|l| format!("{l}\n"))
        .collect();
    repo.write("slipway.toml", &toml);
    repo.write(
        "live/accounts/prod/account.hcl",
        r#"locals {
  account_name   = "prod"
  account_id     = "333333333333"
  plan_role_arn  = "arn:aws:iam::333333333333:role/from-account-hcl-plan"
  apply_role_arn = "arn:aws:iam::333333333333:role/from-account-hcl-apply"
}
"#,
    );
    repo.commit("roles in account.hcl");
    let ws = workspace(&repo);
    let prod = &ws.units["live/accounts/prod/us-east-1/app"];
    let role = |u, a| agent::aws::role_for(&ws.config, &ws.snapshot, u, a).map(|r| r.arn);
    use agent::aws::Action::{Apply, Plan};
    assert_eq!(
        role(prod, Plan).as_deref(),
        Some("arn:aws:iam::333333333333:role/from-account-hcl-plan")
    );
    assert_eq!(
        role(prod, Apply).as_deref(),
        Some("arn:aws:iam::333333333333:role/from-account-hcl-apply")
    );
    // dev's account.hcl names no role, and neither does slipway.toml any more.
    assert_eq!(
        role(&ws.units["live/accounts/dev/us-east-1/app"], Plan),
        None
    );
}
