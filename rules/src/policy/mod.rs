//! Tag and security rules. Each rule looks at the resources a plan creates, updates, replaces
//! or imports (and, for destroy rules, the ones it destroys) and reports violations as
//! [`Violation`]s; [`crate::evaluate`] turns them into findings with severities and exemptions.
//!
//! Values known only after apply are not guessed at, and they do not hide what is known: a
//! rule reads the known parts of a partly unknown value, and when its decision truly hinges on
//! an unknown part it reports a "known after apply" violation (a warning unless
//! `[policy.known_after_apply]` says otherwise), never a pass and never a failure.
//! Messages quote only values that are not marked sensitive.

mod plan;
mod security;
mod tags;

use crate::config::{PolicyConfig, RuleId};
use crate::index::PlanIndex;
use crate::plan::{Action, Mode, ResourceChange, ResourceView};

/// One rule violation before severity and exemptions are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    pub(crate) rule: RuleId,
    pub(crate) address: String,
    pub(crate) message: String,
    /// The decision hinges on a value known only after apply.
    pub(crate) known_after_apply: bool,
}

impl Violation {
    /// A violation decided by known values.
    pub(crate) fn new(rule: RuleId, address: &str, message: String) -> Violation {
        Violation {
            rule,
            address: address.to_string(),
            message,
            known_after_apply: false,
        }
    }

    /// A violation that may or may not be one: `message` says which values are unknown.
    pub(crate) fn unknown(rule: RuleId, address: &str, message: String) -> Violation {
        Violation {
            rule,
            address: address.to_string(),
            message,
            known_after_apply: true,
        }
    }
}

/// A yes/no fact about a planned value: known, or known only after apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fact {
    Yes,
    No,
    Unknown,
}

impl Fact {
    pub(crate) fn from(b: bool) -> Fact {
        if b {
            Fact::Yes
        } else {
            Fact::No
        }
    }
}

/// What the rules need besides the plan.
pub(crate) struct RuleContext<'a> {
    pub(crate) env: &'a str,
    pub(crate) production: bool,
    pub(crate) policy: &'a PolicyConfig,
}

/// Whether the per-resource rules look at this resource (unchanged ones are not even parsed).
pub(crate) fn needs_values(rc: &ResourceChange) -> bool {
    rc.mode == Mode::Managed && (is_changing(rc) || rc.destroys() || rc.action == Action::Unknown)
}

pub(crate) use plan::check_plan;

/// The rules about one resource.
pub(crate) fn check_resource(
    index: &PlanIndex<'_>,
    view: &ResourceView<'_>,
    ctx: &RuleContext<'_>,
    out: &mut Vec<Violation>,
) {
    plan::unknown_action(view, out);
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
        ) || (rc.importing.is_some() && rc.action == Action::NoOp)
            || rc.unknown_action_writes())
}

/// Whether the configuration of the resource sets a top-level argument or block (false when
/// the plan carries no configuration for it).
pub(crate) fn configured(index: &PlanIndex<'_>, rc: &ResourceChange, key: &str) -> bool {
    index
        .plan
        .configuration
        .resource_for(rc)
        .is_some_and(|c| c.arguments.iter().any(|a| a == key))
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
