//! Property: replacing a known leaf of a planned value by "known after apply" never turns a
//! blocking finding into a pass. A finding the unknown value decides may become a "known after
//! apply" finding (blocking when `[policy.known_after_apply]` says error), never disappear.

mod common;

use std::collections::BTreeSet;

use common::{fixture, sarc_policy};
use proptest::prelude::*;
use rules::config::PolicyConfig;
use rules::{evaluate, Context, Plan, Report};
use serde_json::Value;

const PLANS: &[&str] = &[
    "aws-1.2.json",
    "aws-1.1.json",
    "aws-0.2.json",
    "issue11/partly-unknown-1.2.json",
    "issue11/incomplete-deferred-1.2.json",
];

#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Paths of the known, non-null scalar leaves of a value.
fn leaves(v: &Value, unknown: &Value, path: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    if unknown == &Value::Bool(true) {
        return;
    }
    match v {
        Value::Object(o) => {
            for (k, child) in o {
                path.push(Seg::Key(k.clone()));
                leaves(child, unknown.get(k).unwrap_or(&Value::Null), path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                leaves(child, unknown.get(i).unwrap_or(&Value::Null), path, out);
                path.pop();
            }
        }
        Value::Null => {}
        _ if !path.is_empty() => out.push(path.clone()),
        _ => {}
    }
}

fn value_at_mut<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let mut v = v;
    for seg in path {
        v = match seg {
            Seg::Key(k) => v.get_mut(k.as_str())?,
            Seg::Index(i) => v.get_mut(*i)?,
        };
    }
    Some(v)
}

/// Sets `true` at `path` in a marker, making containers as terraform writes them.
fn mark(marker: &mut Value, path: &[Seg]) {
    let Some((first, rest)) = path.split_first() else {
        *marker = Value::Bool(true);
        return;
    };
    match first {
        Seg::Key(k) => {
            if !marker.is_object() {
                *marker = Value::Object(serde_json::Map::new());
            }
            if let Value::Object(o) = marker {
                mark(o.entry(k.clone()).or_insert(Value::Bool(false)), rest);
            }
        }
        Seg::Index(i) => {
            if !marker.is_array() {
                *marker = Value::Array(Vec::new());
            }
            if let Value::Array(a) = marker {
                while a.len() <= *i {
                    a.push(Value::Bool(false));
                }
                mark(&mut a[*i], rest);
            }
        }
    }
}

/// The change objects of a plan document (resource changes and deferred ones).
fn changes(doc: &mut Value) -> Vec<&mut Value> {
    let Value::Object(top) = doc else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, list) in top.iter_mut() {
        let Value::Array(items) = list else { continue };
        for item in items {
            let rc = match key.as_str() {
                "resource_changes" => Some(item),
                "deferred_changes" => item.get_mut("resource_change"),
                _ => None,
            };
            if let Some(change) = rc.and_then(|rc| rc.get_mut("change")) {
                out.push(change);
            }
        }
    }
    out
}

fn evaluate_doc(doc: &Value, env: &str, policy: &PolicyConfig) -> Report {
    let plan = Plan::parse(doc.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    evaluate(
        &plan,
        &Context {
            env,
            region: Some("us-east-1"),
            policy,
        },
    )
}

fn blocking(r: &Report) -> BTreeSet<(String, String)> {
    r.findings
        .iter()
        .filter(|f| f.is_blocking())
        .map(|f| (f.rule.as_str().to_string(), f.address.clone()))
        .collect()
}

fn kept(r: &Report) -> BTreeSet<(String, String)> {
    r.findings
        .iter()
        .filter(|f| f.is_blocking() || f.known_after_apply)
        .map(|f| (f.rule.as_str().to_string(), f.address.clone()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn a_leaf_known_after_apply_never_turns_a_blocking_finding_into_a_pass(
        which in 0usize..PLANS.len(),
        change_pick in any::<prop::sample::Index>(),
        leaf_pick in any::<prop::sample::Index>(),
        prod in any::<bool>(),
    ) {
        let env = if prod { "prod" } else { "dev" };
        let mut doc: Value = serde_json::from_slice(&fixture(PLANS[which]))
            .unwrap_or_else(|e| panic!("{e}"));
        let policy = sarc_policy();
        let strict = PolicyConfig::from_slipway_toml(&format!(
            "{}\n[policy.known_after_apply]\nseverity = \"error\"\n",
            common::SARC_POLICY
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let before = evaluate_doc(&doc, env, &policy);
        let mut all = changes(&mut doc);
        prop_assume!(!all.is_empty());
        let change = change_pick.get_mut(&mut all);
        let after = change.get("after").cloned().unwrap_or(Value::Null);
        let unknown = change.get("after_unknown").cloned().unwrap_or(Value::Null);
        let mut found = Vec::new();
        leaves(&after, &unknown, &mut Vec::new(), &mut found);
        prop_assume!(!found.is_empty());
        let path = leaf_pick.get(&found).clone();
        if let Some(after) = change.get_mut("after") {
            if let Some(leaf) = value_at_mut(after, &path) {
                *leaf = Value::Null;
            }
        }
        let mut marker = change.get("after_unknown").cloned().unwrap_or(Value::Null);
        mark(&mut marker, &path);
        change["after_unknown"] = marker;

        let after_default = evaluate_doc(&doc, env, &policy);
        let still = kept(&after_default);
        for f in blocking(&before) {
            prop_assert!(still.contains(&f), "{f:?} passed after {path:?} became unknown");
        }
        let after_strict = evaluate_doc(&doc, env, &strict);
        let still = blocking(&after_strict);
        for f in blocking(&before) {
            prop_assert!(still.contains(&f), "{f:?} no longer blocks with known_after_apply = error after {path:?}");
        }
    }
}
