//! The plan a reviewer saw is the plan that gets applied, or the apply re-plans and says why:
//! real terraform on the example repository (local backend), plans kept in the directory store.

mod engine_support;

use agent::artifacts::{ArtifactStore, Refusal, PLAN_FILE};
use agent::engine::{PlanSource, RunError};
use engine_support::*;
use slipway_tests::TempRepo;

const DB: &str = "live/accounts/dev/us-east-1/database";
const APP: &str = "live/accounts/dev/us-east-1/app";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reviewed_plan_is_applied_and_its_outputs_feed_the_next_plan() {
    let repo = TempRepo::example();
    let work = tempfile::tempdir().unwrap();
    let (runner, store, _events) = runner(settings(work.path())).await;
    let ws = workspace(&repo);

    // Before the database exists, the app plans with the mock endpoint, and says so.
    let app = runner.plan(ws.clone(), APP).await.unwrap();
    assert!(String::from_utf8_lossy(&app.plan_json).contains("db.mock.internal:3306"));
    assert!(app.notes.iter().any(|n| n.contains("using mock_outputs")));

    let plan = runner.plan(ws.clone(), DB).await.unwrap();
    let stored = store.get(&ws.key(DB)).await.unwrap().unwrap();
    assert_eq!(stored.manifest.plan_sha256, plan.manifest.plan_sha256);
    assert_eq!(stored.artifacts.plan_json, plan.plan_json);
    assert!(stored.artifacts.log.contains("Plan: 1 to add"));

    let applied = runner
        .apply(ws.clone(), DB, Some(&plan.manifest.plan_sha256))
        .await
        .unwrap();
    assert_eq!(
        applied.source,
        PlanSource::Stored {
            sha256: plan.manifest.plan_sha256.clone()
        }
    );
    assert!(applied.log.contains("Apply complete! Resources: 1 added"));
    let state = repo.read(".state/accounts/dev/us-east-1/database/terraform.tfstate");
    assert!(state.contains("db-dev.internal:3306"), "{state}");

    // Now the app reads the database's real output from its state, not the mock.
    let app = runner.plan(ws.clone(), APP).await.unwrap();
    let json = String::from_utf8_lossy(&app.plan_json);
    assert!(json.contains("db-dev.internal:3306"), "{json}");
    assert!(!json.contains("db.mock.internal"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_or_unreviewed_plan_is_not_applied_and_the_apply_says_why() {
    let repo = TempRepo::example();
    let work = tempfile::tempdir().unwrap();
    let (runner, store, _events) = runner(settings(work.path())).await;
    let ws = workspace(&repo);

    let plan = runner.plan(ws.clone(), DB).await.unwrap();
    // Someone swaps the stored plan file.
    let file = store.dir_of(&ws.key(DB)).unwrap().join(PLAN_FILE);
    std::fs::write(&file, b"not the reviewed plan").unwrap();
    let applied = runner.apply(ws.clone(), DB, None).await.unwrap();
    match &applied.source {
        PlanSource::Replanned {
            reason: Refusal::Corrupt { manifest, .. },
            sha256,
        } => {
            assert_eq!(manifest, &plan.manifest.plan_sha256);
            // The fresh plan replaced the bad one in the store, and is the one applied.
            let stored = store.get(&ws.key(DB)).await.unwrap().unwrap();
            assert_eq!(&stored.manifest.plan_sha256, sha256);
            assert_eq!(stored.applied_sha256.as_ref(), Some(sha256));
        }
        other => panic!("expected a re-plan for a corrupt plan, got {other:?}"),
    }
    assert!(
        applied
            .log
            .contains("re-planning before apply: the stored plan file does not match its checksum"),
        "{}",
        applied.log
    );

    // A plan other than the one the reviewer was shown is not applied either.
    let applied = runner
        .apply(ws.clone(), DB, Some("0000000000000000"))
        .await
        .unwrap();
    assert!(
        matches!(
            applied.source,
            PlanSource::Replanned {
                reason: Refusal::NotReviewed { .. },
                ..
            }
        ),
        "{:?}",
        applied.source
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_of_another_commit_is_not_applied() {
    let repo = TempRepo::example();
    let work = tempfile::tempdir().unwrap();
    let (runner, _store, _events) = runner(settings(work.path())).await;
    let old = workspace(&repo);
    runner.plan(old.clone(), DB).await.unwrap();

    repo.edit(
        "live/accounts/dev/env.hcl",
        "storage_gb     = 20",
        "storage_gb     = 40",
    );
    repo.commit("more storage");
    let new = workspace(&repo);
    let applied = runner.apply(new.clone(), DB, None).await.unwrap();
    match &applied.source {
        PlanSource::Replanned { reason, .. } => assert_eq!(
            reason,
            &Refusal::Missing {
                unit: DB.into(),
                commit: new.commit.clone(),
            }
        ),
        other => panic!("expected a re-plan, got {other:?}"),
    }
    assert!(applied.log.contains(&format!(
        "re-planning before apply: no stored plan for {DB} at commit {}",
        new.commit
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_plan_is_applied_once() {
    let repo = TempRepo::example();
    let work = tempfile::tempdir().unwrap();
    let (runner, _store, _events) = runner(settings(work.path())).await;
    let ws = workspace(&repo);
    runner.plan(ws.clone(), DB).await.unwrap();
    runner.apply(ws.clone(), DB, None).await.unwrap();
    // Terraform cannot see that a plan made against no state was applied already (it has no
    // lineage to compare); Slipway re-plans instead, and the fresh plan changes nothing.
    let again = runner.apply(ws.clone(), DB, None).await.unwrap();
    assert!(
        matches!(
            again.source,
            PlanSource::Replanned {
                reason: Refusal::AlreadyApplied { .. },
                ..
            }
        ),
        "{:?}",
        again.source
    );
    assert!(
        again
            .log
            .contains("Apply complete! Resources: 0 added, 0 changed, 0 destroyed."),
        "{}",
        again.log
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terraform_still_refuses_a_stale_plan() {
    let repo = TempRepo::example();
    let work = tempfile::tempdir().unwrap();
    let (runner, _store, _events) = runner(settings(work.path())).await;
    let first = workspace(&repo);
    runner.plan(first.clone(), DB).await.unwrap();
    runner.apply(first, DB, None).await.unwrap();

    // Two changes in flight: the first is planned, the second planned and applied after it.
    let env = "live/accounts/dev/env.hcl";
    repo.edit(env, "storage_gb     = 20", "storage_gb     = 40");
    repo.commit("more storage");
    let second = workspace(&repo);
    let reviewed = runner.plan(second.clone(), DB).await.unwrap();
    repo.edit(env, "storage_gb     = 40", "storage_gb     = 60");
    repo.commit("even more storage");
    let third = workspace(&repo);
    runner.plan(third.clone(), DB).await.unwrap();
    runner.apply(third, DB, None).await.unwrap();

    // The first change's plan still verifies (its commit, unit and checksum), but the state
    // moved on since it was made: terraform refuses it, and nothing is applied.
    let err = runner
        .apply(second, DB, Some(&reviewed.manifest.plan_sha256))
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::StalePlan { .. }), "{err}");
    assert!(err.to_string().contains("Saved plan is stale"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_all_applies_dependencies_first_and_skips_dependents_of_a_failure() {
    let repo = TempRepo::example();
    // prod's database cannot apply (a string where a number is needed).
    repo.edit(
        "live/accounts/prod/us-east-1/database/terragrunt.hcl",
        "storage_gb     = include.root.locals.env.locals.storage_gb",
        "storage_gb     = \"lots\"",
    );
    repo.commit("broken prod database");
    let work = tempfile::tempdir().unwrap();
    let (runner, _store, _events) = runner(settings(work.path())).await;
    let ws = workspace(&repo);
    let units = [
        APP,
        DB,
        "live/accounts/prod/us-east-1/app",
        "live/accounts/prod/us-east-1/database",
    ]
    .map(String::from);
    let results = runner.apply_all(ws, &units).await;

    // dev: the database first, so the app got its real endpoint.
    let app = results[0].1.as_ref().unwrap();
    assert!(app.log.contains("db-dev.internal:3306"), "{}", app.log);
    assert!(results[1].1.is_ok());
    // prod: the database failed, so its app never ran.
    assert!(matches!(results[3].1, Err(RunError::Terraform { .. })));
    match &results[2].1 {
        Err(RunError::DependencyFailed { dependency, .. }) => {
            assert_eq!(dependency, "live/accounts/prod/us-east-1/database")
        }
        other => panic!("{other:?}"),
    }
}
