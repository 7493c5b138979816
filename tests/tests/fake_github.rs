//! The fake GitHub itself: it refuses what GitHub refuses, records it as a violation, keeps
//! state like GitHub, fails on purpose when told, and answers as GitHub's description says.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use slipway_tests::github::{FakeGithub, Fault, PullSpec, MAX_COMMENT_CHARS, TOKEN};

const SHA: &str = "1111111111111111111111111111111111111111";

/// An answer read off the wire.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON answer")
    }
}

/// One HTTP/1.1 request over a fresh connection.
fn send(
    fake: &FakeGithub,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let mut stream = TcpStream::connect(fake.addr()).expect("connect to the fake GitHub");
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nUser-Agent: slipway-tests\r\nAccept: application/vnd.github+json\r\nContent-Length: {}\r\n",
        fake.addr(),
        body.len()
    );
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    if let Some(auth) = auth {
        request.push_str(&format!("Authorization: {auth}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream
        .write_all(request.as_bytes())
        .expect("send the request");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read the answer");
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}

/// A request with the fake's own token.
fn call(fake: &FakeGithub, method: &str, path: &str, body: Option<Value>) -> Reply {
    send(
        fake,
        method,
        path,
        Some(&format!("Bearer {TOKEN}")),
        body.as_ref(),
    )
}

/// A fake with repository `o/r` and its open pull request 1 at [`SHA`].
fn fake_with_pull() -> FakeGithub {
    let fake = FakeGithub::start();
    fake.add_pull("o/r", PullSpec::new(1, SHA));
    fake
}

fn graphql(fake: &FakeGithub, query: &str, variables: Value) -> Reply {
    call(
        fake,
        "POST",
        "/graphql",
        Some(json!({"query": query, "variables": variables})),
    )
}

#[test]
fn a_request_the_description_does_not_have_is_a_violation() {
    let fake = fake_with_pull();
    let reply = call(
        &fake,
        "POST",
        "/repos/o/r/issues/1/commentz",
        Some(json!({"body": "hi"})),
    );
    assert_eq!(reply.status, 404);
    let violations = fake.violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].path, "/repos/o/r/issues/1/commentz");
    assert!(
        violations[0].message.contains("no such path"),
        "{}",
        violations[0].message
    );

    let reply = call(
        &fake,
        "PUT",
        "/repos/o/r/issues/1/comments",
        Some(json!({"body": "hi"})),
    );
    assert_eq!(reply.status, 404);
    assert!(
        fake.violations()[1].message.contains("no PUT"),
        "{:?}",
        fake.violations()
    );
    assert!(fake.comments("o/r", 1).is_empty());
}

#[test]
fn a_comment_posted_is_answered_and_kept_as_github_does() {
    let fake = fake_with_pull();
    let reply = call(
        &fake,
        "POST",
        "/repos/o/r/issues/1/comments",
        Some(json!({"body": "plan"})),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let answer = reply.json();
    assert_eq!(answer["body"], "plan");
    assert_eq!(answer["user"]["login"], "slipway[bot]");
    assert_eq!(answer["user"]["type"], "Bot");
    let id = answer["id"].as_u64().expect("an id");

    let reply = call(
        &fake,
        "PATCH",
        &format!("/repos/o/r/issues/comments/{id}"),
        Some(json!({"body": "plan v2"})),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = call(
        &fake,
        "POST",
        &format!("/repos/o/r/issues/comments/{id}/reactions"),
        Some(json!({"content": "rocket"})),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let reply = call(
        &fake,
        "GET",
        &format!("/repos/o/r/issues/comments/{id}"),
        None,
    );
    assert_eq!(reply.json()["reactions"]["rocket"], 1);

    let comments = fake.comments("o/r", 1);
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].body, "plan v2");
    assert_eq!(comments[0].edits(), 1);
    assert_eq!(comments[0].author, "slipway[bot]");
    assert_eq!(fake.reactions(id)[0].content, "rocket");

    assert_eq!(
        call(
            &fake,
            "DELETE",
            &format!("/repos/o/r/issues/comments/{id}"),
            None
        )
        .status,
        204
    );
    assert!(fake.comments("o/r", 1)[0].deleted);
    assert_eq!(
        call(
            &fake,
            "GET",
            &format!("/repos/o/r/issues/comments/{id}"),
            None
        )
        .status,
        404
    );
    fake.assert_no_violations();
    assert_eq!(fake.defects(), Vec::<String>::new());
    assert_eq!(
        fake.count("POST /repos/{owner}/{repo}/issues/{issue_number}/comments"),
        1
    );
}

#[test]
fn a_comment_over_githubs_limit_is_refused() {
    let fake = fake_with_pull();
    let at_limit = "x".repeat(MAX_COMMENT_CHARS);
    let reply = call(
        &fake,
        "POST",
        "/repos/o/r/issues/1/comments",
        Some(json!({"body": at_limit})),
    );
    assert_eq!(reply.status, 201);
    fake.assert_no_violations();

    let over = "é".repeat(MAX_COMMENT_CHARS + 1);
    let reply = call(
        &fake,
        "POST",
        "/repos/o/r/issues/1/comments",
        Some(json!({"body": over})),
    );
    assert_eq!(reply.status, 422);
    assert!(reply.body.contains("Body is too long"), "{}", reply.body);
    assert_eq!(fake.comments("o/r", 1).len(), 1);
    let violations = fake.violations();
    assert_eq!(violations.len(), 1);
    assert!(
        violations[0].message.contains("65537 characters"),
        "{}",
        violations[0]
    );
}

#[test]
fn a_body_without_a_required_property_is_a_violation() {
    let fake = fake_with_pull();
    let reply = call(
        &fake,
        "POST",
        "/repos/o/r/issues/1/comments",
        Some(json!({"text": "plan"})),
    );
    assert_eq!(reply.status, 422);
    let violations = fake.take_violations();
    assert_eq!(violations.len(), 1);
    assert!(
        violations[0].message.contains("required property `body`"),
        "{}",
        violations[0]
    );

    let reply = call(
        &fake,
        "POST",
        "/repos/o/r/issues/1/comments",
        Some(json!({"body": 5})),
    );
    assert_eq!(reply.status, 422);
    assert!(
        fake.violations()[0]
            .message
            .contains("body.body should be of type string"),
        "{:?}",
        fake.violations()
    );
    assert!(fake.comments("o/r", 1).is_empty());
}

fn annotations(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"path": "live/dev/app/terragrunt.hcl", "start_line": i + 1, "end_line": i + 1, "annotation_level": "warning", "message": "drift"}))
        .collect()
}

#[test]
fn more_than_fifty_annotations_in_one_request_are_refused() {
    let fake = fake_with_pull();
    let create = |n: usize| {
        call(
            &fake,
            "POST",
            "/repos/o/r/check-runs",
            Some(json!({
                "name": "slipway/plan",
                "head_sha": SHA,
                "status": "in_progress",
                "output": {"title": "Plan", "summary": "2 units", "annotations": annotations(n)},
            })),
        )
    };
    assert_eq!(create(51).status, 422);
    let violations = fake.take_violations();
    assert_eq!(violations.len(), 1);
    assert!(
        violations[0]
            .message
            .contains("51 items, over the maximum of 50"),
        "{}",
        violations[0]
    );
    assert!(fake.check_runs("o/r", SHA).is_empty());

    let reply = create(50);
    assert_eq!(reply.status, 201, "{}", reply.body);
    let id = reply.json()["id"].as_u64().expect("an id");
    let reply = call(
        &fake,
        "PATCH",
        &format!("/repos/o/r/check-runs/{id}"),
        Some(json!({
            "conclusion": "success",
            "output": {"title": "Plan", "summary": "done", "annotations": annotations(50)},
        })),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["output"]["annotations_count"], 100);
    let run = fake
        .check_run("o/r", SHA, "slipway/plan")
        .expect("the check run");
    assert_eq!(run.annotations.len(), 100);
    assert_eq!(run.status, "completed");
    assert_eq!(run.conclusion.as_deref(), Some("success"));
    assert_eq!(run.summary.as_deref(), Some("done"));
    assert_eq!(run.updates.len(), 2);

    let listed = call(
        &fake,
        "GET",
        &format!("/repos/o/r/commits/{SHA}/check-runs?check_name=slipway%2Fplan"),
        None,
    );
    assert_eq!(listed.json()["total_count"], 1);
    assert_eq!(listed.json()["check_runs"][0]["conclusion"], "success");
    fake.assert_no_violations();
    assert_eq!(fake.defects(), Vec::<String>::new());
}

#[test]
fn injected_server_errors_fail_then_requests_succeed() {
    let fake = fake_with_pull();
    fake.fail_next(2, 502);
    let post = || {
        call(
            &fake,
            "POST",
            "/repos/o/r/issues/1/comments",
            Some(json!({"body": "plan"})),
        )
        .status
    };
    assert_eq!(post(), 502);
    assert_eq!(post(), 502);
    assert_eq!(post(), 201);
    assert_eq!(
        fake.comments("o/r", 1).len(),
        1,
        "failed requests change nothing"
    );

    fake.inject(Fault::status(503).matching("PATCH", "/repos/o/r/check-runs"));
    assert_eq!(
        post(),
        201,
        "a fault for other requests leaves this one alone"
    );
    fake.assert_no_violations();
}

#[test]
fn a_secondary_rate_limit_carries_retry_after() {
    let fake = fake_with_pull();
    fake.inject(Fault::secondary_rate_limit(Duration::from_secs(30)));
    let reply = call(
        &fake,
        "POST",
        "/repos/o/r/issues/1/comments",
        Some(json!({"body": "plan"})),
    );
    assert_eq!(reply.status, 403);
    assert_eq!(reply.header("retry-after"), Some("30"));
    assert!(reply.json()["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("You have exceeded a secondary rate limit")));
    assert!(fake.comments("o/r", 1).is_empty());

    fake.inject(Fault::primary_rate_limit(429, Duration::from_secs(60)));
    let reply = call(&fake, "GET", "/repos/o/r/pulls/1", None);
    assert_eq!(reply.status, 429);
    assert_eq!(reply.header("x-ratelimit-remaining"), Some("0"));
    let reset: u64 = reply
        .header("x-ratelimit-reset")
        .and_then(|r| r.parse().ok())
        .expect("a reset time");
    assert!(reset > std::time::UNIX_EPOCH.elapsed().expect("now").as_secs());

    let reply = call(&fake, "GET", "/repos/o/r/pulls/1", None);
    assert_eq!(reply.status, 200);
    assert_ne!(reply.header("x-ratelimit-remaining"), Some("0"));
}

#[test]
fn comments_are_listed_page_by_page_with_links() {
    let fake = fake_with_pull();
    for i in 0..5 {
        fake.add_comment("o/r", 1, "alice", &format!("comment {i}"));
    }
    let page = |n: usize| {
        call(
            &fake,
            "GET",
            &format!("/repos/o/r/issues/1/comments?per_page=2&page={n}"),
            None,
        )
    };
    let first = page(1);
    assert_eq!(first.json().as_array().map(Vec::len), Some(2));
    assert_eq!(first.json()[0]["body"], "comment 0");
    let link = first.header("link").expect("a Link header");
    assert!(link.contains("page=2>; rel=\"next\""), "{link}");
    assert!(link.contains("page=3>; rel=\"last\""), "{link}");
    let last = page(3);
    assert_eq!(last.json().as_array().map(Vec::len), Some(1));
    assert_eq!(last.json()[0]["body"], "comment 4");
    assert!(!last.header("link").unwrap_or("").contains("rel=\"next\""));
    fake.assert_no_violations();
    assert_eq!(fake.defects(), Vec::<String>::new());
}

#[test]
fn minimize_comment_over_graphql_hides_the_comment() {
    let fake = fake_with_pull();
    let id = fake.add_comment("o/r", 1, "slipway[bot]", "old plan");
    let node_id = fake.comment(id).expect("the comment").node_id;
    let reply = graphql(
        &fake,
        "mutation Hide($id: ID!) { minimizeComment(input: {subjectId: $id, classifier: OUTDATED}) { minimizedComment { isMinimized minimizedReason } } }",
        json!({"id": node_id}),
    );
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({"data": {"minimizeComment": {"minimizedComment": {"isMinimized": true, "minimizedReason": "outdated"}}}})
    );
    assert_eq!(
        fake.comment(id).and_then(|c| c.minimized).as_deref(),
        Some("OUTDATED")
    );
    fake.assert_no_violations();
}

#[test]
fn graphql_the_schema_does_not_have_is_a_violation() {
    let fake = fake_with_pull();
    let id = fake.add_comment("o/r", 1, "slipway[bot]", "old plan");
    let node_id = fake.comment(id).expect("the comment").node_id;
    let reply = graphql(
        &fake,
        "mutation($id: ID!) { hideComment(input: {subjectId: $id}) { clientMutationId } }",
        json!({"id": node_id}),
    );
    assert!(reply.json()["errors"].is_array());
    let violations = fake.take_violations();
    assert_eq!(violations.len(), 1);
    assert!(
        violations[0].message.contains("`hideComment`"),
        "{}",
        violations[0]
    );

    graphql(
        &fake,
        "mutation($id: ID!) { minimizeComment(input: {subjectId: $id}) { clientMutationId } }",
        json!({"id": node_id}),
    );
    let violations = fake.take_violations();
    assert!(
        violations.iter().any(|v| v.message.contains("classifier")),
        "{violations:?}"
    );

    graphql(
        &fake,
        "mutation($id: ID!) { minimizeComment(input: {subjectId: $id, classifier: STALE}) { minimizedComment { isHidden } } }",
        json!({"id": node_id}),
    );
    let violations = fake.take_violations();
    assert!(
        violations.iter().any(|v| v.message.contains("STALE")),
        "{violations:?}"
    );
    assert!(
        violations.iter().any(|v| v.message.contains("`isHidden`")),
        "{violations:?}"
    );
    assert_eq!(fake.comment(id).and_then(|c| c.minimized), None);
}

#[test]
fn tokens_are_required_and_the_app_flow_issues_them() {
    let fake = fake_with_pull();
    assert_eq!(
        send(&fake, "GET", "/repos/o/r/pulls/1", None, None).status,
        401
    );
    assert_eq!(
        send(
            &fake,
            "GET",
            "/repos/o/r/pulls/1",
            Some("token wrong"),
            None
        )
        .status,
        401
    );

    let jwt = "Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOjF9.c2lnbmF0dXJl";
    assert_eq!(
        send(
            &fake,
            "GET",
            "/repos/o/r/installation",
            Some(&format!("Bearer {TOKEN}")),
            None
        )
        .status,
        401
    );
    let installation = send(&fake, "GET", "/repos/o/r/installation", Some(jwt), None);
    assert_eq!(installation.status, 200, "{}", installation.body);
    let id = installation.json()["id"]
        .as_u64()
        .expect("an installation id");
    assert_eq!(Some(id), fake.installation_id("o"));
    let issued = send(
        &fake,
        "POST",
        &format!("/app/installations/{id}/access_tokens"),
        Some(jwt),
        None,
    );
    assert_eq!(issued.status, 201, "{}", issued.body);
    let token = issued.json()["token"]
        .as_str()
        .expect("a token")
        .to_string();
    assert!(issued.json()["expires_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    assert_eq!(fake.tokens_issued(), 1);

    let auth = format!("token {token}");
    assert_eq!(
        send(&fake, "GET", "/repos/o/r/pulls/1", Some(&auth), None).status,
        200
    );
    let refused = send(&fake, "GET", "/user", Some(&auth), None);
    assert_eq!(refused.status, 403, "an installation is no user");
    let me = call(&fake, "GET", "/user", None);
    assert_eq!(me.json()["login"], "slipway[bot]");
    fake.expire_installation_tokens();
    assert_eq!(
        send(&fake, "GET", "/repos/o/r/pulls/1", Some(&auth), None).status,
        401
    );
    fake.assert_no_violations();
    assert_eq!(fake.defects(), Vec::<String>::new());
}

#[test]
fn every_answer_matches_githubs_description() {
    let fake = fake_with_pull();
    fake.add_review("o/r", 1, "bob", "APPROVED", SHA);
    fake.set_permission("o/r", "bob", "maintain");
    fake.add_team_member("o", "platform", "bob", "member");
    let id = fake.add_comment("o/r", 1, "bob", "/plan");
    call(
        &fake,
        "POST",
        &format!("/repos/o/r/issues/comments/{id}/reactions"),
        Some(json!({"content": "eyes"})),
    );
    call(
        &fake,
        "POST",
        "/repos/o/r/check-runs",
        Some(json!({"name": "slipway/plan", "head_sha": SHA})),
    );

    let pull = call(&fake, "GET", "/repos/o/r/pulls/1", None);
    assert_eq!(pull.json()["head"]["sha"], SHA);
    assert_eq!(pull.json()["base"]["ref"], "main");
    let reviews = call(&fake, "GET", "/repos/o/r/pulls/1/reviews", None);
    assert_eq!(reviews.json()[0]["state"], "APPROVED");
    let permission = call(
        &fake,
        "GET",
        "/repos/o/r/collaborators/bob/permission",
        None,
    );
    assert_eq!(permission.json()["permission"], "write");
    assert_eq!(permission.json()["role_name"], "maintain");
    let stranger = call(
        &fake,
        "GET",
        "/repos/o/r/collaborators/mallory/permission",
        None,
    );
    assert_eq!(stranger.json()["permission"], "none");
    assert_eq!(
        call(&fake, "GET", "/orgs/o/teams/platform/memberships/bob", None).status,
        200
    );
    assert_eq!(
        call(
            &fake,
            "GET",
            "/orgs/o/teams/platform/memberships/mallory",
            None
        )
        .status,
        404
    );
    assert_eq!(
        call(
            &fake,
            "GET",
            &format!("/repos/o/r/commits/{SHA}/check-runs"),
            None
        )
        .status,
        200
    );
    assert_eq!(
        call(
            &fake,
            "GET",
            &format!("/repos/o/r/issues/comments/{id}/reactions"),
            None
        )
        .status,
        200
    );
    assert_eq!(call(&fake, "GET", "/rate_limit", None).status, 200);
    let jwt = "Bearer a.b.c";
    assert_eq!(send(&fake, "GET", "/app", Some(jwt), None).status, 200);

    fake.assert_no_violations();
    assert_eq!(fake.defects(), Vec::<String>::new());
    assert!(fake.requests_per_route()["GET /repos/{owner}/{repo}/pulls/{pull_number}"] == 1);
}

#[test]
fn waiting_wakes_when_the_service_acts_and_delays_slow_answers() {
    let fake = fake_with_pull();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(50));
            call(
                &fake,
                "POST",
                "/repos/o/r/issues/1/comments",
                Some(json!({"body": "plan"})),
            );
        });
        let found = fake.wait_until(Duration::from_secs(10), |s| {
            !s.comments_on("o/r", 1).is_empty()
        });
        assert!(found);
    });
    assert!(
        !fake.wait_until(Duration::from_millis(20), |s| s.comments_on("o/r", 1).len()
            > 1)
    );

    fake.set_delay(Duration::from_millis(200));
    let started = Instant::now();
    assert_eq!(call(&fake, "GET", "/repos/o/r/pulls/1", None).status, 200);
    assert!(started.elapsed() >= Duration::from_millis(200));
}
