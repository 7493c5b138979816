//! The fake GitHub's HTTP face: every request is recorded, checked against GitHub's
//! descriptions, authenticated, maybe failed on purpose, then answered by the handler of its
//! operation.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{json, Value};

use super::faults::FaultKind;
use super::graphql;
use super::objects::{epoch, not_found};
use super::rest::RestDescription;
use super::state::{Request, State, Violation, RATE_LIMIT};
use super::{apps, checks, comments, pulls, rights};

/// The state and the condition variable woken after every request.
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) changed: Condvar,
    /// The API base URL (`http://127.0.0.1:PORT`), for the URLs in answers.
    pub(crate) api: String,
}

impl Shared {
    /// The state, even if a panicking test poisoned the lock.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One request as a handler sees it.
pub(crate) struct Call<'a> {
    /// The API base URL.
    pub api: &'a str,
    /// The path parameters of the operation.
    pub params: BTreeMap<String, String>,
    /// The query parameters, decoded.
    pub query: BTreeMap<String, String>,
    /// The JSON body, if any.
    pub body: Option<&'a Value>,
    /// The account the token acts as.
    pub login: String,
    /// Whether the token is an App installation's (not a person's).
    pub installation_token: bool,
}

impl Call<'_> {
    /// Path parameter `name` (the description guarantees it is there).
    pub fn param(&self, name: &str) -> &str {
        self.params.get(name).map(String::as_str).unwrap_or("")
    }

    /// Integer path parameter `name`.
    pub fn number(&self, name: &str) -> u64 {
        self.param(name).parse().unwrap_or(0)
    }

    /// `owner/repo` from the path.
    pub fn repo(&self) -> String {
        format!("{}/{}", self.param("owner"), self.param("repo"))
    }

    /// String field `name` of the body.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.body.and_then(|b| b.get(name)).and_then(Value::as_str)
    }

    /// `per_page` (1..=100, default 30) and `page` (from 1) of a list request.
    /// The items of the requested page of `all`.
    pub fn page_slice<'t, T>(&self, all: &'t [T]) -> &'t [T] {
        let (per_page, page) = self.page();
        let start = per_page.saturating_mul(page - 1).min(all.len());
        &all[start..(start + per_page).min(all.len())]
    }

    pub fn page(&self) -> (usize, usize) {
        let per_page = self
            .query
            .get("per_page")
            .and_then(|v| v.parse().ok())
            .unwrap_or(30usize)
            .clamp(1, 100);
        let page = self
            .query
            .get("page")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1usize)
            .max(1);
        (per_page, page)
    }
}

/// A handler's answer.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Option<Value>,
    pub headers: Vec<(String, String)>,
    /// Set when GitHub refuses the request for a reason the caller should have avoided.
    pub violation: Option<String>,
}

impl Answer {
    /// `status` with a JSON body.
    pub fn json(status: u16, body: Value) -> Answer {
        Answer {
            status,
            body: Some(body),
            headers: Vec::new(),
            violation: None,
        }
    }

    /// 204 No Content.
    pub fn no_content() -> Answer {
        Answer {
            status: 204,
            body: None,
            headers: Vec::new(),
            violation: None,
        }
    }

    /// 404 Not Found, as GitHub answers for a missing object or one the token cannot see.
    pub fn not_found() -> Answer {
        Answer::json(404, not_found(""))
    }

    /// GitHub's refusal `status` with `body`, recorded as a violation `why`.
    pub fn refused(status: u16, body: Value, why: String) -> Answer {
        Answer {
            violation: Some(why),
            ..Answer::json(status, body)
        }
    }

    fn header(mut self, name: &str, value: String) -> Answer {
        self.headers.push((name.to_string(), value));
        self
    }

    /// The body of a list, with GitHub's `Link` header for `page` of `per_page` out of `total`.
    pub fn page(
        status: u16,
        body: Value,
        call: &Call<'_>,
        path: &str,
        (per_page, page): (usize, usize),
        total: usize,
    ) -> Answer {
        let last = total.div_ceil(per_page).max(1);
        let link = |n: usize, rel: &str| {
            format!(
                "<{}{path}?per_page={per_page}&page={n}>; rel=\"{rel}\"",
                call.api
            )
        };
        let mut links = Vec::new();
        if page > 1 {
            links.push(link(page - 1, "prev"));
        }
        if page < last {
            links.push(link(page + 1, "next"));
            links.push(link(last, "last"));
        }
        if page > 1 {
            links.push(link(1, "first"));
        }
        let answer = Answer::json(status, body);
        if links.is_empty() {
            answer
        } else {
            answer.header("link", links.join(", "))
        }
    }
}

/// Answers one request. The state lock is held while deciding, never while waiting.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let delay = shared.lock().delay;
    let answer = {
        let mut state = shared.lock();
        let answer = answer(&mut state, &shared.api, &method, &uri, &headers, &body);
        drop(state);
        shared.changed.notify_all();
        answer
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut response = Response::builder()
        .status(StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    for (name, value) in &answer.headers {
        response = response.header(name.as_str(), value.as_str());
    }
    let body = match answer.body {
        Some(body) => {
            response = response.header("content-type", "application/json; charset=utf-8");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    response.body(body).unwrap_or_else(|_| {
        let mut fallback = Response::new(Body::from("the fake GitHub built an invalid answer"));
        *fallback.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}

/// Decides the answer, recording the request, its violations and the fake's own defects.
fn answer(
    state: &mut State,
    api: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    raw: &[u8],
) -> Answer {
    let method = method.as_str().to_string();
    let path = uri.path().to_string();
    let mut record = Request {
        method: method.clone(),
        path: path.clone(),
        query: uri.query().map(str::to_string),
        route: None,
        operation_method: None,
        body: None,
        status: 0,
    };
    let mut violations = Vec::new();
    let body = if raw.is_empty() {
        None
    } else {
        match serde_json::from_slice::<Value>(raw) {
            Ok(v) => Some(v),
            Err(e) => {
                violations.push(format!("the body is not JSON: {e}"));
                record.body = Some(Value::String(String::from_utf8_lossy(raw).into_owned()));
                None
            }
        }
    };
    if body.is_some() {
        record.body.clone_from(&body);
    }
    let mut answer = decide(
        state,
        api,
        &method,
        &path,
        uri,
        headers,
        body.as_ref(),
        &mut record,
        &mut violations,
    );
    violations.extend(answer.violation.take());
    state
        .violations
        .extend(violations.into_iter().map(|message| Violation {
            method: method.clone(),
            path: path.clone(),
            message,
        }));
    if answer.status < 400 || answer.status == 422 {
        state.rate_used += 1;
    }
    let limited = answer
        .headers
        .iter()
        .any(|(name, _)| name == "x-ratelimit-remaining");
    if !limited {
        let remaining = RATE_LIMIT.saturating_sub(state.rate_used);
        answer = answer
            .header("x-ratelimit-limit", RATE_LIMIT.to_string())
            .header("x-ratelimit-remaining", remaining.to_string())
            .header("x-ratelimit-reset", epoch(state.rate_reset).to_string())
            .header("x-ratelimit-used", state.rate_used.to_string())
            .header("x-ratelimit-resource", "core".to_string());
    }
    answer = answer.header(
        "x-github-request-id",
        format!("FAKE:{:08X}", state.requests.len()),
    );
    record.status = answer.status;
    state.requests.push(record);
    answer
}

#[allow(clippy::too_many_arguments)]
fn decide(
    state: &mut State,
    api: &str,
    method: &str,
    path: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: Option<&Value>,
    record: &mut Request,
    violations: &mut Vec<String>,
) -> Answer {
    let description = RestDescription::get();
    let graphql = method == "POST" && path == "/graphql";
    let operation = if graphql {
        record.route = Some("/graphql".to_string());
        None
    } else {
        match description.operation(method, path) {
            Ok(op) => {
                record.route = Some(op.template.to_string());
                record.operation_method = Some(op.method.to_string());
                Some(op)
            }
            Err(why) => return Answer::refused(404, not_found(""), why),
        }
    };
    let template = operation
        .as_ref()
        .map(|op| op.template)
        .unwrap_or("/graphql");
    let (login, installation_token) = match authenticate(state, template, headers) {
        Ok(who) => who,
        Err(answer) => return answer,
    };
    if let Some(op) = &operation {
        let errors = description.check_request(op, body);
        if !errors.is_empty() {
            let why = format!(
                "the body does not match GitHub's description: {}",
                errors.join("; ")
            );
            return Answer::refused(
                422,
                json!({
                    "message": "Invalid request.",
                    "errors": errors,
                    "documentation_url": "https://docs.github.com/rest",
                    "status": "422",
                }),
                why,
            );
        }
    }
    let applied_then = applied_fault(state, method, path);
    if applied_then.is_none() {
        if let Some(answer) = inject_fault(state, method, path) {
            return answer;
        }
    }
    let Some(op) = operation else {
        let (answer, errors) = graphql::answer(state, api, &login, body);
        violations.extend(errors);
        return answer;
    };
    let call = Call {
        api,
        params: op.params.clone(),
        query: parse_query(uri.query().unwrap_or("")),
        body,
        login,
        installation_token,
    };
    let answer = dispatch(state, op.method, op.template, &call);
    if let Some(body) = &answer.body {
        if answer.status < 300 {
            for defect in description.check_response(&op, answer.status, body) {
                state.defects.push(format!(
                    "{method} {}: {} {defect}",
                    op.template, answer.status
                ));
            }
        }
    }
    match applied_then {
        Some(status) => Answer::json(
            status,
            json!({"message": "Server Error", "status": status.to_string()}),
        ),
        None => answer,
    }
}

/// The status of the first [`FaultKind::AppliedThen`] failure that applies, consumed; the
/// request is then carried out and its answer replaced.
fn applied_fault(state: &mut State, method: &str, path: &str) -> Option<u16> {
    let fault = state
        .faults
        .iter_mut()
        .find(|f| f.applies_to(method, path))?;
    let FaultKind::AppliedThen(status) = fault.kind else {
        return None;
    };
    fault.remaining -= 1;
    state.faults.retain(|f| f.remaining > 0);
    Some(status)
}

/// The handler of each operation the fake models.
fn dispatch(state: &mut State, method: &str, template: &str, call: &Call<'_>) -> Answer {
    match (method, template) {
        ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments") => {
            comments::list(state, call)
        }
        ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments") => {
            comments::create(state, call)
        }
        ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}") => comments::get(state, call),
        ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}") => {
            comments::update(state, call)
        }
        ("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}") => {
            comments::delete(state, call)
        }
        ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions") => {
            comments::list_reactions(state, call)
        }
        ("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions") => {
            comments::react(state, call)
        }
        ("POST", "/repos/{owner}/{repo}/check-runs") => checks::create(state, call),
        ("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}") => checks::get(state, call),
        ("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}") => checks::update(state, call),
        ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs") => checks::list(state, call),
        ("GET", "/repos/{owner}/{repo}/pulls") => pulls::list(state, call),
        ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}") => pulls::get(state, call),
        ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews") => pulls::reviews(state, call),
        ("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission") => {
            rights::permission(state, call)
        }
        ("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}") => {
            rights::team_membership(state, call)
        }
        ("GET", "/repos/{owner}/{repo}/installation") => apps::repo_installation(state, call),
        ("POST", "/app/installations/{installation_id}/access_tokens") => {
            apps::access_token(state, call)
        }
        ("GET", "/app") => apps::app(state, call),
        ("GET", "/user") => apps::user(state, call),
        ("GET", "/rate_limit") => apps::rate_limit(state),
        _ => Answer::refused(
            404,
            not_found(""),
            format!("{method} {template} is GitHub's, but the fake GitHub does not model it yet"),
        ),
    }
}

/// Operations that take the App's JWT rather than a token.
fn wants_jwt(template: &str) -> bool {
    template == "/app"
        || template.starts_with("/app/")
        || template == "/repos/{owner}/{repo}/installation"
}

/// The account the request acts as and whether it is an installation's, or GitHub's 401.
fn authenticate(
    state: &State,
    template: &str,
    headers: &HeaderMap,
) -> Result<(String, bool), Answer> {
    let credentials = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .or_else(|| v.strip_prefix("token "))
        })
        .map(str::trim);
    if template == "/rate_limit" {
        return Ok((String::new(), false));
    }
    let refuse = |message: &str| {
        Answer::json(
            401,
            json!({
                "message": message,
                "documentation_url": "https://docs.github.com/rest",
                "status": "401",
            }),
        )
    };
    let Some(credentials) = credentials else {
        return Err(refuse("Requires authentication"));
    };
    if wants_jwt(template) {
        return if looks_like_jwt(credentials) {
            Ok((state.app.bot_login(), false))
        } else {
            Err(refuse("A JSON web token could not be decoded"))
        };
    }
    match state.tokens.get(credentials) {
        Some(token) if token.expires_at.is_none_or(|t| t > SystemTime::now()) => {
            Ok((token.login.clone(), token.installation_id.is_some()))
        }
        _ => Err(refuse("Bad credentials")),
    }
}

/// Three non-empty base64url parts separated by dots.
fn looks_like_jwt(credentials: &str) -> bool {
    let parts: Vec<&str> = credentials.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
        })
}

/// The answer of the first injected failure that applies to the request, consuming it.
fn inject_fault(state: &mut State, method: &str, path: &str) -> Option<Answer> {
    let fault = state
        .faults
        .iter_mut()
        .find(|f| f.applies_to(method, path))?;
    fault.remaining -= 1;
    let kind = fault.kind.clone();
    state.faults.retain(|f| f.remaining > 0);
    Some(match kind {
        FaultKind::Status(status) | FaultKind::AppliedThen(status) => Answer::json(
            status,
            json!({"message": "Server Error", "status": status.to_string()}),
        ),
        FaultKind::SecondaryRateLimit { retry_after } => Answer::json(
            403,
            json!({
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID FAKE.",
                "documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                "status": "403",
            }),
        )
        .header("retry-after", retry_after.as_secs().max(1).to_string()),
        FaultKind::PrimaryRateLimit { status, reset_in } => {
            let reset = SystemTime::now() + reset_in.max(Duration::from_secs(1));
            Answer::json(
                status,
                json!({
                    "message": "API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID FAKE.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                    "status": status.to_string(),
                }),
            )
            .header("x-ratelimit-limit", RATE_LIMIT.to_string())
            .header("x-ratelimit-remaining", "0".to_string())
            .header("x-ratelimit-reset", epoch(reset).to_string())
            .header("x-ratelimit-used", RATE_LIMIT.to_string())
            .header("x-ratelimit-resource", "core".to_string())
        }
    })
}

/// `a=1&b=x%2Fy` as a map, percent-decoded.
fn parse_query(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (decoded, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, b) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
