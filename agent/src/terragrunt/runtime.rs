//! What a run knows that discovery does not. During discovery the functions that need the
//! outside world (`get_aws_*`, `run_cmd`, `sops_decrypt_file`, `get_env` of an unset variable)
//! give an unknown value; when the engine plans or applies a unit it evaluates the unit again
//! with these values, and a value still unknown then fails that unit's run with its reason.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The identity a run acts as, from STS `GetCallerIdentity` with the run's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsIdentity {
    pub account_id: String,
    pub arn: String,
    pub user_id: String,
}

/// Values for one run of one unit.
#[derive(Debug, Clone, Default)]
pub struct RunValues {
    /// The variables `get_env` reads: the environment's `env` table of `slipway.toml` over the
    /// variables the run allows (secrets of Slipway and the cloud never among them).
    pub env: BTreeMap<String, String>,
    /// The identity of the run's assumed role; `None` when the run has no AWS role.
    pub aws: Option<AwsIdentity>,
    /// Where `run_cmd` runs commands; `None` when the environment does not allow `run_cmd`
    /// (`allow_run_cmd = true` per environment, never for a fork's pull request).
    pub run_cmd_dir: Option<PathBuf>,
    /// Why `run_cmd` is refused, when it is.
    pub run_cmd_refusal: String,
    /// The `sops` binary `sops_decrypt_file` uses; `None` when none is configured.
    pub sops: Option<PathBuf>,
}

static SERVICE_DISCOVERY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Makes discovery's `get_env` read nothing of the process's environment (the service: a
/// configuration must not read what Slipway's own process has; its runs get the variables of
/// `[environments.<env>.env]` and `env_allow`). The command line reads the user's environment.
pub fn discovery_without_process_env() {
    SERVICE_DISCOVERY.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether discovery's `get_env` reads the process's environment (never its secrets).
pub fn discovery_reads_process_env() -> bool {
    !SERVICE_DISCOVERY.load(std::sync::atomic::Ordering::Relaxed)
}

/// The variables `get_env` sees in a run of an environment: the process's variables named in
/// `allow` (every variable when `all`, the command line's case), then the environment's own
/// `table` over them. Secrets of the process ([`env_is_secret`]) are never among them; a value
/// the configuration itself sets in `table` is the configuration's to give.
pub fn run_env(
    table: &BTreeMap<String, String>,
    allow: &[String],
    all: bool,
) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = std::env::vars()
        .filter(|(k, _)| !env_is_secret(k) && (all || allow.iter().any(|a| a == k)))
        .collect();
    env.extend(table.iter().map(|(k, v)| (k.clone(), v.clone())));
    env
}

/// Environment variables a configuration in the repository may never read: Slipway's own
/// settings and secrets, and the credentials of the cloud and of GitHub. A pull request must not
/// be able to put them into an input that a plan prints.
pub fn env_is_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    // Where a unit deploys is no secret, and live trees read it.
    if matches!(upper.as_str(), "AWS_REGION" | "AWS_DEFAULT_REGION") {
        return false;
    }
    const PREFIXES: &[&str] = &[
        "SLIPWAY_",
        "AWS_",
        "GITHUB_",
        "GH_",
        "ACTIONS_",
        "ARM_CLIENT_SECRET",
        "GOOGLE_CREDENTIALS",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "VAULT_TOKEN",
        "TF_TOKEN_",
        "DATABASE_URL",
    ];
    const WORDS: &[&str] = &[
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "PRIVATE_KEY",
        "ACCESS_KEY",
        "API_KEY",
        "CREDENTIAL",
    ];
    PREFIXES.iter().any(|p| upper.starts_with(p)) || WORDS.iter().any(|w| upper.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slipway_cloud_and_token_variables_are_secret() {
        for name in [
            "SLIPWAY_WEBHOOK_SECRET",
            "AWS_SECRET_ACCESS_KEY",
            "aws_session_token",
            "GITHUB_TOKEN",
            "NPM_TOKEN",
            "DB_PASSWORD",
            "TF_TOKEN_app_terraform_io",
        ] {
            assert!(env_is_secret(name), "{name}");
        }
        for name in ["TG_ENV", "REGION", "HOME", "TF_VAR_tier", "AWS_REGION"] {
            assert!(!env_is_secret(name), "{name}");
        }
    }
}
