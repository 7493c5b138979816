//! Who may do what: collaborators' permission on a repository, and team memberships.

use serde_json::json;

use super::objects;
use super::server::{Answer, Call};
use super::state::State;

/// `GET /repos/{owner}/{repo}/collaborators/{username}/permission`. GitHub folds the
/// fine-grained roles into `permission` (`maintain` reads `write`, `triage` reads `read`) and
/// tells the role in `role_name`; a non-collaborator has `none`.
pub(crate) fn permission(state: &mut State, call: &Call<'_>) -> Answer {
    let Some(repo) = state.repos.get(&call.repo()) else {
        return Answer::not_found();
    };
    let login = call.param("username").to_string();
    let role = repo
        .permissions
        .get(&login)
        .cloned()
        .unwrap_or_else(|| "none".to_string());
    let permission = match role.as_str() {
        "admin" => "admin",
        "maintain" | "write" => "write",
        "triage" | "read" => "read",
        _ => "none",
    };
    let rank = ["none", "read", "triage", "write", "maintain", "admin"]
        .iter()
        .position(|r| *r == role)
        .unwrap_or(0);
    let mut user = objects::user_named(state, call.api, &login);
    if let Some(object) = user.as_object_mut() {
        object.insert("role_name".to_string(), json!(role));
        object.insert(
            "permissions".to_string(),
            json!({
                "pull": rank >= 1,
                "triage": rank >= 2,
                "push": rank >= 3,
                "maintain": rank >= 4,
                "admin": rank >= 5,
            }),
        );
    }
    Answer::json(
        200,
        json!({"permission": permission, "role_name": role, "user": user}),
    )
}

/// `GET /orgs/{org}/teams/{team_slug}/memberships/{username}`: 404 when not a member.
pub(crate) fn team_membership(state: &mut State, call: &Call<'_>) -> Answer {
    let key = (
        call.param("org").to_string(),
        call.param("team_slug").to_string(),
        call.param("username").to_string(),
    );
    match state.team_members.get(&key) {
        Some(role) => Answer::json(
            200,
            json!({
                "url": format!(
                    "{}/organizations/{}/team/{}/memberships/{}",
                    call.api, key.0, key.1, key.2
                ),
                "role": role,
                "state": "active",
            }),
        ),
        None => Answer::not_found(),
    }
}
