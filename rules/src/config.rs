//! The `[policy]` table of `slipway.toml`: required tags, rule severities and exemptions.
//!
//! ```toml
//! [policy]
//! required_tags = ["Project", "Environment", "CostCenter", "Owner", "ManagedBy"]
//! production_envs = ["prod"]
//! [policy.allowed_tag_values]
//! ManagedBy = ["terraform"]
//! [policy.rules.sg-open-ingress]
//! severity = "error"            # error | warning | off; default for every environment
//! by_env = { dev = "warning" }  # per-environment override
//! [[policy.exemptions]]
//! rule = "sg-open-ingress"
//! address = "module.bastion.aws_security_group.this"   # `*` matches any characters
//! env = "dev"                                          # optional
//! reason = "bastion reachable from the office VPN range"
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Policy settings read from the `[policy]` table of `slipway.toml`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Tag keys every taggable resource must carry, counting provider `default_tags`
    /// (`tags_all`). Empty (the default) means no tag is required.
    pub required_tags: Vec<String>,
    /// Values a tag may take, by tag key; tags not listed accept any non-empty value.
    pub allowed_tag_values: BTreeMap<String, Vec<String>>,
    /// Tag key whose value must equal the unit's environment (default `Environment`).
    pub environment_tag: String,
    /// Environments treated as production by the production-only rules
    /// (default `["prod", "production"]`).
    pub production_envs: Vec<String>,
    /// Ports on which security-group ingress from 0.0.0.0/0 or ::/0 is allowed (default 80, 443).
    pub public_ingress_ports: Vec<u16>,
    /// Minimum database backup retention in days outside production (default 7).
    pub backup_retention_days: u32,
    /// Minimum database backup retention in days in production (default 30).
    pub prod_backup_retention_days: u32,
    /// Severity of each rule, by rule id, overriding the built-in defaults. `plan-errored` and
    /// `plan-incomplete` always block and cannot be set.
    #[serde(deserialize_with = "rule_settings")]
    pub rules: BTreeMap<RuleId, RuleSetting>,
    /// Severity of a finding whose decision hinges on a value known only after apply
    /// (default `warning`; `error` makes it block). A rule's own severity caps it: a rule that
    /// is a warning or off in an environment stays so.
    pub known_after_apply: RuleSetting,
    /// Findings that are accepted on purpose, each with its reason.
    #[serde(deserialize_with = "exemptions")]
    pub exemptions: Vec<Exemption>,
    /// Expected usage of usage-priced resources (Lambda, log groups, Aurora storage and I/O,
    /// NAT data, load balancer capacity units), so the cost estimate can put a figure on them.
    pub usage: Vec<UsageEstimate>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            required_tags: Vec::new(),
            allowed_tag_values: BTreeMap::new(),
            environment_tag: "Environment".to_string(),
            production_envs: vec!["prod".to_string(), "production".to_string()],
            public_ingress_ports: vec![80, 443],
            backup_retention_days: 7,
            prod_backup_retention_days: 30,
            rules: BTreeMap::new(),
            known_after_apply: RuleSetting::default(),
            exemptions: Vec::new(),
            usage: Vec::new(),
        }
    }
}

fn rule_settings<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<RuleId, RuleSetting>, D::Error> {
    let rules = BTreeMap::<RuleId, RuleSetting>::deserialize(d)?;
    if let Some(rule) = rules.keys().find(|r| r.always_blocks()) {
        return Err(serde::de::Error::custom(format!(
            "`{rule}` cannot be configured: a plan that failed or is incomplete always blocks"
        )));
    }
    Ok(rules)
}

fn exemptions<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Exemption>, D::Error> {
    let list = Vec::<Exemption>::deserialize(d)?;
    if let Some(x) = list.iter().find(|x| x.rule.always_blocks()) {
        return Err(serde::de::Error::custom(format!(
            "`{}` cannot be exempted: a plan that failed or is incomplete always blocks",
            x.rule
        )));
    }
    Ok(list)
}

/// Why a `slipway.toml` could not be read for its `[policy]` table.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

impl PolicyConfig {
    /// Reads the `[policy]` table of a whole `slipway.toml` text, ignoring the other tables
    /// (which belong to other parts of Slipway). A missing `[policy]` gives the defaults.
    /// Errors name the offending key and its line.
    pub fn from_slipway_toml(text: &str) -> Result<PolicyConfig, ConfigError> {
        #[derive(Deserialize)]
        struct Whole {
            #[serde(default)]
            policy: PolicyConfig,
        }
        toml::from_str::<Whole>(text)
            .map(|w| w.policy)
            .map_err(|e| ConfigError(e.to_string()))
    }

    /// Whether an environment is production for the production-only rules.
    pub fn is_production(&self, env: &str) -> bool {
        self.production_envs.iter().any(|p| p == env)
    }

    /// The severity a rule has in an environment: `by_env`, else `severity`, else the default.
    pub fn level(&self, rule: RuleId, env: &str) -> Level {
        if rule.always_blocks() {
            return Level::Error;
        }
        if let Some(setting) = self.rules.get(&rule) {
            if let Some(level) = setting.by_env.get(env) {
                return *level;
            }
            if let Some(level) = setting.severity {
                return level;
            }
        }
        rule.default_level(self.is_production(env))
    }

    /// The severity of a finding of `rule` whose decision hinges on a value known only after
    /// apply: `[policy.known_after_apply]` (default warning), never above the rule's own.
    pub fn known_after_apply_level(&self, rule: RuleId, env: &str) -> Level {
        let own = self.level(rule, env);
        let setting = &self.known_after_apply;
        let kaa = setting
            .by_env
            .get(env)
            .copied()
            .or(setting.severity)
            .unwrap_or(Level::Warning);
        match (own, kaa) {
            (Level::Off, _) | (_, Level::Off) => Level::Off,
            (Level::Warning, _) | (_, Level::Warning) => Level::Warning,
            (Level::Error, Level::Error) => Level::Error,
        }
    }

    /// The exemption covering a finding, if any.
    pub fn exemption_for(&self, rule: RuleId, address: &str, env: &str) -> Option<&Exemption> {
        if rule.always_blocks() {
            return None;
        }
        self.exemptions.iter().find(|x| {
            x.rule == rule
                && x.env.as_deref().is_none_or(|e| e == env)
                && address_matches(&x.address, address)
        })
    }

    /// The usage estimate configured for a resource address, if any.
    pub fn usage_for(&self, address: &str) -> Option<&UsageEstimate> {
        self.usage
            .iter()
            .find(|u| address_matches(&u.address, address))
    }
}

/// Whether an exemption's address pattern covers a resource address. The pattern matches the
/// full address, or the address without its last instance key (`aws_instance.web` covers
/// `aws_instance.web[0]`), or the address without any instance key.
pub fn address_matches(pattern: &str, address: &str) -> bool {
    if glob(pattern, address) {
        return true;
    }
    if let Some(stripped) = address.strip_suffix(']') {
        if let Some(open) = stripped.rfind('[') {
            if glob(pattern, &address[..open]) {
                return true;
            }
        }
    }
    glob(pattern, &crate::plan::strip_instance_keys(address))
}

/// `*` matches any run of characters; everything else matches itself.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Severity settings of one rule.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleSetting {
    /// Severity in every environment without a `by_env` entry.
    #[serde(default)]
    pub severity: Option<Level>,
    /// Severity per environment, e.g. `{ dev = "warning" }`.
    #[serde(default)]
    pub by_env: BTreeMap<String, Level>,
}

/// How a rule's findings count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Blocks the apply.
    Error,
    /// Informs the reviewer.
    Warning,
    /// The rule does not run.
    Off,
}

/// A finding accepted on purpose.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Exemption {
    /// The rule the exemption applies to.
    pub rule: RuleId,
    /// Resource address; `*` matches any characters (e.g. `module.bastion.*`).
    pub address: String,
    /// Only in this environment (all environments when absent).
    #[serde(default)]
    pub env: Option<String>,
    /// Why the finding is accepted; shown next to the finding. Required, non-empty.
    pub reason: Reason,
}

/// A non-empty explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Reason(String);

impl Reason {
    /// The explanation.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.trim().is_empty() {
            return Err(serde::de::Error::custom(
                "`reason` must say why the finding is accepted; it may not be empty",
            ));
        }
        Ok(Reason(s))
    }
}

/// Expected usage of one resource (or every resource matching the address pattern).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UsageEstimate {
    /// Resource address; `*` matches any characters.
    pub address: String,
    /// Lambda: invocations per month.
    #[serde(default)]
    pub monthly_requests: Option<f64>,
    /// Lambda: average duration of one invocation in milliseconds.
    #[serde(default)]
    pub average_duration_ms: Option<f64>,
    /// CloudWatch log group: GB ingested per month.
    #[serde(default)]
    pub monthly_ingested_gb: Option<f64>,
    /// CloudWatch log group or Aurora cluster: GB stored.
    #[serde(default)]
    pub storage_gb: Option<f64>,
    /// Aurora cluster: millions of I/O requests per month.
    #[serde(default)]
    pub monthly_io_millions: Option<f64>,
    /// NAT gateway: GB processed per month.
    #[serde(default)]
    pub monthly_processed_gb: Option<f64>,
    /// Load balancer: average capacity units (LCU or NLCU) per hour.
    #[serde(default)]
    pub capacity_units_per_hour: Option<f64>,
}

macro_rules! rule_ids {
    ($( $(#[$doc:meta])* $variant:ident = $id:literal, prod: $prod:ident, other: $other:ident; )*) => {
        /// A rule's stable id, as written in `slipway.toml` and in findings.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        pub enum RuleId {
            $( $(#[$doc])* #[serde(rename = $id)] $variant, )*
        }

        impl RuleId {
            /// Every rule, in documentation order.
            pub const ALL: &'static [RuleId] = &[$(RuleId::$variant),*];

            /// The stable id, e.g. `sg-open-ingress`.
            pub fn as_str(self) -> &'static str {
                match self { $(RuleId::$variant => $id,)* }
            }

            /// The built-in severity in production and in other environments.
            pub fn default_level(self, production: bool) -> Level {
                match (self, production) {
                    $( (RuleId::$variant, true) => Level::$prod, (RuleId::$variant, false) => Level::$other, )*
                }
            }
        }
    };
}

rule_ids! {
    /// Taggable resources carry every `required_tags` key (`tags_all` counts).
    TagsRequired = "tags-required", prod: Error, other: Error;
    /// Tag values are among `allowed_tag_values`.
    TagsAllowedValues = "tags-allowed-values", prod: Error, other: Error;
    /// The `Environment` tag equals the unit's environment.
    TagsEnvironmentMatch = "tags-environment-match", prod: Error, other: Error;
    /// Security-group ingress from 0.0.0.0/0 or ::/0 only on the public ports (80, 443).
    SgOpenIngress = "sg-open-ingress", prod: Error, other: Error;
    /// RDS instances and Aurora clusters have `storage_encrypted`.
    DbStorageEncrypted = "db-storage-encrypted", prod: Error, other: Error;
    /// Production databases have `deletion_protection`.
    DbDeletionProtection = "db-deletion-protection", prod: Error, other: Off;
    /// Backup retention of at least 7 days (30 in production).
    DbBackupRetention = "db-backup-retention", prod: Error, other: Error;
    /// Production databases are Multi-AZ, or Aurora clusters with at least two instances.
    DbMultiAz = "db-multi-az", prod: Error, other: Off;
    /// No database is `publicly_accessible`.
    DbPubliclyAccessible = "db-publicly-accessible", prod: Error, other: Error;
    /// S3 buckets declare server-side encryption.
    S3Encryption = "s3-encryption", prod: Error, other: Error;
    /// S3 buckets have a public access block with all four settings on.
    S3PublicAccessBlock = "s3-public-access-block", prod: Error, other: Error;
    /// Production VPCs have flow logs.
    VpcFlowLogs = "vpc-flow-logs", prod: Error, other: Off;
    /// Destroying (or replacing) a database or another stateful resource.
    ProdStatefulDestroy = "prod-stateful-destroy", prod: Error, other: Warning;
    /// Terraform reported errors while planning (`errored`): always blocks.
    PlanErrored = "plan-errored", prod: Error, other: Error;
    /// The plan is not complete (`complete: false`): always blocks.
    PlanIncomplete = "plan-incomplete", prod: Error, other: Error;
    /// A check block, precondition, postcondition or variable validation fails or errors.
    CheckFailed = "check-failed", prod: Error, other: Error;
    /// A check whose result is known only after apply.
    CheckUnknown = "check-unknown", prod: Warning, other: Warning;
    /// A resource change with an action list Slipway does not know.
    UnknownAction = "unknown-action", prod: Error, other: Warning;
}

impl RuleId {
    /// Whether the rule blocks whatever `slipway.toml` says (no severity, no exemption).
    pub fn always_blocks(self) -> bool {
        matches!(self, RuleId::PlanErrored | RuleId::PlanIncomplete)
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RuleId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RuleId::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown rule id `{s}`; the rules are: {}", known.join(", "))
            })
    }
}

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
