//! Slipway's rules: a typed model of `terraform show -json` (and [`planfile`], which renders a
//! binary plan file as that JSON without terraform), the monthly cost estimate, and the tag
//! and security policy. Pure: no IO, no async, no knowledge of GitHub or AWS.
//!
//! ```no_run
//! # fn demo(bytes: &[u8]) -> Result<(), rules::PlanError> {
//! let plan = rules::Plan::parse(bytes)?;
//! let policy = rules::config::PolicyConfig::default();
//! let report = rules::evaluate(&plan, &rules::Context { env: "prod", region: Some("us-east-1"), policy: &policy });
//! if report.is_blocking() { println!("{}", report.to_markdown()); }
//! # Ok(()) }
//! ```

pub mod config;
pub mod cost;
mod index;
pub mod path;
pub mod plan;
pub mod planfile;
mod policy;
pub mod report;

pub use config::{PolicyConfig, RuleId};
pub use cost::CostReport;
pub use plan::{
    Action, AttributeChange, Change, CheckStatus, Known, Plan, PlanError, ResourceChange, Shown,
    Summary,
};
pub use report::{evaluate, evaluate_with, Context, Finding, Report, Severity};
