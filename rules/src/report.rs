//! One pass over a plan: findings with severities and exemptions, plus the cost estimate;
//! rendered as text, Markdown or JSON.

use std::fmt::Write as _;

use serde::Serialize;

use crate::config::{Level, PolicyConfig, RuleId};
use crate::cost::{self, CostReport, PriceBook};
use crate::index::PlanIndex;
use crate::plan::{Action, Plan, Summary};
use crate::policy::{self, RuleContext};

/// What an evaluation needs besides the plan.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The unit's environment (e.g. `dev`, `prod`).
    pub env: &'a str,
    /// Region for resources whose provider configuration does not name one.
    pub region: Option<&'a str>,
    /// The `[policy]` table.
    pub policy: &'a PolicyConfig,
}

/// How a finding counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Blocks the apply (unless exempted).
    Error,
    /// Informs the reviewer.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One rule violation on one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's stable id.
    pub rule: RuleId,
    /// Its severity in this environment.
    pub severity: Severity,
    /// The resource address.
    pub address: String,
    /// What is wrong and how to fix it. Never holds a sensitive value.
    pub message: String,
    /// When an exemption in `slipway.toml` covers the finding: its reason. An exempted
    /// finding never blocks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exempted: Option<String>,
    /// Whether the decision hinges on a value known only after apply: the finding may or may
    /// not be one (its severity is `[policy.known_after_apply]`'s, at most the rule's own).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub known_after_apply: bool,
}

/// Whether the plan shows everything the change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlanStatus {
    /// Terraform planned everything.
    Complete,
    /// Terraform left changes for a later round (`complete: false`).
    Incomplete,
    /// Planning failed part-way (`errored: true`).
    Errored,
}

/// A change terraform left for a later plan, as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeferredItem {
    /// Resource address.
    pub address: String,
    /// What terraform would do, as far as it knows.
    pub action: Action,
    /// Why it was deferred, as terraform writes it.
    pub reason: String,
}

impl Finding {
    /// Whether this finding blocks the apply.
    pub fn is_blocking(&self) -> bool {
        self.severity == Severity::Error && self.exempted.is_none()
    }
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The environment evaluated for.
    pub env: String,
    /// Whether the plan is whole, incomplete or failed part-way.
    pub status: PlanStatus,
    /// Counts as in terraform's plan line.
    pub summary: Summary,
    /// Changes left for a later plan (evaluated by the rules like the others).
    pub deferred: Vec<DeferredItem>,
    /// Findings, blocking ones first, then by address.
    pub findings: Vec<Finding>,
    /// The monthly cost estimate.
    pub cost: CostReport,
}

/// Runs every rule and the cost estimate over a plan, with the embedded price book.
pub fn evaluate(plan: &Plan, ctx: &Context<'_>) -> Report {
    evaluate_with(plan, ctx, PriceBook::embedded())
}

/// Like [`evaluate`], with a given price book.
pub fn evaluate_with(plan: &Plan, ctx: &Context<'_>, book: &PriceBook) -> Report {
    let index = PlanIndex::new(plan);
    let rule_ctx = RuleContext {
        env: ctx.env,
        production: ctx.policy.is_production(ctx.env),
        policy: ctx.policy,
    };
    // One pass: each resource is parsed once, for the rules and the cost together.
    let mut violations = Vec::new();
    policy::check_plan(plan, &mut violations);
    let mut cost = cost::CostBuilder::new(&index, ctx.region, ctx.policy, book);
    let planned = plan.resource_changes.len();
    for (i, rc) in index.changes.iter().copied().enumerate() {
        let deferred = i >= planned;
        let for_rules = policy::needs_values(rc);
        let view = if for_rules || (!deferred && cost::needs_values(rc)) {
            index.view(i)
        } else {
            None
        };
        let first = violations.len();
        if let (true, Some(view)) = (for_rules, view.as_deref()) {
            policy::check_resource(&index, view, &rule_ctx, &mut violations);
        }
        if deferred {
            let reason = &plan.deferred_changes[i - planned].reason;
            for v in &mut violations[first..] {
                v.message
                    .push_str(&format!(" (deferred: {})", reason_text(reason)));
            }
        } else {
            cost.add(rc, view.as_deref());
        }
    }
    policy::check_links(&index, &rule_ctx, &mut violations);
    let cost = cost.finish();
    let mut findings: Vec<Finding> = violations
        .into_iter()
        .filter_map(|v| {
            let level = if v.known_after_apply {
                ctx.policy.known_after_apply_level(v.rule, ctx.env)
            } else {
                ctx.policy.level(v.rule, ctx.env)
            };
            let severity = match level {
                Level::Error => Severity::Error,
                Level::Warning => Severity::Warning,
                Level::Off => return None,
            };
            let exempted = ctx
                .policy
                .exemption_for(v.rule, &v.address, ctx.env)
                .map(|x| x.reason.to_string());
            Some(Finding {
                rule: v.rule,
                severity,
                address: v.address,
                message: v.message,
                exempted,
                known_after_apply: v.known_after_apply,
            })
        })
        .collect();
    findings.sort_by(|a, b| {
        (!a.is_blocking(), a.severity, &a.address, a.rule).cmp(&(
            !b.is_blocking(),
            b.severity,
            &b.address,
            b.rule,
        ))
    });
    findings.dedup();
    let status = if plan.errored {
        PlanStatus::Errored
    } else if !plan.complete {
        PlanStatus::Incomplete
    } else {
        PlanStatus::Complete
    };
    Report {
        env: ctx.env.to_string(),
        status,
        summary: plan.summary(),
        deferred: plan
            .deferred_changes
            .iter()
            .map(|d| DeferredItem {
                address: d.change.address.clone(),
                action: d.change.action,
                reason: d.reason.clone(),
            })
            .collect(),
        findings,
        cost,
    }
}

/// Terraform's deferral reason in words.
pub fn reason_text(reason: &str) -> String {
    match reason {
        "instance_count_unknown" => "count or for_each is known only after apply".to_string(),
        "resource_config_unknown" => "its configuration is known only after apply".to_string(),
        "provider_config_unknown" => {
            "its provider configuration is known only after apply".to_string()
        }
        "absent_prereq" => "something it needs does not exist yet".to_string(),
        "deferred_prereq" => "it depends on another deferred change".to_string(),
        "" => "no reason given".to_string(),
        other => other.chars().filter(|c| !c.is_control()).take(60).collect(),
    }
}

impl Report {
    /// The findings that block the apply.
    pub fn blocking(&self) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.is_blocking()).collect()
    }

    /// Whether any finding blocks the apply.
    pub fn is_blocking(&self) -> bool {
        self.findings.iter().any(Finding::is_blocking)
    }

    /// The report as JSON (`findings`, `cost`, `summary`, `env`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    fn headline(&self) -> String {
        let blocking = self.blocking().len();
        let warnings = self
            .findings
            .iter()
            .filter(|f| !f.is_blocking() && f.exempted.is_none())
            .count();
        let exempted = self
            .findings
            .iter()
            .filter(|f| f.exempted.is_some())
            .count();
        let mut parts = Vec::new();
        match self.status {
            PlanStatus::Errored => parts.push("plan failed".to_string()),
            PlanStatus::Incomplete => parts.push("plan incomplete".to_string()),
            PlanStatus::Complete => {}
        }
        parts.push(match blocking {
            0 => "no blocking finding".to_string(),
            1 => "1 blocking finding".to_string(),
            n => format!("{n} blocking findings"),
        });
        if warnings > 0 {
            parts.push(format!(
                "{warnings} warning{}",
                if warnings == 1 { "" } else { "s" }
            ));
        }
        if exempted > 0 {
            parts.push(format!("{exempted} exempted"));
        }
        parts.join(", ")
    }

    /// The plan line: terraform's summary, or what a failed or incomplete plan is. Never
    /// "No changes." for a plan that did not finish.
    pub fn plan_line(&self) -> String {
        match self.status {
            PlanStatus::Complete => self.summary.to_string(),
            PlanStatus::Errored if self.summary.is_empty() => {
                "Plan failed: terraform stopped with errors before planning any change.".to_string()
            }
            PlanStatus::Errored => format!(
                "Plan failed: terraform stopped with errors; planned before it stopped: {}",
                self.summary
            ),
            PlanStatus::Incomplete => {
                let planned = if self.summary.is_empty() {
                    "no change in this round".to_string()
                } else {
                    self.summary.to_string()
                };
                format!(
                    "Plan incomplete: {} deferred to a later plan; planned now: {planned}",
                    match self.deferred.len() {
                        1 => "1 change".to_string(),
                        n => format!("{n} changes"),
                    }
                )
            }
        }
    }

    /// Plain text for a terminal.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Slipway check ({}): {}", self.env, self.headline());
        let _ = writeln!(s, "{}", self.plan_line());
        if !self.deferred.is_empty() {
            let _ = writeln!(s);
            for d in &self.deferred {
                let _ = writeln!(
                    s,
                    "deferred {:<24} {}  ({})",
                    action_word(d.action),
                    d.address,
                    reason_text(&d.reason)
                );
            }
        }
        if !self.findings.is_empty() {
            let _ = writeln!(s);
            for f in &self.findings {
                let label = label(f, false);
                let _ = writeln!(s, "{label:<8} {:<24} {}", f.rule.as_str(), f.address);
                let _ = writeln!(s, "         {}", f.message);
                if let Some(reason) = &f.exempted {
                    let _ = writeln!(s, "         exempted: {reason}");
                }
            }
        }
        let c = &self.cost;
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "Monthly cost: {} -> {} ({})",
            usd(c.monthly_before),
            usd(c.monthly_after),
            signed_usd(c.monthly_delta)
        );
        for l in c.lines.iter().filter(|l| l.is_change()) {
            let _ = writeln!(
                s,
                "  {:<10} {:>10} -> {:>10} {:>11}  {}  [{}]",
                action_word(l.action),
                l.monthly_before.map(usd).unwrap_or_else(|| "-".into()),
                l.monthly_after.map(usd).unwrap_or_else(|| "-".into()),
                signed_usd(l.monthly_delta),
                l.address,
                l.detail
            );
        }
        for u in &c.usage_based {
            let _ = writeln!(s, "  usage-based  {}  ({})", u.address, u.note);
        }
        for u in &c.unpriced {
            let _ = writeln!(s, "  not priced   {}  ({})", u.address, u.reason);
        }
        s
    }

    /// Markdown for a pull-request comment.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let icon = if self.is_blocking() { "❌" } else { "✅" };
        let _ = writeln!(
            s,
            "### {icon} Slipway check: `{}`: {}\n",
            md_code_text(&self.env),
            self.headline()
        );
        let _ = writeln!(s, "{}\n", self.plan_line());
        if !self.deferred.is_empty() {
            let _ = writeln!(s, "**Deferred to a later plan:**\n");
            for d in &self.deferred {
                let _ = writeln!(
                    s,
                    "- {} ({}): {}",
                    md_code(&d.address),
                    action_word(d.action),
                    md_cell(&reason_text(&d.reason))
                );
            }
            let _ = writeln!(s);
        }
        if !self.findings.is_empty() {
            let _ = writeln!(s, "| | Rule | Resource | Finding |");
            let _ = writeln!(s, "| --- | --- | --- | --- |");
            for f in &self.findings {
                let label = label(f, true);
                let mut message = md_cell(&f.message);
                if let Some(reason) = &f.exempted {
                    let _ = write!(message, " <br>*Exempted:* {}", md_cell(reason));
                }
                let _ = writeln!(
                    s,
                    "| {label} | `{}` | {} | {message} |",
                    f.rule.as_str(),
                    md_code(&f.address)
                );
            }
            let _ = writeln!(s);
        }
        let c = &self.cost;
        let _ = writeln!(
            s,
            "**Monthly cost:** {} → {} (**{}**)\n",
            usd(c.monthly_before),
            usd(c.monthly_after),
            signed_usd(c.monthly_delta)
        );
        let changed: Vec<_> = c.lines.iter().filter(|l| l.is_change()).collect();
        if !changed.is_empty() {
            let _ = writeln!(
                s,
                "| Resource | Action | Before | After | Change | Priced as |"
            );
            let _ = writeln!(s, "| --- | --- | ---: | ---: | ---: | --- |");
            for l in changed {
                let mut detail = md_cell(&l.detail);
                if let Some(note) = &l.note {
                    let _ = write!(detail, " ({})", md_cell(note));
                }
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} | {detail} |",
                    md_code(&l.address),
                    action_word(l.action),
                    l.monthly_before.map(usd).unwrap_or_else(|| "–".into()),
                    l.monthly_after.map(usd).unwrap_or_else(|| "–".into()),
                    signed_usd(l.monthly_delta),
                );
            }
            let _ = writeln!(s);
        }
        if !c.usage_based.is_empty() {
            let _ = writeln!(
                s,
                "<details><summary>Usage-based, no figure ({})</summary>\n",
                c.usage_based.len()
            );
            for u in &c.usage_based {
                let _ = writeln!(
                    s,
                    "- {} ({}): {}",
                    md_code(&u.address),
                    action_word(u.action),
                    md_cell(&u.note)
                );
            }
            let _ = writeln!(s, "\n</details>\n");
        }
        if !c.unpriced.is_empty() {
            let _ = writeln!(
                s,
                "<details><summary>Not priced, not in the totals ({})</summary>\n",
                c.unpriced.len()
            );
            for u in &c.unpriced {
                let _ = writeln!(
                    s,
                    "- {} ({}): {}",
                    md_code(&u.address),
                    action_word(u.action),
                    md_cell(&u.reason)
                );
            }
            let _ = writeln!(s, "\n</details>\n");
        }
        s
    }
}

fn action_word(a: Action) -> &'static str {
    match a {
        Action::Create => "create",
        Action::Update => "update",
        Action::Delete => "destroy",
        Action::Replace { .. } => "replace",
        Action::NoOp => "no change",
        Action::Read => "read",
        Action::Forget => "forget",
        Action::Unknown => "unknown action",
    }
}

/// How a finding is labelled: `error`, `warning`, `exempted`, or `known after apply`
/// (with its severity when that blocks).
pub fn label(f: &Finding, markdown: bool) -> &'static str {
    match (&f.exempted, f.severity, f.known_after_apply, markdown) {
        (Some(_), _, _, false) => "exempted",
        (Some(_), _, _, true) => "☑️ exempted",
        (None, Severity::Error, true, false) => "error (known after apply)",
        (None, Severity::Error, true, true) => "❌ error (known after apply)",
        (None, Severity::Warning, true, false) => "known after apply",
        (None, Severity::Warning, true, true) => "⚠️ known after apply",
        (None, Severity::Error, false, false) => "error",
        (None, Severity::Error, false, true) => "❌ error",
        (None, Severity::Warning, false, false) => "warning",
        (None, Severity::Warning, false, true) => "⚠️ warning",
    }
}

/// `$1,234.56`
pub fn usd(x: f64) -> String {
    let cents = (x.abs() * 100.0).round() as u64;
    let (whole, frac) = (cents / 100, cents % 100);
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let sign = if x < 0.0 && cents > 0 { "-" } else { "" };
    format!("{sign}${grouped}.{frac:02}")
}

/// `+$12.00`, `-$3.50`, `$0.00`
pub fn signed_usd(x: f64) -> String {
    if (x * 100.0).round() == 0.0 {
        "$0.00".to_string()
    } else if x > 0.0 {
        format!("+{}", usd(x))
    } else {
        usd(x)
    }
}

/// Inline code that survives backticks and pipes in the text.
fn md_code(s: &str) -> String {
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", s.replace('|', "\\|"))
}

fn md_code_text(s: &str) -> String {
    s.replace('`', "'")
}

/// Text for a table cell: no line breaks, pipes escaped, HTML neutralised.
fn md_cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}
