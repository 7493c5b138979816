//! A typed model of `terraform show -json PLANFILE` output, format_version 0.1 through 1.2.
//!
//! Only what Slipway reads is modelled; unknown fields are ignored so newer terraform (and
//! OpenTofu) output keeps parsing. `planned_values` and `prior_state` repeat what
//! `resource_changes` already says and are skipped without being kept in memory.
//!
//! The values of a change (`before`, `after` and their markers) are kept as raw JSON text
//! ([`RawJson`]) and parsed when a rule or a renderer needs them ([`ResourceChange::view`]):
//! a parsed `serde_json::Value` takes five to ten times the memory of its text, and a
//! 10,000-resource plan must stay within three times its file size.
//!
//! Sensitive values stay inside [`Change`]'s raw `before`/`after` (whose `Debug` prints only
//! their size); everything meant for display goes through [`Shown`], which masks them.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::path::{AttrPath, PathSeg};

/// Highest format_version major this model understands.
const SUPPORTED_MAJORS: &[u64] = &[0, 1];

/// Why a file could not be read as a terraform plan JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The file holds no bytes, or only whitespace.
    #[error("the plan file is empty; write it with `terraform show -json PLANFILE > plan.json`")]
    Empty,
    /// The JSON stops before it is complete.
    #[error(
        "the plan JSON is truncated: it ends at line {line}, column {column} before the document is complete \
         (was the file cut off while being written or uploaded?)"
    )]
    Truncated {
        /// Line (1-based) where the input ended.
        line: usize,
        /// Column (1-based) where the input ended.
        column: usize,
    },
    /// The file does not start like JSON; `found` says what it looks like instead.
    #[error("the plan file is not JSON: it starts with {found}; {hint}")]
    NotJson {
        /// A description of what the file starts with.
        found: String,
        /// What to do about it.
        hint: &'static str,
    },
    /// The JSON is malformed.
    #[error("the plan file is not valid JSON at line {line}, column {column}: {message}{hint}")]
    InvalidJson {
        /// Line (1-based) of the error.
        line: usize,
        /// Column (1-based) of the error.
        column: usize,
        /// What the JSON parser found wrong.
        message: String,
        /// Extra advice, empty or starting with "; ".
        hint: &'static str,
    },
    /// Valid JSON, but not a plan (no `format_version`, or a state instead of a plan).
    #[error("the file is JSON but not a terraform plan: {what}; write it with `terraform show -json PLANFILE`")]
    NotAPlan {
        /// What the JSON looks like instead.
        what: String,
    },
    /// A plan whose format_version major is newer than Slipway understands.
    #[error(
        "plan format_version {version} is newer than Slipway reads (0.1 through 1.x); \
         upgrade Slipway or produce the plan with an older terraform"
    )]
    UnsupportedVersion {
        /// The format_version found.
        version: String,
    },
    /// A plan-shaped document with a field of the wrong shape.
    #[error("the plan JSON has an unexpected shape at line {line}, column {column}: {message}")]
    InvalidPlan {
        /// Line (1-based) of the error.
        line: usize,
        /// Column (1-based) of the error.
        column: usize,
        /// What was wrong.
        message: String,
    },
    /// A resource change whose values have the wrong shape: its findings could not be
    /// judged, so the plan is refused rather than half-read.
    #[error("the plan's {section} entry for {address} is invalid: {message}")]
    InvalidResource {
        /// `resource_changes`, `resource_drift` or `deferred_changes`.
        section: &'static str,
        /// The resource's address (or type and name when the address is missing).
        address: String,
        /// What is wrong.
        message: String,
    },
    /// UTF-16 text that does not decode (an unpaired surrogate).
    #[error("the plan file starts with a UTF-16 byte-order mark but is not valid UTF-16 ({endianness}) text")]
    BadUtf16 {
        /// "little-endian" or "big-endian".
        endianness: &'static str,
    },
}

/// A parsed plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The JSON format version, e.g. "1.2".
    pub format_version: String,
    /// Version of terraform (or OpenTofu) that wrote the plan.
    pub terraform_version: Option<String>,
    /// Planned changes to resources, in terraform's order.
    pub resource_changes: Vec<ResourceChange>,
    /// Changes terraform detected outside of terraform (informational).
    pub resource_drift: Vec<ResourceChange>,
    /// Planned changes to root module outputs.
    pub output_changes: BTreeMap<String, OutputChange>,
    /// Root module input variables that are not marked sensitive (values only).
    pub variables: BTreeMap<String, Value>,
    /// Provider configurations and the provider of each configured resource.
    pub configuration: Configuration,
    /// Whether planning failed part-way (`errored`, terraform 1.5+): the changes listed are
    /// only what terraform planned before it stopped.
    pub errored: bool,
    /// Whether the plan covers everything (`complete`, terraform 1.8+; absent means true).
    /// An incomplete plan leaves changes for a later plan and apply ([`Plan::deferred_changes`]).
    pub complete: bool,
    /// Results of check blocks, pre- and postconditions and variable validations (`checks`,
    /// terraform 1.5+).
    pub checks: Vec<CheckResult>,
    /// Changes terraform knows of but left for a later round (`deferred_changes`, terraform
    /// 1.9+ with deferred actions), in terraform's order.
    pub deferred_changes: Vec<DeferredChange>,
}

/// The status of one checkable object (a resource's conditions, an output's preconditions, a
/// `check` block, a variable's validations) or of one of its instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// Every condition holds.
    Pass,
    /// A condition does not hold.
    Fail,
    /// A condition could not be evaluated (an error in the condition itself).
    Error,
    /// A condition depends on values known only after apply, or was not evaluated.
    #[serde(other)]
    Unknown,
}

impl CheckStatus {
    /// `pass`, `fail`, `error` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::Error => "error",
            CheckStatus::Unknown => "unknown",
        }
    }
}

/// One entry of the plan's `checks`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// The checkable object as terraform displays it (`check.health`, `aws_instance.web`,
    /// `output.url`, `var.env`).
    pub address: String,
    /// `resource`, `output_value`, `check`, `var` (as written; others are kept as they are).
    pub kind: String,
    /// The aggregate status.
    pub status: CheckStatus,
    /// Per-instance results (empty when the object has no instances, or none were evaluated).
    pub instances: Vec<CheckInstance>,
}

/// One instance of a checkable object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInstance {
    /// The instance as terraform displays it (`aws_instance.web[0]`).
    pub address: String,
    /// Its status.
    pub status: CheckStatus,
    /// The error messages of the failing conditions.
    pub problems: Vec<String>,
}

/// One entry of `deferred_changes`: a change terraform left for a later plan.
#[derive(Debug, Clone, PartialEq)]
pub struct DeferredChange {
    /// Why it was deferred, as terraform writes it (`instance_count_unknown`,
    /// `resource_config_unknown`, `provider_config_unknown`, `absent_prereq`,
    /// `deferred_prereq`, ...).
    pub reason: String,
    /// The change as far as terraform planned it.
    pub change: ResourceChange,
}

/// What the plan does to one resource instance. Serializes as terraform's `actions` array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `["create"]`
    Create,
    /// `["update"]`
    Update,
    /// `["delete"]`
    Delete,
    /// `["delete","create"]` (`create_before_destroy: false`) or `["create","delete"]` (true).
    Replace {
        /// Whether the new object is created before the old one is destroyed.
        create_before_destroy: bool,
    },
    /// `["no-op"]`
    NoOp,
    /// `["read"]` (data sources read during apply)
    Read,
    /// `["forget"]` (removed from state without destroying, terraform 1.7+)
    Forget,
    /// An action list Slipway does not know (for example `["create","forget"]`, which newer
    /// terraform writes for `lifecycle { destroy = false }`); the list as written is in
    /// [`ResourceChange::unknown_actions`].
    Unknown,
}

impl Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.actions().serialize(s)
    }
}

impl Action {
    /// Terraform's `actions` array for this action.
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            Action::Create => &["create"],
            Action::Update => &["update"],
            Action::Delete => &["delete"],
            Action::Replace {
                create_before_destroy: false,
            } => &["delete", "create"],
            Action::Replace {
                create_before_destroy: true,
            } => &["create", "delete"],
            Action::NoOp => &["no-op"],
            Action::Read => &["read"],
            Action::Forget => &["forget"],
            Action::Unknown => &["unknown"],
        }
    }

    /// Parses terraform's `actions` array.
    pub fn from_actions<S: AsRef<str>>(actions: &[S]) -> Option<Action> {
        let a: Vec<&str> = actions.iter().map(AsRef::as_ref).collect();
        Some(match a.as_slice() {
            ["create"] => Action::Create,
            ["update"] => Action::Update,
            ["delete"] => Action::Delete,
            ["delete", "create"] => Action::Replace {
                create_before_destroy: false,
            },
            ["create", "delete"] => Action::Replace {
                create_before_destroy: true,
            },
            ["no-op"] => Action::NoOp,
            ["read"] => Action::Read,
            ["forget"] => Action::Forget,
            _ => return None,
        })
    }

    /// Whether the action destroys the existing object (delete or either kind of replace).
    /// For [`Action::Unknown`] ask [`ResourceChange::destroys`], which reads the list.
    pub fn destroys(self) -> bool {
        matches!(self, Action::Delete | Action::Replace { .. })
    }

    /// Whether the action results in an object existing after apply (create, update, replace, no-op).
    pub fn keeps_or_creates(self) -> bool {
        matches!(
            self,
            Action::Create | Action::Update | Action::Replace { .. } | Action::NoOp
        )
    }

    /// A short verb as in terraform's human output: "create", "update in-place", "destroy", ...
    pub fn verb(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update in-place",
            Action::Delete => "destroy",
            Action::Replace {
                create_before_destroy: false,
            } => "destroy and then create replacement",
            Action::Replace {
                create_before_destroy: true,
            } => "create replacement and then destroy",
            Action::NoOp => "no-op",
            Action::Read => "read",
            Action::Forget => "forget",
            Action::Unknown => "unknown action",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.verb())
    }
}

/// Whether a resource is managed or a data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A `resource` block.
    Managed,
    /// A `data` block.
    Data,
    /// A mode this version of Slipway does not know (e.g. from a newer terraform).
    #[serde(other)]
    Other,
}

/// The instance key of a resource with `count` or `for_each`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(untagged)]
pub enum InstanceKey {
    /// `count` index.
    Int(i64),
    /// `for_each` key.
    Str(String),
}

/// Import details of a resource change (format 1.2+, terraform 1.5+).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
pub struct Importing {
    /// The remote object id being imported.
    #[serde(default)]
    pub id: Option<String>,
}

/// One resource instance in `resource_changes`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceChange {
    /// Full address, e.g. `module.db.aws_db_instance.this[0]`.
    pub address: String,
    /// Address of the module instance, e.g. `module.db` (None in the root module).
    pub module_address: Option<String>,
    /// Managed resource or data source.
    pub mode: Mode,
    /// Resource type, e.g. `aws_db_instance`.
    pub type_name: String,
    /// Resource name, e.g. `this`.
    pub name: String,
    /// `count` or `for_each` key.
    pub index: Option<InstanceKey>,
    /// Provider source address, e.g. `registry.terraform.io/hashicorp/aws`.
    pub provider_name: String,
    /// Address before a `moved` block or a refactoring moved it (format 1.0+).
    pub previous_address: Option<String>,
    /// Set when this change is about a deposed object (a leftover of create_before_destroy).
    pub deposed: Option<String>,
    /// What terraform plans to do.
    pub action: Action,
    /// The values before and after.
    pub change: Change,
    /// Why terraform chose this action, e.g. `replace_because_cannot_update` (format 1.1+).
    pub action_reason: Option<String>,
    /// Set when the resource is being imported (format 1.2+).
    pub importing: Option<Importing>,
    /// The `actions` list as written when it is one Slipway does not know ([`Action::Unknown`]);
    /// empty otherwise.
    pub unknown_actions: Vec<String>,
}

/// A JSON value kept as its raw text, parsed on demand. `Debug` shows only its size, so a
/// sensitive value never reaches a log through it.
#[derive(Clone, Default)]
pub struct RawJson(Option<Box<RawValue>>);

impl PartialEq for RawJson {
    /// Equal when the JSON values are: writers differ in escapes (Go writes `<` as `\u003c`),
    /// number forms and spacing. The texts are compared first, values only when those differ.
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text() || self.parse() == other.parse()
    }
}

impl Eq for RawJson {}

impl RawJson {
    /// The parsed value (`Value::Null` when absent).
    pub fn parse(&self) -> Value {
        match &self.0 {
            Some(raw) => serde_json::from_str(raw.get()).unwrap_or(Value::Null),
            None => Value::Null,
        }
    }

    /// The raw JSON text (`null` when absent).
    pub fn text(&self) -> &str {
        self.0.as_deref().map_or("null", RawValue::get)
    }

    /// Whether the value is absent or JSON `null`.
    pub fn is_null(&self) -> bool {
        self.text() == "null"
    }

    /// Keeps a value as raw JSON.
    pub fn from_value(value: &Value) -> RawJson {
        RawJson(serde_json::value::to_raw_value(value).ok())
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawJson(<{} bytes>)", self.text().len())
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(RawJson(Some(Box::<RawValue>::deserialize(d)?)))
    }
}

/// Values before and after a change, as raw JSON. They may hold sensitive values: display
/// them through [`ResourceChange::attribute_changes`] or [`Shown`], which mask them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Change {
    /// The object before (null when creating).
    pub before: RawJson,
    /// The known part of the object after (null when deleting).
    pub after: RawJson,
    /// `true` where the after value is known only after apply (same shape as `after`).
    pub after_unknown: RawJson,
    /// `true` where the before value is sensitive (absent before format 0.2: nothing marked).
    pub before_sensitive: RawJson,
    /// `true` where the after value is sensitive.
    pub after_sensitive: RawJson,
    /// Attribute paths whose change forces replacement.
    pub replace_paths: Vec<AttrPath>,
}

impl Change {
    /// Parses the five values.
    pub fn parse(&self) -> ParsedChange {
        ParsedChange {
            before: self.before.parse(),
            after: self.after.parse(),
            after_unknown: self.after_unknown.parse(),
            before_sensitive: self.before_sensitive.parse(),
            after_sensitive: self.after_sensitive.parse(),
        }
    }
}

/// A [`Change`] with its values parsed. `Debug` does not print the values.
#[derive(Clone, PartialEq, Default)]
pub struct ParsedChange {
    /// The object before (null when creating).
    pub before: Value,
    /// The known part of the object after (null when deleting).
    pub after: Value,
    /// `true` where the after value is known only after apply.
    pub after_unknown: Value,
    /// `true` where the before value is sensitive.
    pub before_sensitive: Value,
    /// `true` where the after value is sensitive.
    pub after_sensitive: Value,
}

impl fmt::Debug for ParsedChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ParsedChange { .. }")
    }
}

/// A resource change with its values parsed: what rules and renderers read. Derefs to the
/// [`ResourceChange`] for address, type, action and so on.
#[derive(Debug, Clone)]
pub struct ResourceView<'a> {
    /// The resource change.
    pub rc: &'a ResourceChange,
    /// Its parsed values.
    pub change: ParsedChange,
}

impl std::ops::Deref for ResourceView<'_> {
    type Target = ResourceChange;
    fn deref(&self) -> &ResourceChange {
        self.rc
    }
}

/// One planned output change.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputChange {
    /// What happens to the output.
    pub action: Action,
    /// Raw value before (may be sensitive: display with [`OutputChange::shown_before`]).
    pub before: Value,
    /// Raw value after (may be sensitive: display with [`OutputChange::shown_after`]).
    pub after: Value,
    /// Whether (or where) the after value is unknown until apply.
    pub after_unknown: Value,
    /// Whether (or where) the before value is sensitive.
    pub before_sensitive: Value,
    /// Whether (or where) the after value is sensitive.
    pub after_sensitive: Value,
    /// Whether the configuration declares the output `sensitive = true` (older formats carry
    /// no sensitivity markers on output changes, only this).
    pub sensitive_in_config: bool,
}

impl OutputChange {
    fn masked(&self, name_hint: &str) -> bool {
        self.sensitive_in_config || looks_secret(name_hint)
    }

    /// The before value for display (None when there was no output).
    pub fn shown_before(&self) -> Option<Shown> {
        self.shown_before_named("")
    }

    /// The after value for display (None when the output is removed).
    pub fn shown_after(&self) -> Option<Shown> {
        self.shown_after_named("")
    }

    /// Like [`OutputChange::shown_before`], also masking outputs whose name looks secret.
    pub fn shown_before_named(&self, name: &str) -> Option<Shown> {
        let shown = shown_whole(&self.before, &self.before_sensitive, &Value::Null)?;
        Some(if self.masked(name) {
            Shown::Sensitive
        } else {
            shown
        })
    }

    /// Like [`OutputChange::shown_after`], also masking outputs whose name looks secret.
    pub fn shown_after_named(&self, name: &str) -> Option<Shown> {
        let shown = shown_whole(&self.after, &self.after_sensitive, &self.after_unknown)?;
        Some(match shown {
            Shown::Value(_) if self.masked(name) => Shown::Sensitive,
            other => other,
        })
    }
}

/// Attribute names whose values are secrets whatever the markers say: plans in format 0.1
/// (terraform 0.12/0.13) carry no sensitivity markers at all.
pub fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    let secretish = [
        "password",
        "secret",
        "private_key",
        "token",
        "passphrase",
        "credential",
    ]
    .iter()
    .any(|w| n.contains(w));
    let reference = [
        "_arn", "_id", "_name", "_enabled", "_ttl", "_type", "_length", "_version",
    ]
    .iter()
    .any(|suffix| n.ends_with(suffix));
    secretish && !reference
}

/// Attributes that providers mark sensitive without a secret-looking name.
const SENSITIVE_ATTRIBUTES: &[(&str, &str)] = &[
    ("random_password", "result"),
    ("random_password", "bcrypt_hash"),
    ("aws_ssm_parameter", "value"),
    ("aws_secretsmanager_secret_version", "secret_binary"),
    ("aws_iam_access_key", "ses_smtp_password_v4"),
    ("tls_private_key", "private_key_pem"),
];

fn shown_whole(value: &Value, sensitive: &Value, unknown: &Value) -> Option<Shown> {
    if marker_any(sensitive) {
        return Some(Shown::Sensitive);
    }
    if unknown == &Value::Bool(true) {
        return Some(Shown::Unknown);
    }
    if value.is_null() {
        return None;
    }
    if marker_any(unknown) {
        return Some(Shown::Unknown);
    }
    Some(Shown::Value(render_scalar(value)))
}

/// Whether a sensitivity or unknown marker marks anything at all.
fn marker_any(marker: &Value) -> bool {
    match marker {
        Value::Bool(b) => *b,
        Value::Array(a) => a.iter().any(marker_any),
        Value::Object(o) => o.values().any(marker_any),
        _ => false,
    }
}

/// A value as it may be shown to a reviewer: never a sensitive value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub enum Shown {
    /// A non-sensitive, known value rendered as JSON (strings quoted).
    Value(String),
    /// A sensitive value: rendered as `(sensitive value)`.
    Sensitive,
    /// A value known only after apply: rendered as `(known after apply)`.
    Unknown,
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shown::Value(v) => f.write_str(v),
            Shown::Sensitive => f.write_str("(sensitive value)"),
            Shown::Unknown => f.write_str("(known after apply)"),
        }
    }
}

impl From<Shown> for String {
    fn from(s: Shown) -> String {
        s.to_string()
    }
}

/// One changed leaf attribute of a resource change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttributeChange {
    /// Path such as `triggers.version`, `ingress[0].cidr_blocks[1]` or `tags["kubernetes.io/role"]`.
    pub path: String,
    /// The value before (None when the attribute was not set).
    pub before: Option<Shown>,
    /// The value after (None when the attribute is removed).
    pub after: Option<Shown>,
    /// Whether changing this attribute forces the resource to be replaced.
    pub forces_replacement: bool,
}

/// Counts of a plan, consistent with terraform's `Plan: X to add, Y to change, Z to destroy.` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Summary {
    /// Objects created, replacements included (terraform's "to add").
    pub add: usize,
    /// Objects updated in place (terraform's "to change").
    pub change: usize,
    /// Objects destroyed, replacements included (terraform's "to destroy").
    pub destroy: usize,
    /// Replacements (each is also one add and one destroy).
    pub replace: usize,
    /// Resources imported (terraform's "to import").
    pub import: usize,
    /// Resources whose address moved.
    pub r#move: usize,
    /// Data sources read during apply.
    pub read: usize,
    /// Resources removed from state without being destroyed (terraform's "to forget").
    pub forget: usize,
    /// Resources whose action list Slipway does not know.
    pub unknown: usize,
}

impl Summary {
    /// Whether the plan changes no infrastructure (terraform's "No changes.").
    pub fn is_empty(&self) -> bool {
        self.add == 0
            && self.change == 0
            && self.destroy == 0
            && self.import == 0
            && self.forget == 0
            && self.unknown == 0
    }
}

impl fmt::Display for Summary {
    /// Terraform's summary line, e.g. `Plan: 1 to import, 2 to add, 0 to change, 1 to destroy.`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("No changes.");
        }
        f.write_str("Plan: ")?;
        if self.import > 0 {
            write!(f, "{} to import, ", self.import)?;
        }
        write!(
            f,
            "{} to add, {} to change, {} to destroy",
            self.add, self.change, self.destroy
        )?;
        if self.forget > 0 {
            write!(f, ", {} to forget", self.forget)?;
        }
        f.write_str(".")?;
        if self.unknown > 0 {
            write!(f, " {} with an action Slipway does not know.", self.unknown)?;
        }
        Ok(())
    }
}

/// What Slipway keeps of the plan's `configuration`: provider settings and resource wiring.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Configuration {
    /// Provider configurations by key (`aws`, `aws.west`, `module.child:aws`).
    pub provider_configs: BTreeMap<String, ProviderConfig>,
    /// Configured resources by module path and module-relative address
    /// (`("module.db", "aws_db_instance.this")`; root module path is "").
    pub resources: BTreeMap<(String, String), ConfigResource>,
}

/// One provider configuration block.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProviderConfig {
    /// Provider local name, e.g. `aws`.
    pub name: String,
    /// Alias, if any.
    pub alias: Option<String>,
    /// Module path the block lives in ("" for the root module).
    pub module_address: String,
    /// `region` when it is a constant.
    pub region: Option<String>,
    /// Where `region` comes from when it is not a constant (e.g. `var.region`).
    pub region_references: Vec<String>,
}

/// One configured `resource` block.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConfigResource {
    /// Key into [`Configuration::provider_configs`].
    pub provider_config_key: String,
    /// For each top-level argument that refers to other objects, the references (e.g.
    /// `task_definition` -> `["aws_ecs_task_definition.app.arn", "aws_ecs_task_definition.app"]`).
    pub references: BTreeMap<String, Vec<String>>,
    /// The top-level arguments and blocks the configuration sets (`dynamic` blocks are not
    /// in terraform's JSON and so not here).
    pub arguments: Vec<String>,
}

impl Configuration {
    /// The provider configuration that serves a resource instance.
    pub fn provider_for(&self, rc: &ResourceChange) -> Option<&ProviderConfig> {
        let module = strip_instance_keys(rc.module_address.as_deref().unwrap_or(""));
        let local = format!("{}.{}", rc.type_name, rc.name);
        let local = if rc.mode == Mode::Data {
            format!("data.{local}")
        } else {
            local
        };
        let key = self
            .resources
            .get(&(module.clone(), local))
            .map(|r| r.provider_config_key.clone());
        let provider_local = rc
            .type_name
            .split('_')
            .next()
            .unwrap_or_default()
            .to_string();
        let key = key.unwrap_or_else(|| {
            if module.is_empty() {
                provider_local.clone()
            } else {
                format!("{module}:{provider_local}")
            }
        });
        if let Some(p) = self.provider_configs.get(&key) {
            return Some(p);
        }
        // Older terraform wrote keys like `child:aws` for a provider a child module inherits:
        // walk up to the parent modules' (and finally the root's) default configuration.
        let name = key.rsplit(':').next().unwrap_or(&key).to_string();
        let mut path: Vec<&str> = module.split('.').filter(|s| !s.is_empty()).collect();
        while path.len() >= 2 {
            path.truncate(path.len() - 2);
            let prefix = path.join(".");
            let k = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}:{name}")
            };
            if let Some(p) = self.provider_configs.get(&k) {
                return Some(p);
            }
        }
        None
    }

    /// The configured resource block of a resource instance.
    pub fn resource_for(&self, rc: &ResourceChange) -> Option<&ConfigResource> {
        let module = strip_instance_keys(rc.module_address.as_deref().unwrap_or(""));
        let local = match rc.mode {
            Mode::Data => format!("data.{}.{}", rc.type_name, rc.name),
            _ => format!("{}.{}", rc.type_name, rc.name),
        };
        self.resources.get(&(module, local))
    }
}

/// `module.a["x"].module.b[0]` -> `module.a.module.b`.
pub fn strip_instance_keys(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    for c in address.chars() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '"' if depth > 0 => in_str = true,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

impl Plan {
    /// Parses the output of `terraform show -json PLANFILE` (UTF-8, with or without a
    /// byte-order mark, or UTF-16 as PowerShell's `>` writes it).
    pub fn parse(bytes: &[u8]) -> Result<Plan, PlanError> {
        let decoded = decode(bytes)?;
        let bytes = precheck(&decoded)?;
        let raw: RawPlan = serde_json::from_slice(bytes).map_err(|e| json_error(bytes, &e))?;
        raw.into_plan()
    }

    /// Every change the rules look at: `resource_changes`, then the deferred ones.
    pub fn all_changes(&self) -> impl Iterator<Item = &ResourceChange> {
        self.resource_changes
            .iter()
            .chain(self.deferred_changes.iter().map(|d| &d.change))
    }

    /// Whether the plan can be trusted to show everything: it did not fail part-way and is
    /// complete.
    pub fn is_whole(&self) -> bool {
        !self.errored && self.complete
    }

    /// Counts as in terraform's summary line, plus replacements, imports, moves and reads.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for rc in &self.resource_changes {
            if rc.importing.is_some() {
                s.import += 1;
            }
            if rc.previous_address.is_some() {
                s.r#move += 1;
            }
            if rc.mode == Mode::Data {
                if rc.action == Action::Read {
                    s.read += 1;
                }
                continue;
            }
            match rc.action {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Delete => s.destroy += 1,
                Action::Replace { .. } => {
                    s.add += 1;
                    s.destroy += 1;
                    s.replace += 1;
                }
                Action::Read => s.read += 1,
                Action::Forget => s.forget += 1,
                Action::NoOp => {}
                Action::Unknown => s.unknown += 1,
            }
        }
        s
    }

    /// The resource change at an exact address (the current object, not a deposed one).
    pub fn resource(&self, address: &str) -> Option<&ResourceChange> {
        self.resource_changes
            .iter()
            .find(|rc| rc.address == address && rc.deposed.is_none())
    }

    /// The region a resource lives in, when the plan says so: the resource's own `region`
    /// argument (AWS provider 6+), else its provider configuration's constant `region` or a
    /// root variable it refers to.
    pub fn region_of(&self, rc: &ResourceChange) -> Option<String> {
        self.region_of_view(&rc.view())
    }

    /// [`Plan::region_of`] for an already parsed resource change.
    pub fn region_of_view(&self, v: &ResourceView<'_>) -> Option<String> {
        for side in [&v.change.after, &v.change.before] {
            if let Some(r) = side.get("region").and_then(Value::as_str) {
                if !marker_at(&v.change.after_sensitive, &[PathSeg::Key("region".into())]) {
                    return Some(r.to_string());
                }
            }
        }
        let p = self.configuration.provider_for(v.rc)?;
        if let Some(r) = &p.region {
            return Some(r.clone());
        }
        if p.module_address.is_empty() {
            for reference in &p.region_references {
                if let Some(var) = reference.strip_prefix("var.") {
                    if let Some(v) = self.variables.get(var).and_then(Value::as_str) {
                        return Some(v.to_string());
                    }
                }
            }
        }
        None
    }
}

/// Whether a sensitivity marker marks the given path (or one of its ancestors).
fn marker_at(marker: &Value, path: &[PathSeg]) -> bool {
    let mut m = marker;
    for seg in path {
        if m == &Value::Bool(true) {
            return true;
        }
        m = match (seg, m) {
            (PathSeg::Key(k), Value::Object(o)) => match o.get(k) {
                Some(v) => v,
                None => return false,
            },
            (PathSeg::Index(i), Value::Array(a)) => match a.get(*i) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    marker_any(m)
}

// ---------------------------------------------------------------------------------------------
// Reading the raw bytes

const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

/// The bytes as UTF-8: UTF-16 (PowerShell's `>` writes it, with a byte-order mark; without
/// one it is recognised by ASCII alternating with NUL bytes) is converted, anything else is
/// borrowed as it is.
fn decode(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, PlanError> {
    let utf16 = if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        Some((rest, false))
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        Some((rest, true))
    } else {
        let head = &bytes[..bytes.len().min(64)];
        let even_nul = head.iter().step_by(2).filter(|b| **b == 0).count();
        let odd_nul = head.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
        let half = head.len() / 2;
        if head.len() < 4 {
            None
        } else if odd_nul * 4 >= half * 3 && even_nul == 0 {
            Some((bytes, false))
        } else if even_nul * 4 >= half * 3 && odd_nul == 0 {
            Some((bytes, true))
        } else {
            None
        }
    };
    let Some((body, big_endian)) = utf16 else {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    };
    let units = body.chunks(2).map(|c| match (c, big_endian) {
        ([a, b], false) => u16::from_le_bytes([*a, *b]),
        ([a, b], true) => u16::from_be_bytes([*a, *b]),
        // An odd trailing byte: not UTF-16 text.
        _ => 0xD800,
    });
    let mut out = String::with_capacity(body.len() / 2);
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => out.push(c),
            Err(_) => {
                return Err(PlanError::BadUtf16 {
                    endianness: if big_endian {
                        "big-endian"
                    } else {
                        "little-endian"
                    },
                })
            }
        }
    }
    Ok(std::borrow::Cow::Owned(out.into_bytes()))
}

fn precheck(bytes: &[u8]) -> Result<&[u8], PlanError> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    // A UTF-16 byte-order mark converted to UTF-8 is U+FEFF: the same BOM again.
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return Err(PlanError::Empty);
    };
    let rest = &bytes[start..];
    match rest[0] {
        b'{' => Ok(bytes),
        b'[' if !rest.starts_with(b"[command]") => Err(PlanError::NotAPlan {
            what: describe_array(rest),
        }),
        _ => Err(describe_non_json(rest)),
    }
}

const HINT_SHOW_JSON: &str =
    "write the plan JSON with `terraform plan -out=PLANFILE` then `terraform show -json PLANFILE > plan.json`";
const HINT_WRAPPER: &str = "the GitHub Actions terraform wrapper adds these lines around terraform's output: \
     set `terraform_wrapper: false` in hashicorp/setup-terraform, or redirect `terraform show -json PLANFILE` to a file";

/// What a top-level JSON array is: checkov writes one report per framework in an array.
fn describe_array(rest: &[u8]) -> String {
    let first = serde_json::from_slice::<Vec<Value>>(rest)
        .ok()
        .and_then(|a| a.into_iter().next());
    match first {
        Some(v) if v.get("check_type").is_some() => {
            "it is checkov's report (`check_type`, `results`), not a plan".to_string()
        }
        _ => "the top level is a JSON array, a plan is an object".to_string(),
    }
}

fn describe_non_json(rest: &[u8]) -> PlanError {
    let first_line: String = String::from_utf8_lossy(&rest[..rest.len().min(200)])
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(60)
        .collect();
    let text = String::from_utf8_lossy(&rest[..rest.len().min(4096)]);
    if rest.starts_with(b"[command]") || rest.starts_with(b"::debug::") {
        return PlanError::NotJson {
            found: format!("a GitHub Actions wrapper line (`{first_line}`)"),
            hint: HINT_WRAPPER,
        };
    }
    if rest.starts_with(b"PK\x03\x04") {
        return PlanError::NotJson {
            found: "a zip archive, which is the binary plan file itself".to_string(),
            hint: HINT_SHOW_JSON,
        };
    }
    let human_markers = [
        "Terraform will perform",
        "Terraform used the selected providers",
        "An execution plan has been generated",
        "No changes.",
        "Refreshing state...",
        "Plan:",
        "OpenTofu will perform",
        "Initializing",
        "Acquiring state lock",
        "\u{1b}[",
    ];
    if human_markers.iter().any(|m| text.contains(m)) {
        return PlanError::NotJson {
            found: format!("terraform's human-readable output (`{first_line}`)"),
            hint: HINT_SHOW_JSON,
        };
    }
    PlanError::NotJson {
        found: format!("`{first_line}`"),
        hint: HINT_SHOW_JSON,
    }
}

fn json_error(bytes: &[u8], e: &serde_json::Error) -> PlanError {
    use serde_json::error::Category;
    let (line, column) = (e.line(), e.column());
    match e.classify() {
        Category::Eof => PlanError::Truncated { line, column },
        Category::Syntax => {
            let message = strip_position(&e.to_string());
            let hint = if message.contains("trailing characters") && trailing_is_wrapper(bytes) {
                "; the JSON is followed by GitHub Actions wrapper lines: set `terraform_wrapper: false` in hashicorp/setup-terraform"
            } else if message.contains("trailing characters") {
                "; something was written after the JSON document"
            } else {
                ""
            };
            PlanError::InvalidJson {
                line,
                column,
                message,
                hint,
            }
        }
        Category::Io => PlanError::InvalidJson {
            line,
            column,
            message: strip_position(&e.to_string()),
            hint: "",
        },
        Category::Data => PlanError::InvalidPlan {
            line,
            column,
            message: strip_position(&e.to_string()),
        },
    }
}

fn trailing_is_wrapper(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&bytes[bytes.len().saturating_sub(4096)..]);
    text.contains("::debug::") || text.contains("::set-output") || text.contains("[command]")
}

/// serde_json appends " at line L column C"; the error variants carry those separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Raw serde shapes

#[derive(Deserialize)]
struct RawPlan {
    #[serde(default)]
    format_version: Option<String>,
    #[serde(default)]
    terraform_version: Option<String>,
    #[serde(default)]
    variables: Option<BTreeMap<String, RawVariable>>,
    #[serde(default)]
    resource_changes: Option<Vec<RawResourceChange>>,
    #[serde(default)]
    resource_drift: Vec<RawResourceChange>,
    #[serde(default)]
    output_changes: BTreeMap<String, RawOutputChange>,
    #[serde(default)]
    configuration: Option<RawConfiguration>,
    #[serde(default)]
    planned_values: Option<IgnoredAny>,
    #[serde(default)]
    errored: bool,
    #[serde(default)]
    complete: Option<bool>,
    #[serde(default)]
    checks: Vec<RawCheck>,
    #[serde(default)]
    deferred_changes: Vec<RawDeferred>,
    // Shapes of other documents people mistake for a plan.
    #[serde(default)]
    values: Option<IgnoredAny>,
    #[serde(default)]
    plan_format_version: Option<IgnoredAny>,
    #[serde(default)]
    valid: Option<IgnoredAny>,
    #[serde(default)]
    check_type: Option<IgnoredAny>,
    #[serde(default)]
    projects: Option<IgnoredAny>,
    #[serde(default)]
    issues: Option<IgnoredAny>,
    #[serde(default)]
    results: Option<IgnoredAny>,
    #[serde(default)]
    lineage: Option<IgnoredAny>,
    #[serde(default)]
    provider_schemas: Option<IgnoredAny>,
    #[serde(default, rename = "@level")]
    level: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct RawVariable {
    #[serde(default)]
    value: Value,
}

#[derive(Deserialize)]
struct RawCheck {
    #[serde(default)]
    address: RawCheckAddress,
    #[serde(default = "unknown_status")]
    status: CheckStatus,
    #[serde(default)]
    instances: Vec<RawCheckInstance>,
}

#[derive(Deserialize, Default)]
struct RawCheckAddress {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    to_display: String,
}

#[derive(Deserialize)]
struct RawCheckInstance {
    #[serde(default)]
    address: RawCheckAddress,
    #[serde(default = "unknown_status")]
    status: CheckStatus,
    #[serde(default)]
    problems: Vec<RawProblem>,
}

#[derive(Deserialize)]
struct RawProblem {
    #[serde(default)]
    message: String,
}

fn unknown_status() -> CheckStatus {
    CheckStatus::Unknown
}

#[derive(Deserialize)]
struct RawDeferred {
    #[serde(default)]
    reason: String,
    resource_change: RawResourceChange,
}

#[derive(Deserialize)]
struct RawResourceChange {
    /// Terraform 0.15.4 to 1.0.0 leave it out of `resource_drift` entries.
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    previous_address: Option<String>,
    #[serde(default)]
    module_address: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(rename = "type")]
    type_name: String,
    name: String,
    #[serde(default)]
    index: Option<InstanceKey>,
    #[serde(default)]
    provider_name: String,
    #[serde(default)]
    deposed: Option<String>,
    change: RawChange,
    #[serde(default)]
    action_reason: Option<String>,
}

#[derive(Deserialize)]
struct RawChange {
    actions: Vec<String>,
    #[serde(default)]
    before: RawJson,
    #[serde(default)]
    after: RawJson,
    #[serde(default)]
    after_unknown: RawJson,
    #[serde(default)]
    before_sensitive: RawJson,
    #[serde(default)]
    after_sensitive: RawJson,
    #[serde(default)]
    replace_paths: Vec<Vec<Value>>,
    #[serde(default)]
    importing: Option<Importing>,
}

#[derive(Deserialize)]
struct RawOutputChange {
    actions: Vec<String>,
    #[serde(default)]
    before: Value,
    #[serde(default)]
    after: Value,
    #[serde(default)]
    after_unknown: Value,
    #[serde(default)]
    before_sensitive: Value,
    #[serde(default)]
    after_sensitive: Value,
}

#[derive(Deserialize, Default)]
struct RawConfiguration {
    #[serde(default)]
    provider_config: BTreeMap<String, RawProviderConfig>,
    #[serde(default)]
    root_module: Option<RawModule>,
}

#[derive(Deserialize, Default)]
struct RawProviderConfig {
    #[serde(default)]
    name: String,
    #[serde(default)]
    alias: Option<String>,
    #[serde(default)]
    module_address: Option<String>,
    #[serde(default)]
    expressions: BTreeMap<String, Value>,
}

#[derive(Deserialize, Default)]
struct RawModule {
    #[serde(default)]
    resources: Vec<RawConfigResource>,
    #[serde(default)]
    module_calls: BTreeMap<String, RawModuleCall>,
    #[serde(default)]
    variables: BTreeMap<String, RawConfigVariable>,
    #[serde(default)]
    outputs: BTreeMap<String, RawConfigVariable>,
}

#[derive(Deserialize, Default)]
struct RawConfigVariable {
    #[serde(default)]
    sensitive: bool,
}

#[derive(Deserialize, Default)]
struct RawModuleCall {
    #[serde(default)]
    module: Option<RawModule>,
}

#[derive(Deserialize)]
struct RawConfigResource {
    #[serde(default)]
    address: String,
    #[serde(default)]
    provider_config_key: String,
    #[serde(default)]
    expressions: BTreeMap<String, Value>,
}

impl RawPlan {
    fn into_plan(self) -> Result<Plan, PlanError> {
        let Some(format_version) = self.format_version else {
            let what = if self.lineage.is_some() {
                "it is a raw state file (terraform.tfstate), not a plan".to_string()
            } else if self.plan_format_version.is_some() {
                "it is an HCP Terraform redacted plan (`plan_format_version`, from the run's \
                 json-output-redacted): download the plan's full JSON (`json-output`) or run \
                 `terraform show -json` on the plan file"
                    .to_string()
            } else if self.check_type.is_some() {
                "it is checkov's report (`check_type`, `results`), not a plan".to_string()
            } else if self.projects.is_some() {
                "it is Infracost's output (`projects`), not a plan".to_string()
            } else if self.issues.is_some() {
                "it is tflint's output (`issues`), not a plan".to_string()
            } else if self.results.is_some() {
                "it is a scanner's report (`results`, as tfsec or trivy write), not a plan"
                    .to_string()
            } else if self.level.is_some() {
                "it is one line of terraform's machine-readable UI (`-json` log), not `terraform show -json` output"
                    .to_string()
            } else {
                "it has no `format_version`".to_string()
            };
            return Err(PlanError::NotAPlan { what });
        };
        let major = format_version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u64>().ok());
        let minor_ok = format_version
            .split('.')
            .nth(1)
            .is_none_or(|m| m.parse::<u64>().is_ok());
        match major {
            Some(m) if SUPPORTED_MAJORS.contains(&m) && minor_ok => {}
            // Only a number beyond what Slipway knows is a newer format.
            Some(m) if minor_ok && m > SUPPORTED_MAJORS.iter().copied().max().unwrap_or(0) => {
                return Err(PlanError::UnsupportedVersion {
                    version: format_version,
                })
            }
            _ => {
                return Err(PlanError::NotAPlan {
                    what: format!(
                        "its `format_version` is {:?}, which no terraform or OpenTofu writes",
                        format_version.chars().take(40).collect::<String>()
                    ),
                })
            }
        }
        if self.valid.is_some() && self.resource_changes.is_none() {
            return Err(PlanError::NotAPlan {
                what: "it is `terraform validate -json` output (`valid`)".to_string(),
            });
        }
        if self.resource_changes.is_none()
            && self.planned_values.is_none()
            && !self.errored
            && self.deferred_changes.is_empty()
        {
            let what = if self.values.is_some() {
                "it is `terraform show -json` of a state (it has `values`), not of a plan file"
                    .to_string()
            } else if self.provider_schemas.is_some() {
                "it is `terraform providers schema -json` output".to_string()
            } else {
                "it has neither `resource_changes` nor `planned_values` (as `terraform show -json` \
                 of an empty state)"
                    .to_string()
            };
            return Err(PlanError::NotAPlan { what });
        }
        let configuration = self.configuration.unwrap_or_default();
        let sensitive_vars: Vec<String> = configuration
            .root_module
            .as_ref()
            .map(|m| {
                m.variables
                    .iter()
                    .filter(|(_, v)| v.sensitive)
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default();
        let variables = self
            .variables
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| !sensitive_vars.contains(k))
            .map(|(k, v)| (k, v.value))
            .collect();
        let resource_changes = self
            .resource_changes
            .unwrap_or_default()
            .into_iter()
            .map(|rc| rc.into_change("resource_changes"))
            .collect::<Result<_, _>>()?;
        let resource_drift = self
            .resource_drift
            .into_iter()
            .map(|rc| rc.into_change("resource_drift"))
            .collect::<Result<_, _>>()?;
        let deferred_changes = self
            .deferred_changes
            .into_iter()
            .map(|d| {
                Ok(DeferredChange {
                    reason: d.reason,
                    change: d.resource_change.into_change("deferred_changes")?,
                })
            })
            .collect::<Result<_, PlanError>>()?;
        let checks = self
            .checks
            .into_iter()
            .map(|c| CheckResult {
                address: c.address.to_display,
                kind: c.address.kind,
                status: c.status,
                instances: c
                    .instances
                    .into_iter()
                    .map(|i| CheckInstance {
                        address: i.address.to_display,
                        status: i.status,
                        problems: i.problems.into_iter().map(|p| p.message).collect(),
                    })
                    .collect(),
            })
            .collect();
        let sensitive_outputs: Vec<String> = configuration
            .root_module
            .as_ref()
            .map(|m| {
                m.outputs
                    .iter()
                    .filter(|(_, o)| o.sensitive)
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default();
        let output_changes = self
            .output_changes
            .into_iter()
            .map(|(name, o)| {
                let sensitive_in_config = sensitive_outputs.contains(&name);
                let action = Action::from_actions(&o.actions).unwrap_or(Action::Unknown);
                Ok((
                    name,
                    OutputChange {
                        action,
                        before: o.before,
                        after: o.after,
                        after_unknown: o.after_unknown,
                        before_sensitive: o.before_sensitive,
                        after_sensitive: o.after_sensitive,
                        sensitive_in_config,
                    },
                ))
            })
            .collect::<Result<_, PlanError>>()?;
        Ok(Plan {
            format_version,
            terraform_version: self.terraform_version,
            resource_changes,
            resource_drift,
            output_changes,
            variables,
            configuration: configuration.into_configuration(),
            errored: self.errored,
            complete: self.complete.unwrap_or(true),
            checks,
            deferred_changes,
        })
    }
}

impl RawResourceChange {
    fn into_change(self, section: &'static str) -> Result<ResourceChange, PlanError> {
        let invalid = |message: String| PlanError::InvalidResource {
            section,
            address: self
                .address
                .clone()
                .unwrap_or_else(|| format!("{}.{}", self.type_name, self.name)),
            message,
        };
        let mode = match self.mode.as_deref() {
            None | Some("managed") => Mode::Managed,
            Some("data") => Mode::Data,
            Some(other) => {
                return Err(invalid(format!(
                    "mode {other:?} is neither \"managed\" nor \"data\""
                )))
            }
        };
        let c = &self.change;
        for (field, value, allowed) in [
            ("before", &c.before, "an object or null"),
            ("after", &c.after, "an object or null"),
            (
                "after_unknown",
                &c.after_unknown,
                "an object, a boolean or null",
            ),
            (
                "before_sensitive",
                &c.before_sensitive,
                "an object, a boolean or null",
            ),
            (
                "after_sensitive",
                &c.after_sensitive,
                "an object, a boolean or null",
            ),
        ] {
            let text = value.text().trim_start();
            let ok = text.starts_with('{')
                || text == "null"
                || (field != "before" && field != "after" && (text == "true" || text == "false"));
            if !ok {
                let found = match text.as_bytes().first() {
                    Some(b'"') => "a string",
                    Some(b'[') => "a list",
                    Some(b't' | b'f') => "a boolean",
                    _ => "a number",
                };
                return Err(invalid(format!(
                    "change.{field} must be {allowed}, not {found}"
                )));
            }
        }
        let (action, unknown_actions) = match Action::from_actions(&self.change.actions) {
            Some(a) => (a, Vec::new()),
            None => (Action::Unknown, self.change.actions),
        };
        let address = match self.address {
            Some(a) => a,
            None => synthesize_address(
                self.module_address.as_deref(),
                mode,
                &self.type_name,
                &self.name,
                self.index.as_ref(),
            ),
        };
        let replace_paths = self
            .change
            .replace_paths
            .into_iter()
            .map(|p| {
                p.into_iter()
                    .filter_map(|seg| match seg {
                        Value::String(s) => Some(PathSeg::Key(s)),
                        Value::Number(n) => n.as_u64().map(|i| PathSeg::Index(i as usize)),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
            })
            .map(AttrPath)
            .collect();
        Ok(ResourceChange {
            address,
            module_address: self.module_address,
            mode,
            type_name: self.type_name,
            name: self.name,
            index: self.index,
            provider_name: self.provider_name,
            previous_address: self.previous_address,
            deposed: self.deposed,
            action,
            change: Change {
                before: self.change.before,
                after: self.change.after,
                after_unknown: self.change.after_unknown,
                before_sensitive: self.change.before_sensitive,
                after_sensitive: self.change.after_sensitive,
                replace_paths,
            },
            action_reason: self.action_reason,
            importing: self.change.importing,
            unknown_actions,
        })
    }
}

/// The address terraform would have written: `module.a.data.t.n["k"]`.
fn synthesize_address(
    module: Option<&str>,
    mode: Mode,
    type_name: &str,
    name: &str,
    index: Option<&InstanceKey>,
) -> String {
    let mut s = String::new();
    if let Some(m) = module.filter(|m| !m.is_empty()) {
        s.push_str(m);
        s.push('.');
    }
    if mode == Mode::Data {
        s.push_str("data.");
    }
    s.push_str(type_name);
    s.push('.');
    s.push_str(name);
    match index {
        Some(InstanceKey::Int(i)) => s.push_str(&format!("[{i}]")),
        Some(InstanceKey::Str(k)) => {
            s.push('[');
            s.push_str(&serde_json::to_string(k).unwrap_or_default());
            s.push(']');
        }
        None => {}
    }
    s
}

impl RawConfiguration {
    fn into_configuration(self) -> Configuration {
        let provider_configs = self
            .provider_config
            .into_iter()
            .map(|(key, p)| {
                let region_expr = p.expressions.get("region");
                let region = region_expr
                    .and_then(|e| e.get("constant_value"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let region_references = region_expr.map(expression_references).unwrap_or_default();
                (
                    key,
                    ProviderConfig {
                        name: p.name,
                        alias: p.alias,
                        module_address: p.module_address.unwrap_or_default(),
                        region,
                        region_references,
                    },
                )
            })
            .collect();
        let mut resources = BTreeMap::new();
        if let Some(root) = self.root_module {
            collect_resources(root, String::new(), &mut resources);
        }
        Configuration {
            provider_configs,
            resources,
        }
    }
}

fn expression_references(expr: &Value) -> Vec<String> {
    expr.get("references")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn collect_resources(
    module: RawModule,
    path: String,
    out: &mut BTreeMap<(String, String), ConfigResource>,
) {
    for r in module.resources {
        let references = r
            .expressions
            .iter()
            .filter_map(|(k, e)| {
                let refs = expression_references(e);
                (!refs.is_empty()).then(|| (k.clone(), refs))
            })
            .collect();
        out.insert(
            (path.clone(), r.address),
            ConfigResource {
                provider_config_key: r.provider_config_key,
                references,
                arguments: r.expressions.keys().cloned().collect(),
            },
        );
    }
    for (name, call) in module.module_calls {
        if let Some(child) = call.module {
            let child_path = if path.is_empty() {
                format!("module.{name}")
            } else {
                format!("{path}.module.{name}")
            };
            collect_resources(child, child_path, out);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Attribute changes

/// One leaf of a flattened object, as seen from one side of a change.
#[derive(Clone, Copy)]
struct Leaf<'a> {
    value: Option<&'a Value>,
    sensitive: bool,
    unknown: bool,
}

impl Leaf<'_> {
    fn shown(&self) -> Option<Shown> {
        if self.sensitive {
            Some(Shown::Sensitive)
        } else if self.unknown {
            Some(Shown::Unknown)
        } else {
            self.value.map(|v| Shown::Value(render_scalar(v)))
        }
    }
}

fn render_scalar(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Flattens `value` into leaves, following the sensitivity and unknown markers alongside.
/// A container marked sensitive or unknown becomes one leaf: its keys are not listed.
fn flatten<'a>(
    value: &'a Value,
    sensitive: &'a Value,
    unknown: &'a Value,
    path: &mut Vec<PathSeg>,
    out: &mut BTreeMap<Vec<PathSeg>, Leaf<'a>>,
    type_name: &str,
) {
    static NULL: Value = Value::Null;
    static TRUE: Value = Value::Bool(true);
    let named_secret = match path.last() {
        Some(PathSeg::Key(k)) => {
            looks_secret(k)
                || (path.len() == 1 && SENSITIVE_ATTRIBUTES.contains(&(type_name, k.as_str())))
        }
        _ => false,
    };
    let sensitive = if named_secret { &TRUE } else { sensitive };
    let is_sensitive = sensitive == &Value::Bool(true);
    let is_unknown = unknown == &Value::Bool(true);
    if is_sensitive || is_unknown {
        if !path.is_empty() && (!value.is_null() || is_unknown) {
            out.insert(
                path.clone(),
                Leaf {
                    value: Some(value),
                    sensitive: is_sensitive,
                    unknown: is_unknown,
                },
            );
        }
        return;
    }
    let child = |marker: &'a Value, seg: &PathSeg| -> &'a Value {
        match (marker, seg) {
            (Value::Object(o), PathSeg::Key(k)) => o.get(k).unwrap_or(&NULL),
            (Value::Array(a), PathSeg::Index(i)) => a.get(*i).unwrap_or(&NULL),
            _ => &NULL,
        }
    };
    match value {
        Value::Object(o) => {
            for (k, v) in o {
                let seg = PathSeg::Key(k.clone());
                let (s, u) = (child(sensitive, &seg), child(unknown, &seg));
                path.push(seg);
                flatten(v, s, u, path, out, type_name);
                path.pop();
            }
            // Unknown attributes terraform left out of `after` (or set to null).
            if let Value::Object(uo) = unknown {
                for (k, u) in uo {
                    if !o.contains_key(k) && marker_any(u) {
                        let seg = PathSeg::Key(k.clone());
                        let s = child(sensitive, &seg);
                        path.push(seg);
                        flatten(&NULL, s, u, path, out, type_name);
                        path.pop();
                    }
                }
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                let seg = PathSeg::Index(i);
                let (s, u) = (child(sensitive, &seg), child(unknown, &seg));
                path.push(seg);
                flatten(v, s, u, path, out, type_name);
                path.pop();
            }
            if let Value::Array(ua) = unknown {
                for (i, u) in ua.iter().enumerate().skip(a.len()) {
                    if marker_any(u) {
                        let seg = PathSeg::Index(i);
                        path.push(seg);
                        flatten(&NULL, &NULL, u, path, out, type_name);
                        path.pop();
                    }
                }
            }
        }
        Value::Null => {
            if let Value::Object(uo) = unknown {
                for (k, u) in uo {
                    if marker_any(u) {
                        let seg = PathSeg::Key(k.clone());
                        let s = child(sensitive, &seg);
                        path.push(seg);
                        flatten(&NULL, s, u, path, out, type_name);
                        path.pop();
                    }
                }
            }
        }
        scalar => {
            if !path.is_empty() {
                out.insert(
                    path.clone(),
                    Leaf {
                        value: Some(scalar),
                        sensitive: false,
                        unknown: false,
                    },
                );
            }
        }
    }
}

impl ResourceChange {
    /// Parses the values of the change.
    pub fn view(&self) -> ResourceView<'_> {
        ResourceView {
            rc: self,
            change: self.change.parse(),
        }
    }

    /// The attribute-level diff: changed leaves for updates and replacements, every set leaf
    /// for creates and deletes. Values are [`Shown`]: sensitive ones are masked.
    pub fn attribute_changes(&self) -> Vec<AttributeChange> {
        self.view().attribute_changes()
    }

    /// Whether the change destroys the existing object; for an action list Slipway does not
    /// know, whether the list says `delete`.
    pub fn destroys(&self) -> bool {
        match self.action {
            Action::Unknown => self.unknown_actions.iter().any(|a| a == "delete"),
            a => a.destroys(),
        }
    }

    /// For an action list Slipway does not know: whether it says `create` or `update`, so the
    /// object after the change is there to check.
    pub fn unknown_action_writes(&self) -> bool {
        self.action == Action::Unknown
            && self
                .unknown_actions
                .iter()
                .any(|a| a == "create" || a == "update")
    }

    /// The module path without instance keys, "" in the root module.
    pub fn module_path(&self) -> String {
        strip_instance_keys(self.module_address.as_deref().unwrap_or(""))
    }
}

impl ResourceView<'_> {
    /// See [`ResourceChange::attribute_changes`].
    pub fn attribute_changes(&self) -> Vec<AttributeChange> {
        static NULL: Value = Value::Null;
        let c = &self.change;
        let mut before = BTreeMap::new();
        let mut after = BTreeMap::new();
        let mut path = Vec::new();
        let show_before = !matches!(self.action, Action::Create);
        let show_after = !matches!(self.action, Action::Delete | Action::Forget);
        if show_before {
            flatten(
                &c.before,
                &c.before_sensitive,
                &NULL,
                &mut path,
                &mut before,
                &self.type_name,
            );
        }
        if show_after {
            flatten(
                &c.after,
                &c.after_sensitive,
                &c.after_unknown,
                &mut path,
                &mut after,
                &self.type_name,
            );
        }
        let only_changed = matches!(
            self.action,
            Action::Update | Action::Replace { .. } | Action::NoOp | Action::Read | Action::Unknown
        );
        let mut paths: Vec<&Vec<PathSeg>> = before.keys().chain(after.keys()).collect();
        paths.sort();
        paths.dedup();
        let mut out = Vec::new();
        for p in paths {
            let b = before.get(p);
            let a = after.get(p);
            if only_changed && !leaf_changed(b, a) {
                continue;
            }
            let forces_replacement = self
                .rc
                .change
                .replace_paths
                .iter()
                .any(|r| p.starts_with(&r.0) || r.0.starts_with(p));
            out.push(AttributeChange {
                path: AttrPath::render(p),
                before: b.and_then(Leaf::shown),
                after: a.and_then(Leaf::shown),
                forces_replacement,
            });
        }
        out
    }

    /// The after value at a path, for rules: None when unknown, sensitive or absent.
    pub fn after_at(&self, path: &[&str]) -> Option<&Value> {
        value_at(&self.change.after, &self.change.after_sensitive, path)
    }

    /// The before value at a path, for rules: None when sensitive or absent.
    pub fn before_at(&self, path: &[&str]) -> Option<&Value> {
        value_at(&self.change.before, &self.change.before_sensitive, path)
    }

    /// The after object with its unknown and sensitivity markers alongside, for rules that
    /// look inside values: known parts of a partly unknown value stay readable.
    pub fn after_known(&self) -> Known<'_> {
        Known {
            value: &self.change.after,
            unknown: &self.change.after_unknown,
            sensitive: &self.change.after_sensitive,
        }
    }

    /// Whether the after value at a path, or a part of it, is known only after apply.
    pub fn after_unknown_at(&self, path: &[&str]) -> bool {
        let segs: Vec<PathSeg> = path
            .iter()
            .map(|s| PathSeg::Key((*s).to_string()))
            .collect();
        marker_at(&self.change.after_unknown, &segs)
    }
}

/// A part of a planned value with its markers: what is known of it before apply.
///
/// Terraform writes an unknown value as `null` in `after` and `true` at the same place in
/// `after_unknown`; a value that is only partly unknown (a list with one unknown element, an
/// object with one unknown attribute) is written with its known parts, and those can be read.
#[derive(Debug, Clone, Copy)]
pub struct Known<'a> {
    value: &'a Value,
    unknown: &'a Value,
    sensitive: &'a Value,
}

impl<'a> Known<'a> {
    /// A known value with no markers (tests, and values from elsewhere).
    pub fn plain(value: &'a Value) -> Known<'a> {
        static FALSE: Value = Value::Bool(false);
        Known {
            value,
            unknown: &FALSE,
            sensitive: &FALSE,
        }
    }

    fn key_of(v: &'a Value, key: &str) -> &'a Value {
        static NULL: Value = Value::Null;
        match v {
            // A container marked as a whole marks each of its parts.
            Value::Bool(true) => v,
            Value::Object(o) => o.get(key).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    fn index_of(v: &'a Value, i: usize) -> &'a Value {
        static NULL: Value = Value::Null;
        match v {
            Value::Bool(true) => v,
            Value::Array(a) => a.get(i).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// The attribute `key` of an object.
    pub fn get(self, key: &str) -> Known<'a> {
        static NULL: Value = Value::Null;
        Known {
            value: match self.value {
                Value::Object(o) => o.get(key).unwrap_or(&NULL),
                _ => &NULL,
            },
            unknown: Known::key_of(self.unknown, key),
            sensitive: Known::key_of(self.sensitive, key),
        }
    }

    /// The element `i` of a list.
    pub fn at(self, i: usize) -> Known<'a> {
        static NULL: Value = Value::Null;
        Known {
            value: match self.value {
                Value::Array(a) => a.get(i).unwrap_or(&NULL),
                _ => &NULL,
            },
            unknown: Known::index_of(self.unknown, i),
            sensitive: Known::index_of(self.sensitive, i),
        }
    }

    /// Whether the whole value is known only after apply.
    pub fn is_unknown(self) -> bool {
        self.unknown == &Value::Bool(true)
    }

    /// Whether any part of the value is known only after apply.
    pub fn has_unknown(self) -> bool {
        marker_any(self.unknown)
    }

    /// Whether the value is marked sensitive as a whole.
    pub fn is_sensitive(self) -> bool {
        self.sensitive == &Value::Bool(true)
    }

    /// The value when it is known, not sensitive and not null (its parts may still be unknown:
    /// look at them through [`Known::get`] and [`Known::items`]).
    pub fn value(self) -> Option<&'a Value> {
        (!self.is_unknown() && !self.is_sensitive() && !self.value.is_null()).then_some(self.value)
    }

    /// The elements of a known list, set or tuple, each with its markers; empty when the
    /// value is not a known list. Terraform writes an unknown element as `null` in its place.
    pub fn items(self) -> impl Iterator<Item = Known<'a>> {
        let len = match self.value() {
            Some(Value::Array(a)) => a.len(),
            _ => 0,
        };
        (0..len).map(move |i| self.at(i))
    }

    /// The string value, when known.
    pub fn as_str(self) -> Option<&'a str> {
        self.value().and_then(Value::as_str)
    }

    /// The entries of a known map or object, each with its markers.
    pub fn entries(self) -> impl Iterator<Item = (&'a str, Known<'a>)> {
        let keys: Vec<&'a String> = match self.value() {
            Some(Value::Object(o)) => o.keys().collect(),
            _ => Vec::new(),
        };
        // Attributes terraform left out of `after` because they are unknown.
        let extra: Vec<&'a String> = match (self.value(), self.unknown) {
            (Some(Value::Object(o)), Value::Object(u)) => {
                u.keys().filter(|k| !o.contains_key(*k)).collect()
            }
            _ => Vec::new(),
        };
        keys.into_iter()
            .chain(extra)
            .map(move |k| (k.as_str(), self.get(k)))
    }
}

fn value_at<'a>(value: &'a Value, sensitive: &Value, path: &[&str]) -> Option<&'a Value> {
    let segs: Vec<PathSeg> = path
        .iter()
        .map(|s| PathSeg::Key((*s).to_string()))
        .collect();
    if marker_at(sensitive, &segs) {
        return None;
    }
    let mut v = value;
    for k in path {
        v = v.get(*k)?;
    }
    (!v.is_null()).then_some(v)
}

fn leaf_changed(b: Option<&Leaf<'_>>, a: Option<&Leaf<'_>>) -> bool {
    match (b, a) {
        (None, None) => false,
        (Some(b), Some(a)) => a.unknown || b.sensitive != a.sensitive || b.value != a.value,
        _ => true,
    }
}
