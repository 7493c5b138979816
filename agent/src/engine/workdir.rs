//! Materialises a unit's terraform working directory, as Terragrunt would: the module source
//! copied (honouring `//subdir`), the unit's own files laid over it, `generate` blocks and the
//! backend written, inputs passed as a variables file.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use hcl::Value;

use crate::snapshot::{join, Snapshot};
use crate::terragrunt::modules::Source;
use crate::units::{Unit, UNIT_FILE};

/// Name of the variables file holding the unit's inputs.
pub const INPUTS_FILE: &str = "terragrunt.auto.tfvars.json";

/// Builds the working directory under `work_root` and returns the directory to run terraform in.
pub fn prepare(snap: &Snapshot, unit: &Unit, work_root: &Path) -> anyhow::Result<PathBuf> {
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
    let base = work_root.join(if slug.is_empty() { "root".into() } else { slug });
    if base.exists() {
        // Keep terraform's provider directory between runs; everything else is rebuilt.
        for entry in std::fs::read_dir(&base)? {
            let entry = entry?;
            if entry.file_name() != ".terraform" {
                let p = entry.path();
                if entry.file_type()?.is_dir() {
                    std::fs::remove_dir_all(&p)?;
                } else {
                    std::fs::remove_file(&p)?;
                }
            }
        }
    }
    std::fs::create_dir_all(&base)?;

    // 1. Module source.
    let run_dir = match &unit.source {
        Some(Source::Local { root, dir }) => {
            copy_tree(snap, root, &base)?;
            let sub = dir.strip_prefix(root.as_str()).unwrap_or("").trim_start_matches('/');
            base.join(sub)
        }
        Some(Source::Remote { url }) => bail!(
            "remote module source {url} is not fetched by the native engine; use the terragrunt engine"
        ),
        None => base.clone(),
    };
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
        std::fs::write(run_dir.join(rel), &bytes)?;
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
        std::fs::write(run_dir.join(INPUTS_FILE), json)?;
    }
    Ok(run_dir)
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
    let target = dir.join(rel);
    if target.exists() {
        match if_exists.unwrap_or("error") {
            "overwrite" | "overwrite_terragrunt" => {}
            "skip" => return Ok(()),
            _ => bail!("{path} already exists (set if_exists = \"overwrite\" to replace it)"),
        }
    }
    if let Some(p) = target.parent() {
        std::fs::create_dir_all(p)?;
    }
    std::fs::write(target, contents)?;
    Ok(())
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
        let target = dest.join(rel);
        if let Some(p) = target.parent() {
            std::fs::create_dir_all(p)?;
        }
        std::fs::write(&target, &snap.read(path)?)?;
    }
    let _ = join;
    Ok(())
}
