//! The unit dependency graph: order of application and cycles.

use std::collections::{BTreeMap, BTreeSet};

use crate::units::Inventory;

/// A dependency that points nowhere, or a cycle.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GraphProblem {
    /// `unit` depends on `target`, which is not a unit.
    MissingDependency { unit: String, target: String },
    /// The units form a cycle; the first path is repeated at the end.
    Cycle { paths: Vec<String> },
}

impl std::fmt::Display for GraphProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GraphProblem::MissingDependency { unit, target } => write!(
                f,
                "{unit}/terragrunt.hcl: dependency {target} is not a Terragrunt unit (no {target}/terragrunt.hcl)"
            ),
            GraphProblem::Cycle { paths } => {
                write!(f, "dependency cycle: {}", paths.join(" -> "))
            }
        }
    }
}

/// Units in dependency order, and what stands in the way of a full order.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// Every unit, dependencies before dependents (ties broken by path). Units on a cycle come
    /// last, in path order.
    pub order: Vec<String>,
    /// unit -> units that depend on it.
    pub dependents: BTreeMap<String, BTreeSet<String>>,
    pub problems: Vec<GraphProblem>,
}

impl Graph {
    pub fn build(inv: &Inventory) -> Graph {
        let mut graph = Graph::default();
        let mut indegree: BTreeMap<&str, usize> = BTreeMap::new();
        for (path, unit) in &inv.units {
            indegree.entry(path).or_insert(0);
            for dep in &unit.dependencies {
                if inv.units.contains_key(dep) {
                    *indegree.entry(path).or_insert(0) += 1;
                    graph
                        .dependents
                        .entry(dep.clone())
                        .or_default()
                        .insert(path.clone());
                } else {
                    graph.problems.push(GraphProblem::MissingDependency {
                        unit: path.clone(),
                        target: dep.clone(),
                    });
                }
            }
        }
        let mut ready: BTreeSet<&str> = indegree
            .iter()
            .filter(|(_, d)| **d == 0)
            .map(|(p, _)| *p)
            .collect();
        while let Some(p) = ready.pop_first() {
            graph.order.push(p.to_string());
            if let Some(ds) = graph.dependents.get(p) {
                for d in ds {
                    if let Some(n) = indegree.get_mut(d.as_str()) {
                        *n -= 1;
                        if *n == 0 {
                            ready.insert(d.as_str());
                        }
                    }
                }
            }
        }
        if graph.order.len() < inv.units.len() {
            let placed: BTreeSet<&str> = graph.order.iter().map(String::as_str).collect();
            let stuck: Vec<&str> = inv
                .units
                .keys()
                .map(String::as_str)
                .filter(|p| !placed.contains(p))
                .collect();
            for cycle in find_cycles(inv, &stuck) {
                graph.problems.push(GraphProblem::Cycle { paths: cycle });
            }
            graph.order.extend(stuck.iter().map(|s| s.to_string()));
        }
        graph
    }

    /// Every unit downstream of `roots` (not including the roots).
    pub fn downstream(&self, roots: &BTreeSet<String>) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut stack: Vec<&String> = roots.iter().collect();
        while let Some(u) = stack.pop() {
            if let Some(ds) = self.dependents.get(u) {
                for d in ds {
                    if !roots.contains(d) && out.insert(d.clone()) {
                        stack.push(d);
                    }
                }
            }
        }
        out
    }
}

/// One cycle through each strongly connected group of `stuck` units.
fn find_cycles(inv: &Inventory, stuck: &[&str]) -> Vec<Vec<String>> {
    let stuck_set: BTreeSet<&str> = stuck.iter().copied().collect();
    let mut reported: BTreeSet<String> = BTreeSet::new();
    let mut cycles = Vec::new();
    for start in stuck {
        if reported.contains(*start) {
            continue;
        }
        // Walk dependencies inside the stuck set until a unit repeats.
        let mut path: Vec<&str> = vec![start];
        let mut seen: BTreeMap<&str, usize> = BTreeMap::from([(*start, 0)]);
        let mut cur: &str = start;
        loop {
            let next = inv.units.get(cur).and_then(|u| {
                u.dependencies
                    .iter()
                    .map(String::as_str)
                    .find(|d| stuck_set.contains(d))
            });
            let Some(next) = next else { break };
            if let Some(&i) = seen.get(next) {
                let mut cycle: Vec<String> = path[i..].iter().map(|s| s.to_string()).collect();
                if cycle.iter().any(|c| reported.contains(c)) {
                    break;
                }
                reported.extend(cycle.iter().cloned());
                cycle.push(next.to_string());
                cycles.push(cycle);
                break;
            }
            seen.insert(next, path.len());
            path.push(next);
            cur = next;
        }
    }
    cycles
}
