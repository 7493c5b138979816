//! The pull-request comment: a pure function from a review to Markdown.
//!
//! The comment carries a hidden marker with the state Slipway needs later, so the sticky comment
//! can be found and edited in place. It never exceeds GitHub's comment limit: per-unit details are
//! cut to a budget, with a note saying so.

use std::fmt::Write as _;

use agent::engine::source::ResolvedSource;
use agent::repo::{HeadSettings, Settings};
use rules::plan::{Action, Plan};
use rules::{Report, Severity};
use serde::Serialize;

/// GitHub rejects comment bodies longer than this many characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;
/// What Slipway allows itself, leaving room for the marker and the notes.
const BUDGET: usize = 60_000;
/// Marker prefix of Slipway's comments.
pub const MARKER: &str = "<!-- slipway:";

/// Everything the comment shows.
#[derive(Debug, Clone)]
pub struct Review {
    /// Commit planned (the pull request's head).
    pub head: String,
    /// Commit the change starts from.
    pub base: String,
    pub units: Vec<UnitReview>,
    /// Evaluation problems that concern the change.
    pub errors: Vec<String>,
    /// Which `slipway.toml` the review ran under, and what the change does to it.
    pub settings: Option<Settings>,
    /// Units another pull request holds locked, with its number.
    pub locked_by: std::collections::BTreeMap<String, u64>,
    /// Why the pull request was planned again, when it was (a command, its base moved, a lock
    /// it waited for was released).
    pub why: Option<String>,
}

/// One unit's part of the review.
#[derive(Debug, Clone)]
pub struct UnitReview {
    pub path: String,
    pub env: Option<String>,
    /// Why the unit is part of the change.
    pub reasons: Vec<String>,
    pub outcome: Outcome,
    /// Policy findings and cost of the plan, when it was planned.
    pub report: Option<Report>,
    /// The remote module sources planned, with the commit, version or digest each resolved to.
    pub sources: Vec<ResolvedSource>,
    /// The unit's dependencies (repository-relative paths), for the diagram.
    pub dependencies: Vec<String>,
}

/// What happened to a unit.
#[derive(Debug, Clone)]
pub enum Outcome {
    Planned(Box<Plan>),
    Failed(String),
    /// The unit was deleted; destroying its resources needs its last state.
    Removed,
    Skipped(String),
    /// Waiting for its plan (the live comment, while a job runs).
    Planning,
    /// Its run finished and the review is being put together; what happened, in a few words.
    Progress(String),
}

#[derive(Serialize)]
struct Marker<'a> {
    version: u32,
    /// `review`: the sticky review and its continuations (other comments Slipway writes carry
    /// other kinds).
    kind: &'static str,
    head: &'a str,
    units: Vec<&'a str>,
    /// Set on continuation comments: the part's number (the first comment is part 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    part: Option<usize>,
}

fn marker_line(marker: &Marker<'_>) -> String {
    // `<` and `>` occur only inside JSON strings: as `\u003c`/`\u003e` no path can close the
    // HTML comment, and the JSON reads back the same.
    format!(
        "{MARKER} {} -->\n",
        serde_json::to_string(marker)
            .unwrap_or_default()
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
    )
}

/// Text from the repository (a unit path, an environment's name) made safe inside a Markdown
/// table cell's code span or an HTML element: no backtick, pipe, line break or markup can end
/// the span, the cell or the element.
pub fn inline(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '`' => '\''.to_string(),
            '|' => "\\|".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '&' => "&amp;".to_string(),
            c if c.is_control() => " ".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// Names as code spans, comma-separated, each escaped with [`inline`].
pub fn code_list<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    items
        .into_iter()
        .map(|u| format!("`{}`", inline(u.as_ref())))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a Slipway comment's marker says, read back from a comment body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct MarkerInfo {
    #[serde(default)]
    pub kind: Option<String>,
    pub head: String,
    #[serde(default)]
    pub part: Option<usize>,
}

/// Reads the marker of a comment Slipway wrote; `None` for any other comment.
pub fn read_marker(body: &str) -> Option<MarkerInfo> {
    let rest = body.strip_prefix(MARKER)?;
    let json = rest.split("-->").next()?.trim();
    serde_json::from_str(json).ok()
}

/// Renders the comment as one body: per-unit details are cut to fit GitHub's limit (the
/// command line's form; the service posts [`render_parts`]).
pub fn render(review: &Review) -> String {
    let mut out = marker_line(&main_marker(review));
    out.push_str(&front(review));
    if review.units.is_empty() {
        return out;
    }
    let per_unit = (BUDGET.saturating_sub(out.len()) / review.units.len().max(1)).max(1_000);
    for u in &review.units {
        let section = unit_section(u);
        if section.len() > per_unit {
            out.push_str(&cut(&section, per_unit));
        } else {
            out.push_str(&section);
        }
    }
    if out.len() > BUDGET {
        out = cut(&out, BUDGET);
    }
    out
}

/// At most this many comments carry one review (the first and its continuations).
pub const MAX_PARTS: usize = 20;

/// Renders the comment as the service posts it: the first comment, then numbered
/// continuation comments when the review does not fit in one. Parts are cut only between
/// units' sections, so no code fence or `<details>` block is broken; a single section larger
/// than a comment is cut on its own. Every part is within [`BUDGET`] bytes, so within
/// GitHub's 65,536 characters.
pub fn render_parts(review: &Review) -> Vec<String> {
    let mut first = marker_line(&main_marker(review));
    first.push_str(&front(review));
    first.push_str(&mermaid(review));
    // Hundreds of units make the table and the diagram alone too long: cut, fences and
    // `<details>` closed.
    if first.len() > BUDGET - 1_000 {
        first = cut(&first, BUDGET - 1_000);
    }
    let sections: Vec<String> = review
        .units
        .iter()
        .map(unit_section)
        .map(|s| {
            if s.len() > BUDGET - 1_000 {
                cut(&s, BUDGET - 1_000)
            } else {
                s
            }
        })
        .collect();
    let mut parts = vec![first];
    let room = BUDGET - 1_000;
    for section in sections {
        let last = parts.len() - 1;
        if parts[last].len() + section.len() <= room {
            parts[last].push_str(&section);
        } else if parts.len() < MAX_PARTS {
            parts.push(section);
        } else {
            let _ = writeln!(
                parts[last],
                "\n… more units not shown: the review is longer than {MAX_PARTS} comments.\n"
            );
            break;
        }
    }
    let total = parts.len();
    let short = review.head.chars().take(7).collect::<String>();
    for (i, part) in parts.iter_mut().enumerate().skip(1) {
        let marker = Marker {
            version: 1,
            kind: "review",
            head: &review.head,
            units: Vec::new(),
            part: Some(i + 1),
        };
        *part = format!(
            "{}## Slipway plan for `{short}`, continued ({} of {total})\n\n{part}",
            marker_line(&marker),
            i + 1
        );
    }
    if total > 1 {
        let _ = writeln!(
            parts[0],
            "\nThe review continues in {} more comment(s) below.",
            total - 1
        );
    }
    parts
}

fn main_marker(review: &Review) -> Marker<'_> {
    Marker {
        version: 1,
        kind: "review",
        head: &review.head,
        // The first units name the review; all of them would not fit a large change.
        units: review
            .units
            .iter()
            .take(50)
            .map(|u| u.path.as_str())
            .collect(),
        part: None,
    }
}

/// The title, the table of units, the totals and the evaluation errors.
fn front(review: &Review) -> String {
    let mut out = String::new();
    let short = |s: &str| s.chars().take(7).collect::<String>();
    let _ = writeln!(
        out,
        "## Slipway plan for `{}` (from `{}`)\n",
        short(&review.head),
        short(&review.base)
    );
    if let Some(why) = &review.why {
        let _ = writeln!(out, "_Planned again: {}._\n", inline(why));
    }
    if review.units.is_empty() && review.errors.is_empty() {
        out.push_str("No Terragrunt unit is affected by this change.\n");
        out.push_str(&settings_section(review.settings.as_ref()));
        return out;
    }

    out.push_str("| Unit | Env | Plan | Cost / month | Checks |\n|---|---|---|---|---|\n");
    for u in &review.units {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            inline(&u.path),
            inline(u.env.as_deref().unwrap_or("—")),
            result_cell(&u.outcome),
            cost_cell(u.report.as_ref()),
            checks_cell(u.report.as_ref()),
        );
    }
    out.push('\n');
    let reports: Vec<&Report> = review
        .units
        .iter()
        .filter_map(|u| u.report.as_ref())
        .collect();
    if !reports.is_empty() {
        let before: f64 = reports.iter().map(|r| r.cost.monthly_before).sum();
        let after: f64 = reports.iter().map(|r| r.cost.monthly_after).sum();
        // Only when something was priced: a line of zeros says nothing.
        if reports.iter().any(|r| !r.cost.lines.is_empty()) {
            let _ = writeln!(
                out,
                "**Monthly cost:** ${before:.2} → ${after:.2} ({}) for the priced resources.",
                money_delta(after - before)
            );
        }
        let blocking: usize = reports.iter().map(|r| r.blocking().len()).sum();
        if blocking > 0 {
            let _ = writeln!(
                out,
                "\n**{blocking} blocking finding(s):** apply is refused until they are fixed or exempted in `slipway.toml`."
            );
        }
        out.push('\n');
    }

    if !review.locked_by.is_empty() {
        let held: Vec<String> = review
            .locked_by
            .iter()
            .take(50)
            .map(|(unit, pr)| format!("`{}` by #{pr}", inline(unit)))
            .collect();
        let _ = writeln!(
            out,
            "> [!WARNING]\n> 🔒 Locked by another pull request: {}{}. This pull request's plan of them cannot be applied until that pull request is merged or closed, or `/unlock` there frees them.\n",
            held.join(", "),
            if review.locked_by.len() > 50 { ", …" } else { "" }
        );
    }
    out.push_str(&settings_section(review.settings.as_ref()));
    for e in &review.errors {
        let _ = writeln!(out, "> [!WARNING]\n> {}\n", e.replace('\n', "\n> "));
    }
    out
}

/// At most this many changed settings are listed; the rest are counted.
const MAX_SETTING_ROWS: usize = 60;

/// What the change does to `slipway.toml`, and the repository settings the service ignores.
/// Silent when the change leaves `slipway.toml` alone and the service ignores nothing.
fn settings_section(settings: Option<&Settings>) -> String {
    let Some(settings) = settings else {
        return String::new();
    };
    let mut out = String::new();
    let base: String = settings.commit.to_string().chars().take(7).collect();
    match &settings.head {
        None => {}
        Some(HeadSettings::Invalid(e)) => {
            let _ = writeln!(
                out,
                "### `slipway.toml`\n\n> [!CAUTION]\n> This change's `slipway.toml` cannot be used: {}\n>\n> The plans above run under the base's settings (`{base}`). Merged as it is, it would stop Slipway's reviews and applies.\n",
                inline(e)
            );
        }
        Some(HeadSettings::Changes(changes) | HeadSettings::Removed(changes)) => {
            let removed = matches!(settings.head, Some(HeadSettings::Removed(_)));
            let _ = writeln!(
                out,
                "### `slipway.toml`\n\nThis change {} `slipway.toml`. Its plans run under the base's settings (`{base}`), not its own; once merged, {}",
                if removed { "removes" } else { "edits" },
                if changes.is_empty() {
                    "it changes nothing Slipway acts on.\n"
                } else {
                    "it changes:\n"
                }
            );
            if !changes.is_empty() {
                out.push_str("| Setting | Env | Before | After | |\n|---|---|---|---|---|\n");
                for c in changes.iter().take(MAX_SETTING_ROWS) {
                    let mark = if c.prod {
                        "⚠️ **loosens a production protection: review with care**"
                    } else if c.loosens {
                        "loosens"
                    } else {
                        ""
                    };
                    let _ = writeln!(
                        out,
                        "| `{}` | {} | {} | {} | {mark} |",
                        inline(&c.key),
                        inline(c.env.as_deref().unwrap_or("all")),
                        inline(&cut_text(&c.before, 200)),
                        inline(&cut_text(&c.after, 200)),
                    );
                }
                if changes.len() > MAX_SETTING_ROWS {
                    let _ = writeln!(
                        out,
                        "\n… and {} more changed setting(s).",
                        changes.len() - MAX_SETTING_ROWS
                    );
                }
                let prod = changes.iter().filter(|c| c.prod).count();
                if prod > 0 {
                    let _ = writeln!(
                        out,
                        "\n> [!IMPORTANT]\n> {prod} change(s) loosen a protection of a production environment."
                    );
                }
                out.push('\n');
            }
        }
    }
    if !settings.ignored.is_empty() {
        let _ = writeln!(
            out,
            "> [!NOTE]\n> The service does not let this repository set {}: ignored, the service's own settings apply.\n",
            code_list(settings.ignored.iter().take(MAX_SETTING_ROWS))
        );
    }
    out
}

/// `s` cut to at most `max` characters, with an ellipsis.
fn cut_text(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max).collect();
    t.push('…');
    t
}

/// A diagram of the affected units: one box per environment in promotion order, units inside,
/// an arrow from each dependency to what depends on it and from each environment to the next.
fn mermaid(review: &Review) -> String {
    if review.units.is_empty() {
        return String::new();
    }
    let mut envs: Vec<&str> = Vec::new();
    for u in &review.units {
        let e = u.env.as_deref().unwrap_or("no environment");
        if !envs.contains(&e) {
            envs.push(e);
        }
    }
    let label = |s: &str| {
        s.chars()
            .map(|c| match c {
                '"' => "#quot;".to_string(),
                '<' => "#lt;".to_string(),
                '>' => "#gt;".to_string(),
                '`' => "'".to_string(),
                c if c.is_control() => " ".to_string(),
                c => c.to_string(),
            })
            .collect::<String>()
    };
    let mut out =
        String::from("<details><summary>Order of apply</summary>\n\n```mermaid\nflowchart LR\n");
    for (ei, env) in envs.iter().enumerate() {
        let _ = writeln!(out, "  subgraph e{ei} [\"{}\"]", label(env));
        for (ui, u) in review.units.iter().enumerate() {
            if u.env.as_deref().unwrap_or("no environment") == *env {
                let _ = writeln!(out, "    u{ui}[\"{}\"]", label(&u.path));
            }
        }
        out.push_str("  end\n");
    }
    for pair in 0..envs.len().saturating_sub(1) {
        let _ = writeln!(out, "  e{pair} ==> e{}", pair + 1);
    }
    for (ui, u) in review.units.iter().enumerate() {
        for d in &u.dependencies {
            if let Some(di) = review.units.iter().position(|x| &x.path == d) {
                let _ = writeln!(out, "  u{di} --> u{ui}");
            }
        }
    }
    out.push_str("```\n\n</details>\n\n");
    out
}

fn result_cell(o: &Outcome) -> String {
    match o {
        Outcome::Planned(p) => {
            let s = p.summary();
            let counts = format!("+{} ~{} -{}", s.add, s.change, s.destroy);
            if p.errored {
                // Never "No changes": the plan stopped before it was done.
                format!("**plan failed** ({counts} before it stopped)")
            } else if !p.complete {
                format!(
                    "**plan incomplete** ({counts}, {} deferred)",
                    p.deferred_changes.len()
                )
            } else if s.is_empty() {
                "No changes".into()
            } else {
                counts
            }
        }
        Outcome::Failed(_) => "**failed**".into(),
        Outcome::Removed => "**removed**: resources to destroy".into(),
        Outcome::Skipped(why) => format!("skipped: {why}"),
        Outcome::Planning => "⏳ planning".into(),
        Outcome::Progress(what) => format!("⏳ {what}"),
    }
}

fn money_delta(d: f64) -> String {
    if d.abs() < 0.005 {
        "no change".into()
    } else if d > 0.0 {
        format!("+${d:.2}")
    } else {
        format!("-${:.2}", -d)
    }
}

fn cost_cell(r: Option<&Report>) -> String {
    match r {
        None => "—".into(),
        Some(r) if r.cost.lines.is_empty() => {
            if r.cost.unpriced.is_empty() && r.cost.usage_based.is_empty() {
                "—".into()
            } else {
                "not priced".into()
            }
        }
        Some(r) => money_delta(r.cost.monthly_delta),
    }
}

fn checks_cell(r: Option<&Report>) -> String {
    let Some(r) = r else { return "—".into() };
    let blocking = r.blocking().len();
    let warnings = r
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning && f.exempted.is_none())
        .count();
    match (blocking, warnings) {
        (0, 0) => "✅ passed".into(),
        (0, w) => format!("⚠️ {w} warning(s)"),
        (b, 0) => format!("❌ {b} blocking"),
        (b, w) => format!("❌ {b} blocking, {w} warning(s)"),
    }
}

fn report_section(r: &Report) -> String {
    let mut s = String::new();
    if !r.findings.is_empty() {
        s.push_str("**Checks**\n\n");
        for f in &r.findings {
            let mark = rules::report::label(f, true);
            let _ = write!(s, "- {mark} `{}` on `{}`: {}", f.rule, f.address, f.message);
            if let Some(reason) = &f.exempted {
                let _ = write!(s, " (exempted: {reason})");
            }
            s.push('\n');
        }
        s.push('\n');
    }
    let changed: Vec<_> = r
        .cost
        .lines
        .iter()
        .filter(|l| l.monthly_delta.abs() >= 0.005)
        .collect();
    if !changed.is_empty() {
        s.push_str("**Cost**\n\n| Resource | Priced as | Before | After | Delta |\n|---|---|---|---|---|\n");
        let money = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("${v:.2}"));
        for l in changed {
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {} | {} |",
                l.address,
                l.detail,
                money(l.monthly_before),
                money(l.monthly_after),
                money_delta(l.monthly_delta)
            );
        }
        s.push('\n');
    }
    if !r.cost.usage_based.is_empty() {
        let names: Vec<String> = r
            .cost
            .usage_based
            .iter()
            .map(|u| format!("`{}`", u.address))
            .collect();
        let _ = writeln!(s, "Usage-based, not counted: {}.\n", names.join(", "));
    }
    if !r.cost.unpriced.is_empty() {
        let names: Vec<String> = r
            .cost
            .unpriced
            .iter()
            .map(|u| format!("`{}`", u.address))
            .collect();
        let _ = writeln!(s, "Not priced: {}.\n", names.join(", "));
    }
    s
}

fn unit_section(u: &UnitReview) -> String {
    let mut s = String::new();
    let headline = match &u.outcome {
        Outcome::Planned(p) if p.errored => {
            "Plan failed: terraform stopped with errors part-way".into()
        }
        Outcome::Planned(p) if !p.complete => {
            "Plan incomplete: some changes are deferred to a later plan".into()
        }
        Outcome::Planned(p) => p.summary().to_string(),
        Outcome::Failed(_) => "Plan failed".into(),
        Outcome::Removed => "Unit removed".into(),
        Outcome::Skipped(why) => format!("Skipped: {why}"),
        Outcome::Planning | Outcome::Progress(_) => return String::new(),
    };
    let open = matches!(u.outcome, Outcome::Failed(_))
        || matches!(&u.outcome, Outcome::Planned(p) if !p.summary().is_empty() || !p.is_whole());
    let _ = writeln!(
        s,
        "<details{}><summary><code>{}</code> ({}): {}</summary>\n",
        if open { " open" } else { "" },
        inline(&u.path),
        inline(u.env.as_deref().unwrap_or("no environment")),
        headline
    );
    if !u.reasons.is_empty() {
        let _ = writeln!(s, "Why: {}\n", inline(&u.reasons.join("; ")));
    }
    for src in &u.sources {
        let _ = writeln!(s, "Module source: {}\n", source_line(src));
    }
    if let Some(r) = &u.report {
        s.push_str(&report_section(r));
    }
    match &u.outcome {
        Outcome::Planned(p) => {
            let diff = plan_diff(p);
            if !diff.is_empty() {
                let _ = writeln!(s, "```diff\n{diff}```\n");
            }
            let deferred = deferred_diff(p);
            if !deferred.is_empty() {
                let _ = writeln!(
                    s,
                    "Deferred to a later plan (not applied by this one):\n\n```diff\n{deferred}```\n"
                );
            }
        }
        Outcome::Failed(e) => {
            let _ = writeln!(s, "```\n{}\n```\n", e.trim_end().replace("```", "'''"));
        }
        Outcome::Removed => {
            s.push_str("The unit's `terragrunt.hcl` was deleted. Its resources are destroyed when this change is applied.\n\n");
        }
        Outcome::Skipped(_) | Outcome::Planning | Outcome::Progress(_) => {}
    }
    s.push_str("</details>\n\n");
    s
}

/// `` `git::...?ref=main` at commit `0123abc...` `` (versions and digests likewise).
fn source_line(src: &ResolvedSource) -> String {
    let mut what = Vec::new();
    if let Some(v) = &src.version {
        what.push(format!("version `{v}`"));
    }
    if let Some(c) = &src.commit {
        what.push(format!("commit `{c}`"));
    }
    if let Some(d) = &src.sha256 {
        what.push(format!("sha256 `{d}`"));
    }
    format!("`{}` at {}", src.source.replace('`', "'"), what.join(", "))
}

/// The attribute-level diff of a plan, in `diff` syntax so GitHub colours it.
pub fn plan_diff(plan: &Plan) -> String {
    let mut s = String::new();
    for rc in &plan.resource_changes {
        let (sign, what) = match rc.action {
            Action::Create => ("+", "will be created"),
            Action::Update => ("!", "will be updated in-place"),
            Action::Delete => ("-", "will be destroyed"),
            Action::Replace { .. } => ("-/+", "must be replaced"),
            Action::Read => ("<=", "will be read during apply"),
            Action::Forget => ("-", "will be removed from state (not destroyed)"),
            Action::Unknown => ("!", "has an unknown action"),
            Action::NoOp => continue,
        };
        let moved = rc
            .previous_address
            .as_deref()
            .map(|p| format!(" (moved from {p})"))
            .unwrap_or_default();
        let listed = if rc.action == Action::Unknown {
            format!(" {:?}", rc.unknown_actions)
        } else {
            String::new()
        };
        let _ = writeln!(s, "{sign} {} {what}{listed}{moved}", rc.address);
        for a in rc.attribute_changes() {
            let line_sign = match (&a.before, &a.after) {
                (None, Some(_)) => "+",
                (Some(_), None) => "-",
                _ => "!",
            };
            let value = match (&a.before, &a.after) {
                (None, Some(v)) => v.to_string(),
                (Some(v), None) => v.to_string(),
                (Some(b), Some(v)) => format!("{b} -> {v}"),
                (None, None) => continue,
            };
            let forces = if a.forces_replacement {
                " # forces replacement"
            } else {
                ""
            };
            let _ = writeln!(s, "{line_sign}     {} = {value}{forces}", a.path);
        }
    }
    s
}

fn deferred_diff(plan: &Plan) -> String {
    let mut s = String::new();
    for d in &plan.deferred_changes {
        let _ = writeln!(
            s,
            "! {} deferred ({}): {}",
            d.change.address,
            d.change.action,
            rules::report::reason_text(&d.reason)
        );
    }
    s
}

/// Cuts Markdown to at most `max` bytes on a line boundary, closing an open code fence and
/// details block, and says how much was left out.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let note_room = 200;
    let mut end = max.saturating_sub(note_room).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind('\n').map_or(end, |i| i + 1);
    let kept = &text[..end];
    let dropped = text[end..].lines().count();
    let mut out = kept.to_string();
    if kept.matches("```").count() % 2 == 1 {
        out.push_str("```\n");
    }
    let _ = writeln!(
        out,
        "\n… {dropped} more lines not shown (GitHub limits a comment to {GITHUB_COMMENT_LIMIT} characters).\n"
    );
    if kept.matches("<details").count() > kept.matches("</details>").count() {
        out.push_str("</details>\n\n");
    }
    out
}

/// The comment showing a merged pull request's pipeline, stage by stage.
pub fn render_pipeline(pr: u64, p: &agent::pipeline::Pipeline) -> String {
    use agent::pipeline::{Gate, StageState, UnitState};
    let short: String = p.commit.chars().take(7).collect();
    let mut out = format!(
        "{MARKER} {{\"version\":1,\"kind\":\"pipeline\",\"head\":\"{}\"}} -->\n## Slipway apply of `{short}` (#{pr}, merged)\n\n",
        inline(&p.commit)
    );
    out.push_str("| Stage | Gate | State | Units |\n|---|---|---|---|\n");
    for s in &p.stages {
        let gate = match s.gate {
            Gate::Auto => "auto".to_string(),
            Gate::Command => format!("`/apply {}`", inline(&s.env)),
        };
        let took = match (s.started_ms, s.finished_ms) {
            (Some(a), Some(b)) if b >= a => format!(" in {:.1} s", (b - a) as f64 / 1000.0),
            _ => String::new(),
        };
        let state = match s.state {
            StageState::Pending => "⏳ waiting for the stage before".to_string(),
            StageState::AwaitingGate => format!("⏸ waiting for `/apply {}`", inline(&s.env)),
            StageState::Applying => "🔄 applying".to_string(),
            StageState::Applied => format!("✅ applied{took}"),
            StageState::Failed => format!("❌ failed{took}: `/apply {}` retries", inline(&s.env)),
            StageState::Blocked => "⛔ blocked: an earlier stage failed".to_string(),
        };
        let state = match &s.opened {
            Some((by, _)) => format!("{state} (opened by {})", inline(by)),
            None => state,
        };
        let state = match &s.waiting_for {
            Some(pr) if s.state == StageState::Applying => format!(
                "⏳ waiting for {} (merged earlier) to apply the units it shares first",
                inline(pr)
            ),
            _ => state,
        };
        let count = |f: fn(&UnitState) -> bool| s.units.iter().filter(|u| f(&u.state)).count();
        let mut units = vec![format!("{} applied", count(|u| *u == UnitState::Applied))];
        for (n, what) in [
            (count(|u| matches!(u, UnitState::Failed(_))), "failed"),
            (count(|u| *u == UnitState::Interrupted), "interrupted"),
            (count(|u| matches!(u, UnitState::Skipped(_))), "skipped"),
            (
                count(|u| matches!(u, UnitState::NotApplied(_))),
                "not applied",
            ),
            (
                count(|u| matches!(u, UnitState::Waiting | UnitState::Applying)),
                "to go",
            ),
        ] {
            if n > 0 {
                units.push(format!("{n} {what}"));
            }
        }
        let _ = writeln!(
            out,
            "| {} | {gate} | {state} | {} |",
            inline(&s.env),
            units.join(", ")
        );
    }
    out.push('\n');
    for s in &p.stages {
        let _ = writeln!(
            out,
            "<details><summary><code>{}</code></summary>\n",
            inline(&s.env)
        );
        for u in s.units.iter().take(200) {
            let what = match &u.state {
                UnitState::Waiting => "waiting".to_string(),
                UnitState::Applying => "applying".to_string(),
                UnitState::Applied => match &u.plan_sha256 {
                    Some(sha) => format!(
                        "applied (plan sha256 `{}`)",
                        inline(&sha.chars().take(12).collect::<String>())
                    ),
                    None => "applied".to_string(),
                },
                UnitState::Failed(_) => "**failed**".to_string(),
                UnitState::Skipped(why) => format!("skipped: {}", inline(why)),
                UnitState::NotApplied(why) => format!("not applied: {}", inline(why)),
                UnitState::Interrupted => "**interrupted** while applying: check its state, then `/apply` the stage to run it again".to_string(),
            };
            let _ = writeln!(out, "- `{}`: {what}", inline(&u.unit));
            if let UnitState::Failed(e) = &u.state {
                let excerpt: String = e.chars().take(1_500).collect();
                let _ = writeln!(
                    out,
                    "\n  ```\n  {}\n  ```",
                    excerpt.replace("```", "'''").replace('\n', "\n  ")
                );
            }
        }
        out.push_str("\n</details>\n\n");
    }
    if out.len() > BUDGET {
        out = cut(&out, BUDGET);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pipeline_comment_shows_each_stage_and_escapes_what_the_repository_names() {
        use agent::pipeline::{Event, Gate, Pipeline};
        let mut p = Pipeline::new(
            &"c".repeat(40),
            &"b".repeat(40),
            vec![
                (
                    "dev".into(),
                    Gate::Auto,
                    vec![("live/dev/x`|<b>".into(), Vec::new())],
                ),
                (
                    "prod".into(),
                    Gate::Command,
                    vec![("live/prod/x".into(), Vec::new())],
                ),
            ],
        );
        p.step(Event::Started).expect("starts");
        p.step(Event::UnitFailed {
            unit: "live/dev/x`|<b>".into(),
            error: "boom\n```\nclosed?".into(),
        })
        .expect("fails");
        p.settle("dev", 10);
        let body = render_pipeline(7, &p);
        assert!(body.starts_with(MARKER), "{body}");
        assert_eq!(
            read_marker(&body).and_then(|m| m.kind),
            Some("pipeline".into())
        );
        assert!(body.contains("| dev | auto | ❌ failed"), "{body}");
        assert!(
            body.contains("| prod | `/apply prod` | ⛔ blocked"),
            "{body}"
        );
        assert!(body.contains("`live/dev/x'\\|&lt;b&gt;`"), "{body}");
        assert_eq!(
            body.matches("```").count() % 2,
            0,
            "fences balanced: {body}"
        );
    }

    #[test]
    fn a_unit_path_cannot_close_the_marker_a_code_span_or_a_details_block() {
        let path = "live/dev/x--></code></summary></details>`|y\nz";
        let review = Review {
            head: "a".repeat(40),
            base: "b".repeat(40),
            units: vec![UnitReview {
                path: path.into(),
                env: Some("dev".into()),
                reasons: vec!["its terragrunt.hcl changed".into()],
                outcome: Outcome::Failed("boom".into()),
                report: None,
                sources: Vec::new(),
                dependencies: Vec::new(),
            }],
            errors: Vec::new(),
            settings: None,
            locked_by: Default::default(),
            why: None,
        };
        for body in render_parts(&review).iter().chain([render(&review)].iter()) {
            let marker = read_marker(body).expect("the marker reads back");
            assert_eq!(marker.kind.as_deref(), Some("review"));
            assert_eq!(body.matches("-->").count(), 1, "{body}");
            assert_eq!(
                body.matches("<details").count(),
                body.matches("</details>").count(),
                "{body}"
            );
            assert_eq!(
                body.matches("<summary>").count(),
                body.matches("</summary>").count(),
                "{body}"
            );
            assert_eq!(
                body.matches("<details").count(),
                body.matches("<summary>").count(),
                "{body}"
            );
            let shown = body.split_once('\n').map_or("", |(_, rest)| rest);
            assert!(!shown.contains("`|y"), "{body}");
        }
    }

    fn plan(json: &str) -> Box<Plan> {
        Box::new(Plan::parse(json.as_bytes()).expect("test plan parses"))
    }

    const UPDATE: &str = r#"{"format_version":"0.2","terraform_version":"1.0.3",
      "resource_changes":[{"address":"null_resource.task[0]","mode":"managed","type":"null_resource",
      "name":"task","index":0,"provider_name":"registry.terraform.io/hashicorp/null",
      "change":{"actions":["delete","create"],
        "before":{"id":"1","triggers":{"image_tag":"v1.4.0"}},
        "after":{"triggers":{"image_tag":"v1.5.0"}},
        "after_unknown":{"id":true,"triggers":{}},
        "before_sensitive":false,"after_sensitive":false,
        "replace_paths":[["triggers"]]}}]}"#;

    #[test]
    fn replaced_resource_shows_the_attribute_that_forces_it() {
        let review = Review {
            head: "abcdef0123".into(),
            base: "0123456789".into(),
            errors: vec![],
            settings: None,
            locked_by: Default::default(),
            why: None,
            units: vec![UnitReview {
                path: "live/dev/app".into(),
                env: Some("dev".into()),
                reasons: vec!["live/dev/app/terragrunt.hcl changed".into()],
                outcome: Outcome::Planned(plan(UPDATE)),
                report: None,
                sources: Vec::new(),
                dependencies: Vec::new(),
            }],
        };
        let text = render(&review);
        assert!(text.starts_with(MARKER), "{text}");
        assert!(
            text.contains("-/+ null_resource.task[0] must be replaced"),
            "{text}"
        );
        assert!(
            text.contains(r#"triggers.image_tag = "v1.4.0" -> "v1.5.0""#),
            "{text}"
        );
        assert!(
            text.contains("Plan: 1 to add, 0 to change, 1 to destroy."),
            "{text}"
        );
    }

    #[test]
    fn a_huge_plan_stays_under_the_comment_limit() {
        let mut changes = Vec::new();
        for i in 0..5000 {
            changes.push(format!(
                r#"{{"address":"null_resource.n[{i}]","mode":"managed","type":"null_resource","name":"n","index":{i},
                "provider_name":"registry.terraform.io/hashicorp/null","change":{{"actions":["create"],"before":null,
                "after":{{"triggers":{{"value":"{}"}}}},"after_unknown":{{"id":true}}}}}}"#,
                "x".repeat(40)
            ));
        }
        let json = format!(
            r#"{{"format_version":"0.2","resource_changes":[{}]}}"#,
            changes.join(",")
        );
        let review = Review {
            head: "h".into(),
            base: "b".into(),
            errors: vec![],
            settings: None,
            locked_by: Default::default(),
            why: None,
            units: vec![UnitReview {
                path: "live/dev/big".into(),
                env: None,
                reasons: vec![],
                outcome: Outcome::Planned(plan(&json)),
                report: None,
                sources: Vec::new(),
                dependencies: Vec::new(),
            }],
        };
        let text = render(&review);
        assert!(text.len() <= GITHUB_COMMENT_LIMIT, "{}", text.len());
        assert!(text.contains("more lines not shown"));
        assert_eq!(
            text.matches("```").count() % 2,
            0,
            "code fences stay balanced"
        );
        assert_eq!(
            text.matches("<details").count(),
            text.matches("</details>").count()
        );
    }
}
