//! Unit discovery: every Terragrunt unit of a snapshot, evaluated, with its environment,
//! account, region, dependencies, and every file it reads.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use hcl::Value;
use serde::Serialize;

use crate::config::{path_has_prefix, RepoConfig};
use crate::git::{ChangeKind, FileChange};
use crate::snapshot::{join, parent, Snapshot};
use crate::terragrunt::modules::{self, Source};
use crate::terragrunt::stack::{self, StackOrigin, Stacks};
use crate::terragrunt::{Deps, EvalCache, EvalError, Evaluator, ReadKind, UnitEval};

/// Up to this many changed files, each unit is checked by looking the changes up in its reads;
/// beyond it, by looking its reads up in the set of changes.
pub const FEW_CHANGES: usize = 16;

/// File name that makes a directory a Terragrunt unit.
pub const UNIT_FILE: &str = "terragrunt.hcl";

/// One Terragrunt unit.
#[derive(Debug, Clone, Serialize)]
pub struct Unit {
    /// Repo-relative directory.
    pub path: String,
    pub env: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    /// `terraform.source`, classified; `None` when the unit's own `.tf` files are the module.
    pub source: Option<Source>,
    /// Dependencies by block name (`dependency "vpc"`), as repo-relative unit paths.
    pub dependency_blocks: BTreeMap<String, String>,
    /// Every dependency (dependency blocks and `dependencies { paths }`), sorted.
    pub dependencies: Vec<String>,
    /// Local module directories the unit's code comes from (followed through `module` calls).
    pub module_dirs: BTreeSet<String>,
    /// Remote module sources, recorded but not followed.
    pub remote_sources: BTreeSet<String>,
    /// Local module directories a module calls that do not exist (yet): a file appearing
    /// there affects the unit.
    pub missing_module_dirs: BTreeSet<String>,
    /// `skip = true` or an `exclude` block that always applies.
    pub skip: bool,
    /// `prevent_destroy = true`.
    pub prevent_destroy: bool,
    /// `iam_role`, when set.
    pub iam_role: Option<String>,
    /// The stack that generates the unit, when a `terragrunt.stack.hcl` does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<StackOrigin>,
    #[serde(skip)]
    pub deps: Deps,
    #[serde(skip)]
    pub eval: Option<Arc<UnitEval>>,
}

impl Unit {
    /// The configurations the unit includes.
    pub fn include_paths(&self) -> impl Iterator<Item = &str> {
        self.eval
            .iter()
            .flat_map(|e| e.includes.iter().map(|i| i.path.as_str()))
    }

    /// Why the unit's files are not known, when a stack generates it from a remote source:
    /// it cannot be planned from the repository alone.
    pub fn unknown_files(&self) -> Option<String> {
        let stack = self.stack.as_ref()?;
        let url = stack.remote_source.as_ref()?;
        Some(format!(
            "{} generates this unit (unit \"{}\") from the remote source {url}, which Slipway \
             does not fetch: vendor the unit template into the repository to plan it",
            stack.stack_files.last().map_or("a stack", String::as_str),
            stack.name
        ))
    }

    /// Every file the unit reads besides its own directory: included and read configs, var
    /// files, files read with `file()`; with the reason.
    pub fn reads(&self) -> &BTreeMap<String, (ReadKind, String)> {
        &self.deps.reads
    }
}

/// All units of a snapshot, and the ones that failed to evaluate.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// Units by directory. Shared: a derived inventory reuses the units a change left alone.
    pub units: BTreeMap<String, Arc<Unit>>,
    /// Every evaluation error, one per failed unit, in path order.
    pub errors: Vec<EvalError>,
    /// Failed units by directory.
    failed: BTreeMap<String, EvalError>,
    /// Directories whose `terragrunt.hcl` is included by others (parents, not units).
    parents: BTreeSet<String>,
    /// The stacks, expanded.
    stacks: Arc<Stacks>,
}

impl Inventory {
    /// The snapshot with the files stacks generate laid over it, when the repository has
    /// stacks: the one to read a generated unit's files from.
    pub fn expanded_snapshot(&self) -> Option<Arc<Snapshot>> {
        self.stacks.snapshot.clone()
    }

    /// The units stacks generate and the rest of their expansion.
    pub fn stacks(&self) -> &Stacks {
        &self.stacks
    }

    /// Units that failed to evaluate, with their error.
    pub fn failed(&self) -> impl Iterator<Item = (&str, &EvalError)> {
        self.failed.iter().map(|(d, e)| (d.as_str(), e))
    }
}

/// Discovers and evaluates every unit under the configured live directory.
pub fn discover(snap: Arc<Snapshot>, config: &RepoConfig, cache: Arc<EvalCache>) -> Inventory {
    let stacks = Arc::new(stack::expand(&snap, config, &cache));
    let snap = stacks.snapshot.clone().unwrap_or(snap);
    let mut candidates: Vec<String> = snap
        .paths()
        .filter(|p| is_candidate(p, config))
        .map(|p| parent(p).to_string())
        .filter(|d| !stacks.is_template(d))
        .collect();
    candidates.extend(stacks.local_units().map(str::to_string));
    candidates.sort();
    candidates.dedup();

    let results = evaluate_all(&snap, &cache, config, &candidates, &stacks);

    // A `terragrunt.hcl` that another unit includes is a parent, not a unit.
    let mut includers = BTreeMap::new();
    for (dir, r) in candidates.iter().zip(&results) {
        for p in made_parents(dir, included_paths(r)) {
            includers.entry(p.to_string()).or_insert(dir.as_str());
        }
    }

    let mut inv = Inventory {
        parents: includers.keys().cloned().collect(),
        stacks: stacks.clone(),
        ..Inventory::default()
    };
    for (dir, result) in candidates.iter().zip(results) {
        if inv.parents.contains(dir) {
            let includer = includers.get(dir.as_str()).copied().unwrap_or_default();
            if let Some(e) = ambiguous_parent(&snap, dir, includer) {
                inv.failed.insert(dir.clone(), e);
            }
            continue;
        }
        match result {
            Ok(unit) => {
                inv.units.insert(dir.clone(), Arc::new(unit));
            }
            Err(e) => {
                inv.failed.insert(dir.clone(), e.of_unit(dir));
            }
        }
    }
    add_stacks(&mut inv, config);
    refuse_escaping_units(&mut inv, &snap, config);
    inv.errors = inv.failed.values().cloned().collect();
    inv
}

/// The units stacks generate from remote sources (whose files are unknown), and what stacks
/// could not expand, as failed units.
fn add_stacks(inv: &mut Inventory, config: &RepoConfig) {
    let stacks = inv.stacks.clone();
    for unit in stacks.remote_units(config) {
        inv.units.insert(unit.path.clone(), Arc::new(unit));
    }
    for (dir, e) in &stacks.errors {
        inv.failed
            .entry(dir.clone())
            .or_insert_with(|| e.clone().of_unit(dir));
    }
}

/// A unit file that is a symlink leaving the repository is refused, not silently skipped.
fn refuse_escaping_units(inv: &mut Inventory, snap: &Snapshot, config: &RepoConfig) {
    for (path, target) in snap.escaping_links() {
        if path.rsplit('/').next() == Some(UNIT_FILE) && is_candidate(path, config) {
            inv.failed.insert(
                parent(path).to_string(),
                EvalError::new(
                    path,
                    0,
                    "file",
                    format!("symlink points outside the repository (to {target}): refused"),
                ),
            );
        }
    }
}

fn is_candidate(path: &str, config: &RepoConfig) -> bool {
    let live = config
        .live_dir
        .as_deref()
        .unwrap_or_default()
        .trim_matches('/');
    (path == UNIT_FILE || path.ends_with("/terragrunt.hcl"))
        && path_has_prefix(path, live)
        && !path.split('/').any(|c| c.starts_with('.'))
}

/// The inventory of `snap`, derived from `prev` (the inventory of an earlier snapshot) and the
/// files that changed in between: only units that read, probe, or own a changed file, new
/// units and failed units are evaluated again. Returns `None` when the change alters which
/// configurations are parents, where a full `discover` is needed.
pub fn update(
    prev: &Inventory,
    snap: Arc<Snapshot>,
    config: &RepoConfig,
    cache: Arc<EvalCache>,
    changes: &[FileChange],
) -> Option<Update> {
    // A parent refused as ambiguous, or Terraform files appearing next to a parent: whether
    // it is a parent or a unit is decided again from scratch.
    if prev.failed.keys().any(|d| prev.parents.contains(d))
        || changes.iter().any(|c| {
            (c.path.ends_with(".tf") || c.path.ends_with(".tf.json"))
                && prev.parents.contains(parent(&c.path))
        })
    {
        return None;
    }
    let stacks = stack::update(&prev.stacks, &snap, config, &cache, changes);
    if stacks.templates != prev.stacks.templates {
        return None;
    }
    let snap = stacks.snapshot.clone().unwrap_or(snap);
    let changed: HashSet<&str> = changes.iter().map(|c| c.path.as_str()).collect();
    let mut changed_dirs: HashSet<&str> = HashSet::new();
    for c in changes {
        let mut d = parent(&c.path);
        loop {
            if !changed_dirs.insert(d) || d.is_empty() {
                break;
            }
            d = parent(d);
        }
    }
    let mut dirty: BTreeSet<String> = prev.failed.keys().cloned().collect();
    for (path, unit) in &prev.units {
        // Few changes against many reads: look the changes up in the unit, not the reverse.
        // Only additions and deletions can change what a probe found.
        let touched = changed_dirs.contains(path.as_str())
            || if changes.len() <= FEW_CHANGES {
                changes.iter().any(|c| {
                    unit.deps.reads.contains_key(&c.path)
                        || (c.kind != ChangeKind::Modified && unit.deps.probes.contains(&c.path))
                })
            } else {
                unit.deps.reads.keys().any(|r| changed.contains(r.as_str()))
                    || unit
                        .deps
                        .probes
                        .iter()
                        .any(|p| changed.contains(p.as_str()))
            }
            || unit
                .module_dirs
                .iter()
                .chain(unit.missing_module_dirs.iter())
                .chain(unit.stack.iter().flat_map(|s| s.template.iter()))
                .any(|m| changed_dirs.contains(m.as_str()));
        if touched {
            dirty.insert(path.clone());
        }
    }
    // Units a stack now generates that were not there before.
    dirty.extend(
        stacks
            .local_units()
            .filter(|d| !prev.units.contains_key(*d))
            .map(str::to_string),
    );
    for c in changes {
        if is_candidate(&c.path, config) && !stacks.is_template(parent(&c.path)) {
            let dir = parent(&c.path);
            if prev.parents.contains(dir) {
                // A parent configuration changed: its includers are dirty through their
                // reads; whether it stays a parent is rechecked below.
                continue;
            }
            dirty.insert(dir.to_string());
        }
    }
    let dirty: Vec<String> = dirty
        .into_iter()
        .filter(|d| snap.is_file(&join(d, UNIT_FILE)))
        .collect();
    let results = evaluate_all(&snap, &cache, config, &dirty, &stacks);

    let mut inv = Inventory {
        units: prev.units.clone(),
        errors: Vec::new(),
        failed: BTreeMap::new(),
        parents: prev.parents.clone(),
        stacks: stacks.clone(),
    };
    // Units whose file is gone (and remote stack units: listed again below).
    inv.units
        .retain(|dir, _| snap.is_file(&join(dir, UNIT_FILE)));
    let remote = |units: &BTreeMap<String, Arc<Unit>>| -> Vec<String> {
        units
            .iter()
            .filter(|(_, u)| u.eval.is_none() && u.stack.is_some())
            .map(|(d, _)| d.clone())
            .collect()
    };
    let remote_before = remote(&prev.units);
    add_stacks(&mut inv, config);
    let before = inv.units.len();
    // Whether the set of units, their dependencies or their includes changed: when none did,
    // the graph and the parent set are the previous ones.
    let mut structure_changed = before != prev.units.len();
    let mut includes_changed = structure_changed;
    for (dir, result) in dirty.iter().zip(results) {
        let old = inv.units.remove(dir);
        if made_parents(dir, included_paths(&result)).any(|p| !inv.parents.contains(p)) {
            return None;
        }
        match (&old, &result) {
            (Some(o), Ok(n)) => {
                structure_changed |= o.dependencies != n.dependencies;
                includes_changed |= o.include_paths().ne(n.include_paths());
            }
            _ => {
                structure_changed = true;
                includes_changed = true;
            }
        }
        match result {
            Ok(unit) => {
                inv.units.insert(dir.clone(), Arc::new(unit));
            }
            Err(e) => {
                inv.failed.insert(dir.clone(), e.of_unit(dir));
            }
        }
    }
    // Every parent must still exist and still be included by someone.
    let parents_gone = changes
        .iter()
        .any(|c| c.blob.is_none() && inv.parents.contains(parent(&c.path)));
    if includes_changed || parents_gone {
        let still: BTreeSet<String> = inv
            .units
            .iter()
            .flat_map(|(d, u)| made_parents(d, u.include_paths()))
            .chain(
                inv.failed
                    .iter()
                    .flat_map(|(d, e)| made_parents(d, e.included.iter().map(String::as_str))),
            )
            .map(str::to_string)
            .collect();
        if still != inv.parents {
            return None;
        }
    }
    refuse_escaping_units(&mut inv, &snap, config);
    structure_changed |= remote(&inv.units) != remote_before;
    structure_changed |= inv.failed.keys().ne(prev.failed.keys());
    inv.errors = inv.failed.values().cloned().collect();
    Some(Update {
        inventory: inv,
        structure_changed,
    })
}

/// The directories that the unit in `dir` makes parents by including them: only a directory's
/// own `terragrunt.hcl`, included by another unit, makes it a parent. An included `root.hcl`,
/// `_envcommon/db.hcl` or `db/extra.hcl` leaves its directory's unit a unit, and a unit
/// including itself stays a unit (and fails on the cycle), so no unit can be hidden this way.
fn made_parents<'a>(
    dir: &'a str,
    includes: impl Iterator<Item = &'a str> + 'a,
) -> impl Iterator<Item = &'a str> + 'a {
    includes.filter_map(move |inc| {
        let base = inc.rsplit('/').next().unwrap_or(inc);
        let p = parent(inc);
        (base == UNIT_FILE && p != dir).then_some(p)
    })
}

/// A parent that also holds Terraform files would be planned by Terragrunt as a unit while
/// Slipway reads it as a parent: refused with both files named rather than silently dropped.
fn ambiguous_parent(snap: &Snapshot, dir: &str, includer: &str) -> Option<EvalError> {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let tf = snap.files_under(dir).find(|f| {
        let rel = f.strip_prefix(prefix.as_str()).unwrap_or(f);
        !rel.contains('/') && (rel.ends_with(".tf") || rel.ends_with(".tf.json"))
    })?;
    let file = join(dir, UNIT_FILE);
    let includer = join(includer, UNIT_FILE);
    Some(EvalError::new(
        &file,
        0,
        "include",
        format!(
            "{file} is included by {includer} as a parent configuration, but its directory holds {tf}, so Terragrunt would also plan it as a unit; name the parent configuration root.hcl (or move the Terraform files) so that it is one or the other"
        ),
    ))
}

/// The configurations a unit includes, also when it failed after resolving them.
fn included_paths(result: &Result<Unit, EvalError>) -> Box<dyn Iterator<Item = &str> + '_> {
    match result {
        Ok(u) => Box::new(u.include_paths()),
        Err(e) => Box::new(e.included.iter().map(String::as_str)),
    }
}

/// An inventory derived by [`update`].
pub struct Update {
    pub inventory: Inventory,
    /// Units were added or removed, or their dependencies changed: the graph must be rebuilt.
    pub structure_changed: bool,
}

/// Stack of each evaluation thread.
const EVAL_STACK: usize = 32 << 20;

/// Evaluates and builds the units in `dirs`, on every core.
fn evaluate_all(
    snap: &Arc<Snapshot>,
    cache: &Arc<EvalCache>,
    config: &RepoConfig,
    dirs: &[String],
    stacks: &Stacks,
) -> Vec<Result<Unit, EvalError>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(dirs.len().max(1));
    let next = AtomicUsize::new(0);
    let mut slots: Vec<Option<Result<Unit, EvalError>>> = Vec::new();
    slots.resize_with(dirs.len(), || None);
    let parts: Vec<Vec<(usize, Result<Unit, EvalError>)>> = std::thread::scope(|s| {
        // Evaluation recurses through includes, reads and nested expressions (each bounded):
        // a generous stack, reserved but only touched as deep as a configuration goes.
        let handles: Vec<_> = (0..threads)
            .filter_map(|_| {
                std::thread::Builder::new()
                    .name("slipway-eval".into())
                    .stack_size(EVAL_STACK)
                    .spawn_scoped(s, || {
                        let ev = Evaluator::new(snap.clone(), cache.clone());
                        let mut memo = HashMap::new();
                        let mut out = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(dir) = dirs.get(i) else { break };
                            // A panic inside a dependency (hcl arithmetic, say) must cost one unit,
                            // not the thread's whole share of the repository.
                            let unit = crate::terragrunt::catch_quietly(|| {
                                ev.eval_unit(dir, None)
                                    .and_then(|e| build_unit(&ev, snap, config, dir, e, &mut memo))
                                    .map(|mut u| {
                                        stacks.attribute(&mut u);
                                        u
                                    })
                                    .map_err(|e| stacks.attribute_error(e))
                            })
                            .unwrap_or_else(|panic| {
                                let what = crate::terragrunt::panic_message(&*panic)
                                    .unwrap_or_else(|| "unknown cause".into());
                                Err(EvalError::new(
                                    &join(dir, UNIT_FILE),
                                    0,
                                    "evaluation",
                                    format!("the configuration could not be evaluated ({what})"),
                                ))
                            });
                            out.push((i, unit));
                        }
                        out
                    })
                    .ok()
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    // An evaluation thread can only stop by panicking, which is a bug; the
                    // affected units are reported below rather than lost silently.
                    Vec::new()
                })
            })
            .collect()
    });
    for part in parts {
        for (i, r) in part {
            slots[i] = Some(r);
        }
    }
    slots
        .into_iter()
        .zip(dirs)
        .map(|(r, dir)| {
            r.unwrap_or_else(|| {
                Err(EvalError::new(
                    &join(dir, UNIT_FILE),
                    0,
                    "evaluation",
                    "internal error while evaluating this unit".into(),
                ))
            })
        })
        .collect()
}

fn get<'a>(m: &'a hcl::Map<String, Value>, path: &[&str]) -> Option<&'a Value> {
    let mut cur = m.get(path[0])?;
    for k in &path[1..] {
        cur = cur.as_object()?.get(*k)?;
    }
    Some(cur)
}

/// A known string (or number) setting; an unknown one (`get_aws_account_id()` in account.hcl)
/// is not set as far as discovery knows.
fn as_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if crate::terragrunt::unknown::str_is_unknown(s) => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn build_unit(
    ev: &std::rc::Rc<Evaluator>,
    snap: &Snapshot,
    config: &RepoConfig,
    dir: &str,
    eval: UnitEval,
    module_memo: &mut HashMap<String, modules::Followed>,
) -> Result<Unit, EvalError> {
    let file = join(dir, UNIT_FILE);
    let cfg = &eval.config;
    let mut deps = eval.deps.clone();

    // terraform.source
    let source = match get(cfg, &["terraform", "source"]) {
        Some(Value::String(s)) => Some(
            modules::classify(s, |p| ev.resolve(p, dir))
                .map_err(|m| EvalError::new(&file, 0, "terraform.source", m))?,
        ),
        Some(Value::Null) | None => None,
        Some(_) => {
            return Err(EvalError::new(
                &file,
                0,
                "terraform.source",
                "must be a string".into(),
            ))
        }
    };
    let start = match &source {
        Some(Source::Local { dir: d, .. }) => {
            if !snap.is_dir(d) {
                return Err(EvalError::new(
                    &file,
                    0,
                    "terraform.source",
                    format!("module directory {d} does not exist"),
                ));
            }
            Some(d.clone())
        }
        Some(Source::Remote { .. }) => None,
        None => Some(dir.to_string()),
    };
    let modules::Followed {
        dirs: mut module_dirs,
        remote: mut remote_sources,
        missing: missing_module_dirs,
    } = match &start {
        Some(s) => module_memo
            .entry(s.clone())
            .or_insert_with(|| modules::follow(snap, s))
            .clone(),
        None => Default::default(),
    };
    module_dirs.remove(dir);
    if let Some(Source::Remote { url }) = &source {
        remote_sources.insert(url.clone());
    }

    // Var files named in extra_arguments.
    if let Some(Value::Object(extra)) = get(cfg, &["terraform", "extra_arguments"]) {
        for (name, args) in extra {
            let Some(args) = args.as_object() else {
                continue;
            };
            for (key, required) in [("required_var_files", true), ("optional_var_files", false)] {
                let Some(Value::Array(files)) = args.get(key) else {
                    continue;
                };
                for f in files {
                    let Value::String(f) = f else { continue };
                    let rel = ev.resolve(f, dir).map_err(|m| {
                        EvalError::new(&file, 0, &format!("extra_arguments \"{name}\""), m)
                    })?;
                    deps.probes.insert(rel.clone());
                    if snap.is_file(&rel) {
                        deps.read(
                            &rel,
                            ReadKind::VarFile,
                            &format!("extra_arguments \"{name}\""),
                        );
                    } else if required {
                        return Err(EvalError::new(
                            &file,
                            0,
                            &format!("extra_arguments \"{name}\""),
                            format!("required var file {rel} does not exist"),
                        ));
                    }
                }
            }
        }
    }

    // terragrunt-atlantis-config's `extra_atlantis_dependencies`: files (or directories) the
    // unit's users declared it depends on; a change to them affects the unit.
    if let Some(Value::Array(extra)) = get(cfg, &["locals", "extra_atlantis_dependencies"]) {
        for p in extra {
            let Some(p) = crate::terragrunt::unknown::known_str(p) else {
                continue;
            };
            let rel = ev
                .resolve(p, dir)
                .map_err(|m| EvalError::new(&file, 0, "locals.extra_atlantis_dependencies", m))?;
            if snap.is_dir(&rel) {
                module_dirs.insert(rel);
            } else {
                deps.probes.insert(rel.clone());
                if snap.is_file(&rel) {
                    deps.read(&rel, ReadKind::File, "extra_atlantis_dependencies");
                }
            }
        }
    }

    // Dependencies.
    let mut dependency_blocks = BTreeMap::new();
    if let Some(Value::Object(d)) = cfg.get("dependency") {
        for (name, block) in d {
            if let Some(p) = as_string(block.as_object().and_then(|b| b.get("config_path"))) {
                dependency_blocks.insert(name.clone(), p);
            }
        }
    }
    let mut dependencies: BTreeSet<String> = dependency_blocks.values().cloned().collect();
    if let Some(Value::Array(paths)) = get(cfg, &["dependencies", "paths"]) {
        for p in paths {
            if let Value::String(p) = p {
                let rel = ev
                    .resolve(p, dir)
                    .map_err(|m| EvalError::new(&file, 0, "dependencies", m))?;
                dependencies.insert(rel);
            }
        }
    }

    // Environment, account and region.
    let env = config
        .env_for_path(dir)
        .map(str::to_string)
        .or_else(|| local_from(ev, snap, dir, "env.hcl", &["environment", "env"], &mut deps));
    let account_id = env
        .as_ref()
        .and_then(|e| config.environments.get(e))
        .and_then(|e| e.account_id.clone())
        .or_else(|| {
            local_from(
                ev,
                snap,
                dir,
                "account.hcl",
                &["account_id", "aws_account_id"],
                &mut deps,
            )
        });
    let region = local_from(
        ev,
        snap,
        dir,
        "region.hcl",
        &["aws_region", "region"],
        &mut deps,
    )
    .or_else(|| as_string(get(cfg, &["inputs", "aws_region"])))
    .or_else(|| as_string(get(cfg, &["inputs", "region"])));

    let skip = matches!(cfg.get("skip"), Some(Value::Bool(true)))
        || matches!(get(cfg, &["exclude", "if"]), Some(Value::Bool(true)))
            && match get(cfg, &["exclude", "actions"]) {
                Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some("all")),
                _ => false,
            };

    Ok(Unit {
        path: dir.to_string(),
        env,
        account_id,
        region,
        source,
        dependency_blocks,
        dependencies: dependencies.into_iter().collect(),
        module_dirs,
        remote_sources,
        missing_module_dirs,
        skip,
        prevent_destroy: matches!(cfg.get("prevent_destroy"), Some(Value::Bool(true))),
        iam_role: as_string(cfg.get("iam_role")),
        stack: None,
        deps,
        eval: Some(Arc::new(eval)),
    })
}

/// A local from the nearest `name` file above `dir` (account.hcl, region.hcl, env.hcl).
fn local_from(
    ev: &std::rc::Rc<Evaluator>,
    snap: &Snapshot,
    dir: &str,
    name: &str,
    keys: &[&str],
    deps: &mut Deps,
) -> Option<String> {
    let mut d = dir.to_string();
    loop {
        let candidate = join(&d, name);
        // Watched even when absent: a nearer file appearing later changes the answer.
        deps.probes.insert(candidate.clone());
        if snap.is_file(&candidate) {
            let result = ev.read_config(&candidate, dir).ok()?;
            let locals = result.value.as_object()?.get("locals")?.as_object()?;
            let v = keys.iter().find_map(|k| as_string(locals.get(*k)))?;
            deps.read(
                &candidate,
                ReadKind::ReadConfig,
                &format!("sets the unit's {}", name.trim_end_matches(".hcl")),
            );
            return Some(v);
        }
        if d.is_empty() {
            return None;
        }
        d = parent(&d).to_string();
    }
}
