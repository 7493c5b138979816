//! The terragrunt engine end to end, with a stand-in `terragrunt` (there is no terragrunt binary
//! here) that records what it was run with: the commands, the directory (a checkout of the
//! planned commit) and the environment, credentials included, which STS then identifies.

mod engine_support;

use agent::artifacts::ArtifactStore;
use agent::engine::{EngineKind, PlanSource};
use engine_support::*;
use slipway_tests::moto::Moto;
use slipway_tests::TempRepo;

const APP: &str = "live/accounts/prod/us-east-1/app";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terragrunt_runs_in_a_checkout_with_the_units_credentials() {
    let moto = Moto::start();
    let repo = TempRepo::example();
    let work = tempfile::tempdir().unwrap();
    let record = work.path().join("calls");
    let terragrunt = script(
        work.path(),
        "terragrunt",
        &format!(
            r#"echo "$(pwd)|$*|$TERRAGRUNT_TFPATH|$TG_NO_AUTO_INIT|$TF_PLUGIN_CACHE_DIR|$AWS_ACCESS_KEY_ID|$AWS_SECRET_ACCESS_KEY|$AWS_SESSION_TOKEN" >> "{}"
case "$1" in
  plan) for a in "$@"; do case "$a" in -out=*) echo "plan by terragrunt" > "${{a#-out=}}";; esac; done ;;
  show) echo '{{"format_version":"0.2","terraform_version":"1.0.3"}}' ;;
esac
"#,
            record.display()
        ),
    );
    let mut s = moto_settings(work.path(), &moto, None);
    s.kind = EngineKind::Terragrunt;
    s.terragrunt = terragrunt;
    s.terraform = "/opt/tofu/bin/tofu".into();
    let (runner, store, _events) = runner(s).await;
    let ws = workspace(&repo);

    let plan = runner.plan(ws.clone(), APP).await.unwrap();
    assert_eq!(plan.manifest.engine, "terragrunt");
    let stored = store.get(&ws.key(APP)).await.unwrap().unwrap();
    assert_eq!(stored.artifacts.plan_file, b"plan by terragrunt\n");
    let applied = runner.apply(ws.clone(), APP, None).await.unwrap();
    assert!(matches!(applied.source, PlanSource::Stored { .. }));

    let calls: Vec<Vec<String>> = std::fs::read_to_string(&record)
        .unwrap()
        .lines()
        .map(|l| l.split('|').map(String::from).collect())
        .collect();
    let commands: Vec<&str> = calls.iter().map(|c| c[1].as_str()).collect();
    let plan_file = work
        .path()
        .join("live_accounts_prod_us-east-1_app/tfplan")
        .display()
        .to_string();
    assert_eq!(
        commands,
        [
            "init -input=false -no-color".to_string(),
            format!("plan -input=false -no-color -lock-timeout=60s -out={plan_file}"),
            format!("show -json -no-color {plan_file}"),
            "init -input=false -no-color".to_string(),
            format!("apply -input=false -no-color -lock-timeout=60s {plan_file}"),
        ]
    );
    let checkout = work.path().join(".checkout").join(&ws.commit).join(APP);
    for c in &calls {
        assert_eq!(c[0], checkout.display().to_string());
        assert_eq!(c[2], "/opt/tofu/bin/tofu");
        assert_eq!(
            c[4],
            work.path().join(".plugin-cache").display().to_string()
        );
    }
    assert!(checkout.join("terragrunt.hcl").is_file());
    // init may initialise; the other commands must not do it again outside the cache lock.
    assert_eq!(calls[0][3], "");
    assert_eq!(calls[1][3], "true");
    // Plan as prod's plan role, apply as prod's apply role.
    let arn = |c: &Vec<String>| moto.caller_arn(&c[5], &c[6], Some(&c[7]));
    assert!(arn(&calls[1]).starts_with("arn:aws:sts::333333333333:assumed-role/slipway-plan/"));
    assert!(arn(&calls[4]).starts_with("arn:aws:sts::333333333333:assumed-role/slipway-apply/"));
}
