//! Lookups across a plan's resources: by type, and "which resources point at this one"
//! through configuration references (`aws_rds_cluster.this.id`) or equal attribute values.

use std::collections::HashMap;

use serde_json::Value;

use crate::plan::{Mode, Plan, ResourceChange};

/// Which side of a change a lookup is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Before,
    After,
}

impl Side {
    /// The object on this side, null when the object does not exist on this side.
    pub(crate) fn value(self, rc: &ResourceChange) -> &Value {
        match self {
            Side::Before => &rc.change.before,
            Side::After => &rc.change.after,
        }
    }

    /// Whether the object exists on this side of the change.
    pub(crate) fn exists(self, rc: &ResourceChange) -> bool {
        use crate::plan::Action::*;
        match self {
            Side::Before => {
                matches!(rc.action, Update | Delete | Replace { .. } | NoOp | Forget)
                    && !rc.change.before.is_null()
            }
            Side::After => matches!(rc.action, Create | Update | Replace { .. } | NoOp),
        }
    }
}

/// Indexes over one plan, built once per evaluation.
pub(crate) struct PlanIndex<'p> {
    pub(crate) plan: &'p Plan,
    by_type: HashMap<&'p str, Vec<&'p ResourceChange>>,
    by_config: HashMap<(String, &'p str, &'p str), Vec<&'p ResourceChange>>,
}

impl<'p> PlanIndex<'p> {
    pub(crate) fn new(plan: &'p Plan) -> PlanIndex<'p> {
        let mut by_type: HashMap<&str, Vec<&ResourceChange>> = HashMap::new();
        let mut by_config: HashMap<(String, &str, &str), Vec<&ResourceChange>> = HashMap::new();
        for rc in &plan.resource_changes {
            if rc.mode != Mode::Managed || rc.deposed.is_some() {
                continue;
            }
            by_type.entry(rc.type_name.as_str()).or_default().push(rc);
            by_config
                .entry((rc.module_path(), rc.type_name.as_str(), rc.name.as_str()))
                .or_default()
                .push(rc);
        }
        PlanIndex {
            plan,
            by_type,
            by_config,
        }
    }

    /// Managed, current (not deposed) resource changes of one type.
    pub(crate) fn of_type(&self, type_name: &str) -> &[&'p ResourceChange] {
        self.by_type
            .get(type_name)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Resources that `rc`'s argument `attr` refers to in configuration, restricted to
    /// `target_type`. With `count`/`for_each` on both sides, the instance with the same key
    /// is preferred.
    pub(crate) fn referenced(
        &self,
        rc: &ResourceChange,
        attr: &str,
        target_type: &str,
    ) -> Vec<&'p ResourceChange> {
        let Some(config) = self.plan.configuration.resource_for(rc) else {
            return Vec::new();
        };
        let Some(refs) = config.references.get(attr) else {
            return Vec::new();
        };
        let module = rc.module_path();
        let mut out: Vec<&ResourceChange> = Vec::new();
        for r in refs {
            let mut parts = r.split('.');
            let (Some(t), Some(n)) = (parts.next(), parts.next()) else {
                continue;
            };
            if t != target_type {
                continue;
            }
            let name = n.split('[').next().unwrap_or(n);
            if let Some(found) = self.by_config.get(&(module.clone(), t, name)) {
                for f in found {
                    if !out.iter().any(|o| std::ptr::eq(*o, *f)) {
                        out.push(f);
                    }
                }
            }
        }
        if out.len() > 1 && rc.index.is_some() {
            let same: Vec<&ResourceChange> = out
                .iter()
                .copied()
                .filter(|o| o.index == rc.index)
                .collect();
            if !same.is_empty() {
                return same;
            }
        }
        out
    }

    /// Resources of `from_type` whose `attr` points at `target`: by configuration reference,
    /// or by being equal to one of `target`'s `target_attrs` values on the given side.
    pub(crate) fn pointing_at(
        &self,
        target: &ResourceChange,
        from_type: &str,
        attr: &str,
        target_attrs: &[&str],
        side: Side,
    ) -> Vec<&'p ResourceChange> {
        let target_values: Vec<&Value> = target_attrs
            .iter()
            .filter_map(|a| side.value(target).get(*a))
            .filter(|v| v.is_string())
            .collect();
        self.of_type(from_type)
            .iter()
            .copied()
            .filter(|from| side.exists(from))
            .filter(|from| {
                let by_value = side
                    .value(from)
                    .get(attr)
                    .is_some_and(|v| v.is_string() && target_values.contains(&v));
                by_value
                    || self
                        .referenced(from, attr, &target.type_name)
                        .iter()
                        .any(|t| std::ptr::eq(*t, target))
            })
            .collect()
    }
}
