//! Monthly cost estimate of a plan, before and after, from the price book.
//!
//! Each resource is priced on both sides of its change at 730 hours a month. A resource whose
//! price cannot be known (a type Slipway does not price, a value known only after apply, a
//! region missing from the book) is listed as unpriced with the reason and left out of both
//! totals, so the delta stays honest. Usage-priced resources (Lambda, log groups, Aurora
//! storage and I/O) carry no figure unless usage is configured in `[[policy.usage]]`.

pub mod book;
mod resources;

use serde::Serialize;

use crate::config::PolicyConfig;
use crate::index::{PlanIndex, Side};
use crate::plan::{Action, Mode, Plan, ResourceChange, ResourceView};

pub use book::{PriceBook, PriceBookError, Query};

/// Hours in a month, as AWS's calculator counts them.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// The cost side of a report. Amounts are USD per month, rounded to cents.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct CostReport {
    /// Always "USD".
    pub currency: &'static str,
    /// Monthly cost of the priced resources before the change.
    pub monthly_before: f64,
    /// Monthly cost of the priced resources after the change.
    pub monthly_after: f64,
    /// `monthly_after - monthly_before`.
    pub monthly_delta: f64,
    /// Priced resources (unchanged ones included, with a zero delta).
    pub lines: Vec<CostLine>,
    /// Resources whose cost depends on usage and no usage is configured: no figure.
    pub usage_based: Vec<UsageBasedResource>,
    /// Resources that could not be priced, with the reason. Not counted in the totals.
    pub unpriced: Vec<UnpricedResource>,
    /// How many resources have no charge of their own (IAM, security groups, subnets, ...).
    pub no_charge: usize,
}

/// One priced resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostLine {
    /// Resource address.
    pub address: String,
    /// Resource type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// What the plan does to it.
    pub action: Action,
    /// Monthly cost before (None when the resource does not exist before).
    pub monthly_before: Option<f64>,
    /// Monthly cost after (None when the resource does not exist after).
    pub monthly_after: Option<f64>,
    /// After minus before.
    pub monthly_delta: f64,
    /// What was priced, e.g. `db.t3.micro MySQL Multi-AZ, 20 GB gp3`.
    pub detail: String,
    /// What the figure leaves out (e.g. data processed), if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl CostLine {
    /// Whether this line changes anything (the plan touches it or its price moves).
    pub fn is_change(&self) -> bool {
        self.action != Action::NoOp || self.monthly_delta.abs() >= 0.005
    }
}

/// A resource priced only by usage, shown without a figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageBasedResource {
    /// Resource address.
    pub address: String,
    /// Resource type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// What the plan does to it.
    pub action: Action,
    /// The unit prices that apply, e.g. `$0.20 per million requests + ...`.
    pub note: String,
}

/// A resource that could not be priced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnpricedResource {
    /// Resource address.
    pub address: String,
    /// Resource type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// What the plan does to it.
    pub action: Action,
    /// Why it has no price.
    pub reason: String,
}

/// The estimate of one side of one resource.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Estimate {
    /// A monthly figure.
    Priced {
        monthly: f64,
        detail: String,
        note: Option<String>,
    },
    /// Priced by usage only; the note gives unit prices.
    Usage(String),
    /// No charge of its own.
    Free,
    /// Cannot be priced, with the reason.
    Unpriced(String),
}

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Estimates a plan with the embedded price book. `default_region` is used for resources
/// whose provider configuration does not say.
pub fn estimate(plan: &Plan, default_region: Option<&str>, policy: &PolicyConfig) -> CostReport {
    estimate_with(plan, default_region, policy, PriceBook::embedded())
}

/// Estimates a plan with a given price book.
pub fn estimate_with(
    plan: &Plan,
    default_region: Option<&str>,
    policy: &PolicyConfig,
    book: &PriceBook,
) -> CostReport {
    let index = PlanIndex::new(plan);
    estimate_indexed(&index, default_region, policy, book)
}

pub(crate) fn estimate_indexed(
    index: &PlanIndex<'_>,
    default_region: Option<&str>,
    policy: &PolicyConfig,
    book: &PriceBook,
) -> CostReport {
    let mut builder = CostBuilder::new(index, default_region, policy, book);
    for (i, rc) in index.plan.resource_changes.iter().enumerate() {
        let view = if needs_values(rc) {
            index.view(i)
        } else {
            None
        };
        builder.add(rc, view.as_deref());
    }
    builder.finish()
}

/// Whether pricing a resource needs its parsed values.
pub(crate) fn needs_values(rc: &ResourceChange) -> bool {
    rc.mode == Mode::Managed
        && !matches!(rc.action, Action::Read | Action::Unknown)
        && resources::Pricer::by_type(rc).is_none()
}

/// Accumulates a cost report resource by resource (so each resource is parsed once for
/// rules and cost together).
pub(crate) struct CostBuilder<'i, 'p> {
    index: &'i PlanIndex<'p>,
    default_region: Option<&'i str>,
    policy: &'i PolicyConfig,
    book: &'i PriceBook,
    report: CostReport,
}

impl<'i, 'p> CostBuilder<'i, 'p> {
    pub(crate) fn new(
        index: &'i PlanIndex<'p>,
        default_region: Option<&'i str>,
        policy: &'i PolicyConfig,
        book: &'i PriceBook,
    ) -> Self {
        CostBuilder {
            index,
            default_region,
            policy,
            book,
            report: CostReport {
                currency: "USD",
                ..CostReport::default()
            },
        }
    }

    /// Prices one resource; `view` is its parsed values when [`needs_values`] says so.
    pub(crate) fn add(&mut self, rc: &ResourceChange, view: Option<&ResourceView<'_>>) {
        if rc.mode != Mode::Managed || matches!(rc.action, Action::Read) {
            return;
        }
        if rc.action == Action::Unknown {
            self.report.unpriced.push(UnpricedResource {
                address: rc.address.clone(),
                type_name: rc.type_name.clone(),
                action: rc.action,
                reason: format!(
                    "unknown action {:?}: Slipway cannot tell what exists after the change",
                    rc.unknown_actions
                ),
            });
            return;
        }
        let sides = (Side::Before.exists(rc), Side::After.exists(rc));
        let (before, after) = match (resources::Pricer::by_type(rc), view) {
            // Decided by the type alone: the values are not even parsed.
            (Some(e), _) => (
                sides.0.then(|| e.clone()),
                (sides.1 || rc.action == Action::Forget).then_some(e),
            ),
            (None, Some(view)) => {
                let region = self.index.plan.region_of_view(view);
                let pricer = resources::Pricer {
                    index: self.index,
                    book: self.book,
                    region: region.as_deref().or(self.default_region),
                    usage: self.policy.usage_for(&rc.address),
                };
                let before = sides.0.then(|| pricer.estimate(view, Side::Before));
                // A forgotten resource still exists and costs the same; it only leaves terraform.
                let after = if rc.action == Action::Forget {
                    before.clone()
                } else {
                    sides.1.then(|| pricer.estimate(view, Side::After))
                };
                (before, after)
            }
            (None, None) => return,
        };
        classify(&mut self.report, rc, before, after);
    }

    pub(crate) fn finish(mut self) -> CostReport {
        let r = &mut self.report;
        r.monthly_before = cents(r.monthly_before);
        r.monthly_after = cents(r.monthly_after);
        r.monthly_delta = cents(r.monthly_after - r.monthly_before);
        self.report
    }
}

fn classify(
    report: &mut CostReport,
    rc: &ResourceChange,
    before: Option<Estimate>,
    after: Option<Estimate>,
) {
    let sides = [&before, &after];
    if let Some(reason) = sides.iter().find_map(|s| match s {
        Some(Estimate::Unpriced(r)) => Some(r.clone()),
        _ => None,
    }) {
        report.unpriced.push(UnpricedResource {
            address: rc.address.clone(),
            type_name: rc.type_name.clone(),
            action: rc.action,
            reason,
        });
        return;
    }
    if let Some(note) = sides.iter().rev().find_map(|s| match s {
        Some(Estimate::Usage(n)) => Some(n.clone()),
        _ => None,
    }) {
        let priced_elsewhere = sides
            .iter()
            .any(|s| matches!(s, Some(Estimate::Priced { .. })));
        if !priced_elsewhere {
            report.usage_based.push(UsageBasedResource {
                address: rc.address.clone(),
                type_name: rc.type_name.clone(),
                action: rc.action,
                note,
            });
            return;
        }
    }
    let figure = |s: &Option<Estimate>| match s {
        Some(Estimate::Priced { monthly, .. }) => Some(cents(*monthly)),
        Some(Estimate::Free) | Some(Estimate::Usage(_)) => Some(0.0),
        _ => None,
    };
    let (b, a) = (figure(&before), figure(&after));
    let described = after
        .as_ref()
        .filter(|e| matches!(e, Estimate::Priced { .. }))
        .or(before.as_ref());
    let Some(Estimate::Priced { detail, note, .. }) = described else {
        report.no_charge += 1;
        return;
    };
    report.monthly_before += b.unwrap_or(0.0);
    report.monthly_after += a.unwrap_or(0.0);
    report.lines.push(CostLine {
        address: rc.address.clone(),
        type_name: rc.type_name.clone(),
        action: rc.action,
        monthly_before: b,
        monthly_after: a,
        monthly_delta: cents(a.unwrap_or(0.0) - b.unwrap_or(0.0)),
        detail: detail.clone(),
        note: note.clone(),
    });
}

/// Resource types Slipway puts a figure on (some only with configured usage).
pub const PRICED_TYPES: &[&str] = resources::PRICED_TYPES;
