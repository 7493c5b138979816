//! Properties: parsing never panics, and nothing shown ever holds a sensitive value.

mod common;

use common::{fixture, FORMATS};
use proptest::prelude::*;
use rules::config::PolicyConfig;
use rules::{evaluate, Context, Plan};
use serde_json::{json, Map, Value};

/// Arbitrary JSON values, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "[a-z0-9_./:\\[\\]\"-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One side of a resource: a value tree where some leaves are secrets, and the
/// `*_sensitive` marker terraform would write for it.
#[derive(Debug, Clone)]
enum Tree {
    Plain(Value),
    Secret(u32),
    Obj(Vec<(String, Tree)>),
    List(Vec<Tree>),
    /// A whole subtree marked sensitive (e.g. a sensitive map).
    SecretSubtree(Box<Tree>),
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        3 => prop_oneof![
            any::<i32>().prop_map(|n| json!(n)),
            "[a-z]{0,6}".prop_map(Value::String),
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Null),
        ].prop_map(Tree::Plain),
        1 => (0u32..1000).prop_map(Tree::Secret),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(("[a-z]{1,6}", inner.clone()), 0..5).prop_map(|kv| {
                let mut seen = std::collections::BTreeSet::new();
                Tree::Obj(
                    kv.into_iter()
                        .filter(|(k, _)| seen.insert(k.clone()))
                        .collect(),
                )
            }),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Tree::List),
            inner.prop_map(|t| Tree::SecretSubtree(Box::new(t))),
        ]
    })
}

/// The value, with every secret (and everything in a secret subtree) containing `SECRET`.
fn value_of(t: &Tree, in_secret: bool) -> Value {
    match t {
        Tree::Plain(Value::String(s)) if in_secret => json!(format!("SECRET{s}")),
        Tree::Plain(Value::Object(_)) | Tree::Plain(Value::Array(_)) => Value::Null,
        Tree::Plain(v) if in_secret && !v.is_null() => json!(format!("SECRET{v}")),
        Tree::Plain(v) => v.clone(),
        Tree::Secret(n) => json!(format!("SECRET-{n}")),
        Tree::Obj(kv) => Value::Object(
            kv.iter()
                .map(|(k, v)| {
                    // keys inside a sensitive subtree are secret too
                    let k = if in_secret {
                        format!("SECRETKEY{k}")
                    } else {
                        k.clone()
                    };
                    (k, value_of(v, in_secret))
                })
                .collect::<Map<String, Value>>(),
        ),
        Tree::List(items) => Value::Array(items.iter().map(|i| value_of(i, in_secret)).collect()),
        Tree::SecretSubtree(inner) => value_of(inner, true),
    }
}

fn marker_of(t: &Tree) -> Value {
    match t {
        Tree::Plain(_) => Value::Bool(false),
        Tree::Secret(_) | Tree::SecretSubtree(_) => Value::Bool(true),
        Tree::Obj(kv) => Value::Object(
            kv.iter()
                .map(|(k, v)| (k.clone(), marker_of(v)))
                .filter(|(_, m)| m != &Value::Bool(false))
                .collect(),
        ),
        Tree::List(items) => Value::Array(items.iter().map(marker_of).collect()),
    }
}

fn plan_json(format: &str, changes: &[(Tree, Tree, &str)]) -> Value {
    let rcs: Vec<Value> = changes
        .iter()
        .enumerate()
        .map(|(i, (before, after, action))| {
            let actions: Vec<&str> = action.split(',').collect();
            let (b, bs) = if actions == ["create"] {
                (Value::Null, Value::Bool(false))
            } else {
                (
                    json!({"attrs": value_of(before, false)}),
                    json!({"attrs": marker_of(before)}),
                )
            };
            let (a, as_) = if actions == ["delete"] {
                (Value::Null, Value::Bool(false))
            } else {
                (
                    json!({"attrs": value_of(after, false)}),
                    json!({"attrs": marker_of(after)}),
                )
            };
            json!({
                "address": format!("aws_thing.t{i}"), "mode": "managed", "type": "aws_thing",
                "name": format!("t{i}"), "provider_name": "registry.terraform.io/hashicorp/aws",
                "change": {"actions": actions, "before": b, "after": a, "after_unknown": {},
                           "before_sensitive": bs, "after_sensitive": as_,
                           "replace_paths": [["attrs"]]}
            })
        })
        .collect();
    json!({"format_version": format, "resource_changes": rcs,
           "output_changes": {"o": {"actions": ["update"], "before": "SECRET-out-1", "after": "SECRET-out-2",
                                     "after_unknown": false, "before_sensitive": true, "after_sensitive": true}}})
}

fn everything_shown(plan: &Plan) -> String {
    let policy = PolicyConfig {
        required_tags: vec!["Owner".into()],
        ..PolicyConfig::default()
    };
    let report = evaluate(
        plan,
        &Context {
            env: "prod",
            region: Some("us-east-1"),
            policy: &policy,
        },
    );
    let mut out = format!(
        "{}{}{}",
        report.to_json(),
        report.to_text(),
        report.to_markdown()
    );
    for rc in &plan.resource_changes {
        for ac in rc.attribute_changes() {
            out.push_str(&format!("{} {:?} {:?}", ac.path, ac.before, ac.after));
            out.push_str(&serde_json::to_string(&ac).unwrap_or_default());
        }
    }
    for oc in plan.output_changes.values() {
        out.push_str(&format!("{:?} {:?}", oc.shown_before(), oc.shown_after()));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Plan::parse(&bytes);
    }

    #[test]
    fn parse_and_evaluate_never_panic_on_arbitrary_json(doc in any_json()) {
        let _ = Plan::parse(doc.to_string().as_bytes());
    }

    #[test]
    fn plan_shaped_json_with_arbitrary_values_never_panics(
        before in any_json(), after in any_json(), unknown in any_json(),
        bs in any_json(), as_ in any_json(), rp in any_json(),
        action in prop::sample::select(vec!["create", "update", "delete", "delete,create", "create,delete", "no-op", "read", "forget"]),
        typ in prop::sample::select(vec!["aws_instance", "aws_db_instance", "aws_rds_cluster", "aws_security_group",
            "aws_s3_bucket", "aws_ecs_service", "aws_lb", "aws_vpc", "aws_ebs_volume", "aws_lambda_function", "aws_thing"]),
    ) {
        let doc = json!({"format_version": "1.2", "resource_changes": [{
            "address": format!("{typ}.x"), "mode": "managed", "type": typ, "name": "x",
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "change": {"actions": action.split(',').collect::<Vec<_>>(), "before": before, "after": after,
                       "after_unknown": unknown, "before_sensitive": bs, "after_sensitive": as_,
                       "replace_paths": rp}}]});
        if let Ok(plan) = Plan::parse(doc.to_string().as_bytes()) {
            let _ = everything_shown(&plan);
        }
    }

    #[test]
    fn rendering_never_leaks_sensitive_values(
        changes in prop::collection::vec(
            (tree(), tree(), prop::sample::select(vec!["create", "update", "delete", "delete,create", "create,delete", "no-op"])),
            1..4),
        format in prop::sample::select(FORMATS.to_vec()),
    ) {
        let doc = plan_json(format, &changes);
        let plan = Plan::parse(doc.to_string().as_bytes());
        prop_assert!(plan.is_ok(), "{:?}", plan.err());
        if let Ok(plan) = plan {
            let shown = everything_shown(&plan);
            prop_assert!(!shown.contains("SECRET"), "leaked: {}", shown);
        }
    }

    #[test]
    fn every_cut_of_a_real_plan_is_an_error_not_a_panic(cut in 0usize..11_000) {
        let bytes = fixture("null-0.2.json");
        let cut = cut.min(bytes.len().saturating_sub(2));
        prop_assert!(Plan::parse(&bytes[..cut]).is_err());
    }
}
