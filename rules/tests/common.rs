//! Shared helpers of the integration tests (included with `mod common;`).
#![allow(dead_code)]

use rules::config::PolicyConfig;
use rules::{evaluate, Context, Plan, Report};

pub const FORMATS: &[&str] = &["0.1", "0.2", "1.0", "1.1", "1.2"];

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

pub fn aws_plan(format: &str) -> Plan {
    Plan::parse(&fixture(&format!("aws-{format}.json")))
        .unwrap_or_else(|e| panic!("aws-{format}.json: {e}"))
}

/// The SARC-NG `[policy]` table, as the infra repository's slipway.toml writes it.
pub const SARC_POLICY: &str = r#"
[policy]
required_tags = ["Project", "Environment", "CostCenter", "Owner", "ManagedBy"]
production_envs = ["prod"]
[policy.allowed_tag_values]
ManagedBy = ["terraform"]
CostCenter = ["engineering"]
"#;

pub fn sarc_policy() -> PolicyConfig {
    PolicyConfig::from_slipway_toml(SARC_POLICY).unwrap_or_else(|e| panic!("{e}"))
}

pub fn report_with(format: &str, env: &str, policy: &PolicyConfig) -> Report {
    evaluate(
        &aws_plan(format),
        &Context {
            env,
            region: None,
            policy,
        },
    )
}

pub fn report(format: &str, env: &str) -> Report {
    report_with(format, env, &sarc_policy())
}

/// `(severity, address)` of the findings of one rule.
pub fn findings_of(report: &Report, rule: &str) -> Vec<(String, String)> {
    report
        .findings
        .iter()
        .filter(|f| f.rule.as_str() == rule)
        .map(|f| (f.severity.as_str().to_string(), f.address.clone()))
        .collect()
}

pub fn message_of(report: &Report, rule: &str, address: &str) -> String {
    report
        .findings
        .iter()
        .find(|f| f.rule.as_str() == rule && f.address == address)
        .map(|f| f.message.clone())
        .unwrap_or_else(|| panic!("no {rule} finding on {address}: {:#?}", report.findings))
}

pub fn err(address: &str) -> (String, String) {
    ("error".to_string(), address.to_string())
}

pub fn warn(address: &str) -> (String, String) {
    ("warning".to_string(), address.to_string())
}
