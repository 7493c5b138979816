//! Dependency outputs, read as Terragrunt would get them: from the dependency's state in its
//! backend (a local file, or an S3 object read under the dependency's own account role), and
//! from `mock_outputs` only where the dependency block allows mocks for the command.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hcl::Value;

use super::workdir;
use crate::aws::Action;
use crate::units::Unit;

/// Where a unit keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateLocation {
    Local(PathBuf),
    S3 {
        bucket: String,
        key: String,
        region: Option<String>,
        endpoint: Option<String>,
        force_path_style: bool,
    },
}

impl std::fmt::Display for StateLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateLocation::Local(p) => write!(f, "{}", p.display()),
            StateLocation::S3 { bucket, key, .. } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

fn field<'a>(m: &'a hcl::Map<String, Value>, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Value::as_str)
}

/// The state location of `unit` from its `remote_state` (default: `terraform.tfstate` in its
/// working directory). `work_root` is where the engine makes working directories, which is
/// what a relative local path is relative to.
pub fn state_location(unit: &Unit, work_root: &Path) -> Result<StateLocation, String> {
    let run_dir = workdir::run_dir(unit, work_root);
    let rs = unit
        .eval
        .as_ref()
        .and_then(|e| e.config.get("remote_state"))
        .and_then(Value::as_object);
    let Some(rs) = rs else {
        return Ok(StateLocation::Local(run_dir.join("terraform.tfstate")));
    };
    let config = rs
        .get("config")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    match field(rs, "backend") {
        Some("local") => {
            let p = field(&config, "path").unwrap_or("terraform.tfstate");
            let p = Path::new(p);
            Ok(StateLocation::Local(if p.is_absolute() {
                p.to_path_buf()
            } else {
                run_dir.join(p)
            }))
        }
        Some("s3") => {
            let bucket = field(&config, "bucket")
                .ok_or("remote_state s3 needs a bucket")?
                .to_string();
            let key = field(&config, "key")
                .ok_or("remote_state s3 needs a key")?
                .to_string();
            Ok(StateLocation::S3 {
                bucket,
                key,
                region: field(&config, "region").map(str::to_string),
                endpoint: field(&config, "endpoint")
                    .or_else(|| {
                        config
                            .get("endpoints")
                            .and_then(Value::as_object)
                            .and_then(|e| field(e, "s3"))
                    })
                    .map(str::to_string),
                force_path_style: matches!(
                    config
                        .get("force_path_style")
                        .or_else(|| config.get("use_path_style")),
                    Some(Value::Bool(true))
                ),
            })
        }
        Some(other) => Err(format!(
            "reading outputs from a {other} backend is not supported by the native engine"
        )),
        None => Err("remote_state needs a backend".into()),
    }
}

/// Outputs of a state file (`outputs.<name>.value`), and the values marked sensitive.
pub fn parse_state(bytes: &[u8]) -> Result<(BTreeMap<String, Value>, Vec<String>), String> {
    let json: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the state is not JSON: {e}"))?;
    let mut outputs = BTreeMap::new();
    let mut sensitive = Vec::new();
    if let Some(map) = json.get("outputs").and_then(|o| o.as_object()) {
        for (name, out) in map {
            let Some(value) = out.get("value") else {
                continue;
            };
            if out.get("sensitive").and_then(|s| s.as_bool()) == Some(true) {
                collect_strings(value, &mut sensitive);
            }
            let v = hcl::to_value(value).map_err(|e| format!("output {name}: {e}"))?;
            outputs.insert(name.clone(), v);
        }
    }
    Ok((outputs, sensitive))
}

/// Every string and number leaf of a JSON value (secrets to mask).
pub fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Number(n) => out.push(n.to_string()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(m) => m.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// How one dependency block wants its outputs.
#[derive(Debug, Clone, Default)]
pub struct DependencyBlock {
    pub name: String,
    pub config_path: String,
    pub mock_outputs: Option<Value>,
    /// `mock_outputs_allowed_terraform_commands`; `None` allows every command.
    pub mock_commands: Option<Vec<String>>,
    pub skip_outputs: bool,
    /// `mock_outputs_merge_strategy_with_state` (`no_merge`, `shallow`, `deep_map_only`).
    pub merge_strategy: String,
}

impl DependencyBlock {
    /// The dependency blocks of an evaluated unit.
    pub fn of(unit: &Unit) -> Vec<DependencyBlock> {
        let mut out = Vec::new();
        let Some(Value::Object(deps)) = unit.eval.as_ref().and_then(|e| e.config.get("dependency"))
        else {
            return out;
        };
        for (name, block) in deps {
            let Some(b) = block.as_object() else { continue };
            let config_path = field(b, "config_path")
                .map(str::to_string)
                .or_else(|| unit.dependency_blocks.get(name).cloned())
                .unwrap_or_default();
            let mock_commands = match b.get("mock_outputs_allowed_terraform_commands") {
                Some(Value::Array(a)) => Some(
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect(),
                ),
                _ => None,
            };
            out.push(DependencyBlock {
                name: name.clone(),
                config_path,
                mock_outputs: b.get("mock_outputs").cloned(),
                mock_commands,
                skip_outputs: matches!(b.get("skip_outputs"), Some(Value::Bool(true))),
                merge_strategy: field(b, "mock_outputs_merge_strategy_with_state")
                    .or_else(|| {
                        matches!(
                            b.get("mock_outputs_merge_with_state"),
                            Some(Value::Bool(true))
                        )
                        .then_some("shallow")
                    })
                    .unwrap_or("no_merge")
                    .to_string(),
            });
        }
        out
    }

    /// Whether `mock_outputs` may stand in for real outputs for `action`.
    pub fn mocks_allowed(&self, action: Action) -> bool {
        self.mock_outputs.is_some()
            && match &self.mock_commands {
                None => true,
                Some(cmds) => cmds.iter().any(|c| c == &action.to_string()),
            }
    }

    /// The outputs this dependency gives the unit, from the state read (`None`: no state yet).
    /// Returns the outputs and a note when mocks were used.
    pub fn choose(
        &self,
        action: Action,
        state: Option<BTreeMap<String, Value>>,
    ) -> Result<(Value, Option<String>), String> {
        let mocks = || {
            self.mock_outputs
                .clone()
                .unwrap_or(Value::Object(hcl::Map::new()))
        };
        if self.skip_outputs {
            return Ok((mocks(), Some("skip_outputs: using mock_outputs".into())));
        }
        let real = state.filter(|o| !o.is_empty());
        match real {
            Some(real) => {
                let mut real_map: hcl::Map<String, Value> = real.into_iter().collect();
                if self.mocks_allowed(action) && self.merge_strategy != "no_merge" {
                    if let Some(Value::Object(m)) = &self.mock_outputs {
                        merge_mocks(&mut real_map, m, self.merge_strategy == "deep_map_only");
                    }
                }
                Ok((Value::Object(real_map), None))
            }
            None if self.mocks_allowed(action) => Ok((
                mocks(),
                Some(format!(
                    "dependency \"{}\" ({}) has no outputs in its state yet: using mock_outputs for {action}",
                    self.name, self.config_path
                )),
            )),
            None => Err(format!(
                "dependency \"{}\" ({}) has no outputs in its state yet, and mock_outputs are not allowed for {action} (apply the dependency first{})",
                self.name,
                self.config_path,
                if action == Action::Plan {
                    ", or add \"plan\" to mock_outputs_allowed_terraform_commands"
                } else {
                    ""
                }
            )),
        }
    }
}

/// Adds mock outputs the state lacks; `deep` also fills missing keys inside maps.
fn merge_mocks(real: &mut hcl::Map<String, Value>, mocks: &hcl::Map<String, Value>, deep: bool) {
    for (k, mv) in mocks {
        match real.get_mut(k) {
            None => {
                real.insert(k.clone(), mv.clone());
            }
            Some(Value::Object(rm)) if deep => {
                if let Value::Object(mm) = mv {
                    merge_mocks(rm, mm, true);
                }
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(commands: Option<&[&str]>) -> DependencyBlock {
        DependencyBlock {
            name: "database".into(),
            config_path: "live/dev/database".into(),
            mock_outputs: Some(Value::Object(
                [("endpoint".to_string(), Value::from("mock:3306"))]
                    .into_iter()
                    .collect(),
            )),
            mock_commands: commands.map(|c| c.iter().map(|s| s.to_string()).collect()),
            skip_outputs: false,
            merge_strategy: "no_merge".into(),
        }
    }

    fn get<'a>(v: &'a Value, k: &str) -> &'a Value {
        v.as_object().and_then(|m| m.get(k)).expect("key")
    }

    fn state(endpoint: &str) -> Option<BTreeMap<String, Value>> {
        Some([("endpoint".to_string(), Value::from(endpoint))].into())
    }

    #[test]
    fn real_state_outputs_win_over_mocks() {
        let (v, note) = block(Some(&["plan"]))
            .choose(Action::Plan, state("db.real:3306"))
            .unwrap();
        assert_eq!(*get(&v, "endpoint"), Value::from("db.real:3306"));
        assert!(note.is_none());
    }

    #[test]
    fn mocks_stand_in_only_for_the_commands_they_allow() {
        let b = block(Some(&["plan", "validate"]));
        let (v, note) = b.choose(Action::Plan, None).unwrap();
        assert_eq!(*get(&v, "endpoint"), Value::from("mock:3306"));
        assert!(note.unwrap().contains("using mock_outputs for plan"));
        let err = b.choose(Action::Apply, None).unwrap_err();
        assert!(err.contains("not allowed for apply"), "{err}");
        // An empty state is no better than none.
        let err = b.choose(Action::Apply, Some(BTreeMap::new())).unwrap_err();
        assert!(err.contains("live/dev/database"), "{err}");
        // No list at all: Terragrunt allows mocks for every command.
        assert!(block(None).choose(Action::Apply, None).is_ok());
    }

    #[test]
    fn state_outputs_are_read_with_their_sensitive_values() {
        let state = br#"{"version":4,"outputs":{
            "endpoint":{"value":"db:3306","type":"string"},
            "password":{"value":"hunter2-long","type":"string","sensitive":true},
            "ports":{"value":[1,2],"type":["list","number"]}}}"#;
        let (outputs, sensitive) = parse_state(state).unwrap();
        assert_eq!(outputs["endpoint"], Value::from("db:3306"));
        assert_eq!(outputs.len(), 3);
        assert_eq!(sensitive, vec!["hunter2-long".to_string()]);
        assert!(parse_state(b"not json").is_err());
    }

    #[test]
    fn mocks_fill_gaps_when_merging_with_state_is_asked() {
        let mut b = block(Some(&["plan"]));
        b.merge_strategy = "shallow".into();
        let (v, _) = b
            .choose(
                Action::Plan,
                Some([("other".to_string(), Value::from("x"))].into()),
            )
            .unwrap();
        assert_eq!(*get(&v, "endpoint"), Value::from("mock:3306"));
        assert_eq!(*get(&v, "other"), Value::from("x"));
    }
}
