//! Which units a change affects, and why.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::git::{ChangeKind, FileChange};
use crate::graph::Graph;
use crate::snapshot::parent;
use crate::terragrunt::ReadKind;
use crate::units::{Inventory, UNIT_FILE};

/// Why a unit is affected.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// A file in the unit's own directory changed.
    OwnFile { file: String },
    /// An included configuration changed.
    Include { file: String },
    /// A configuration read with `read_terragrunt_config` (directly or through `via`) changed.
    ReadConfig { file: String, via: String },
    /// A file read with `file()`, or a var file, changed.
    File { file: String },
    /// A file of a local module the unit uses changed.
    Module { file: String, module: String },
    /// A file appeared or vanished where the unit looks for one (`find_in_parent_folders`,
    /// `fileexists`, optional var files).
    Probe { file: String },
    /// The unit was deleted: its resources are to be destroyed.
    Removed { file: String },
    /// A unit it depends on is affected (`--include-dependents`).
    Dependency { unit: String },
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::OwnFile { file } => write!(f, "{file} changed"),
            Reason::Include { file } => write!(f, "included {file} changed"),
            Reason::ReadConfig { file, via } if via.is_empty() => {
                write!(f, "{file} (read_terragrunt_config) changed")
            }
            Reason::ReadConfig { file, via } => {
                write!(f, "{file} changed (read through {via})")
            }
            Reason::File { file } => write!(f, "{file} (read by the unit) changed"),
            Reason::Module { file, module } => write!(f, "{file} changed in module {module}"),
            Reason::Probe { file } => write!(f, "{file} appeared or vanished"),
            Reason::Removed { file } => {
                write!(f, "{file} was deleted: its resources will be destroyed")
            }
            Reason::Dependency { unit } => write!(f, "depends on affected unit {unit}"),
        }
    }
}

/// What happens to an affected unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Changed,
    Removed,
    Dependent,
}

/// One affected unit.
#[derive(Debug, Clone, Serialize)]
pub struct Affected {
    pub path: String,
    pub env: Option<String>,
    pub status: Status,
    pub reasons: Vec<Reason>,
}

/// An index from files to the units that read them, built once per inventory.
pub struct ReadIndex<'a> {
    inv: &'a Inventory,
    exact: HashMap<&'a str, Vec<(&'a str, ReadKind, &'a str)>>,
    probes: HashMap<&'a str, Vec<&'a str>>,
    modules: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> ReadIndex<'a> {
    pub fn new(inv: &'a Inventory) -> Self {
        let mut idx = ReadIndex {
            inv,
            exact: HashMap::new(),
            probes: HashMap::new(),
            modules: HashMap::new(),
        };
        for (path, unit) in &inv.units {
            for (file, (kind, via)) in unit.reads() {
                idx.exact.entry(file.as_str()).or_default().push((
                    path.as_str(),
                    *kind,
                    via.as_str(),
                ));
            }
            for p in &unit.deps.probes {
                idx.probes
                    .entry(p.as_str())
                    .or_default()
                    .push(path.as_str());
            }
            for m in &unit.module_dirs {
                idx.modules
                    .entry(m.as_str())
                    .or_default()
                    .push(path.as_str());
            }
        }
        idx
    }

    /// The units a changed file affects, with the reason for each.
    pub fn units_for(&self, change: &FileChange) -> Vec<(&'a str, Reason)> {
        let file = change.path.as_str();
        let mut out = Vec::new();
        // Own directory: the deepest unit directory holding the file.
        let mut dir = parent(file);
        loop {
            if self.inv.units.contains_key(dir) {
                let (k, u) = self
                    .inv
                    .units
                    .get_key_value(dir)
                    .map(|(k, u)| (k.as_str(), u))
                    .expect("checked above");
                let _ = u;
                out.push((
                    k,
                    Reason::OwnFile {
                        file: file.to_string(),
                    },
                ));
                break;
            }
            if dir.is_empty() {
                break;
            }
            dir = parent(dir);
        }
        if let Some(readers) = self.exact.get(file) {
            for (unit, kind, via) in readers {
                let reason = match kind {
                    ReadKind::Include => Reason::Include {
                        file: file.to_string(),
                    },
                    ReadKind::ReadConfig => Reason::ReadConfig {
                        file: file.to_string(),
                        via: via.to_string(),
                    },
                    ReadKind::Probe => Reason::Probe {
                        file: file.to_string(),
                    },
                    _ => Reason::File {
                        file: file.to_string(),
                    },
                };
                out.push((unit, reason));
            }
        }
        if change.kind != ChangeKind::Modified {
            if let Some(units) = self.probes.get(file) {
                for unit in units {
                    out.push((
                        unit,
                        Reason::Probe {
                            file: file.to_string(),
                        },
                    ));
                }
            }
        }
        let mut dir = parent(file);
        loop {
            if let Some(units) = self.modules.get(dir) {
                for unit in units {
                    out.push((
                        unit,
                        Reason::Module {
                            file: file.to_string(),
                            module: dir.to_string(),
                        },
                    ));
                }
            }
            if dir.is_empty() {
                break;
            }
            dir = parent(dir);
        }
        out
    }
}

/// The units affected by `changes`: `head` is the inventory after the change, `base` before it
/// (for deleted units). With `include_dependents`, units downstream of affected ones too.
pub fn affected(
    head: &Inventory,
    base: Option<&Inventory>,
    changes: &[FileChange],
    include_dependents: bool,
) -> Vec<Affected> {
    let idx = ReadIndex::new(head);
    let mut reasons: BTreeMap<String, BTreeSet<Reason>> = BTreeMap::new();
    let mut removed: BTreeMap<String, Affected> = BTreeMap::new();
    for change in changes {
        for (unit, reason) in idx.units_for(change) {
            reasons.entry(unit.to_string()).or_default().insert(reason);
        }
        let name = change.path.rsplit('/').next().unwrap_or_default();
        if change.kind == ChangeKind::Deleted && name == UNIT_FILE {
            let dir = parent(&change.path).to_string();
            if !head.units.contains_key(&dir) {
                let env = base
                    .and_then(|b| b.units.get(&dir))
                    .and_then(|u| u.env.clone());
                let was_unit = base.is_none_or(|b| b.units.contains_key(&dir));
                if was_unit {
                    removed.insert(
                        dir.clone(),
                        Affected {
                            path: dir,
                            env,
                            status: Status::Removed,
                            reasons: vec![Reason::Removed {
                                file: change.path.clone(),
                            }],
                        },
                    );
                }
            }
        }
    }
    let mut out: Vec<Affected> = reasons
        .iter()
        .map(|(path, rs)| Affected {
            path: path.clone(),
            env: head.units.get(path).and_then(|u| u.env.clone()),
            status: Status::Changed,
            reasons: rs.iter().cloned().collect(),
        })
        .collect();
    if include_dependents {
        let graph = Graph::build(head);
        let roots: BTreeSet<String> = reasons.keys().cloned().collect();
        for d in graph.downstream(&roots) {
            let via = head
                .units
                .get(&d)
                .and_then(|u| {
                    u.dependencies
                        .iter()
                        .find(|x| roots.contains(*x) || reasons.contains_key(*x))
                })
                .cloned()
                .unwrap_or_default();
            out.push(Affected {
                env: head.units.get(&d).and_then(|u| u.env.clone()),
                path: d,
                status: Status::Dependent,
                reasons: vec![Reason::Dependency { unit: via }],
            });
        }
    }
    out.extend(removed.into_values());
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}
