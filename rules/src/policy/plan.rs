//! What the plan says about itself: it failed part-way (`errored`), it is incomplete
//! (`complete: false`), its checks fail or are unknown, a resource's action list is one Slipway
//! does not know. A gate must not pass a plan it cannot see whole.

use super::Violation;
use crate::config::RuleId;
use crate::plan::{Action, CheckStatus, Plan, ResourceView};

/// The address findings about the plan as a whole carry.
pub(crate) const PLAN_ADDRESS: &str = "(plan)";

/// Findings about the plan itself and its checks.
pub(crate) fn check_plan(plan: &Plan, out: &mut Vec<Violation>) {
    if plan.errored {
        out.push(Violation::new(
            RuleId::PlanErrored,
            PLAN_ADDRESS,
            "plan failed: terraform reported errors while planning (`errored: true`) and stopped \
             part-way, so the changes shown are not all this change would make; fix the errors \
             in the plan log and plan again"
                .to_string(),
        ));
    }
    if !plan.complete {
        let deferred = plan.deferred_changes.len();
        let what = match deferred {
            0 => String::new(),
            1 => "; 1 change is deferred".to_string(),
            n => format!("; {n} changes are deferred"),
        };
        out.push(Violation::new(
            RuleId::PlanIncomplete,
            PLAN_ADDRESS,
            format!(
                "plan incomplete: terraform could not plan everything in one round \
                 (`complete: false`), so applying it leaves work for a later plan{what}; \
                 review the deferred changes and plan again after this one is applied"
            ),
        ));
    }
    for check in &plan.checks {
        check_result(check, out);
    }
}

fn check_result(check: &crate::plan::CheckResult, out: &mut Vec<Violation>) {
    let what = match check.kind.as_str() {
        "resource" => "condition",
        "output_value" => "output precondition",
        "check" => "check block",
        "var" => "variable validation",
        _ => "check",
    };
    let mut reported = false;
    for i in &check.instances {
        let address = if i.address.is_empty() {
            &check.address
        } else {
            &i.address
        };
        match i.status {
            CheckStatus::Fail | CheckStatus::Error => {
                out.push(Violation::new(
                    RuleId::CheckFailed,
                    address,
                    failing(what, i.status, &i.problems),
                ));
                reported = true;
            }
            CheckStatus::Unknown => {
                out.push(Violation::new(
                    RuleId::CheckUnknown,
                    address,
                    format!("{what} result is known only after apply"),
                ));
                reported = true;
            }
            CheckStatus::Pass => {}
        }
    }
    // An aggregate status without instances (an error blocked evaluating the repetition).
    if !reported {
        match check.status {
            CheckStatus::Fail | CheckStatus::Error => out.push(Violation::new(
                RuleId::CheckFailed,
                &check.address,
                failing(what, check.status, &[]),
            )),
            CheckStatus::Unknown => out.push(Violation::new(
                RuleId::CheckUnknown,
                &check.address,
                format!("{what} result is known only after apply"),
            )),
            CheckStatus::Pass => {}
        }
    }
}

fn failing(what: &str, status: CheckStatus, problems: &[String]) -> String {
    let verb = if status == CheckStatus::Error {
        "could not be evaluated"
    } else {
        "fails"
    };
    let problems: Vec<String> = problems
        .iter()
        .map(|p| p.chars().filter(|c| !c.is_control()).take(300).collect())
        .filter(|p: &String| !p.trim().is_empty())
        .collect();
    if problems.is_empty() {
        format!("{what} {verb}")
    } else {
        format!("{what} {verb}: {}", problems.join("; "))
    }
}

/// A resource whose action list Slipway does not know: shown to the reviewer, who has to
/// judge it.
pub(crate) fn unknown_action(rc: &ResourceView<'_>, out: &mut Vec<Violation>) {
    if rc.action != Action::Unknown {
        return;
    }
    let list: Vec<String> = rc
        .unknown_actions
        .iter()
        .map(|a| {
            let a: String = a.chars().filter(|c| !c.is_control()).take(40).collect();
            format!("\"{a}\"")
        })
        .collect();
    out.push(Violation::new(
        RuleId::UnknownAction,
        &rc.address,
        format!(
            "unknown action [{}]: Slipway does not know what terraform does with this list of \
             actions; check the plan output for this resource",
            list.join(", ")
        ),
    ));
}
