//! Slipway's GitHub-facing side and the `slipway` binary's subcommands.

pub mod cmd;
pub mod command;
pub mod comment;
pub mod github;
pub mod jobs;
pub mod review;
pub mod rights;
pub mod server;
pub mod worker;
