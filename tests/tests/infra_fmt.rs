//! The SARC-NG modules and live tree are in canonical `terraform fmt` style.
//!
//! Users copy `modules/` and `live/` as the reference layout, and Slipway's own tests read them,
//! so formatting drift is caught here rather than in review. `terraform fmt` only visits `.tf` and
//! `.tfvars` files, so Terragrunt's `.hcl` files are fed to `terraform fmt -` one by one: they are
//! the same HCL syntax.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository root: the parent of this crate's directory.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives one directory below the repository root")
        .to_path_buf()
}

/// The terraform binary installed by `scripts/tools.sh terraform`.
fn terraform(root: &Path) -> PathBuf {
    let bin = root.join(".tools/bin/terraform");
    assert!(
        bin.is_file(),
        "{} is missing: run `scripts/tools.sh terraform` to install terraform 1.0.3 offline",
        bin.display()
    );
    bin
}

/// Runs `terraform fmt -check -recursive -diff` on `dir` and fails with terraform's diff.
fn assert_fmt_clean(dir: &str) {
    let root = repo_root();
    let terraform = terraform(&root);
    let target = root.join(dir);
    assert!(target.is_dir(), "{} does not exist", target.display());

    let output = Command::new(&terraform)
        .args(["fmt", "-check", "-recursive", "-diff", "-no-color"])
        .arg(&target)
        .current_dir(&root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", terraform.display()));

    assert!(
        output.status.success(),
        "`terraform fmt -check -recursive {dir}` found unformatted files; run \
         `.tools/bin/terraform fmt -recursive {dir}` to fix them.\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}

/// Every `.hcl` file below `dir`, sorted.
fn hcl_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "hcl") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Formats `text` with `terraform fmt -` and returns the canonical text.
fn canonical_hcl(terraform: &Path, file: &Path, text: &str) -> String {
    let mut child = Command::new(terraform)
        .args(["fmt", "-no-color", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", terraform.display()));
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(text.as_bytes())
        .unwrap_or_else(|e| panic!("cannot feed {} to terraform fmt: {e}", file.display()));
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("terraform fmt on {} did not finish: {e}", file.display()));
    assert!(
        output.status.success(),
        "{} is not valid HCL:\n{}",
        file.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn modules_are_terraform_fmt_clean() {
    assert_fmt_clean("modules");
}

#[test]
fn live_tree_is_terraform_fmt_clean() {
    assert_fmt_clean("live");
}

#[test]
fn terragrunt_hcl_files_are_in_canonical_style() {
    let root = repo_root();
    let terraform = terraform(&root);
    let files = hcl_files(&root.join("live"));
    assert!(!files.is_empty(), "no .hcl files found below live/");

    let unformatted: Vec<String> = files
        .iter()
        .filter(|file| {
            let text = std::fs::read_to_string(file)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
            canonical_hcl(&terraform, file, &text) != text
        })
        .map(|file| {
            file.strip_prefix(&root)
                .unwrap_or(file)
                .display()
                .to_string()
        })
        .collect();

    assert!(
        unformatted.is_empty(),
        "these Terragrunt files are not in canonical HCL style; rewrite each with \
         `.tools/bin/terraform fmt - < FILE`:\n{}",
        unformatted.join("\n")
    );
}
