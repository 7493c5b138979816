//! The SARC-NG modules and live tree are in canonical `terraform fmt` style.
//!
//! Users copy `modules/` and `live/` as the reference layout, and Slipway's own tests read them,
//! so formatting drift is caught here rather than in review.

use std::path::{Path, PathBuf};
use std::process::Command;

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

#[test]
fn modules_are_terraform_fmt_clean() {
    assert_fmt_clean("modules");
}

#[test]
fn live_tree_is_terraform_fmt_clean() {
    assert_fmt_clean("live");
}
