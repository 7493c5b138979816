//! Terragrunt's own functions. They depend on where the evaluation stands (the unit's directory,
//! the included file, the repository), which hcl-rs's plain function pointers cannot capture: the
//! evaluator pushes a frame on a thread-local stack for the duration of each file's evaluation and
//! the functions read the top frame.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};
use hcl::Value;

use super::eval::{clean_error, Evaluator};
use super::runtime::{env_is_secret, RunValues};
use super::unknown;
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
    /// A stack file that generates the unit, or the values it gave the unit.
    Stack,
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
    /// Whether a `templatefile` is being rendered on this thread.
    static IN_TEMPLATE: Cell<bool> = const { Cell::new(false) };
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
        ("get_aws_account_id", get_aws_account_id),
        ("get_aws_account_alias", get_aws_account_alias),
        ("get_aws_caller_identity_arn", get_aws_caller_identity_arn),
        (
            "get_aws_caller_identity_user_id",
            get_aws_caller_identity_user_id,
        ),
        ("run_cmd", run_cmd),
        ("sops_decrypt_file", sops_decrypt_file),
        ("templatefile", templatefile),
        ("filebase64", filebase64),
        ("filemd5", filemd5),
        ("filesha1", filesha1),
        ("filesha256", filesha256),
        ("filesha512", filesha512),
        ("filebase64sha256", filebase64sha256),
        ("filebase64sha512", filebase64sha512),
        ("fileset", fileset),
        ("read_tfvars_file", read_tfvars_file),
        ("mark_as_read", mark_as_read),
        ("mark_glob_as_read", mark_glob_as_read),
        ("get_working_dir", get_working_dir),
        (
            "get_terragrunt_source_cli_flag",
            get_terragrunt_source_cli_flag,
        ),
        ("get_default_retryable_errors", get_default_retryable_errors),
        ("constraint_check", constraint_check),
        ("deep_merge", deep_merge),
    ];
    for (name, f) in table {
        ctx.declare_func(
            *name,
            FuncDef::builder().variadic_param(ParamType::Any).build(*f),
        );
    }
}

/// Functions that need the outside world: unknown during discovery, real in a run.
pub const OUTSIDE_WORLD: &[&str] = &[
    "get_aws_account_id",
    "get_aws_account_alias",
    "get_aws_caller_identity_arn",
    "get_aws_caller_identity_user_id",
    "run_cmd",
    "sops_decrypt_file",
];

/// A call shown as the user wrote it, for the reason of an unknown: `run_cmd("whoami")`.
fn call_text(name: &str, a: &FuncArgs) -> String {
    let args: Vec<String> = a
        .iter()
        .map(|v| match v {
            Value::String(s) if !unknown::str_is_unknown(s) => format!("{s:?}"),
            Value::String(_) => "(unknown)".to_string(),
            other => super::funcs::type_name(other).to_string(),
        })
        .collect();
    let mut text = format!("{name}({})", args.join(", "));
    if text.len() > 120 {
        let mut cut = 117;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("...");
    }
    text
}

/// The run's values, or `None` during discovery.
fn run_values(f: &Frame) -> Option<&RunValues> {
    f.ev.run_values()
}

/// Whether the configuration on top of the stack is evaluated for a run (not discovery).
pub fn in_run() -> bool {
    top().is_ok_and(|f| run_values(&f).is_some())
}

/// An AWS identity value: unknown during discovery, from STS in a run.
fn aws_identity(name: &str, a: &FuncArgs, pick: fn(&super::runtime::AwsIdentity) -> &str) -> Res {
    let f = top()?;
    match run_values(&f) {
        None => Ok(unknown::value(&call_text(name, a))),
        Some(run) => match &run.aws {
            Some(id) => Ok(Value::String(pick(id).to_string())),
            None => Ok(unknown::value(&format!(
                "{}: this run has no AWS identity (the unit's environment names no plan or \
                 apply role in slipway.toml or account.hcl, or Slipway runs without roles)",
                call_text(name, a)
            ))),
        },
    }
}

fn get_aws_account_id(a: FuncArgs) -> Res {
    aws_identity("get_aws_account_id", &a, |i| &i.account_id)
}

fn get_aws_caller_identity_arn(a: FuncArgs) -> Res {
    aws_identity("get_aws_caller_identity_arn", &a, |i| &i.arn)
}

fn get_aws_caller_identity_user_id(a: FuncArgs) -> Res {
    aws_identity("get_aws_caller_identity_user_id", &a, |i| &i.user_id)
}

fn get_aws_account_alias(a: FuncArgs) -> Res {
    let f = top()?;
    match run_values(&f) {
        None => Ok(unknown::value(&call_text("get_aws_account_alias", &a))),
        Some(_) => Err(
            "not supported in a Slipway run (it needs IAM ListAccountAliases): \
             set the alias as a local in account.hcl"
                .to_string(),
        ),
    }
}

/// A command a configuration runs in a run: the run's variables and the PATH only, no input.
fn run_command(program: impl AsRef<std::ffi::OsStr>, run: &RunValues) -> std::process::Command {
    let mut cmd = std::process::Command::new(program);
    cmd.env_clear()
        .envs(&run.env)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(std::process::Stdio::null());
    cmd
}

/// Longest a command of `run_cmd` may run before it is killed and the unit fails.
pub const RUN_CMD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// Runs `cmd` to completion, its output collected; killed once `limit` has passed.
fn output_within(
    mut cmd: std::process::Command,
    limit: std::time::Duration,
) -> Result<std::process::Output, String> {
    use std::io::Read;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run: {e}"))?;
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = std::time::Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "did not finish within {} s: stopped",
                    limit.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(10)),
            Err(e) => return Err(e.to_string()),
        }
    };
    Ok(std::process::Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// `run_cmd([--terragrunt-quiet,] command, args...)`: unknown during discovery; in a run,
/// executed only where the environment allows it, in the unit's directory, its standard output
/// (without the final newline) the value.
fn run_cmd(a: FuncArgs) -> Res {
    let f = top()?;
    let Some(run) = run_values(&f) else {
        return Ok(unknown::value(&call_text("run_cmd", &a)));
    };
    let Some(dir) = &run.run_cmd_dir else {
        return Ok(unknown::value(&format!(
            "{}: {}",
            call_text("run_cmd", &a),
            run.run_cmd_refusal
        )));
    };
    let mut words = Vec::new();
    for (i, v) in a.iter().enumerate() {
        match v {
            Value::String(s) => words.push(s.clone()),
            other => {
                return Err(format!(
                    "argument {} must be a string, got {}",
                    i + 1,
                    super::funcs::type_name(other)
                ))
            }
        }
    }
    let quiet = ["--terragrunt-quiet", "--terragrunt-global-cache"];
    while words.first().is_some_and(|w| quiet.contains(&w.as_str())) {
        words.remove(0);
    }
    let Some((program, args)) = words.split_first() else {
        return Err("needs a command to run".into());
    };
    let unit_dir = dir.join(&f.tg_dir);
    let cwd = if unit_dir.is_dir() {
        unit_dir
    } else {
        dir.clone()
    };
    let mut cmd = run_command(program, run);
    cmd.args(args).current_dir(&cwd);
    let out = output_within(cmd, RUN_CMD_TIMEOUT).map_err(|e| format!("{program}: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "{program} failed ({}): {}",
            out.status,
            stderr.trim().lines().last().unwrap_or_default()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(Value::String(
        text.strip_suffix('\n').unwrap_or(&text).to_string(),
    ))
}

/// `sops_decrypt_file(path)`: unknown during discovery; in a run, the file decrypted by the
/// configured `sops` binary. The file counts as read by the unit.
fn sops_decrypt_file(a: FuncArgs) -> Res {
    let f = top()?;
    let path = arg_str(&a, 0, "the file path")?;
    let rel = f.resolve(&path, f.file_dir())?;
    if f.ev.snapshot().is_file(&rel) {
        f.deps.borrow_mut().read(&rel, ReadKind::File, "");
    }
    let Some(run) = run_values(&f) else {
        return Ok(unknown::value(&call_text("sops_decrypt_file", &a)));
    };
    let Some(sops) = &run.sops else {
        return Ok(unknown::value(&format!(
            "{}: no sops binary is configured for runs (SLIPWAY_SOPS)",
            call_text("sops_decrypt_file", &a)
        )));
    };
    let bytes = f.ev.snapshot().read(&rel).map_err(|e| e.to_string())?;
    let ext = rel.rsplit_once('.').map_or("", |(_, e)| e);
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let copy = dir.path().join(format!("secret.{ext}"));
    std::fs::write(&copy, &*bytes).map_err(|e| format!("cannot copy {rel}: {e}"))?;
    let out = run_command(sops, run)
        .arg("--decrypt")
        .arg(&copy)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", sops.display()))?;
    if !out.status.success() {
        return Err(format!(
            "sops could not decrypt {rel}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout)
        .map(Value::String)
        .map_err(|_| format!("{rel}: decrypted content is not UTF-8"))
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

    /// The directory of the file being evaluated: relative paths of Terraform's file functions
    /// start there.
    pub fn file_dir(&self) -> &str {
        self.include_dir.as_deref().unwrap_or(&self.tg_dir)
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
        // Terragrunt finds directories too: `find_in_parent_folders("shared")`.
        if snap.is_file(&candidate) || snap.is_dir(&candidate) {
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
        if run_values(&f).is_none() {
            return Ok(unknown::value(&format!(
                "read_terragrunt_config(\"{path}\"): {rel} is not in the repository"
            )));
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
    let depth = READING.with(|r| r.borrow().len());
    if depth >= super::budget::MAX_READ_DEPTH {
        return Err(format!(
            "read_terragrunt_config calls nest deeper than {} files (reading {rel}): a chain that long is refused",
            super::budget::MAX_READ_DEPTH
        ));
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
    if result.has_unknown {
        unknown::note_produced();
    }
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

/// `get_env(name, default)`: during discovery the process environment (the user's, on the
/// command line), in a run the run's variables. Slipway's own settings and the cloud's and
/// GitHub's credentials are never visible (see [`env_is_secret`]): for a configuration they are
/// unset. An unset variable without a default is unknown during discovery and an error in a run.
fn get_env(a: FuncArgs) -> Res {
    let f = top()?;
    let name = arg_str(&a, 0, "the variable name")?;
    let refused = env_is_secret(&name);
    // A run sees the variables its environment's configuration gives it (built without
    // secrets); discovery sees the process's own, never a secret, and none in the service.
    let value = match run_values(&f) {
        Some(run) => run.env.get(&name).cloned(),
        None if refused || !super::runtime::discovery_reads_process_env() => None,
        None => std::env::var(&name).ok(),
    };
    if let Some(v) = value {
        return Ok(Value::String(v));
    }
    if let Some(d) = a.get(1) {
        return Ok(d.clone());
    }
    let why = if refused {
        format!(
            "environment variable {name} may not be read by a configuration \
             (it holds Slipway's settings or a credential)"
        )
    } else {
        format!("environment variable {name} is not set and no default was given")
    };
    // In a run too: a value nothing uses costs nothing; one that reaches the unit's inputs
    // fails its run with this reason.
    Ok(unknown::value(&format!("get_env(\"{name}\"): {why}")))
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

/// `file(path)`: a relative path is resolved from the directory of the file being evaluated
/// (an included or read configuration's own), as Terraform's functions resolve it in
/// Terragrunt. A file that is not in the repository (ignored by git, made by CI) is unknown
/// during discovery, and watched: its appearance affects the unit.
fn file(a: FuncArgs) -> Res {
    let f = top()?;
    let path = arg_str(&a, 0, "the file path")?;
    let rel = f.resolve(&path, f.file_dir())?;
    match f.ev.snapshot().read_text(&rel) {
        Ok(text) => {
            f.deps.borrow_mut().read(&rel, ReadKind::File, "");
            Ok(Value::String(text))
        }
        Err(ReadError::NotFound(_)) if run_values(&f).is_none() => {
            f.deps.borrow_mut().probes.insert(rel.clone());
            Ok(unknown::value(&format!(
                "file(\"{path}\"): {rel} is not in the repository"
            )))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// The bytes of a file argument, resolved like `file()`'s and counted as read; `None` (an
/// unknown) during discovery when the file is not in the repository.
fn read_bytes(f: &Frame, name: &str, a: &FuncArgs) -> Result<Result<Arc<[u8]>, Value>, String> {
    let path = arg_str(a, 0, "the file path")?;
    let rel = f.resolve(&path, f.file_dir())?;
    match f.ev.snapshot().read(&rel) {
        Ok(bytes) => {
            f.deps.borrow_mut().read(&rel, ReadKind::File, "");
            Ok(Ok(bytes))
        }
        Err(ReadError::NotFound(_)) if run_values(f).is_none() => {
            f.deps.borrow_mut().probes.insert(rel.clone());
            Ok(Err(unknown::value(&format!(
                "{name}(\"{path}\"): {rel} is not in the repository"
            ))))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// `filebase64`, `filemd5`, ... : Terraform's digest of a file's bytes.
fn file_digest(name: &str, a: FuncArgs) -> Res {
    let f = top()?;
    match read_bytes(&f, name, &a)? {
        Ok(bytes) => super::funcs::file_function(name, &bytes),
        Err(unknown) => Ok(unknown),
    }
}

macro_rules! file_digests {
    ($($name:ident),*) => {
        $(fn $name(a: FuncArgs) -> Res {
            file_digest(stringify!($name), a)
        })*
    };
}
file_digests!(
    filebase64,
    filemd5,
    filesha1,
    filesha256,
    filesha512,
    filebase64sha256,
    filebase64sha512
);

/// `fileset(path, pattern)`: the repository's files under `path` matching `pattern`, relative to
/// `path`; each counts as read by the unit.
fn fileset(a: FuncArgs) -> Res {
    let f = top()?;
    let path = arg_str(&a, 0, "the directory")?;
    let pattern = arg_str(&a, 1, "the pattern")?;
    let dir = f.resolve(&path, f.file_dir())?;
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let under: Vec<&str> =
        f.ev.snapshot()
            .paths()
            .filter_map(|p| p.strip_prefix(&prefix))
            .collect();
    let found = super::funcs::fileset_match(&pattern, &under)?;
    let mut deps = f.deps.borrow_mut();
    for rel in &found {
        deps.read(&format!("{prefix}{rel}"), ReadKind::File, "fileset");
    }
    Ok(Value::Array(found.into_iter().map(Value::String).collect()))
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
    if IN_TEMPLATE.with(Cell::get) {
        // As in Terraform: a template rendering templates could render itself without end.
        return Err(format!(
            "templatefile(\"{path}\") is called from inside a template; templatefile cannot be called recursively"
        ));
    }
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
    let rel = f.resolve(&path, f.file_dir())?;
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
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            IN_TEMPLATE.with(|t| t.set(false));
        }
    }
    IN_TEMPLATE.with(|t| t.set(true));
    let _leave = Leave;
    let out = template
        .evaluate(&ctx)
        .map_err(|e| format!("{rel}: {}", clean_error(&e.to_string())))?;
    super::budget::charge((out.len() / 64) as u64)?;
    Ok(Value::String(out))
}

fn fileexists(a: FuncArgs) -> Res {
    let f = top()?;
    let path = arg_str(&a, 0, "the file path")?;
    let rel = f.resolve(&path, f.file_dir())?;
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

/// `read_tfvars_file(path)`: a `.tfvars` (or `.tfvars.json`) file of the repository as a JSON
/// string, its keys sorted as Terragrunt's encoding sorts them. A relative path starts at the
/// unit's directory; the file counts as read by the unit. A file that is not in the repository
/// is unknown during discovery, as for `file()`.
fn read_tfvars_file(a: FuncArgs) -> Res {
    use hcl::eval::Evaluate;
    let f = top()?;
    if a.len() != 1 {
        return Err(format!("expects 1 argument, got {}", a.len()));
    }
    let path = arg_str(&a, 0, "the file path")?;
    let rel = f.resolve(&path, &f.tg_dir)?;
    let text = match f.ev.snapshot().read_text(&rel) {
        Ok(text) => text,
        Err(ReadError::NotFound(_)) if run_values(&f).is_none() => {
            f.deps.borrow_mut().probes.insert(rel.clone());
            return Ok(unknown::value(&format!(
                "read_tfvars_file(\"{path}\"): {rel} is not in the repository"
            )));
        }
        Err(ReadError::NotFound(_)) => return Err(format!("the var file {rel} does not exist")),
        Err(e) => return Err(e.to_string()),
    };
    f.deps
        .borrow_mut()
        .read(&rel, ReadKind::VarFile, "read_tfvars_file");
    let json: serde_json::Value = if rel.ends_with("json") {
        serde_json::from_str(&text).map_err(|e| format!("{rel}: not JSON: {e}"))?
    } else {
        let body: hcl::Body = hcl::parse(&text).map_err(|e| format!("{rel}: {e}"))?;
        if let Some(b) = body.blocks().next() {
            return Err(format!(
                "{rel}: a var file holds attributes only, not a `{}` block",
                b.identifier()
            ));
        }
        // Literal values only: no variables, no functions.
        let ctx = Context::new();
        let mut vars = serde_json::Map::new();
        for attr in body.attributes() {
            let v = attr
                .expr()
                .evaluate(&ctx)
                .map_err(|e| format!("{rel}: {}: {}", attr.key(), clean_error(&e.to_string())))?;
            vars.insert(
                attr.key().to_string(),
                serde_json::to_value(&v).map_err(|e| e.to_string())?,
            );
        }
        serde_json::Value::Object(vars)
    };
    let sorted = sort_keys(json);
    serde_json::to_string(&sorted)
        .map(Value::String)
        .map_err(|e| e.to_string())
}

/// The same JSON with every object's keys in order.
fn sort_keys(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let sorted: BTreeMap<String, serde_json::Value> =
                m.into_iter().map(|(k, v)| (k, sort_keys(v))).collect();
            serde_json::Value::Object(sorted.into_iter().collect())
        }
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.into_iter().map(sort_keys).collect())
        }
        other => other,
    }
}

/// `mark_as_read(path)`: the path, unchanged; the file counts as read by the unit (a relative
/// path starts at the unit's directory), so that a change to it affects the unit.
fn mark_as_read(a: FuncArgs) -> Res {
    let f = top()?;
    if a.len() != 1 {
        return Err(format!("expects 1 argument, got {}", a.len()));
    }
    let path = arg_str(&a, 0, "the file path")?;
    let rel = f.resolve(&path, &f.tg_dir)?;
    let mut deps = f.deps.borrow_mut();
    deps.probes.insert(rel.clone());
    if f.ev.snapshot().is_file(&rel) {
        deps.read(&rel, ReadKind::File, "mark_as_read");
    }
    Ok(Value::String(path))
}

/// `mark_glob_as_read(pattern)`: the repository's files matching the pattern (a relative one
/// starts at the unit's directory), as absolute paths; each counts as read by the unit. `*`
/// matches within one path segment, `**` across segments, `?` one character, `{a,b}` either,
/// `\` escapes. Terragrunt asks for its `mark-many-as-read` experiment; Slipway reads it always.
fn mark_glob_as_read(a: FuncArgs) -> Res {
    let f = top()?;
    if a.len() != 1 {
        return Err(format!("expects 1 argument, got {}", a.len()));
    }
    let pattern = arg_str(&a, 0, "the pattern")?;
    let root = f.abs("");
    let rel_pattern = match pattern.strip_prefix(&format!("{root}/")) {
        Some(rest) => rest.to_string(),
        None if pattern.starts_with('/') => {
            return Err(format!("{pattern} is outside the repository"));
        }
        None => join(&f.tg_dir, &pattern),
    };
    let re = glob_regex(&rel_pattern)?;
    let mut found: Vec<&str> = f.ev.snapshot().paths().filter(|p| re.is_match(p)).collect();
    found.sort_unstable();
    let mut deps = f.deps.borrow_mut();
    let mut out = Vec::with_capacity(found.len());
    for p in found {
        deps.read(p, ReadKind::File, "mark_glob_as_read");
        out.push(Value::String(f.abs(p)));
    }
    Ok(Value::Array(out))
}

/// A glob pattern over repository paths as a regular expression; `.` and `..` segments are
/// resolved first.
fn glob_regex(pattern: &str) -> Result<regex::Regex, String> {
    let mut segments: Vec<&str> = Vec::new();
    for s in pattern.split('/') {
        match s {
            "" | "." => {}
            ".." => {
                segments
                    .pop()
                    .ok_or_else(|| format!("{pattern} leaves the repository"))?;
            }
            s => segments.push(s),
        }
    }
    let pattern = segments.join("/");
    let mut re = String::from("^");
    let mut chars = pattern.chars().peekable();
    let mut depth = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => re.push_str(&regex::escape(&n.to_string())),
                None => re.push_str(r"\\"),
            },
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                re.push_str(".*");
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '{' => {
                depth += 1;
                re.push_str("(?:");
            }
            ',' if depth > 0 => re.push('|'),
            '}' if depth > 0 => {
                depth -= 1;
                re.push(')');
            }
            '[' => {
                let mut class = String::from("[");
                let mut closed = false;
                for n in chars.by_ref() {
                    if n == ']' {
                        closed = true;
                        break;
                    }
                    match n {
                        '!' | '^' if class == "[" => class.push('^'),
                        // Set operators of the regex syntax, literal in a glob.
                        '\\' | '[' | '&' | '~' => {
                            class.push('\\');
                            class.push(n);
                        }
                        n => class.push(n),
                    }
                }
                if !closed {
                    return Err(format!("unclosed [ in the pattern {pattern}"));
                }
                class.push(']');
                re.push_str(&class);
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    if depth > 0 {
        return Err(format!("unclosed {{ in the pattern {pattern}"));
    }
    re.push('$');
    regex::Regex::new(&re).map_err(|e| format!("invalid pattern {pattern}: {e}"))
}

/// `get_working_dir()`: where the run happens. Unknown during discovery (it is a directory of
/// the run's machine); in a run, the unit's directory.
fn get_working_dir(a: FuncArgs) -> Res {
    let f = top()?;
    if !a.is_empty() {
        return Err(format!("expects no arguments, got {}", a.len()));
    }
    match run_values(&f) {
        None => Ok(unknown::value("get_working_dir(): the directory of a run")),
        Some(_) => Ok(Value::String(f.abs(&f.tg_dir))),
    }
}

/// `get_terragrunt_source_cli_flag()`: the `--source` Terragrunt was given; Slipway gives none.
fn get_terragrunt_source_cli_flag(_: FuncArgs) -> Res {
    Ok(Value::String(String::new()))
}

/// `get_default_retryable_errors()`: Terragrunt's default `retryable_errors` patterns.
fn get_default_retryable_errors(_: FuncArgs) -> Res {
    Ok(strings(DEFAULT_RETRYABLE_ERRORS))
}

/// The transient terraform errors Terragrunt retries by default (regular expressions).
const DEFAULT_RETRYABLE_ERRORS: &[&str] = &[
    r"(?s).*Failed to load state.*tcp.*timeout.*",
    r"(?s).*Failed to load backend.*TLS handshake timeout.*",
    r"(?s).*Creating metric alarm failed.*request to update this alarm is in progress.*",
    r"(?s).*Error installing provider.*TLS handshake timeout.*",
    r"(?s).*Error configuring the backend.*TLS handshake timeout.*",
    r"(?s).*Error installing provider.*tcp.*timeout.*",
    r"(?s).*Error installing provider.*tcp.*connection reset by peer.*",
    r"NoSuchBucket: The specified bucket does not exist",
    r"(?s).*Error creating SSM parameter: TooManyUpdates:.*",
    r"(?s).*app.terraform.io.*: 429 Too Many Requests.*",
    r"(?s).*ssh_exchange_identification.*Connection closed by remote host.*",
    r"(?s).*Client\.Timeout exceeded while awaiting headers.*",
    r"(?s).*Could not download module.*The requested URL returned error: 429.*",
    r"(?s).*net/http: TLS.*handshake timeout.*",
    r"(?s).*could not query provider registry.*context deadline exceeded.*",
    r"(?s).*provider.*TLS handshake timeout.*",
    r"(?s).*provider.*tcp.*timeout.*",
    r"(?s).*provider.*tcp.*connection reset by peer.*",
    r"(?s).*provider.*context deadline exceeded.*",
    r"(?s).*registry.*context deadline exceeded.*",
    r"(?s).*Failed to resolve provider.*timeout.*",
    r"(?s).*Failed to resolve provider.*connection reset by peer.*",
    r"(?s).*Failed to resolve provider.*context deadline exceeded.*",
    r"(?s).*could not connect to registry.*timeout.*",
    r"(?s).*could not connect to registry.*connection reset by peer.*",
    r"(?s).*could not connect to registry.*context deadline exceeded.*",
    r"(?s).*failed to request discovery document.*context deadline exceeded.*",
    r"(?s).*Failed to query available provider packages.*timeout.*",
    r"(?s).*Failed to query available provider packages.*connection reset by peer.*",
    r"(?s).*Failed to query available provider packages.*context deadline exceeded.*",
];

/// `constraint_check(version, constraint)`: whether the version satisfies the constraint
/// (`">= 1.2, < 2.0"`, `"~> 1.4"`).
fn constraint_check(a: FuncArgs) -> Res {
    if a.len() != 2 {
        return Err(format!("expects 2 arguments, got {}", a.len()));
    }
    let version = arg_str(&a, 0, "the version")?;
    let constraint = arg_str(&a, 1, "the constraint")?;
    super::constraint::check(&version, &constraint).map(Value::Bool)
}

/// `deep_merge(a, b, ...)`: objects merged as `merge_strategy = "deep"` merges an include:
/// objects recursively, lists concatenated, anything else the later one.
fn deep_merge(a: FuncArgs) -> Res {
    let mut out = Value::Object(hcl::Map::new());
    for (i, v) in a.iter().enumerate() {
        match v {
            Value::Object(_) => out = super::eval::deep_merge(&out, v),
            Value::Null => {}
            other => {
                return Err(format!(
                    "argument {} must be an object, got {}",
                    i + 1,
                    super::funcs::type_name(other)
                ))
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod run_cmd_tests {
    use super::*;

    #[test]
    fn a_command_past_its_time_is_stopped() {
        let started = std::time::Instant::now();
        let mut cmd = std::process::Command::new("sleep");
        cmd.arg("30");
        let err = output_within(cmd, std::time::Duration::from_millis(200)).expect_err("stopped");
        assert!(err.contains("did not finish within"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn a_command_in_time_gives_its_output() {
        let mut cmd = std::process::Command::new("echo");
        cmd.arg("hello");
        let out = output_within(cmd, std::time::Duration::from_secs(20)).expect("ran");
        assert!(out.status.success());
        assert_eq!(out.stdout, b"hello\n");
    }
}
