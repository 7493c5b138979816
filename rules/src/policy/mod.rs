//! Tag and security rules. Each rule looks at the resources a plan creates, updates, replaces
//! or imports (and, for destroy rules, the ones it destroys) and reports violations as
//! [`Violation`]s; [`crate::evaluate`] turns them into findings with severities and exemptions.
//!
//! Values known only after apply are not guessed at: a rule that cannot tell stays silent.
//! Messages quote only values that are not marked sensitive.

mod security;
mod tags;

use serde_json::Value;

use crate::config::{PolicyConfig, RuleId};
use crate::index::PlanIndex;
use crate::plan::{Action, Mode, ResourceChange, ResourceView};

/// One rule violation before severity and exemptions are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    pub(crate) rule: RuleId,
    pub(crate) address: String,
    pub(crate) message: String,
}

/// What the rules need besides the plan.
pub(crate) struct RuleContext<'a> {
    pub(crate) env: &'a str,
    pub(crate) production: bool,
    pub(crate) policy: &'a PolicyConfig,
}

/// Runs every rule over the plan.
/// Whether the per-resource rules look at this resource (unchanged ones are not even parsed).
pub(crate) fn needs_values(rc: &ResourceChange) -> bool {
    rc.mode == Mode::Managed && (is_changing(rc) || rc.action.destroys())
}

/// The rules about one resource.
pub(crate) fn check_resource(
    index: &PlanIndex<'_>,
    view: &ResourceView<'_>,
    ctx: &RuleContext<'_>,
    out: &mut Vec<Violation>,
) {
    tags::check(view, ctx, out);
    security::check(index, view, ctx, out);
}

/// The rules that look at several resources together.
pub(crate) fn check_links(index: &PlanIndex<'_>, ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    security::check_links(index, ctx, out);
}

/// Whether the plan brings this resource's after state into being or changes it: the
/// resources configuration rules look at.
pub(crate) fn is_changing(rc: &ResourceChange) -> bool {
    rc.mode == Mode::Managed
        && rc.deposed.is_none()
        && (matches!(
            rc.action,
            Action::Create | Action::Update | Action::Replace { .. }
        ) || (rc.importing.is_some() && rc.action == Action::NoOp))
}

/// A top-level after value, None when unset, unknown or sensitive.
pub(crate) fn after<'a>(rc: &'a ResourceView<'_>, key: &str) -> Option<&'a Value> {
    if rc.after_unknown_at(&[key]) {
        return None;
    }
    rc.after_at(&[key])
}

/// Whether a top-level after value is unknown until apply.
pub(crate) fn unknown(rc: &ResourceView<'_>, key: &str) -> bool {
    rc.after_unknown_at(&[key])
}

/// Renders a string for a message: quoted, control characters removed, long values cut.
pub(crate) fn quote(s: &str) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control()).take(80).collect();
    if s.chars().count() > 80 {
        format!("\"{clean}…\"")
    } else {
        format!("\"{clean}\"")
    }
}
