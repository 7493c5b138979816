//! The service's GitHub client library reads every answer of the fake GitHub, and what it sends
//! is what GitHub's description allows.

use octocrab::models::reactions::ReactionContent;
use octocrab::params::checks::{CheckRunConclusion, CheckRunOutput, CheckRunStatus};
use octocrab::params::repos::Commitish;
use octocrab::Octocrab;
use serde_json::{json, Value};
use slipway_tests::github::{FakeGithub, PullSpec, TOKEN};

const SHA: &str = "2222222222222222222222222222222222222222";

#[tokio::test]
async fn the_client_library_reads_every_answer() {
    let fake = FakeGithub::start();
    fake.add_pull("o/r", PullSpec::new(7, SHA));
    fake.add_review("o/r", 7, "bob", "APPROVED", SHA);
    fake.set_permission("o/r", "bob", "write");
    let gh = Octocrab::builder()
        .base_uri(fake.url())
        .expect("the fake's URL")
        .personal_token(TOKEN.to_string())
        .build()
        .expect("a client");

    let issues = gh.issues("o", "r");
    let comment = issues
        .create_comment(7, "plan")
        .await
        .expect("create a comment");
    issues
        .update_comment(comment.id, "plan v2")
        .await
        .expect("edit the comment");
    issues
        .create_comment_reaction(comment.id, ReactionContent::Eyes)
        .await
        .expect("react");
    for i in 0..3 {
        fake.add_comment("o/r", 7, "alice", &format!("/plan {i}"));
    }
    let first = issues
        .list_comments(7)
        .per_page(2)
        .send()
        .await
        .expect("the first page");
    let all = gh.all_pages(first).await.expect("every page");
    assert_eq!(all.len(), 4);
    assert_eq!(all[0].body.as_deref(), Some("plan v2"));

    let checks = gh.checks("o", "r");
    let run = checks
        .create_check_run("slipway/plan", SHA)
        .status(CheckRunStatus::InProgress)
        .send()
        .await
        .expect("create a check run");
    checks
        .update_check_run(run.id)
        .conclusion(CheckRunConclusion::Success)
        .output(CheckRunOutput {
            title: "Plan".to_string(),
            summary: "1 unit".to_string(),
            text: None,
            annotations: Vec::new(),
            images: Vec::new(),
        })
        .send()
        .await
        .expect("complete the check run");
    let listed = checks
        .list_check_runs_for_git_ref(Commitish(SHA.to_string()))
        .send()
        .await
        .expect("list check runs");
    assert_eq!(listed.check_runs[0].conclusion.as_deref(), Some("success"));

    let pull = gh.pulls("o", "r").get(7).await.expect("the pull request");
    assert_eq!(pull.head.sha, SHA);
    let reviews = gh
        .pulls("o", "r")
        .list_reviews(7)
        .send()
        .await
        .expect("reviews");
    assert_eq!(reviews.items.len(), 1);
    // GitHub answers `permission` with admin, write, read or none; the client library's typed
    // model of this answer knows other words, so the service reads it as JSON.
    let permission: Value = gh
        .get("/repos/o/r/collaborators/bob/permission", None::<&()>)
        .await
        .expect("bob's permission");
    assert_eq!(permission["permission"], "write");
    gh.ratelimit().get().await.expect("the rate limit");

    let node_id = comment.node_id.clone();
    let hidden: Value = gh
        .graphql(&json!({
            "query": "mutation($id: ID!) { minimizeComment(input: {subjectId: $id, classifier: OUTDATED}) { clientMutationId } }",
            "variables": {"id": node_id},
        }))
        .await
        .expect("minimize the comment");
    assert!(hidden.get("errors").is_none(), "{hidden}");
    issues
        .delete_comment(comment.id)
        .await
        .expect("delete the comment");

    let bot = fake.comment(comment.id.0).expect("the comment");
    assert!(bot.deleted && bot.minimized.is_some() && bot.edits() == 1);
    assert_eq!(
        fake.count("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}"),
        1,
        "the library edits with a POST, which GitHub takes as the PATCH"
    );
    fake.assert_no_violations();
    assert_eq!(fake.defects(), Vec::<String>::new());
}
