//! Lookups across a plan's resources: by type, and "which resources point at this one"
//! through configuration references (`aws_rds_cluster.this.id`) or equal attribute values.
//!
//! Values are parsed on demand. Resources of the few types that other resources are checked
//! against (task definitions, cluster instances, bucket companions, flow logs) are parsed once
//! and kept; every other resource is parsed while it is evaluated and then dropped, which
//! keeps a large plan's memory close to its raw size.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value;

use crate::plan::{Mode, Plan, ResourceChange, ResourceView};

/// Types whose parsed values are kept for cross-resource checks.
const LINKED_TYPES: &[&str] = &[
    "aws_ecs_task_definition",
    "aws_flow_log",
    "aws_rds_cluster_instance",
    "aws_s3_account_public_access_block",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_server_side_encryption_configuration",
];

/// Which side of a change a lookup is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Before,
    After,
}

impl Side {
    /// The object on this side, null when the object does not exist on this side.
    pub(crate) fn value<'v>(self, v: &'v ResourceView<'_>) -> &'v Value {
        match self {
            Side::Before => &v.change.before,
            Side::After => &v.change.after,
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

/// Indexes over one plan, built once per evaluation. Positions are into
/// [`PlanIndex::changes`]: the plan's `resource_changes`, then its deferred changes.
pub(crate) struct PlanIndex<'p> {
    pub(crate) plan: &'p Plan,
    pub(crate) changes: Vec<&'p ResourceChange>,
    by_type: HashMap<&'p str, Vec<usize>>,
    by_config: HashMap<(String, &'p str, &'p str), Vec<usize>>,
    kept: HashMap<usize, ResourceView<'p>>,
}

impl<'p> PlanIndex<'p> {
    pub(crate) fn new(plan: &'p Plan) -> PlanIndex<'p> {
        let mut by_type: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_config: HashMap<(String, &str, &str), Vec<usize>> = HashMap::new();
        let mut kept = HashMap::new();
        let changes: Vec<&ResourceChange> = plan.all_changes().collect();
        for (i, rc) in changes.iter().copied().enumerate() {
            if rc.mode != Mode::Managed || rc.deposed.is_some() {
                continue;
            }
            by_type.entry(rc.type_name.as_str()).or_default().push(i);
            by_config
                .entry((rc.module_path(), rc.type_name.as_str(), rc.name.as_str()))
                .or_default()
                .push(i);
            if LINKED_TYPES.contains(&rc.type_name.as_str()) {
                kept.insert(i, rc.view());
            }
        }
        PlanIndex {
            plan,
            changes,
            by_type,
            by_config,
            kept,
        }
    }

    /// The parsed resource change at a position of `plan.resource_changes`.
    pub(crate) fn view(&self, i: usize) -> Option<Cow<'_, ResourceView<'p>>> {
        if let Some(v) = self.kept.get(&i) {
            return Some(Cow::Borrowed(v));
        }
        self.changes.get(i).map(|rc| Cow::Owned(rc.view()))
    }

    /// Managed, current (not deposed) resource changes of one type, parsed.
    pub(crate) fn of_type(&self, type_name: &str) -> Vec<Cow<'_, ResourceView<'p>>> {
        self.by_type
            .get(type_name)
            .map(|ix| ix.iter().filter_map(|i| self.view(*i)).collect())
            .unwrap_or_default()
    }

    /// Resources that `rc`'s argument `attr` refers to in configuration, restricted to
    /// `target_type`. With `count`/`for_each` on both sides, the instance with the same key
    /// is preferred.
    pub(crate) fn referenced(
        &self,
        rc: &ResourceChange,
        attr: &str,
        target_type: &str,
    ) -> Vec<Cow<'_, ResourceView<'p>>> {
        self.referenced_ix(rc, attr, target_type)
            .into_iter()
            .filter_map(|i| self.view(i))
            .collect()
    }

    fn referenced_ix(&self, rc: &ResourceChange, attr: &str, target_type: &str) -> Vec<usize> {
        let Some(config) = self.plan.configuration.resource_for(rc) else {
            return Vec::new();
        };
        let Some(refs) = config.references.get(attr) else {
            return Vec::new();
        };
        let module = rc.module_path();
        let mut found: Vec<usize> = Vec::new();
        for r in refs {
            let mut parts = r.split('.');
            let (Some(t), Some(n)) = (parts.next(), parts.next()) else {
                continue;
            };
            if t != target_type {
                continue;
            }
            let name = n.split('[').next().unwrap_or(n);
            if let Some(ix) = self.by_config.get(&(module.clone(), t, name)) {
                for i in ix {
                    if !found.contains(i) {
                        found.push(*i);
                    }
                }
            }
        }
        if found.len() > 1 && rc.index.is_some() {
            let same: Vec<usize> = found
                .iter()
                .copied()
                .filter(|i| self.changes.get(*i).map(|o| &o.index) == Some(&rc.index))
                .collect();
            if !same.is_empty() {
                found = same;
            }
        }
        found
    }

    /// Resources of `from_type` whose `attr` points at `target`: by configuration reference,
    /// or by being equal to one of `target`'s `target_attrs` values on the given side.
    pub(crate) fn pointing_at(
        &self,
        target: &ResourceView<'_>,
        from_type: &str,
        attr: &str,
        target_attrs: &[&str],
        side: Side,
    ) -> Vec<Cow<'_, ResourceView<'p>>> {
        let target_values: Vec<&Value> = target_attrs
            .iter()
            .filter_map(|a| side.value(target).get(*a))
            .filter(|v| v.is_string())
            .collect();
        self.of_type(from_type)
            .into_iter()
            .filter(|from| side.exists(from.rc))
            .filter(|from| {
                let by_value = side
                    .value(from)
                    .get(attr)
                    .is_some_and(|v| v.is_string() && target_values.contains(&v));
                by_value
                    || self
                        .referenced_ix(from.rc, attr, &target.type_name)
                        .iter()
                        .filter_map(|i| self.changes.get(*i))
                        .any(|t| std::ptr::eq(*t, target.rc))
            })
            .collect()
    }

    /// [`PlanIndex::pointing_at`] on the after side, and whether another resource of
    /// `from_type` may point at `target` once values known only after apply are known: its
    /// `attr` is unknown and its configuration does not say where it points, or `target`'s
    /// own `target_attrs` are unknown.
    pub(crate) fn pointing_at_maybe(
        &self,
        target: &ResourceView<'_>,
        from_type: &str,
        attr: &str,
        target_attrs: &[&str],
    ) -> (Vec<Cow<'_, ResourceView<'p>>>, bool) {
        let found = self.pointing_at(target, from_type, attr, target_attrs, Side::After);
        if !found.is_empty() {
            return (found, false);
        }
        // The target can be told by any one of its attributes that is known.
        let target_unknown = target_attrs
            .iter()
            .all(|a| target.after_known().get(a).as_str().is_none())
            && target_attrs
                .iter()
                .any(|a| target.after_known().get(a).is_unknown());
        let maybe = self
            .of_type(from_type)
            .into_iter()
            .filter(|from| Side::After.exists(from.rc))
            .any(|from| {
                // Its configuration names the resource it points at (another one).
                let resolved = !self
                    .referenced_ix(from.rc, attr, &target.type_name)
                    .is_empty();
                (from.after_known().get(attr).is_unknown() && !resolved) || target_unknown
            });
        (found, maybe)
    }
}
