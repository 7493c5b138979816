//! The JSON of GitHub's objects as its REST API answers them: users, repositories, pull
//! requests, comments, check runs... with every field GitHub's description requires.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::state::{CheckRun, Comment, PullRequest, Reaction, Repo, Review, State, User};

/// GitHub's web host, for `html_url`s.
const WEB: &str = "https://github.com";

/// `t` in RFC 3339 at second precision, UTC (`2024-05-01T12:00:00Z`).
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian calendar).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Seconds since the epoch.
pub(crate) fn epoch(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// A login as it appears in a URL path (`slipway%5Bbot%5D`).
fn login_path(login: &str) -> String {
    login.replace('[', "%5B").replace(']', "%5D")
}

/// A simple user (`simple-user`).
pub(crate) fn user(api: &str, u: &User) -> Value {
    let path = login_path(&u.login);
    let url = format!("{api}/users/{path}");
    let node_prefix = match u.kind.as_str() {
        "Bot" => "BOT_kgDO",
        "Organization" => "O_kgDO",
        _ => "U_kgDO",
    };
    json!({
        "login": u.login,
        "id": u.id,
        "node_id": format!("{node_prefix}{:08}", u.id),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{}?v=4", u.id),
        "gravatar_id": "",
        "url": url,
        "html_url": format!("{WEB}/{path}"),
        "followers_url": format!("{url}/followers"),
        "following_url": format!("{url}/following{{/other_user}}"),
        "gists_url": format!("{url}/gists{{/gist_id}}"),
        "starred_url": format!("{url}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{url}/subscriptions"),
        "organizations_url": format!("{url}/orgs"),
        "repos_url": format!("{url}/repos"),
        "events_url": format!("{url}/events{{/privacy}}"),
        "received_events_url": format!("{url}/received_events"),
        "type": u.kind,
        "user_view_type": "public",
        "site_admin": false,
    })
}

/// The simple user `login`, created on first mention.
pub(crate) fn user_named(state: &mut State, api: &str, login: &str) -> Value {
    let u = state.user(login);
    user(api, &u)
}

/// A full repository (`repository`).
pub(crate) fn repository(state: &mut State, api: &str, repo: &Repo) -> Value {
    let full = repo.full_name();
    let url = format!("{api}/repos/{full}");
    let now = rfc3339(SystemTime::now());
    let mut object = Map::new();
    for (key, suffix) in [
        ("archive_url", "/{archive_format}{/ref}"),
        ("assignees_url", "/assignees{/user}"),
        ("blobs_url", "/git/blobs{/sha}"),
        ("branches_url", "/branches{/branch}"),
        ("collaborators_url", "/collaborators{/collaborator}"),
        ("comments_url", "/comments{/number}"),
        ("commits_url", "/commits{/sha}"),
        ("compare_url", "/compare/{base}...{head}"),
        ("contents_url", "/contents/{+path}"),
        ("contributors_url", "/contributors"),
        ("deployments_url", "/deployments"),
        ("downloads_url", "/downloads"),
        ("events_url", "/events"),
        ("forks_url", "/forks"),
        ("git_commits_url", "/git/commits{/sha}"),
        ("git_refs_url", "/git/refs{/sha}"),
        ("git_tags_url", "/git/tags{/sha}"),
        ("hooks_url", "/hooks"),
        ("issue_comment_url", "/issues/comments{/number}"),
        ("issue_events_url", "/issues/events{/number}"),
        ("issues_url", "/issues{/number}"),
        ("keys_url", "/keys{/key_id}"),
        ("labels_url", "/labels{/name}"),
        ("languages_url", "/languages"),
        ("merges_url", "/merges"),
        ("milestones_url", "/milestones{/number}"),
        (
            "notifications_url",
            "/notifications{?since,all,participating}",
        ),
        ("pulls_url", "/pulls{/number}"),
        ("releases_url", "/releases{/id}"),
        ("stargazers_url", "/stargazers"),
        ("statuses_url", "/statuses/{sha}"),
        ("subscribers_url", "/subscribers"),
        ("subscription_url", "/subscription"),
        ("tags_url", "/tags"),
        ("teams_url", "/teams"),
        ("trees_url", "/git/trees{/sha}"),
    ] {
        object.insert(key.to_string(), Value::String(format!("{url}{suffix}")));
    }
    let owner = user_named(state, api, &repo.owner);
    let rest = json!({
        "id": repo.id,
        "node_id": format!("R_kgDO{:08}", repo.id),
        "name": repo.name,
        "full_name": full,
        "owner": owner,
        "private": true,
        "html_url": format!("{WEB}/{full}"),
        "description": null,
        "fork": false,
        "url": url,
        "clone_url": format!("{WEB}/{full}.git"),
        "git_url": format!("git://github.com/{full}.git"),
        "ssh_url": format!("git@github.com:{full}.git"),
        "svn_url": format!("{WEB}/{full}"),
        "mirror_url": null,
        "homepage": null,
        "language": "HCL",
        "forks": 0,
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers": 0,
        "watchers_count": 0,
        "size": 1,
        "default_branch": repo.default_branch,
        "open_issues": repo.pulls.values().filter(|p| p.spec.state == "open").count(),
        "open_issues_count": repo.pulls.values().filter(|p| p.spec.state == "open").count(),
        "has_issues": true,
        "has_projects": false,
        "has_wiki": false,
        "has_pages": false,
        "has_downloads": false,
        "archived": false,
        "disabled": false,
        "visibility": "private",
        "license": null,
        "pushed_at": now,
        "created_at": now,
        "updated_at": now,
    });
    if let Value::Object(rest) = rest {
        object.extend(rest);
    }
    Value::Object(object)
}

/// How GitHub relates `login` to a repository, from its permission there.
fn author_association(repo: Option<&Repo>, login: &str) -> &'static str {
    match repo {
        Some(r) if r.owner == login => "OWNER",
        Some(r) if r.permissions.contains_key(login) => "COLLABORATOR",
        _ => "NONE",
    }
}

/// An issue comment (`issue-comment`).
pub(crate) fn comment(state: &mut State, api: &str, c: &Comment) -> Value {
    let association = author_association(state.repos.get(&c.repo), &c.author);
    let reactions = reaction_rollup(state, api, c);
    json!({
        "id": c.id,
        "node_id": c.node_id,
        "url": format!("{api}/repos/{}/issues/comments/{}", c.repo, c.id),
        "html_url": format!("{WEB}/{}/pull/{}#issuecomment-{}", c.repo, c.issue_number, c.id),
        "issue_url": format!("{api}/repos/{}/issues/{}", c.repo, c.issue_number),
        "body": c.body,
        "user": user_named(state, api, &c.author),
        "created_at": rfc3339(c.created_at),
        "updated_at": rfc3339(c.updated_at),
        "author_association": association,
        "reactions": reactions,
    })
}

fn reaction_rollup(state: &State, api: &str, c: &Comment) -> Value {
    let mut rollup = json!({
        "url": format!("{api}/repos/{}/issues/comments/{}/reactions", c.repo, c.id),
        "total_count": 0,
        "+1": 0, "-1": 0, "laugh": 0, "confused": 0, "heart": 0, "hooray": 0, "eyes": 0, "rocket": 0,
    });
    for r in state.reactions_on(c.id) {
        for key in ["total_count", r.content.as_str()] {
            if let Some(n) = rollup.get_mut(key) {
                *n = json!(n.as_u64().unwrap_or(0) + 1);
            }
        }
    }
    rollup
}

/// A reaction (`reaction`).
pub(crate) fn reaction(state: &mut State, api: &str, r: &Reaction) -> Value {
    json!({
        "id": r.id,
        "node_id": format!("REA_lADO{:08}", r.id),
        "user": user_named(state, api, &r.user),
        "content": r.content,
        "created_at": rfc3339(SystemTime::now()),
    })
}

/// The GitHub App (`integration`).
pub(crate) fn app(state: &mut State, api: &str) -> Value {
    let slug = state.app.slug.clone();
    let owner = state
        .repos
        .values()
        .next()
        .map(|r| r.owner.clone())
        .unwrap_or_else(|| slug.clone());
    let now = rfc3339(SystemTime::now());
    json!({
        "id": state.app.id,
        "slug": slug,
        "node_id": format!("A_kwDO{:08}", state.app.id),
        "client_id": format!("Iv1.{:016}", state.app.id),
        "owner": user_named(state, api, &owner),
        "name": slug,
        "description": "Slipway's plan-review bot",
        "external_url": "https://slipway.invalid",
        "html_url": format!("{WEB}/apps/{slug}"),
        "created_at": now,
        "updated_at": now,
        "permissions": app_permissions(),
        "events": ["issue_comment", "pull_request", "pull_request_review", "check_run", "push"],
    })
}

/// The permissions the App holds.
pub(crate) fn app_permissions() -> Value {
    json!({
        "checks": "write",
        "contents": "read",
        "issues": "write",
        "metadata": "read",
        "members": "read",
        "pull_requests": "write",
    })
}

/// A pull request as check runs list it (`pull-request-minimal`).
fn pull_minimal(api: &str, repo: &Repo, p: &PullRequest) -> Value {
    let repo_ref = json!({
        "id": repo.id,
        "url": format!("{api}/repos/{}", repo.full_name()),
        "name": repo.name,
    });
    json!({
        "id": p.id,
        "number": p.spec.number,
        "url": format!("{api}/repos/{}/pulls/{}", repo.full_name(), p.spec.number),
        "head": {"ref": p.spec.head_ref, "sha": p.spec.head_sha, "repo": repo_ref},
        "base": {"ref": p.spec.base_ref, "sha": p.spec.base_sha, "repo": repo_ref},
    })
}

/// A check run (`check-run`).
pub(crate) fn check_run(state: &mut State, api: &str, c: &CheckRun) -> Value {
    let pulls: Vec<Value> = state
        .repos
        .get(&c.repo)
        .map(|repo| {
            repo.pulls
                .values()
                .filter(|p| p.spec.head_sha == c.head_sha && p.spec.state == "open")
                .map(|p| pull_minimal(api, repo, p))
                .collect()
        })
        .unwrap_or_default();
    let url = format!("{api}/repos/{}/check-runs/{}", c.repo, c.id);
    json!({
        "id": c.id,
        "node_id": format!("CR_kwDO{:08}", c.id),
        "head_sha": c.head_sha,
        "external_id": c.external_id.clone().unwrap_or_default(),
        "url": url,
        "html_url": format!("{WEB}/{}/runs/{}", c.repo, c.id),
        "details_url": c.details_url.clone().unwrap_or_else(|| format!("{WEB}/{}/runs/{}", c.repo, c.id)),
        "status": c.status,
        "conclusion": c.conclusion,
        "started_at": c.started_at,
        "completed_at": c.completed_at,
        "output": {
            "title": c.title,
            "summary": c.summary,
            "text": c.text,
            "annotations_count": c.annotations.len(),
            "annotations_url": format!("{url}/annotations"),
        },
        "name": c.name,
        "check_suite": {"id": c.id + 1_000_000},
        "app": app(state, api),
        "pull_requests": pulls,
    })
}

/// A pull request (`pull-request`).
pub(crate) fn pull(state: &mut State, api: &str, repo: &Repo, p: &PullRequest) -> Value {
    let full = repo.full_name();
    let number = p.spec.number;
    let url = format!("{api}/repos/{full}/pulls/{number}");
    let issue_url = format!("{api}/repos/{full}/issues/{number}");
    let html_url = format!("{WEB}/{full}/pull/{number}");
    let statuses_url = format!("{api}/repos/{full}/statuses/{}", p.spec.head_sha);
    let repo_json = repository(state, api, repo);
    let author = user_named(state, api, &p.spec.author);
    let owner = user_named(state, api, &repo.owner);
    let comments = state
        .comments_on(&full, number)
        .iter()
        .filter(|c| !c.deleted)
        .count();
    // A fork's head lives in a copy of the repository under its owner.
    let (head_owner, head_user, head_repo) = match &p.spec.fork_owner {
        None => (repo.owner.clone(), owner.clone(), repo_json.clone()),
        Some(fork) => {
            let user = user_named(state, api, fork);
            let mut copy = repo_json.clone();
            if let Some(o) = copy.as_object_mut() {
                o.insert("full_name".into(), json!(format!("{fork}/{}", repo.name)));
                o.insert("fork".into(), json!(true));
                o.insert("owner".into(), user.clone());
            }
            (fork.clone(), user, copy)
        }
    };
    let created = rfc3339(p.created_at);
    let link = |href: &str| json!({"href": href});
    let mergeable_state = match p.spec.mergeable {
        Some(true) => "clean",
        Some(false) => "dirty",
        None => "unknown",
    };
    let links = json!({
        "self": link(&url),
        "html": link(&html_url),
        "issue": link(&issue_url),
        "comments": link(&format!("{issue_url}/comments")),
        "review_comments": link(&format!("{url}/comments")),
        "review_comment": link(&format!("{api}/repos/{full}/pulls/comments{{/number}}")),
        "commits": link(&format!("{url}/commits")),
        "statuses": link(&statuses_url),
    });
    let counts = json!({
        "comments": comments,
        "review_comments": 0,
        "maintainer_can_modify": false,
        "commits": 1,
        "additions": 1,
        "deletions": 0,
        "changed_files": 1,
    });
    let mut object = json!({
        "url": url,
        "id": p.id,
        "node_id": format!("PR_kwDO{:08}", p.id),
        "html_url": html_url,
        "diff_url": format!("{html_url}.diff"),
        "patch_url": format!("{html_url}.patch"),
        "issue_url": issue_url,
        "commits_url": format!("{url}/commits"),
        "review_comments_url": format!("{url}/comments"),
        "review_comment_url": format!("{api}/repos/{full}/pulls/comments{{/number}}"),
        "comments_url": format!("{issue_url}/comments"),
        "statuses_url": statuses_url,
        "number": number,
        "state": p.spec.state,
        "locked": false,
        "title": p.spec.title,
        "user": author,
        "body": null,
        "labels": [],
        "milestone": null,
        "active_lock_reason": null,
        "created_at": created,
        "updated_at": created,
        "closed_at": (p.spec.state == "closed").then(|| created.clone()),
        "merged_at": p.spec.merged.then(|| created.clone()),
        "merge_commit_sha": p.spec.merged.then(|| p.spec.head_sha.clone()),
        "assignee": null,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": {
            "label": format!("{}:{}", head_owner, p.spec.head_ref),
            "ref": p.spec.head_ref,
            "sha": p.spec.head_sha,
            "user": head_user,
            "repo": head_repo,
        },
        "base": {
            "label": format!("{}:{}", repo.owner, p.spec.base_ref),
            "ref": p.spec.base_ref,
            "sha": p.spec.base_sha,
            "user": owner,
            "repo": repo_json,
        },
        "_links": links,
        "author_association": author_association(Some(repo), &p.spec.author),
        "auto_merge": null,
        "draft": p.spec.draft,
        "merged": p.spec.merged,
        "mergeable": p.spec.mergeable,
        "rebaseable": p.spec.mergeable,
        "mergeable_state": mergeable_state,
        "merged_by": null,
    });
    if let (Some(object), Value::Object(counts)) = (object.as_object_mut(), counts) {
        object.extend(counts);
    }
    object
}

/// A pull request review (`pull-request-review`).
pub(crate) fn review(state: &mut State, api: &str, repo: &Repo, number: u64, r: &Review) -> Value {
    let full = repo.full_name();
    let html_url = format!("{WEB}/{full}/pull/{number}#pullrequestreview-{}", r.id);
    let pull_url = format!("{api}/repos/{full}/pulls/{number}");
    json!({
        "id": r.id,
        "node_id": format!("PRR_kwDO{:08}", r.id),
        "user": user_named(state, api, &r.user),
        "body": r.body,
        "state": r.state,
        "html_url": html_url,
        "pull_request_url": pull_url,
        "_links": {"html": {"href": html_url}, "pull_request": {"href": pull_url}},
        "submitted_at": rfc3339(r.submitted_at),
        "commit_id": r.commit_id,
        "author_association": author_association(Some(repo), &r.user),
    })
}

/// A not-found answer's body.
pub(crate) fn not_found(documentation: &str) -> Value {
    json!({
        "message": "Not Found",
        "documentation_url": format!("https://docs.github.com/rest{documentation}"),
        "status": "404",
    })
}

/// A validation-failed answer's body (422), with GitHub's error entries.
pub(crate) fn validation_failed(resource: &str, message: &str) -> Value {
    json!({
        "message": "Validation Failed",
        "errors": [{"resource": resource, "code": "custom", "field": "body", "message": message}],
        "documentation_url": "https://docs.github.com/rest",
        "status": "422",
    })
}
