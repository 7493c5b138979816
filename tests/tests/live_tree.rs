//! The SARC-NG live tree in this repository, read by Slipway itself: every unit evaluates, has
//! its environment, and is ordered network -> database -> compute -> services; the policy that can
//! be checked without a plan (required tags through default_tags, public ingress) holds.

use std::collections::BTreeMap;

use agent::repo::Repo;
use slipway_tests::workspace_root;

fn live() -> std::sync::Arc<agent::repo::GraphView> {
    let repo = Repo::open(&workspace_root()).expect("open the repository");
    repo.graph(None).expect("evaluate live/")
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
