//! Per-unit evaluation budgets. A configuration is input from a pull request: whatever it
//! builds, evaluating one unit ends, in bounded memory and time, with either its value or an
//! error naming the limit, and never takes the other units down with it.
//!
//! The budget counts the size of every value an expression produces (elements, plus string
//! bytes in 64-byte pieces) and every iteration of a `for` expression, per unit, on the
//! evaluating thread. Real configurations spend a few thousand; the limit is thousands of
//! times that.

use std::cell::Cell;

use hcl::Value;

/// The work one unit's evaluation may do.
pub const MAX_UNIT_WORK: u64 = 2_000_000;

/// How deeply `read_terragrunt_config` calls may nest (a config reading a config reading ...).
pub const MAX_READ_DEPTH: usize = 16;

thread_local! {
    static SPENT: Cell<u64> = const { Cell::new(0) };
}

/// Starts a unit's evaluation with the whole budget; returns what was spent before, for
/// [`restore`] (a nested evaluation on the same thread keeps its caller's account).
pub fn start() -> u64 {
    SPENT.with(|s| s.replace(0))
}

/// Puts back the account [`start`] replaced.
pub fn restore(spent: u64) {
    SPENT.with(|s| s.set(spent));
}

/// An error once the unit's budget is spent: nothing more is evaluated for it.
pub fn check() -> Result<(), String> {
    charge(0)
}

/// Spends `n`; an error once the unit's budget is exceeded.
pub fn charge(n: u64) -> Result<(), String> {
    SPENT.with(|s| {
        let total = s.get().saturating_add(n);
        s.set(total);
        if total > MAX_UNIT_WORK {
            Err(format!(
                "the configuration builds more than Slipway evaluates for one unit (a budget of {MAX_UNIT_WORK} values and 64-byte pieces of strings): a value grows without bound"
            ))
        } else {
            Ok(())
        }
    })
}

/// Charges the size of a value an expression produced.
pub fn charge_value(v: &Value) -> Result<(), String> {
    charge(size(v, MAX_UNIT_WORK.saturating_add(1)))
}

/// The size of `v` in budget units; past `cap` it stops counting and returns what it has (more
/// than `cap`).
pub fn size(v: &Value, cap: u64) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        total += 1;
        if total > cap {
            return total;
        }
        match v {
            Value::String(s) => total += (s.len() / 64) as u64,
            Value::Array(a) => stack.extend(a.iter()),
            Value::Object(o) => {
                for (k, v) in o {
                    total += (k.len() / 64) as u64;
                    stack.push(v);
                }
            }
            _ => {}
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_counts_elements_and_long_strings() {
        let v = Value::Array(vec![Value::from(1), Value::String("x".repeat(640))]);
        assert_eq!(size(&v, u64::MAX), 1 + 1 + 1 + 10);
        let deep = Value::Array(vec![Value::Array(vec![Value::from(1); 1000]); 1000]);
        let capped = size(&deep, 10);
        assert!(capped > 10 && capped < 1000, "{capped}");
    }

    #[test]
    fn charging_past_the_budget_is_an_error_and_start_resets_it() {
        let before = start();
        assert!(charge(MAX_UNIT_WORK).is_ok());
        assert!(charge(1).unwrap_err().contains("budget"));
        start();
        assert!(charge(1).is_ok());
        restore(before);
    }
}
