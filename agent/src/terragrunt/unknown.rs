//! Values not known during discovery: what `run_cmd`, `get_aws_account_id`, `get_env` of an
//! unset variable, `timestamp()` or a file that is not in the repository would give. Discovery
//! needs no credentials, environment or commands, so these evaluate to an *unknown* value that
//! carries its reason; it flows through the configuration like any string, and only the
//! constructs that decide what discovery must know (an include path, a dependency path,
//! `terraform.source`, `skip`, `exclude`) refuse it.
//!
//! An unknown is a string wrapped in two control characters no configuration writes by
//! accident (`\u{1}reason\u{2}`), so that a template embedding it (`"${run_cmd(...)}-x"`) is
//! unknown too. Functions that inspect their arguments return a whole unknown when one of them
//! holds one (see [`crate::terragrunt::eval`]'s unknown-aware evaluation).

use std::cell::Cell;

use hcl::Value;

const START: char = '\u{1}';
const END: char = '\u{2}';

thread_local! {
    /// How many unknowns this thread produced: an evaluation that produced none needs no
    /// unknown-aware second pass.
    static PRODUCED: Cell<u64> = const { Cell::new(0) };
}

/// An unknown value, with the reason it is unknown (`run_cmd("whoami")`, `get_aws_account_id()`,
/// `environment variable TF_VAR_x is not set`).
pub fn value(reason: &str) -> Value {
    note_produced();
    let reason: String = reason
        .chars()
        .filter(|c| *c != START && *c != END)
        .collect();
    Value::String(format!("{START}{reason}{END}"))
}

/// Counts an unknown that reached an evaluation another way (a read configuration holding one).
pub fn note_produced() {
    PRODUCED.with(|p| p.set(p.get() + 1));
}

/// How many unknowns this thread produced so far.
pub fn produced() -> u64 {
    PRODUCED.with(Cell::get)
}

/// True when the string holds an unknown (whole, or embedded by a template).
pub fn str_is_unknown(s: &str) -> bool {
    s.contains(START)
}

/// True when the value is, or anywhere inside holds, an unknown.
pub fn contains(v: &Value) -> bool {
    reason(v).is_some()
}

/// True when the value itself (not something inside it) is unknown.
pub fn is_unknown(v: &Value) -> bool {
    matches!(v, Value::String(s) if str_is_unknown(s))
}

/// The reason of the first unknown found in the value.
pub fn reason(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => str_reason(s),
        Value::Array(a) => a.iter().find_map(reason),
        Value::Object(o) => o.values().find_map(reason),
        _ => None,
    }
}

fn str_reason(s: &str) -> Option<String> {
    let start = s.find(START)?;
    let rest = &s[start + START.len_utf8()..];
    let end = rest.find(END).unwrap_or(rest.len());
    Some(rest[..end].to_string())
}

/// The string, unless it is (or holds) an unknown.
pub fn known_str(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) if !str_is_unknown(s) => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_keeps_its_reason_inside_a_template_and_a_structure() {
        let u = value("run_cmd(\"whoami\")");
        assert!(is_unknown(&u));
        let Value::String(s) = &u else { unreachable!() };
        let embedded = Value::String(format!("user-{s}-x"));
        assert_eq!(reason(&embedded).as_deref(), Some("run_cmd(\"whoami\")"));
        let nested = Value::from_iter([("a", Value::Array(vec![Value::from(1), embedded]))]);
        assert!(contains(&nested));
        assert!(!is_unknown(&nested));
        assert!(!contains(&Value::from("plain")));
        assert_eq!(known_str(&u), None);
        assert_eq!(known_str(&Value::from("x")), Some("x"));
    }

    #[test]
    fn producing_an_unknown_is_counted() {
        let before = produced();
        let _ = value("timestamp()");
        assert_eq!(produced(), before + 1);
    }
}
