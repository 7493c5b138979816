//! Shared harness for Slipway's end-to-end tests: temporary git repositories with real commits,
//! and the offline toolchain (terraform 1.0.3, the null provider) that `scripts/tools.sh`
//! installs into `.tools/`.

use std::path::{Path, PathBuf};

use git2::{IndexAddOption, Repository, Signature};

/// The Slipway repository's root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The `terraform` block that pins the null provider `scripts/tools.sh` mirrors.
pub const NULL_PROVIDER_TF: &str = r#"terraform {
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "2.1.2"
    }
  }
}
"#;

/// The terraform binary installed by `scripts/tools.sh`.
pub fn terraform() -> PathBuf {
    let tf = workspace_root().join(".tools/bin/terraform");
    assert!(
        tf.is_file(),
        "{} is missing: run `scripts/tools.sh terraform` (make test does)",
        tf.display()
    );
    tf
}

/// Environment for terraform: the CLI config pointing at the offline provider mirror.
pub fn terraform_env() -> Vec<(String, String)> {
    let rc = workspace_root().join(".tools/terraformrc");
    assert!(
        rc.is_file(),
        "{} is missing: run `scripts/tools.sh terraform`",
        rc.display()
    );
    vec![("TF_CLI_CONFIG_FILE".to_string(), rc.display().to_string())]
}

/// A git repository in a temporary directory, committed to like a person would.
pub struct TempRepo {
    pub dir: tempfile::TempDir,
    pub repo: Repository,
}

impl TempRepo {
    pub fn new() -> TempRepo {
        let dir = tempfile::Builder::new()
            .prefix("slipway-test-")
            .tempdir()
            .expect("temporary directory");
        let mut opts = git2::RepositoryInitOptions::new();
        opts.initial_head("main");
        let repo = Repository::init_opts(dir.path(), &opts).expect("git init");
        TempRepo { dir, repo }
    }

    /// A repository holding `files`, committed.
    pub fn with_files(files: &[(&str, &str)]) -> TempRepo {
        let r = TempRepo::new();
        r.write_all(files);
        r.commit("infrastructure");
        r
    }

    /// The evaluated inputs of the unit in `dir` at HEAD, as JSON.
    pub fn inputs_at_head(&self, dir: &str) -> serde_json::Value {
        let view = self.graph_at_head();
        config_json(unit(&view, dir))["inputs"].clone()
    }

    /// A repository holding a copy of `examples/infra-repo`, committed.
    pub fn example() -> TempRepo {
        let r = TempRepo::new();
        copy_dir(&workspace_root().join("examples/infra-repo"), r.path());
        r.commit("example infrastructure");
        r
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (creating directories).
    pub fn write(&self, rel: &str, content: &str) -> &Self {
        let p = self.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, content).expect("write");
        self
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).expect("read")
    }

    /// Replaces text in a file; panics when `from` is not there, so a test cannot silently
    /// change nothing.
    pub fn edit(&self, rel: &str, from: &str, to: &str) -> &Self {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} does not contain {from:?}");
        self.write(rel, &text.replacen(from, to, 1))
    }

    pub fn remove(&self, rel: &str) -> &Self {
        let p = self.path().join(rel);
        if p.is_dir() {
            std::fs::remove_dir_all(p).expect("rm -r");
        } else {
            std::fs::remove_file(p).expect("rm");
        }
        self
    }

    /// Commits everything in the work tree; returns the commit id.
    pub fn commit(&self, message: &str) -> String {
        let mut index = self.repo.index().expect("index");
        index
            .add_all(["*"], IndexAddOption::DEFAULT, None)
            .expect("git add");
        index.update_all(["*"], None).expect("git add -u");
        index.write().expect("index write");
        let tree_id = index.write_tree().expect("write tree");
        let tree = self.repo.find_tree(tree_id).expect("tree");
        let sig = Signature::now("Slipway Test", "test@example.com").expect("signature");
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .expect("commit")
            .to_string()
    }
}

impl Default for TempRepo {
    fn default() -> Self {
        Self::new()
    }
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

impl TempRepo {
    /// Makes `rel` a symbolic link to `target` (taken literally, as `ln -s target rel` would).
    pub fn symlink(&self, rel: &str, target: &str) -> &Self {
        let p = self.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::os::unix::fs::symlink(target, p).expect("symlink");
        self
    }

    /// Writes several files at once.
    pub fn write_all(&self, files: &[(&str, &str)]) -> &Self {
        for (rel, content) in files {
            self.write(rel, content);
        }
        self
    }

    /// The repository's work tree as git reports it, without the trailing `/`: what
    /// `get_repo_root()` returns.
    pub fn root(&self) -> String {
        let wd = self.repo.workdir().unwrap_or_else(|| self.path());
        wd.to_string_lossy().trim_end_matches('/').to_string()
    }

    /// Every unit of the committed HEAD, evaluated, through [`agent::repo::Repo`].
    pub fn graph_at_head(&self) -> std::sync::Arc<agent::repo::GraphView> {
        let repo = agent::repo::Repo::open(self.path()).expect("open repo");
        repo.graph(Some("HEAD")).expect("graph of HEAD")
    }

    /// The units affected between `base` and HEAD.
    pub fn affected_since(&self, base: &str, include_dependents: bool) -> agent::repo::ChangeSet {
        let repo = agent::repo::Repo::open(self.path()).expect("open repo");
        repo.affected(base, "HEAD", include_dependents)
            .expect("affected units")
    }
}

/// A unit of a graph view; panics with the units and errors there are when it is missing.
pub fn unit<'a>(view: &'a agent::repo::GraphView, path: &str) -> &'a agent::units::Unit {
    match view.inventory.units.get(path) {
        Some(u) => u,
        None => panic!(
            "no unit {path}; units: {:?}; errors: {}",
            view.inventory.units.keys().collect::<Vec<_>>(),
            view.inventory
                .errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

/// A unit's evaluated configuration (includes merged) as JSON, for assertions.
pub fn config_json(unit: &agent::units::Unit) -> serde_json::Value {
    let eval = unit.eval.as_ref().expect("the unit was evaluated");
    serde_json::to_value(&eval.config).expect("configuration as JSON")
}

/// The evaluation error reported for the file `file`; panics listing every error otherwise.
pub fn error_for<'a>(
    view: &'a agent::repo::GraphView,
    file: &str,
) -> &'a agent::terragrunt::EvalError {
    match view.inventory.errors.iter().find(|e| e.file == file) {
        Some(e) => e,
        None => panic!(
            "no error reported for {file}; errors: {:?}; units: {:?}",
            view.inventory.errors,
            view.inventory.units.keys().collect::<Vec<_>>()
        ),
    }
}
pub mod github;
pub mod guard;
pub mod moto;
pub mod remote;
pub mod service;

impl TempRepo {
    /// Creates branch `name` at `at` (a commit id) and checks it out, work tree included, so
    /// that the next [`TempRepo::commit`] lands on it.
    pub fn branch(&self, name: &str, at: &str) -> &Self {
        let oid = git2::Oid::from_str(at).expect("commit id");
        let commit = self.repo.find_commit(oid).expect("commit");
        self.repo.branch(name, &commit, true).expect("branch");
        self.repo
            .set_head(&format!("refs/heads/{name}"))
            .expect("set HEAD");
        self.repo
            .checkout_head(Some(
                git2::build::CheckoutBuilder::new()
                    .force()
                    .remove_untracked(true),
            ))
            .expect("checkout");
        self
    }
}
