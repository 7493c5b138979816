//! Stacks: each `terragrunt.stack.hcl` expanded in memory into the units `terragrunt stack
//! generate` would write, so that they are discovered, evaluated, affected and planned like any
//! other unit, without anything written to disk.
//!
//! A stack file in directory `D` holds `locals`, `unit` and `stack` blocks. A `unit "name" {
//! source, path, values, no_dot_terragrunt_stack, no_validation }` generates the directory
//! `D/.terragrunt-stack/<path>` (`D/<path>` with `no_dot_terragrunt_stack = true`) holding a copy
//! of the source directory's files and, when `values` is set, a `terragrunt.values.hcl` whose
//! attributes the unit's configuration reads as `values.<name>`. A `stack` block generates a
//! directory the same way from a directory holding a stack file, which is then expanded in its
//! generated place: its relative paths and `find_in_parent_folders` start there, as they do for
//! Terragrunt. Local sources are relative to the stack file's directory; a remote source
//! (`git::...`) makes a unit's files unknown, and the unit is still listed.
//!
//! The generated files are laid over the repository's in the snapshot (see
//! [`crate::snapshot::Generated`]): a copy keeps the blob id of the file it copies. A generated
//! unit's reads are mapped back to the repository's files (its stack files, its template's
//! files), so a change to a stack file or a template affects exactly the units generated from
//! it. Directories used as a unit template are templates, not units of their own.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;
use std::sync::Arc;

use hcl::{Map, Value};
use serde::Serialize;

use super::context::{Deps, ReadKind};
use super::eval::{EvalCache, Evaluator, StackEval, VALUES_FILE};
use super::runtime::RunValues;
use super::{modules, unknown, EvalError};
use crate::config::{path_has_prefix, RepoConfig};
use crate::git::FileChange;
use crate::snapshot::{join, normalize, parent, Generated, Snapshot};

/// The file that declares a stack.
pub const STACK_FILE: &str = "terragrunt.stack.hcl";
/// The directory a stack generates its units in.
pub const STACK_DIR: &str = ".terragrunt-stack";
/// How deeply stacks may nest (Terragrunt's own limit when it looks for generated stack files).
const MAX_DEPTH: usize = 100;

/// Where a generated unit comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackOrigin {
    /// The `unit` block's name.
    pub name: String,
    /// The stack files that generate the unit, outermost first. A nested stack's file is named
    /// by the repository file it is copied from.
    pub stack_files: Vec<String>,
    /// The unit template: the local source directory whose files the unit is made of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// A remote source: the unit's files are not known to discovery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_source: Option<String>,
    /// A digest of what the stack generates for the unit (its files, their content, its
    /// source): a stack file change that leaves it alone does not affect the unit.
    #[serde(skip)]
    pub fingerprint: u64,
}

/// One unit a stack generates.
#[derive(Debug, Clone)]
pub struct GeneratedUnit {
    pub origin: StackOrigin,
    /// What generating it read (its stack files and what their evaluation read), as
    /// repository paths; shared by the units of one stack file.
    pub deps: Arc<Deps>,
}

/// Every stack of a snapshot, expanded.
#[derive(Debug, Clone, Default)]
pub struct Stacks {
    /// The snapshot with every generated file laid over it; `None` when nothing is generated.
    pub snapshot: Option<Arc<Snapshot>>,
    /// Generated units by directory.
    pub units: BTreeMap<String, GeneratedUnit>,
    /// Unit template directories (local sources of `unit` blocks): not units of their own.
    pub templates: BTreeSet<String>,
    /// What could not be expanded, by the directory it concerns (the stack file's, or the
    /// generated directory of the block that failed).
    pub errors: BTreeMap<String, EvalError>,
    /// Generated directory -> the repository directory its files are copied from.
    copies: HashMap<String, String>,
    /// Generated `terragrunt.values.hcl` -> the stack file whose block wrote it.
    values_files: HashMap<String, String>,
    /// The generated files, to lay over a later snapshot when nothing they came from changed.
    generated: Vec<(String, Generated)>,
    /// Files and directories the expansion read or looked for: a change there expands again.
    inputs: BTreeSet<String>,
    input_dirs: BTreeSet<String>,
}

impl Stacks {
    /// Whether `dir` holds a unit template (or a copy of one) rather than a unit.
    pub fn is_template(&self, dir: &str) -> bool {
        !self.templates.is_empty()
            && (self.templates.contains(dir)
                || self
                    .origin_of(dir)
                    .is_some_and(|o| self.templates.contains(&o)))
    }

    /// The directories of the generated units whose files are known (local sources).
    pub fn local_units(&self) -> impl Iterator<Item = &str> {
        self.units
            .iter()
            .filter(|(_, g)| g.origin.remote_source.is_none())
            .map(|(d, _)| d.as_str())
    }

    /// The repository path a generated path is a copy of (`None` for a repository path).
    pub fn origin_of(&self, path: &str) -> Option<String> {
        if self.copies.is_empty() {
            return None;
        }
        let mut dir = path;
        loop {
            if let Some(from) = self.copies.get(dir) {
                let rest = &path[dir.len()..];
                return Some(format!("{from}{rest}"));
            }
            if dir.is_empty() {
                return None;
            }
            dir = parent(dir);
        }
    }

    /// The repository paths a path read by a generated unit stands for: a copied file is its
    /// template's, a generated values file is the stack file that wrote it.
    fn real(&self, path: &str) -> String {
        if let Some(stack_file) = self.values_files.get(path) {
            return stack_file.clone();
        }
        self.origin_of(path).unwrap_or_else(|| path.to_string())
    }

    fn real_deps(&self, deps: &Deps) -> Deps {
        let mut out = Deps {
            uses_original_dir: deps.uses_original_dir,
            ..Deps::default()
        };
        for (p, (kind, via)) in &deps.reads {
            let kind = if self.values_files.contains_key(p) {
                ReadKind::Stack
            } else {
                *kind
            };
            out.read(&self.real(p), kind, via);
        }
        out.probes = deps.probes.iter().map(|p| self.real(p)).collect();
        out
    }

    /// Says where a generated unit comes from and maps what it read to the repository's files.
    pub fn attribute(&self, unit: &mut crate::units::Unit) {
        let Some(g) = self.units.get(&unit.path) else {
            return;
        };
        let mut deps = self.real_deps(&unit.deps);
        deps.merge(&g.deps, "");
        unit.deps = deps;
        let dir = unit.path.clone();
        let map = |dirs: &BTreeSet<String>| -> BTreeSet<String> {
            dirs.iter()
                .filter(|d| **d != dir)
                .map(|d| self.real(d))
                .collect()
        };
        unit.module_dirs = map(&unit.module_dirs);
        unit.missing_module_dirs = map(&unit.missing_module_dirs);
        if let Some(t) = &g.origin.template {
            unit.module_dirs.remove(t);
        }
        unit.stack = Some(g.origin.clone());
    }

    /// An error of a generated unit, naming the repository file it is in.
    pub fn attribute_error(&self, mut e: EvalError) -> EvalError {
        if let Some(o) = self.origin_of(&e.file) {
            let generated = std::mem::replace(&mut e.file, o);
            e.message = format!("{} (generated as {generated})", e.message);
        }
        e
    }

    /// The units with a remote source: listed with what generating them read, their files
    /// unknown.
    pub fn remote_units<'a>(
        &'a self,
        config: &'a RepoConfig,
    ) -> impl Iterator<Item = crate::units::Unit> + 'a {
        self.units.iter().filter_map(move |(dir, g)| {
            let url = g.origin.remote_source.as_ref()?;
            let env = config.env_for_path(dir).map(str::to_string);
            let account_id = env
                .as_ref()
                .and_then(|e| config.environments.get(e))
                .and_then(|e| e.account_id.clone());
            Some(crate::units::Unit {
                path: dir.clone(),
                env,
                account_id,
                region: None,
                source: None,
                dependency_blocks: BTreeMap::new(),
                dependencies: Vec::new(),
                module_dirs: BTreeSet::new(),
                remote_sources: BTreeSet::from([url.clone()]),
                missing_module_dirs: BTreeSet::new(),
                skip: false,
                prevent_destroy: false,
                iam_role: None,
                deps: (*g.deps).clone(),
                eval: None,
                stack: Some(g.origin.clone()),
            })
        })
    }
}

/// A stack file to expand: where it is in the snapshot being expanded, and where it comes from.
struct Pending {
    /// Path of the stack file (generated for a nested stack).
    file: String,
    /// The repository stack files it comes from, outermost first.
    chain: Vec<String>,
    /// What the outer stacks' evaluation read.
    deps: Deps,
}

/// One `unit` or `stack` block's settings.
struct Block {
    name: String,
    /// `unit "name"` or `stack "name"`.
    key: String,
    source: String,
    path: String,
    no_dot: bool,
    no_validation: bool,
    values: Option<Map<String, Value>>,
}

/// Expands every stack file of `snap` under the live directory.
pub fn expand(snap: &Arc<Snapshot>, config: &RepoConfig, cache: &Arc<EvalCache>) -> Stacks {
    expand_with(snap, config, cache, None)
}

/// Expands the stacks again for a run, with what the run knows (`get_aws_account_id()` in a
/// stack's values is then real): `snap` is the repository's own files, nothing generated.
pub fn expand_for_run(snap: &Arc<Snapshot>, config: &RepoConfig, run: Arc<RunValues>) -> Stacks {
    expand_with(snap, config, &Arc::new(EvalCache::default()), Some(run))
}

fn expand_with(
    snap: &Arc<Snapshot>,
    config: &RepoConfig,
    cache: &Arc<EvalCache>,
    run: Option<Arc<RunValues>>,
) -> Stacks {
    let live = config
        .live_dir
        .as_deref()
        .unwrap_or_default()
        .trim_matches('/');
    let mut top: Vec<String> = snap
        .paths()
        .filter(|p| {
            (*p == STACK_FILE || p.ends_with("/terragrunt.stack.hcl"))
                && path_has_prefix(p, live)
                && !p.split('/').any(|c| c.starts_with('.'))
        })
        .map(str::to_string)
        .collect();
    top.sort();
    loop {
        if top.is_empty() {
            return Stacks::default();
        }
        let (stacks, stack_templates) = expand_from(snap, cache, run.as_ref(), &top);
        // A stack file that is another stack's template is expanded only where that stack
        // generates it, not as a stack of its own.
        let before = top.len();
        top.retain(|f| !stack_templates.contains(parent(f)));
        if top.len() == before {
            return stacks;
        }
    }
}

/// Expands the stack files `top`, and the stacks they nest; also returns the directories used
/// as stack templates.
fn expand_from(
    snap: &Arc<Snapshot>,
    cache: &Arc<EvalCache>,
    run: Option<&Arc<RunValues>>,
    top: &[String],
) -> (Stacks, BTreeSet<String>) {
    let mut out = Stacks::default();
    let mut stack_templates = BTreeSet::new();
    let mut pending: Vec<Pending> = top
        .iter()
        .map(|f| Pending {
            chain: vec![f.clone()],
            file: f.clone(),
            deps: Deps::default(),
        })
        .collect();
    let mut round = snap.clone();
    for depth in 0..=MAX_DEPTH {
        if pending.is_empty() {
            break;
        }
        let ev = match run {
            Some(run) => Evaluator::for_run(round.clone(), cache.clone(), run.clone()),
            None => Evaluator::new(round.clone(), cache.clone()),
        };
        let mut listed: HashMap<String, Arc<[String]>> = HashMap::new();
        let mut next = Vec::new();
        let mut files: Vec<(String, Generated)> = Vec::new();
        for p in pending {
            let dir = parent(&p.file).to_string();
            let result = if depth == MAX_DEPTH {
                let shown = p.chain.last().map_or(p.file.as_str(), String::as_str);
                Err(EvalError::new(
                    shown,
                    0,
                    "stack",
                    format!("stacks nest more than {MAX_DEPTH} levels deep"),
                ))
            } else {
                let mut ctx = Round {
                    ev: &ev,
                    snap: &round,
                    cache,
                    listed: &mut listed,
                };
                expand_one(&mut ctx, &p, &mut out, &mut next, &mut files)
            };
            if let Err(e) = result {
                out.errors.entry(dir).or_insert(e);
            }
        }
        for s in &next {
            if let Some(origin) = s.chain.last() {
                stack_templates.insert(parent(origin).to_string());
            }
        }
        if !files.is_empty() {
            round = Arc::new(round.with_generated(files.clone()));
            out.generated.extend(files);
        }
        pending = next;
    }
    out.inputs
        .extend(stack_templates.iter().map(|d| join(d, STACK_FILE)));
    out.input_dirs.extend(stack_templates.iter().cloned());
    if !out.generated.is_empty() {
        out.snapshot = Some(round);
    }
    (out, stack_templates)
}

/// What one round of expansion (one level of nesting) works with.
struct Round<'a> {
    ev: &'a Rc<Evaluator>,
    snap: &'a Snapshot,
    cache: &'a EvalCache,
    /// The files under each source directory, listed once: many blocks share a template.
    listed: &'a mut HashMap<String, Arc<[String]>>,
}

/// Expands one stack file: its units are recorded, its files generated, its nested stacks
/// queued. An error concerns the whole stack file; an error of one block fails that block's
/// directory only.
fn expand_one(
    rc: &mut Round<'_>,
    p: &Pending,
    out: &mut Stacks,
    next: &mut Vec<Pending>,
    new_files: &mut Vec<(String, Generated)>,
) -> Result<(), EvalError> {
    let (ev, round) = (rc.ev, rc.snap);
    let dir = parent(&p.file).to_string();
    // The stack file as its author wrote it, for messages.
    let shown = p.chain.last().cloned().unwrap_or_else(|| p.file.clone());
    let named = |out: &Stacks, mut e: EvalError| {
        if e.file == p.file {
            e.file = shown.clone();
        } else if let Some(o) = out.origin_of(&e.file) {
            e.file = o;
        }
        e
    };
    out.inputs.extend(p.chain.iter().cloned());
    out.inputs.insert(out.real(&join(&dir, VALUES_FILE)));
    let se: StackEval = ev.eval_stack(&p.file).map_err(|e| named(out, e))?;
    let mut deps = p.deps.clone();
    let stack_deps = out.real_deps(&se.deps);
    out.inputs.extend(stack_deps.reads.keys().cloned());
    out.inputs.extend(stack_deps.probes.iter().cloned());
    deps.merge(&stack_deps, &shown);
    for f in &p.chain {
        deps.read(f, ReadKind::Stack, "generates the unit");
    }
    let shared_deps = Arc::new(deps.clone());

    for (kind, blocks) in [("unit", &se.units), ("stack", &se.stacks)] {
        for (name, attrs) in blocks {
            let block = match read_block(ev, &p.file, kind, name, attrs) {
                Ok(b) => b,
                Err(e) => {
                    let e = named(out, e);
                    out.errors.entry(dir.clone()).or_insert(e);
                    continue;
                }
            };
            let dest = match generated_dir(&dir, &block) {
                Ok(d) => d,
                Err(m) => {
                    let line = ev.line_of(&p.file, &block.key, "path");
                    out.errors
                        .entry(dir.clone())
                        .or_insert(EvalError::new(&shown, line, &block.key, m));
                    continue;
                }
            };
            let fail = |attr: &str, m: String| {
                EvalError::new(&shown, ev.line_of(&p.file, &block.key, attr), &block.key, m)
            };
            if out.units.contains_key(&dest) || out.copies.contains_key(&dest) {
                out.errors.entry(dest.clone()).or_insert(fail(
                    "path",
                    format!("{dest} is generated by another block as well"),
                ));
                continue;
            }
            // Local: a directory of the repository (or of a stack generated around this one).
            let local = ev
                .resolve(
                    block
                        .source
                        .strip_prefix("file://")
                        .unwrap_or(&block.source),
                    &dir,
                )
                .ok();
            if let Some(r) = &local {
                // A directory appearing there turns a remote-looking source local.
                out.input_dirs.insert(out.real(r));
            }
            let source_dir = local.filter(|d| round.is_dir(d));
            let mut origin = StackOrigin {
                name: block.name.clone(),
                stack_files: p.chain.clone(),
                template: None,
                remote_source: None,
                fingerprint: 0,
            };
            let first_file = new_files.len();
            let own_file = if kind == "unit" {
                crate::units::UNIT_FILE
            } else {
                STACK_FILE
            };
            let has_own_file = source_dir
                .as_ref()
                .is_some_and(|src| round.is_file(&join(src, own_file)));
            match &source_dir {
                Some(src) => {
                    let expected = own_file;
                    if !block.no_dot && !block.no_validation && !has_own_file {
                        let e = fail(
                            "source",
                            format!(
                                "{} holds no {expected}: a {kind} source must \
                                 (set no_validation = true if it is generated otherwise)",
                                out.real(src)
                            ),
                        );
                        out.errors.entry(dest.clone()).or_insert(e);
                        continue;
                    }
                    let real_src = out.real(src);
                    out.input_dirs.insert(real_src.clone());
                    let listed = rc
                        .listed
                        .entry(src.clone())
                        .or_insert_with(|| source_files(round, src))
                        .clone();
                    copy_dir(src, &listed, &dest, new_files);
                    out.copies.insert(dest.clone(), real_src.clone());
                    if kind == "unit" {
                        out.templates.insert(real_src.clone());
                    }
                    origin.template = Some(real_src);
                }
                None if modules::is_remote(&block.source) => {
                    if kind == "stack" {
                        out.errors.entry(dest.clone()).or_insert(fail(
                            "source",
                            format!(
                                "the stack's source {} is remote: the units it would generate \
                                 are not known to Slipway (vendor the stack into the repository)",
                                block.source
                            ),
                        ));
                        continue;
                    }
                    origin.remote_source = Some(block.source.clone());
                }
                None => {
                    out.errors.entry(dest.clone()).or_insert(fail(
                        "source",
                        format!("source directory {} does not exist", block.source),
                    ));
                    continue;
                }
            }
            if let Some(values) = &block.values {
                match render_values(values, &shown) {
                    Ok(text) => {
                        let file = join(&dest, VALUES_FILE);
                        let generated = Generated::text(text.into_bytes().into());
                        // Literal: what it evaluates to is known without parsing it per unit.
                        if let Generated::Text(oid, _) = &generated {
                            rc.cache
                                .remember_values(*oid, Value::Object(values.clone()));
                        }
                        out.values_files.insert(file.clone(), shown.clone());
                        new_files.push((file, generated));
                    }
                    Err(m) => {
                        out.errors.entry(dest.clone()).or_insert(fail("values", m));
                        continue;
                    }
                }
            }
            if source_dir.is_some() && !has_own_file {
                // Generated files without a terragrunt.hcl (or stack file), as `no_validation`
                // allows: no unit (or stack), as for Terragrunt.
                continue;
            }
            if kind == "unit" {
                origin.fingerprint = fingerprint(round, &dest, &origin, &new_files[first_file..]);
                out.units.insert(
                    dest,
                    GeneratedUnit {
                        origin,
                        deps: shared_deps.clone(),
                    },
                );
            } else {
                let Some(template) = origin.template else {
                    continue;
                };
                if p.chain.iter().any(|f| parent(f) == template) {
                    out.errors.entry(dest.clone()).or_insert(fail(
                        "source",
                        format!("the stack generates itself through {template}: a cycle"),
                    ));
                    continue;
                }
                let mut chain = p.chain.clone();
                chain.push(join(&template, STACK_FILE));
                next.push(Pending {
                    file: join(&dest, STACK_FILE),
                    chain,
                    deps: deps.clone(),
                });
            }
        }
    }
    Ok(())
}

/// A `unit` or `stack` block's settings; what decides which units exist must be known.
fn read_block(
    ev: &Evaluator,
    file: &str,
    kind: &str,
    name: &str,
    attrs: &Value,
) -> Result<Block, EvalError> {
    let key = format!("{kind} \"{name}\"");
    let err = |attr: &str, m: String| EvalError::new(file, ev.line_of(file, &key, attr), &key, m);
    let attrs = attrs
        .as_object()
        .ok_or_else(|| err("", "is not a block".into()))?;
    for k in attrs.keys() {
        match k.as_str() {
            "source" | "path" | "values" | "no_dot_terragrunt_stack" | "no_validation" => {}
            // Settings of how Terragrunt fetches a source: no effect on what is generated.
            "update_source_with_cas" | "mutable" => {}
            "autoinclude" => {
                return Err(err(
                    k,
                    "`autoinclude` is not read by Slipway yet: the unit would miss what it adds"
                        .into(),
                ))
            }
            other => {
                return Err(err(
                    other,
                    format!("unknown attribute `{other}` in a {kind} block"),
                ))
            }
        }
    }
    for attr in ["source", "path", "no_dot_terragrunt_stack", "no_validation"] {
        if let Some(why) = attrs.get(attr).and_then(unknown::reason) {
            return Err(err(
                attr,
                format!(
                    "`{attr}` must be known during discovery, but it depends on {why}: \
                     Slipway finds units without credentials, environment or commands \
                     (move the value into a file of the repository)"
                ),
            ));
        }
    }
    let string = |attr: &str| match attrs.get(attr) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(err(attr, format!("`{attr}` must be a string"))),
        None => Err(err("", format!("needs a `{attr}`"))),
    };
    let flag = |attr: &str| match attrs.get(attr) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(err(attr, format!("`{attr}` must be true or false"))),
    };
    let values = match attrs.get("values") {
        None | Some(Value::Null) => None,
        Some(Value::Object(o)) => Some(o.clone()),
        Some(_) => return Err(err("values", "`values` must be an object".into())),
    };
    Ok(Block {
        name: name.to_string(),
        key: key.clone(),
        source: string("source")?,
        path: string("path")?,
        no_dot: flag("no_dot_terragrunt_stack")?,
        no_validation: flag("no_validation")?,
        values,
    })
}

/// Where a block generates its directory: under `.terragrunt-stack/` of the stack file's
/// directory, or beside the stack file with `no_dot_terragrunt_stack`; never outside.
fn generated_dir(stack_dir: &str, block: &Block) -> Result<String, String> {
    let path = block.path.trim();
    if path.starts_with('/') {
        return Err(format!("path {path} must be relative"));
    }
    let base = if block.no_dot {
        stack_dir.to_string()
    } else {
        join(stack_dir, STACK_DIR)
    };
    let dest = normalize(&join(&base, path))
        .filter(|d| path_has_prefix(d, &base))
        .ok_or_else(|| format!("path {path} leaves the stack's directory"))?;
    if dest == stack_dir {
        return Err(format!("path {path} is the stack's own directory"));
    }
    Ok(dest)
}

/// The files of a source directory that a copy takes, relative to it, sorted.
fn source_files(round: &Snapshot, src: &str) -> Arc<[String]> {
    let prefix = if src.is_empty() {
        String::new()
    } else {
        format!("{src}/")
    };
    let mut files: Vec<String> = round
        .files_under(src)
        .map(|path| path.strip_prefix(prefix.as_str()).unwrap_or(path))
        // A template's own generated stacks and caches are not part of it.
        .filter(|rel| {
            !rel.split('/')
                .any(|c| c == STACK_DIR || c == ".terragrunt-cache" || c == ".terraform")
        })
        .map(str::to_string)
        .collect();
    files.sort_unstable();
    files.into()
}

/// Lays a copy of the files of `src` over `dest`, as Terragrunt copies a local source.
fn copy_dir(src: &str, files: &[String], dest: &str, out: &mut Vec<(String, Generated)>) {
    for rel in files {
        out.push((join(dest, rel), Generated::Copy(join(src, rel))));
    }
}

/// A digest of a generated unit: its source and each generated file's path and content id.
fn fingerprint(
    round: &Snapshot,
    dest: &str,
    origin: &StackOrigin,
    files: &[(String, Generated)],
) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    origin.template.hash(&mut h);
    origin.remote_source.hash(&mut h);
    let mut ids: Vec<(&str, Option<git2::Oid>)> = files
        .iter()
        .map(|(path, g)| {
            let rel = path.strip_prefix(dest).unwrap_or(path);
            let id = match g {
                Generated::Copy(of) => round.blob_id(of),
                Generated::Text(oid, _) => Some(*oid),
            };
            (rel, id)
        })
        .collect();
    ids.sort_unstable();
    for (rel, id) in ids {
        rel.hash(&mut h);
        id.map(|o| o.as_bytes().to_vec()).hash(&mut h);
    }
    h.finish()
}

/// The `terragrunt.values.hcl` a block's `values` become: one attribute per value.
fn render_values(values: &Map<String, Value>, stack_file: &str) -> Result<String, String> {
    let mut body = hcl::Body::builder();
    for (k, v) in values {
        let ident = hcl::Identifier::sanitized(k.as_str());
        if ident.as_str() != k {
            return Err(format!("values key \"{k}\" is not a valid name"));
        }
        body = body.add_attribute(hcl::Attribute::new(ident, hcl::Expression::from(v.clone())));
    }
    let text = hcl::to_string(&body.build()).map_err(|e| e.to_string())?;
    Ok(format!(
        "# Generated by Slipway from {stack_file}, as `terragrunt stack generate` would.\n{text}"
    ))
}

/// The stacks of a later snapshot: expanded again when a change touches what the previous
/// expansion read (or adds a stack or values file), otherwise the previous generated files laid
/// over the new snapshot.
pub fn update(
    prev: &Arc<Stacks>,
    snap: &Arc<Snapshot>,
    config: &RepoConfig,
    cache: &Arc<EvalCache>,
    changes: &[FileChange],
) -> Arc<Stacks> {
    let touched = changes.iter().any(|c| {
        let name = c.path.rsplit('/').next().unwrap_or_default();
        name == STACK_FILE
            || name == VALUES_FILE
            || prev.inputs.contains(&c.path)
            || prev.input_dirs.iter().any(|d| path_has_prefix(&c.path, d))
    });
    if touched {
        return Arc::new(expand(snap, config, cache));
    }
    if prev.generated.is_empty() {
        return prev.clone();
    }
    let mut next = (**prev).clone();
    next.snapshot = Some(Arc::new(snap.with_generated(prev.generated.clone())));
    Arc::new(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(path: &str, no_dot: bool) -> Block {
        Block {
            name: "x".into(),
            key: "unit \"x\"".into(),
            source: ".".into(),
            path: path.into(),
            no_dot,
            no_validation: false,
            values: None,
        }
    }

    #[test]
    fn generated_directories_stay_inside_the_stack() {
        assert_eq!(
            generated_dir("live/dev", &block("vpc", false)).as_deref(),
            Ok("live/dev/.terragrunt-stack/vpc")
        );
        assert_eq!(
            generated_dir("live/dev", &block("net/vpc", true)).as_deref(),
            Ok("live/dev/net/vpc")
        );
        assert_eq!(
            generated_dir("live/dev", &block("a/../b", false)).as_deref(),
            Ok("live/dev/.terragrunt-stack/b")
        );
        assert!(generated_dir("live/dev", &block("../vpc", false)).is_err());
        assert!(generated_dir("live/dev", &block("../../x", true)).is_err());
        assert!(generated_dir("live/dev", &block("/abs", false)).is_err());
        assert!(generated_dir("live/dev", &block(".", true)).is_err());
    }

    #[test]
    fn rendered_values_read_back_as_the_same_values() {
        let mut values = Map::new();
        values.insert(
            "name".into(),
            Value::from("a \"quoted\" ${not} %{a} template\n"),
        );
        values.insert("count".into(), Value::from(3));
        values.insert("ratio".into(), Value::from(0.5));
        values.insert("on".into(), Value::Bool(true));
        values.insert("none".into(), Value::Null);
        values.insert(
            "nested".into(),
            Value::Object(Map::from_iter([
                ("with-dash".to_string(), Value::from(vec!["x", "y"])),
                (
                    "unknown".to_string(),
                    unknown::value("get_aws_account_id()"),
                ),
            ])),
        );
        let text = render_values(&values, "live/terragrunt.stack.hcl").expect("rendered");
        let body: hcl::Body = hcl::parse(&text).expect("parses");
        let ctx = hcl::eval::Context::new();
        let mut back = Map::new();
        for attr in body.attributes() {
            use hcl::eval::Evaluate;
            back.insert(
                attr.key().to_string(),
                attr.expr().evaluate(&ctx).expect("literal"),
            );
        }
        assert_eq!(back, values, "{text}");
        assert!(render_values(
            &Map::from_iter([("not a name".to_string(), Value::Null)]),
            "f"
        )
        .is_err());
    }
}
