//! Slipway's rules: a typed model of `terraform show -json`, the monthly cost estimate,
//! and the tag and security policy. Pure: no IO, no async, no knowledge of GitHub or AWS.

pub mod config;
pub mod path;
pub mod plan;

pub use plan::{Action, AttributeChange, Change, Plan, PlanError, ResourceChange, Shown, Summary};
