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
fn blocks<'a>(body: &'a hcl::Body, kind: &'a str, labels: &'a [&str]) -> Vec<&'a hcl::Block> {
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

fn block<'a>(body: &'a hcl::Body, kind: &'a str, labels: &'a [&str]) -> &'a hcl::Block {
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
    assert_eq!(failover, 2, "expected a PRIMARY and a SECONDARY failover record");
}
