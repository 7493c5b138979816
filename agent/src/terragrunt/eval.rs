//! Evaluation of Terragrunt configuration files: includes, locals, dependencies, and every
//! other block, in Terragrunt's order, into one merged value per unit.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use git2::Oid;
use hcl::eval::{Context, Evaluate};
use hcl::{Body, Expression, Map, Value};

use super::context::{self, Deps, Frame, ReadKind};
use super::funcs;
use super::parse::{block_key, Parsed, SyntaxError};
use super::runtime::RunValues;
use super::{budget, unknown, EvalError};
use crate::snapshot::{normalize, parent, Snapshot};

mod aware;

/// Parses and evaluations shared across units, threads and revisions. Parses are keyed by git
/// blob id; a `read_terragrunt_config` result is reused while every file it looked at is
/// unchanged.
#[derive(Default)]
pub struct EvalCache {
    parsed: Mutex<HashMap<Oid, Arc<Result<Parsed, SyntaxError>>>>,
    read_configs: Mutex<HashMap<String, Arc<ReadResult>>>,
    /// Values files whose content is literal (stack expansion writes them so), by blob id:
    /// what evaluating them gives, without parsing them once per unit.
    values: Mutex<HashMap<Oid, Value>>,
}

impl EvalCache {
    /// Records what the literal values file with blob id `oid` evaluates to.
    pub fn remember_values(&self, oid: Oid, values: Value) {
        self.values
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(oid, values);
    }
}

/// What `read_terragrunt_config` of one file returned, and what it depended on.
pub struct ReadResult {
    pub value: Value,
    pub deps: Deps,
    /// The unit directory `get_original_terragrunt_dir()` gave, when the file called it.
    original_dir: Option<String>,
    /// The value holds a value unknown during discovery.
    pub has_unknown: bool,
    key: Vec<(String, Option<Oid>)>,
}

/// How an included file is merged into the including one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeStrategy {
    NoMerge,
    Shallow,
    Deep,
}

/// One `include` block, resolved.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Include {
    pub label: Option<String>,
    /// Repo-relative path of the included file.
    pub path: String,
    pub expose: bool,
    pub merge_strategy: MergeStrategy,
}

/// A unit's configuration after includes were merged.
#[derive(Debug, Clone)]
pub struct UnitEval {
    /// The merged configuration, shaped as `read_terragrunt_config` returns it.
    pub config: Map<String, Value>,
    pub includes: Vec<Include>,
    pub deps: Deps,
    /// Attributes that need dependency outputs that are not known yet (no mock outputs).
    pub deferred: Vec<String>,
    /// Why some value of the configuration is unknown during discovery (`run_cmd("whoami")`),
    /// when one is: a run evaluates the unit again with what it knows.
    pub unknown: Option<String>,
}

/// A stack file's `unit` and `stack` blocks, evaluated: each block's attributes by label.
#[derive(Debug, Clone)]
pub struct StackEval {
    pub units: Map<String, Value>,
    pub stacks: Map<String, Value>,
    /// What the stack file's evaluation read (read configurations, probed paths).
    pub deps: Deps,
}

/// The file a stack writes `values` into, in each unit and stack it generates.
pub const VALUES_FILE: &str = "terragrunt.values.hcl";

/// Evaluates configuration files of one snapshot. One per thread; cheap to make.
pub struct Evaluator {
    snap: Arc<Snapshot>,
    root_abs: String,
    cache: Arc<EvalCache>,
    /// Read results already checked against this evaluator's snapshot: thousands of units
    /// read the same few account, region and env files.
    checked: RefCell<HashMap<String, Arc<ReadResult>>>,
    /// What a run knows; `None` during discovery.
    run: Option<Arc<RunValues>>,
    /// Whether the snapshot holds any `terragrunt.values.hcl`: most repositories have none, and
    /// then no unit looks for one.
    has_values_files: std::cell::OnceCell<bool>,
}

const KNOWN_BLOCKS: &[&str] = &[
    "include",
    "locals",
    "dependency",
    "dependencies",
    "terraform",
    "remote_state",
    "generate",
    "exclude",
    "errors",
    "feature",
    "engine",
    "catalog",
];

/// What a stack file holds.
const STACK_BLOCKS: &[&str] = &["locals", "unit", "stack"];

const KNOWN_ATTRIBUTES: &[&str] = &[
    "inputs",
    "remote_state",
    "iam_role",
    "iam_assume_role_duration",
    "iam_assume_role_session_name",
    "iam_web_identity_token",
    "prevent_destroy",
    "skip",
    "download_dir",
    "terraform_binary",
    "terraform_version_constraint",
    "terragrunt_version_constraint",
    "retryable_errors",
    "retry_max_attempts",
    "retry_sleep_interval_sec",
    "generate",
];

enum Role<'a> {
    Unit,
    Included {
        dir: &'a str,
    },
    /// Read by `read_terragrunt_config` while evaluating the unit in `original_dir`.
    Read {
        original_dir: String,
    },
    /// A stack file (`terragrunt.stack.hcl`): locals, `unit` and `stack` blocks.
    Stack,
    /// A `terragrunt.values.hcl`: attributes only.
    Values,
}

impl Role<'_> {
    /// What `get_original_terragrunt_dir()` gives in a file evaluated for the unit in `tg_dir`.
    fn original_dir(&self, tg_dir: &str) -> String {
        match self {
            Role::Read { original_dir } => original_dir.clone(),
            _ => tg_dir.to_string(),
        }
    }
}

struct FileEval {
    value: Map<String, Value>,
    includes: Vec<(Include, Map<String, Value>)>,
    deferred: Vec<String>,
}

impl Evaluator {
    pub fn new(snap: Arc<Snapshot>, cache: Arc<EvalCache>) -> Rc<Self> {
        let root_abs = snap
            .root()
            .to_string_lossy()
            .trim_end_matches('/')
            .to_string();
        Rc::new(Evaluator {
            snap,
            root_abs,
            cache,
            checked: RefCell::new(HashMap::new()),
            run: None,
            has_values_files: std::cell::OnceCell::new(),
        })
    }

    /// An evaluator for a run: the functions that need the outside world give `run`'s values
    /// instead of unknowns.
    pub fn for_run(snap: Arc<Snapshot>, cache: Arc<EvalCache>, run: Arc<RunValues>) -> Rc<Self> {
        let mut ev = Evaluator::new(snap, cache);
        if let Some(e) = Rc::get_mut(&mut ev) {
            e.run = Some(run);
        }
        ev
    }

    /// The run's values, `None` during discovery.
    pub fn run_values(&self) -> Option<&RunValues> {
        self.run.as_deref()
    }

    pub fn snapshot(&self) -> &Snapshot {
        &self.snap
    }

    /// Absolute form of a repo-relative path.
    pub fn abs(&self, rel: &str) -> String {
        if rel.is_empty() {
            self.root_abs.clone()
        } else {
            format!("{}/{rel}", self.root_abs)
        }
    }

    /// Resolves a path (absolute inside the repository, `file://...`, or relative to `base`) to
    /// a repo-relative one; anything outside the repository is refused.
    pub fn resolve(&self, path: &str, base: &str) -> Result<String, String> {
        let path = path.strip_prefix("file://").unwrap_or(path);
        let joined = if let Some(rest) = path.strip_prefix(&self.root_abs) {
            if !(rest.is_empty() || rest.starts_with('/')) {
                return Err(format!("{path} is outside the repository"));
            }
            rest.trim_start_matches('/').to_string()
        } else if path.starts_with('/') {
            return Err(format!("{path} is outside the repository"));
        } else {
            crate::snapshot::join(base, path)
        };
        normalize(&joined).ok_or_else(|| format!("{path} escapes the repository"))
    }

    /// Parses a file; `shared` files (included or read by others) are kept in the cache by
    /// blob id. A unit's own file is parsed once per evaluation and not kept: units are cached
    /// whole, and keeping every unit's syntax tree would cost more memory than it saves time.
    fn parse(
        &self,
        file: &str,
        shared: bool,
    ) -> Result<Arc<Result<Parsed, SyntaxError>>, EvalError> {
        let oid = self.snap.blob_id(file).ok_or_else(|| {
            EvalError::new(file, 0, "file", "no such file in this revision".to_string())
        })?;
        if shared {
            if let Some(p) = self.lock_parsed().get(&oid) {
                return Ok(p.clone());
            }
        }
        let text = self
            .snap
            .read_text(file)
            .map_err(|e| EvalError::new(file, 0, "file", e.to_string()))?;
        let parsed = Arc::new(Parsed::parse(&text));
        if shared {
            self.lock_parsed().insert(oid, parsed.clone());
        }
        Ok(parsed)
    }

    fn lock_parsed(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<Oid, Arc<Result<Parsed, SyntaxError>>>> {
        self.cache.parsed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Evaluates the unit whose `terragrunt.hcl` is in `dir`. `outputs` supplies dependency
    /// outputs by dependency name (at run time); without them mock outputs are used.
    pub fn eval_unit(
        self: &Rc<Self>,
        dir: &str,
        outputs: Option<&BTreeMap<String, Value>>,
    ) -> Result<UnitEval, EvalError> {
        let file = crate::snapshot::join(dir, "terragrunt.hcl");
        struct Account(u64);
        impl Drop for Account {
            fn drop(&mut self) {
                budget::restore(self.0);
            }
        }
        let _account = Account(budget::start());
        let deps = Rc::new(RefCell::new(Deps::default()));
        let fe = self
            .eval_file(&file, dir, Role::Unit, deps.clone(), outputs)
            .map_err(|mut e| {
                e.included = deps
                    .borrow()
                    .reads
                    .iter()
                    .filter(|(_, (kind, _))| *kind == ReadKind::Include)
                    .map(|(path, _)| path.clone())
                    .collect();
                e
            })?;
        let merged = merged_config(&fe);
        let includes = fe.includes.iter().map(|(i, _)| i.clone()).collect();
        let deps = deps.borrow().clone();
        let unknown = merged
            .iter()
            .filter(|(k, _)| k.as_str() != "locals")
            .find_map(|(_, v)| unknown::reason(v));
        Ok(UnitEval {
            config: merged,
            includes,
            deps,
            deferred: fe.deferred,
            unknown,
        })
    }

    /// `read_terragrunt_config`: evaluates `file` in its own directory for the unit in
    /// `original_dir`; cached while every file it looked at is unchanged. A result that used
    /// `get_original_terragrunt_dir()` is kept per unit directory.
    pub fn read_config(
        self: &Rc<Self>,
        file: &str,
        original_dir: &str,
    ) -> Result<Arc<ReadResult>, String> {
        let per_unit = format!("{file}\n{original_dir}");
        let lookup = |map: &HashMap<String, Arc<ReadResult>>| {
            let hit = map.get(file)?;
            match &hit.original_dir {
                None => Some(hit.clone()),
                Some(d) if d == original_dir => Some(hit.clone()),
                Some(_) => map.get(&per_unit).cloned(),
            }
        };
        if let Some(hit) = lookup(&self.checked.borrow()) {
            return Ok(hit);
        }
        let cached = lookup(
            &self
                .cache
                .read_configs
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        let result = match cached {
            Some(hit) if hit.key.iter().all(|(p, oid)| self.snap.blob_id(p) == *oid) => hit,
            _ => {
                let result = self.read_config_uncached(file, original_dir)?;
                let mut shared = self
                    .cache
                    .read_configs
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                if result.original_dir.is_some() {
                    shared.insert(per_unit.clone(), result.clone());
                }
                shared.insert(file.to_string(), result.clone());
                result
            }
        };
        let mut checked = self.checked.borrow_mut();
        if result.original_dir.is_some() {
            checked.insert(per_unit, result.clone());
        }
        checked.insert(file.to_string(), result.clone());
        Ok(result)
    }

    fn read_config_uncached(
        self: &Rc<Self>,
        file: &str,
        original_dir: &str,
    ) -> Result<Arc<ReadResult>, String> {
        let deps = Rc::new(RefCell::new(Deps::default()));
        let name = file.rsplit('/').next().unwrap_or(file);
        // A stack file reads as its locals and blocks, a values file as its values, as
        // Terragrunt reads them.
        let role = match name {
            super::stack::STACK_FILE => Role::Stack,
            VALUES_FILE => Role::Values,
            _ => Role::Read {
                original_dir: original_dir.to_string(),
            },
        };
        let stack = matches!(role, Role::Stack);
        let mut fe = self
            .eval_file(file, parent(file), role, deps.clone(), None)
            .map_err(|e| e.to_string())?;
        if stack {
            stack_shape(&mut fe.value);
        } else if name == VALUES_FILE {
            fe.value.shift_remove("locals");
        }
        let deps = deps.borrow().clone();
        let mut key: Vec<(String, Option<Oid>)> = vec![(file.to_string(), self.snap.blob_id(file))];
        for p in deps.reads.keys().chain(deps.probes.iter()) {
            key.push((p.clone(), self.snap.blob_id(p)));
        }
        let value = Value::Object(merged_config(&fe));
        Ok(Arc::new(ReadResult {
            has_unknown: unknown::contains(&value),
            value,
            original_dir: deps.uses_original_dir.then(|| original_dir.to_string()),
            deps,
            key,
        }))
    }

    /// Evaluates a stack file (`terragrunt.stack.hcl`) in its directory: its locals, then its
    /// `unit` and `stack` blocks' attributes, by label.
    pub fn eval_stack(self: &Rc<Self>, file: &str) -> Result<StackEval, EvalError> {
        let deps = Rc::new(RefCell::new(Deps::default()));
        let mut fe = self.eval_file(file, parent(file), Role::Stack, deps.clone(), None)?;
        // Terragrunt refuses two blocks of one kind and name; a map would keep the last.
        if let Ok(parsed) = self.parse(file, true) {
            if let Ok(p) = &*parsed {
                let mut seen = std::collections::HashSet::new();
                for b in p.body.blocks() {
                    if !matches!(b.identifier(), "unit" | "stack") {
                        continue;
                    }
                    let fresh = match b.labels() {
                        [label] => seen.insert((b.identifier(), label.as_str())),
                        _ => {
                            let key = block_key(b.identifier(), labels(b));
                            return Err(EvalError::new(
                                file,
                                p.line(&key),
                                b.identifier(),
                                "needs one name label".into(),
                            ));
                        }
                    };
                    if !fresh {
                        let key = block_key(b.identifier(), labels(b));
                        return Err(EvalError::new(
                            file,
                            p.line(&key),
                            &key,
                            format!("a second {key} block in the same file"),
                        ));
                    }
                }
            }
        }
        let mut take = |kind: &str| match fe.value.shift_remove(kind) {
            Some(Value::Object(blocks)) => blocks,
            _ => Map::new(),
        };
        let (units, stacks) = (take("unit"), take("stack"));
        let deps = deps.borrow().clone();
        Ok(StackEval {
            units,
            stacks,
            deps,
        })
    }

    /// The line of `attr` in block `key` (`unit "vpc"`) of a configuration file, or of the
    /// block when `attr` is empty; 0 when unknown.
    pub fn line_of(&self, file: &str, key: &str, attr: &str) -> usize {
        match self.parse(file, true).as_deref() {
            Ok(Ok(p)) if attr.is_empty() => p.line(key),
            Ok(Ok(p)) => p.attr_line(key, attr),
            _ => 0,
        }
    }

    /// The `values` of the configuration evaluated for `dir`: its `terragrunt.values.hcl`'s
    /// attributes, which a stack writes into each unit it generates.
    fn values_of(
        self: &Rc<Self>,
        dir: &str,
        deps: &Rc<RefCell<Deps>>,
    ) -> Result<Option<Value>, EvalError> {
        if !*self.has_values_files.get_or_init(|| {
            self.snap
                .paths()
                .any(|p| p.rsplit('/').next() == Some(VALUES_FILE))
        }) {
            return Ok(None);
        }
        let file = crate::snapshot::join(dir, VALUES_FILE);
        if !self.snap.is_file(&file) {
            return Ok(None);
        }
        deps.borrow_mut().read(&file, ReadKind::Stack, "values");
        if let Some(oid) = self.snap.blob_id(&file) {
            let known = self.cache.values.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(v) = known.get(&oid) {
                return Ok(Some(v.clone()));
            }
        }
        let mut fe = self.eval_file(&file, dir, Role::Values, deps.clone(), None)?;
        fe.value.shift_remove("locals");
        Ok(Some(Value::Object(fe.value)))
    }

    fn eval_file(
        self: &Rc<Self>,
        file: &str,
        tg_dir: &str,
        role: Role<'_>,
        deps: Rc<RefCell<Deps>>,
        outputs: Option<&BTreeMap<String, Value>>,
    ) -> Result<FileEval, EvalError> {
        // A unit a stack generates shares its template's file (and blob): parsed once for all.
        let shared = !matches!(role, Role::Unit) || self.snap.is_generated(file);
        let parsed = self.parse(file, shared)?;
        let parsed = match &*parsed {
            Ok(p) => p,
            Err(e) => {
                return Err(EvalError::new(
                    file,
                    e.line,
                    "syntax",
                    format!("column {}: {}", e.column, e.message),
                ))
            }
        };
        let include_dir = match role {
            Role::Included { dir } => Some(dir.to_string()),
            _ => None,
        };
        let frame = Frame {
            ev: self.clone(),
            tg_dir: tg_dir.to_string(),
            original_dir: role.original_dir(tg_dir),
            include_dir,
            file: file.to_string(),
            deps: deps.clone(),
            includes: RefCell::new(Vec::new()),
        };
        context::with_frame(frame, |_| {
            self.eval_body(file, tg_dir, parsed, &role, deps.clone(), outputs)
        })
    }

    fn eval_body(
        self: &Rc<Self>,
        file: &str,
        tg_dir: &str,
        parsed: &Parsed,
        role: &Role<'_>,
        deps: Rc<RefCell<Deps>>,
        outputs: Option<&BTreeMap<String, Value>>,
    ) -> Result<FileEval, EvalError> {
        let body: &Body = &parsed.body;
        let err = |key: &str, construct: &str, msg: String| {
            EvalError::new(file, parsed.line(key), construct, msg)
        };
        // An error inside a block names the line of the attribute that failed.
        let attr_err = |key: &str, construct: &str, e: AttrError| {
            EvalError::new(
                file,
                parsed.attr_line(key, &e.attr),
                construct,
                e.to_string(),
            )
        };
        // A value discovery must know, refused when it is unknown.
        let known = |key: &str, attr: &str, construct: &str, v: &Value| match unknown::reason(v) {
            Some(why) => Err(EvalError::new(
                file,
                parsed.attr_line(key, attr),
                construct,
                format!(
                    "`{attr}` must be known during discovery, but it depends on {why}: \
                     Slipway finds units without credentials, environment or commands \
                     (move the value into a file of the repository)"
                ),
            )),
            None => Ok(()),
        };
        let start_unknowns = unknown::produced();
        let mut ctx = Scope::new();

        // Unknown top-level constructs are errors, as they are for Terragrunt.
        let (known_attributes, known_blocks, what) = match role {
            Role::Stack => (Some(&[][..]), STACK_BLOCKS, "a stack file"),
            Role::Values => (None, &[][..], "a values file"),
            _ => (
                Some(KNOWN_ATTRIBUTES),
                KNOWN_BLOCKS,
                "a Terragrunt configuration",
            ),
        };
        for attr in body.attributes() {
            if known_attributes.is_some_and(|k| !k.contains(&attr.key())) {
                return Err(err(
                    attr.key(),
                    attr.key(),
                    format!("unknown attribute in {what}"),
                ));
            }
        }
        for block in body.blocks() {
            if !known_blocks.contains(&block.identifier()) {
                let key = block_key(block.identifier(), labels(block));
                return Err(err(
                    &key,
                    block.identifier(),
                    format!("unknown block in {what}"),
                ));
            }
        }
        // `values`: what the stack that generated this unit (or this stack) gave it.
        if !matches!(role, Role::Values) {
            let dir = role.original_dir(tg_dir);
            if let Some(values) = self.values_of(&dir, &deps)? {
                if matches!(role, Role::Read { .. }) {
                    // The read file's value depends on which unit reads it.
                    deps.borrow_mut().uses_original_dir = true;
                }
                if unknown::contains(&values) {
                    unknown::note_produced();
                    ctx.taint();
                }
                ctx.declare_var("values", values);
            }
        }

        // Terragrunt refuses a second `locals` block instead of merging the two.
        if body.blocks().filter(|b| b.identifier() == "locals").count() > 1 {
            // The line table keeps the last block of a kind: the one to merge away.
            return Err(EvalError::new(
                file,
                parsed.line("locals"),
                "locals",
                "more than one `locals` block in the same file; Terragrunt allows one: merge them"
                    .into(),
            ));
        }

        // 1. include
        let mut includes = Vec::new();
        let mut include_var = Map::new();
        let mut bare_include: Option<Value> = None;
        for block in body.blocks().filter(|b| b.identifier() == "include") {
            let label = block.labels().first().map(|l| l.as_str().to_string());
            let key = block_key("include", labels(block));
            let construct = match &label {
                Some(l) => format!("include \"{l}\""),
                None => "include".to_string(),
            };
            if matches!(role, Role::Included { .. }) {
                return Err(err(
                    &key,
                    &construct,
                    "an included configuration cannot include another one \
                     (Terragrunt allows one level of include)"
                        .into(),
                ));
            }
            let attrs =
                block_body_attrs(&block.body, &ctx).map_err(|e| attr_err(&key, &construct, e))?;
            if let Some(p) = attrs.get("path") {
                known(&key, "path", &construct, p)?;
            }
            let path = match attrs.get("path") {
                Some(Value::String(p)) => p.clone(),
                _ => return Err(err(&key, &construct, "needs a string `path`".into())),
            };
            let rel = self
                .resolve(&path, parent(file))
                .map_err(|m| err(&key, &construct, m))?;
            if let Some(target) = self.snap.escaping_link(&rel) {
                return Err(err(
                    &key,
                    &construct,
                    format!("{rel}: symlink points outside the repository (to {target}): refused"),
                ));
            }
            if !self.snap.is_file(&rel) {
                return Err(err(
                    &key,
                    &construct,
                    format!("included file {rel} does not exist"),
                ));
            }
            let expose = matches!(attrs.get("expose"), Some(Value::Bool(true)));
            let merge_strategy = match attrs.get("merge_strategy") {
                None => MergeStrategy::Shallow,
                Some(Value::String(s)) => match s.as_str() {
                    "no_merge" => MergeStrategy::NoMerge,
                    "shallow" => MergeStrategy::Shallow,
                    "deep" => MergeStrategy::Deep,
                    other => {
                        return Err(err(
                            &key,
                            &construct,
                            format!(
                                "merge_strategy \"{other}\" is not one of no_merge, shallow, deep"
                            ),
                        ))
                    }
                },
                Some(_) => {
                    return Err(err(
                        &key,
                        &construct,
                        "merge_strategy must be a string".into(),
                    ))
                }
            };
            deps.borrow_mut().read(&rel, ReadKind::Include, "");
            let inc_dir = parent(&rel).to_string();
            let frame = Frame {
                ev: self.clone(),
                tg_dir: tg_dir.to_string(),
                original_dir: role.original_dir(tg_dir),
                include_dir: Some(inc_dir.clone()),
                file: rel.clone(),
                deps: deps.clone(),
                includes: RefCell::new(Vec::new()),
            };
            let inc_parsed = self.parse(&rel, true)?;
            let inc_parsed = match &*inc_parsed {
                Ok(p) => p,
                Err(e) => {
                    return Err(EvalError::new(
                        &rel,
                        e.line,
                        "syntax",
                        format!("column {}: {}", e.column, e.message),
                    ))
                }
            };
            let value = context::with_frame(frame, |_| {
                self.eval_body(
                    &rel,
                    tg_dir,
                    inc_parsed,
                    &Role::Included { dir: &inc_dir },
                    deps.clone(),
                    outputs,
                )
            })?
            .value;
            if expose {
                match &label {
                    Some(l) => {
                        include_var.insert(l.clone(), Value::Object(value.clone()));
                    }
                    None => bare_include = Some(Value::Object(value.clone())),
                }
            }
            includes.push((
                Include {
                    label,
                    path: rel,
                    expose,
                    merge_strategy,
                },
                value,
            ));
        }
        ctx.declare_var(
            "include",
            bare_include.unwrap_or(Value::Object(include_var)),
        );
        // An included file that holds unknowns taints everything that may read it.
        if unknown::produced() != start_unknowns {
            ctx.taint();
        }
        context::set_includes(
            includes
                .iter()
                .map(|(i, _)| (i.label.clone(), parent(&i.path).to_string()))
                .collect(),
        );

        // 2. locals, in as many passes as their references need.
        let mut locals = Map::new();
        let mut pending: Vec<(&str, &Expression)> = Vec::new();
        for block in body.blocks().filter(|b| b.identifier() == "locals") {
            for attr in block.body.attributes() {
                pending.push((attr.key(), attr.expr()));
            }
        }
        // In dependency order first (each local once, after the locals it names: linear in
        // their number); what fails there (a cycle, a reference the names do not show) gets
        // the passes below.
        ctx.declare_var("local", Value::Object(Map::new()));
        pending = {
            let index: HashMap<&str, usize> = pending
                .iter()
                .enumerate()
                .map(|(i, (n, _))| (*n, i))
                .collect();
            let mut waits_on = vec![0usize; pending.len()];
            let mut needed_by: Vec<Vec<usize>> = vec![Vec::new(); pending.len()];
            for (i, (name, expr)) in pending.iter().enumerate() {
                let mut refs = Vec::new();
                local_refs(expr, &mut refs);
                refs.sort();
                refs.dedup();
                for r in refs {
                    if let Some(&j) = index.get(r.as_str()).filter(|_| r != *name) {
                        waits_on[i] += 1;
                        needed_by[j].push(i);
                    }
                }
            }
            let mut ready: std::collections::VecDeque<usize> =
                (0..pending.len()).filter(|&i| waits_on[i] == 0).collect();
            let mut done = vec![false; pending.len()];
            while let Some(i) = ready.pop_front() {
                let (name, expr) = pending[i];
                match eval(expr, &ctx) {
                    Ok(v) => {
                        ctx.set_field("local", name, v);
                        done[i] = true;
                    }
                    Err(e) if budget::check().is_err() => {
                        return Err(err(&format!("locals.{name}"), &format!("local.{name}"), e));
                    }
                    Err(_) => {}
                }
                for &k in &needed_by[i] {
                    waits_on[k] -= 1;
                    if waits_on[k] == 0 {
                        ready.push_back(k);
                    }
                }
            }
            if let Some(Value::Object(o)) = ctx.vars.get_mut("local") {
                locals = std::mem::take(o);
            }
            pending
                .iter()
                .zip(done)
                .filter(|(_, d)| !d)
                .map(|(p, _)| *p)
                .collect()
        };
        while !pending.is_empty() {
            ctx.declare_var("local", Value::Object(locals.clone()));
            let mut next = Vec::new();
            let mut first_err = None;
            // Locals whose references are all evaluated go first, so `try(local.later, x)`
            // sees `later`'s value instead of its absence.
            let waiting: Vec<&str> = pending.iter().map(|(n, _)| *n).collect();
            let ready: Vec<(&str, &Expression)> = pending
                .iter()
                .copied()
                .filter(|(name, expr)| {
                    let mut refs = Vec::new();
                    local_refs(expr, &mut refs);
                    !refs
                        .iter()
                        .any(|r| r != name && waiting.contains(&r.as_str()))
                })
                .collect();
            let attempt = if ready.is_empty() {
                pending.clone()
            } else {
                ready
            };
            for (name, expr) in pending.iter().copied() {
                if !attempt.iter().any(|(n, _)| *n == name) {
                    next.push((name, expr));
                    continue;
                }
                match eval(expr, &ctx) {
                    Ok(v) => {
                        locals.insert(name.to_string(), v);
                    }
                    Err(e) => {
                        if first_err.is_none() {
                            first_err = Some((name, e));
                        }
                        next.push((name, expr));
                    }
                }
            }
            if next.len() == pending.len() {
                let (name, e) = first_err.unwrap_or_else(|| {
                    (
                        pending.first().map_or("?", |(n, _)| *n),
                        "the locals refer to each other in a cycle".to_string(),
                    )
                });
                return Err(err(&format!("locals.{name}"), &format!("local.{name}"), e));
            }
            pending = next;
        }
        ctx.declare_var("local", Value::Object(locals.clone()));

        // 3. feature flags, with their defaults.
        let mut features = Map::new();
        for block in body.blocks().filter(|b| b.identifier() == "feature") {
            let name = block.labels().first().map(|l| l.as_str().to_string());
            let key = block_key("feature", labels(block));
            let attrs =
                block_body_attrs(&block.body, &ctx).map_err(|e| attr_err(&key, "feature", e))?;
            let mut f = Map::new();
            f.insert(
                "value".into(),
                attrs.get("default").cloned().unwrap_or(Value::Null),
            );
            features.insert(name.unwrap_or_default(), Value::Object(f));
        }
        ctx.declare_var("feature", Value::Object(features));

        // 4. dependency blocks; their outputs are known at run time, or mocked.
        let mut dependency_var = Map::new();
        let mut dependency_blocks = Map::new();
        for block in body.blocks().filter(|b| b.identifier() == "dependency") {
            let key = block_key("dependency", labels(block));
            let name = match block.labels().first() {
                Some(l) => l.as_str().to_string(),
                None => return Err(err(&key, "dependency", "needs a name label".into())),
            };
            let construct = format!("dependency \"{name}\"");
            let mut attrs =
                block_body_attrs(&block.body, &ctx).map_err(|e| attr_err(&key, &construct, e))?;
            for attr in ["config_path", "enabled", "skip_outputs"] {
                if let Some(v) = attrs.get(attr) {
                    known(&key, attr, &construct, v)?;
                }
            }
            let config_path = match attrs.get("config_path") {
                Some(Value::String(p)) => p.clone(),
                _ => return Err(err(&key, &construct, "needs a string `config_path`".into())),
            };
            let mut rel = self
                .resolve(&config_path, tg_dir)
                .map_err(|m| err(&key, &construct, m))?;
            // `config_path = "../vpc/terragrunt.hcl"` names the unit in ../vpc.
            if let Some(dir) = rel.strip_suffix("/terragrunt.hcl") {
                rel = dir.to_string();
            }
            attrs.insert("config_path".into(), Value::String(rel));
            let mut var = Map::new();
            let outputs = outputs
                .and_then(|o| o.get(&name).cloned())
                .or_else(|| attrs.get("mock_outputs").cloned());
            if let Some(o) = outputs {
                var.insert("outputs".into(), o);
            }
            if let Some(i) = attrs.get("inputs") {
                var.insert("inputs".into(), i.clone());
            }
            dependency_var.insert(name.clone(), Value::Object(var));
            // `enabled = false`: the block is not a dependency (Terragrunt ignores it).
            if !matches!(attrs.get("enabled"), Some(Value::Bool(false))) {
                dependency_blocks.insert(name, Value::Object(attrs));
            }
        }
        ctx.declare_var("dependency", Value::Object(dependency_var));

        // 5. everything else.
        let mut out = Map::new();
        let mut deferred = Vec::new();
        out.insert("locals".into(), Value::Object(locals));
        if !dependency_blocks.is_empty() {
            out.insert("dependency".into(), Value::Object(dependency_blocks));
        }
        for attr in body.attributes() {
            match eval(attr.expr(), &ctx) {
                Ok(v) => {
                    out.insert(attr.key().to_string(), v);
                }
                Err(e) if mentions_var(attr.expr(), "dependency") => {
                    deferred.push(attr.key().to_string());
                    let _ = e;
                }
                Err(e) => return Err(err(attr.key(), attr.key(), e)),
            }
        }
        for block in body.blocks() {
            let ident = block.identifier();
            if matches!(ident, "include" | "locals" | "dependency" | "feature") {
                continue;
            }
            let key = block_key(ident, labels(block));
            let value = match block_value(&block.body, &ctx) {
                Ok(v) => v,
                Err(e) if body_mentions_var(&block.body, "dependency") => {
                    deferred.push(key);
                    let _ = e;
                    continue;
                }
                Err(e) => return Err(attr_err(&key, &key, e)),
            };
            match block.labels().first() {
                Some(l) => {
                    let entry = out
                        .entry(ident.to_string())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(m) = entry {
                        m.insert(l.as_str().to_string(), value);
                    }
                }
                None => {
                    // A second `terraform` (or `remote_state`, ...) block would silently replace
                    // the first; Terragrunt refuses it, and so does Slipway.
                    if out.contains_key(ident) {
                        return Err(err(
                            &key,
                            ident,
                            format!(
                                "a second `{ident}` block in the same file; merge them into one"
                            ),
                        ));
                    }
                    out.insert(ident.to_string(), value);
                }
            }
        }
        // What decides which units exist, what they depend on and where their code comes from
        // must be known now.
        if let Some(v) = out.get("skip") {
            known("skip", "skip", "skip", v)?;
        }
        for (block, attr) in [
            ("terraform", "source"),
            ("exclude", "if"),
            ("exclude", "actions"),
            ("dependencies", "paths"),
        ] {
            if let Some(v) = out
                .get(block)
                .and_then(Value::as_object)
                .and_then(|b| b.get(attr))
            {
                known(block, attr, &format!("{block}.{attr}"), v)?;
            }
        }
        Ok(FileEval {
            value: out,
            includes,
            deferred,
        })
    }
}

/// The variables of a configuration's scope, reset for each file.
const SCOPE_VARS: [&str; 5] = ["include", "local", "feature", "dependency", "values"];

thread_local! {
    // Contexts with every function declared, reused: declaring ~90 functions costs more than
    // evaluating a typical configuration.
    static CONTEXTS: RefCell<Vec<Context<'static>>> = const { RefCell::new(Vec::new()) };
}

/// Where expressions are evaluated: the thread's pooled functions and this file's variables
/// (`include`, `local`, `feature`, `dependency`). Variables live here, not in the hcl context, so
/// traversals can be looked up by reference; they are copied into the context only for an
/// expression that still needs them after [`inline_vars`].
struct Scope {
    ctx: RefCell<PooledContext>,
    vars: Map<String, Value>,
    synced: std::cell::Cell<bool>,
    /// Some variable may hold an unknown: expressions are evaluated unknown-aware.
    tainted: std::cell::Cell<bool>,
}

impl Scope {
    fn new() -> Scope {
        let mut vars = Map::new();
        for var in SCOPE_VARS {
            vars.insert(var.to_string(), Value::Object(Map::new()));
        }
        Scope {
            ctx: RefCell::new(PooledContext::take()),
            vars,
            synced: std::cell::Cell::new(false),
            tainted: std::cell::Cell::new(false),
        }
    }

    fn taint(&self) {
        self.tainted.set(true);
    }

    fn declare_var(&mut self, name: &str, value: Value) {
        self.vars.insert(name.to_string(), value);
        self.synced.set(false);
    }

    /// Sets `var.key` (a local, say) in place, without copying the rest of `var`.
    fn set_field(&mut self, var: &str, key: &str, value: Value) {
        match self.vars.get_mut(var) {
            Some(Value::Object(o)) => {
                o.insert(key.to_string(), value);
            }
            _ => {
                let mut o = Map::new();
                o.insert(key.to_string(), value);
                self.vars.insert(var.to_string(), Value::Object(o));
            }
        }
        self.synced.set(false);
    }

    /// The hcl context with this scope's variables declared in it.
    fn synced_ctx(&self) -> std::cell::Ref<'_, PooledContext> {
        if !self.synced.get() {
            let mut ctx = self.ctx.borrow_mut();
            for (k, v) in &self.vars {
                ctx.declare_var(k.as_str(), v.clone());
            }
            self.synced.set(true);
        }
        self.ctx.borrow()
    }
}

/// A context from the thread's pool, its variables reset; returned to the pool on drop.
struct PooledContext(Option<Context<'static>>);

impl PooledContext {
    fn take() -> PooledContext {
        let mut ctx = CONTEXTS.with(|c| c.borrow_mut().pop()).unwrap_or_else(|| {
            let mut ctx = Context::new();
            funcs::register(&mut ctx);
            context::register(&mut ctx);
            ctx.declare_func(
                "try",
                hcl::eval::FuncDef::builder()
                    .variadic_param(hcl::eval::ParamType::Any)
                    .build(eager_try),
            );
            ctx.declare_func(
                "can",
                hcl::eval::FuncDef::builder()
                    .variadic_param(hcl::eval::ParamType::Any)
                    .build(eager_can),
            );
            ctx
        });
        for var in SCOPE_VARS {
            ctx.declare_var(var, Value::Object(Map::new()));
        }
        PooledContext(Some(ctx))
    }
}

impl std::ops::Deref for PooledContext {
    type Target = Context<'static>;
    fn deref(&self) -> &Self::Target {
        self.0
            .as_ref()
            .unwrap_or_else(|| unreachable!("taken until drop"))
    }
}

impl std::ops::DerefMut for PooledContext {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.0
            .as_mut()
            .unwrap_or_else(|| unreachable!("taken until drop"))
    }
}

impl Drop for PooledContext {
    fn drop(&mut self) {
        if let Some(ctx) = self.0.take() {
            CONTEXTS.with(|c| c.borrow_mut().push(ctx));
        }
    }
}

/// A file's configuration merged over the ones it includes, as Terragrunt merges a child over
/// its parents. Locals are never inherited: each file's locals are its own.
fn merged_config(fe: &FileEval) -> Map<String, Value> {
    if fe.includes.is_empty() {
        return fe.value.clone();
    }
    let mut merged = Map::new();
    for (inc, value) in &fe.includes {
        if inc.merge_strategy != MergeStrategy::NoMerge {
            merge_config(&mut merged, value, inc.merge_strategy);
        }
    }
    let strategy = fe
        .includes
        .iter()
        .map(|(i, _)| i.merge_strategy)
        .find(|s| *s == MergeStrategy::Deep)
        .unwrap_or(MergeStrategy::Shallow);
    merge_config(&mut merged, &fe.value, strategy);
    match fe.value.get("locals") {
        Some(l) => {
            merged.insert("locals".into(), l.clone());
        }
        None => {
            merged.shift_remove("locals");
        }
    }
    merged
}

/// A stack file's evaluation as `read_terragrunt_config` gives it: `local`, and each `unit` and
/// `stack` block by name with its `name`, `source`, `path` and the rest of its attributes.
fn stack_shape(value: &mut Map<String, Value>) {
    if let Some(locals) = value.shift_remove("locals") {
        value.insert("local".into(), locals);
    }
    for kind in ["unit", "stack"] {
        if let Some(Value::Object(blocks)) = value.get_mut(kind) {
            for (name, block) in blocks.iter_mut() {
                if let Value::Object(attrs) = block {
                    attrs.insert("name".into(), Value::String(name.clone()));
                }
            }
        }
    }
}

fn labels(block: &hcl::Block) -> impl Iterator<Item = String> + '_ {
    block.labels().iter().map(|l| l.as_str().to_string())
}

fn eager_try(args: hcl::eval::FuncArgs) -> Result<Value, String> {
    args.first()
        .cloned()
        .ok_or_else(|| "try expects at least one argument".to_string())
}

fn eager_can(_: hcl::eval::FuncArgs) -> Result<Value, String> {
    Ok(Value::Bool(true))
}

/// Evaluates an expression; `try` and `can` are evaluated lazily, as Terraform does.
fn eval(expr: &Expression, scope: &Scope) -> Result<Value, String> {
    budget::check()?;
    // hcl's number arithmetic panics on some input (`x % 0`, i64 overflow): the panic is
    // turned into this expression's error, with the file and line its caller adds.
    let value = super::catch_quietly(|| {
        // Most configurations never meet an unknown: they pay one counter read. An expression
        // that met one is evaluated again, unknown-aware, as is every later one of its file.
        if !scope.tainted.get() {
            let before = unknown::produced();
            let r = eval_inner(expr, scope);
            if unknown::produced() == before {
                return r;
            }
            scope.taint();
        }
        eval_aware(expr, scope)
    })
    .unwrap_or_else(|panic| {
        let what = super::panic_message(&*panic).unwrap_or_else(|| "arithmetic error".into());
        Err(format!("cannot evaluate: {what}"))
    })?;
    budget::charge_value(&value)?;
    Ok(value)
}

fn eval_inner(expr: &Expression, scope: &Scope) -> Result<Value, String> {
    let mut residual = false;
    let inlined = inline_vars(expr, &scope.vars, &mut Vec::new(), &mut residual);
    let run = |e: &Expression| {
        if residual {
            eval_in(e, &scope.synced_ctx())
        } else {
            eval_in(e, &scope.ctx.borrow())
        }
    };
    match inlined {
        None => run(expr),
        // An error quotes the expression: quote the one the user wrote (`local.a + 1`), not
        // the values put in its place. Errors are rare; the second evaluation costs little.
        Some(inlined) => run(&inlined).or_else(|_| eval_in(expr, &scope.synced_ctx())),
    }
}

fn eval_in(expr: &Expression, ctx: &Context<'_>) -> Result<Value, String> {
    if has_lazy(expr) {
        aware::eval(expr, ctx, &Map::new())
    } else {
        expr.evaluate(ctx).map_err(|e| clean_error(&e.to_string()))
    }
}

/// Unknown-aware evaluation (see [`aware`]), for a scope where some value may be unknown.
fn eval_aware(expr: &Expression, scope: &Scope) -> Result<Value, String> {
    let mut residual = false;
    let inlined = inline_vars(expr, &scope.vars, &mut Vec::new(), &mut residual);
    let ctx = scope.synced_ctx();
    aware::eval(inlined.as_ref().unwrap_or(expr), &ctx, &scope.vars)
}

/// Replaces each variable traversal whose value is known (`local.env.locals.sizing`,
/// `include.root.inputs["name"]`) by that value, looked up by reference. hcl-rs clones the
/// whole root variable for every traversal, and `local` may hold several read configurations:
/// at 10,000 units those clones were a fifth of the evaluation time. `None` when nothing changed.
fn inline_vars(
    expr: &Expression,
    vars: &Map<String, Value>,
    bound: &mut Vec<String>,
    residual: &mut bool,
) -> Option<Expression> {
    use hcl::expr::{Operation, TraversalOperator};
    // Rebuilds a list of expressions when any of them changed.
    fn list(
        items: &[Expression],
        vars: &Map<String, Value>,
        bound: &mut Vec<String>,
        residual: &mut bool,
    ) -> Option<Vec<Expression>> {
        let new: Vec<Option<Expression>> = items
            .iter()
            .map(|e| inline_vars(e, vars, bound, residual))
            .collect();
        if new.iter().all(Option::is_none) {
            return None;
        }
        Some(
            new.into_iter()
                .zip(items)
                .map(|(n, old)| n.unwrap_or_else(|| old.clone()))
                .collect(),
        )
    }
    match expr {
        Expression::Traversal(t) => {
            if let Expression::Variable(root) = &t.expr {
                if !bound.iter().any(|b| b == root.as_str()) {
                    if let Some(mut v) = vars.get(root.as_str()) {
                        let mut ok = true;
                        for op in &t.operators {
                            let next = match (op, v) {
                                (TraversalOperator::GetAttr(k), Value::Object(o)) => {
                                    o.get(k.as_str())
                                }
                                (
                                    TraversalOperator::Index(Expression::String(k)),
                                    Value::Object(o),
                                ) => o.get(k),
                                (
                                    TraversalOperator::Index(Expression::Number(n)),
                                    Value::Array(a),
                                ) => n.as_u64().and_then(|i| a.get(usize::try_from(i).ok()?)),
                                (TraversalOperator::LegacyIndex(i), Value::Array(a)) => {
                                    usize::try_from(*i).ok().and_then(|i| a.get(i))
                                }
                                _ => None,
                            };
                            match next {
                                Some(n) => v = n,
                                None => {
                                    ok = false;
                                    break;
                                }
                            }
                        }
                        if ok {
                            return Some(Expression::from(v.clone()));
                        }
                        *residual = true;
                    }
                }
            }
            // Not resolvable here (splat, computed index, missing key): hcl evaluates it and
            // reports any error; only the parts inside are inlined.
            let inner = inline_vars(&t.expr, vars, bound, residual);
            let mut ops_changed = false;
            let ops: Vec<TraversalOperator> = t
                .operators
                .iter()
                .map(|op| match op {
                    TraversalOperator::Index(e) => match inline_vars(e, vars, bound, residual) {
                        Some(n) => {
                            ops_changed = true;
                            TraversalOperator::Index(n)
                        }
                        None => op.clone(),
                    },
                    other => other.clone(),
                })
                .collect();
            if inner.is_none() && !ops_changed {
                return None;
            }
            let mut u = (**t).clone();
            if let Some(i) = inner {
                u.expr = i;
            }
            u.operators = ops;
            Some(Expression::Traversal(Box::new(u)))
        }
        Expression::FuncCall(f) => {
            let args = list(&f.args, vars, bound, residual)?;
            let mut g = (**f).clone();
            g.args = args;
            Some(Expression::FuncCall(Box::new(g)))
        }
        Expression::Array(a) => list(a, vars, bound, residual).map(Expression::Array),
        Expression::Object(o) => {
            // Keys may be expressions too: `"/app/${local.env}/audit" = 365`.
            let new: Vec<(Option<Expression>, Option<Expression>)> = o
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        hcl::ObjectKey::Expression(e) => inline_vars(e, vars, bound, residual),
                        _ => None,
                    };
                    (key, inline_vars(v, vars, bound, residual))
                })
                .collect();
            if new.iter().all(|(k, v)| k.is_none() && v.is_none()) {
                return None;
            }
            let mut m = hcl::Object::new();
            for ((k, old), (nk, nv)) in o.iter().zip(new) {
                let key = nk.map_or_else(|| k.clone(), hcl::ObjectKey::Expression);
                m.insert(key, nv.unwrap_or_else(|| old.clone()));
            }
            Some(Expression::Object(m))
        }
        Expression::Parenthesis(e) => {
            inline_vars(e, vars, bound, residual).map(|n| Expression::Parenthesis(Box::new(n)))
        }
        Expression::Conditional(c) => {
            let cond = inline_vars(&c.cond_expr, vars, bound, residual);
            let yes = inline_vars(&c.true_expr, vars, bound, residual);
            let no = inline_vars(&c.false_expr, vars, bound, residual);
            if cond.is_none() && yes.is_none() && no.is_none() {
                return None;
            }
            let mut d = (**c).clone();
            if let Some(e) = cond {
                d.cond_expr = e;
            }
            if let Some(e) = yes {
                d.true_expr = e;
            }
            if let Some(e) = no {
                d.false_expr = e;
            }
            Some(Expression::Conditional(Box::new(d)))
        }
        Expression::Operation(op) => match op.as_ref() {
            Operation::Unary(u) => {
                let e = inline_vars(&u.expr, vars, bound, residual)?;
                let mut w = u.clone();
                w.expr = e;
                Some(Expression::Operation(Box::new(Operation::Unary(w))))
            }
            Operation::Binary(b) => {
                let l = inline_vars(&b.lhs_expr, vars, bound, residual);
                let r = inline_vars(&b.rhs_expr, vars, bound, residual);
                if l.is_none() && r.is_none() {
                    return None;
                }
                let mut c = b.clone();
                if let Some(l) = l {
                    c.lhs_expr = l;
                }
                if let Some(r) = r {
                    c.rhs_expr = r;
                }
                Some(Expression::Operation(Box::new(Operation::Binary(c))))
            }
        },
        Expression::ForExpr(f) => {
            let collection = inline_vars(&f.collection_expr, vars, bound, residual);
            // The iteration variables shadow any context variable of the same name.
            let before = bound.len();
            bound.extend(f.key_var.iter().map(|k| k.to_string()));
            bound.push(f.value_var.to_string());
            let key = f
                .key_expr
                .as_ref()
                .and_then(|k| inline_vars(k, vars, bound, residual));
            let value = inline_vars(&f.value_expr, vars, bound, residual);
            let cond = f
                .cond_expr
                .as_ref()
                .and_then(|c| inline_vars(c, vars, bound, residual));
            bound.truncate(before);
            if collection.is_none() && key.is_none() && value.is_none() && cond.is_none() {
                return None;
            }
            let mut g = (**f).clone();
            if let Some(c) = collection {
                g.collection_expr = c;
            }
            if let Some(k) = key {
                g.key_expr = Some(k);
            }
            if let Some(v) = value {
                g.value_expr = v;
            }
            if let Some(c) = cond {
                g.cond_expr = Some(c);
            }
            Some(Expression::ForExpr(Box::new(g)))
        }
        Expression::Variable(v) => {
            if bound.iter().any(|b| b == v.as_str()) {
                return None;
            }
            vars.get(v.as_str())
                .map(|value| Expression::from(value.clone()))
        }
        Expression::Null | Expression::Bool(_) | Expression::Number(_) | Expression::String(_) => {
            None
        }
        // Templates not compiled at parse time, and anything else: whatever they mention must
        // be in the context.
        _ => {
            *residual = true;
            None
        }
    }
}

/// hcl-rs error text names the expression; keep the useful first line.
pub(super) fn clean_error(msg: &str) -> String {
    msg.lines().next().unwrap_or(msg).trim().to_string()
}

fn is_lazy_call(f: &hcl::expr::FuncCall) -> bool {
    f.name.namespace.is_empty() && matches!(f.name.name.as_str(), "try" | "can")
}

fn has_lazy(expr: &Expression) -> bool {
    match expr {
        Expression::FuncCall(f) => is_lazy_call(f) || f.args.iter().any(has_lazy),
        Expression::Array(a) => a.iter().any(has_lazy),
        Expression::Object(o) => o.values().any(has_lazy),
        Expression::Parenthesis(e) => has_lazy(e),
        Expression::Conditional(c) => {
            has_lazy(&c.cond_expr) || has_lazy(&c.true_expr) || has_lazy(&c.false_expr)
        }
        Expression::Operation(op) => match op.as_ref() {
            hcl::expr::Operation::Unary(u) => has_lazy(&u.expr),
            hcl::expr::Operation::Binary(b) => has_lazy(&b.lhs_expr) || has_lazy(&b.rhs_expr),
        },
        Expression::Traversal(t) => {
            has_lazy(&t.expr)
                || t.operators
                    .iter()
                    .any(|op| matches!(op, hcl::expr::TraversalOperator::Index(ix) if has_lazy(ix)))
        }
        // Evaluated element by element, so that every iteration counts against the unit's
        // budget: nested loops cannot build an unbounded value inside one expression.
        Expression::ForExpr(_) => true,
        _ => false,
    }
}

/// Names of the locals an expression refers to (`local.x` -> `x`).
fn local_refs(expr: &Expression, out: &mut Vec<String>) {
    use hcl::expr::TraversalOperator;
    match expr {
        Expression::Traversal(t) => {
            match (&t.expr, t.operators.first()) {
                (Expression::Variable(v), Some(TraversalOperator::GetAttr(id)))
                    if v.as_str() == "local" =>
                {
                    out.push(id.to_string());
                }
                (inner, _) => local_refs(inner, out),
            }
            for op in &t.operators {
                if let TraversalOperator::Index(e) = op {
                    local_refs(e, out);
                }
            }
        }
        Expression::FuncCall(f) => f.args.iter().for_each(|a| local_refs(a, out)),
        Expression::Array(a) => a.iter().for_each(|e| local_refs(e, out)),
        Expression::Object(o) => o.values().for_each(|e| local_refs(e, out)),
        Expression::Parenthesis(e) => local_refs(e, out),
        Expression::Conditional(c) => {
            local_refs(&c.cond_expr, out);
            local_refs(&c.true_expr, out);
            local_refs(&c.false_expr, out);
        }
        Expression::Operation(op) => match op.as_ref() {
            hcl::expr::Operation::Unary(u) => local_refs(&u.expr, out),
            hcl::expr::Operation::Binary(b) => {
                local_refs(&b.lhs_expr, out);
                local_refs(&b.rhs_expr, out);
            }
        },
        Expression::ForExpr(f) => {
            local_refs(&f.collection_expr, out);
            if let Some(k) = &f.key_expr {
                local_refs(k, out);
            }
            local_refs(&f.value_expr, out);
            if let Some(c) = &f.cond_expr {
                local_refs(c, out);
            }
        }
        Expression::TemplateExpr(t) => {
            let text = t.to_string();
            let mut rest = text.as_str();
            while let Some(i) = rest.find("local.") {
                let after = &rest[i + 6..];
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                if !name.is_empty() {
                    out.push(name);
                }
                rest = after;
            }
        }
        _ => {}
    }
}

/// True when the expression refers to the variable `name` (e.g. `dependency.vpc.outputs`).
pub fn mentions_var(expr: &Expression, name: &str) -> bool {
    match expr {
        Expression::Variable(v) => v.as_str() == name,
        Expression::Traversal(t) => mentions_var(&t.expr, name),
        Expression::FuncCall(f) => f.args.iter().any(|a| mentions_var(a, name)),
        Expression::Array(a) => a.iter().any(|e| mentions_var(e, name)),
        Expression::Object(o) => o.values().any(|e| mentions_var(e, name)),
        Expression::Parenthesis(e) => mentions_var(e, name),
        Expression::Conditional(c) => {
            mentions_var(&c.cond_expr, name)
                || mentions_var(&c.true_expr, name)
                || mentions_var(&c.false_expr, name)
        }
        Expression::Operation(op) => match op.as_ref() {
            hcl::expr::Operation::Unary(u) => mentions_var(&u.expr, name),
            hcl::expr::Operation::Binary(b) => {
                mentions_var(&b.lhs_expr, name) || mentions_var(&b.rhs_expr, name)
            }
        },
        Expression::ForExpr(f) => {
            mentions_var(&f.collection_expr, name) || mentions_var(&f.value_expr, name)
        }
        Expression::TemplateExpr(t) => t.to_string().contains(&format!("{name}.")),
        _ => false,
    }
}

fn body_mentions_var(body: &Body, name: &str) -> bool {
    body.attributes().any(|a| mentions_var(a.expr(), name))
        || body.blocks().any(|b| body_mentions_var(&b.body, name))
}

/// An attribute of a block that failed to evaluate (`path` of `include "root"`).
struct AttrError {
    /// The attribute's name; for a nested block, the nested block's type.
    attr: String,
    message: String,
}

impl std::fmt::Display for AttrError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.attr, self.message)
    }
}

/// Evaluates a block body's attributes (nested blocks ignored).
fn block_body_attrs(body: &Body, ctx: &Scope) -> Result<Map<String, Value>, AttrError> {
    let mut out = Map::new();
    for attr in body.attributes() {
        let v = eval(attr.expr(), ctx).map_err(|message| AttrError {
            attr: attr.key().to_string(),
            message,
        })?;
        out.insert(attr.key().to_string(), v);
    }
    Ok(out)
}

/// Evaluates a block body into an object: attributes by name, nested blocks by type (and label).
fn block_value(body: &Body, ctx: &Scope) -> Result<Value, AttrError> {
    let mut out = block_body_attrs(body, ctx)?;
    for block in body.blocks() {
        let v = block_value(&block.body, ctx).map_err(|e| AttrError {
            attr: block.identifier().to_string(),
            message: e.to_string(),
        })?;
        match block.labels().first() {
            Some(l) => {
                let entry = out
                    .entry(block.identifier().to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = entry {
                    m.insert(l.as_str().to_string(), v);
                }
            }
            None => {
                out.insert(block.identifier().to_string(), v);
            }
        }
    }
    Ok(Value::Object(out))
}

/// Merges an evaluated configuration `child` over `base`, as Terragrunt merges a child over an
/// included parent: scalar settings are replaced, named blocks (dependency, generate, hooks,
/// extra_arguments) are merged by name, `inputs` merged shallowly or deeply.
pub fn merge_config(
    base: &mut Map<String, Value>,
    child: &Map<String, Value>,
    strategy: MergeStrategy,
) {
    for (k, v) in child {
        match k.as_str() {
            "locals" => {}
            "inputs" => {
                let merged = match (base.get(k), strategy) {
                    (Some(b), MergeStrategy::Deep) => deep_merge(b, v),
                    (Some(Value::Object(b)), _) => {
                        let mut m = b.clone();
                        if let Value::Object(c) = v {
                            for (ck, cv) in c {
                                m.insert(ck.clone(), cv.clone());
                            }
                        }
                        Value::Object(m)
                    }
                    _ => v.clone(),
                };
                base.insert(k.clone(), merged);
            }
            "dependency" | "generate" => {
                let mut m = base
                    .get(k)
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                if let Value::Object(c) = v {
                    for (ck, cv) in c {
                        m.insert(ck.clone(), cv.clone());
                    }
                }
                base.insert(k.clone(), Value::Object(m));
            }
            "terraform" => {
                let mut m = base
                    .get(k)
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                if let Value::Object(c) = v {
                    for (ck, cv) in c {
                        match (ck.as_str(), m.get(ck), cv) {
                            (
                                "extra_arguments" | "before_hook" | "after_hook" | "error_hook",
                                Some(Value::Object(bm)),
                                Value::Object(cm),
                            ) => {
                                let mut n = bm.clone();
                                for (nk, nv) in cm {
                                    n.insert(nk.clone(), nv.clone());
                                }
                                m.insert(ck.clone(), Value::Object(n));
                            }
                            _ => {
                                m.insert(ck.clone(), cv.clone());
                            }
                        }
                    }
                }
                base.insert(k.clone(), Value::Object(m));
            }
            "dependencies" if strategy == MergeStrategy::Deep => {
                base.insert(
                    k.clone(),
                    deep_merge(base.get(k).unwrap_or(&Value::Null), v),
                );
            }
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Terragrunt's deep merge: maps merged recursively, lists concatenated, child wins otherwise.
pub(super) fn deep_merge(base: &Value, child: &Value) -> Value {
    match (base, child) {
        (Value::Object(b), Value::Object(c)) => {
            let mut m = b.clone();
            for (k, cv) in c {
                let nv = match m.get(k) {
                    Some(bv) => deep_merge(bv, cv),
                    None => cv.clone(),
                };
                m.insert(k.clone(), nv);
            }
            Value::Object(m)
        }
        (Value::Array(b), Value::Array(c)) => {
            let mut v = b.clone();
            v.extend(c.iter().cloned());
            Value::Array(v)
        }
        (_, c) => c.clone(),
    }
}
