//! Live output: every line of a run reaches the event channel as it happens, and a sensitive
//! variable's value never does, even when the module prints it (real terraform, a local-exec
//! provisioner echoing the value).

mod engine_support;

use agent::engine::RunEvent;
use engine_support::*;
use slipway_tests::TempRepo;

const SECRET: &str = "hunter2-correct-horse";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sensitive_variable_printed_by_the_module_is_masked_in_every_line() {
    let repo = TempRepo::new();
    repo.write("slipway.toml", "live_dir = \"live\"\n");
    repo.write(
        "live/app/terragrunt.hcl",
        &format!("inputs = {{\n  db_password = \"{SECRET}\"\n  name = \"app\"\n}}\n"),
    );
    repo.write(
        "live/app/main.tf",
        &[
            slipway_tests::NULL_PROVIDER_TF,
            r#"
variable "name" {
  type = string
}

variable "db_password" {
  type      = string
  sensitive = true
}

resource "null_resource" "migrate" {
  triggers = {
    name = var.name
  }

  provisioner "local-exec" {
    command = "echo connecting with ${nonsensitive(var.db_password)}"
  }
}
"#,
        ]
        .concat(),
    );
    repo.commit("app with a password");
    let work = tempfile::tempdir().unwrap();
    let (runner, _store, mut events) = runner(settings(work.path())).await;
    let ws = workspace(&repo);
    runner.plan(ws.clone(), "live/app").await.unwrap();
    let applied = runner.apply(ws, "live/app", None).await.unwrap();

    let lines: Vec<(String, String)> = drain(&mut events)
        .into_iter()
        .filter_map(|e| match e {
            RunEvent::Line { step, line, .. } => Some((step, line)),
            _ => None,
        })
        .collect();
    // The provisioner's output came through, streamed under the apply step, masked.
    assert!(
        lines
            .iter()
            .any(|(step, l)| step == "apply" && l.contains("(local-exec): connecting with ***")),
        "{lines:#?}"
    );
    assert!(lines.iter().all(|(_, l)| !l.contains(SECRET)));
    assert!(applied.log.contains("connecting with ***"));
    assert!(!applied.log.contains(SECRET));
}
