//! What reviewers read: the Markdown and text reports, as snapshots.

mod common;

use common::*;
use rules::config::PolicyConfig;
use rules::{evaluate, Context, Plan};

#[test]
fn markdown_report_of_the_sarc_ng_production_plan() {
    let policy = PolicyConfig::from_slipway_toml(&format!(
        "{SARC_POLICY}\n[[policy.exemptions]]\nrule = \"sg-open-ingress\"\naddress = \"module.web.aws_security_group_rule.ssh_world\"\nreason = \"break-glass access, removed on Friday\"\n"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let report = report_with("1.2", "prod", &policy);
    insta::assert_snapshot!(report.to_markdown());
}

#[test]
fn text_report_of_the_sarc_ng_plan_in_dev() {
    insta::assert_snapshot!(report("1.1", "dev").to_text());
}

#[test]
fn markdown_report_without_findings_says_so() {
    let plan = Plan::parse(&fixture("null-0.2.json")).unwrap_or_else(|e| panic!("{e}"));
    let policy = PolicyConfig::default();
    let report = evaluate(
        &plan,
        &Context {
            env: "dev",
            region: None,
            policy: &policy,
        },
    );
    insta::assert_snapshot!(report.to_markdown());
}

#[test]
fn addresses_with_pipes_and_backticks_do_not_break_the_markdown_table() {
    let json = br#"{"format_version": "1.2", "resource_changes": [{
        "address": "aws_security_group_rule.r[\"a|b`c\"]", "mode": "managed",
        "type": "aws_security_group_rule", "name": "r", "index": "a|b`c",
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {"actions": ["create"], "before": null,
          "after": {"type": "ingress", "from_port": 22, "to_port": 22, "protocol": "tcp",
                    "cidr_blocks": ["0.0.0.0/0"], "description": "<script>|x"},
          "after_unknown": {"id": true}, "before_sensitive": false, "after_sensitive": {}}}]}"#;
    let plan = Plan::parse(json).unwrap_or_else(|e| panic!("{e}"));
    let policy = PolicyConfig::default();
    let md = evaluate(
        &plan,
        &Context {
            env: "prod",
            region: None,
            policy: &policy,
        },
    )
    .to_markdown();
    let row = md
        .lines()
        .find(|l| l.contains("sg-open-ingress"))
        .unwrap_or_default();
    // 5 unescaped pipes delimit the 4 cells of a row
    let cells = row.replace("\\|", "").matches('|').count();
    assert_eq!(cells, 5, "{row}");
    assert!(
        row.contains("``aws_security_group_rule.r[\"a\\|b`c\"]``"),
        "{row}"
    );
}

#[test]
fn dollar_amounts_are_grouped_and_signed() {
    use rules::report::{signed_usd, usd};
    assert_eq!(usd(1234567.891), "$1,234,567.89");
    assert_eq!(usd(0.5), "$0.50");
    assert_eq!(signed_usd(12.0), "+$12.00");
    assert_eq!(signed_usd(-3.5), "-$3.50");
    assert_eq!(signed_usd(0.001), "$0.00");
}
