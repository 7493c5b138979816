//! Check runs: created, updated by id, listed by commit. Annotations accumulate over updates,
//! as on GitHub.

use std::time::SystemTime;

use serde_json::{json, Value};

use super::objects::{self, rfc3339, validation_failed};
use super::server::{Answer, Call};
use super::state::{CheckRun, State};

/// Applies the fields a create or update request carries.
fn apply(run: &mut CheckRun, body: &Value) {
    let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_string);
    if let Some(name) = text("name") {
        run.name = name;
    }
    if let Some(status) = text("status") {
        run.status = status;
    }
    if let Some(conclusion) = text("conclusion") {
        run.conclusion = Some(conclusion);
        run.status = "completed".to_string();
    }
    for (field, value) in [
        (&mut run.details_url, text("details_url")),
        (&mut run.external_id, text("external_id")),
        (&mut run.started_at, text("started_at")),
        (&mut run.completed_at, text("completed_at")),
    ] {
        if value.is_some() {
            *field = value;
        }
    }
    if run.status == "completed" && run.completed_at.is_none() {
        run.completed_at = Some(rfc3339(SystemTime::now()));
    }
    if let Some(output) = body.get("output") {
        let text = |name: &str| output.get(name).and_then(Value::as_str).map(str::to_string);
        for (field, value) in [
            (&mut run.title, text("title")),
            (&mut run.summary, text("summary")),
            (&mut run.text, text("text")),
        ] {
            if value.is_some() {
                *field = value;
            }
        }
        if let Some(annotations) = output.get("annotations").and_then(Value::as_array) {
            run.annotations.extend(annotations.iter().cloned());
        }
    }
    run.updates.push(body.clone());
}

/// GitHub's refusal of a completed run without a conclusion.
fn completed_without_conclusion(run: &CheckRun) -> Option<Answer> {
    (run.status == "completed" && run.conclusion.is_none()).then(|| {
        Answer::refused(
            422,
            validation_failed(
                "CheckRun",
                "conclusion is required when status is completed",
            ),
            "a check run completed without a conclusion".to_string(),
        )
    })
}

/// `POST /repos/{owner}/{repo}/check-runs`.
pub(crate) fn create(state: &mut State, call: &Call<'_>) -> Answer {
    let repo = call.repo();
    if !state.repos.contains_key(&repo) {
        return Answer::not_found();
    }
    let Some(body) = call.body else {
        return Answer::not_found();
    };
    let mut run = CheckRun {
        id: state.next_id(),
        repo,
        name: String::new(),
        head_sha: call.field("head_sha").unwrap_or_default().to_string(),
        status: "queued".to_string(),
        conclusion: None,
        title: None,
        summary: None,
        text: None,
        annotations: Vec::new(),
        details_url: None,
        external_id: None,
        started_at: Some(rfc3339(SystemTime::now())),
        completed_at: None,
        updates: Vec::new(),
    };
    apply(&mut run, body);
    if let Some(refusal) = completed_without_conclusion(&run) {
        return refusal;
    }
    state.check_runs.insert(run.id, run.clone());
    Answer::json(201, objects::check_run(state, call.api, &run))
}

/// The check run the call names, in the call's repository.
fn find(state: &State, call: &Call<'_>) -> Option<CheckRun> {
    state
        .check_runs
        .get(&call.number("check_run_id"))
        .filter(|c| c.repo == call.repo())
        .cloned()
}

/// `GET /repos/{owner}/{repo}/check-runs/{check_run_id}`.
pub(crate) fn get(state: &mut State, call: &Call<'_>) -> Answer {
    match find(state, call) {
        Some(run) => Answer::json(200, objects::check_run(state, call.api, &run)),
        None => Answer::not_found(),
    }
}

/// `PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}`.
pub(crate) fn update(state: &mut State, call: &Call<'_>) -> Answer {
    let (Some(mut run), Some(body)) = (find(state, call), call.body) else {
        return Answer::not_found();
    };
    apply(&mut run, body);
    if let Some(refusal) = completed_without_conclusion(&run) {
        return refusal;
    }
    state.check_runs.insert(run.id, run.clone());
    Answer::json(200, objects::check_run(state, call.api, &run))
}

/// `GET /repos/{owner}/{repo}/commits/{ref}/check-runs`: the latest run of each name unless
/// `filter=all`, optionally only `check_name` or `status`.
pub(crate) fn list(state: &mut State, call: &Call<'_>) -> Answer {
    let repo = call.repo();
    if !state.repos.contains_key(&repo) {
        return Answer::not_found();
    }
    let all = call.query.get("filter").map(String::as_str) == Some("all");
    let mut runs: Vec<CheckRun> = state
        .check_runs_at(&repo, call.param("ref"))
        .into_iter()
        .rev()
        .filter(|c| call.query.get("check_name").is_none_or(|n| *n == c.name))
        .filter(|c| call.query.get("status").is_none_or(|s| *s == c.status))
        .cloned()
        .collect();
    if !all {
        let mut seen = std::collections::BTreeSet::new();
        runs.retain(|c| seen.insert(c.name.clone()));
    }
    let items: Vec<Value> = call
        .page_slice(&runs)
        .iter()
        .map(|c| objects::check_run(state, call.api, c))
        .collect();
    let path = format!("/repos/{repo}/commits/{}/check-runs", call.param("ref"));
    Answer::page(
        200,
        json!({"total_count": runs.len(), "check_runs": items}),
        call,
        &path,
        call.page(),
        runs.len(),
    )
}
