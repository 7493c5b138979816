//! Slipway's GitHub-facing side and the `slipway` binary's subcommands.

pub mod cmd;
pub mod comment;
