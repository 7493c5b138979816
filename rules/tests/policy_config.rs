//! The `[policy]` table of slipway.toml: accepted shapes and errors that name the field.

use rules::config::{Level, PolicyConfig, RuleId};

fn parse(text: &str) -> Result<PolicyConfig, String> {
    PolicyConfig::from_slipway_toml(text).map_err(|e| e.to_string())
}

#[test]
fn the_documented_policy_shape_is_accepted() {
    let policy = parse(
        r#"
live_dir = "live"   # other tables belong to other parts of Slipway and are ignored here
[environments.dev]
path = "live/accounts/dev"

[policy]
required_tags = ["Project", "Environment", "CostCenter", "Owner", "ManagedBy"]
production_envs = ["prod"]
[policy.allowed_tag_values]
ManagedBy = ["terraform"]
[policy.rules.sg-open-ingress]
severity = "error"
by_env = { dev = "warning" }
[[policy.exemptions]]
rule = "sg-open-ingress"
address = "module.bastion.aws_security_group.this"
env = "dev"
reason = "bastion reachable from the office VPN range"
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(policy.required_tags.len(), 5);
    assert_eq!(policy.level(RuleId::SgOpenIngress, "dev"), Level::Warning);
    assert_eq!(policy.level(RuleId::SgOpenIngress, "prod"), Level::Error);
    assert!(policy
        .exemption_for(
            RuleId::SgOpenIngress,
            "module.bastion.aws_security_group.this",
            "dev"
        )
        .is_some());
    assert!(policy
        .exemption_for(
            RuleId::SgOpenIngress,
            "module.bastion.aws_security_group.this",
            "prod"
        )
        .is_none());
}

#[test]
fn the_infra_repositorys_own_slipway_toml_is_accepted() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../slipway.toml");
    if let Ok(text) = std::fs::read_to_string(path) {
        let policy = parse(&text).unwrap_or_else(|e| panic!("slipway.toml: {e}"));
        assert!(policy.required_tags.contains(&"Owner".to_string()));
    }
}

#[test]
fn unknown_rule_id_is_an_error_naming_it() {
    let e = parse("[policy.rules.sg-open-ingres]\nseverity = \"off\"\n")
        .err()
        .unwrap_or_default();
    assert!(e.contains("sg-open-ingres"), "{e}");
    assert!(
        e.contains("sg-open-ingress"),
        "the message lists the known ids: {e}"
    );
    let e = parse(
        "[[policy.exemptions]]\nrule = \"no-such-rule\"\naddress = \"a.b\"\nreason = \"x\"\n",
    )
    .err()
    .unwrap_or_default();
    assert!(e.contains("no-such-rule"), "{e}");
}

#[test]
fn exemption_without_a_reason_is_an_error_naming_the_field() {
    let e = parse("[[policy.exemptions]]\nrule = \"sg-open-ingress\"\naddress = \"a.b\"\n")
        .err()
        .unwrap_or_default();
    assert!(e.contains("reason"), "{e}");
    let e = parse(
        "[[policy.exemptions]]\nrule = \"sg-open-ingress\"\naddress = \"a.b\"\nreason = \"  \"\n",
    )
    .err()
    .unwrap_or_default();
    assert!(e.contains("reason") && e.contains("empty"), "{e}");
}

#[test]
fn unknown_keys_and_severities_are_errors_with_the_line() {
    let e = parse("[policy]\nrequired_tag = [\"Owner\"]\n")
        .err()
        .unwrap_or_default();
    assert!(e.contains("required_tag") && e.contains("line 2"), "{e}");
    let e = parse("[policy.rules.db-multi-az]\nseverity = \"fatal\"\n")
        .err()
        .unwrap_or_default();
    assert!(e.contains("fatal"), "{e}");
    let e = parse("[policy.rules.db-multi-az]\nseverity = \"error\"\nlevel = 1\n")
        .err()
        .unwrap_or_default();
    assert!(e.contains("level"), "{e}");
}

#[test]
fn defaults_cover_production_names_and_rule_severities() {
    let p = PolicyConfig::default();
    assert!(p.is_production("prod") && p.is_production("production") && !p.is_production("dev"));
    assert_eq!(p.level(RuleId::DbMultiAz, "dev"), Level::Off);
    assert_eq!(p.level(RuleId::DbMultiAz, "prod"), Level::Error);
    assert_eq!(p.level(RuleId::ProdStatefulDestroy, "dev"), Level::Warning);
    assert_eq!(p.backup_retention_days, 7);
    assert_eq!(p.prod_backup_retention_days, 30);
    assert_eq!(p.public_ingress_ports, [80, 443]);
}

#[test]
fn policy_deserializes_as_a_plain_serde_field_of_a_bigger_config() {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Whole {
        #[serde(default)]
        policy: PolicyConfig,
    }
    let w: Whole =
        toml::from_str("[policy]\nrequired_tags = [\"Owner\"]\n").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.policy.required_tags, ["Owner"]);
    assert_eq!(w.policy.production_envs, ["prod", "production"]);
}

#[test]
fn exemption_addresses_match_instances_and_globs() {
    use rules::config::address_matches;
    assert!(address_matches(
        "module.web.aws_instance.this",
        "module.web.aws_instance.this[0]"
    ));
    assert!(address_matches(
        "module.web.*",
        "module.web.aws_instance.this[\"a\"]"
    ));
    assert!(address_matches(
        "module.app.aws_lb.this",
        "module.app[\"blue\"].aws_lb.this"
    ));
    assert!(!address_matches(
        "module.web.aws_instance.this",
        "module.web.aws_instance.other"
    ));
    assert!(!address_matches(
        "aws_instance.this",
        "module.web.aws_instance.this"
    ));
}
