//! `slipway plan` end to end: a real git repository, real terraform with the null provider.

use slipway_tests::{terraform, terraform_env, TempRepo};
use webhook::cmd::plan::{review, PlanArgs};
use webhook::cmd::ChangeArgs;
use webhook::comment::{render, Outcome};

fn plan(repo: &TempRepo, base: &str) -> (String, webhook::comment::Review, bool) {
    std::env::set_var("SLIPWAY_TERRAFORM", terraform());
    let args = PlanArgs {
        change: ChangeArgs {
            repo: repo.path().to_path_buf(),
            base: base.to_string(),
            head: "HEAD".to_string(),
        },
        work_dir: None,
    };
    let (review, failed) = review(&args, terraform_env()).expect("review");
    (render(&review), review, failed)
}

#[test]
fn changing_a_unit_posts_its_real_plan() {
    let repo = TempRepo::example();
    let base = repo.commit("nothing");
    repo.edit(
        "live/accounts/dev/us-east-1/app/terragrunt.hcl",
        "\"v1.4.0\"",
        "\"v1.5.0\"",
    );
    repo.commit("dev: new image");
    let (comment, review, failed) = plan(&repo, &base);
    assert!(!failed, "{comment}");
    assert_eq!(
        review.units.len(),
        1,
        "only the edited unit is planned: {comment}"
    );
    assert!(matches!(review.units[0].outcome, Outcome::Planned(_)));
    assert!(
        comment.contains("live/accounts/dev/us-east-1/app"),
        "{comment}"
    );
    assert!(
        comment.contains("+ null_resource.task[0] will be created"),
        "{comment}"
    );
    assert!(
        comment.contains(r#"triggers.image_tag = "v1.5.0""#),
        "{comment}"
    );
    // Dependency outputs come from mock_outputs during plan.
    assert!(
        comment.contains(r#"triggers.database = "db.mock.internal:3306""#),
        "{comment}"
    );
    assert!(
        comment.contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{comment}"
    );
}

#[test]
fn a_change_outside_every_unit_plans_nothing() {
    let repo = TempRepo::example();
    let base = repo.commit("nothing");
    repo.write("docs/notes.md", "# notes\n");
    repo.commit("docs");
    let (comment, review, failed) = plan(&repo, &base);
    assert!(!failed);
    assert!(review.units.is_empty());
    assert!(
        comment.contains("No Terragrunt unit is affected"),
        "{comment}"
    );
}

#[test]
fn a_unit_terraform_rejects_is_reported_and_the_others_still_plan() {
    let repo = TempRepo::example();
    let base = repo.commit("nothing");
    // Break prod's app module input (a string where a number is required)...
    repo.edit(
        "live/accounts/prod/us-east-1/app/terragrunt.hcl",
        "replicas          = include.root.locals.env.locals.replicas",
        "replicas          = \"three\"",
    );
    // ...and make a good change in dev.
    repo.edit(
        "live/accounts/dev/us-east-1/app/terragrunt.hcl",
        "\"v1.4.0\"",
        "\"v1.5.0\"",
    );
    repo.commit("two changes");
    let (comment, review, failed) = plan(&repo, &base);
    assert!(failed);
    let by_path = |p: &str| {
        review
            .units
            .iter()
            .find(|u| u.path == p)
            .unwrap_or_else(|| panic!("{p} missing from {comment}"))
    };
    assert!(matches!(
        by_path("live/accounts/prod/us-east-1/app").outcome,
        Outcome::Failed(_)
    ));
    assert!(matches!(
        by_path("live/accounts/dev/us-east-1/app").outcome,
        Outcome::Planned(_)
    ));
    assert!(comment.contains("terraform plan failed"), "{comment}");
}
