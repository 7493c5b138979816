//! Security rules of the SARC-NG policy: open ingress, database settings, S3 buckets, VPC flow
//! logs, and destroying stateful resources.

use serde_json::Value;

use super::{after, is_changing, unknown, RuleContext, Violation};
use crate::config::RuleId;
use crate::index::{PlanIndex, Side};
use crate::plan::{Action, Mode, ResourceView};

/// Resource types whose destruction loses data or identity that cannot be recreated.
pub(crate) const STATEFUL_TYPES: &[&str] = &[
    "aws_backup_vault",
    "aws_cloudwatch_log_group",
    "aws_db_instance",
    "aws_docdb_cluster",
    "aws_dynamodb_table",
    "aws_ebs_volume",
    "aws_ecr_repository",
    "aws_efs_file_system",
    "aws_elasticache_cluster",
    "aws_elasticache_replication_group",
    "aws_elasticache_serverless_cache",
    "aws_elasticsearch_domain",
    "aws_fsx_lustre_file_system",
    "aws_fsx_ontap_file_system",
    "aws_fsx_openzfs_file_system",
    "aws_fsx_windows_file_system",
    "aws_keyspaces_table",
    "aws_kinesis_stream",
    "aws_kms_key",
    "aws_memorydb_cluster",
    "aws_msk_cluster",
    "aws_neptune_cluster",
    "aws_opensearch_domain",
    "aws_rds_cluster",
    "aws_rds_global_cluster",
    "aws_redshift_cluster",
    "aws_s3_bucket",
    "aws_secretsmanager_secret",
    "aws_sqs_queue",
    "aws_timestreamwrite_table",
];

/// The rules about one changing or destroyed resource.
pub(super) fn check(
    index: &PlanIndex<'_>,
    rc: &ResourceView<'_>,
    ctx: &RuleContext<'_>,
    out: &mut Vec<Violation>,
) {
    {
        if is_changing(rc) {
            match rc.type_name.as_str() {
                "aws_security_group" | "aws_default_security_group" => security_group(rc, ctx, out),
                "aws_security_group_rule" => security_group_rule(rc, ctx, out),
                "aws_vpc_security_group_ingress_rule" => vpc_ingress_rule(rc, ctx, out),
                "aws_db_instance" => db_instance(rc, ctx, out),
                "aws_rds_cluster" => rds_cluster(index, rc, ctx, out),
                "aws_rds_cluster_instance" => publicly_accessible(rc, out),
                "aws_s3_bucket_public_access_block" => public_access_block_settings(rc, out),
                _ => {}
            }
        }
        stateful_destroy(rc, ctx, out);
    }
}

/// The rules that look at resources together: buckets and their companions, VPCs and flow logs.
pub(super) fn check_links(index: &PlanIndex<'_>, ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    s3_buckets(index, out);
    if ctx.production {
        vpc_flow_logs(index, out);
    }
}

// --- sg-open-ingress -------------------------------------------------------------------------

const WORLD: &[&str] = &["0.0.0.0/0", "::/0"];

/// Describes the ports a rule opens, or None when they are all allowed public ports.
fn disallowed_ports(
    protocol: Option<&str>,
    from: Option<i64>,
    to: Option<i64>,
    allowed: &[u16],
) -> Option<String> {
    let protocol = protocol.unwrap_or("tcp").to_ascii_lowercase();
    let name = match protocol.as_str() {
        "-1" | "all" => return Some("all ports and protocols".to_string()),
        "6" => "tcp".to_string(),
        "17" => "udp".to_string(),
        "1" => "icmp".to_string(),
        "58" => "icmpv6".to_string(),
        p => p.to_string(),
    };
    if name == "icmp" || name == "icmpv6" {
        return Some(name);
    }
    match (from, to) {
        (Some(f), Some(t)) if f == t && allowed.iter().any(|p| i64::from(*p) == f) => None,
        (Some(f), Some(t)) if f == t => Some(format!("{name} {f}")),
        (Some(f), Some(t)) if (f == 0 || f == -1) && (t == 0 || t == -1 || t == 65535) => {
            Some(format!("{name} all ports"))
        }
        (Some(f), Some(t)) => Some(format!("{name} {f}-{t}")),
        _ => Some(format!("{name} all ports")),
    }
}

fn open_ingress(
    rc: &ResourceView<'_>,
    ctx: &RuleContext<'_>,
    sources: &[&str],
    protocol: Option<&str>,
    from: Option<i64>,
    to: Option<i64>,
    out: &mut Vec<Violation>,
) {
    let world: Vec<&str> = sources
        .iter()
        .copied()
        .filter(|s| WORLD.contains(s))
        .collect();
    if world.is_empty() {
        return;
    }
    let allowed = &ctx.policy.public_ingress_ports;
    if let Some(ports) = disallowed_ports(protocol, from, to, allowed) {
        let allowed: Vec<String> = allowed.iter().map(u16::to_string).collect();
        out.push(Violation {
            rule: RuleId::SgOpenIngress,
            address: rc.address.clone(),
            message: format!(
                "allows ingress from {} on {ports}; only {} may be open to the internet",
                world.join(" and "),
                if allowed.is_empty() {
                    "no port".to_string()
                } else {
                    allowed.join(", ")
                }
            ),
        });
    }
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn security_group(rc: &ResourceView<'_>, ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    let Some(Value::Array(rules)) = after(rc, "ingress") else {
        return;
    };
    for rule in rules {
        let mut sources = strings(rule.get("cidr_blocks"));
        sources.extend(strings(rule.get("ipv6_cidr_blocks")));
        open_ingress(
            rc,
            ctx,
            &sources,
            rule.get("protocol").and_then(Value::as_str),
            int(rule.get("from_port")),
            int(rule.get("to_port")),
            out,
        );
    }
}

fn security_group_rule(rc: &ResourceView<'_>, ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    if after(rc, "type").and_then(Value::as_str) != Some("ingress") {
        return;
    }
    let mut sources = strings(after(rc, "cidr_blocks"));
    sources.extend(strings(after(rc, "ipv6_cidr_blocks")));
    open_ingress(
        rc,
        ctx,
        &sources,
        after(rc, "protocol").and_then(Value::as_str),
        int(after(rc, "from_port")),
        int(after(rc, "to_port")),
        out,
    );
}

fn vpc_ingress_rule(rc: &ResourceView<'_>, ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    let sources: Vec<&str> = ["cidr_ipv4", "cidr_ipv6"]
        .iter()
        .filter_map(|k| after(rc, k).and_then(Value::as_str))
        .collect();
    open_ingress(
        rc,
        ctx,
        &sources,
        after(rc, "ip_protocol").and_then(Value::as_str),
        int(after(rc, "from_port")),
        int(after(rc, "to_port")),
        out,
    );
}

// --- databases -------------------------------------------------------------------------------

fn flag(rc: &ResourceView<'_>, key: &str) -> Option<bool> {
    if unknown(rc, key) {
        return None;
    }
    Some(after(rc, key).and_then(Value::as_bool).unwrap_or(false))
}

fn is_replica(rc: &ResourceView<'_>) -> bool {
    // The provider writes "" for an unset replicate_source_db.
    after(rc, "replicate_source_db")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty())
        || unknown(rc, "replicate_source_db")
}

fn what_db(rc: &ResourceView<'_>) -> &'static str {
    match rc.type_name.as_str() {
        "aws_rds_cluster" => "Aurora cluster",
        "aws_rds_cluster_instance" => "Aurora instance",
        _ => "database",
    }
}

fn storage_encrypted(rc: &ResourceView<'_>, out: &mut Vec<Violation>) {
    if flag(rc, "storage_encrypted") == Some(false) {
        out.push(Violation {
            rule: RuleId::DbStorageEncrypted,
            address: rc.address.clone(),
            message: format!(
                "{} storage is not encrypted: set storage_encrypted = true (it cannot be changed later without a replacement)",
                what_db(rc)
            ),
        });
    }
}

fn deletion_protection(rc: &ResourceView<'_>, ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    if ctx.production && flag(rc, "deletion_protection") == Some(false) {
        out.push(Violation {
            rule: RuleId::DbDeletionProtection,
            address: rc.address.clone(),
            message: format!(
                "production {} has no deletion protection: set deletion_protection = true",
                what_db(rc)
            ),
        });
    }
}

fn backup_retention(rc: &ResourceView<'_>, ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    if unknown(rc, "backup_retention_period") {
        return;
    }
    let days = int(after(rc, "backup_retention_period"));
    let min = if ctx.production {
        ctx.policy.prod_backup_retention_days
    } else {
        ctx.policy.backup_retention_days
    };
    let shown = match days {
        Some(d) if d >= i64::from(min) => return,
        Some(d) => format!("{d} day{}", if d == 1 { "" } else { "s" }),
        None => "not set (AWS keeps 1 day)".to_string(),
    };
    out.push(Violation {
        rule: RuleId::DbBackupRetention,
        address: rc.address.clone(),
        message: format!(
            "backup retention is {shown}; {} needs at least {min} days",
            if ctx.production {
                "production"
            } else {
                "this environment"
            }
        ),
    });
}

fn publicly_accessible(rc: &ResourceView<'_>, out: &mut Vec<Violation>) {
    if flag(rc, "publicly_accessible") == Some(true) {
        out.push(Violation {
            rule: RuleId::DbPubliclyAccessible,
            address: rc.address.clone(),
            message: format!(
                "{} is publicly accessible: set publicly_accessible = false",
                what_db(rc)
            ),
        });
    }
}

fn db_instance(rc: &ResourceView<'_>, ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    let replica = is_replica(rc);
    if !replica {
        // A replica inherits encryption from its source.
        storage_encrypted(rc, out);
        backup_retention(rc, ctx, out);
    }
    deletion_protection(rc, ctx, out);
    publicly_accessible(rc, out);
    if ctx.production && !replica && flag(rc, "multi_az") == Some(false) {
        out.push(Violation {
            rule: RuleId::DbMultiAz,
            address: rc.address.clone(),
            message: "production database is single-AZ: set multi_az = true".to_string(),
        });
    }
}

fn rds_cluster(
    index: &PlanIndex<'_>,
    rc: &ResourceView<'_>,
    ctx: &RuleContext<'_>,
    out: &mut Vec<Violation>,
) {
    let serverless_v1 = after(rc, "engine_mode").and_then(Value::as_str) == Some("serverless");
    if !serverless_v1 {
        storage_encrypted(rc, out);
    }
    deletion_protection(rc, ctx, out);
    backup_retention(rc, ctx, out);
    publicly_accessible(rc, out);
    let multi_az_cluster = after(rc, "db_cluster_instance_class").is_some();
    if ctx.production && !serverless_v1 && !multi_az_cluster {
        let instances = index.pointing_at(
            rc,
            "aws_rds_cluster_instance",
            "cluster_identifier",
            &["cluster_identifier", "id"],
            Side::After,
        );
        if instances.len() < 2 {
            out.push(Violation {
                rule: RuleId::DbMultiAz,
                address: rc.address.clone(),
                message: format!(
                    "production Aurora cluster has {} instance{} in this plan; at least two (a writer and a reader in another AZ) are required",
                    instances.len(),
                    if instances.len() == 1 { "" } else { "s" }
                ),
            });
        }
    }
}

// --- S3 --------------------------------------------------------------------------------------

const BLOCK_SETTINGS: &[&str] = &[
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
];

fn public_access_block_settings(rc: &ResourceView<'_>, out: &mut Vec<Violation>) {
    let off: Vec<&str> = BLOCK_SETTINGS
        .iter()
        .copied()
        .filter(|k| !unknown(rc, k) && after(rc, k).and_then(Value::as_bool) != Some(true))
        .collect();
    if !off.is_empty() {
        out.push(Violation {
            rule: RuleId::S3PublicAccessBlock,
            address: rc.address.clone(),
            message: format!("public access block leaves {} off", off.join(", ")),
        });
    }
}

fn all_blocked(rc: &ResourceView<'_>) -> bool {
    BLOCK_SETTINGS
        .iter()
        .all(|k| unknown(rc, k) || after(rc, k).and_then(Value::as_bool) == Some(true))
}

/// Companions of a bucket that point at it through their `bucket` argument.
fn companions<'i, 'p>(
    index: &'i PlanIndex<'p>,
    bucket: &ResourceView<'_>,
    companion_type: &str,
    side: Side,
) -> Vec<std::borrow::Cow<'i, ResourceView<'p>>> {
    index.pointing_at(bucket, companion_type, "bucket", &["bucket", "id"], side)
}

fn s3_buckets(index: &PlanIndex<'_>, out: &mut Vec<Violation>) {
    const SSE: &str = "aws_s3_bucket_server_side_encryption_configuration";
    const PAB: &str = "aws_s3_bucket_public_access_block";
    let account_blocked = index
        .of_type("aws_s3_account_public_access_block")
        .iter()
        .any(|a| Side::After.exists(a) && all_blocked(a));
    for bucket in index.of_type("aws_s3_bucket") {
        let bucket = &*bucket;
        if !Side::After.exists(bucket) {
            continue;
        }
        let removed = |t: &str| {
            companions(index, bucket, t, Side::Before)
                .iter()
                .any(|c| c.action == Action::Delete)
        };
        let changing = is_changing(bucket);
        if changing || removed(SSE) {
            let inline = after(bucket, "server_side_encryption_configuration")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            if !inline && companions(index, bucket, SSE, Side::After).is_empty() {
                out.push(Violation {
                    rule: RuleId::S3Encryption,
                    address: bucket.address.clone(),
                    message: format!(
                        "bucket has no server-side encryption configuration: add an {SSE} (SSE-KMS or AES256)"
                    ),
                });
            }
        }
        if (changing || removed(PAB)) && !account_blocked {
            let blocks = companions(index, bucket, PAB, Side::After);
            if blocks.is_empty() {
                out.push(Violation {
                    rule: RuleId::S3PublicAccessBlock,
                    address: bucket.address.clone(),
                    message: format!(
                        "bucket has no public access block: add an {PAB} with all four settings true"
                    ),
                });
            }
        }
    }
}

// --- VPC flow logs ---------------------------------------------------------------------------

fn vpc_flow_logs(index: &PlanIndex<'_>, out: &mut Vec<Violation>) {
    for vpc in index.of_type("aws_vpc") {
        let vpc = &*vpc;
        if !Side::After.exists(vpc) {
            continue;
        }
        let removed = index
            .pointing_at(vpc, "aws_flow_log", "vpc_id", &["id"], Side::Before)
            .iter()
            .any(|f| f.action == Action::Delete);
        if !is_changing(vpc) && !removed {
            continue;
        }
        if index
            .pointing_at(vpc, "aws_flow_log", "vpc_id", &["id"], Side::After)
            .is_empty()
        {
            out.push(Violation {
                rule: RuleId::VpcFlowLogs,
                address: vpc.address.clone(),
                message:
                    "production VPC has no flow log: add an aws_flow_log with vpc_id pointing at it"
                        .to_string(),
            });
        }
    }
}

// --- prod-stateful-destroy ---------------------------------------------------------------------

fn stateful_destroy(rc: &ResourceView<'_>, ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    if rc.mode != Mode::Managed
        || !rc.action.destroys()
        || !STATEFUL_TYPES.contains(&rc.type_name.as_str())
    {
        return;
    }
    let env: String = ctx.env.chars().filter(|c| !c.is_control()).collect();
    let message = match (rc.action, &rc.deposed) {
        (_, Some(key)) => format!(
            "destroys a deposed {} object ({key}) left by an earlier replacement, in {env}",
            rc.type_name
        ),
        (Action::Replace { .. }, None) => {
            let mut forcing: Vec<String> = rc
                .rc
                .change
                .replace_paths
                .iter()
                .filter_map(|p| p.0.first())
                .map(|s| crate::path::AttrPath(vec![s.clone()]).to_string())
                .collect();
            forcing.dedup();
            let why = if forcing.is_empty() {
                String::new()
            } else {
                format!(" because {} cannot change in place", forcing.join(", "))
            };
            format!(
                "replaces {}{why}: the existing object and its data are destroyed, in {env}",
                rc.type_name
            )
        }
        _ => format!(
            "destroys {}: its data is lost unless backed up, in {env}",
            rc.type_name
        ),
    };
    out.push(Violation {
        rule: RuleId::ProdStatefulDestroy,
        address: rc.address.clone(),
        message,
    });
}
