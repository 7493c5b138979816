//! Who may do what, and what must hold before an apply: an environment's rights (GitHub users,
//! teams, a minimum repository permission) and its apply requirements, decided against what
//! GitHub says. GitHub's answers about people are cached for a minute, so a burst of commands
//! costs one lookup per person.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agent::config::{ApplyRequirements, Permission, Rights};
use agent::store::{CommitSha, RepoName};

use crate::github::client::{CheckInfo, GithubError, PullRequest, RepoClient, ReviewInfo};

/// How long an answer about a person is trusted.
pub const TTL: Duration = Duration::from_secs(60);

/// Answers by key, each with when it was given.
type Cache<K, V> = Arc<Mutex<HashMap<K, (Instant, V)>>>;

/// GitHub's answers about people, shared by a process's workers.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// By repository and login.
    permissions: Cache<(RepoName, String), Option<Permission>>,
    /// By organisation, team slug and login.
    teams: Cache<(String, String, String), bool>,
}

/// Whether someone may act, and why (for the reply and the audit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed(String),
    Refused(String),
}

impl Access {
    /// `login`'s permission on the repository.
    pub async fn permission(
        &self,
        gh: &RepoClient,
        login: &str,
    ) -> Result<Option<Permission>, GithubError> {
        let key = (gh.repo().clone(), login.to_string());
        if let Some(hit) = fresh(&self.permissions, &key) {
            return Ok(hit);
        }
        let p = gh.permission(login).await?;
        remember(&self.permissions, key, p);
        Ok(p)
    }

    /// Whether `login` is a member of `team` (`org/slug`).
    pub async fn in_team(
        &self,
        gh: &RepoClient,
        team: &str,
        login: &str,
    ) -> Result<bool, GithubError> {
        let Some((org, slug)) = team.split_once('/') else {
            return Ok(false);
        };
        let key = (org.to_string(), slug.to_string(), login.to_string());
        if let Some(hit) = fresh(&self.teams, &key) {
            return Ok(hit);
        }
        let member = gh.is_team_member(org, slug, login).await?;
        remember(&self.teams, key, member);
        Ok(member)
    }

    /// Whether `login` may act under `rights`; `what` names the act (`apply prod`).
    pub async fn decide(
        &self,
        gh: &RepoClient,
        rights: &Rights,
        login: &str,
        what: &str,
    ) -> Result<Decision, GithubError> {
        let mut named = if rights.names_people() {
            None
        } else {
            Some("anyone".to_string())
        };
        if named.is_none() && rights.users.iter().any(|u| u.eq_ignore_ascii_case(login)) {
            named = Some(format!("{login} is named in its rights"));
        }
        for team in &rights.teams {
            if named.is_some() {
                break;
            }
            if self.in_team(gh, team, login).await? {
                named = Some(format!("{login} is in {team}"));
            }
        }
        let has = self.permission(gh, login).await?;
        let floor = rights.permission_floor();
        match named {
            Some(who) if has.is_some_and(|p| p >= floor) => Ok(Decision::Allowed(format!(
                "{who}, with {} permission",
                name(has)
            ))),
            named => Ok(Decision::Refused(refusal(
                rights,
                login,
                has,
                what,
                named.is_some(),
            ))),
        }
    }
}

fn fresh<K: std::hash::Hash + Eq, V: Clone>(
    cache: &Mutex<HashMap<K, (Instant, V)>>,
    key: &K,
) -> Option<V> {
    let map = cache.lock().unwrap_or_else(|p| p.into_inner());
    map.get(key)
        .filter(|(at, _)| at.elapsed() < TTL)
        .map(|(_, v)| v.clone())
}

fn remember<K: std::hash::Hash + Eq, V>(cache: &Mutex<HashMap<K, (Instant, V)>>, key: K, v: V) {
    let mut map = cache.lock().unwrap_or_else(|p| p.into_inner());
    // A long-running service meets many people: forget the stale answers now and then.
    if map.len() > 10_000 {
        map.retain(|_, (at, _)| at.elapsed() < TTL);
    }
    map.insert(key, (Instant::now(), v));
}

fn name(p: Option<Permission>) -> String {
    match p {
        None => "no".into(),
        Some(p) => format!("{p:?}").to_lowercase(),
    }
}

/// "`mallory` may not apply prod: only the team acme/platform or maintain permission may
/// (mallory has write)".
fn refusal(
    rights: &Rights,
    login: &str,
    has: Option<Permission>,
    what: &str,
    among: bool,
) -> String {
    let mut who = Vec::new();
    if !rights.users.is_empty() {
        who.push(format!("the user(s) {}", rights.users.join(", ")));
    }
    if !rights.teams.is_empty() {
        who.push(format!("members of {}", rights.teams.join(", ")));
    }
    let floor = name(Some(rights.permission_floor()));
    let people = if who.is_empty() {
        format!("people with {floor} permission or higher")
    } else {
        format!("{} with {floor} permission or higher", who.join(" or "))
    };
    format!(
        "{login} may not {what}: only {people} may ({login} has {} permission{})",
        name(has),
        if rights.names_people() && !among {
            ", and is not among them"
        } else {
            ""
        }
    )
}

/// What the apply requirements look at, read from GitHub and the store.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub pr: &'a PullRequest,
    pub checks: &'a [CheckInfo],
    /// Why the head's plan cannot be applied (none yet, failed, stale); `None`: it can.
    pub plan_problem: Option<String>,
}

/// The approvals of `head` that count: each reviewer's latest verdict (a comment changes
/// nothing), on the head itself, never the author's.
pub fn approvers(reviews: &[ReviewInfo], author: &str, head: &CommitSha) -> Vec<String> {
    let mut latest: Vec<(&str, &ReviewInfo)> = Vec::new();
    for r in reviews
        .iter()
        .filter(|r| r.state != "COMMENTED" && r.state != "PENDING")
    {
        match latest
            .iter_mut()
            .find(|(u, _)| u.eq_ignore_ascii_case(&r.user))
        {
            Some(slot) => slot.1 = r,
            None => latest.push((&r.user, r)),
        }
    }
    latest
        .into_iter()
        .filter(|(user, r)| {
            r.state == "APPROVED"
                && !user.eq_ignore_ascii_case(author)
                && r.commit_id.as_deref() == Some(head.as_str())
        })
        .map(|(user, _)| user.to_string())
        .collect()
}

/// Every requirement that does not hold, each in a sentence; empty when the apply may go.
/// `approvers` are the approvals that count (already narrowed to the team, when one is set).
pub fn unmet(req: &ApplyRequirements, facts: &Facts<'_>, approvers: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(problem) = &facts.plan_problem {
        out.push(problem.clone());
    }
    let need = usize::try_from(req.approvals).unwrap_or(usize::MAX);
    if approvers.len() < need {
        let from = req
            .approvals_team
            .as_deref()
            .map(|t| format!(" from {t}"))
            .unwrap_or_default();
        out.push(format!(
            "approvals: {need} needed{from} on {} (not by the author), {} given{}",
            facts.pr.head.short(),
            approvers.len(),
            if approvers.is_empty() {
                String::new()
            } else {
                format!(" ({})", approvers.join(", "))
            }
        ));
    }
    if req.mergeable {
        match facts.pr.mergeable {
            Some(true) => {}
            Some(false) => out.push("mergeable: the pull request has conflicts".into()),
            None => {
                out.push("mergeable: GitHub has not computed it yet; try again in a moment".into())
            }
        }
    }
    if req.checks_green {
        let red: Vec<String> = facts
            .checks
            .iter()
            .filter(|c| !c.name.starts_with("slipway/"))
            .filter(|c| {
                c.status != "completed"
                    || !matches!(
                        c.conclusion.as_deref(),
                        Some("success" | "neutral" | "skipped")
                    )
            })
            .map(|c| {
                format!(
                    "{} ({})",
                    c.name,
                    c.conclusion.as_deref().unwrap_or(&c.status)
                )
            })
            .collect();
        if !red.is_empty() {
            out.push(format!("checks green: {}", red.join(", ")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent::store::PrNumber;

    fn sha(c: char) -> CommitSha {
        CommitSha::parse(&c.to_string().repeat(40)).expect("sha")
    }

    fn review(user: &str, state: &str, on: char) -> ReviewInfo {
        ReviewInfo {
            user: user.into(),
            state: state.into(),
            commit_id: Some(on.to_string().repeat(40)),
        }
    }

    fn pr(mergeable: Option<bool>) -> PullRequest {
        PullRequest {
            number: PrNumber(1),
            head: sha('a'),
            base_ref: "main".into(),
            state: "open".into(),
            draft: false,
            merged: false,
            mergeable,
            author: "ada".into(),
            from_fork: false,
        }
    }

    #[test]
    fn only_the_latest_verdict_on_the_head_by_someone_else_counts() {
        let reviews = [
            review("ada", "APPROVED", 'a'),
            review("bob", "APPROVED", 'a'),
            review("bob", "CHANGES_REQUESTED", 'a'),
            review("cy", "APPROVED", 'b'),
            review("dee", "APPROVED", 'a'),
            review("dee", "COMMENTED", 'a'),
        ];
        assert_eq!(approvers(&reviews, "ada", &sha('a')), ["dee"]);
    }

    #[test]
    fn every_unmet_requirement_is_named() {
        let req = ApplyRequirements {
            approvals: 2,
            approvals_team: Some("acme/platform".into()),
            mergeable: true,
            checks_green: true,
        };
        let checks = [
            CheckInfo {
                name: "ci/test".into(),
                status: "completed".into(),
                conclusion: Some("failure".into()),
            },
            CheckInfo {
                name: "slipway/plan".into(),
                status: "in_progress".into(),
                conclusion: None,
            },
            CheckInfo {
                name: "lint".into(),
                status: "completed".into(),
                conclusion: Some("success".into()),
            },
        ];
        let pr = pr(Some(false));
        let facts = Facts {
            pr: &pr,
            checks: &checks,
            plan_problem: Some("no plan of aaaaaaa yet".into()),
        };
        let unmet = unmet(&req, &facts, &["dee".to_string()]);
        assert_eq!(unmet.len(), 4, "{unmet:?}");
        assert!(
            unmet[1].contains("2 needed from acme/platform") && unmet[1].contains("1 given (dee)")
        );
        assert!(unmet[2].contains("conflicts"));
        assert_eq!(unmet[3], "checks green: ci/test (failure)");
    }

    #[test]
    fn a_refusal_says_who_may() {
        let rights = Rights {
            users: vec![],
            teams: vec!["acme/platform".into()],
            min_permission: Some(Permission::Maintain),
        };
        let why = refusal(
            &rights,
            "mallory",
            Some(Permission::Write),
            "apply prod",
            false,
        );
        assert_eq!(
            why,
            "mallory may not apply prod: only members of acme/platform with maintain permission or higher may (mallory has write permission, and is not among them)"
        );
        let anyone = refusal(
            &Rights::default(),
            "rita",
            Some(Permission::Read),
            "plan dev",
            true,
        );
        assert_eq!(
            anyone,
            "rita may not plan dev: only people with write permission or higher may (rita has read permission)"
        );
    }
}
