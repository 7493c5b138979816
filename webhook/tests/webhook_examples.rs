//! Every example payload GitHub publishes (`@octokit/webhooks-examples`, installed by
//! `scripts/tools.sh`) for the events Slipway handles converts into Slipway's event type, and
//! the actions Slipway acts on become the event they stand for.

use std::path::Path;

use webhook::github::events::{self, Event, PrAction};

fn examples() -> Vec<(String, serde_json::Value)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../.tools/node_modules/@octokit/webhooks-examples/api.github.com/index.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run scripts/tools.sh github (make test does)",
            path.display()
        )
    });
    let index: Vec<serde_json::Value> = serde_json::from_str(&text).expect("index.json parses");
    let mut out = Vec::new();
    for event in index {
        let name = event["name"].as_str().expect("event name").to_string();
        for example in event["examples"].as_array().expect("examples") {
            out.push((name.clone(), example.clone()));
        }
    }
    out
}

#[test]
fn every_example_of_a_handled_event_converts() {
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for (name, example) in examples() {
        if !["pull_request", "issue_comment", "check_run", "push", "ping"].contains(&name.as_str())
        {
            continue;
        }
        let body = serde_json::to_vec(&example).expect("serialize");
        let action = example["action"].as_str().unwrap_or("").to_string();
        let event = events::parse(&name, &body)
            .unwrap_or_else(|e| panic!("{name}.{action} does not convert: {e}"));
        let expected = match (name.as_str(), action.as_str()) {
            (
                "pull_request",
                "opened" | "synchronize" | "reopened" | "ready_for_review" | "closed"
                | "converted_to_draft",
            ) => {
                matches!(&event, Event::PullRequest(e) if e.repo.name.as_str() == example["repository"]["full_name"])
            }
            ("issue_comment", "created" | "edited") => {
                let on_pr = !example["issue"]["pull_request"].is_null();
                matches!(&event, Event::Comment(_)) == on_pr
                    && (on_pr || matches!(event, Event::Ignored { .. }))
            }
            ("check_run", "rerequested") => matches!(event, Event::CheckRerun(_)),
            ("push", _) => matches!(event, Event::Push(_)),
            ("ping", _) => event == Event::Ping,
            _ => matches!(event, Event::Ignored { .. }),
        };
        assert!(expected, "{name}.{action} became {event:?}");
        *seen.entry(format!("{name}.{action}")).or_default() += 1;
    }
    for must in [
        "pull_request.opened",
        "pull_request.synchronize",
        "pull_request.closed",
        "issue_comment.created",
        "check_run.rerequested",
        "push.",
    ] {
        assert!(
            seen.contains_key(must),
            "no example of {must} was checked: {seen:?}"
        );
    }
}

#[test]
fn a_closed_pull_request_says_whether_it_merged_and_carries_its_merge_commit() {
    let merged = examples()
        .into_iter()
        .find(|(n, e)| n == "pull_request" && e["action"] == "closed")
        .expect("an example of a closed pull request");
    let body = serde_json::to_vec(&merged.1).expect("serialize");
    let Ok(Event::PullRequest(e)) = events::parse("pull_request", &body) else {
        panic!("the merged pull request does not convert");
    };
    assert_eq!(e.action, PrAction::Closed);
    assert_eq!(Some(e.merged), merged.1["pull_request"]["merged"].as_bool());
    assert_eq!(
        e.merge_commit.map(|c| c.to_string()),
        merged.1["pull_request"]["merge_commit_sha"]
            .as_str()
            .map(str::to_string)
    );
}
