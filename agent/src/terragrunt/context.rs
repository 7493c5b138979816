//! Terragrunt's own functions. They depend on where the evaluation stands (the unit's directory,
//! the included file, the repository), which hcl-rs's plain function pointers cannot capture: the
//! evaluator pushes a frame on a thread-local stack for the duration of each file's evaluation and
//! the functions read the top frame.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};
use hcl::Value;

use super::eval::{clean_error, Evaluator};
use crate::snapshot::{join, normalize, parent, relative, ReadError, Snapshot};

/// Why a file became part of a unit's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReadKind {
    Include,
    ReadConfig,
    File,
    VarFile,
    Module,
    Probe,
}

/// Everything a unit's evaluation looked at: files it read, and paths whose existence it checked.
#[derive(Debug, Default, Clone)]
pub struct Deps {
    /// Repo-relative path -> why it was read (first reason wins).
    pub reads: BTreeMap<String, (ReadKind, String)>,
    /// Paths whose existence (or absence) decided something.
    pub probes: std::collections::BTreeSet<String>,
    /// `get_original_terragrunt_dir()` was called: the value depends on which unit evaluated it.
    pub uses_original_dir: bool,
}

impl Deps {
    pub fn read(&mut self, path: &str, kind: ReadKind, via: &str) {
        self.reads
            .entry(path.to_string())
            .or_insert_with(|| (kind, via.to_string()));
    }
    pub fn merge(&mut self, other: &Deps, via: &str) {
        for (p, (k, v)) in &other.reads {
            let via = if v.is_empty() {
                via.to_string()
            } else {
                v.clone()
            };
            self.reads.entry(p.clone()).or_insert((*k, via));
        }
        self.probes.extend(other.probes.iter().cloned());
        self.uses_original_dir |= other.uses_original_dir;
    }
}

/// Where an evaluation stands.
pub struct Frame {
    pub ev: Rc<Evaluator>,
    /// The unit's directory (what `get_terragrunt_dir()` returns).
    pub tg_dir: String,
    /// The directory of the configuration being evaluated at the top (before includes).
    pub original_dir: String,
    /// The directory of the included file being evaluated, if any.
    pub include_dir: Option<String>,
    /// The file being evaluated, for messages.
    pub file: String,
    pub deps: Rc<RefCell<Deps>>,
    /// In a unit's own file: its includes as (label, directory), once they are resolved, so
    /// `path_relative_to_include("root")` works in the unit itself.
    pub includes: RefCell<Vec<(Option<String>, String)>>,
}

/// Records the includes of the file on top of the stack (see [`Frame::includes`]).
pub fn set_includes(includes: Vec<(Option<String>, String)>) {
    if let Ok(f) = top() {
        *f.includes.borrow_mut() = includes;
    }
}

/// The include directory a path function refers to: in an included file, that file's; in the
/// unit itself, the include named by the label argument, or the first one.
fn include_dir_for(f: &Frame, a: &FuncArgs) -> Option<String> {
    if let Some(d) = &f.include_dir {
        return Some(d.clone());
    }
    let includes = f.includes.borrow();
    match a.first() {
        Some(Value::String(label)) => includes
            .iter()
            .find(|(l, _)| l.as_deref() == Some(label.as_str()))
            .map(|(_, d)| d.clone()),
        _ => includes.first().map(|(_, d)| d.clone()),
    }
}

thread_local! {
    static STACK: RefCell<Vec<Rc<Frame>>> = const { RefCell::new(Vec::new()) };
    /// Files being read with `read_terragrunt_config`, outermost first: a file that reads itself,
    /// directly or through others, would otherwise recurse until the stack overflows.
    static READING: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with `frame` on top of the stack.
pub fn with_frame<T>(frame: Frame, f: impl FnOnce(&Rc<Frame>) -> T) -> T {
    let frame = Rc::new(frame);
    STACK.with(|s| s.borrow_mut().push(frame.clone()));
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            STACK.with(|s| {
                s.borrow_mut().pop();
            });
        }
    }
    let _pop = Pop;
    f(&frame)
}

fn top() -> Result<Rc<Frame>, String> {
    STACK
        .with(|s| s.borrow().last().cloned())
        .ok_or_else(|| "Terragrunt function called outside an evaluation".to_string())
}

type Res = Result<Value, String>;

/// Registers Terragrunt's functions.
pub fn register(ctx: &mut Context<'_>) {
    let table: &[(&str, hcl::eval::Func)] = &[
        ("find_in_parent_folders", find_in_parent_folders),
        ("read_terragrunt_config", read_terragrunt_config),
        ("get_terragrunt_dir", get_terragrunt_dir),
        ("get_original_terragrunt_dir", get_original_terragrunt_dir),
        ("get_parent_terragrunt_dir", get_parent_terragrunt_dir),
        ("path_relative_to_include", path_relative_to_include),
        ("path_relative_from_include", path_relative_from_include),
        ("get_repo_root", get_repo_root),
        ("get_path_from_repo_root", get_path_from_repo_root),
        ("get_path_to_repo_root", get_path_to_repo_root),
        ("get_env", get_env),
        ("get_platform", get_platform),
        ("get_terraform_command", get_terraform_command),
        ("get_terraform_cli_args", get_terraform_cli_args),
        (
            "get_terraform_commands_that_need_vars",
            get_terraform_commands_that_need_vars,
        ),
        (
            "get_terraform_commands_that_need_input",
            get_terraform_commands_that_need_input,
        ),
        (
            "get_terraform_commands_that_need_locking",
            get_terraform_commands_that_need_locking,
        ),
        (
            "get_terraform_commands_that_need_parallelism",
            get_terraform_commands_that_need_parallelism,
        ),
        ("file", file),
        ("fileexists", fileexists),
        ("abspath", abspath),
        ("get_aws_account_id", unavailable),
        ("get_aws_account_alias", unavailable),
        ("get_aws_caller_identity_arn", unavailable),
        ("get_aws_caller_identity_user_id", unavailable),
        ("run_cmd", unavailable),
        ("sops_decrypt_file", unavailable),
        ("templatefile", templatefile),
    ];
    for (name, f) in table {
        ctx.declare_func(
            *name,
            FuncDef::builder().variadic_param(ParamType::Any).build(*f),
        );
    }
}

/// Names of functions that need the outside world, reported as unavailable at discovery.
pub const UNAVAILABLE: &[&str] = &[
    "get_aws_account_id",
    "get_aws_account_alias",
    "get_aws_caller_identity_arn",
    "get_aws_caller_identity_user_id",
    "run_cmd",
    "sops_decrypt_file",
];

fn unavailable(_: FuncArgs) -> Res {
    // hcl-rs prefixes the message with the function's name.
    Err(
        "not available during discovery: it needs AWS credentials or runs a command; \
         Slipway evaluates units without either (move the value into a locals file or an input)"
            .to_string(),
    )
}

fn arg_str(a: &FuncArgs, i: usize, what: &str) -> Result<String, String> {
    match a.get(i) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!(
            "{what} must be a string, got {}",
            super::funcs::type_name(other)
        )),
        None => Err(format!("missing {what}")),
    }
}

impl Frame {
    /// Absolute form of a repo-relative path, as Terragrunt's functions return paths.
    pub fn abs(&self, rel: &str) -> String {
        self.ev.abs(rel)
    }

    /// Resolves a path argument (absolute inside the repo, or relative to `base`) to a
    /// repo-relative path; refuses anything outside the repository.
    pub fn resolve(&self, path: &str, base: &str) -> Result<String, String> {
        self.ev.resolve(path, base)
    }
}

fn find_in_parent_folders(a: FuncArgs) -> Res {
    let f = top()?;
    let name = match a.first() {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "terragrunt.hcl".to_string(),
        Some(_) => return Err("the file name must be a string".into()),
    };
    let fallback = a.get(1).cloned();
    let snap = f.ev.snapshot();
    let mut dir = f.tg_dir.clone();
    let mut deps = f.deps.borrow_mut();
    loop {
        if dir.is_empty() {
            break;
        }
        dir = parent(&dir).to_string();
        let candidate = normalize(&join(&dir, &name))
            .ok_or_else(|| format!("\"{name}\" escapes the repository"))?;
        deps.probes.insert(candidate.clone());
        if snap.is_file(&candidate) {
            return Ok(Value::String(f.abs(&candidate)));
        }
        // Looking further up would silently pick another file than the one that is there.
        refuse_escaping_link(snap, &candidate)?;
    }
    match fallback {
        Some(v) => Ok(v),
        None => Err(format!(
            "no {name} in any parent folder of {}",
            if f.tg_dir.is_empty() { "." } else { &f.tg_dir }
        )),
    }
}

/// For a path that is not a file of the snapshot: an error when it is a symlink pointing outside
/// the repository, which must be refused rather than taken for a missing file.
fn refuse_escaping_link(snap: &Snapshot, rel: &str) -> Result<(), String> {
    match snap.read(rel) {
        Err(e @ ReadError::SymlinkOutside { .. }) => Err(e.to_string()),
        _ => Ok(()),
    }
}

fn read_terragrunt_config(a: FuncArgs) -> Res {
    let f = top()?;
    let path = arg_str(&a, 0, "the config path")?;
    let rel = f.resolve(&path, &f.tg_dir)?;
    if !f.ev.snapshot().is_file(&rel) {
        refuse_escaping_link(f.ev.snapshot(), &rel)?;
        f.deps.borrow_mut().probes.insert(rel.clone());
        if let Some(default) = a.get(1) {
            return Ok(default.clone());
        }
        return Err(format!("{rel} does not exist"));
    }
    let cycle = READING.with(|r| {
        let r = r.borrow();
        r.iter().position(|p| *p == rel).map(|i| {
            let mut chain: Vec<&str> = r[i..].iter().map(String::as_str).collect();
            chain.push(&rel);
            chain.join(" -> ")
        })
    });
    if let Some(chain) = cycle {
        return Err(format!("{rel} reads itself: {chain}"));
    }
    READING.with(|r| r.borrow_mut().push(rel.clone()));
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            READING.with(|r| {
                r.borrow_mut().pop();
            });
        }
    }
    let result = {
        let _pop = Pop;
        f.ev.read_config(&rel, &f.original_dir)?
    };
    let mut deps = f.deps.borrow_mut();
    deps.read(&rel, ReadKind::ReadConfig, "");
    deps.merge(&result.deps, &rel);
    Ok(result.value.clone())
}

fn get_terragrunt_dir(_: FuncArgs) -> Res {
    let f = top()?;
    Ok(Value::String(f.abs(&f.tg_dir)))
}

fn get_original_terragrunt_dir(_: FuncArgs) -> Res {
    let f = top()?;
    f.deps.borrow_mut().uses_original_dir = true;
    Ok(Value::String(f.abs(&f.original_dir)))
}

fn get_parent_terragrunt_dir(a: FuncArgs) -> Res {
    let f = top()?;
    let dir = include_dir_for(&f, &a).unwrap_or_else(|| f.tg_dir.clone());
    Ok(Value::String(f.abs(&dir)))
}

fn path_relative_to_include(a: FuncArgs) -> Res {
    let f = top()?;
    Ok(Value::String(match include_dir_for(&f, &a) {
        Some(inc) => relative(&inc, &f.tg_dir),
        None => ".".to_string(),
    }))
}

fn path_relative_from_include(a: FuncArgs) -> Res {
    let f = top()?;
    Ok(Value::String(match include_dir_for(&f, &a) {
        Some(inc) => relative(&f.tg_dir, &inc),
        None => ".".to_string(),
    }))
}

fn get_repo_root(_: FuncArgs) -> Res {
    let f = top()?;
    Ok(Value::String(f.abs("")))
}

fn get_path_from_repo_root(_: FuncArgs) -> Res {
    let f = top()?;
    Ok(Value::String(f.tg_dir.clone()))
}

fn get_path_to_repo_root(_: FuncArgs) -> Res {
    let f = top()?;
    Ok(Value::String(relative(&f.tg_dir, "")))
}

fn get_env(a: FuncArgs) -> Res {
    let name = arg_str(&a, 0, "the variable name")?;
    match std::env::var(&name) {
        Ok(v) => Ok(Value::String(v)),
        Err(_) => match a.get(1) {
            Some(d) => Ok(d.clone()),
            None => Err(format!(
                "environment variable {name} is not set and no default was given"
            )),
        },
    }
}

fn get_platform(_: FuncArgs) -> Res {
    Ok(Value::String(std::env::consts::OS.to_string()))
}

fn get_terraform_command(_: FuncArgs) -> Res {
    Ok(Value::String("plan".into()))
}

fn get_terraform_cli_args(_: FuncArgs) -> Res {
    Ok(Value::Array(vec![]))
}

fn strings(v: &[&str]) -> Value {
    Value::Array(v.iter().map(|s| Value::String(s.to_string())).collect())
}

fn get_terraform_commands_that_need_vars(_: FuncArgs) -> Res {
    Ok(strings(&[
        "apply", "console", "destroy", "import", "plan", "push", "refresh",
    ]))
}
fn get_terraform_commands_that_need_input(_: FuncArgs) -> Res {
    Ok(strings(&["apply", "import", "init", "plan", "refresh"]))
}
fn get_terraform_commands_that_need_locking(_: FuncArgs) -> Res {
    Ok(strings(&[
        "apply", "destroy", "import", "init", "plan", "refresh", "taint", "untaint",
    ]))
}
fn get_terraform_commands_that_need_parallelism(_: FuncArgs) -> Res {
    Ok(strings(&["apply", "plan", "destroy"]))
}

fn file(a: FuncArgs) -> Res {
    let f = top()?;
    let path = arg_str(&a, 0, "the file path")?;
    let rel = f.resolve(&path, &f.tg_dir)?;
    let text = f.ev.snapshot().read_text(&rel).map_err(|e| e.to_string())?;
    f.deps.borrow_mut().read(&rel, ReadKind::File, "");
    Ok(Value::String(text))
}

/// `templatefile(path, vars)`: the file rendered as a template with `vars` and the functions
/// of a Terragrunt configuration; the file counts as read by the unit.
fn templatefile(a: FuncArgs) -> Res {
    use hcl::eval::Evaluate;
    let f = top()?;
    if a.is_empty() || a.len() > 2 {
        return Err(format!("expects 1 or 2 arguments, got {}", a.len()));
    }
    let path = arg_str(&a, 0, "the template path")?;
    let vars = match a.get(1) {
        None => hcl::Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(other) => {
            return Err(format!(
                "the variables must be an object, got {}",
                super::funcs::type_name(other)
            ))
        }
    };
    let rel = f.resolve(&path, &f.tg_dir)?;
    let text = f.ev.snapshot().read_text(&rel).map_err(|e| e.to_string())?;
    f.deps.borrow_mut().read(&rel, ReadKind::File, "");
    let template: hcl::Template = text
        .parse()
        .map_err(|e: hcl::Error| format!("{rel}: {}", clean_error(&e.to_string())))?;
    let mut ctx = Context::new();
    super::funcs::register(&mut ctx);
    register(&mut ctx);
    for (k, v) in vars {
        ctx.declare_var(k, v);
    }
    let out = template
        .evaluate(&ctx)
        .map_err(|e| format!("{rel}: {}", clean_error(&e.to_string())))?;
    Ok(Value::String(out))
}

fn fileexists(a: FuncArgs) -> Res {
    let f = top()?;
    let path = arg_str(&a, 0, "the file path")?;
    let rel = f.resolve(&path, &f.tg_dir)?;
    let exists = f.ev.snapshot().is_file(&rel);
    if !exists {
        refuse_escaping_link(f.ev.snapshot(), &rel)?;
    }
    let mut deps = f.deps.borrow_mut();
    deps.probes.insert(rel.clone());
    if exists {
        deps.read(&rel, ReadKind::Probe, "");
    }
    Ok(Value::Bool(exists))
}

fn abspath(a: FuncArgs) -> Res {
    let f = top()?;
    let path = arg_str(&a, 0, "the path")?;
    let rel = f.resolve(&path, &f.tg_dir)?;
    Ok(Value::String(f.abs(&rel)))
}
