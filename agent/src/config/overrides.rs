//! What the service decides for every repository: settings it fixes, and which settings a
//! repository's `slipway.toml` may set at all.
//!
//! ```toml
//! [repositories]
//! # Dotted keys of slipway.toml; `*` matches one key; a key covers everything below it.
//! allowed_overrides = ["promotion", "environments.*.path", "environments.*.region", "policy.usage"]
//! # Fixed settings win over the repository's, in slipway.toml's own form.
//! [repositories.fixed.environments.prod]
//! apply = "command"
//! apply_rights = { teams = ["acme/platform"] }
//! ```
//!
//! A fixed setting under `environments.<name>` applies to that environment where the
//! repository defines it (`environments.*` to every environment). A repository setting outside
//! `allowed_overrides` is left out and reported, never silently used.

use serde::Deserialize;

use super::{ConfigError, RepoConfig};

/// The `[repositories]` table of the service configuration.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Settings of `slipway.toml` a repository may set, as dotted keys (`*` matches one key;
    /// a key covers everything below it). Absent: every setting.
    #[serde(default)]
    pub allowed_overrides: Option<Vec<String>>,
    /// Settings fixed for every repository, in `slipway.toml`'s form; they win over the
    /// repository's own.
    #[serde(default)]
    pub fixed: toml::Table,
}

/// A repository's `slipway.toml` with the service's overrides applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub config: RepoConfig,
    /// Repository settings outside `allowed_overrides`, left out (dotted keys).
    pub ignored: Vec<String>,
}

impl Overrides {
    /// Reads and checks a `[repositories]` table given as TOML text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Overrides, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            file: file.to_string(),
            message,
        };
        let o: Overrides =
            toml::from_str(text).map_err(|e| invalid(super::describe_toml_error(text, &e)))?;
        o.validate().map_err(invalid)?;
        Ok(o)
    }

    /// Checks the overrides themselves: the fixed settings must be valid `slipway.toml`
    /// settings, and every allowed key must name one.
    pub fn validate(&self) -> Result<(), String> {
        let mut probe = self.fixed.clone();
        // Named environments and `*` become whole environments: a name TOML can key, a path.
        if let Some(toml::Value::Table(envs)) = probe.remove("environments") {
            let whole: toml::Table = envs
                .into_iter()
                .map(|(name, mut env)| {
                    if let toml::Value::Table(t) = &mut env {
                        t.entry("path")
                            .or_insert_with(|| toml::Value::String(String::new()));
                    }
                    (name.replace('*', "any"), env)
                })
                .collect();
            probe.insert("environments".into(), toml::Value::Table(whole));
        }
        toml::Value::Table(probe)
            .try_into::<RepoConfig>()
            .map_err(|e| format!("repositories.fixed: {}", e.message().trim_end()))?;
        for key in self.allowed_overrides.iter().flatten() {
            if key.is_empty() || key.split('.').any(str::is_empty) {
                return Err(format!(
                    "repositories.allowed_overrides: '{key}' is not a dotted key of slipway.toml"
                ));
            }
        }
        Ok(())
    }

    /// `slipway.toml` text as the service uses it: validated as the repository wrote it (errors
    /// name the key and line), then cut to the allowed settings, then the fixed ones laid over.
    pub fn apply(&self, text: &str, file: &str) -> Result<Applied, ConfigError> {
        let own = RepoConfig::parse(text, file)?;
        if self.allowed_overrides.is_none() && self.fixed.is_empty() {
            return Ok(Applied {
                config: own,
                ignored: Vec::new(),
            });
        }
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let invalid = |message: String| ConfigError::Invalid {
            file: file.to_string(),
            message,
        };
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| invalid(e.message().trim_end().to_string()))?;
        let mut ignored = Vec::new();
        if let Some(allowed) = &self.allowed_overrides {
            let patterns: Vec<Vec<&str>> = allowed.iter().map(|a| a.split('.').collect()).collect();
            prune(&mut table, &mut Vec::new(), &patterns, &mut ignored);
        }
        lay_over(&mut table, &self.fixed);
        let config: RepoConfig = toml::Value::Table(table).try_into().map_err(|e| {
            invalid(format!(
                "with the service's fixed settings: {}",
                e.message().trim_end()
            ))
        })?;
        config.validate(file)?;
        Ok(Applied { config, ignored })
    }
}

/// How a dotted key stands to the allowed patterns.
enum Allowed {
    /// A pattern covers the key and everything below it.
    Whole,
    /// Some pattern names a key below this one.
    Partly,
    No,
}

fn allowed(path: &[String], patterns: &[Vec<&str>]) -> Allowed {
    let mut partly = false;
    for p in patterns {
        let matches = |n: usize| {
            p.iter()
                .zip(path)
                .take(n)
                .all(|(seg, key)| *seg == "*" || seg == key)
        };
        if p.len() <= path.len() && matches(p.len()) {
            return Allowed::Whole;
        }
        if p.len() > path.len() && matches(path.len()) {
            partly = true;
        }
    }
    if partly {
        Allowed::Partly
    } else {
        Allowed::No
    }
}

/// Removes every key no pattern allows, recording each removed key.
fn prune(
    table: &mut toml::Table,
    path: &mut Vec<String>,
    patterns: &[Vec<&str>],
    ignored: &mut Vec<String>,
) {
    let keys: Vec<String> = table.keys().cloned().collect();
    for key in keys {
        path.push(key.clone());
        match allowed(path, patterns) {
            Allowed::Whole => {}
            Allowed::Partly => match table.get_mut(&key) {
                Some(toml::Value::Table(inner)) => {
                    prune(inner, path, patterns, ignored);
                    // An environment keeps its path: without it, it is no environment at all.
                    if path.len() == 2 && path[0] == "environments" {
                        if !inner.contains_key("path") {
                            table.remove(&key);
                        }
                    } else if inner.is_empty() {
                        table.remove(&key);
                    }
                }
                _ => {
                    table.remove(&key);
                    ignored.push(path.join("."));
                }
            },
            Allowed::No => {
                table.remove(&key);
                ignored.push(path.join("."));
            }
        }
        path.pop();
    }
}

/// Lays the fixed settings over the repository's: tables merge, other values replace.
/// Under `environments`, a named environment (or `*`: all) applies only where the repository
/// defines it.
fn lay_over(table: &mut toml::Table, fixed: &toml::Table) {
    for (key, value) in fixed {
        if key != "environments" {
            merge_key(table, key, value);
            continue;
        }
        let (toml::Value::Table(fixed_envs), Some(toml::Value::Table(envs))) =
            (value, table.get_mut("environments"))
        else {
            continue;
        };
        for (name, env) in envs.iter_mut() {
            for pattern in ["*", name.as_str()] {
                if let (Some(toml::Value::Table(f)), toml::Value::Table(env)) =
                    (fixed_envs.get(pattern), &mut *env)
                {
                    merge(env, f);
                }
            }
        }
    }
}

/// Lays `fixed` over `table`: tables merge, other values replace.
fn merge(table: &mut toml::Table, fixed: &toml::Table) {
    for (key, value) in fixed {
        merge_key(table, key, value);
    }
}

fn merge_key(table: &mut toml::Table, key: &str, value: &toml::Value) {
    match (table.get_mut(key), value) {
        (Some(toml::Value::Table(mine)), toml::Value::Table(f)) => merge(mine, f),
        _ => {
            table.insert(key.to_string(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ApplyMode, Permission};

    fn overrides(text: &str) -> Overrides {
        let o: Overrides = toml::from_str(text).expect("overrides parse");
        o.validate().expect("overrides valid");
        o
    }

    const REPO: &str = r#"
promotion = ["dev", "prod"]
[environments.dev]
path = "live/dev"
[environments.prod]
path = "live/prod"
apply = "auto"
apply_rights = { users = ["mallory"] }
[[policy.exemptions]]
rule = "db-deletion-protection"
address = "*"
reason = "not needed"
"#;

    #[test]
    fn a_fixed_setting_wins_over_the_repositorys() {
        let o = overrides(
            r#"
[fixed.environments.prod]
apply = "command"
apply_rights = { teams = ["acme/platform"], users = [] }
"#,
        );
        let applied = o.apply(REPO, "slipway.toml").expect("applies");
        let prod = &applied.config.environments["prod"];
        assert_eq!(prod.apply, ApplyMode::Command);
        assert_eq!(prod.apply_rights.teams, ["acme/platform"]);
        assert!(
            prod.apply_rights.users.is_empty(),
            "the fixed list replaces"
        );
        assert_eq!(
            applied.config.environments["dev"].apply,
            ApplyMode::Auto,
            "other environments keep theirs"
        );
        assert!(applied.ignored.is_empty());
    }

    #[test]
    fn a_setting_outside_allowed_overrides_is_reported_and_ignored() {
        let o = overrides(
            r#"
allowed_overrides = ["promotion", "environments.*.path", "environments.*.apply"]
"#,
        );
        let applied = o.apply(REPO, "slipway.toml").expect("applies");
        assert_eq!(
            applied.ignored,
            ["environments.prod.apply_rights", "policy"],
            "{applied:?}"
        );
        assert!(applied.config.environments["prod"]
            .apply_rights
            .users
            .is_empty());
        assert!(applied.config.policy.exemptions.is_empty());
        assert_eq!(applied.config.promotion, ["dev", "prod"]);
    }

    #[test]
    fn fixed_settings_for_every_environment_apply_to_each() {
        let o = overrides(
            r#"
[fixed.environments."*".apply_rights]
min_permission = "maintain"
"#,
        );
        let applied = o.apply(REPO, "slipway.toml").expect("applies");
        for env in ["dev", "prod"] {
            assert_eq!(
                applied.config.environments[env].apply_rights.min_permission,
                Some(Permission::Maintain)
            );
        }
    }

    #[test]
    fn the_repositorys_own_errors_name_its_key_and_line() {
        let o = overrides("allowed_overrides = [\"promotion\"]\n");
        let err = o
            .apply("promotion = []\naproval = 1\n", "slipway.toml")
            .expect_err("refused")
            .to_string();
        assert!(err.contains("line 2") && err.contains("aproval"), "{err}");
    }

    #[test]
    fn invalid_fixed_settings_are_refused_by_name() {
        let o: Overrides =
            toml::from_str("[fixed.environments.prod]\naply = \"command\"\n").expect("parses");
        let err = o.validate().expect_err("refused");
        assert!(err.contains("aply"), "{err}");
    }
}
