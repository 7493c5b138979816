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
    /// AWS region for resources whose provider configuration names none (for example us-east-1).
    #[arg(long)]
    pub region: Option<String>,
    /// `slipway.toml` whose `[policy]` table applies (required tags, severities, exemptions).
    /// Without it the built-in defaults apply.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
}

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
}

pub fn run(args: CheckArgs) -> ExitCode {
    match execute(&args) {
        Ok(outcome) => {
            print!("{}", outcome.output);
            if !outcome.output.ends_with('\n') {
                println!();
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
    let policy = match &args.config {
        Some(path) => read_policy(path)?,
        None => PolicyConfig::default(),
    };
    let bytes = read_input(&args.plan)?;
    let plan = Plan::parse(&bytes).map_err(|e| format!("{}: {e}", shown(&args.plan)))?;
    let report = rules::evaluate(
        &plan,
        &Context {
            env: &args.env,
            region: args.region.as_deref(),
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
    })
}

fn shown(path: &Path) -> String {
    if path == Path::new("-") {
        "standard input".to_string()
    } else {
        path.display().to_string()
    }
}

fn read_input(path: &Path) -> Result<Vec<u8>, String> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read the plan from standard input: {e}"))?;
        return Ok(bytes);
    }
    if path.is_dir() {
        return Err(format!(
            "{} is a directory; pass the plan JSON file written by `terraform show -json PLANFILE`",
            path.display()
        ));
    }
    std::fs::read(path).map_err(|e| format!("cannot read plan {}: {e}", path.display()))
}

fn read_policy(path: &Path) -> Result<PolicyConfig, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
    PolicyConfig::from_slipway_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
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
