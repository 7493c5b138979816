//! The pull-request comment for a realistic prod change, as reviewers see it.

use rules::config::PolicyConfig;
use rules::plan::Plan;
use webhook::comment::{render, Outcome, Review, UnitReview};

const PROD_DATABASE_PLAN: &str = r#"{
  "format_version": "1.2",
  "terraform_version": "1.5.7",
  "resource_changes": [
    {
      "address": "module.db.aws_db_instance.this",
      "module_address": "module.db",
      "mode": "managed", "type": "aws_db_instance", "name": "this",
      "provider_name": "registry.terraform.io/hashicorp/aws",
      "change": {
        "actions": ["update"],
        "before": {"engine": "mysql", "instance_class": "db.t3.medium", "allocated_storage": 20,
                   "storage_type": "gp3", "multi_az": true, "storage_encrypted": true,
                   "publicly_accessible": false, "deletion_protection": true,
                   "backup_retention_period": 30, "password": "hunter2",
                   "tags_all": {"Project": "sarc-ng", "Environment": "prod", "CostCenter": "engineering",
                                "Owner": "platform-team", "ManagedBy": "terraform"}},
        "after": {"engine": "mysql", "instance_class": "db.r5.large", "allocated_storage": 20,
                  "storage_type": "gp3", "multi_az": true, "storage_encrypted": true,
                  "publicly_accessible": false, "deletion_protection": true,
                  "backup_retention_period": 7, "password": "hunter3",
                  "tags_all": {"Project": "sarc-ng", "Environment": "prod", "CostCenter": "engineering",
                               "Owner": "platform-team", "ManagedBy": "terraform"}},
        "after_unknown": {},
        "before_sensitive": {"password": true},
        "after_sensitive": {"password": true}
      }
    }
  ],
  "configuration": {"provider_config": {"aws": {"name": "aws", "expressions": {"region": {"constant_value": "us-east-1"}}}}}
}"#;

#[test]
fn a_prod_database_resize_shows_diff_cost_and_the_blocking_backup_finding() {
    let plan = Plan::parse(PROD_DATABASE_PLAN.as_bytes()).expect("plan parses");
    let policy = PolicyConfig::from_slipway_toml(
        "[policy]\nrequired_tags = [\"Project\", \"Environment\", \"CostCenter\", \"Owner\", \"ManagedBy\"]\n",
    )
    .expect("policy");
    let report = rules::evaluate(
        &plan,
        &rules::Context {
            env: "prod",
            region: Some("us-east-1"),
            policy: &policy,
        },
    );
    let review = Review {
        head: "4f1c2d3e5a6b7c8d9e0f".into(),
        base: "0a1b2c3d4e5f60718293".into(),
        errors: vec![],
        settings: None,
        locked_by: Default::default(),
        why: None,
        units: vec![UnitReview {
            path: "live/accounts/prod/us-east-1/database".into(),
            env: Some("prod".into()),
            reasons: vec!["live/accounts/prod/us-east-1/database/terragrunt.hcl changed".into()],
            outcome: Outcome::Planned(Box::new(plan)),
            report: Some(report),
            sources: Vec::new(),
            dependencies: Vec::new(),
        }],
    };
    let comment = render(&review);
    assert!(
        !comment.contains("hunter"),
        "a sensitive value leaked:\n{comment}"
    );
    insta::assert_snapshot!(comment);
}

fn review_of(plan_json: &[u8], env: &str) -> String {
    let plan = Plan::parse(plan_json).expect("plan parses");
    let policy = PolicyConfig::default();
    let report = rules::evaluate(
        &plan,
        &rules::Context {
            env,
            region: Some("us-east-1"),
            policy: &policy,
        },
    );
    render(&Review {
        head: "4f1c2d3e5a6b7c8d9e0f".into(),
        base: "0a1b2c3d4e5f60718293".into(),
        errors: vec![],
        settings: None,
        locked_by: Default::default(),
        why: None,
        units: vec![UnitReview {
            path: format!("live/accounts/{env}/us-east-1/app"),
            env: Some(env.into()),
            reasons: vec![format!(
                "live/accounts/{env}/us-east-1/app/terragrunt.hcl changed"
            )],
            outcome: Outcome::Planned(Box::new(plan)),
            report: Some(report),
            sources: Vec::new(),
            dependencies: Vec::new(),
        }],
    })
}

fn issue11(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../rules/tests/fixtures/issue11/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn a_failed_plan_is_shown_as_failed_and_blocking_never_as_no_changes() {
    let comment = review_of(&issue11("errored-1.2.json"), "dev");
    assert!(!comment.contains("No changes"), "{comment}");
    assert!(comment.contains("plan failed"), "{comment}");
    insta::assert_snapshot!(comment);
}

#[test]
fn a_plan_with_a_failing_check_shows_the_check_with_its_message() {
    let comment = review_of(&issue11("checks-1.2.json"), "prod");
    assert!(comment.contains("check.health"), "{comment}");
    insta::assert_snapshot!(comment);
}
