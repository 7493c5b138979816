//! Monthly cost of every priced resource type, in every plan format version.

mod common;

use common::*;
use rules::config::PolicyConfig;
use rules::cost::{self, CostLine, CostReport};
use rules::Plan;

fn cost(format: &str) -> CostReport {
    cost_with(format, &PolicyConfig::default())
}

fn cost_with(format: &str, policy: &PolicyConfig) -> CostReport {
    cost::estimate(&aws_plan(format), None, policy)
}

fn line<'a>(c: &'a CostReport, address: &str) -> &'a CostLine {
    c.lines
        .iter()
        .find(|l| l.address == address)
        .unwrap_or_else(|| panic!("no cost line for {address}: {:#?}", c.lines))
}

fn before_after(c: &CostReport, address: &str) -> (Option<f64>, Option<f64>) {
    let l = line(c, address);
    (l.monthly_before, l.monthly_after)
}

#[test]
fn database_instance_is_priced_by_engine_class_deployment_and_storage() {
    for v in FORMATS {
        let c = cost(v);
        // db.t3.micro MySQL single-AZ $0.017/h + 20 GB gp3 at $0.115 -> db.t3.small $0.034/h
        assert_eq!(
            before_after(&c, "module.database.aws_db_instance.main"),
            (Some(14.71), Some(27.12)),
            "format {v}"
        );
        // destroyed: db.t3.medium PostgreSQL $0.072/h + 50 GB gp2
        assert_eq!(
            before_after(&c, "module.database.aws_db_instance.reports"),
            (Some(58.31), None)
        );
    }
}

#[test]
fn multi_az_doubles_instance_and_storage_price() {
    let mut doc: serde_json::Value =
        serde_json::from_slice(&fixture("aws-1.2.json")).unwrap_or_default();
    if let Some(changes) = doc["resource_changes"].as_array_mut() {
        for rc in changes {
            if rc["address"] == "module.database.aws_db_instance.main" {
                rc["change"]["after"]["multi_az"] = serde_json::Value::Bool(true);
            }
        }
    }
    let plan = Plan::parse(doc.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let c = cost::estimate(&plan, None, &PolicyConfig::default());
    let l = line(&c, "module.database.aws_db_instance.main");
    assert_eq!(l.monthly_after, Some(54.24), "{l:?}");
    assert!(l.detail.contains("Multi-AZ"));
}

#[test]
fn aurora_instances_are_priced_and_cluster_storage_is_usage_based() {
    for v in FORMATS {
        let c = cost(v);
        assert_eq!(
            before_after(&c, "module.database.aws_rds_cluster_instance.aurora[0]"),
            (None, Some(189.8))
        );
        let cluster = c
            .usage_based
            .iter()
            .find(|u| u.address == "module.database.aws_rds_cluster.aurora");
        assert!(
            cluster.is_some_and(|u| u.note.contains("$0.10 per GB-month")),
            "{:?}",
            c.usage_based
        );
    }
}

#[test]
fn aurora_storage_gets_a_figure_when_usage_is_configured() {
    let policy = PolicyConfig::from_slipway_toml(
        r#"
[[policy.usage]]
address = "module.database.aws_rds_cluster.*"
storage_gb = 100
monthly_io_millions = 50
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let c = cost_with("1.2", &policy);
    // 100 GB at $0.10 + 50 million I/O at $0.20 per million
    assert_eq!(
        before_after(&c, "module.database.aws_rds_cluster.aurora"),
        (None, Some(20.0))
    );
}

#[test]
fn nat_gateway_and_its_elastic_ip_are_priced_per_hour() {
    for v in FORMATS {
        let c = cost(v);
        assert_eq!(
            before_after(&c, "module.network.aws_nat_gateway.this[0]"),
            (None, Some(32.85))
        );
        assert!(line(&c, "module.network.aws_nat_gateway.this[0]")
            .note
            .as_deref()
            .is_some_and(|n| n.contains("per GB processed")));
        assert_eq!(
            before_after(&c, "module.network.aws_eip.nat[0]"),
            (None, Some(3.65))
        );
    }
}

#[test]
fn fargate_service_is_priced_from_its_task_definition_times_desired_count() {
    for v in FORMATS {
        let c = cost(v);
        // 2 tasks: 0.25 vCPU + 0.5 GB before, 0.5 vCPU + 1 GB after (the task definition is
        // replaced and the service's task_definition is known only after apply)
        assert_eq!(
            before_after(&c, "module.web.aws_ecs_service.app"),
            (Some(18.02), Some(36.04)),
            "format {v}"
        );
    }
}

#[test]
fn lambda_has_no_figure_unless_usage_is_configured() {
    for v in FORMATS {
        let c = cost(v);
        assert!(!c
            .lines
            .iter()
            .any(|l| l.address == "module.web.aws_lambda_function.thumbnail"));
        let u = c
            .usage_based
            .iter()
            .find(|u| u.address == "module.web.aws_lambda_function.thumbnail");
        assert!(
            u.is_some_and(|u| u.note.contains("arm64")),
            "{:?}",
            c.usage_based
        );
    }
    let policy = PolicyConfig::from_slipway_toml(
        r#"
[[policy.usage]]
address = "module.web.aws_lambda_function.thumbnail"
monthly_requests = 10000000
average_duration_ms = 200
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let c = cost_with("1.2", &policy);
    // 10M requests at $0.20/M = $2.00; 10M x 0.2 s x 0.5 GB = 1M GB-s at $0.0000133334 = $13.33
    assert_eq!(
        before_after(&c, "module.web.aws_lambda_function.thumbnail"),
        (None, Some(15.33))
    );
}

#[test]
fn load_balancers_are_priced_by_type() {
    for v in FORMATS {
        let c = cost(v);
        for lb in ["module.web.aws_lb.this", "module.web.aws_lb.nlb"] {
            assert_eq!(before_after(&c, lb), (None, Some(16.43)), "{lb}");
        }
        assert!(line(&c, "module.web.aws_lb.nlb").detail.contains("network"));
        assert!(line(&c, "module.web.aws_lb.this")
            .note
            .as_deref()
            .is_some_and(|n| n.contains("LCU")));
    }
}

#[test]
fn hosted_zone_costs_the_same_before_and_after_when_unchanged() {
    for v in FORMATS {
        let c = cost(v);
        let l = line(&c, "module.web.aws_route53_zone.main");
        assert_eq!(
            (l.monthly_before, l.monthly_after, l.monthly_delta),
            (Some(0.5), Some(0.5), 0.0)
        );
        assert!(!l.is_change());
    }
}

#[test]
fn log_group_is_usage_based() {
    for v in FORMATS {
        let c = cost(v);
        assert!(c
            .usage_based
            .iter()
            .any(|u| u.address == "module.web.aws_cloudwatch_log_group.app"
                && u.note.contains("$0.50 per GB ingested")));
    }
    let policy = PolicyConfig::from_slipway_toml(
        "[[policy.usage]]\naddress = \"module.web.aws_cloudwatch_log_group.app\"\nmonthly_ingested_gb = 10\nstorage_gb = 100\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        before_after(
            &cost_with("1.2", &policy),
            "module.web.aws_cloudwatch_log_group.app"
        ),
        (None, Some(8.0))
    );
}

#[test]
fn eks_instance_and_volume_are_priced() {
    for v in FORMATS {
        let c = cost(v);
        assert_eq!(
            before_after(&c, "module.web.aws_eks_cluster.main"),
            (None, Some(73.0))
        );
        // t3.micro + 8 GB gp3 root volume
        assert_eq!(
            before_after(&c, "module.web.aws_instance.bastion"),
            (None, Some(8.23))
        );
        assert_eq!(
            before_after(&c, "module.web.aws_ebs_volume.scratch"),
            (None, Some(8.0))
        );
    }
}

#[test]
fn unpriced_types_are_listed_and_left_out_of_the_totals() {
    for v in FORMATS {
        let c = cost(v);
        let kms = c
            .unpriced
            .iter()
            .find(|u| u.address == "module.web.aws_kms_key.logs");
        assert!(kms.is_some_and(|u| u.reason.contains("not in Slipway's price list")));
        assert!(!c
            .lines
            .iter()
            .any(|l| l.address == "module.web.aws_kms_key.logs"));
        let sum_after: f64 = c.lines.iter().filter_map(|l| l.monthly_after).sum();
        let sum_before: f64 = c.lines.iter().filter_map(|l| l.monthly_before).sum();
        assert!(
            (c.monthly_after - sum_after).abs() < 0.005,
            "{} vs {sum_after}",
            c.monthly_after
        );
        assert!((c.monthly_before - sum_before).abs() < 0.005);
        assert!((c.monthly_delta - (c.monthly_after - c.monthly_before)).abs() < 0.005);
    }
}

#[test]
fn totals_match_the_sum_of_the_priced_resources() {
    let c = cost("1.0");
    // before: ECS 18.02 + DB 14.71 + reports 58.31 + zone 0.50
    assert_eq!(c.monthly_before, 91.54);
    // after: eip 3.65 + nat 32.85 + 2 LBs 32.86 + ECS 36.04 + bastion 8.23 + volume 8.00
    //        + EKS 73.00 + zone 0.50 + DB 27.12 + Aurora 189.80 + standby 16.78
    assert_eq!(c.monthly_after, 428.83);
    assert_eq!(c.monthly_delta, 337.29);
}

#[test]
fn imported_and_forgotten_resources_do_not_change_the_delta() {
    let c = cost("1.2");
    let eip = line(&c, "aws_eip.legacy");
    assert_eq!(
        (eip.monthly_before, eip.monthly_after),
        (Some(3.65), Some(3.65))
    );
    let forgotten = line(&c, "aws_db_instance.scratch");
    assert_eq!(forgotten.monthly_delta, 0.0);
}

#[test]
fn resources_of_local_providers_cost_nothing_and_are_not_listed() {
    let c = cost("1.2");
    let everywhere = format!("{:?}", (&c.lines, &c.unpriced, &c.usage_based));
    assert!(!everywhere.contains("random_password"));
    assert!(c.no_charge > 5);
}

#[test]
fn region_comes_from_the_provider_configuration_or_the_parameter() {
    for v in ["1.0", "1.1", "1.2"] {
        let plan = aws_plan(v);
        let standby = plan.resource("module.dr.aws_instance.standby");
        assert_eq!(
            standby.and_then(|r| plan.region_of(r)).as_deref(),
            Some("us-west-2")
        );
        let bastion = plan.resource("module.web.aws_instance.bastion");
        assert_eq!(
            bastion.and_then(|r| plan.region_of(r)).as_deref(),
            Some("us-east-1")
        );
    }
    // Without a region anywhere, the parameter decides; a region outside the book is unpriced.
    let json = br#"{"format_version": "1.2", "resource_changes": [{"address": "aws_eip.a",
        "mode": "managed", "type": "aws_eip", "name": "a",
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {"actions": ["create"], "before": null, "after": {"domain": "vpc"},
                   "after_unknown": {"id": true}, "before_sensitive": false, "after_sensitive": {}}}]}"#;
    let plan = Plan::parse(json).unwrap_or_else(|e| panic!("{e}"));
    let none = cost::estimate(&plan, None, &PolicyConfig::default());
    assert!(none
        .unpriced
        .iter()
        .any(|u| u.reason.contains("pass --region")));
    let west = cost::estimate(&plan, Some("us-west-2"), &PolicyConfig::default());
    assert_eq!(west.monthly_after, 3.65);
    let frankfurt = cost::estimate(&plan, Some("eu-central-1"), &PolicyConfig::default());
    assert!(frankfurt
        .unpriced
        .iter()
        .any(|u| u.reason.contains("no prices for eu-central-1")));
}

#[test]
fn values_known_only_after_apply_make_a_resource_unpriced() {
    let json = br#"{"format_version": "1.2", "resource_changes": [{"address": "aws_instance.a",
        "mode": "managed", "type": "aws_instance", "name": "a",
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {"actions": ["create"], "before": null, "after": {},
                   "after_unknown": {"instance_type": true}, "before_sensitive": false, "after_sensitive": {}}}]}"#;
    let plan = Plan::parse(json).unwrap_or_else(|e| panic!("{e}"));
    let c = cost::estimate(&plan, Some("us-east-1"), &PolicyConfig::default());
    assert_eq!(c.unpriced.len(), 1);
    assert!(c.unpriced[0]
        .reason
        .contains("instance_type` is known only after apply"));
    assert_eq!(c.monthly_after, 0.0);
}
