//! Issue and pull request comments, and their reactions.

use std::time::SystemTime;

use serde_json::Value;

use super::objects::{self, validation_failed};
use super::server::{Answer, Call};
use super::state::{Comment, Reaction, State};

/// The longest comment body GitHub accepts, in characters.
pub const MAX_COMMENT_CHARS: usize = 65_536;

/// GitHub's 422 for a body over [`MAX_COMMENT_CHARS`], if it is.
fn too_long(body: &str) -> Option<Answer> {
    let length = body.chars().count();
    (length > MAX_COMMENT_CHARS).then(|| {
        Answer::refused(
            422,
            validation_failed(
                "IssueComment",
                &format!("Body is too long (maximum is {MAX_COMMENT_CHARS} characters)"),
            ),
            format!("a comment body of {length} characters, over GitHub's {MAX_COMMENT_CHARS}"),
        )
    })
}

/// The live comment the call names, in the call's repository.
fn find<'a>(state: &'a State, call: &Call<'_>) -> Option<&'a Comment> {
    state
        .comments
        .get(&call.number("comment_id"))
        .filter(|c| c.repo == call.repo() && !c.deleted)
}

/// Whether the call's issue exists: a pull request of an existing repository.
fn issue_exists(state: &State, call: &Call<'_>) -> bool {
    state
        .pull(&call.repo(), call.number("issue_number"))
        .is_some()
}

/// Posts a comment as `author`; shared by the API and by tests that play a person.
pub(crate) fn post(state: &mut State, repo: &str, number: u64, author: &str, body: &str) -> u64 {
    let id = state.next_id();
    let now = SystemTime::now();
    state.user(author);
    state.comments.insert(
        id,
        Comment {
            id,
            node_id: format!("IC_kwDO{id:08}"),
            repo: repo.to_string(),
            issue_number: number,
            author: author.to_string(),
            body: body.to_string(),
            previous_bodies: Vec::new(),
            minimized: None,
            deleted: false,
            created_at: now,
            updated_at: now,
        },
    );
    id
}

/// `GET /repos/{owner}/{repo}/issues/{issue_number}/comments`, paginated.
pub(crate) fn list(state: &mut State, call: &Call<'_>) -> Answer {
    if !issue_exists(state, call) {
        return Answer::not_found();
    }
    let live: Vec<Comment> = state
        .comments_on(&call.repo(), call.number("issue_number"))
        .into_iter()
        .filter(|c| !c.deleted)
        .cloned()
        .collect();
    let items: Vec<Value> = call
        .page_slice(&live)
        .iter()
        .map(|c| objects::comment(state, call.api, c))
        .collect();
    let path = format!(
        "/repos/{}/issues/{}/comments",
        call.repo(),
        call.number("issue_number")
    );
    Answer::page(
        200,
        Value::Array(items),
        call,
        &path,
        call.page(),
        live.len(),
    )
}

/// `POST /repos/{owner}/{repo}/issues/{issue_number}/comments`.
pub(crate) fn create(state: &mut State, call: &Call<'_>) -> Answer {
    if !issue_exists(state, call) {
        return Answer::not_found();
    }
    let body = call.field("body").unwrap_or_default();
    if let Some(refusal) = too_long(body) {
        return refusal;
    }
    let id = post(
        state,
        &call.repo(),
        call.number("issue_number"),
        &call.login,
        body,
    );
    match state.comments.get(&id).cloned() {
        Some(c) => Answer::json(201, objects::comment(state, call.api, &c)),
        None => Answer::not_found(),
    }
}

/// `GET /repos/{owner}/{repo}/issues/comments/{comment_id}`.
pub(crate) fn get(state: &mut State, call: &Call<'_>) -> Answer {
    match find(state, call).cloned() {
        Some(c) => Answer::json(200, objects::comment(state, call.api, &c)),
        None => Answer::not_found(),
    }
}

/// `PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}`: the old body is kept.
pub(crate) fn update(state: &mut State, call: &Call<'_>) -> Answer {
    let Some(id) = find(state, call).map(|c| c.id) else {
        return Answer::not_found();
    };
    let body = call.field("body").unwrap_or_default().to_string();
    if let Some(refusal) = too_long(&body) {
        return refusal;
    }
    let Some(comment) = state.comments.get_mut(&id) else {
        return Answer::not_found();
    };
    let old = std::mem::replace(&mut comment.body, body);
    comment.previous_bodies.push(old);
    comment.updated_at = SystemTime::now();
    let comment = comment.clone();
    Answer::json(200, objects::comment(state, call.api, &comment))
}

/// `DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}`: kept, marked deleted.
pub(crate) fn delete(state: &mut State, call: &Call<'_>) -> Answer {
    let Some(id) = find(state, call).map(|c| c.id) else {
        return Answer::not_found();
    };
    if let Some(comment) = state.comments.get_mut(&id) {
        comment.deleted = true;
    }
    Answer::no_content()
}

/// `GET /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions`.
pub(crate) fn list_reactions(state: &mut State, call: &Call<'_>) -> Answer {
    let Some(id) = find(state, call).map(|c| c.id) else {
        return Answer::not_found();
    };
    let all: Vec<Reaction> = state.reactions_on(id).into_iter().cloned().collect();
    let items = call
        .page_slice(&all)
        .iter()
        .map(|r| objects::reaction(state, call.api, r))
        .collect();
    let path = format!("/repos/{}/issues/comments/{id}/reactions", call.repo());
    Answer::page(
        200,
        Value::Array(items),
        call,
        &path,
        call.page(),
        all.len(),
    )
}

/// `POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions`: 201 for a new
/// reaction, 200 when the account had already reacted so.
pub(crate) fn react(state: &mut State, call: &Call<'_>) -> Answer {
    let Some(comment_id) = find(state, call).map(|c| c.id) else {
        return Answer::not_found();
    };
    let content = call.field("content").unwrap_or_default().to_string();
    let existing = state
        .reactions
        .iter()
        .find(|r| r.comment_id == comment_id && r.user == call.login && r.content == content)
        .cloned();
    if let Some(r) = existing {
        return Answer::json(200, objects::reaction(state, call.api, &r));
    }
    let reaction = Reaction {
        id: state.next_id(),
        comment_id,
        user: call.login.clone(),
        content,
    };
    state.reactions.push(reaction.clone());
    Answer::json(201, objects::reaction(state, call.api, &reaction))
}
