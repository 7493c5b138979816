//! Reads the binary plan file `terraform plan -out` writes (terraform 1.0, plan file format
//! version 3) and renders it as `terraform show -json` would, without running terraform.
//!
//! A plan file is a zip archive: `tfplan` (protobuf: the changes, values as cty msgpack),
//! `tfstate` and `tfstate-prev` (the refreshed and the previous run's state), `tfconfig/`
//! (the configuration snapshot) and `.terraform.lock.hcl`. What it lacks is the provider
//! schemas, which give the types of resource attributes and which of them the provider marks
//! sensitive: [`show_json`] uses the schemas Slipway ships (hashicorp/null),
//! [`show_json_with`] takes schemas from `terraform providers schema -json`. A terraform 1.0
//! plan file does not say which provider versions it used; values are checked against the
//! schema attribute by attribute, and a value that does not fit is refused.
//!
//! The rendering covers what [`crate::Plan::parse`] reads: `resource_changes` (values, unknown
//! and sensitive markers, replace paths, action reasons), `output_changes`, `variables` and
//! `configuration` (provider configurations, resources with the references of each top-level
//! argument, module calls, variable and output sensitivity). `planned_values` and
//! `prior_state` are left out. Anything this reader is not sure to render as terraform does
//! is an error ([`PlanFileError::is_unsupported`]), never a guess: the caller falls back to
//! `terraform show -json`.
//!
//! ```no_run
//! # fn demo(bytes: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
//! let doc = rules::planfile::show_json(bytes)?;
//! let plan = rules::Plan::parse(&serde_json::to_vec(&doc)?)?;
//! # Ok(()) }
//! ```

mod address;
mod config;
mod cty;
mod proto;
mod schema;

use std::collections::BTreeMap;
use std::io::Read;

use prost::Message;
use serde_json::{json, Map, Value};

pub use schema::ProviderSchemas;

use cty::{Fault, Marks, Step, Ty, Val};

/// The only plan file format version this reader knows (terraform 0.15 and 1.x).
pub const FORMAT_VERSION: u64 = 3;

/// The `format_version` of the rendered document (that of terraform 1.0's `show -json`).
pub const JSON_FORMAT_VERSION: &str = "0.2";

/// Largest total of uncompressed member sizes read from one plan file.
const MAX_UNCOMPRESSED: u64 = 512 << 20;

/// Why a plan file could not be rendered. [`PlanFileError::is_unsupported`] tells valid input
/// this reader does not handle from input that is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanFileError {
    /// No bytes at all.
    #[error("the plan file is empty")]
    Empty,
    /// The bytes are not a zip archive.
    #[error("the plan file is not a zip archive: {0}")]
    NotAZip(String),
    /// A member every plan file has is missing.
    #[error("the plan file has no `{0}` member (is it a terraform plan file?)")]
    MissingMember(String),
    /// A plan file format version other than 3.
    #[error("plan file format version {0} is not supported (this reader knows version 3)")]
    UnsupportedFormatVersion(u64),
    /// Written by a terraform version whose `show -json` this reader does not follow.
    #[error(
        "the plan was written by terraform {0}; this reader renders plans of terraform 1.0.x only"
    )]
    UnsupportedTerraformVersion(String),
    /// Valid input this reader does not handle.
    #[error("unsupported in plan file member `{member}`: {what}")]
    Unsupported {
        /// The zip member, e.g. `tfplan` or `tfconfig/m-/main.tf`.
        member: String,
        /// What was not handled and where (resource address, field).
        what: String,
    },
    /// Input that is not what terraform writes.
    #[error("plan file member `{member}` is corrupt: {what}")]
    Corrupt {
        /// The zip member, e.g. `tfplan` or `tfconfig/m-/main.tf`.
        member: String,
        /// What was wrong and where (resource address, field).
        what: String,
    },
    /// Provider schemas given to [`ProviderSchemas::from_json`] could not be read.
    #[error("the provider schemas are not `terraform providers schema -json` output: {what}")]
    Schemas {
        /// What was wrong.
        what: String,
    },
}

impl PlanFileError {
    /// Whether the input is (as far as can be told) a valid plan this reader does not handle,
    /// rather than broken input.
    pub fn is_unsupported(&self) -> bool {
        matches!(
            self,
            PlanFileError::UnsupportedFormatVersion(_)
                | PlanFileError::UnsupportedTerraformVersion(_)
                | PlanFileError::Unsupported { .. }
        )
    }

    fn at(member: &str, what: impl Into<String>, fault: Fault) -> PlanFileError {
        let what = what.into();
        let join = |m: String| {
            if what.is_empty() {
                m
            } else {
                format!("{what}: {m}")
            }
        };
        match fault {
            Fault::Corrupt(m) => PlanFileError::Corrupt {
                member: member.to_string(),
                what: join(m),
            },
            Fault::Unsupported(m) => PlanFileError::Unsupported {
                member: member.to_string(),
                what: join(m),
            },
        }
    }

    fn corrupt(member: &str, what: impl Into<String>) -> PlanFileError {
        PlanFileError::Corrupt {
            member: member.to_string(),
            what: what.into(),
        }
    }

    fn unsupported(member: &str, what: impl Into<String>) -> PlanFileError {
        PlanFileError::Unsupported {
            member: member.to_string(),
            what: what.into(),
        }
    }
}

/// Renders a plan file as `terraform show -json` does, with the provider schemas Slipway
/// ships ([`ProviderSchemas::builtin`]); a plan using another provider is unsupported.
pub fn show_json(plan_file: &[u8]) -> Result<Value, PlanFileError> {
    show_json_with(plan_file, ProviderSchemas::builtin())
}

/// Renders a plan file as `terraform show -json` does, with the given provider schemas.
pub fn show_json_with(plan_file: &[u8], schemas: &ProviderSchemas) -> Result<Value, PlanFileError> {
    if plan_file.is_empty() {
        return Err(PlanFileError::Empty);
    }
    let members = unzip(plan_file)?;
    let member = |name: &str| {
        members
            .get(name)
            .ok_or_else(|| PlanFileError::MissingMember(name.to_string()))
    };

    let plan = proto::Plan::decode(member("tfplan")?.as_slice())
        .map_err(|e| PlanFileError::corrupt("tfplan", e.to_string()))?;
    if plan.version != FORMAT_VERSION {
        return Err(PlanFileError::UnsupportedFormatVersion(plan.version));
    }
    if !plan.terraform_version.starts_with("1.0.") {
        return Err(PlanFileError::UnsupportedTerraformVersion(
            plan.terraform_version,
        ));
    }
    check_no_drift(member("tfstate-prev")?, member("tfstate")?)?;

    let mut doc = Map::new();
    doc.insert("format_version".into(), json!(JSON_FORMAT_VERSION));
    doc.insert("terraform_version".into(), json!(plan.terraform_version));
    let variables = variables(&plan)?;
    if !variables.is_empty() {
        doc.insert("variables".into(), Value::Object(variables));
    }
    // Not rendered, but its presence is what marks a plan document.
    doc.insert("planned_values".into(), json!({}));
    let changes = resource_changes(&plan, schemas)?;
    if !changes.is_empty() {
        doc.insert("resource_changes".into(), Value::Array(changes));
    }
    let outputs = output_changes(&plan)?;
    if !outputs.is_empty() {
        doc.insert("output_changes".into(), Value::Object(outputs));
    }
    doc.insert("configuration".into(), configuration(&members, schemas)?);
    Ok(Value::Object(doc))
}

/// The archive's members by name.
fn unzip(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, PlanFileError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| PlanFileError::NotAZip(e.to_string()))?;
    let mut out = BTreeMap::new();
    let mut budget = MAX_UNCOMPRESSED;
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).map_err(|e| match e {
            zip::result::ZipError::UnsupportedArchive(m) => {
                PlanFileError::unsupported(&format!("#{i}"), m)
            }
            e => PlanFileError::corrupt(&format!("#{i}"), e.to_string()),
        })?;
        if file.is_dir() {
            continue;
        }
        let name = file.name().to_string();
        let mut data = Vec::new();
        (&mut file)
            .take(budget + 1)
            .read_to_end(&mut data)
            .map_err(|e| PlanFileError::corrupt(&name, e.to_string()))?;
        budget = budget.checked_sub(data.len() as u64).ok_or_else(|| {
            PlanFileError::unsupported(&name, "more than 512 MiB uncompressed in one plan file")
        })?;
        if out.insert(name.clone(), data).is_some() {
            return Err(PlanFileError::corrupt(&name, "the member appears twice"));
        }
    }
    Ok(out)
}

/// Terraform reports differences between the previous run's state and the refreshed one as
/// `resource_drift`; rendering those needs more than this reader does, so any is unsupported.
fn check_no_drift(prev: &[u8], prior: &[u8]) -> Result<(), PlanFileError> {
    let objects = |member: &str, bytes: &[u8]| -> Result<BTreeMap<String, Value>, PlanFileError> {
        let state: Value = serde_json::from_slice(bytes)
            .map_err(|e| PlanFileError::corrupt(member, e.to_string()))?;
        if state.get("version").and_then(Value::as_u64) != Some(4) {
            return Err(PlanFileError::unsupported(
                member,
                "a state that is not version 4",
            ));
        }
        let mut out = BTreeMap::new();
        let resources = state.get("resources").and_then(Value::as_array);
        for r in resources.into_iter().flatten() {
            if r.get("mode").and_then(Value::as_str) != Some("managed") {
                continue;
            }
            let id = json!([r.get("module"), r.get("type"), r.get("name")]);
            let instances = r.get("instances").and_then(Value::as_array);
            for inst in instances.into_iter().flatten() {
                if inst.get("deposed").is_some() {
                    continue;
                }
                if inst.get("attributes").is_none() {
                    return Err(PlanFileError::unsupported(
                        member,
                        format!("{id}: an object in the legacy flat attribute format"),
                    ));
                }
                let key = json!([id, inst.get("index_key")]).to_string();
                let value = json!([inst.get("attributes"), inst.get("sensitive_attributes")]);
                out.insert(key, value);
            }
        }
        Ok(out)
    };
    let before = objects("tfstate-prev", prev)?;
    let after = objects("tfstate", prior)?;
    if before != after {
        let changed = before
            .iter()
            .find(|(k, v)| after.get(*k) != Some(v))
            .map(|(k, _)| k.clone())
            .unwrap_or_default();
        return Err(PlanFileError::unsupported(
            "tfstate",
            format!("resource drift (objects changed outside terraform, e.g. {changed})"),
        ));
    }
    Ok(())
}

fn variables(plan: &proto::Plan) -> Result<Map<String, Value>, PlanFileError> {
    let mut out = Map::new();
    for (name, dv) in &plan.variables {
        let at = format!("variable {name}");
        let v = cty::decode(&dv.msgpack, &Ty::Dynamic)
            .map_err(|f| PlanFileError::at("tfplan", &at, f))?;
        if !v.wholly_known() {
            return Err(PlanFileError::unsupported(
                "tfplan",
                format!("{at}: unknown value"),
            ));
        }
        out.insert(name.clone(), json!({ "value": v.to_json() }));
    }
    Ok(out)
}

/// Which of a change's values are before and after, by action; and the action's names.
fn action(code: i32) -> Option<(Option<usize>, Option<usize>, &'static [&'static str])> {
    Some(match code {
        0 => (Some(0), Some(0), &["no-op"]),
        1 => (None, Some(0), &["create"]),
        2 => (Some(0), Some(1), &["read"]),
        3 => (Some(0), Some(1), &["update"]),
        5 => (Some(0), None, &["delete"]),
        6 => (Some(0), Some(1), &["delete", "create"]),
        7 => (Some(0), Some(1), &["create", "delete"]),
        _ => return None,
    })
}

fn value_at<'a>(
    change: &'a proto::Change,
    index: Option<usize>,
    what: &str,
) -> Result<Option<&'a [u8]>, Fault> {
    let Some(i) = index else { return Ok(None) };
    match change.values.get(i) {
        Some(v) if !v.msgpack.is_empty() => Ok(Some(&v.msgpack)),
        Some(_) => Err(Fault::Corrupt(format!("the {what} value is empty"))),
        None => Err(Fault::Corrupt(format!(
            "{} values for this action, no {what} value",
            change.values.len()
        ))),
    }
}

fn path(p: &proto::Path) -> Result<Vec<Step>, Fault> {
    p.steps
        .iter()
        .map(|s| match &s.selector {
            Some(proto::Selector::AttributeName(a)) => Ok(Step::Attr(a.clone())),
            Some(proto::Selector::ElementKey(k)) => cty::decode_key(&k.msgpack),
            None => Err(Fault::Corrupt("a path step that selects nothing".into())),
        })
        .collect()
}

fn marks(paths: &[proto::Path]) -> Result<Marks, Fault> {
    let mut m = Marks::default();
    for p in paths {
        m.add(&path(p)?);
    }
    Ok(m)
}

fn resource_changes(
    plan: &proto::Plan,
    schemas: &ProviderSchemas,
) -> Result<Vec<Value>, PlanFileError> {
    let mut out: Vec<(String, Value)> = Vec::with_capacity(plan.resource_changes.len());
    for rc in &plan.resource_changes {
        let key = match &rc.instance_key {
            None => None,
            Some(proto::InstanceKey::Int(i)) => Some(Value::from(*i)),
            Some(proto::InstanceKey::Str(s)) => Some(Value::String(s.clone())),
        };
        let data = match rc.mode {
            0 => false,
            1 => true,
            m => {
                return Err(PlanFileError::unsupported(
                    "tfplan",
                    format!("resource {}.{}: mode {m}", rc.r#type, rc.name),
                ))
            }
        };
        let addr =
            address::instance_address(&rc.module_path, data, &rc.r#type, &rc.name, key.as_ref())
                .map_err(|m| PlanFileError::at("tfplan", "", Fault::Unsupported(m)))?;
        let addr = &addr;
        let parts = Parts { addr, data, key };
        if let Some(rendered) = resource_change(rc, &parts, schemas).map_err(|(what, f)| {
            let what = if what.is_empty() {
                format!("resource {addr}")
            } else {
                format!("resource {addr}, {what}")
            };
            PlanFileError::at("tfplan", what, f)
        })? {
            out.push((addr.clone(), rendered));
        }
    }
    // Terraform sorts by address; two changes at one address (a deposed object) come out in
    // an order it does not define.
    out.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(w) = out.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(PlanFileError::unsupported(
            "tfplan",
            format!(
                "resource {}: two changes at one address (a deposed object)",
                w[0].0
            ),
        ));
    }
    Ok(out.into_iter().map(|(_, v)| v).collect())
}

/// What the address of a resource change is made of.
struct Parts<'a> {
    addr: &'a str,
    data: bool,
    key: Option<Value>,
}

/// One resource change as JSON; None for what terraform leaves out (deleting a data source).
fn resource_change(
    rc: &proto::ResourceInstanceChange,
    a: &Parts<'_>,
    schemas: &ProviderSchemas,
) -> Result<Option<Value>, (String, Fault)> {
    let plain = |f: Fault| (String::new(), f);
    let provider = address::provider_source(&rc.provider)
        .map_err(|m| ("provider".to_string(), Fault::Corrupt(m)))?;
    let change = rc
        .change
        .as_ref()
        .ok_or_else(|| plain(Fault::Corrupt("no change".into())))?;
    let (bi, ai, actions) = action(change.action).ok_or_else(|| {
        (
            "action".to_string(),
            Fault::Unsupported(format!("action {}", change.action)),
        )
    })?;
    if a.data && change.action == 5 {
        return Ok(None);
    }
    let block = schemas
        .block(&provider, a.data, &rc.r#type)
        .map_err(plain)?;
    let ty = block.implied_type();
    let decode = |index: Option<usize>, what: &str| -> Result<Val, (String, Fault)> {
        let at = |f| (what.to_string(), f);
        match value_at(change, index, what).map_err(at)? {
            Some(bytes) => cty::decode(bytes, &ty).map_err(at),
            None => Ok(Val::Null),
        }
    };
    let before = decode(bi, "before")?;
    let after = decode(ai, "after")?;
    if matches!(after, Val::Unknown(_)) || matches!(before, Val::Unknown(_)) {
        return Err(plain(Fault::Unsupported("a wholly unknown object".into())));
    }
    let side_marks = |val: &Val, paths: &[proto::Path], what: &str| {
        let at = |f| (what.to_string(), f);
        let mut m = marks(paths).map_err(at)?;
        block.add_marks(val, &mut Vec::new(), &mut m).map_err(at)?;
        val.sensitive_json(Some(&m)).map_err(at)
    };
    let before_sensitive = side_marks(&before, &change.before_sensitive_paths, "before_sensitive")?;
    let after_sensitive = side_marks(&after, &change.after_sensitive_paths, "after_sensitive")?;

    let mut c = Map::new();
    c.insert("actions".into(), json!(actions));
    c.insert("before".into(), before.to_json());
    if after.wholly_known() {
        c.insert("after".into(), after.to_json());
        c.insert("after_unknown".into(), json!({}));
    } else {
        if let Some(known) = after.known_json() {
            c.insert("after".into(), known);
        }
        c.insert("after_unknown".into(), after.unknown_json());
    }
    c.insert("before_sensitive".into(), before_sensitive);
    c.insert("after_sensitive".into(), after_sensitive);
    if !rc.required_replace.is_empty() {
        let mut paths = Vec::new();
        for p in &rc.required_replace {
            let steps = path(p).map_err(|f| ("replace_paths".to_string(), f))?;
            paths.push(Value::Array(
                steps
                    .into_iter()
                    .map(|s| match s {
                        Step::Attr(n) | Step::Key(n) => Value::String(n),
                        Step::Index(i) => Value::from(i),
                    })
                    .collect(),
            ));
        }
        c.insert("replace_paths".into(), Value::Array(paths));
    }

    let mut r = Map::new();
    r.insert("address".into(), json!(a.addr));
    if !rc.module_path.is_empty() {
        r.insert("module_address".into(), json!(rc.module_path));
    }
    r.insert(
        "mode".into(),
        json!(if a.data { "data" } else { "managed" }),
    );
    r.insert("type".into(), json!(rc.r#type));
    r.insert("name".into(), json!(rc.name));
    if let Some(k) = &a.key {
        r.insert("index".into(), k.clone());
    }
    r.insert("provider_name".into(), json!(provider));
    if !rc.deposed_key.is_empty() {
        r.insert("deposed".into(), json!(rc.deposed_key));
    }
    r.insert("change".into(), Value::Object(c));
    let reason = match rc.action_reason {
        0 => None,
        1 => Some("replace_because_tainted"),
        2 => Some("replace_by_request"),
        3 => Some("replace_because_cannot_update"),
        other => {
            return Err((
                "action_reason".to_string(),
                Fault::Unsupported(format!("reason {other}")),
            ))
        }
    };
    if let Some(reason) = reason {
        r.insert("action_reason".into(), json!(reason));
    }
    Ok(Some(Value::Object(r)))
}

fn output_changes(plan: &proto::Plan) -> Result<Map<String, Value>, PlanFileError> {
    let mut out = Map::new();
    for oc in &plan.output_changes {
        let fail =
            |what: &str, f| PlanFileError::at("tfplan", format!("output {}, {what}", oc.name), f);
        let change = oc
            .change
            .as_ref()
            .ok_or_else(|| fail("change", Fault::Corrupt("no change".into())))?;
        let (bi, ai, actions) = action(change.action).ok_or_else(|| {
            fail(
                "action",
                Fault::Unsupported(format!("action {}", change.action)),
            )
        })?;
        let decode = |index, what: &str| -> Result<Val, PlanFileError> {
            match value_at(change, index, what).map_err(|f| fail(what, f))? {
                Some(bytes) => cty::decode(bytes, &Ty::Dynamic).map_err(|f| fail(what, f)),
                None => Ok(Val::Null),
            }
        };
        let before = decode(bi, "before")?;
        let after = decode(ai, "after")?;
        let mut c = Map::new();
        c.insert("actions".into(), json!(actions));
        c.insert("before".into(), before.to_json());
        let known = after.wholly_known();
        if known {
            c.insert("after".into(), after.to_json());
        }
        c.insert("after_unknown".into(), json!(!known));
        c.insert("before_sensitive".into(), json!(oc.sensitive));
        c.insert("after_sensitive".into(), json!(oc.sensitive));
        if out.insert(oc.name.clone(), Value::Object(c)).is_some() {
            return Err(PlanFileError::corrupt(
                "tfplan",
                format!("output {} changes twice", oc.name),
            ));
        }
    }
    Ok(out)
}

fn configuration(
    members: &BTreeMap<String, Vec<u8>>,
    schemas: &ProviderSchemas,
) -> Result<Value, PlanFileError> {
    const MANIFEST: &str = "tfconfig/modules.json";
    let manifest = members
        .get(MANIFEST)
        .ok_or_else(|| PlanFileError::MissingMember(MANIFEST.to_string()))?;
    let entries: Vec<Value> = serde_json::from_slice(manifest)
        .map_err(|e| PlanFileError::corrupt(MANIFEST, e.to_string()))?;
    let mut snap = config::Snapshot::default();
    for e in &entries {
        let key = e
            .get("Key")
            .and_then(Value::as_str)
            .ok_or_else(|| PlanFileError::corrupt(MANIFEST, "an entry without a Key"))?;
        snap.keys.insert(key.to_string());
    }
    for (name, bytes) in members {
        let Some(rest) = name.strip_prefix("tfconfig/m-") else {
            continue;
        };
        let Some((key, file)) = rest.split_once('/') else {
            continue;
        };
        if file.contains('/') {
            continue;
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| PlanFileError::corrupt(name, "a configuration file that is not UTF-8"))?;
        snap.files
            .entry(key.to_string())
            .or_default()
            .push((file.to_string(), text.to_string()));
    }
    let attr_as_block = |data: bool, type_name: &str, name: &str| {
        schemas
            .any_block(data, type_name)
            .map(|b| b.has_attribute(name))
    };
    config::configuration(&snap, &attr_as_block)
        .map_err(|(member, fault)| PlanFileError::at(&member, "", fault))
}
