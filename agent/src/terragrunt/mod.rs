//! Native understanding of Terragrunt configuration: evaluation of `terragrunt.hcl` with its
//! includes, locals, functions and blocks, and the Terraform modules a unit uses.

pub mod budget;
pub mod constraint;
pub mod context;
pub mod eval;
pub mod funcs;
pub mod modules;
pub mod parse;
pub mod runtime;
pub mod stack;
pub mod unknown;

use std::fmt;

pub use context::{Deps, ReadKind};
pub use eval::{EvalCache, Evaluator, Include, MergeStrategy, StackEval, UnitEval};

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

/// Evaluation errors for people to read, one line per distinct error: a broken root
/// configuration fails every unit that includes it, and is said once with the units it failed
/// (`... (evaluating live/a, live/b, live/c and 497 more units)`).
pub fn summarize(errors: &[EvalError]) -> Vec<String> {
    let mut groups: Vec<(EvalError, Vec<&str>)> = Vec::new();
    for e in errors {
        let mut key = e.clone();
        key.unit = None;
        key.included = Box::new([]);
        let i = match groups.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                groups.push((key, Vec::new()));
                groups.len() - 1
            }
        };
        if let Some(u) = &e.unit {
            groups[i].1.push(u);
        }
    }
    groups
        .into_iter()
        .map(|(e, units)| {
            const SHOWN: usize = 3;
            let text = e.to_string();
            match units.as_slice() {
                [] => text,
                [one] => format!("{text} (evaluating {one})"),
                few if few.len() <= SHOWN => {
                    let (last, rest) = few.split_last().unwrap_or((&"", &[]));
                    format!("{text} (evaluating {} and {last})", rest.join(", "))
                }
                many => format!(
                    "{text} (evaluating {} and {} more units)",
                    many[..SHOWN].join(", "),
                    many.len() - SHOWN
                ),
            }
        })
        .collect()
}

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, turning a panic into `Err` without printing it to stderr: a panic inside the
/// evaluation of one unit (hcl's arithmetic, say) is that unit's error, reported with it.
/// Panics elsewhere print as usual.
pub fn catch_quietly<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    let was = QUIET.with(|q| q.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    result
}

/// The message a caught panic carried, when it carried one.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> Option<String> {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(unit: &str) -> EvalError {
        EvalError::new("live/terragrunt.hcl", 3, "inputs", "no such key".into()).of_unit(unit)
    }

    #[test]
    fn one_broken_root_is_one_line_naming_the_units_it_failed() {
        let mut errors: Vec<EvalError> = (0..5).map(|i| failed(&format!("live/u{i}"))).collect();
        errors.push(EvalError::new(
            "live/app/terragrunt.hcl",
            1,
            "locals",
            "more than one `locals` block".into(),
        ));
        assert_eq!(
            summarize(&errors),
            [
                "live/terragrunt.hcl:3: inputs: no such key (evaluating live/u0, live/u1, live/u2 and 2 more units)",
                "live/app/terragrunt.hcl:1: locals: more than one `locals` block",
            ]
        );
        assert_eq!(
            summarize(&errors[..2]),
            ["live/terragrunt.hcl:3: inputs: no such key (evaluating live/u0 and live/u1)"]
        );
        assert_eq!(summarize(&errors[..1]), [errors[0].to_string()]);
    }
}
