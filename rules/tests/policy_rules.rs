//! Every tag and security rule, on the SARC-NG production plan in every plan format version.

mod common;

use common::*;
use rules::config::PolicyConfig;

#[test]
fn open_ssh_ingress_is_blocking_in_prod() {
    for v in FORMATS {
        let r = report(v, "prod");
        assert_eq!(
            findings_of(&r, "sg-open-ingress"),
            [
                err("module.web.aws_security_group.web"),
                err("module.web.aws_security_group_rule.ssh_world"),
                err("module.web.aws_vpc_security_group_ingress_rule.everything"),
            ],
            "format {v}"
        );
        let sg = message_of(&r, "sg-open-ingress", "module.web.aws_security_group.web");
        assert!(sg.contains("0.0.0.0/0 on tcp 22"), "{sg}");
        let rule = message_of(
            &r,
            "sg-open-ingress",
            "module.web.aws_security_group_rule.ssh_world",
        );
        assert!(rule.contains("::/0 on tcp 22"), "{rule}");
        let all = message_of(
            &r,
            "sg-open-ingress",
            "module.web.aws_vpc_security_group_ingress_rule.everything",
        );
        assert!(all.contains("all ports and protocols"), "{all}");
        assert!(r.is_blocking());
    }
}

#[test]
fn https_from_anywhere_is_allowed() {
    for v in FORMATS {
        let r = report(v, "prod");
        assert!(!r
            .findings
            .iter()
            .any(|f| f.address == "module.web.aws_vpc_security_group_ingress_rule.https"));
    }
}

#[test]
fn open_ingress_severity_can_be_lowered_for_dev_only() {
    let policy = PolicyConfig::from_slipway_toml(
        r#"
[policy.rules.sg-open-ingress]
severity = "error"
by_env = { dev = "warning" }
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    for v in FORMATS {
        let dev = report_with(v, "dev", &policy);
        assert!(findings_of(&dev, "sg-open-ingress")
            .iter()
            .all(|(s, _)| s == "warning"));
        let prod = report_with(v, "prod", &policy);
        assert!(findings_of(&prod, "sg-open-ingress")
            .iter()
            .all(|(s, _)| s == "error"));
        assert_eq!(findings_of(&prod, "sg-open-ingress").len(), 3);
    }
}

#[test]
fn rule_turned_off_reports_nothing() {
    let policy =
        PolicyConfig::from_slipway_toml("[policy.rules.sg-open-ingress]\nseverity = \"off\"\n")
            .unwrap_or_else(|e| panic!("{e}"));
    let r = report_with("1.2", "prod", &policy);
    assert!(findings_of(&r, "sg-open-ingress").is_empty());
}

#[test]
fn exemption_with_reason_stops_blocking_but_stays_visible() {
    let policy = PolicyConfig::from_slipway_toml(
        r#"
[[policy.exemptions]]
rule = "sg-open-ingress"
address = "module.web.*"
env = "prod"
reason = "bastion reachable from the office VPN range"
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    for v in FORMATS {
        let r = report_with(v, "prod", &policy);
        let sg: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.rule.as_str() == "sg-open-ingress")
            .collect();
        assert_eq!(sg.len(), 3);
        assert!(sg.iter().all(|f| !f.is_blocking()
            && f.exempted.as_deref() == Some("bastion reachable from the office VPN range")));
        // The exemption is for prod only: dev still reports the findings as errors.
        let dev = report_with(v, "dev", &policy);
        assert!(dev
            .findings
            .iter()
            .filter(|f| f.rule.as_str() == "sg-open-ingress")
            .all(|f| f.is_blocking()));
    }
}

#[test]
fn missing_wrong_and_mismatched_tags_are_reported() {
    for v in FORMATS {
        let r = report(v, "prod");
        let scratch = "module.web.aws_ebs_volume.scratch";
        assert_eq!(
            findings_of(&r, "tags-required"),
            [err(scratch)],
            "format {v}"
        );
        assert!(message_of(&r, "tags-required", scratch).contains("Owner"));
        assert_eq!(findings_of(&r, "tags-allowed-values"), [err(scratch)]);
        assert!(message_of(&r, "tags-allowed-values", scratch)
            .contains("ManagedBy is \"console\" but must be one of: terraform"));
        assert_eq!(findings_of(&r, "tags-environment-match"), [err(scratch)]);
        assert!(message_of(&r, "tags-environment-match", scratch).contains("\"staging\""));
    }
}

#[test]
fn provider_default_tags_satisfy_required_tags() {
    // Every other taggable resource gets all five tags only through default_tags (tags_all).
    for v in FORMATS {
        let r = report(v, "prod");
        assert!(findings_of(&r, "tags-required")
            .iter()
            .all(|(_, a)| a == "module.web.aws_ebs_volume.scratch"));
    }
}

#[test]
fn environment_tag_must_match_the_units_environment() {
    let r = report("1.2", "staging");
    let mismatched = findings_of(&r, "tags-environment-match");
    // The plan's default tags say prod: every changing taggable resource is reported, except
    // the one tagged staging.
    assert!(mismatched.len() > 10, "{mismatched:?}");
    assert!(!mismatched
        .iter()
        .any(|(_, a)| a == "module.web.aws_ebs_volume.scratch"));
}

#[test]
fn unencrypted_database_storage_is_blocking() {
    for v in FORMATS {
        let r = report(v, "dev");
        assert_eq!(
            findings_of(&r, "db-storage-encrypted"),
            [err("module.database.aws_db_instance.main")],
            "format {v}"
        );
    }
}

#[test]
fn production_database_without_deletion_protection_is_blocking_and_dev_is_not_checked() {
    for v in FORMATS {
        let prod = report(v, "prod");
        assert_eq!(
            findings_of(&prod, "db-deletion-protection"),
            [err("module.database.aws_db_instance.main")]
        );
        assert!(findings_of(&report(v, "dev"), "db-deletion-protection").is_empty());
    }
}

#[test]
fn backup_retention_needs_thirty_days_in_prod_and_seven_elsewhere() {
    for v in FORMATS {
        let prod = report(v, "prod");
        assert_eq!(
            findings_of(&prod, "db-backup-retention"),
            [err("module.database.aws_db_instance.main")]
        );
        let msg = message_of(
            &prod,
            "db-backup-retention",
            "module.database.aws_db_instance.main",
        );
        assert!(
            msg.contains("7 days") && msg.contains("at least 30 days"),
            "{msg}"
        );
        // 7 days is enough in dev; the Aurora cluster keeps 35.
        assert!(findings_of(&report(v, "dev"), "db-backup-retention").is_empty());
    }
}

#[test]
fn production_databases_must_be_multi_az_or_have_two_aurora_instances() {
    for v in FORMATS {
        let prod = report(v, "prod");
        assert_eq!(
            findings_of(&prod, "db-multi-az"),
            [
                err("module.database.aws_db_instance.main"),
                err("module.database.aws_rds_cluster.aurora"),
            ],
            "format {v}"
        );
        let msg = message_of(
            &prod,
            "db-multi-az",
            "module.database.aws_rds_cluster.aurora",
        );
        assert!(msg.contains("has 1 instance"), "{msg}");
        assert!(findings_of(&report(v, "dev"), "db-multi-az").is_empty());
    }
}

#[test]
fn publicly_accessible_database_is_blocking() {
    for v in FORMATS {
        assert_eq!(
            findings_of(&report(v, "dev"), "db-publicly-accessible"),
            [err("module.database.aws_db_instance.main")]
        );
    }
}

#[test]
fn bucket_without_encryption_or_public_access_block_is_blocking() {
    for v in FORMATS {
        let r = report(v, "dev");
        assert_eq!(
            findings_of(&r, "s3-encryption"),
            [err("module.storage.aws_s3_bucket.uploads")],
            "format {v}"
        );
        // uploads has a block, but with restrict_public_buckets off; assets and logs are fine.
        assert_eq!(
            findings_of(&r, "s3-public-access-block"),
            [err(
                "module.storage.aws_s3_bucket_public_access_block.uploads"
            )]
        );
        let msg = message_of(
            &r,
            "s3-public-access-block",
            "module.storage.aws_s3_bucket_public_access_block.uploads",
        );
        assert!(msg.contains("restrict_public_buckets"), "{msg}");
    }
}

#[test]
fn production_vpc_without_flow_logs_is_blocking() {
    for v in FORMATS {
        assert_eq!(
            findings_of(&report(v, "prod"), "vpc-flow-logs"),
            [err("module.network.aws_vpc.legacy")],
            "format {v}"
        );
        assert!(findings_of(&report(v, "dev"), "vpc-flow-logs").is_empty());
    }
}

#[test]
fn destroying_or_replacing_stateful_resources_blocks_in_prod_and_warns_in_dev() {
    for v in FORMATS {
        let prod = report(v, "prod");
        assert_eq!(
            findings_of(&prod, "prod-stateful-destroy"),
            [
                err("module.database.aws_db_instance.reports"),
                err("module.storage.aws_s3_bucket.logs"),
            ],
            "format {v}"
        );
        let replace = message_of(
            &prod,
            "prod-stateful-destroy",
            "module.storage.aws_s3_bucket.logs",
        );
        assert!(
            replace.contains("replaces aws_s3_bucket because bucket cannot change"),
            "{replace}"
        );
        let dev = report(v, "dev");
        assert_eq!(
            findings_of(&dev, "prod-stateful-destroy"),
            [
                warn("module.database.aws_db_instance.reports"),
                warn("module.storage.aws_s3_bucket.logs"),
            ]
        );
    }
}

#[test]
fn forgetting_a_database_is_not_destroying_it() {
    let r = report("1.2", "prod");
    assert!(!r
        .findings
        .iter()
        .any(|f| f.address == "aws_db_instance.scratch"));
}

#[test]
fn production_is_configurable() {
    let policy = PolicyConfig::from_slipway_toml("[policy]\nproduction_envs = [\"live\"]\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let r = report_with("1.2", "live", &policy);
    assert!(!findings_of(&r, "vpc-flow-logs").is_empty());
    let r = report_with("1.2", "prod", &policy);
    assert!(findings_of(&r, "vpc-flow-logs").is_empty());
}

#[test]
fn findings_never_quote_sensitive_values() {
    for v in FORMATS {
        for env in ["prod", "dev"] {
            let r = report(v, env);
            let all = format!("{}{}{}", r.to_json(), r.to_text(), r.to_markdown());
            for secret in [
                "Sup3r-Secret",
                "Aur0ra-Secret",
                "0ld-Rep0rts",
                "r4nd0m-Result",
                "0utput-Secret",
            ] {
                assert!(!all.contains(secret), "format {v} leaks {secret}");
            }
        }
    }
}

fn one_resource(
    typ: &str,
    after: serde_json::Value,
    after_unknown: serde_json::Value,
) -> rules::Plan {
    let doc = serde_json::json!({"format_version": "1.2", "resource_changes": [{
        "address": format!("{typ}.x"), "mode": "managed", "type": typ, "name": "x",
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {"actions": ["create"], "before": null, "after": after,
                   "after_unknown": after_unknown, "before_sensitive": false, "after_sensitive": {}}}]});
    rules::Plan::parse(doc.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

fn evaluate_prod(plan: &rules::Plan) -> rules::Report {
    let policy = sarc_policy();
    rules::evaluate(
        plan,
        &rules::Context {
            env: "prod",
            region: None,
            policy: &policy,
        },
    )
}

#[test]
fn default_security_group_open_to_the_world_is_reported() {
    let plan = one_resource(
        "aws_default_security_group",
        serde_json::json!({"ingress": [{"cidr_blocks": ["0.0.0.0/0"], "from_port": 3389, "to_port": 3389,
            "protocol": "tcp", "ipv6_cidr_blocks": []}], "tags": null, "tags_all": {
            "Project": "p", "Environment": "prod", "CostCenter": "engineering", "Owner": "o", "ManagedBy": "terraform"}}),
        serde_json::json!({"id": true}),
    );
    let r = evaluate_prod(&plan);
    assert_eq!(
        findings_of(&r, "sg-open-ingress"),
        [err("aws_default_security_group.x")]
    );
    assert!(message_of(&r, "sg-open-ingress", "aws_default_security_group.x").contains("tcp 3389"));
}

#[test]
fn tags_known_only_after_apply_are_a_known_after_apply_warning_not_missing() {
    let plan = one_resource(
        "aws_sqs_queue",
        serde_json::json!({"name": "q", "tags": {"Project": "p"}}),
        serde_json::json!({"id": true, "tags_all": true}),
    );
    let r = evaluate_prod(&plan);
    assert_eq!(findings_of(&r, "tags-required"), [warn("aws_sqs_queue.x")]);
    assert!(r.findings[0].known_after_apply, "{:?}", r.findings);
    assert!(!r.is_blocking());
    // once tags_all is known, the missing keys are reported
    let plan = one_resource(
        "aws_sqs_queue",
        serde_json::json!({"name": "q", "tags": {"Project": "p"}, "tags_all": {"Project": "p"}}),
        serde_json::json!({"id": true}),
    );
    let r = evaluate_prod(&plan);
    assert_eq!(findings_of(&r, "tags-required"), [err("aws_sqs_queue.x")]);
    assert!(message_of(&r, "tags-required", "aws_sqs_queue.x")
        .contains("Environment, CostCenter, Owner, ManagedBy"));
}
