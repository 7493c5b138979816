//! The real-world shape: the layout of gruntwork's terragrunt-infrastructure-live-example
//! (`tests/fixtures/live-example`), with local modules so that Slipway follows them. What every
//! unit reads, and which units a change to `_envcommon`, `account.hcl` or `region.hcl` affects.

use agent::affected::{Reason, Status};
use agent::terragrunt::ReadKind;
use serde_json::json;
use slipway_tests::{config_json, copy_dir, unit, workspace_root, TempRepo};

const QA_MYSQL: &str = "non-prod/us-east-1/qa/mysql";
const QA_WEB: &str = "non-prod/us-east-1/qa/webserver-cluster";
const STAGE_MYSQL: &str = "non-prod/us-east-1/stage/mysql";
const STAGE_WEB: &str = "non-prod/us-east-1/stage/webserver-cluster";
const WEST_QA_MYSQL: &str = "non-prod/us-west-2/qa/mysql";
const PROD_MYSQL: &str = "prod/us-east-1/prod/mysql";
const PROD_WEB: &str = "prod/us-east-1/prod/webserver-cluster";

const ALL: [&str; 7] = [
    QA_MYSQL,
    QA_WEB,
    STAGE_MYSQL,
    STAGE_WEB,
    WEST_QA_MYSQL,
    PROD_MYSQL,
    PROD_WEB,
];

/// The example tree, committed. With `old_root`, the root configuration is the older
/// `terragrunt.hcl` found with `find_in_parent_folders()` instead of `root.hcl`.
fn live_example(old_root: bool) -> (TempRepo, String) {
    let r = TempRepo::new();
    copy_dir(
        &workspace_root().join("tests/fixtures/live-example"),
        r.path(),
    );
    if old_root {
        let root = r.read("root.hcl");
        r.remove("root.hcl");
        r.write("terragrunt.hcl", &root);
        let files: Vec<String> = ALL
            .iter()
            .map(|u| format!("{u}/terragrunt.hcl"))
            .chain([
                "_envcommon/mysql.hcl".into(),
                "_envcommon/webserver-cluster.hcl".into(),
            ])
            .collect();
        for f in files {
            let text = r.read(&f);
            r.write(
                &f,
                &text.replace(
                    "find_in_parent_folders(\"root.hcl\")",
                    "find_in_parent_folders()",
                ),
            );
        }
    }
    let base = r.commit("live example");
    let view = r.graph_at_head();
    assert!(
        view.inventory.errors.is_empty(),
        "the example must evaluate cleanly: {:#?}",
        view.inventory.errors
    );
    let mut units: Vec<&str> = view.inventory.units.keys().map(String::as_str).collect();
    units.sort();
    let mut expected = ALL.to_vec();
    expected.sort();
    assert_eq!(
        units, expected,
        "the root configuration is a parent, not a unit"
    );
    (r, base)
}

fn reads_of(r: &TempRepo, path: &str) -> Vec<(String, ReadKind)> {
    let view = r.graph_at_head();
    unit(&view, path)
        .reads()
        .iter()
        .map(|(p, (k, _))| (p.clone(), *k))
        .collect()
}

#[test]
fn a_mysql_unit_reads_root_envcommon_account_region_and_env_and_its_modules() {
    let (r, _) = live_example(false);
    assert_eq!(
        reads_of(&r, QA_MYSQL),
        [
            ("_envcommon/mysql.hcl".to_string(), ReadKind::Include),
            ("non-prod/account.hcl".to_string(), ReadKind::ReadConfig),
            (
                "non-prod/us-east-1/qa/env.hcl".to_string(),
                ReadKind::ReadConfig
            ),
            (
                "non-prod/us-east-1/region.hcl".to_string(),
                ReadKind::ReadConfig
            ),
            ("root.hcl".to_string(), ReadKind::Include),
        ]
    );
    let view = r.graph_at_head();
    let mysql = unit(&view, QA_MYSQL);
    assert_eq!(
        mysql.module_dirs.iter().collect::<Vec<_>>(),
        ["modules/mysql", "modules/security-group"]
    );
    assert!(mysql.remote_sources.is_empty());
}

#[test]
fn a_webserver_unit_follows_its_nested_module_and_records_the_registry_one() {
    let (r, _) = live_example(false);
    let view = r.graph_at_head();
    let web = unit(&view, STAGE_WEB);
    assert_eq!(
        web.module_dirs.iter().collect::<Vec<_>>(),
        ["modules/webserver-cluster", "modules/webserver-cluster/asg"]
    );
    assert_eq!(
        web.remote_sources.iter().collect::<Vec<_>>(),
        ["terraform-aws-modules/alb/aws"]
    );
    assert_eq!(web.dependencies, [STAGE_MYSQL]);
}

#[test]
fn every_unit_gets_env_account_and_region_from_the_env_account_and_region_files() {
    let (r, _) = live_example(false);
    let view = r.graph_at_head();
    for (path, env, account, region) in [
        (QA_MYSQL, "qa", "111111111111", "us-east-1"),
        (STAGE_WEB, "stage", "111111111111", "us-east-1"),
        (WEST_QA_MYSQL, "qa", "111111111111", "us-west-2"),
        (PROD_WEB, "prod", "333333333333", "us-east-1"),
    ] {
        let u = unit(&view, path);
        assert_eq!(u.env.as_deref(), Some(env), "{path}");
        assert_eq!(u.account_id.as_deref(), Some(account), "{path}");
        assert_eq!(u.region.as_deref(), Some(region), "{path}");
    }
}

#[test]
fn the_merged_configuration_matches_what_terragrunt_would_run() {
    std::env::remove_var("SLIPWAY_LIVE_EXAMPLE_BUCKET_PREFIX");
    let (r, _) = live_example(false);
    let view = r.graph_at_head();
    let cfg = config_json(unit(&view, PROD_MYSQL));
    assert_eq!(
        cfg["inputs"],
        json!({
            "account_name": "prod",
            "aws_account_id": "333333333333",
            "aws_region": "us-east-1",
            "environment": "prod",
            "name": "mysql_prod",
            "instance_class": "db.t3.large",
            "allocated_storage": 100,
            "storage_type": "standard",
            "master_username": "admin",
        })
    );
    assert_eq!(
        cfg["remote_state"]["config"]["key"],
        json!("prod/us-east-1/prod/mysql/tf.tfstate")
    );
    assert_eq!(
        cfg["remote_state"]["config"]["bucket"],
        json!("tf-state-prod-us-east-1")
    );
    assert!(cfg["generate"]["provider"]["contents"]
        .as_str()
        .is_some_and(|c| c.contains("allowed_account_ids = [\"333333333333\"]")));
    assert_eq!(
        cfg["terraform"]["source"],
        json!(format!("{}/modules//mysql", r.root()))
    );
    let web = config_json(unit(&view, QA_WEB));
    assert_eq!(web["inputs"]["db_endpoint"], json!("mysql.mock.internal"));
    assert_eq!(web["inputs"]["name"], json!("webserver-qa"));
}

#[test]
fn a_change_to_envcommon_mysql_affects_exactly_the_mysql_units() {
    let (r, base) = live_example(false);
    r.edit("_envcommon/mysql.hcl", "db.t3.micro", "db.t3.small");
    r.commit("mysql: bigger default instance");
    let change = r.affected_since(&base, false);
    let paths: Vec<&str> = change.units.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(paths, [QA_MYSQL, STAGE_MYSQL, WEST_QA_MYSQL, PROD_MYSQL]);
    for u in &change.units {
        assert_eq!(
            u.reasons,
            [Reason::Include {
                file: "_envcommon/mysql.hcl".into()
            }],
            "{}",
            u.path
        );
    }
}

#[test]
fn a_change_to_envcommon_mysql_with_dependents_adds_the_webservers_that_use_the_databases() {
    let (r, base) = live_example(false);
    r.edit(
        "_envcommon/mysql.hcl",
        "allocated_storage = 20",
        "allocated_storage = 40",
    );
    r.commit("mysql: more storage");
    let change = r.affected_since(&base, true);
    let dependents: Vec<(&str, &[Reason])> = change
        .units
        .iter()
        .filter(|u| u.status == Status::Dependent)
        .map(|u| (u.path.as_str(), u.reasons.as_slice()))
        .collect();
    assert_eq!(
        dependents,
        [
            (
                QA_WEB,
                &[Reason::Dependency {
                    unit: QA_MYSQL.into()
                }][..]
            ),
            (
                STAGE_WEB,
                &[Reason::Dependency {
                    unit: STAGE_MYSQL.into()
                }][..]
            ),
            (
                PROD_WEB,
                &[Reason::Dependency {
                    unit: PROD_MYSQL.into()
                }][..]
            ),
        ]
    );
}

#[test]
fn a_change_to_account_hcl_affects_every_unit_of_that_account_and_no_other() {
    let (r, base) = live_example(false);
    r.edit("non-prod/account.hcl", "111111111111", "222222222222");
    r.commit("non-prod moves account");
    let change = r.affected_since(&base, false);
    let paths: Vec<&str> = change.units.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(
        paths,
        [QA_MYSQL, QA_WEB, STAGE_MYSQL, STAGE_WEB, WEST_QA_MYSQL]
    );
    for u in &change.units {
        assert!(
            u.reasons.iter().any(|r| matches!(
                r,
                Reason::ReadConfig { file, .. } if file == "non-prod/account.hcl"
            )),
            "{}: {:?}",
            u.path,
            u.reasons
        );
    }
    let view = r.graph_at_head();
    assert_eq!(
        unit(&view, QA_MYSQL).account_id.as_deref(),
        Some("222222222222")
    );
}

#[test]
fn a_change_to_region_hcl_affects_only_that_accounts_units_in_that_region() {
    let (r, base) = live_example(false);
    r.write(
        "non-prod/us-east-1/region.hcl",
        "locals {\n  aws_region = \"us-east-1\"\n  azs        = 3\n}\n",
    );
    r.commit("non-prod us-east-1: three zones");
    let change = r.affected_since(&base, false);
    let paths: Vec<&str> = change.units.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(paths, [QA_MYSQL, QA_WEB, STAGE_MYSQL, STAGE_WEB]);
    for u in &change.units {
        assert!(
            u.reasons.iter().any(|r| matches!(
                r,
                Reason::ReadConfig { file, .. } if file == "non-prod/us-east-1/region.hcl"
            )),
            "{}: {:?}",
            u.path,
            u.reasons
        );
    }
}

#[test]
fn a_change_to_the_nested_security_group_module_affects_every_mysql_unit() {
    let (r, base) = live_example(false);
    r.write(
        "modules/security-group/main.tf",
        "variable \"name\" {}\nvariable \"ports\" {\n  default = [3306]\n}\n",
    );
    r.commit("security group: ports");
    let change = r.affected_since(&base, false);
    let paths: Vec<&str> = change.units.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(paths, [QA_MYSQL, STAGE_MYSQL, WEST_QA_MYSQL, PROD_MYSQL]);
    assert_eq!(
        change.units[0].reasons,
        [Reason::Module {
            file: "modules/security-group/main.tf".into(),
            module: "modules/security-group".into()
        }]
    );
}

#[test]
fn the_older_layout_with_a_root_terragrunt_hcl_reads_and_affects_the_same() {
    let (r, base) = live_example(true);
    assert_eq!(
        reads_of(&r, QA_MYSQL),
        [
            ("_envcommon/mysql.hcl".to_string(), ReadKind::Include),
            ("non-prod/account.hcl".to_string(), ReadKind::ReadConfig),
            (
                "non-prod/us-east-1/qa/env.hcl".to_string(),
                ReadKind::ReadConfig
            ),
            (
                "non-prod/us-east-1/region.hcl".to_string(),
                ReadKind::ReadConfig
            ),
            ("terragrunt.hcl".to_string(), ReadKind::Include),
        ]
    );
    r.edit("terragrunt.hcl", "tf-locks", "tf-locks-v2");
    r.commit("root: new lock table");
    let change = r.affected_since(&base, false);
    let mut paths: Vec<&str> = change.units.iter().map(|u| u.path.as_str()).collect();
    paths.sort();
    let mut all = ALL.to_vec();
    all.sort();
    assert_eq!(paths, all);
    assert!(change.units.iter().all(|u| u.reasons
        == [Reason::Include {
            file: "terragrunt.hcl".into()
        }]));
}
