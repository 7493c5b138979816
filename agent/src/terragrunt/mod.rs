//! Native understanding of Terragrunt configuration: evaluation of `terragrunt.hcl` with its
//! includes, locals, functions and blocks, and the Terraform modules a unit uses.

pub mod context;
pub mod eval;
pub mod funcs;
pub mod modules;
pub mod parse;

use std::fmt;

pub use context::{Deps, ReadKind};
pub use eval::{EvalCache, Evaluator, Include, MergeStrategy, UnitEval};

/// A construct that could not be evaluated, with the file, line and construct it concerns.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EvalError {
    /// Repo-relative file.
    pub file: String,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// The construct: `include "root"`, `local.region`, `inputs`, `dependency "vpc"`, ...
    pub construct: String,
    pub message: String,
    /// The unit whose evaluation failed, when the error is in a file it includes or reads
    /// (a broken root configuration fails every unit that includes it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Configurations the failing unit includes (resolved before it failed): they are
    /// parents, not units, even though the unit could not be evaluated.
    #[serde(skip)]
    pub included: Box<[String]>,
}

impl EvalError {
    pub fn new(file: &str, line: usize, construct: &str, message: String) -> Self {
        EvalError {
            file: file.to_string(),
            line,
            construct: construct.to_string(),
            message,
            unit: None,
            included: Box::new([]),
        }
    }

    /// The error as the failure of the unit in `dir`: names the unit when the error is in
    /// another file than the unit's own.
    pub fn of_unit(mut self, dir: &str) -> Self {
        let own = self.file.rsplit_once('/').map_or("", |(d, _)| d);
        if own != dir {
            self.unit = Some(dir.to_string());
        }
        self
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}: {}: {}",
                self.file, self.line, self.construct, self.message
            )?;
        } else {
            write!(f, "{}: {}: {}", self.file, self.construct, self.message)?;
        }
        match &self.unit {
            Some(unit) => write!(f, " (evaluating {unit})"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for EvalError {}

/// The message a caught panic carried, when it carried one.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> Option<String> {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
}
