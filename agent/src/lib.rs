//! Slipway's agent: everything about the infrastructure repository. It reads git, evaluates
//! Terragrunt configuration, builds the unit graph, finds affected units and runs terraform.
//! It never learns about GitHub.

pub mod affected;
pub mod artifacts;
pub mod aws;
pub mod config;
pub mod engine;
pub mod git;
pub mod graph;
pub mod mirror;
pub mod pipeline;
pub mod repo;
pub mod snapshot;
pub mod store;
pub mod synth;
pub mod terragrunt;
pub mod units;
