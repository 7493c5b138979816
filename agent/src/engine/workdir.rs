//! Materialises a unit's terraform working directory, as Terragrunt would: the module source
//! copied (honouring `//subdir`), the unit's own files laid over it, `generate` blocks and the
//! backend written, inputs passed as a variables file.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use hcl::Value;

use super::safe_fs::{self, Existing};
use super::source::Fetched;
use crate::snapshot::Snapshot;
use crate::terragrunt::modules::Source;
use crate::units::{Unit, UNIT_FILE};

/// Name of the variables file holding the unit's inputs.
pub const INPUTS_FILE: &str = "terragrunt.auto.tfvars.json";

/// Name of the file in a unit's base directory that records where, inside a fetched remote
/// source, the module is (a registry's download location can add a subdirectory that only
/// the fetch learns).
const MODULE_DIR_MARK: &str = ".slipway-module-dir";

/// Builds the working directory under `work_root` and returns the directory to run terraform in.
/// A unit with a remote source needs [`prepare_with`] and the fetched source.
pub fn prepare(snap: &Snapshot, unit: &Unit, work_root: &Path) -> anyhow::Result<PathBuf> {
    prepare_with(snap, unit, work_root, None)
}

/// [`prepare`], with the unit's remote module source fetched into the cache.
pub fn prepare_with(
    snap: &Snapshot,
    unit: &Unit,
    work_root: &Path,
    module: Option<&Fetched>,
) -> anyhow::Result<PathBuf> {
    if let Some(why) = unit.unknown_files() {
        bail!("{why}");
    }
    let eval = unit
        .eval
        .as_ref()
        .context("the unit has no evaluated configuration")?;
    if !eval.deferred.is_empty() {
        bail!(
            "{} need dependency outputs that are not available (add mock_outputs for plan, or apply the dependency first)",
            eval.deferred.join(", ")
        );
    }
    let base = base_dir(unit, work_root);
    if base.exists() {
        clean(&base)?;
    }
    std::fs::create_dir_all(&base)?;

    // 1. Module source: a local one from the snapshot, a remote one from the read-only
    // cache (copied, so that nothing a run writes reaches the cache).
    match (&unit.source, module) {
        (Some(Source::Remote { url }), None) => bail!(
            "remote module source {} was not fetched",
            super::source::address::redacted(url)
        ),
        (Some(Source::Remote { .. }), Some(m)) => {
            super::source::tree::copy_into(&m.root, &base).map_err(|e| {
                anyhow::anyhow!(
                    "cannot copy module source {} from the cache: {e}",
                    m.resolved.source
                )
            })?;
            safe_fs::write(
                &base,
                MODULE_DIR_MARK,
                m.subdir.as_bytes(),
                Existing::Replace,
            )?;
        }
        (Some(Source::Local { root, .. }), _) => copy_tree(snap, root, &base)?,
        (None, _) => {}
    }
    let run_dir = run_dir(unit, work_root);
    std::fs::create_dir_all(&run_dir)?;

    // 2. The unit's own files over it (not terragrunt.hcl, not nested units).
    let prefix = if unit.path.is_empty() {
        String::new()
    } else {
        format!("{}/", unit.path)
    };
    for path in snap.files_under(&unit.path) {
        let rel = path.strip_prefix(prefix.as_str()).unwrap_or(path);
        if rel.contains('/') || rel == UNIT_FILE || rel.ends_with(".hcl") {
            continue;
        }
        let bytes = snap.read(path)?;
        safe_fs::write(&run_dir, rel, &bytes, Existing::Replace)?;
    }

    let cfg = &eval.config;
    // 3. generate blocks.
    if let Some(Value::Object(gens)) = cfg.get("generate") {
        for (name, g) in gens {
            let g = g
                .as_object()
                .with_context(|| format!("generate \"{name}\" is not a block"))?;
            if matches!(g.get("disable"), Some(Value::Bool(true))) {
                continue;
            }
            let path = str_field(g, "path")
                .with_context(|| format!("generate \"{name}\" needs a path"))?;
            let contents = str_field(g, "contents").unwrap_or_default();
            write_generated(
                &run_dir,
                &path,
                &contents,
                str_field(g, "if_exists").as_deref(),
            )
            .with_context(|| format!("generate \"{name}\""))?;
        }
    }
    // 4. remote_state.
    if let Some(Value::Object(rs)) = cfg.get("remote_state") {
        let backend = str_field(rs, "backend").context("remote_state needs a backend")?;
        let gen = rs.get("generate").and_then(Value::as_object);
        let config = rs
            .get("config")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let path = gen
            .and_then(|g| str_field(g, "path"))
            .unwrap_or_else(|| "backend.tf".into());
        let if_exists = gen.and_then(|g| str_field(g, "if_exists"));
        let mut block = hcl::Block::builder("backend").add_label(backend.as_str());
        for (k, v) in &config {
            block = block.add_attribute((k.as_str(), hcl::Expression::from(v.clone())));
        }
        let body = hcl::Body::builder()
            .add_block(
                hcl::Block::builder("terraform")
                    .add_block(block.build())
                    .build(),
            )
            .build();
        let text = hcl::to_string(&body).context("cannot render the backend block")?;
        write_generated(&run_dir, &path, &text, if_exists.as_deref())?;
    }
    // 5. inputs.
    if let Some(inputs) = cfg.get("inputs") {
        let json = serde_json::to_vec_pretty(inputs)?;
        safe_fs::write(&run_dir, INPUTS_FILE, &json, Existing::Replace)?;
    }
    Ok(run_dir)
}

/// The directory a unit's working copy is made in: one per unit under `work_root`.
pub fn base_dir(unit: &Unit, work_root: &Path) -> PathBuf {
    let slug: String = unit
        .path
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    work_root.join(if slug.is_empty() { "root".into() } else { slug })
}

/// The directory terraform runs in for `unit` (the module's own directory inside the copied
/// source tree), whether or not it was made yet.
pub fn run_dir(unit: &Unit, work_root: &Path) -> PathBuf {
    let base = base_dir(unit, work_root);
    match &unit.source {
        Some(Source::Local { root, dir }) => {
            let sub = dir
                .strip_prefix(root.as_str())
                .unwrap_or("")
                .trim_start_matches('/');
            base.join(sub)
        }
        Some(Source::Remote { url }) => {
            let sub = std::fs::read_to_string(base.join(MODULE_DIR_MARK))
                .ok()
                .or_else(|| super::source::written_subdir(url))
                .unwrap_or_default();
            match crate::snapshot::normalize(sub.trim()) {
                Some(sub) => base.join(sub),
                None => base,
            }
        }
        None => base,
    }
}

/// Names of the variables declared `sensitive = true` in the `.tf` files of `dir`.
pub fn sensitive_variables(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return names;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("tf") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        // A file terraform itself would reject is reported by terraform, not here.
        let Ok(body) = hcl::parse(&text) else {
            continue;
        };
        for block in body.blocks().filter(|b| b.identifier() == "variable") {
            let sensitive = block
                .body
                .attributes()
                .any(|a| a.key() == "sensitive" && matches!(a.expr(), hcl::Expression::Bool(true)));
            if let (true, Some(label)) = (sensitive, block.labels().first()) {
                names.push(label.as_str().to_string());
            }
        }
    }
    names
}

/// What survives between two runs of a unit: local state (a local backend with a relative
/// path, or no backend at all, keeps its state here). `.terraform` does not: its provider
/// links point into the shared plugin cache, and a later run's files must never be written
/// through them; `init` makes it again, linking from the cache at little cost.
fn preserved(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    name == "terraform.tfstate.d" || name.starts_with("terraform.tfstate")
}

/// Removes everything of the previous run but what [`preserved`] keeps, at any depth. A
/// symlink is removed whatever its name (the link, never what it points to).
fn clean(dir: &Path) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let ty = entry.file_type()?;
        let p = entry.path();
        if ty.is_symlink() {
            std::fs::remove_file(&p)?;
            continue;
        }
        if preserved(&entry.file_name()) {
            continue;
        }
        if entry.file_name() == ".terraform" {
            std::fs::remove_dir_all(&p)?;
            continue;
        }
        if ty.is_dir() {
            clean(&p)?;
            if std::fs::read_dir(&p)?.next().is_none() {
                std::fs::remove_dir(&p)?;
            }
        } else {
            std::fs::remove_file(&p)?;
        }
    }
    Ok(())
}

fn str_field(m: &hcl::Map<String, Value>, key: &str) -> Option<String> {
    match m.get(key)? {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn write_generated(
    dir: &Path,
    path: &str,
    contents: &str,
    if_exists: Option<&str>,
) -> anyhow::Result<()> {
    let rel = crate::snapshot::normalize(path)
        .context("generated file path escapes the working directory")?;
    if rel.split('/').any(|c| c == ".terraform") {
        // Providers and modules `init` installs live there: a file planted there would be
        // executed as a provider.
        bail!("{path} is inside .terraform, which belongs to terraform init: refused");
    }
    let existing = match if_exists.unwrap_or("error") {
        "overwrite" | "overwrite_terragrunt" => Existing::Replace,
        "skip" => Existing::Keep,
        _ => Existing::Fail,
    };
    match safe_fs::write(dir, &rel, contents.as_bytes(), existing) {
        Ok(_) => Ok(()),
        Err(safe_fs::WriteError::Exists(_)) => {
            bail!("{path} already exists (set if_exists = \"overwrite\" to replace it)")
        }
        Err(e) => Err(e.into()),
    }
}

fn copy_tree(snap: &Snapshot, root: &str, dest: &Path) -> anyhow::Result<()> {
    let prefix = if root.is_empty() {
        String::new()
    } else {
        format!("{root}/")
    };
    for path in snap.files_under(root) {
        let rel = path.strip_prefix(prefix.as_str()).unwrap_or(path);
        if rel
            .split('/')
            .any(|c| c == ".terraform" || c == ".terragrunt-cache")
        {
            continue;
        }
        safe_fs::write(dest, rel, &snap.read(path)?, Existing::Replace)?;
    }
    Ok(())
}
