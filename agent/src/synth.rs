//! A generator of synthetic Terragrunt monorepos shaped like a real live tree, for benchmarks
//! and scale tests: accounts, regions, environments, a root configuration reading
//! `account.hcl`/`region.hcl`/`env.hcl`, `_envcommon` includes, dependencies and local modules.

use std::path::Path;

use git2::{Oid, Repository, Signature};

/// Components of every region, in dependency order; each depends on the previous ones listed.
const COMPONENTS: &[(&str, &[&str])] = &[
    ("network", &[]),
    ("database", &["network"]),
    ("ecs-cluster", &["network"]),
    ("api", &["ecs-cluster", "database"]),
    ("web", &["ecs-cluster", "api"]),
    ("dns", &["web"]),
    ("observability", &["ecs-cluster", "database"]),
    ("lambda", &["network"]),
    ("queue", &[]),
    ("worker", &["queue", "database"]),
];

/// Shape of a synthetic repository.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Number of units (rounded up to whole regions of `COMPONENTS.len()` units).
    pub units: usize,
    /// Regions per account.
    pub regions_per_account: usize,
}

impl Shape {
    pub fn new(units: usize) -> Shape {
        Shape {
            units,
            regions_per_account: 2,
        }
    }
}

/// Path of the `account.hcl` of account `i`, for benchmarks that change one file.
pub fn account_file(i: usize) -> String {
    format!("live/acct-{i:04}/account.hcl")
}

/// A unit path, for benchmarks that change one unit.
pub fn unit_dir(account: usize, region: usize, component: &str) -> String {
    format!("live/acct-{account:04}/region-{region}/{component}")
}

/// Every file of the synthetic repository, as (path, content).
pub fn files(shape: Shape) -> Vec<(String, String)> {
    let mut out = Vec::new();
    out.push((
        "live/terragrunt.hcl".to_string(),
        r#"locals {
  account = read_terragrunt_config(find_in_parent_folders("account.hcl"))
  region  = read_terragrunt_config(find_in_parent_folders("region.hcl"))
  env     = read_terragrunt_config(find_in_parent_folders("env.hcl"))
  name    = "${local.env.locals.environment}-${basename(get_terragrunt_dir())}"
}

remote_state {
  backend = "s3"
  generate = {
    path      = "backend.tf"
    if_exists = "overwrite_terragrunt"
  }
  config = {
    bucket         = "tfstate-${local.account.locals.account_id}"
    key            = "${path_relative_to_include()}/terraform.tfstate"
    region         = local.region.locals.aws_region
    dynamodb_table = "tflock"
    encrypt        = true
  }
}

generate "provider" {
  path      = "provider.tf"
  if_exists = "overwrite_terragrunt"
  contents  = <<EOT
provider "aws" {
  region = "${local.region.locals.aws_region}"
  default_tags {
    tags = ${jsonencode({ Environment = local.env.locals.environment, Project = "synthetic" })}
  }
}
EOT
}

inputs = merge(local.env.locals.sizing, {
  name        = local.name
  environment = local.env.locals.environment
  aws_region  = local.region.locals.aws_region
})
"#
        .to_string(),
    ));
    out.push((
        "modules/shared/tags/main.tf".into(),
        "variable \"name\" {}\noutput \"tags\" { value = { Name = var.name } }\n".into(),
    ));
    for (c, _) in COMPONENTS {
        out.push((
            format!("live/_envcommon/{c}.hcl"),
            format!(
                r#"locals {{
  base_source = "${{get_repo_root()}}/modules"
}}

terraform {{
  source = "${{local.base_source}}//{c}"
}}

inputs = {{
  component = "{c}"
}}
"#
            ),
        ));
        out.push((
            format!("modules/{c}/main.tf"),
            format!(
                "variable \"name\" {{}}\n\nmodule \"tags\" {{\n  source = \"../shared/tags\"\n  name   = var.name\n}}\n\nresource \"null_resource\" \"{c}\" {{\n  triggers = module.tags.tags\n}}\n\noutput \"id\" {{ value = null_resource.{c}.id }}\n"
            ),
        ));
    }
    let per_region = COMPONENTS.len();
    let regions = shape.units.div_ceil(per_region);
    let accounts = regions.div_ceil(shape.regions_per_account);
    let mut made = 0;
    for a in 0..accounts {
        out.push((
            account_file(a),
            format!(
                "locals {{\n  account_name = \"acct-{a:04}\"\n  account_id   = \"{:012}\"\n}}\n",
                100_000_000_000u64 + a as u64
            ),
        ));
        let env = ["dev", "staging", "prod"][a % 3];
        out.push((
            format!("live/acct-{a:04}/env.hcl"),
            format!(
                "locals {{\n  environment = \"{env}\"\n  sizing = {{\n    instance_count = {}\n    instance_class = \"{}\"\n  }}\n}}\n",
                a % 3 + 1,
                ["t3.small", "t3.large", "r5.large"][a % 3]
            ),
        ));
        for r in 0..shape.regions_per_account {
            if made >= shape.units {
                break;
            }
            out.push((
                format!("live/acct-{a:04}/region-{r}/region.hcl"),
                format!(
                    "locals {{\n  aws_region = \"{}\"\n}}\n",
                    ["us-east-1", "us-west-2", "eu-west-1"][r % 3]
                ),
            ));
            for (c, deps) in COMPONENTS {
                if made >= shape.units {
                    break;
                }
                made += 1;
                let mut text = format!(
                    r#"include "root" {{
  path = find_in_parent_folders()
}}

include "envcommon" {{
  path   = "${{dirname(find_in_parent_folders())}}/_envcommon/{c}.hcl"
  expose = true
}}
"#
                );
                for d in *deps {
                    text.push_str(&format!(
                        r#"
dependency "{d}" {{
  config_path = "../{d}"
  mock_outputs = {{
    id = "mock-{d}"
  }}
  mock_outputs_allowed_terraform_commands = ["plan", "validate"]
}}
"#
                    ));
                }
                text.push_str(&format!(
                    "\ninputs = {{\n  unit = \"{c}-{a}-{r}\"\n  component = include.envcommon.inputs.component\n{}}}\n",
                    deps.iter()
                        .map(|d| format!("  {}_id = dependency.{d}.outputs.id\n", d.replace('-', "_")))
                        .collect::<String>()
                ));
                out.push((format!("{}/terragrunt.hcl", unit_dir(a, r, c)), text));
            }
        }
    }
    out
}

/// Writes `files` into a new git repository at `dir` as one commit; returns the commit.
pub fn write_repo(
    dir: &Path,
    files: &[(String, String)],
) -> Result<(Repository, Oid), git2::Error> {
    let repo = Repository::init(dir)?;
    let oid = commit_files(&repo, None, files, "synthetic live tree")?;
    Ok((repo, oid))
}

/// Packs every object reachable from `commit` into one pack file and removes the loose copies,
/// as a clone or a fetch leaves a repository.
pub fn pack(repo: &Repository, commit: Oid) -> Result<(), git2::Error> {
    let mut pb = repo.packbuilder()?;
    let mut walk = repo.revwalk()?;
    walk.push(commit)?;
    pb.insert_walk(&mut walk)?;
    let objects = repo.path().join("objects");
    pb.write(&objects.join("pack"), 0o644)?;
    for entry in std::fs::read_dir(&objects).map_err(|e| git2::Error::from_str(&e.to_string()))? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.len() == 2 && name.chars().all(|c| c.is_ascii_hexdigit()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    Ok(())
}

/// Commits `files` (added or replaced) on top of `parent` (or as a root commit), without a work
/// tree: blobs and trees are written straight into the object database.
pub fn commit_files(
    repo: &Repository,
    parent: Option<Oid>,
    files: &[(String, String)],
    message: &str,
) -> Result<Oid, git2::Error> {
    let mut index = git2::Index::new()?;
    if let Some(p) = parent {
        index.read_tree(&repo.find_commit(p)?.tree()?)?;
    }
    for (path, content) in files {
        let blob = repo.blob(content.as_bytes())?;
        let entry = git2::IndexEntry {
            ctime: git2::IndexTime::new(0, 0),
            mtime: git2::IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: 0o100644,
            uid: 0,
            gid: 0,
            file_size: content.len() as u32,
            id: blob,
            flags: 0,
            flags_extended: 0,
            path: path.as_bytes().to_vec(),
        };
        index.add(&entry)?;
    }
    let tree_id = index.write_tree_to(repo)?;
    let tree = repo.find_tree(tree_id)?;
    let sig = Signature::new("Slipway Synth", "synth@example.com", &git2::Time::new(0, 0))?;
    let parents: Vec<git2::Commit<'_>> = match parent {
        Some(p) => vec![repo.find_commit(p)?],
        None => vec![],
    };
    let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parent_refs)
}
