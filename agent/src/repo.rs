//! The infrastructure repository as Slipway sees it: configuration, units, graph and changes,
//! at any revision.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use git2::{Oid, Repository};

use crate::affected::{self, Affected};
use crate::config::{self, RepoConfig};
use crate::git;
use crate::graph::Graph;
use crate::snapshot::{parent, Snapshot};
use crate::terragrunt::{EvalCache, EvalError};
use crate::units::{self, Inventory};

/// An opened infrastructure repository, with the evaluation cache that later calls reuse.
pub struct Repo {
    dir: PathBuf,
    git: Option<Repository>,
    cache: Arc<EvalCache>,
    /// Views of recent commits, most recent first: a new commit's view is derived from one of
    /// them by re-evaluating only what its changes touch.
    views: Mutex<Vec<Arc<GraphView>>>,
    /// What the service fixes and allows in every repository's `slipway.toml`.
    overrides: config::Overrides,
}

/// How many commit views a `Repo` keeps.
const KEPT_VIEWS: usize = 4;

/// Every unit of one revision, in dependency order.
pub struct GraphView {
    pub config: RepoConfig,
    pub snapshot: Arc<Snapshot>,
    pub inventory: Inventory,
    /// Shared with derived views when a change leaves the dependency structure alone.
    pub graph: Arc<Graph>,
}

/// The units a change affects.
pub struct ChangeSet {
    pub base: Oid,
    pub head: Oid,
    /// Where the change starts: the merge base of base and head.
    pub merge_base: Oid,
    pub changed_files: Vec<git::FileChange>,
    pub units: Vec<Affected>,
    /// Units touched by the change that could not be evaluated.
    pub errors: Vec<EvalError>,
    pub head_view: Arc<GraphView>,
    /// Which `slipway.toml` the review runs under, and what the change does to it.
    pub settings: Settings,
}

/// The settings a change is reviewed under: the base's `slipway.toml` (so that a pull request
/// cannot change its own gate), with the head's [`config::HEAD_SETTINGS`].
#[derive(Debug, Clone)]
pub struct Settings {
    /// The commit whose `slipway.toml` grants and gates: the base, as of the review.
    pub commit: Oid,
    /// Whether that commit has a `slipway.toml` (defaults otherwise).
    pub present: bool,
    /// Repository settings outside the service's `allowed_overrides`, ignored (dotted keys).
    pub ignored: Vec<String>,
    /// What the change does to `slipway.toml`, when it edits it.
    pub head: Option<HeadSettings>,
}

/// A change's own `slipway.toml`, when the change edits it.
#[derive(Debug, Clone)]
pub enum HeadSettings {
    /// It cannot be used: the error names the key and line. Merged, it would stop reviews.
    Invalid(String),
    /// Valid: what it would change once merged (empty when nothing that matters changes).
    Changes(Vec<config::SettingChange>),
    /// The change removes the file: every setting would fall back to its default.
    Removed(Vec<config::SettingChange>),
}

impl Repo {
    pub fn open(dir: &Path) -> anyhow::Result<Repo> {
        if !dir.is_dir() {
            anyhow::bail!("{} is not a directory", dir.display());
        }
        // Terragrunt's path functions return absolute paths: the root must be absolute.
        let dir = std::fs::canonicalize(dir)
            .with_context(|| format!("cannot resolve {}", dir.display()))?;
        // The repository must be rooted at `dir`: unit paths are relative to it.
        let git = Repository::open(&dir).ok();
        Ok(Repo {
            dir,
            git,
            cache: Arc::new(EvalCache::default()),
            views: Mutex::new(Vec::new()),
            overrides: config::Overrides::default(),
        })
    }

    /// The service's fixed and allowed settings, applied to every `slipway.toml` read.
    pub fn with_overrides(mut self, overrides: config::Overrides) -> Repo {
        self.overrides = overrides;
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn git(&self) -> anyhow::Result<&Repository> {
        self.git
            .as_ref()
            .with_context(|| format!("{} is not a git repository", self.dir.display()))
    }

    /// Resolves a revision to a commit.
    pub fn resolve(&self, rev: &str) -> anyhow::Result<Oid> {
        git::resolve(self.git()?, rev)
    }

    /// The files of a revision, or of the directory on disk when `rev` is `None`.
    pub fn snapshot(&self, rev: Option<&str>) -> anyhow::Result<Arc<Snapshot>> {
        Ok(Arc::new(match rev {
            Some(rev) => {
                let oid = self.resolve(rev)?;
                Snapshot::from_commit(self.git()?, oid)?
            }
            None => Snapshot::from_dir(&self.dir)
                .with_context(|| format!("cannot read {}", self.dir.display()))?,
        }))
    }

    /// `slipway.toml` of a snapshot (defaults when the file is absent), with the service's
    /// overrides.
    pub fn config(&self, snap: &Snapshot) -> anyhow::Result<RepoConfig> {
        Ok(self.applied(snap)?.config)
    }

    fn applied(&self, snap: &Snapshot) -> anyhow::Result<config::Applied> {
        if snap.is_link(config::FILE_NAME) {
            anyhow::bail!(
                "{}: is a symlink; Slipway reads its settings only from a regular file at the repository's root",
                config::FILE_NAME
            );
        }
        let text = if snap.is_file(config::FILE_NAME) {
            snap.read_text(config::FILE_NAME)?
        } else {
            String::new()
        };
        Ok(self.overrides.apply(&text, config::FILE_NAME)?)
    }

    /// `slipway.toml` of a commit, with the service's overrides; `None` when it has none.
    pub fn settings_at(&self, commit: Oid) -> anyhow::Result<Option<config::Applied>> {
        let repo = self.git()?;
        let tree = repo.find_commit(commit)?.tree()?;
        let Some(entry) = tree.get_name(config::FILE_NAME) else {
            return Ok(None);
        };
        if entry.filemode() == i32::from(git2::FileMode::Link) {
            anyhow::bail!(
                "{}: is a symlink; Slipway reads its settings only from a regular file at the repository's root",
                config::FILE_NAME
            );
        }
        let blob = entry
            .to_object(repo)?
            .into_blob()
            .map_err(|_| anyhow::anyhow!("{}: is not a file", config::FILE_NAME))?;
        let text = std::str::from_utf8(blob.content())
            .map_err(|_| anyhow::anyhow!("{}: is not UTF-8 text", config::FILE_NAME))?;
        Ok(Some(self.overrides.apply(text, config::FILE_NAME)?))
    }

    fn defaults(&self) -> anyhow::Result<config::Applied> {
        Ok(self.overrides.apply("", config::FILE_NAME)?)
    }

    /// All units of a snapshot, evaluated, and their graph.
    pub fn view(&self, snap: Arc<Snapshot>) -> anyhow::Result<GraphView> {
        let config = self.config(&snap)?;
        Ok(self.view_with(snap, config))
    }

    /// All units of a snapshot under the given settings.
    fn view_with(&self, snap: Arc<Snapshot>, config: RepoConfig) -> GraphView {
        let inventory = units::discover(snap.clone(), &config, self.cache.clone());
        let graph = Arc::new(Graph::build(&inventory));
        GraphView {
            config,
            // With the files stacks generate, where there are stacks.
            snapshot: inventory.expanded_snapshot().unwrap_or(snap),
            inventory,
            graph,
        }
    }

    /// `slipway graph`: all units of a revision (or of the files on disk).
    pub fn graph(&self, rev: Option<&str>) -> anyhow::Result<Arc<GraphView>> {
        match rev {
            Some(rev) => self.view_at(self.resolve(rev)?),
            None => Ok(Arc::new(self.view(self.snapshot(None)?)?)),
        }
    }

    /// The view of a commit under its own `slipway.toml`.
    pub fn view_at(&self, commit: Oid) -> anyhow::Result<Arc<GraphView>> {
        let config = match self.settings_at(commit)? {
            Some(applied) => applied.config,
            None => self.defaults()?.config,
        };
        self.view_at_with(commit, config)
    }

    /// The view of a commit under the given settings: kept, derived from a kept view of
    /// another commit, or built.
    pub fn view_at_with(&self, commit: Oid, config: RepoConfig) -> anyhow::Result<Arc<GraphView>> {
        let repo = self.git()?;
        let kept: Vec<Arc<GraphView>> = self.lock_views().clone();
        if let Some(v) = kept
            .iter()
            .find(|v| v.snapshot.commit() == Some(commit) && v.config == config)
        {
            return Ok(v.clone());
        }
        let derived = match kept.iter().find(|v| v.config == config) {
            Some(prev) => self.derive(repo, prev, commit)?,
            None => None,
        };
        let view = Arc::new(match derived {
            Some(v) => v,
            None => self.view_with(Arc::new(Snapshot::from_commit(repo, commit)?), config),
        });
        let mut views = self.lock_views();
        views.insert(0, view.clone());
        views.truncate(KEPT_VIEWS);
        Ok(view)
    }

    fn lock_views(&self) -> std::sync::MutexGuard<'_, Vec<Arc<GraphView>>> {
        self.views.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `commit`'s view from `prev`'s, when the change between them allows it.
    fn derive(
        &self,
        repo: &Repository,
        prev: &GraphView,
        commit: Oid,
    ) -> anyhow::Result<Option<GraphView>> {
        let Some(from) = prev.snapshot.commit() else {
            return Ok(None);
        };
        let mut changes = git::changed_files(repo, from, commit)?;
        if changes
            .iter()
            .any(|c| c.link || c.path == config::FILE_NAME)
        {
            return Ok(None);
        }
        changes.extend(prev.snapshot.link_changes(&changes));
        let snap = Arc::new(prev.snapshot.with_changes(commit, &changes));
        let Some(update) = units::update(
            &prev.inventory,
            snap.clone(),
            &prev.config,
            self.cache.clone(),
            &changes,
        ) else {
            return Ok(None);
        };
        let inventory = update.inventory;
        let graph = if update.structure_changed {
            Arc::new(Graph::build(&inventory))
        } else {
            prev.graph.clone()
        };
        Ok(Some(GraphView {
            config: prev.config.clone(),
            snapshot: inventory.expanded_snapshot().unwrap_or(snap),
            inventory,
            graph,
        }))
    }

    /// The view of `commit` under the settings of `settings_commit`'s `slipway.toml` (with
    /// `commit`'s own [`config::HEAD_SETTINGS`]): what a merged change is applied under.
    pub fn view_under(&self, commit: Oid, settings_commit: Oid) -> anyhow::Result<Arc<GraphView>> {
        let gate = match self.settings_at(settings_commit)? {
            Some(a) => a.config,
            None => self.defaults()?.config,
        };
        let own = self.settings_at(commit).ok().flatten().map(|a| a.config);
        self.view_at_with(commit, gate.for_head(own.as_ref()))
    }

    /// The units affected between `base` and `head`, from their merge base.
    pub fn affected(
        &self,
        base: &str,
        head: &str,
        include_dependents: bool,
    ) -> anyhow::Result<ChangeSet> {
        let repo = self.git()?;
        let base_oid = git::resolve(repo, base)?;
        let head_oid = git::resolve(repo, head)?;
        let start = git::merge_base(repo, base_oid, head_oid);
        let mut changed_files = git::changed_files(repo, start, head_oid)?;
        // What grants and gates comes from the base; the head says only where to look.
        let (gate, present) = match self
            .settings_at(base_oid)
            .with_context(|| format!("the base's settings (commit {base_oid})"))?
        {
            Some(applied) => (applied, true),
            None => (self.defaults()?, false),
        };
        let head_own = self.settings_at(head_oid);
        let own_config = |r: &anyhow::Result<Option<config::Applied>>| match r {
            Ok(Some(a)) => Some(a.config.clone()),
            _ => None,
        };
        let head_view = self.view_at_with(
            head_oid,
            gate.config.for_head(own_config(&head_own).as_ref()),
        )?;
        let start_config = gate
            .config
            .for_head(own_config(&self.settings_at(start)).as_ref());
        let edits_settings = changed_files.iter().any(|c| c.path == config::FILE_NAME);
        let (ignored, head_settings) = match head_own {
            _ if !edits_settings => (gate.ignored.clone(), None),
            Ok(Some(a)) => {
                let changes = config::changes(&gate.config, &a.config);
                (a.ignored, Some(HeadSettings::Changes(changes)))
            }
            Ok(None) => {
                let defaults = self.defaults()?;
                let changes = config::changes(&gate.config, &defaults.config);
                (gate.ignored.clone(), Some(HeadSettings::Removed(changes)))
            }
            Err(e) => (
                gate.ignored.clone(),
                Some(HeadSettings::Invalid(format!("{e:#}"))),
            ),
        };
        let settings = Settings {
            commit: base_oid,
            present,
            ignored,
            head: head_settings,
        };
        // Files read through a symlink change with their target.
        let through_links = head_view.snapshot.link_changes(&changed_files);
        changed_files.extend(through_links);
        // The merge base's units tell deleted units, and which units a stack file change
        // really changes.
        let needs_base = changed_files.iter().any(|c| {
            (c.kind == git::ChangeKind::Deleted && c.path.ends_with(units::UNIT_FILE))
                || c.path.ends_with(crate::terragrunt::stack::STACK_FILE)
                || c.path.ends_with(crate::terragrunt::eval::VALUES_FILE)
        });
        let base_inv = if needs_base {
            Some(self.view_at_with(start, start_config.clone())?)
        } else {
            None
        };
        let units = affected::affected(
            &head_view.inventory,
            &head_view.graph,
            base_inv.as_ref().map(|v| &v.inventory),
            &changed_files,
            include_dependents,
        );
        let touches_shared = changed_files.iter().any(|c| {
            c.path.ends_with(".hcl") && !head_view.inventory.units.contains_key(parent(&c.path))
        });
        let errors = head_view
            .inventory
            .errors
            .iter()
            .filter(|e| {
                touches_shared
                    || changed_files.iter().any(|c| {
                        c.path == e.file || config::path_has_prefix(&c.path, parent(&e.file))
                    })
            })
            .cloned()
            .collect();
        // A unit that cannot be evaluated is never silently left out: touched by the change
        // (its own files, what it was seen to include, or what it read when it last evaluated),
        // it is listed as failed, and the review shows it.
        let mut units = units;
        let failed: Vec<(&str, &EvalError)> = head_view
            .inventory
            .failed()
            .filter(|(dir, _)| !units.iter().any(|u| u.path == *dir))
            .collect();
        if !failed.is_empty() {
            let base_view = self.view_at_with(start, start_config)?;
            let before = affected::reasons_by_unit(&base_view.inventory, &changed_files);
            for (dir, e) in failed {
                let touched = before.contains_key(dir)
                    || changed_files.iter().any(|c| {
                        config::path_has_prefix(&c.path, dir)
                            || e.included.contains(&c.path)
                            || c.path == e.file
                    })
                    || (touches_shared && !base_view.inventory.units.contains_key(dir));
                if touched {
                    units.push(Affected {
                        path: dir.to_string(),
                        env: head_view.config.env_for_path(dir).map(str::to_string),
                        status: affected::Status::Failed,
                        reasons: vec![affected::Reason::Unevaluated {
                            error: e.to_string(),
                        }],
                    });
                }
            }
            units.sort_by(|a, b| a.path.cmp(&b.path));
        }
        Ok(ChangeSet {
            base: base_oid,
            head: head_oid,
            merge_base: start,
            changed_files,
            units,
            errors,
            head_view,
            settings,
        })
    }
}
