//! A command's targets resolved against the repository's environments and unit paths.
//!
//! A target is, in this order: an environment name; a unit path (a leading `./` and trailing
//! `/` are ignored); or, when it has `*` or `?`, a glob over unit paths (`*` within one path
//! segment, `**` any number of whole segments including none, `?` one character other than
//! `/`). Anything else is an unknown target, with the nearest environment or unit path
//! suggested; a glob matching nothing is an error naming the glob.

use std::collections::BTreeSet;

use super::error::check_target;
use super::suggest::nearest;
use super::{Command, CommandError, CommandKind};

/// What the repository has, for resolving targets.
#[derive(Debug, Clone, Copy)]
pub struct Known<'a> {
    /// Environment names (`dev`, `prod`).
    pub environments: &'a [String],
    /// Repository-relative unit paths, `/`-separated, without a trailing slash.
    pub units: &'a [String],
}

/// A command with its targets resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub kind: CommandKind,
    pub scope: Scope,
}

/// What a command applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// No target was given: the command's default (the pull request's units, or its locks).
    Default,
    /// The environments named and the units named or matched.
    Selected {
        environments: BTreeSet<String>,
        units: BTreeSet<String>,
    },
}

/// Resolves `command`'s targets against `known`; the first target that resolves to nothing is
/// the error.
pub fn resolve(command: &Command, known: &Known<'_>) -> Result<Resolved, CommandError> {
    let kind = command.kind();
    let targets = command.targets();
    if targets.is_empty() {
        return Ok(Resolved {
            kind,
            scope: Scope::Default,
        });
    }
    let mut environments = BTreeSet::new();
    let mut units = BTreeSet::new();
    for (i, target) in targets.iter().enumerate() {
        // A command built by hand has not been through the parser's checks.
        check_target(target).map_err(|problem| CommandError::BadTarget {
            given: target.clone(),
            problem,
        })?;
        if known.environments.iter().any(|e| e == target) {
            environments.insert(target.clone());
            continue;
        }
        let path = normalise(target);
        if let Some(unit) = known.units.iter().find(|u| *u == path) {
            units.insert(unit.clone());
            continue;
        }
        if is_glob(path) {
            let mut matched = false;
            for unit in known.units.iter().filter(|u| glob_matches(path, u)) {
                matched = true;
                units.insert(unit.clone());
            }
            if !matched {
                return Err(CommandError::NoMatch {
                    glob: target.clone(),
                });
            }
            continue;
        }
        let names = known
            .environments
            .iter()
            .chain(known.units)
            .map(String::as_str);
        let did_you_mean = nearest(path, names).map(str::to_owned);
        let corrected = did_you_mean.as_ref().map(|name| {
            let mut fixed = targets.to_vec();
            fixed[i] = name.clone();
            Command::new(kind, fixed).to_string()
        });
        return Err(CommandError::UnknownTarget {
            given: target.clone(),
            did_you_mean,
            corrected,
        });
    }
    Ok(Resolved {
        kind,
        scope: Scope::Selected {
            environments,
            units,
        },
    })
}

fn normalise(target: &str) -> &str {
    let path = target.strip_prefix("./").unwrap_or(target);
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        path
    } else {
        trimmed
    }
}

fn is_glob(target: &str) -> bool {
    target.contains(['*', '?'])
}

/// Whether `path` matches `pattern`, segment by segment.
pub(crate) fn glob_matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    // matches[j]: pattern[i..] matches path[j..], for the row i being computed.
    let mut next = vec![false; path.len() + 1];
    next[path.len()] = true;
    for p in pattern.iter().rev() {
        let mut row = vec![false; path.len() + 1];
        for j in (0..=path.len()).rev() {
            row[j] = if *p == "**" {
                next[j] || (j < path.len() && row[j + 1])
            } else {
                j < path.len() && next[j + 1] && segment_matches(p, path[j])
            };
        }
        next = row;
    }
    next[0]
}

/// `*` and `?` within one segment (linear backtracking to the last `*`).
fn segment_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn fixture() -> (Vec<String>, Vec<String>) {
        (
            strings(&["dev", "staging", "prod"]),
            strings(&[
                "live/dev/vpc",
                "live/dev/rds",
                "live/prod/vpc",
                "live/prod/eu-west-1/rds",
            ]),
        )
    }

    fn plan(targets: &[&str]) -> Command {
        Command::Plan {
            targets: strings(targets),
        }
    }

    fn selected(environments: &[&str], units: &[&str]) -> Scope {
        Scope::Selected {
            environments: strings(environments).into_iter().collect(),
            units: strings(units).into_iter().collect(),
        }
    }

    #[test]
    fn an_environment_name_selects_the_environment() {
        let (envs, units) = fixture();
        let known = Known {
            environments: &envs,
            units: &units,
        };
        let apply = Command::Apply {
            targets: strings(&["prod"]),
        };
        assert_eq!(
            resolve(&apply, &known).unwrap(),
            Resolved {
                kind: CommandKind::Apply,
                scope: selected(&["prod"], &[])
            }
        );
    }

    #[test]
    fn an_exact_unit_path_selects_the_unit_with_or_without_dot_slash_and_trailing_slash() {
        let (envs, units) = fixture();
        let known = Known {
            environments: &envs,
            units: &units,
        };
        for target in ["live/dev/vpc", "./live/dev/vpc", "live/dev/vpc/"] {
            assert_eq!(
                resolve(&plan(&[target]), &known).unwrap().scope,
                selected(&[], &["live/dev/vpc"]),
                "{target}"
            );
        }
    }

    #[test]
    fn a_glob_selects_every_unit_it_matches() {
        let (envs, units) = fixture();
        let known = Known {
            environments: &envs,
            units: &units,
        };
        assert_eq!(
            resolve(&plan(&["live/*/vpc"]), &known).unwrap().scope,
            selected(&[], &["live/dev/vpc", "live/prod/vpc"])
        );
        assert_eq!(
            resolve(&plan(&["live/prod/**", "live/dev/rd?"]), &known)
                .unwrap()
                .scope,
            selected(
                &[],
                &["live/dev/rds", "live/prod/eu-west-1/rds", "live/prod/vpc"]
            )
        );
        assert_eq!(
            resolve(&plan(&["**/rds"]), &known).unwrap().scope,
            selected(&[], &["live/dev/rds", "live/prod/eu-west-1/rds"])
        );
    }

    #[test]
    fn a_glob_matching_nothing_is_an_error_naming_the_glob() {
        let (envs, units) = fixture();
        let known = Known {
            environments: &envs,
            units: &units,
        };
        let error = resolve(&plan(&["live/dev/vpc", "live/qa/*"]), &known).unwrap_err();
        assert_eq!(
            error,
            CommandError::NoMatch {
                glob: "live/qa/*".into()
            }
        );
        assert!(error.reply().contains("`live/qa/*`"), "{}", error.reply());
    }

    #[test]
    fn a_near_miss_environment_suggests_the_environment_and_the_corrected_command() {
        let (envs, units) = fixture();
        let known = Known {
            environments: &envs,
            units: &units,
        };
        let apply = Command::Apply {
            targets: strings(&["prdo"]),
        };
        let error = resolve(&apply, &known).unwrap_err();
        assert_eq!(
            error,
            CommandError::UnknownTarget {
                given: "prdo".into(),
                did_you_mean: Some("prod".into()),
                corrected: Some("/apply prod".into()),
            }
        );
        let reply = error.reply();
        assert!(
            reply.contains("Did you mean `prod` (`/apply prod`)?"),
            "{reply}"
        );
    }

    #[test]
    fn an_unknown_target_far_from_everything_suggests_nothing() {
        let (envs, units) = fixture();
        let known = Known {
            environments: &envs,
            units: &units,
        };
        assert_eq!(
            resolve(&plan(&["network"]), &known).unwrap_err(),
            CommandError::UnknownTarget {
                given: "network".into(),
                did_you_mean: None,
                corrected: None
            }
        );
    }

    #[test]
    fn no_target_is_the_default_scope() {
        let (envs, units) = fixture();
        let known = Known {
            environments: &envs,
            units: &units,
        };
        assert_eq!(resolve(&plan(&[]), &known).unwrap().scope, Scope::Default);
        assert_eq!(
            resolve(&Command::Cancel, &known).unwrap().kind,
            CommandKind::Cancel
        );
    }

    #[test]
    fn globs_match_segment_by_segment() {
        assert!(glob_matches("live/*/vpc", "live/dev/vpc"));
        assert!(!glob_matches("live/*/vpc", "live/dev/eu/vpc"));
        assert!(glob_matches("live/**/vpc", "live/vpc"));
        assert!(glob_matches("live/**/vpc", "live/dev/eu/vpc"));
        assert!(glob_matches("live/d?v/*", "live/dev/rds"));
        assert!(!glob_matches("live/d?v", "live/d/v"));
        assert!(glob_matches("live/*-1/**", "live/eu-west-1/rds"));
        assert!(!glob_matches("live/*", "live"));
        assert!(glob_matches("*", "live"));
    }
}
