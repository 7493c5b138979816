//! Pull requests and their reviews, as tests open and review them.

use serde_json::Value;

use super::objects;
use super::server::{Answer, Call};
use super::state::State;

/// `GET /repos/{owner}/{repo}/pulls/{pull_number}`.
pub(crate) fn get(state: &mut State, call: &Call<'_>) -> Answer {
    let Some(repo) = state.repos.get(&call.repo()).cloned() else {
        return Answer::not_found();
    };
    match repo.pulls.get(&call.number("pull_number")) {
        Some(pull) => Answer::json(200, objects::pull(state, call.api, &repo, pull)),
        None => Answer::not_found(),
    }
}

/// `GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews`, paginated, oldest first.
pub(crate) fn reviews(state: &mut State, call: &Call<'_>) -> Answer {
    let Some(repo) = state.repos.get(&call.repo()).cloned() else {
        return Answer::not_found();
    };
    let number = call.number("pull_number");
    let Some(pull) = repo.pulls.get(&number) else {
        return Answer::not_found();
    };
    let items: Vec<Value> = call
        .page_slice(&pull.reviews)
        .iter()
        .map(|r| objects::review(state, call.api, &repo, number, r))
        .collect();
    let path = format!("/repos/{}/pulls/{number}/reviews", repo.full_name());
    Answer::page(
        200,
        Value::Array(items),
        call,
        &path,
        call.page(),
        pull.reviews.len(),
    )
}

/// `GET /repos/{owner}/{repo}/pulls`: filtered by `state` (default `open`) and `base`,
/// paginated, by number.
pub(crate) fn list(state: &mut State, call: &Call<'_>) -> Answer {
    let Some(repo) = state.repos.get(&call.repo()).cloned() else {
        return Answer::not_found();
    };
    let wanted = call.query.get("state").map_or("open", String::as_str);
    let base = call.query.get("base");
    let matching: Vec<_> = repo
        .pulls
        .values()
        .filter(|p| wanted == "all" || p.spec.state == wanted)
        .filter(|p| base.is_none_or(|b| &p.spec.base_ref == b))
        .collect();
    let items: Vec<Value> = call
        .page_slice(&matching)
        .iter()
        .map(|p| objects::pull(state, call.api, &repo, p))
        .collect();
    let path = format!("/repos/{}/pulls", repo.full_name());
    Answer::page(
        200,
        Value::Array(items),
        call,
        &path,
        call.page(),
        matching.len(),
    )
}
