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
    let (per_page, page) = call.page();
    let items: Vec<Value> = pull
        .reviews
        .iter()
        .skip(per_page * (page - 1))
        .take(per_page)
        .map(|r| objects::review(state, call.api, &repo, number, r))
        .collect();
    let path = format!("/repos/{}/pulls/{number}/reviews", repo.full_name());
    Answer::page(
        200,
        Value::Array(items),
        call,
        &path,
        (per_page, page),
        pull.reviews.len(),
    )
}
