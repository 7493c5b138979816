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
    /// A stack file that generates the unit (or the values it gives the unit) changed.
    Stack { file: String },
    /// A file of the unit template a stack generates the unit from changed.
    Template { file: String, template: String },
    /// The unit was deleted: its resources are to be destroyed.
    Removed { file: String },
    /// The stack that generated the unit no longer does: its resources are to be destroyed.
    NoLongerGenerated { file: String },
    /// A unit it depends on is affected (`--include-dependents`).
    Dependency { unit: String },
    /// The unit could not be evaluated at the change's head: it is listed, never left out, so
    /// that the review shows it failed.
    Unevaluated { error: String },
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
            Reason::Stack { file } => write!(f, "{file} (the stack generating the unit) changed"),
            Reason::Template { file, template } => {
                write!(f, "{file} changed in unit template {template}")
            }
            Reason::NoLongerGenerated { file } => write!(
                f,
                "{file} no longer generates the unit: its resources will be destroyed"
            ),
            Reason::Probe { file } => write!(f, "{file} appeared or vanished"),
            Reason::Removed { file } => {
                write!(f, "{file} was deleted: its resources will be destroyed")
            }
            Reason::Dependency { unit } => write!(f, "depends on affected unit {unit}"),
            Reason::Unevaluated { error } => write!(f, "could not be evaluated: {error}"),
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
    /// Touched by the change, but its configuration could not be evaluated.
    Failed,
}

/// One affected unit.
#[derive(Debug, Clone, Serialize)]
pub struct Affected {
    pub path: String,
    pub env: Option<String>,
    pub status: Status,
    pub reasons: Vec<Reason>,
}

/// Why each unit of `inv` is affected by `changes` (units not affected are absent). One pass
/// over the units, each checked against the set of changed files: no index to build, so the
/// cost does not grow with the number of changes.
pub fn reasons_by_unit(
    inv: &Inventory,
    changes: &[FileChange],
) -> BTreeMap<String, BTreeSet<Reason>> {
    let changed: HashMap<&str, &FileChange> =
        changes.iter().map(|c| (c.path.as_str(), c)).collect();
    // Directory -> changed files at or below it.
    let mut below: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut out: BTreeMap<String, BTreeSet<Reason>> = BTreeMap::new();
    for c in changes {
        let mut d = parent(&c.path);
        let mut owner_found = false;
        loop {
            below.entry(d).or_default().push(c.path.as_str());
            // Own directory: the deepest unit directory holding the file.
            if !owner_found && inv.units.contains_key(d) {
                owner_found = true;
                out.entry(d.to_string())
                    .or_default()
                    .insert(Reason::OwnFile {
                        file: c.path.clone(),
                    });
            }
            if d.is_empty() {
                break;
            }
            d = parent(d);
        }
    }
    for (path, unit) in &inv.units {
        let mut found = Vec::new();
        let hits: Vec<&FileChange> = if changes.len() <= crate::units::FEW_CHANGES {
            changes
                .iter()
                .filter(|c| {
                    unit.reads().contains_key(&c.path) || unit.deps.probes.contains(&c.path)
                })
                .collect()
        } else {
            unit.reads()
                .keys()
                .chain(unit.deps.probes.iter())
                .filter_map(|p| changed.get(p.as_str()).copied())
                .collect()
        };
        for c in hits {
            if let Some((kind, via)) = unit.reads().get(&c.path) {
                let file = c.path.clone();
                found.push(match kind {
                    ReadKind::Include => Reason::Include { file },
                    ReadKind::ReadConfig => Reason::ReadConfig {
                        file,
                        via: via.clone(),
                    },
                    ReadKind::Probe => Reason::Probe { file },
                    ReadKind::Stack => Reason::Stack { file },
                    _ => Reason::File { file },
                });
            }
            // Only an addition or a deletion changes what a probe found.
            if c.kind != ChangeKind::Modified && unit.deps.probes.contains(&c.path) {
                found.push(Reason::Probe {
                    file: c.path.clone(),
                });
            }
        }
        for m in unit.module_dirs.iter().chain(&unit.missing_module_dirs) {
            if let Some(files) = below.get(m.as_str()) {
                for f in files {
                    found.push(Reason::Module {
                        file: f.to_string(),
                        module: m.clone(),
                    });
                }
            }
        }
        if let Some(template) = unit.stack.as_ref().and_then(|s| s.template.as_ref()) {
            if let Some(files) = below.get(template.as_str()) {
                for f in files {
                    found.push(Reason::Template {
                        file: f.to_string(),
                        template: template.clone(),
                    });
                }
            }
        }
        if !found.is_empty() {
            out.entry(path.clone()).or_default().extend(found);
        }
    }
    out
}

/// The units affected by `changes`: `head` is the inventory after the change and `graph` its
/// graph, `base` the inventory before it (for deleted units). With `include_dependents`, units
/// downstream of affected ones too.
pub fn affected(
    head: &Inventory,
    graph: &Graph,
    base: Option<&Inventory>,
    changes: &[FileChange],
    include_dependents: bool,
) -> Vec<Affected> {
    let mut reasons = reasons_by_unit(head, changes);
    let mut removed: BTreeMap<String, Affected> = BTreeMap::new();
    for change in changes {
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
    // A stack file change reaches a unit only when it changes what the stack generates for it
    // (its values, its source, its path).
    if let Some(base) = base {
        for (path, rs) in reasons.iter_mut() {
            if !rs.iter().all(|r| matches!(r, Reason::Stack { .. })) {
                continue;
            }
            let print = |inv: &Inventory| {
                inv.units
                    .get(path)
                    .and_then(|u| u.stack.as_ref())
                    .map(|s| s.fingerprint)
            };
            if print(head).is_some() && print(head) == print(base) {
                rs.clear();
            }
        }
    }
    // A unit a changed stack file generated before and no longer does is removed too.
    if let Some(base) = base {
        let changed: BTreeSet<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        for (dir, unit) in &base.units {
            let Some(origin) = &unit.stack else { continue };
            // A stack that fails to expand is listed as failed, not as destroying its units.
            let failed = head.failed().any(|(d, e)| {
                crate::config::path_has_prefix(dir, d) || origin.stack_files.contains(&e.file)
            });
            if head.units.contains_key(dir) || failed {
                continue;
            }
            if let Some(file) = origin
                .stack_files
                .iter()
                .find(|f| changed.contains(f.as_str()))
            {
                removed.insert(
                    dir.clone(),
                    Affected {
                        path: dir.clone(),
                        env: unit.env.clone(),
                        status: Status::Removed,
                        reasons: vec![Reason::NoLongerGenerated { file: file.clone() }],
                    },
                );
            }
        }
    }
    reasons.retain(|_, r| !r.is_empty());
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
        let roots: BTreeSet<String> = reasons.keys().cloned().collect();
        let downstream = graph.downstream(&roots);
        for d in downstream.iter().cloned() {
            let via = head
                .units
                .get(&d)
                .and_then(|u| {
                    u.dependencies
                        .iter()
                        .find(|x| roots.contains(*x) || downstream.contains(*x))
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
