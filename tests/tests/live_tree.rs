//! The SARC-NG live tree in this repository, read by Slipway itself: every unit evaluates, has
//! its environment, and is ordered network -> database -> compute -> services; the policy that can
//! be checked without a plan (required tags through default_tags, public ingress) holds; and the
//! platform review's findings stay fixed (failover health checks, the DR database host, the apply
//! role's permissions boundary, DNS delegation, DR state), with the platform's specified values.
//!
//! Units are read through Slipway's own evaluation (inputs resolve dependency outputs to their
//! `mock_outputs`); modules are read by parsing their `.tf` files with hcl-rs.

use std::collections::BTreeMap;
use std::path::Path;

use agent::repo::Repo;
use agent::units::Unit;
use hcl::Value;
use slipway_tests::workspace_root;

fn live() -> std::sync::Arc<agent::repo::GraphView> {
    let repo = Repo::open(&workspace_root()).expect("open the repository");
    repo.graph(None).expect("evaluate live/")
}

/// Every `.tf` file of `modules/<dir>`, parsed and joined into one body.
fn module(dir: &str) -> hcl::Body {
    let path = workspace_root().join("modules").join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("tf"))
        .collect();
    files.sort();
    let mut body = hcl::Body::builder();
    for file in files {
        body = body.add_structures(parse_tf(&file));
    }
    body.build()
}

fn parse_tf(file: &Path) -> hcl::Body {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    hcl::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// The blocks `kind "label0" "label1"` of `body` (`resource "aws_iam_role" "task"`).
fn blocks<'a>(body: &'a hcl::Body, kind: &str, labels: &[&str]) -> Vec<&'a hcl::Block> {
    body.blocks()
        .filter(|b| b.identifier() == kind)
        .filter(|b| {
            labels
                .iter()
                .zip(b.labels())
                .all(|(want, got)| *want == got.as_str())
        })
        .collect()
}

fn block<'a>(body: &'a hcl::Body, kind: &str, labels: &[&str]) -> &'a hcl::Block {
    blocks(body, kind, labels)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {kind} {labels:?}"))
}

/// The expression of attribute `key` in `body`, as written.
fn attr(body: &hcl::Body, key: &str) -> Option<String> {
    body.attributes()
        .find(|a| a.key() == key)
        .map(|a| a.expr().to_string())
}

/// The module's `local.<name>`, as written.
fn local(body: &hcl::Body, name: &str) -> String {
    body.blocks()
        .filter(|b| b.identifier() == "locals")
        .find_map(|b| attr(&b.body, name))
        .unwrap_or_else(|| panic!("no local.{name}"))
}

/// The references an expression's text makes (`var.alias_target.dns_name`), one per token.
fn references(expr: &str) -> Vec<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .filter(|t| t.starts_with("var.") || t.starts_with("local.") || t.starts_with("aws_"))
        .map(str::to_string)
        .collect()
}

/// Whether `expr` reads `reference` itself (or one of its attributes).
fn mentions(expr: &str, reference: &str) -> bool {
    references(expr)
        .iter()
        .any(|r| r == reference || r.starts_with(&format!("{reference}.")))
}

/// The unit's evaluated inputs.
fn inputs(unit: &Unit) -> &hcl::Map<String, Value> {
    unit.eval
        .as_ref()
        .and_then(|e| e.config.get("inputs"))
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("{} has no inputs", unit.path))
}

/// `value` at the dotted `path` (`alias_target.dns_name`).
fn get<'a>(value: &'a hcl::Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut at = value.get(parts.next()?)?;
    for part in parts {
        at = at.as_object()?.get(part)?;
    }
    Some(at)
}

/// The units deploying `modules/<dir>`.
fn units_of<'a>(view: &'a agent::repo::GraphView, dir: &str) -> Vec<&'a Unit> {
    let module = format!("modules/{dir}");
    view.inventory
        .units
        .values()
        .filter(|u| u.module_dirs.contains(&module))
        .map(|u| &**u)
        .collect()
}

/// `live/accounts/<env>/<region>` of a unit below a region.
fn region_dir(path: &str) -> String {
    path.split('/').take(4).collect::<Vec<_>>().join("/")
}

#[test]
fn every_live_unit_evaluates_and_has_its_environment() {
    let view = live();
    let inv = &view.inventory;
    assert!(
        inv.errors.is_empty(),
        "evaluation errors: {:#?}",
        inv.errors
    );
    assert!(view.graph.problems.is_empty(), "{:#?}", view.graph.problems);
    assert!(inv.units.len() >= 30, "only {} units", inv.units.len());
    for (path, unit) in &inv.units {
        let env = unit
            .env
            .as_deref()
            .unwrap_or_else(|| panic!("{path} has no environment"));
        assert!(
            path.starts_with(&format!("live/accounts/{env}/")),
            "{path} is assigned to {env}"
        );
        let account = unit
            .account_id
            .as_deref()
            .unwrap_or_else(|| panic!("{path}: no account"));
        let expected = match env {
            "dev" => "111111111111",
            "staging" => "222222222222",
            _ => "333333333333",
        };
        assert_eq!(account, expected, "{path}");
    }
    for region in ["us-east-1", "us-west-2"] {
        assert!(
            inv.units
                .values()
                .any(|u| u.region.as_deref() == Some(region)),
            "no unit in {region}"
        );
    }
}

#[test]
fn live_units_are_ordered_network_database_compute_services() {
    let view = live();
    let pos: BTreeMap<&str, usize> = view
        .graph
        .order
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_str(), i))
        .collect();
    let mut regions = 0;
    for path in view.inventory.units.keys() {
        let Some(region_dir) = path.strip_suffix("/network") else {
            continue;
        };
        regions += 1;
        let at = |rel: &str| pos.get(format!("{region_dir}/{rel}").as_str()).copied();
        let network = at("network").expect("network");
        let database = at("database").unwrap_or_else(|| panic!("{region_dir}/database"));
        assert!(network < database, "{region_dir}: network after database");
        if let Some(compute) = at("compute/ecs-cluster") {
            assert!(database < compute, "{region_dir}: database after compute");
            for (p, i) in &pos {
                if p.starts_with(&format!("{region_dir}/services/")) {
                    assert!(compute < *i, "{p} comes before its region's compute");
                }
            }
        }
    }
    assert!(
        regions >= 4,
        "expected 4 regions with a network unit, found {regions}"
    );
}

#[test]
fn every_live_unit_tags_resources_with_the_required_tags() {
    let view = live();
    let required = &view.config.policy.required_tags;
    assert!(!required.is_empty(), "slipway.toml requires no tags");
    for (path, unit) in &view.inventory.units {
        let eval = unit.eval.as_ref().expect("evaluated");
        let provider = eval
            .config
            .get("generate")
            .and_then(|g| g.as_object())
            .and_then(|g| g.get("provider"))
            .and_then(|p| p.as_object())
            .and_then(|p| p.get("contents"))
            .and_then(|c| c.as_str())
            .unwrap_or_else(|| panic!("{path} generates no provider"));
        assert!(provider.contains("default_tags"), "{path}: no default_tags");
        for tag in required {
            assert!(
                provider.contains(&format!("{tag} ")) || provider.contains(&format!("{tag}=")),
                "{path}: default_tags lacks {tag}:\n{provider}"
            );
        }
        let env = unit.env.as_deref().unwrap_or_default();
        assert!(
            provider.contains(&format!("\"{env}\"")),
            "{path}: Environment tag is not {env}:\n{provider}"
        );
    }
}

/// Public ingress (0.0.0.0/0 or ::/0) in modules/ only on 80 and 443, where the rule is written
/// with literal values.
#[test]
fn modules_open_no_port_to_the_internet_but_http_and_https() {
    let mut checked = 0;
    let mut stack = vec![workspace_root().join("modules")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read modules") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("tf") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            let body = hcl::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            for block in body.blocks().filter(|b| b.identifier() == "resource") {
                let ty = block
                    .labels()
                    .first()
                    .map(|l| l.as_str())
                    .unwrap_or_default();
                let rules: Vec<&hcl::Body> = match ty {
                    "aws_vpc_security_group_ingress_rule" => vec![&block.body],
                    "aws_security_group_rule" => vec![&block.body],
                    "aws_security_group" => block
                        .body
                        .blocks()
                        .filter(|b| b.identifier() == "ingress")
                        .map(|b| &b.body)
                        .collect(),
                    _ => continue,
                };
                for rule in rules {
                    let attr = |k: &str| {
                        rule.attributes()
                            .find(|a| a.key() == k)
                            .map(|a| a.expr().to_string())
                    };
                    if attr("type").is_some_and(|t| t.contains("egress")) {
                        continue;
                    }
                    let cidrs = [
                        attr("cidr_ipv4"),
                        attr("cidr_ipv6"),
                        attr("cidr_blocks"),
                        attr("ipv6_cidr_blocks"),
                    ];
                    let public = cidrs
                        .iter()
                        .flatten()
                        .any(|c| c.contains("0.0.0.0/0") || c.contains("::/0"));
                    if !public {
                        continue;
                    }
                    checked += 1;
                    let from = attr("from_port").unwrap_or_default();
                    let to = attr("to_port").unwrap_or_default();
                    // `each.value` ports come from the resource's for_each map: check its values.
                    let for_each_ports: Vec<String> = block
                        .body
                        .attributes()
                        .find(|a| a.key() == "for_each")
                        .and_then(|a| match a.expr() {
                            hcl::Expression::Object(o) => {
                                Some(o.values().map(|v| v.to_string()).collect())
                            }
                            _ => None,
                        })
                        .unwrap_or_default();
                    let ok = |p: &str| {
                        let p = p.trim();
                        p == "80"
                            || p == "443"
                            || (p == "each.value"
                                && !for_each_ports.is_empty()
                                && for_each_ports.iter().all(|v| v == "80" || v == "443"))
                    };
                    assert!(
                        ok(&from) && ok(&to) && from.trim() == to.trim(),
                        "{}: {ty} opens {from}-{to} to the internet",
                        path.display()
                    );
                }
            }
        }
    }
    assert!(
        checked > 0,
        "no public ingress rule found at all: the check looked at nothing"
    );
}

/// A failover record's health check probes the region's own endpoint: a check of the shared name
/// would follow the failover to us-west-2, see it healthy and switch back, so the record flaps.
#[test]
fn failover_health_checks_probe_their_own_region() {
    let record = module("dns/record");
    let check = block(&record, "resource", &["aws_route53_health_check", "this"]);
    let fqdn = attr(&check.body, "fqdn").expect("the health check has an fqdn");
    let fqdn = if mentions(&fqdn, "local.health_check_fqdn") {
        local(&record, "health_check_fqdn")
    } else {
        fqdn
    };
    assert!(
        !mentions(&fqdn, "var.name"),
        "the health check probes the record's own name: {fqdn}"
    );
    assert!(
        mentions(&fqdn, "var.alias_target.dns_name"),
        "the health check does not default to the record's target: {fqdn}"
    );

    let view = live();
    let mut failover = 0;
    for unit in units_of(&view, "dns/record") {
        let inputs = inputs(unit);
        if get(inputs, "routing_policy").and_then(Value::as_str) != Some("failover") {
            continue;
        }
        failover += 1;
        let region = unit.region.as_deref().expect("region");
        let check = get(inputs, "health_check")
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("{}: a failover record without a health check", unit.path));
        let name = get(inputs, "name").and_then(Value::as_str).expect("name");
        let probed = match check.get("fqdn").and_then(Value::as_str) {
            Some(fqdn) => fqdn,
            None => get(inputs, "alias_target.dns_name")
                .and_then(Value::as_str)
                .expect("alias target"),
        };
        assert_ne!(probed, name, "{}: probes the failover name", unit.path);
        assert!(
            probed.contains(region),
            "{}: probes {probed}, which is not in {region}",
            unit.path
        );
        let api = unit
            .dependency_blocks
            .get("api")
            .unwrap_or_else(|| panic!("{}: no api dependency", unit.path));
        assert!(
            api.starts_with(&format!("{}/", region_dir(&unit.path))),
            "{}: aliases to {api}, another region's load balancer",
            unit.path
        );
    }
    assert_eq!(
        failover, 2,
        "expected a PRIMARY and a SECONDARY failover record"
    );
}

/// The string literals of an expression (`["iam:CreateRole", "iam:PutRolePolicy"]`).
fn literals(expr: &hcl::Expression) -> Vec<String> {
    match expr {
        hcl::Expression::String(s) => vec![s.clone()],
        hcl::Expression::Array(items) => items.iter().flat_map(literals).collect(),
        _ => Vec::new(),
    }
}

/// One statement of an `aws_iam_policy_document`: its sid, effect, actions (or not_actions),
/// resources as written, and the condition keys it tests.
struct Statement {
    sid: String,
    deny: bool,
    actions: Vec<String>,
    not_actions: Vec<String>,
    resources: String,
    conditions: Vec<(String, String)>,
}

fn statements(document: &hcl::Block) -> Vec<Statement> {
    document
        .body
        .blocks()
        .filter(|b| b.identifier() == "statement")
        .map(|s| {
            let list = |key: &str| {
                s.body
                    .attributes()
                    .find(|a| a.key() == key)
                    .map(|a| literals(a.expr()))
                    .unwrap_or_default()
            };
            Statement {
                sid: list("sid").join(""),
                deny: list("effect") == ["Deny"],
                actions: list("actions"),
                not_actions: list("not_actions"),
                resources: attr(&s.body, "resources").unwrap_or_default(),
                conditions: s
                    .body
                    .blocks()
                    .filter(|c| c.identifier() == "condition")
                    .map(|c| {
                        (
                            list_of(&c.body, "variable").join(""),
                            attr(&c.body, "values").unwrap_or_default(),
                        )
                    })
                    .collect(),
            }
        })
        .collect()
}

fn list_of(body: &hcl::Body, key: &str) -> Vec<String> {
    body.attributes()
        .find(|a| a.key() == key)
        .map(|a| literals(a.expr()))
        .unwrap_or_default()
}

/// Whether an IAM action pattern (`iam:Put*`) covers `action` (`iam:PutRolePolicy`).
fn covers(pattern: &str, action: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => action.to_lowercase().starts_with(&prefix.to_lowercase()),
        None => pattern.eq_ignore_ascii_case(action),
    }
}

/// The apply role could create a role with AdministratorAccess that trusts itself, or edit
/// Slipway's own task role: every IAM action that makes or empowers a role now needs the
/// account's permissions boundary on it, attachable policies are listed, and Slipway's roles and
/// the boundary are denied outright.
#[test]
fn every_role_the_apply_role_may_create_carries_the_permissions_boundary() {
    let roles = module("slipway-roles");
    let apply = statements(block(&roles, "data", &["aws_iam_policy_document", "apply"]));
    let empowering = [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:AttachRolePolicy",
        "iam:PutRolePermissionsBoundary",
        "iam:DeleteRolePolicy",
        "iam:DetachRolePolicy",
    ];
    let mut seen = Vec::new();
    for st in apply.iter().filter(|s| !s.deny) {
        assert!(
            st.not_actions.is_empty(),
            "{}: an allow with not_actions in the apply role",
            st.sid
        );
        for action in &st.actions {
            let grants = empowering.iter().filter(|e| covers(action, e));
            for e in grants {
                seen.push(*e);
                assert!(
                    st.conditions
                        .iter()
                        .any(|(var, values)| var == "iam:PermissionsBoundary"
                            && mentions(values, "local.permissions_boundary_arn")),
                    "{}: grants {e} without the iam:PermissionsBoundary condition",
                    st.sid
                );
                if *e == "iam:AttachRolePolicy" {
                    assert!(
                        st.conditions.iter().any(|(var, _)| var == "iam:PolicyARN"),
                        "{}: attaches any policy ARN",
                        st.sid
                    );
                }
            }
            assert!(
                !(action.starts_with("iam:") && action.contains('*'))
                    || ["iam:Get*", "iam:List*"].contains(&action.as_str()),
                "{}: wildcard IAM action {action}",
                st.sid
            );
        }
    }
    for e in [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:AttachRolePolicy",
    ] {
        assert!(
            seen.contains(&e),
            "the apply role no longer grants {e} at all"
        );
    }
    let protect = apply
        .iter()
        .find(|s| s.deny && mentions(&s.resources, "local.protected_role_arns"))
        .expect("a deny on Slipway's own roles");
    assert!(
        mentions(&protect.resources, "local.permissions_boundary_arn"),
        "the boundary policy itself is not protected"
    );
    assert!(
        protect.actions.is_empty() && protect.not_actions == ["iam:Get*", "iam:List*"],
        "Slipway's roles are protected against some writes only: {:?}",
        protect.actions
    );

    // Slipway's task role (common.hcl) is among the protected names.
    let patterns = block(&roles, "variable", &["protected_role_name_patterns"]);
    let patterns: Vec<String> = patterns
        .body
        .attributes()
        .find(|a| a.key() == "default")
        .map(|a| literals(a.expr()))
        .unwrap_or_default();
    let view = live();
    let common = view
        .inventory
        .units
        .values()
        .find_map(|u| {
            let read = u.reads().keys().find(|p| p.ends_with("live/common.hcl"))?;
            Some(read.clone())
        })
        .expect("units read live/common.hcl");
    let common = std::fs::read_to_string(workspace_root().join(common)).expect("common.hcl");
    let task_role = common
        .split("role/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("slipway_task_role_arn in common.hcl");
    assert!(
        patterns.iter().any(|p| covers(p, task_role)),
        "Slipway's task role {task_role} is not protected by {patterns:?}"
    );

    // Every role a module creates carries the boundary, and every unit is given it.
    let mut stack = vec![workspace_root().join("modules")];
    let mut role_count = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read modules") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().and_then(|e| e.to_str()) == Some("tf") {
                let body = parse_tf(&path);
                for role in blocks(&body, "resource", &["aws_iam_role"]) {
                    role_count += 1;
                    let pb = attr(&role.body, "permissions_boundary");
                    let name = role.labels().get(1).map(|l| l.as_str()).unwrap_or_default();
                    let ok = pb.as_deref().is_some_and(|pb| {
                        mentions(pb, "var.permissions_boundary_arn")
                            || mentions(pb, "aws_iam_policy.boundary")
                    });
                    // The plan and apply roles themselves are created by an administrator.
                    let slipway_own = path.ends_with("slipway-roles/main.tf");
                    assert!(
                        ok || slipway_own,
                        "{}: aws_iam_role.{name} has no permissions boundary",
                        path.display()
                    );
                }
            }
        }
    }
    assert!(role_count >= 8, "only {role_count} roles found in modules/");
    for (path, unit) in &view.inventory.units {
        let account = unit.account_id.as_deref().unwrap_or_default();
        assert_eq!(
            get(inputs(unit), "permissions_boundary_arn").and_then(Value::as_str),
            Some(format!("arn:aws:iam::{account}:policy/slipway-workload-boundary").as_str()),
            "{path}: not given the account's permissions boundary"
        );
    }
}

/// The plan role plans pull requests, which anyone can open: it stays read-only. The only write
/// it makes is the state lock, an item in the lock table.
#[test]
fn the_plan_role_writes_nothing_but_its_state_lock() {
    let roles = module("slipway-roles");
    let plan = block(&roles, "data", &["aws_iam_policy_document", "plan"]);
    let mut all = statements(plan);
    let sources = attr(&plan.body, "source_policy_documents").unwrap_or_default();
    for source in references(&sources) {
        let name = source
            .strip_prefix("data.aws_iam_policy_document.")
            .and_then(|s| s.strip_suffix(".json"))
            .unwrap_or_else(|| panic!("unexpected source document {source}"));
        all.extend(statements(block(
            &roles,
            "data",
            &["aws_iam_policy_document", name],
        )));
    }
    assert!(!all.is_empty());
    let writes = ["Put", "Create", "Delete", "Update", "Attach"];
    for st in &all {
        assert!(
            st.not_actions.is_empty(),
            "{}: not_actions in the plan role",
            st.sid
        );
        for action in &st.actions {
            let verb = action.split(':').nth(1).unwrap_or_default();
            let writing = writes.iter().any(|w| verb.starts_with(w)) || verb == "PassRole";
            let wildcard = verb.contains('*');
            assert!(!wildcard, "{}: wildcard action {action}", st.sid);
            if writing {
                assert!(
                    st.sid == "LockState"
                        && action.starts_with("dynamodb:")
                        && st.resources.trim() == "[local.lock_table_arn]",
                    "{}: the plan role may {action} on {}",
                    st.sid,
                    st.resources
                );
            }
        }
    }
    let attached: Vec<String> = blocks(&roles, "resource", &["aws_iam_role_policy_attachment"])
        .into_iter()
        .filter(|b| attr(&b.body, "role").is_some_and(|r| mentions(&r, "aws_iam_role.plan")))
        .filter_map(|b| attr(&b.body, "policy_arn"))
        .collect();
    assert_eq!(attached.len(), 1, "{attached:?}");
    assert!(
        attached[0].ends_with("policy/ReadOnlyAccess\""),
        "{attached:?}"
    );
}

/// A dependency's `mock_outputs.<key>`, as the unit's evaluation saw it.
fn mock_output<'a>(unit: &'a Unit, dependency: &str, key: &str) -> Option<&'a Value> {
    let config = &unit.eval.as_ref()?.config;
    get(
        config,
        &format!("dependency.{dependency}.mock_outputs.{key}"),
    )
}

/// The DR API read its database host from the primary's replicated secret, which names the
/// us-east-1 writer: every API service reads where the database is from its own region's
/// database unit, and only credentials from the secret.
#[test]
fn api_services_reach_the_database_of_their_own_region() {
    let view = live();
    let mut dr = 0;
    let mut checked = 0;
    for unit in view.inventory.units.values() {
        let (config_key, kind) = if unit.path.ends_with("/services/sarcng-api/ecs-alb-service") {
            ("parameters", "ecs")
        } else if unit.path.ends_with("/services/sarcng-api/lambda-http-api") {
            ("environment", "lambda")
        } else {
            continue;
        };
        checked += 1;
        let region = unit.region.as_deref().expect("region");
        let database = unit
            .dependency_blocks
            .get("database")
            .unwrap_or_else(|| panic!("{}: no database dependency", unit.path));
        assert_eq!(
            database,
            &format!("{}/database", region_dir(&unit.path)),
            "{}: the database dependency is another region's",
            unit.path
        );
        let inputs = inputs(unit);
        let host = get(inputs, &format!("{config_key}.DB_HOST"))
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{} ({kind}): no DB_HOST in {config_key}", unit.path));
        let endpoint = mock_output(unit, "database", "endpoint")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{}: the database mock has no endpoint", unit.path));
        assert_eq!(
            host, endpoint,
            "{}: DB_HOST is not the database unit's endpoint",
            unit.path
        );
        assert!(
            host.contains(region),
            "{}: DB_HOST {host} is not in {region}",
            unit.path
        );
        if let Some(secrets) = get(inputs, "secrets").and_then(Value::as_object) {
            for (name, secret) in secrets {
                let key = secret
                    .as_object()
                    .and_then(|s| s.get("json_key"))
                    .and_then(Value::as_str);
                assert!(
                    !matches!(key, Some("host" | "port" | "dbname")),
                    "{}: {name} still comes from the secret's {key:?}",
                    unit.path
                );
            }
        }
        if region == "us-west-2" {
            dr += 1;
        }
    }
    assert!(checked >= 8, "only {checked} API units");
    assert_eq!(dr, 2, "expected the DR region's ECS and Lambda API units");
}

/// The dev and staging zones were created but never delegated, so nothing resolved in them and
/// their certificates never validated: the parent zone (prod) holds NS records for every other
/// zone below it, with that zone's own name servers.
#[test]
fn dev_and_staging_zones_are_delegated_from_the_parent_zone() {
    let zone = module("dns/zone");
    let ns = block(&zone, "resource", &["aws_route53_record", "delegation"]);
    assert_eq!(attr(&ns.body, "type").as_deref(), Some("\"NS\""));
    assert!(attr(&ns.body, "for_each").is_some_and(|f| mentions(&f, "var.delegations")));
    assert!(attr(&ns.body, "records").is_some_and(|r| r.trim() == "each.value"));

    let view = live();
    let zones: Vec<&Unit> = units_of(&view, "dns/zone")
        .into_iter()
        .filter(|u| get(inputs(u), "create_zone").and_then(Value::as_bool) != Some(false))
        .collect();
    let domain = |u: &Unit| {
        get(inputs(u), "domain_name")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{}: no domain_name", u.path))
            .to_string()
    };
    let mut delegated = Vec::new();
    for child in &zones {
        let name = domain(child);
        let Some(parent) = zones.iter().find(|p| {
            let parent = domain(p);
            name.ends_with(&format!(".{parent}"))
        }) else {
            continue;
        };
        let delegations = get(inputs(parent), "delegations")
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("{}: delegates nothing", parent.path));
        let servers = delegations
            .get(&name)
            .unwrap_or_else(|| panic!("{}: {name} is not delegated", parent.path));
        let (dependency, _) = parent
            .dependency_blocks
            .iter()
            .find(|(_, path)| **path == child.path)
            .unwrap_or_else(|| panic!("{} does not depend on {}", parent.path, child.path));
        assert_eq!(
            Some(servers),
            mock_output(parent, dependency, "name_servers"),
            "{}: {name} is delegated to servers other than {}'s",
            parent.path,
            child.path
        );
        delegated.push(child.env.clone().unwrap_or_default());
    }
    delegated.sort();
    assert_eq!(delegated, ["dev", "staging"]);
}

/// The unit's `remote_state.config.<key>`.
fn state<'a>(unit: &'a Unit, key: &str) -> &'a str {
    unit.eval
        .as_ref()
        .and_then(|e| get(&e.config, &format!("remote_state.config.{key}")))
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{}: no remote_state.config.{key}", unit.path))
}

/// DR state lived only in us-east-1, so the DR units could not be managed during the outage they
/// exist for: the DR region keeps its state in a bucket and lock table of its own region, its units
/// read no output of another region's state, and Slipway's roles may reach that bucket.
#[test]
fn the_dr_region_is_managed_from_its_own_state() {
    let view = live();
    let mut dr = 0;
    let primary_buckets: Vec<&str> = view
        .inventory
        .units
        .values()
        .filter(|u| u.region.as_deref() == Some("us-east-1"))
        .map(|u| state(u, "bucket"))
        .collect();
    for unit in view.inventory.units.values() {
        if unit.region.as_deref() != Some("us-west-2") {
            continue;
        }
        dr += 1;
        assert_eq!(state(unit, "region"), "us-west-2", "{}", unit.path);
        let bucket = state(unit, "bucket");
        assert!(
            !primary_buckets.contains(&bucket),
            "{}: state in {bucket}, a us-east-1 bucket",
            unit.path
        );
        assert!(
            !state(unit, "dynamodb_table").is_empty(),
            "{}: no lock table",
            unit.path
        );
        for (name, path) in &unit.dependency_blocks {
            assert!(
                path.starts_with(&format!("{}/", region_dir(&unit.path))),
                "{}: dependency {name} reads {path}'s state, outside us-west-2",
                unit.path
            );
        }
    }
    assert!(dr >= 8, "only {dr} DR units");

    let dr_bucket = view
        .inventory
        .units
        .values()
        .find(|u| u.region.as_deref() == Some("us-west-2"))
        .map(|u| state(u, "bucket"))
        .expect("a DR unit");
    let roles = view
        .inventory
        .units
        .get("live/accounts/prod/_global/slipway-roles")
        .expect("prod slipway-roles");
    let extra = get(inputs(roles), "extra_state_bucket_names")
        .and_then(Value::as_array)
        .expect("extra_state_bucket_names");
    assert!(
        extra.iter().any(|b| b.as_str() == Some(dr_bucket)),
        "Slipway's prod roles cannot reach {dr_bucket}: {extra:?}"
    );
}

/// A variable's default, as written.
fn default_of(body: &hcl::Body, variable: &str) -> String {
    attr(&block(body, "variable", &[variable]).body, "default")
        .unwrap_or_else(|| panic!("var.{variable} has no default"))
}

/// The values the platform's specification gives, where the live tree and modules set them:
/// /24 subnets per tier, Aurora promotion tiers 1 and 2, the global database `sarc-ng-global`,
/// auto scaling at 70 % with 300 s cooldowns, the log group names with managed retention, and
/// dev on Fargate Spot. (The prod VPC range is the one place the tree departs from it: see
/// modules/network/README.md; every range stays distinct.)
#[test]
fn live_values_follow_the_platform_specification() {
    let view = live();

    // Subnets: one /24 per tier and zone, at x.x.1, x.x.10 and x.x.20.
    let network = module("network");
    assert!(
        local(&network, "subnet_newbits").starts_with("24 -"),
        "subnets are not /24s"
    );
    let offsets = default_of(&network, "subnet_offsets");
    for (tier, at) in [("public", "1"), ("private", "10"), ("database", "20")] {
        assert!(
            offsets
                .split([',', '{', '}', '\n'])
                .any(|kv| kv.split('=').map(str::trim).eq([tier, at])),
            "the {tier} tier does not start at .{at}.0/24: {offsets}"
        );
    }
    let mut ranges: Vec<(String, String)> = units_of(&view, "network")
        .iter()
        .map(|u| {
            let cidr = get(inputs(u), "cidr_block").and_then(Value::as_str);
            (cidr.expect("cidr_block").to_string(), u.path.clone())
        })
        .collect();
    ranges.sort();
    assert_eq!(ranges.len(), 4);
    for pair in ranges.windows(2) {
        assert_ne!(
            pair[0].0, pair[1].0,
            "{} and {} share a range",
            pair[0].1, pair[1].1
        );
    }

    // Aurora: promotion tiers 1, 2, ...; the global database is sarc-ng-global.
    let database = module("database");
    let instance = block(&database, "resource", &["aws_rds_cluster_instance", "this"]);
    assert_eq!(
        attr(&instance.body, "promotion_tier").as_deref(),
        Some("count.index + 1")
    );
    let prod = |path: &str| {
        let unit = view.inventory.units.get(path).expect(path);
        inputs(unit)
    };
    assert_eq!(
        get(
            prod("live/accounts/prod/us-east-1/database"),
            "global_cluster_name"
        )
        .and_then(Value::as_str),
        Some("sarc-ng-global")
    );
    assert_eq!(
        get(
            prod("live/accounts/prod/us-west-2/database"),
            "global_cluster_identifier"
        )
        .and_then(Value::as_str),
        Some("sarc-ng-global")
    );

    // Auto scaling: target 70 %, cooldowns 300 s out and in, overridden by no unit.
    let service = module("compute/ecs-alb-service");
    for (variable, value) in [
        ("cpu_target_percent", "70"),
        ("memory_target_percent", "70"),
        ("scale_out_cooldown_seconds", "300"),
        ("scale_in_cooldown_seconds", "300"),
    ] {
        assert_eq!(default_of(&service, variable), value, "var.{variable}");
        for unit in units_of(&view, "compute/ecs-alb-service") {
            assert!(
                get(inputs(unit), variable).is_none(),
                "{} overrides {variable}",
                unit.path
            );
        }
    }

    // Log groups: the API's names, and RDS's error and slow query groups created with retention.
    for unit in view.inventory.units.values() {
        let expected = if unit.path.ends_with("/services/sarcng-api/ecs-alb-service") {
            "/ecs/sarc-ng/api"
        } else if unit.path.ends_with("/services/sarcng-api/lambda-http-api") {
            "/aws/lambda/sarc-ng-api"
        } else {
            continue;
        };
        assert_eq!(
            get(inputs(unit), "log_group_name").and_then(Value::as_str),
            Some(expected),
            "{}",
            unit.path
        );
    }
    let logs = block(
        &database,
        "resource",
        &["aws_cloudwatch_log_group", "database"],
    );
    assert!(
        attr(&logs.body, "for_each").is_some_and(|f| mentions(&f, "var.cloudwatch_logs_exports"))
    );
    assert!(attr(&logs.body, "retention_in_days")
        .is_some_and(|r| mentions(&r, "var.log_retention_days")));
    let name = attr(&logs.body, "name").expect("name");
    assert!(name.contains("/aws/rds/"), "{name}");
    let exports = default_of(&database, "cloudwatch_logs_exports");
    assert!(
        exports.contains("\"error\"") && exports.contains("\"slowquery\""),
        "{exports}"
    );
    for (kind, resource) in [("aws_db_instance", "this"), ("aws_rds_cluster", "this")] {
        let r = block(&database, "resource", &[kind, resource]);
        assert!(
            attr(&r.body, "depends_on")
                .is_some_and(|d| mentions(&d, "aws_cloudwatch_log_group.database")),
            "{kind} may create its log groups before the module does"
        );
    }
    for unit in units_of(&view, "database") {
        assert!(
            get(inputs(unit), "log_retention_days")
                .and_then(Value::as_number)
                .is_some(),
            "{}: database logs without managed retention",
            unit.path
        );
    }

    // Dev services run on Fargate Spot; the launch type is no longer hard-coded.
    let ecs = block(&service, "resource", &["aws_ecs_service", "this"]);
    assert_ne!(
        attr(&ecs.body, "launch_type").as_deref(),
        Some("\"FARGATE\"")
    );
    let mut dev = 0;
    for unit in units_of(&view, "compute/ecs-alb-service") {
        if unit.env.as_deref() != Some("dev") {
            continue;
        }
        dev += 1;
        let strategy = get(inputs(unit), "capacity_provider_strategy")
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("{}: no capacity_provider_strategy", unit.path));
        assert!(
            !strategy.is_empty()
                && strategy.iter().all(|s| {
                    s.as_object()
                        .and_then(|s| s.get("capacity_provider"))
                        .and_then(Value::as_str)
                        == Some("FARGATE_SPOT")
                }),
            "{}: not on Fargate Spot: {strategy:?}",
            unit.path
        );
    }
    assert_eq!(dev, 2, "the dev API and web services");
}

/// The environments (`dev`, `staging`, `prod`) whose units deploy `modules/<dir>`, sorted.
fn envs_deploying(view: &agent::repo::GraphView, dir: &str) -> Vec<String> {
    let mut envs: Vec<String> = units_of(view, dir)
        .iter()
        .filter_map(|u| u.env.clone())
        .collect();
    envs.sort();
    envs.dedup();
    envs
}

/// The pieces the platform's specification names: CloudTrail, a cost budget per environment,
/// TLS to the database and rotation of its credentials, configuration in SSM Parameter Store,
/// the four custom metrics with alarms, dev's off-hours scaling, the EventBridge and SQS jobs,
/// and blue-green deployments as an option of the ALB service.
#[test]
fn the_pieces_the_specification_names_are_deployed() {
    let view = live();
    let all = ["dev", "prod", "staging"];

    // CloudTrail and a budget in every account.
    let audit = module("audit");
    let trail = block(&audit, "resource", &["aws_cloudtrail", "this"]);
    for key in [
        "is_multi_region_trail",
        "enable_log_file_validation",
        "include_global_service_events",
    ] {
        assert_eq!(
            attr(&trail.body, key).as_deref(),
            Some("true"),
            "aws_cloudtrail.{key}"
        );
    }
    assert_eq!(envs_deploying(&view, "audit"), all);
    assert_eq!(envs_deploying(&view, "budget"), all);
    for unit in units_of(&view, "budget") {
        assert!(
            get(inputs(unit), "monthly_limit_usd")
                .and_then(Value::as_number)
                .is_some(),
            "{}: no monthly limit",
            unit.path
        );
    }

    // The database requires TLS, and its credentials rotate where it owns them.
    let database = module("database");
    for (kind, value) in [
        ("aws_db_parameter_group", "\"1\""),
        ("aws_rds_cluster_parameter_group", "\"ON\""),
    ] {
        let group = block(&database, "resource", &[kind, "this"]);
        let parameter = group
            .body
            .blocks()
            .find(|b| attr(&b.body, "name").as_deref() == Some("\"require_secure_transport\""))
            .unwrap_or_else(|| panic!("{kind} does not require TLS"));
        assert_eq!(
            attr(&parameter.body, "value").as_deref(),
            Some(value),
            "{kind}"
        );
    }
    block(
        &database,
        "resource",
        &["aws_secretsmanager_secret_rotation", "master"],
    );
    let mut rotating = 0;
    for unit in units_of(&view, "database") {
        let inputs = inputs(unit);
        if get(inputs, "global_cluster_identifier").is_some() {
            continue; // a secondary: its secret is the primary's replica
        }
        rotating += 1;
        assert!(
            get(inputs, "rotation_image_uri")
                .and_then(Value::as_str)
                .is_some(),
            "{}",
            unit.path
        );
        assert!(
            get(inputs, "rotation_subnet_ids")
                .and_then(Value::as_array)
                .is_some_and(|s| !s.is_empty()),
            "{}: the rotation function is not in the VPC",
            unit.path
        );
    }
    assert_eq!(rotating, 3, "the three primary databases");

    // Configuration in SSM Parameter Store.
    let service = module("compute/ecs-alb-service");
    block(&service, "resource", &["aws_ssm_parameter", "config"]);

    // The four custom metrics, each with an alarm, in every region.
    let observability = module("observability");
    let alarms = default_of(&observability, "application_metric_alarms");
    for metric in [
        "reservation_success_rate",
        "resource_utilization",
        "api_response_time",
        "database_connection_pool",
    ] {
        assert!(alarms.contains(metric), "no alarm on {metric}");
    }
    let alarm = block(
        &observability,
        "resource",
        &["aws_cloudwatch_metric_alarm", "application"],
    );
    assert!(attr(&alarm.body, "for_each")
        .is_some_and(|f| mentions(&f, "var.application_metric_alarms")));
    for unit in units_of(&view, "observability") {
        assert!(
            get(inputs(unit), "application_metric_dimensions.Environment").is_some(),
            "{}: the application metrics' dimensions are not set",
            unit.path
        );
    }

    // Dev scales its services to zero off hours.
    block(
        &service,
        "resource",
        &["aws_appautoscaling_scheduled_action", "this"],
    );
    for unit in units_of(&view, "compute/ecs-alb-service") {
        if unit.env.as_deref() != Some("dev") {
            continue;
        }
        let schedule = get(inputs(unit), "scheduled_scaling")
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("{}: no scheduled scaling", unit.path));
        assert!(
            schedule.values().any(|a| {
                a.as_object()
                    .and_then(|a| a.get("max_capacity"))
                    .and_then(Value::as_number)
                    .and_then(|n| n.as_f64())
                    == Some(0.0)
            }),
            "{}: never scales to zero: {schedule:?}",
            unit.path
        );
    }

    // The EventBridge and SQS jobs run in every environment.
    assert_eq!(envs_deploying(&view, "compute/lambda-event-bridge"), all);
    assert_eq!(envs_deploying(&view, "compute/lambda-sqs-consumer"), all);

    // Blue-green (CodeDeploy) is an option of the ALB service.
    let controller = block(&service, "variable", &["deployment_controller"]);
    assert!(attr(&controller.body, "default").as_deref() == Some("\"ECS\""));
    let group = block(
        &service,
        "resource",
        &["aws_codedeploy_deployment_group", "this"],
    );
    let style = group
        .body
        .blocks()
        .find(|b| b.identifier() == "deployment_style")
        .expect("deployment_style");
    assert_eq!(
        attr(&style.body, "deployment_type").as_deref(),
        Some("\"BLUE_GREEN\"")
    );
    block(&service, "resource", &["aws_lb_target_group", "green"]);
}

/// The roots are `root.hcl` (a root named `terragrunt.hcl` is taken for a unit by `run --all`),
/// state the supported Terraform and Terragrunt versions as the modules do, and the dev backend
/// uses the S3 backend keys of those versions, not the ones deprecated since Terraform 1.6.
#[test]
fn roots_are_root_hcl_with_the_supported_versions() {
    let view = live();
    let mut files = 0;
    let mut stack = vec![workspace_root().join("live")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read live") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "terragrunt.hcl") {
                files += 1;
            }
        }
    }
    assert_eq!(
        files,
        view.inventory.units.len(),
        "a terragrunt.hcl in live/ is not a unit"
    );

    let mut constraint = None;
    for (path, unit) in &view.inventory.units {
        assert!(
            unit.include_paths().any(|p| p.ends_with("/root.hcl")),
            "{path} includes no root.hcl"
        );
        let config = &unit.eval.as_ref().expect("evaluated").config;
        let tf = get(config, "terraform_version_constraint")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{path}: no terraform_version_constraint"));
        assert!(
            get(config, "terragrunt_version_constraint").is_some(),
            "{path}: no terragrunt_version_constraint"
        );
        constraint.get_or_insert_with(|| tf.to_string());
        assert_eq!(Some(tf), constraint.as_deref(), "{path}");
    }
    let constraint = constraint.expect("units");

    let mut stack = vec![workspace_root().join("modules")];
    let mut modules = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read modules") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "versions.tf") {
                modules += 1;
                let body = parse_tf(&path);
                let required = attr(&block(&body, "terraform", &[]).body, "required_version");
                assert_eq!(
                    required.as_deref(),
                    Some(format!("\"{constraint}\"").as_str()),
                    "{}: required_version differs from the roots'",
                    path.display()
                );
            }
        }
    }
    assert!(modules >= 20, "only {modules} modules");

    let dev = parse_tf(&workspace_root().join("live/accounts/dev/root.hcl"));
    let backend = local(&dev, "localstack_backend_endpoints");
    let state = attr(&block(&dev, "remote_state", &[]).body, "config").expect("config");
    for deprecated in [
        "endpoint =",
        "sts_endpoint",
        "iam_endpoint",
        "dynamodb_endpoint",
        "force_path_style",
    ] {
        assert!(
            !backend.contains(deprecated) && !state.contains(deprecated),
            "the dev backend still sets {deprecated}"
        );
    }
    assert!(backend.contains("endpoints") && state.contains("use_path_style"));
}
