//! Issue 11: plans a gate must never pass (failed, incomplete, failing checks), partly unknown
//! values judged by what is known, and every `show -json` shape terraform and OpenTofu write.
//! Fixtures are in `tests/fixtures/issue11/`, written from terraform's published JSON format
//! (terraform 1.0.3, the one here, writes none of `errored`, `checks`, `complete` or drift
//! without an address: a failing variable validation makes it write no plan at all).

mod common;

use common::{err, findings_of, message_of, sarc_policy, warn};
use rules::config::PolicyConfig;
use rules::report::PlanStatus;
use rules::{evaluate, Action, Context, Plan, PlanError, Report};

fn fixture(name: &str) -> Vec<u8> {
    common::fixture(&format!("issue11/{name}"))
}

fn plan(name: &str) -> Plan {
    Plan::parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn report_in(name: &str, env: &str, policy: &PolicyConfig) -> Report {
    evaluate(
        &plan(name),
        &Context {
            env,
            region: Some("us-east-1"),
            policy,
        },
    )
}

fn error_of(bytes: &[u8]) -> String {
    match Plan::parse(bytes) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

// --- 1. failed and incomplete plans ----------------------------------------------------------

#[test]
fn an_errored_plan_blocks_in_every_environment_and_says_plan_failed() {
    for env in ["dev", "staging", "prod"] {
        let r = report_in("errored-1.2.json", env, &PolicyConfig::default());
        assert_eq!(r.status, PlanStatus::Errored);
        assert!(r.is_blocking(), "{env}");
        assert_eq!(findings_of(&r, "plan-errored"), [err("(plan)")]);
        let text = r.to_text();
        assert!(text.contains("plan failed"), "{text}");
        assert!(!text.contains("No changes"), "{text}");
        assert!(!r.to_markdown().contains("No changes"));
    }
}

#[test]
fn a_failed_plan_cannot_be_made_to_pass_by_configuration() {
    let e = PolicyConfig::from_slipway_toml("[policy.rules.plan-errored]\nseverity = \"off\"\n")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("cannot be configured"), "{e}");
    let e = PolicyConfig::from_slipway_toml(
        "[[policy.exemptions]]\nrule = \"plan-incomplete\"\naddress = \"*\"\nreason = \"x\"\n",
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(e.contains("cannot be exempted"), "{e}");
}

#[test]
fn an_incomplete_plan_blocks_and_its_deferred_changes_are_evaluated_and_listed() {
    let r = report_in("incomplete-deferred-1.2.json", "dev", &sarc_policy());
    assert_eq!(r.status, PlanStatus::Incomplete);
    assert_eq!(findings_of(&r, "plan-incomplete"), [err("(plan)")]);
    assert_eq!(r.deferred.len(), 1);
    assert_eq!(
        r.deferred[0].address,
        "aws_security_group.per_subnet[\"a\"]"
    );
    // The deferred group opens 22 to the internet: the rules see it.
    let msg = message_of(
        &r,
        "sg-open-ingress",
        "aws_security_group.per_subnet[\"a\"]",
    );
    assert!(msg.contains("tcp 22") && msg.contains("deferred:"), "{msg}");
    let text = r.to_text();
    assert!(
        text.contains("plan incomplete") && text.contains("deferred"),
        "{text}"
    );
}

#[test]
fn failing_checks_are_findings_with_address_and_message_and_unknown_ones_warnings() {
    let r = report_in("checks-1.2.json", "dev", &PolicyConfig::default());
    assert_eq!(
        findings_of(&r, "check-failed"),
        [
            err("aws_instance.web[0]"),
            err("check.health"),
            err("var.env")
        ]
    );
    assert!(message_of(&r, "check-failed", "check.health").contains("answered 503"));
    assert!(message_of(&r, "check-failed", "var.env").contains("one of dev, staging or prod"));
    assert!(
        message_of(&r, "check-failed", "aws_instance.web[0]").contains("could not be evaluated")
    );
    assert_eq!(findings_of(&r, "check-unknown"), [warn("output.url")]);
    assert!(r.findings.iter().all(|f| f.address != "check.dns"));
}

// --- 3. every show -json shape ----------------------------------------------------------------

#[test]
fn drift_entries_without_an_address_are_read_with_the_address_terraform_means() {
    let p = plan("drift-no-address-0.2.json");
    let addresses: Vec<&str> = p
        .resource_drift
        .iter()
        .map(|d| d.address.as_str())
        .collect();
    assert_eq!(
        addresses,
        [
            "module.app.null_resource.task[0]",
            "data.null_data_source.d[\"k\"]"
        ]
    );
}

#[test]
fn an_unknown_action_list_is_an_unknown_action_on_that_resource_not_a_refusal() {
    let p = plan("unknown-action-1.12.json");
    let rc = &p.resource_changes[0];
    assert_eq!(rc.action, Action::Unknown);
    assert_eq!(rc.unknown_actions, ["create", "forget"]);
    let r = report_in("unknown-action-1.12.json", "dev", &PolicyConfig::default());
    assert_eq!(
        findings_of(&r, "unknown-action"),
        [warn("aws_s3_bucket.logs")]
    );
    assert!(message_of(&r, "unknown-action", "aws_s3_bucket.logs").contains("\"forget\""));
    let prod = report_in("unknown-action-1.12.json", "prod", &PolicyConfig::default());
    assert_eq!(
        findings_of(&prod, "unknown-action"),
        [err("aws_s3_bucket.logs")]
    );
    // Not a destroy: the list does not say delete.
    assert!(findings_of(&prod, "prod-stateful-destroy").is_empty());
    assert!(r.to_text().contains("unknown action"));
}

#[test]
fn an_hcp_redacted_plan_a_state_and_checkovs_report_are_named() {
    let e = error_of(&fixture("hcp-redacted.json"));
    assert!(e.contains("HCP Terraform redacted plan"), "{e}");
    let e = error_of(&fixture("state-show-1.0.json"));
    assert!(e.contains("of a state"), "{e}");
    let e = error_of(&fixture("checkov.json"));
    assert!(e.contains("checkov"), "{e}");
    for (doc, name) in [
        (
            r#"{"version": "0.2", "currency": "USD", "projects": []}"#,
            "Infracost",
        ),
        (r#"{"issues": [], "errors": []}"#, "tflint"),
        (
            r#"{"format_version": "1.0", "valid": true, "error_count": 0}"#,
            "validate",
        ),
    ] {
        let e = error_of(doc.as_bytes());
        assert!(e.contains(name), "{e}");
        assert!(!e.contains("upgrade Slipway"), "{e}");
    }
}

#[test]
fn upgrade_slipway_is_said_only_for_a_really_newer_format_version() {
    let e = Plan::parse(br#"{"format_version": "2.0", "resource_changes": []}"#);
    assert!(
        matches!(e, Err(PlanError::UnsupportedVersion { .. })),
        "{e:?}"
    );
    for odd in ["banana", "1.x", ""] {
        let doc = format!(r#"{{"format_version": "{odd}", "resource_changes": []}}"#);
        let e = error_of(doc.as_bytes());
        assert!(!e.contains("upgrade Slipway"), "{odd}: {e}");
    }
}

#[test]
fn a_utf8_bom_before_a_utf16_converted_plan_is_read() {
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend(fixture("checks-1.2.json"));
    assert!(Plan::parse(&bytes).is_ok());
}

// --- 2. partly unknown values -----------------------------------------------------------------

#[test]
fn a_bucket_whose_kms_key_is_known_after_apply_is_encrypted() {
    let r = report_in("partly-unknown-1.2.json", "prod", &sarc_policy());
    assert!(
        findings_of(&r, "s3-encryption").is_empty(),
        "{:#?}",
        r.findings
    );
}

#[test]
fn an_unknown_entry_does_not_hide_a_known_open_ssh_entry_in_the_same_group() {
    let r = report_in("partly-unknown-1.2.json", "prod", &sarc_policy());
    let msg = message_of(&r, "sg-open-ingress", "aws_security_group.app");
    assert!(msg.contains("tcp 22"), "{msg}");
    assert!(r
        .findings
        .iter()
        .any(|f| f.address == "aws_security_group.app" && f.is_blocking()));
}

#[test]
fn a_source_known_after_apply_is_a_known_after_apply_warning_configurable_to_blocking() {
    let r = report_in("partly-unknown-1.2.json", "prod", &sarc_policy());
    assert_eq!(
        findings_of(&r, "sg-open-ingress").len(),
        2,
        "{:#?}",
        r.findings
    );
    let db = r
        .findings
        .iter()
        .find(|f| f.address == "aws_security_group.db")
        .unwrap_or_else(|| panic!("{:#?}", r.findings));
    assert!(db.known_after_apply && !db.is_blocking());
    assert!(db.message.contains("cidr_blocks"), "{}", db.message);
    assert!(r.to_text().contains("known after apply"));
    let strict =
        PolicyConfig::from_slipway_toml("[policy.known_after_apply]\nseverity = \"error\"\n")
            .unwrap_or_else(|e| panic!("{e}"));
    let r = report_in("partly-unknown-1.2.json", "prod", &strict);
    assert!(r
        .findings
        .iter()
        .any(|f| f.address == "aws_security_group.db" && f.is_blocking()));
}

// --- Plans with values of the wrong shape are refused, naming the resource -----------------

fn plan_with_change(rc: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "resource_changes": [
            {
                "address": "aws_s3_bucket.fine",
                "mode": "managed",
                "type": "aws_s3_bucket",
                "name": "fine",
                "change": { "actions": ["create"], "before": null, "after": {} }
            },
            rc
        ]
    }))
    .expect("json")
}

#[test]
fn an_unknown_mode_is_an_error_naming_the_resource() {
    let msg = error_of(&plan_with_change(serde_json::json!({
        "address": "aws_security_group.open",
        "mode": "x",
        "type": "aws_security_group",
        "name": "open",
        "change": { "actions": ["create"], "before": null, "after": {} }
    })));
    assert!(msg.contains("aws_security_group.open"), "{msg}");
    assert!(msg.contains("mode \"x\""), "{msg}");
}

#[test]
fn an_after_that_is_not_an_object_is_an_error_naming_the_resource() {
    for (after, found) in [
        (serde_json::json!("ingress 0.0.0.0/0"), "a string"),
        (serde_json::json!(22), "a number"),
        (
            serde_json::json!([{"cidr_blocks": ["0.0.0.0/0"]}]),
            "a list",
        ),
        (serde_json::json!(true), "a boolean"),
    ] {
        let msg = error_of(&plan_with_change(serde_json::json!({
            "address": "aws_security_group.open",
            "mode": "managed",
            "type": "aws_security_group",
            "name": "open",
            "change": { "actions": ["create"], "before": null, "after": after }
        })));
        assert!(msg.contains("aws_security_group.open"), "{msg}");
        assert!(
            msg.contains(&format!(
                "change.after must be an object or null, not {found}"
            )),
            "{msg}"
        );
    }
}

#[test]
fn after_unknown_and_sensitive_may_be_booleans() {
    let bytes = plan_with_change(serde_json::json!({
        "address": "aws_instance.web",
        "mode": "managed",
        "type": "aws_instance",
        "name": "web",
        "change": {
            "actions": ["create"], "before": null, "after": {},
            "after_unknown": {}, "before_sensitive": false, "after_sensitive": true
        }
    }));
    Plan::parse(&bytes).unwrap_or_else(|e| panic!("{e}"));
}
