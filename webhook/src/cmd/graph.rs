//! `slipway graph`: all units, their environments and dependencies.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use agent::repo::Repo;

use super::printable;

/// Output format of `slipway graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Text,
    Json,
    Dot,
    Mermaid,
}

/// Arguments of `slipway graph`.
#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// The infrastructure repository.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// Read this revision instead of the files on disk.
    #[arg(long)]
    pub rev: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: GraphFormat,
}

pub fn run(args: GraphArgs) -> anyhow::Result<ExitCode> {
    let repo = Repo::open(&args.repo)?;
    let view = repo.graph(args.rev.as_deref())?;
    let inv = &view.inventory;
    // Position of each unit in dependency order, looked up once per unit, not searched for.
    let index: std::collections::HashMap<&str, usize> = view
        .graph
        .order
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_str(), i))
        .collect();
    let position = |p: &str| index.get(p).copied();
    let mut out = String::new();
    match args.format {
        GraphFormat::Json => {
            let units: Vec<_> = view
                .graph
                .order
                .iter()
                .filter_map(|p| inv.units.get(p))
                .map(|u| {
                    serde_json::json!({
                        "path": u.path,
                        "env": u.env,
                        "account_id": u.account_id,
                        "region": u.region,
                        "dependencies": u.dependencies,
                        "source": u.source,
                        "skip": u.skip,
                        "stack": u.stack,
                        "order": position(&u.path),
                    })
                })
                .collect();
            let errors: Vec<_> = inv
                .failed()
                .map(|(path, e)| {
                    serde_json::json!({
                        "path": path,
                        "file": e.file,
                        "line": e.line,
                        "construct": e.construct,
                        "message": e.message,
                    })
                })
                .collect();
            let doc = serde_json::json!({
                "units": units,
                "problems": view.graph.problems,
                "errors": errors,
            });
            out = serde_json::to_string_pretty(&doc)?;
            out.push('\n');
        }
        GraphFormat::Text => {
            for p in &view.graph.order {
                let Some(u) = inv.units.get(p) else { continue };
                writeln!(
                    out,
                    "{} [{}{}]",
                    printable(&u.path),
                    printable(u.env.as_deref().unwrap_or("no env")),
                    u.region
                        .as_deref()
                        .map(|r| format!(", {}", printable(r)))
                        .unwrap_or_default()
                )?;
                for d in &u.dependencies {
                    writeln!(out, "  -> {}", printable(d))?;
                }
            }
        }
        GraphFormat::Dot => {
            out.push_str("digraph units {\n  rankdir=LR;\n");
            for p in &view.graph.order {
                let Some(u) = inv.units.get(p) else { continue };
                writeln!(
                    out,
                    "  {:?} [label={:?}];",
                    u.path,
                    format!("{}\n{}", u.path, u.env.as_deref().unwrap_or("-"))
                )?;
                for d in &u.dependencies {
                    writeln!(out, "  {:?} -> {:?};", u.path, d)?;
                }
            }
            out.push_str("}\n");
        }
        GraphFormat::Mermaid => {
            out.push_str("graph LR\n");
            let id = |p: &str| format!("u{}", position(p).unwrap_or(usize::MAX));
            for p in &view.graph.order {
                let Some(u) = inv.units.get(p) else { continue };
                writeln!(
                    out,
                    "  {}[\"{} ({})\"]",
                    id(&u.path),
                    mermaid_text(&u.path),
                    mermaid_text(u.env.as_deref().unwrap_or("-"))
                )?;
            }
            for p in &view.graph.order {
                let Some(u) = inv.units.get(p) else { continue };
                for d in &u.dependencies {
                    if inv.units.contains_key(d) {
                        writeln!(out, "  {} --> {}", id(&u.path), id(d))?;
                    }
                }
            }
        }
    }
    super::emit(&out);
    // Units that fail to evaluate are warnings: the others are listed and right. A repository
    // with Terragrunt files but no unit says why.
    for e in agent::terragrunt::summarize(&inv.errors) {
        eprintln!("warning: {}", printable(&e));
    }
    super::warn_skipped(&view.snapshot);
    if inv.units.is_empty() && inv.errors.is_empty() {
        let hcl = view
            .snapshot
            .paths()
            .filter(|p| p.ends_with(".hcl"))
            .count();
        if hcl > 0 {
            let live = view.config.live_dir.as_deref().unwrap_or("the repository");
            eprintln!(
                "warning: no Terragrunt unit found: {hcl} .hcl files, but no terragrunt.hcl \
                 under {live} that is not included by another (a root named terragrunt.hcl is \
                 a parent; a directory a stack uses as its unit template is no unit)"
            );
        }
    }
    for p in &view.graph.problems {
        eprintln!("error: {}", printable(&p.to_string()));
    }
    Ok(if view.graph.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Text inside a quoted mermaid label: quotes and `#` as mermaid's entity codes, control
/// characters escaped.
fn mermaid_text(s: &str) -> String {
    printable(s).replace('#', "#35;").replace('"', "#quot;")
}
