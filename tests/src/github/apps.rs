//! The GitHub App flow: find a repository's installation with the App's JWT, trade the JWT for
//! an installation token that expires in an hour. Also the rate-limit overview.

use std::time::{Duration, SystemTime};

use serde_json::json;

use super::objects::{self, epoch, rfc3339};
use super::server::{Answer, Call};
use super::state::{State, Token, RATE_LIMIT};

/// How long an installation token lives.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// `GET /app`.
pub(crate) fn app(state: &mut State, call: &Call<'_>) -> Answer {
    Answer::json(200, objects::app(state, call.api))
}

/// `GET /user`: the token's account; an installation token has none (403, as on GitHub).
pub(crate) fn user(state: &mut State, call: &Call<'_>) -> Answer {
    if call.installation_token {
        return Answer::json(
            403,
            json!({
                "message": "Resource not accessible by integration",
                "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user",
                "status": "403",
            }),
        );
    }
    let mut user = objects::user_named(state, call.api, &call.login);
    let now = rfc3339(SystemTime::now());
    if let Some(object) = user.as_object_mut() {
        for (key, value) in [
            ("name", json!(call.login)),
            ("company", json!(null)),
            ("blog", json!("")),
            ("location", json!(null)),
            ("email", json!(null)),
            ("hireable", json!(null)),
            ("bio", json!(null)),
            ("public_repos", json!(0)),
            ("public_gists", json!(0)),
            ("followers", json!(0)),
            ("following", json!(0)),
            ("created_at", json!(now)),
            ("updated_at", json!(now)),
        ] {
            object.insert(key.to_string(), value);
        }
    }
    Answer::json(200, user)
}

/// `GET /repos/{owner}/{repo}/installation`.
pub(crate) fn repo_installation(state: &mut State, call: &Call<'_>) -> Answer {
    let owner = call.param("owner").to_string();
    let (Some(_), Some(id)) = (
        state.repos.get(&call.repo()),
        state.installations.get(&owner).copied(),
    ) else {
        return Answer::not_found();
    };
    let account = objects::user_named(state, call.api, &owner);
    let account_id = state.user(&owner).id;
    let now = rfc3339(SystemTime::now());
    Answer::json(
        200,
        json!({
            "id": id,
            "account": account,
            "access_tokens_url": format!("{}/app/installations/{id}/access_tokens", call.api),
            "repositories_url": format!("{}/installation/repositories", call.api),
            "html_url": format!("https://github.com/organizations/{owner}/settings/installations/{id}"),
            "app_id": state.app.id,
            "app_slug": state.app.slug,
            "target_id": account_id,
            "target_type": "Organization",
            "permissions": objects::app_permissions(),
            "events": ["issue_comment", "pull_request", "pull_request_review", "check_run", "push"],
            "created_at": now,
            "updated_at": now,
            "single_file_name": null,
            "repository_selection": "all",
            "suspended_by": null,
            "suspended_at": null,
        }),
    )
}

/// `POST /app/installations/{installation_id}/access_tokens`: a new token, valid from now on
/// for an hour, acting as the App's bot account.
pub(crate) fn access_token(state: &mut State, call: &Call<'_>) -> Answer {
    let installation_id = call.number("installation_id");
    if !state
        .installations
        .values()
        .any(|id| *id == installation_id)
    {
        return Answer::not_found();
    }
    state.tokens_issued += 1;
    let token = format!("ghs_fake{:032}", state.tokens_issued);
    let expires_at = SystemTime::now() + TOKEN_LIFETIME;
    state.tokens.insert(
        token.clone(),
        Token {
            login: state.app.bot_login(),
            installation_id: Some(installation_id),
            expires_at: Some(expires_at),
        },
    );
    Answer::json(
        201,
        json!({
            "token": token,
            "expires_at": rfc3339(expires_at),
            "permissions": objects::app_permissions(),
            "repository_selection": "all",
        }),
    )
}

/// `GET /rate_limit`.
pub(crate) fn rate_limit(state: &mut State) -> Answer {
    let reset = epoch(state.rate_reset);
    let core = json!({
        "limit": RATE_LIMIT,
        "remaining": RATE_LIMIT.saturating_sub(state.rate_used),
        "reset": reset,
        "used": state.rate_used,
        "resource": "core",
    });
    let other = |resource: &str, limit: u64| json!({"limit": limit, "remaining": limit, "reset": reset, "used": 0, "resource": resource});
    Answer::json(
        200,
        json!({
            "resources": {
                "core": core,
                "graphql": other("graphql", RATE_LIMIT),
                "search": other("search", 30),
                "code_search": other("code_search", 10),
                "integration_manifest": other("integration_manifest", RATE_LIMIT),
            },
            "rate": core,
        }),
    )
}
