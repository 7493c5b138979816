//! `slipway check`: rules and cost on one plan JSON.
//!
//! Exit codes: 0 when nothing blocks, 1 when a blocking finding exists, 2 when the plan or the
//! configuration cannot be read (the message names the file and what is wrong with it).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rules::config::PolicyConfig;
use rules::{Context, Plan};

/// Arguments of `slipway check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Plan JSON written by `terraform show -json PLANFILE` (`-` reads standard input).
    #[arg(long)]
    pub plan: PathBuf,
    /// Environment the plan belongs to (for example dev, staging, prod).
    #[arg(long)]
    pub env: String,
    /// AWS region for resources whose provider configuration names none (for example
    /// us-east-1). Without it: `region` in the environment's table of slipway.toml, then
    /// AWS_REGION, then AWS_DEFAULT_REGION.
    #[arg(long)]
    pub region: Option<String>,
    /// `slipway.toml` whose `[policy]` table applies (required tags, severities, exemptions).
    /// Without it the repository's slipway.toml is searched upward from the plan file, then
    /// from the working directory; the built-in defaults apply when there is none.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Largest plan accepted, in bytes: a longer input (an endless stream, a device) is an
    /// error rather than read without end.
    #[arg(long, default_value_t = DEFAULT_MAX_PLAN_BYTES)]
    pub max_plan_bytes: u64,
}

/// The default of `--max-plan-bytes`: 2 GiB, far above any real plan.
pub const DEFAULT_MAX_PLAN_BYTES: u64 = 2 << 30;

/// Output format of `slipway check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// Plain text for a terminal.
    Text,
    /// JSON: `findings` (rule, severity, address, message) and `cost` (monthly_before,
    /// monthly_after, monthly_delta in USD).
    Json,
    /// Markdown, as in the pull-request comment.
    Markdown,
}

/// Exit code when a blocking finding exists.
pub const EXIT_BLOCKING: u8 = 1;
/// Exit code when the input cannot be read.
pub const EXIT_UNREADABLE: u8 = 2;

/// What `check` printed and whether it blocks.
#[derive(Debug)]
pub struct Outcome {
    /// The rendered report.
    pub output: String,
    /// Whether a blocking finding exists.
    pub blocking: bool,
    /// Lines about the inputs used (config file, region), printed on standard error so the
    /// JSON on standard output stays clean.
    pub notes: Vec<String>,
}

pub fn run(args: CheckArgs) -> ExitCode {
    match execute(&args) {
        Ok(outcome) => {
            for note in &outcome.notes {
                eprintln!("slipway check: {note}");
            }
            if outcome.output.ends_with('\n') {
                super::emit(&outcome.output);
            } else {
                super::emitln(&outcome.output);
            }
            if outcome.blocking {
                ExitCode::from(EXIT_BLOCKING)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(message) => {
            eprintln!("slipway check: {message}");
            ExitCode::from(EXIT_UNREADABLE)
        }
    }
}

/// Reads the inputs, evaluates, renders. Errors are messages for the user.
pub fn execute(args: &CheckArgs) -> Result<Outcome, String> {
    execute_with(args, &Environment::from_process())
}

/// What `check` reads from its process: the working directory and the AWS region variables.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// The working directory (the second place slipway.toml is searched from).
    pub cwd: Option<PathBuf>,
    /// `AWS_REGION`.
    pub aws_region: Option<String>,
    /// `AWS_DEFAULT_REGION`.
    pub aws_default_region: Option<String>,
}

impl Environment {
    /// The running process's.
    pub fn from_process() -> Environment {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Environment {
            cwd: std::env::current_dir().ok(),
            aws_region: var("AWS_REGION"),
            aws_default_region: var("AWS_DEFAULT_REGION"),
        }
    }
}

/// [`execute`] with a given environment (tests).
pub fn execute_with(args: &CheckArgs, env: &Environment) -> Result<Outcome, String> {
    let mut notes = Vec::new();
    let config = match &args.config {
        Some(path) => Some(path.clone()),
        None => find_config(&args.plan, env.cwd.as_deref()),
    };
    let (policy, config_text) = match &config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
            let policy = PolicyConfig::from_slipway_toml(&text)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            notes.push(format!(
                "using config {}{}",
                path.display(),
                revision_of(path)
            ));
            (policy, Some(text))
        }
        None => {
            notes.push(
                "no slipway.toml found above the plan file or the working directory: built-in policy defaults"
                    .to_string(),
            );
            (PolicyConfig::default(), None)
        }
    };
    let env_region = config_text
        .as_deref()
        .and_then(|t| env_region(t, &args.env));
    let region = [
        (args.region.clone(), "--region"),
        (env_region, "the environment's table in slipway.toml"),
        (env.aws_region.clone(), "AWS_REGION"),
        (env.aws_default_region.clone(), "AWS_DEFAULT_REGION"),
    ]
    .into_iter()
    .find_map(|(r, from)| r.map(|r| (r, from)));
    if let Some((r, from)) = &region {
        notes.push(format!("default region {r} (from {from})"));
    }
    let bytes = read_input(&args.plan, args.max_plan_bytes)?;
    let plan = Plan::parse(&bytes).map_err(|e| format!("{}: {e}", shown(&args.plan)))?;
    let report = rules::evaluate(
        &plan,
        &Context {
            env: &args.env,
            region: region.as_ref().map(|(r, _)| r.as_str()),
            policy: &policy,
        },
    );
    let output = match args.format {
        CheckFormat::Text => report.to_text(),
        CheckFormat::Json => report.to_json(),
        CheckFormat::Markdown => report.to_markdown(),
    };
    Ok(Outcome {
        output,
        blocking: report.is_blocking(),
        notes,
    })
}

/// The first slipway.toml in the plan file's directory or above it, then in the working
/// directory or above it.
pub fn find_config(plan: &Path, cwd: Option<&Path>) -> Option<PathBuf> {
    let from_plan = if plan == Path::new("-") {
        None
    } else {
        let absolute = match (plan.is_absolute(), cwd) {
            (false, Some(cwd)) => cwd.join(plan),
            _ => plan.to_path_buf(),
        };
        absolute.parent().map(Path::to_path_buf)
    };
    let found = [from_plan.as_deref(), cwd]
        .into_iter()
        .flatten()
        .find_map(|start| {
            start
                .ancestors()
                .map(|d| d.join("slipway.toml"))
                .find(|p| p.is_file())
        });
    found
}

/// Which revision a configuration file on disk is: ` (the work tree of <repo> at commit
/// abc1234, unmodified)`, or nothing outside a git repository.
fn revision_of(path: &Path) -> String {
    let Ok(repo) = git2::Repository::discover(path.parent().unwrap_or(path)) else {
        return String::new();
    };
    let (Some(workdir), Ok(head)) = (repo.workdir(), repo.head()) else {
        return String::new();
    };
    let Some(commit) = head.target() else {
        return String::new();
    };
    let short: String = commit.to_string().chars().take(7).collect();
    let file = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let root = std::fs::canonicalize(workdir).unwrap_or_else(|_| workdir.to_path_buf());
    let state = match file.strip_prefix(&root).map(|rel| repo.status_file(rel)) {
        Ok(Ok(s)) if s.is_empty() => "unmodified",
        Ok(Ok(s)) if s.contains(git2::Status::WT_NEW) => "not committed",
        Ok(Ok(_)) => "modified since",
        _ => return String::new(),
    };
    format!(" (the work tree at commit {short}, {state})")
}

/// `[environments.<env>] region`, when slipway.toml sets it. Read leniently: the file is
/// validated as a whole by the service; here only the region matters.
fn env_region(text: &str, env: &str) -> Option<String> {
    let table: toml::Table = toml::from_str(text).ok()?;
    table
        .get("environments")?
        .get(env)?
        .get("region")?
        .as_str()
        .map(str::to_string)
}

fn shown(path: &Path) -> String {
    if path == Path::new("-") {
        "standard input".to_string()
    } else {
        path.display().to_string()
    }
}

/// Reads the plan, at most `max` bytes: one byte more is an error naming the limit.
fn read_input(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let from = shown(path);
    let source: Box<dyn Read> = if path == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        if path.is_dir() {
            return Err(format!(
                "{} is a directory; pass the plan JSON file written by `terraform show -json PLANFILE`",
                path.display()
            ));
        }
        Box::new(
            std::fs::File::open(path)
                .map_err(|e| format!("cannot read plan {}: {e}", path.display()))?,
        )
    };
    let mut bytes = Vec::new();
    source
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the plan from {from}: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(format!(
            "{from}: the plan is longer than {max} bytes (--max-plan-bytes); is it a plan JSON written by `terraform show -json PLANFILE`?"
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../rules/tests/fixtures")
            .join(name)
    }

    fn args(plan: PathBuf, env: &str, format: CheckFormat) -> CheckArgs {
        CheckArgs {
            plan,
            env: env.to_string(),
            region: None,
            config: None,
            format,
            max_plan_bytes: DEFAULT_MAX_PLAN_BYTES,
        }
    }

    #[test]
    fn plan_with_open_ssh_in_prod_blocks() {
        let outcome = execute(&args(fixture("aws-1.2.json"), "prod", CheckFormat::Text));
        let outcome = outcome.unwrap_or_else(|e| panic!("{e}"));
        assert!(outcome.blocking);
        assert!(outcome.output.contains("sg-open-ingress"));
    }

    #[test]
    fn plan_without_findings_does_not_block() {
        let outcome = execute(&args(fixture("null-0.2.json"), "prod", CheckFormat::Text));
        let outcome = outcome.unwrap_or_else(|e| panic!("{e}"));
        assert!(!outcome.blocking, "{}", outcome.output);
    }

    #[test]
    fn json_output_has_findings_and_cost_in_the_documented_shape() {
        let outcome = execute(&args(fixture("aws-1.2.json"), "prod", CheckFormat::Json));
        let outcome = outcome.unwrap_or_else(|e| panic!("{e}"));
        let v: serde_json::Value =
            serde_json::from_str(&outcome.output).unwrap_or_else(|e| panic!("{e}"));
        let first = &v["findings"][0];
        for key in ["rule", "severity", "address", "message"] {
            assert!(first[key].is_string(), "findings[0].{key} in {first}");
        }
        for key in ["monthly_before", "monthly_after", "monthly_delta"] {
            assert!(v["cost"][key].is_number(), "cost.{key}");
        }
    }

    #[test]
    fn unreadable_inputs_name_the_file_and_the_problem() {
        let missing = execute(&args(
            PathBuf::from("/nonexistent/plan.json"),
            "dev",
            CheckFormat::Text,
        ));
        let e = missing.err().unwrap_or_default();
        assert!(e.contains("/nonexistent/plan.json"), "{e}");
        let dir = execute(&args(fixture(""), "dev", CheckFormat::Text));
        assert!(dir.err().unwrap_or_default().contains("is a directory"));
        let mut with_config = args(fixture("aws-1.2.json"), "dev", CheckFormat::Text);
        with_config.config = Some(fixture("aws-1.2.json"));
        let e = execute(&with_config).err().unwrap_or_default();
        assert!(e.contains("aws-1.2.json"), "{e}");
    }

    fn fixture11(name: &str) -> PathBuf {
        fixture(&format!("issue11/{name}"))
    }

    #[test]
    fn a_failed_plan_blocks_and_says_plan_failed_never_no_changes() {
        let outcome = execute_with(
            &args(fixture11("errored-1.2.json"), "dev", CheckFormat::Text),
            &Environment::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(outcome.blocking);
        assert!(outcome.output.contains("plan failed"), "{}", outcome.output);
        assert!(!outcome.output.contains("No changes"), "{}", outcome.output);
    }

    #[test]
    fn the_repository_config_is_found_upward_from_the_plan_file_and_named() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let unit = dir.path().join("live/accounts/prod/us-east-1/db");
        std::fs::create_dir_all(&unit).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            dir.path().join("slipway.toml"),
            "[environments.prod]\npath = \"live/accounts/prod\"\nregion = \"us-west-2\"\n\n[policy]\nrequired_tags = [\"Owner\"]\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let plan = unit.join("plan.json");
        std::fs::copy(fixture("aws-1.2.json"), &plan).unwrap_or_else(|e| panic!("{e}"));
        let env = Environment {
            cwd: Some(PathBuf::from("/")),
            aws_region: Some("eu-west-1".into()),
            aws_default_region: None,
        };
        let outcome = execute_with(&args(plan, "prod", CheckFormat::Text), &env)
            .unwrap_or_else(|e| panic!("{e}"));
        let notes = outcome.notes.join("\n");
        assert!(
            notes.contains(&format!(
                "using config {}",
                dir.path().join("slipway.toml").display()
            )),
            "{notes}"
        );
        // The environment's region comes before AWS_REGION.
        assert!(
            notes.contains("default region us-west-2 (from the environment's table"),
            "{notes}"
        );
        assert!(
            outcome.output.contains("tags-required"),
            "{}",
            outcome.output
        );
    }

    #[test]
    fn region_falls_back_to_aws_region_then_aws_default_region() {
        let env = Environment {
            cwd: None,
            aws_region: None,
            aws_default_region: Some("us-west-2".into()),
        };
        let outcome = execute_with(
            &args(fixture("aws-1.2.json"), "dev", CheckFormat::Text),
            &env,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            outcome
                .notes
                .iter()
                .any(|n| n.contains("us-west-2 (from AWS_DEFAULT_REGION)")),
            "{:?}",
            outcome.notes
        );
        let mut explicit = args(fixture("aws-1.2.json"), "dev", CheckFormat::Text);
        explicit.region = Some("us-east-1".into());
        let outcome = execute_with(&explicit, &env).unwrap_or_else(|e| panic!("{e}"));
        assert!(outcome
            .notes
            .iter()
            .any(|n| n.contains("us-east-1 (from --region)")));
    }

    #[test]
    fn wrapper_polluted_plan_is_explained() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("plan.json");
        let mut bytes = b"[command]/usr/bin/terraform show -json tfplan\n".to_vec();
        bytes.extend(std::fs::read(fixture("null-0.2.json")).unwrap_or_default());
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
        let e = execute(&args(path, "dev", CheckFormat::Text))
            .err()
            .unwrap_or_default();
        assert!(
            e.contains("plan.json") && e.contains("terraform_wrapper: false"),
            "{e}"
        );
    }
}
