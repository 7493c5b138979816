//! Slipway's agent: everything about the infrastructure repository. It reads git, evaluates
//! Terragrunt configuration, builds the unit graph, finds affected units and runs terraform.
//! It never learns about GitHub.
