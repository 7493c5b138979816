//! `slipway.toml`: the infrastructure repository's own settings for Slipway.
//!
//! Unknown keys are rejected with the key's name and line, so a typo never silently turns a
//! protection off.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

mod changes;
mod overrides;

pub use changes::{changes, SettingChange};
pub use overrides::{Applied, Overrides};

/// The settings a pull request's own `slipway.toml` decides for its review. They only say
/// where to look, never who may do what: everything else (environments, accounts and roles,
/// rights, requirements, gates, `allow_run_cmd`, policy and exemptions) comes from the base
/// branch, so that a pull request cannot change its own gate.
pub const HEAD_SETTINGS: &[&str] = &["live_dir"];

/// File name of the repository configuration, at the repository root.
pub const FILE_NAME: &str = "slipway.toml";

/// The whole `slipway.toml`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RepoConfig {
    /// Repo-relative directory holding the Terragrunt live tree (default: the repository root).
    #[serde(default)]
    pub live_dir: Option<String>,
    /// Environments in promotion order: after merge, each is applied only after the previous
    /// one succeeded.
    #[serde(default)]
    pub promotion: Vec<String>,
    /// Settings per environment, keyed by environment name.
    #[serde(default)]
    pub environments: BTreeMap<String, EnvConfig>,
    /// Tag policy, rule severities and exemptions.
    #[serde(default)]
    pub policy: rules::config::PolicyConfig,
}

/// One environment: where its units live, which account they deploy to, and who may apply.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EnvConfig {
    /// Repo-relative path prefix of the environment's units (for example `live/accounts/prod`).
    pub path: String,
    /// AWS account id the environment deploys to (12 digits).
    #[serde(default)]
    pub account_id: Option<String>,
    /// Role Slipway assumes to plan (read-only).
    #[serde(default)]
    pub plan_role: Option<String>,
    /// Role Slipway assumes to apply.
    #[serde(default)]
    pub apply_role: Option<String>,
    /// External id passed to `AssumeRole`, when the roles' trust policies require one.
    #[serde(default)]
    pub external_id: Option<String>,
    /// `auto`: applied after merge; `command`: waits for `/apply <env>`.
    #[serde(default)]
    pub apply: ApplyMode,
    /// Who may apply this environment (default: anyone with write permission).
    #[serde(default)]
    pub apply_rights: Rights,
    /// Who may run `/plan` for this environment's units (default: anyone with write
    /// permission).
    #[serde(default)]
    pub plan_rights: Rights,
    /// Whether a pull request's plan of a unit locks the unit until it is applied, the pull
    /// request closes or `/unlock` frees it (default: on in production environments, as
    /// `policy.production_envs` names them; off elsewhere).
    #[serde(default)]
    pub lock: Option<bool>,
    /// Whether pull requests from forks are planned with this environment's plan role (off by
    /// default: a fork's author would run their configuration under the account's role; a
    /// `/plan` from someone with write permission plans them once).
    #[serde(default)]
    pub plan_forks: bool,
    /// What must hold before an apply starts.
    #[serde(default)]
    pub requirements: ApplyRequirements,
    /// AWS region of resources whose provider configuration names none (`slipway check` uses
    /// it when `--region` is not given).
    #[serde(default)]
    pub region: Option<String>,
    /// Variables `get_env` sees in this environment's runs, by name.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Names of variables of Slipway's own environment that `get_env` may read in this
    /// environment's runs (in the service; on the command line a run sees the user's
    /// environment). Slipway's settings and credentials are never readable, listed or not.
    #[serde(default)]
    pub env_allow: Vec<String>,
    /// Whether `run_cmd` runs commands in this environment's runs (never for a pull request
    /// from a fork). Off by default: during discovery it is never run.
    #[serde(default)]
    pub allow_run_cmd: bool,
}

/// When an environment is applied after merge.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ApplyMode {
    /// Applied as soon as the previous stage succeeded.
    #[default]
    Auto,
    /// Waits for `/apply <env>` from someone allowed to give it.
    Command,
}

/// Who may run a command for an environment: someone named in `users` or a member of one of
/// `teams` (anyone, when both are empty) who also holds at least `min_permission` on the
/// repository (write when not set). No table at all means anyone with write permission.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rights {
    /// GitHub logins.
    #[serde(default)]
    pub users: Vec<String>,
    /// GitHub teams as `org/team-slug`.
    #[serde(default)]
    pub teams: Vec<String>,
    /// Minimum repository permission (default: write).
    #[serde(default)]
    pub min_permission: Option<Permission>,
}

impl Rights {
    /// Whether the rights name people (users or teams) rather than anyone with the permission.
    pub fn names_people(&self) -> bool {
        !self.users.is_empty() || !self.teams.is_empty()
    }

    /// The repository permission an allowed person must hold at least.
    pub fn permission_floor(&self) -> Permission {
        self.min_permission.unwrap_or(Permission::Write)
    }
}

/// A GitHub repository permission level, lowest first.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    Read,
    Triage,
    Write,
    Maintain,
    Admin,
}

/// Conditions checked before an apply.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequirements {
    /// Number of approving reviews of the pull request's head required, never counting its
    /// author's.
    #[serde(default)]
    pub approvals: u32,
    /// Only approvals by members of this team (`org/team-slug`) count.
    #[serde(default)]
    pub approvals_team: Option<String>,
    /// The pull request must be mergeable.
    #[serde(default)]
    pub mergeable: bool,
    /// Every other check must be green.
    #[serde(default)]
    pub checks_green: bool,
}

/// A `slipway.toml` that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

impl RepoConfig {
    /// Parses `slipway.toml` text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, ConfigError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let cfg: RepoConfig = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            file: file.to_string(),
            message: describe_toml_error(text, &e),
        })?;
        cfg.validate(file)?;
        Ok(cfg)
    }

    /// Reads and parses `slipway.toml` from disk.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Invalid {
            file: path.display().to_string(),
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    fn validate(&self, file: &str) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            file: file.to_string(),
            message,
        };
        for env in &self.promotion {
            if !self.environments.contains_key(env) {
                return Err(invalid(format!(
                    "promotion names environment '{env}', which has no [environments.{env}] table"
                )));
            }
        }
        if let Some(live) = &self.live_dir {
            if live.starts_with('/') || live.split('/').any(|c| c == "..") {
                return Err(invalid(format!(
                    "live_dir: '{live}' must be a path inside the repository"
                )));
            }
        }
        for (name, env) in &self.environments {
            if let Some(id) = &env.account_id {
                if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid(format!(
                        "environments.{name}.account_id: '{id}' is not a 12-digit AWS account id"
                    )));
                }
            }
            let teams = env
                .apply_rights
                .teams
                .iter()
                .map(|t| ("apply_rights.teams", t))
                .chain(
                    env.plan_rights
                        .teams
                        .iter()
                        .map(|t| ("plan_rights.teams", t)),
                )
                .chain(
                    env.requirements
                        .approvals_team
                        .iter()
                        .map(|t| ("requirements.approvals_team", t)),
                );
            for (key, team) in teams {
                let ok = team.split('/').count() == 2
                    && team.split('/').all(|p| {
                        !p.is_empty()
                            && p.bytes().all(|b| {
                                b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'
                            })
                    });
                if !ok {
                    return Err(invalid(format!(
                        "environments.{name}.{key}: '{team}' is not a team of the form org/team-slug"
                    )));
                }
            }
            if env.path.starts_with('/') || env.path.split('/').any(|c| c == "..") {
                return Err(invalid(format!(
                    "environments.{name}.path: '{}' must be a path inside the repository",
                    env.path
                )));
            }
        }
        Ok(())
    }

    /// The settings a change's review runs under: these (the base's), with the change's own
    /// [`HEAD_SETTINGS`] when its `slipway.toml` is valid.
    pub fn for_head(&self, head: Option<&RepoConfig>) -> RepoConfig {
        let mut config = self.clone();
        if let Some(head) = head {
            config.live_dir = head.live_dir.clone();
        }
        config
    }

    /// Whether a pull request's plan locks the units of environment `env`.
    pub fn locks(&self, env: &str) -> bool {
        self.environments
            .get(env)
            .and_then(|e| e.lock)
            .unwrap_or_else(|| self.policy.production_envs.iter().any(|p| p == env))
    }

    /// The environment whose path prefix contains `unit_path` (longest prefix wins).
    pub fn env_for_path(&self, unit_path: &str) -> Option<&str> {
        self.environments
            .iter()
            .filter(|(_, e)| path_has_prefix(unit_path, e.path.trim_end_matches('/')))
            .max_by_key(|(_, e)| e.path.len())
            .map(|(name, _)| name.as_str())
    }
}

/// True when `path` is `prefix` or lies below it (component-wise, not string-wise).
pub fn path_has_prefix(path: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || path == prefix
        || (path.starts_with(prefix) && path.as_bytes().get(prefix.len()) == Some(&b'/'))
}

pub fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim_end();
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {msg}")
        }
        None => msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_rejected_with_its_name_and_line() {
        let text = "promotion = []\n\n[environments.dev]\npath = \"live/dev\"\naproval = 1\n";
        let err = RepoConfig::parse(text, "slipway.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("slipway.toml: line 5"), "{err}");
        assert!(err.contains("aproval"), "{err}");
    }

    #[test]
    fn promotion_must_name_configured_environments() {
        let text = "promotion = [\"dev\", \"prod\"]\n[environments.dev]\npath = \"live/dev\"\n";
        let err = RepoConfig::parse(text, "slipway.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("'prod'"), "{err}");
    }

    #[test]
    fn longest_environment_prefix_wins() {
        let text = "[environments.prod]\npath = \"live/prod\"\n[environments.prod-dr]\npath = \"live/prod/us-west-2\"\n";
        let cfg = RepoConfig::parse(text, "slipway.toml").unwrap();
        assert_eq!(cfg.env_for_path("live/prod/us-east-1/db"), Some("prod"));
        assert_eq!(cfg.env_for_path("live/prod/us-west-2/db"), Some("prod-dr"));
        assert_eq!(cfg.env_for_path("live/production/db"), None);
    }

    #[test]
    fn an_environment_takes_its_region_run_environment_and_run_cmd_switch() {
        let text = "[environments.dev]\npath = \"live/dev\"\nregion = \"eu-west-1\"\nallow_run_cmd = true\nenv_allow = [\"TG_TIER\"]\n\n[environments.dev.env]\nTIER = \"gold\"\n";
        let cfg = RepoConfig::parse(text, "slipway.toml").expect("valid");
        let dev = &cfg.environments["dev"];
        assert_eq!(dev.region.as_deref(), Some("eu-west-1"));
        assert!(dev.allow_run_cmd);
        assert_eq!(dev.env_allow, ["TG_TIER"]);
        assert_eq!(dev.env["TIER"], "gold");
        let off = RepoConfig::parse("[environments.dev]\npath = \"live/dev\"\n", "slipway.toml")
            .expect("valid");
        assert!(!off.environments["dev"].allow_run_cmd, "off by default");
    }

    #[test]
    fn a_live_dir_leaving_the_repository_is_refused() {
        for live in ["../x", "/etc", "live/../../x"] {
            let err = RepoConfig::parse(&format!("live_dir = \"{live}\"\n"), "slipway.toml")
                .expect_err("refused")
                .to_string();
            assert!(err.contains("live_dir"), "{err}");
        }
    }
}
