//! Security rules of the SARC-NG policy: open ingress, database settings, S3 buckets, VPC flow
//! logs, and destroying stateful resources.

use serde_json::Value;

use super::{configured, is_changing, Fact, RuleContext, Violation};
use crate::config::RuleId;
use crate::index::{PlanIndex, Side};
use crate::plan::{Action, Known, Mode, ResourceView};

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
    if is_changing(rc) {
        match rc.type_name.as_str() {
            "aws_security_group" | "aws_default_security_group" => {
                security_group(index, rc, ctx, out)
            }
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

/// The rules that look at resources together: buckets and their companions, VPCs and flow logs.
pub(super) fn check_links(index: &PlanIndex<'_>, ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    s3_buckets(index, out);
    if ctx.production {
        vpc_flow_logs(index, out);
    }
}

/// "a, b and c"
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The message of a decision that hinges on values known only after apply.
fn hinges(subject: &str, unknown: &[&str]) -> String {
    format!(
        "{subject} cannot be checked before apply: {} {} known only after apply",
        and_list(unknown),
        if unknown.len() == 1 { "is" } else { "are" }
    )
}

// --- sg-open-ingress -------------------------------------------------------------------------

const WORLD: &[&str] = &["0.0.0.0/0", "::/0"];

/// What the ports of an ingress rule are, as far as known.
enum Ports {
    /// Only allowed public ports.
    Allowed,
    /// A description of the ports opened that are not allowed.
    Disallowed(String),
    /// Depends on values known only after apply (their names).
    Unknown(Vec<&'static str>),
}

/// The ports a rule opens, or Allowed when they are all allowed public ports.
fn ports(protocol: Known<'_>, from: Known<'_>, to: Known<'_>, allowed: &[u16]) -> Ports {
    if protocol.is_unknown() {
        return Ports::Unknown(vec!["protocol"]);
    }
    let protocol = protocol.as_str().unwrap_or("tcp").to_ascii_lowercase();
    let name = match protocol.as_str() {
        "-1" | "all" => return Ports::Disallowed("all ports and protocols".to_string()),
        "6" => "tcp".to_string(),
        "17" => "udp".to_string(),
        "1" => "icmp".to_string(),
        "58" => "icmpv6".to_string(),
        p => p.to_string(),
    };
    if name == "icmp" || name == "icmpv6" {
        return Ports::Disallowed(name);
    }
    let unknown: Vec<&'static str> = [("from_port", from), ("to_port", to)]
        .iter()
        .filter(|(_, k)| k.is_unknown())
        .map(|(n, _)| *n)
        .collect();
    if !unknown.is_empty() {
        return Ports::Unknown(unknown);
    }
    match (int(from.value()), int(to.value())) {
        (Some(f), Some(t)) if f == t && allowed.iter().any(|p| i64::from(*p) == f) => {
            Ports::Allowed
        }
        (Some(f), Some(t)) if f == t => Ports::Disallowed(format!("{name} {f}")),
        (Some(f), Some(t)) if (f == 0 || f == -1) && (t == 0 || t == -1 || t == 65535) => {
            Ports::Disallowed(format!("{name} all ports"))
        }
        (Some(f), Some(t)) => Ports::Disallowed(format!("{name} {f}-{t}")),
        _ => Ports::Disallowed(format!("{name} all ports")),
    }
}

/// The sources of an ingress rule: the known internet-wide ones, and the names of source lists
/// that are (partly) known only after apply.
struct Sources<'a> {
    world: Vec<&'a str>,
    unknown: Vec<&'static str>,
}

fn sources<'a>(lists: &[(&'static str, Known<'a>)]) -> Sources<'a> {
    let mut s = Sources {
        world: Vec::new(),
        unknown: Vec::new(),
    };
    for (name, list) in lists {
        // A single string (cidr_ipv4) or a list of them (cidr_blocks).
        if list.is_unknown() {
            s.unknown.push(name);
            continue;
        }
        if let Some(v) = list.as_str() {
            if WORLD.contains(&v) {
                s.world.push(v);
            }
            continue;
        }
        let mut any_unknown = false;
        for item in list.items() {
            if item.is_unknown() {
                any_unknown = true;
            } else if let Some(v) = item.as_str().filter(|v| WORLD.contains(v)) {
                s.world.push(v);
            }
        }
        if any_unknown {
            s.unknown.push(name);
        }
    }
    s.world.sort_unstable();
    s.world.dedup();
    s
}

struct Ingress<'a> {
    sources: Sources<'a>,
    protocol: Known<'a>,
    from: Known<'a>,
    to: Known<'a>,
}

fn open_ingress(
    rc: &ResourceView<'_>,
    ctx: &RuleContext<'_>,
    rule: Ingress<'_>,
    out: &mut Vec<Violation>,
) {
    let Ingress {
        sources,
        protocol,
        from,
        to,
    } = rule;
    if sources.world.is_empty() && sources.unknown.is_empty() {
        return;
    }
    let allowed = &ctx.policy.public_ingress_ports;
    let allowed_text = {
        let list: Vec<String> = allowed.iter().map(u16::to_string).collect();
        if list.is_empty() {
            "no port".to_string()
        } else {
            list.join(", ")
        }
    };
    let ports = ports(protocol, from, to, allowed);
    let from_text = if sources.world.is_empty() {
        "possibly the internet".to_string()
    } else {
        sources.world.join(" and ")
    };
    match ports {
        Ports::Allowed => {}
        Ports::Disallowed(p) if !sources.world.is_empty() => out.push(Violation::new(
            RuleId::SgOpenIngress,
            &rc.address,
            format!(
                "allows ingress from {from_text} on {p}; only {allowed_text} may be open to the internet"
            ),
        )),
        Ports::Disallowed(p) => out.push(Violation::unknown(
            RuleId::SgOpenIngress,
            &rc.address,
            hinges(
                &format!("whether ingress on {p} is open to the internet"),
                &sources.unknown,
            ),
        )),
        Ports::Unknown(names) => {
            let mut unknown = sources.unknown.clone();
            unknown.extend(names);
            out.push(Violation::unknown(
                RuleId::SgOpenIngress,
                &rc.address,
                hinges(
                    &format!("ingress from {from_text} (only {allowed_text} may be open)"),
                    &unknown,
                ),
            ));
        }
    }
}

fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn security_group(
    index: &PlanIndex<'_>,
    rc: &ResourceView<'_>,
    ctx: &RuleContext<'_>,
    out: &mut Vec<Violation>,
) {
    let ingress = rc.after_known().get("ingress");
    if ingress.is_unknown() {
        // Computed when the group's rules live in separate resources: only configured inline
        // rules that are unknown leave the decision open.
        if configured(index, rc, "ingress") {
            out.push(Violation::unknown(
                RuleId::SgOpenIngress,
                &rc.address,
                hinges("the group's ingress rules", &["ingress"]),
            ));
        }
        return;
    }
    for rule in ingress.items() {
        if rule.is_unknown() {
            out.push(Violation::unknown(
                RuleId::SgOpenIngress,
                &rc.address,
                hinges("an ingress rule", &["one ingress rule"]),
            ));
            continue;
        }
        open_ingress(
            rc,
            ctx,
            Ingress {
                sources: sources(&[
                    ("cidr_blocks", rule.get("cidr_blocks")),
                    ("ipv6_cidr_blocks", rule.get("ipv6_cidr_blocks")),
                ]),
                protocol: rule.get("protocol"),
                from: rule.get("from_port"),
                to: rule.get("to_port"),
            },
            out,
        );
    }
}

fn security_group_rule(rc: &ResourceView<'_>, ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    let k = rc.after_known();
    let kind = k.get("type");
    if !kind.is_unknown() && kind.as_str() != Some("ingress") {
        return;
    }
    let mut sources = sources(&[
        ("cidr_blocks", k.get("cidr_blocks")),
        ("ipv6_cidr_blocks", k.get("ipv6_cidr_blocks")),
    ]);
    if kind.is_unknown() {
        // Ingress or egress is known only after apply: only an internet-wide (or unknown)
        // source can make it matter, and then the decision hinges on `type` too.
        if sources.world.is_empty() && sources.unknown.is_empty() {
            return;
        }
        sources.world.clear();
        sources.unknown.push("type");
    }
    open_ingress(
        rc,
        ctx,
        Ingress {
            sources,
            protocol: k.get("protocol"),
            from: k.get("from_port"),
            to: k.get("to_port"),
        },
        out,
    );
}

fn vpc_ingress_rule(rc: &ResourceView<'_>, ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    let k = rc.after_known();
    open_ingress(
        rc,
        ctx,
        Ingress {
            sources: sources(&[
                ("cidr_ipv4", k.get("cidr_ipv4")),
                ("cidr_ipv6", k.get("cidr_ipv6")),
            ]),
            protocol: k.get("ip_protocol"),
            from: k.get("from_port"),
            to: k.get("to_port"),
        },
        out,
    );
}

// --- databases -------------------------------------------------------------------------------

/// A boolean argument: unset (null) counts as false, as AWS defaults these flags.
fn flag(rc: &ResourceView<'_>, key: &str) -> Fact {
    let k = rc.after_known().get(key);
    if k.is_unknown() {
        return Fact::Unknown;
    }
    Fact::from(k.value().and_then(Value::as_bool).unwrap_or(false))
}

fn is_replica(rc: &ResourceView<'_>) -> Fact {
    let k = rc.after_known().get("replicate_source_db");
    if k.is_unknown() {
        return Fact::Unknown;
    }
    // The provider writes "" for an unset replicate_source_db.
    Fact::from(k.as_str().is_some_and(|s| !s.is_empty()))
}

fn what_db(rc: &ResourceView<'_>) -> &'static str {
    match rc.type_name.as_str() {
        "aws_rds_cluster" => "Aurora cluster",
        "aws_rds_cluster_instance" => "Aurora instance",
        _ => "database",
    }
}

/// `exempt`: whether the resource is of a kind the rule does not apply to (a replica, a
/// serverless v1 cluster), with the argument that says so.
fn storage_encrypted(rc: &ResourceView<'_>, exempt: (Fact, &str), out: &mut Vec<Violation>) {
    let encrypted = flag(rc, "storage_encrypted");
    match (exempt.0, encrypted) {
        (Fact::Yes, _) | (_, Fact::Yes) => {}
        (Fact::No, Fact::No) => out.push(Violation::new(
            RuleId::DbStorageEncrypted,
            &rc.address,
            format!(
                "{} storage is not encrypted: set storage_encrypted = true (it cannot be changed later without a replacement)",
                what_db(rc)
            ),
        )),
        (e, enc) => {
            let mut unknown = Vec::new();
            if e == Fact::Unknown {
                unknown.push(exempt.1);
            }
            if enc == Fact::Unknown {
                unknown.push("storage_encrypted");
            }
            out.push(Violation::unknown(
                RuleId::DbStorageEncrypted,
                &rc.address,
                hinges(&format!("{} storage encryption", what_db(rc)), &unknown),
            ));
        }
    }
}

fn deletion_protection(rc: &ResourceView<'_>, ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    if !ctx.production {
        return;
    }
    match flag(rc, "deletion_protection") {
        Fact::Yes => {}
        Fact::No => out.push(Violation::new(
            RuleId::DbDeletionProtection,
            &rc.address,
            format!(
                "production {} has no deletion protection: set deletion_protection = true",
                what_db(rc)
            ),
        )),
        Fact::Unknown => out.push(Violation::unknown(
            RuleId::DbDeletionProtection,
            &rc.address,
            hinges(
                &format!("deletion protection of the production {}", what_db(rc)),
                &["deletion_protection"],
            ),
        )),
    }
}

fn backup_retention(
    rc: &ResourceView<'_>,
    ctx: &RuleContext<'_>,
    exempt: Fact,
    out: &mut Vec<Violation>,
) {
    if exempt == Fact::Yes {
        return;
    }
    let min = if ctx.production {
        ctx.policy.prod_backup_retention_days
    } else {
        ctx.policy.backup_retention_days
    };
    let period = rc.after_known().get("backup_retention_period");
    let shown = if period.is_unknown() {
        None
    } else {
        match int(period.value()) {
            Some(d) if d >= i64::from(min) => return,
            Some(d) => Some(format!("{d} day{}", if d == 1 { "" } else { "s" })),
            None => Some("not set (AWS keeps 1 day)".to_string()),
        }
    };
    let needs = format!(
        "{} needs at least {min} days",
        if ctx.production {
            "production"
        } else {
            "this environment"
        }
    );
    match (shown, exempt) {
        (Some(shown), Fact::No) => out.push(Violation::new(
            RuleId::DbBackupRetention,
            &rc.address,
            format!("backup retention is {shown}; {needs}"),
        )),
        (shown, _) => {
            let mut unknown = Vec::new();
            if exempt == Fact::Unknown {
                unknown.push("replicate_source_db");
            }
            if shown.is_none() {
                unknown.push("backup_retention_period");
            }
            out.push(Violation::unknown(
                RuleId::DbBackupRetention,
                &rc.address,
                hinges(&format!("backup retention ({needs})"), &unknown),
            ));
        }
    }
}

fn publicly_accessible(rc: &ResourceView<'_>, out: &mut Vec<Violation>) {
    match flag(rc, "publicly_accessible") {
        Fact::No => {}
        Fact::Yes => out.push(Violation::new(
            RuleId::DbPubliclyAccessible,
            &rc.address,
            format!(
                "{} is publicly accessible: set publicly_accessible = false",
                what_db(rc)
            ),
        )),
        Fact::Unknown => out.push(Violation::unknown(
            RuleId::DbPubliclyAccessible,
            &rc.address,
            hinges(
                &format!("whether the {} is publicly accessible", what_db(rc)),
                &["publicly_accessible"],
            ),
        )),
    }
}

fn db_instance(rc: &ResourceView<'_>, ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    // A replica inherits encryption and backups from its source.
    let replica = is_replica(rc);
    storage_encrypted(rc, (replica, "replicate_source_db"), out);
    backup_retention(rc, ctx, replica, out);
    deletion_protection(rc, ctx, out);
    publicly_accessible(rc, out);
    if ctx.production && replica != Fact::Yes {
        let multi_az = flag(rc, "multi_az");
        match (replica, multi_az) {
            (_, Fact::Yes) => {}
            (Fact::No, Fact::No) => out.push(Violation::new(
                RuleId::DbMultiAz,
                &rc.address,
                "production database is single-AZ: set multi_az = true".to_string(),
            )),
            (r, m) => {
                let mut unknown = Vec::new();
                if r == Fact::Unknown {
                    unknown.push("replicate_source_db");
                }
                if m == Fact::Unknown {
                    unknown.push("multi_az");
                }
                out.push(Violation::unknown(
                    RuleId::DbMultiAz,
                    &rc.address,
                    hinges("whether the production database is Multi-AZ", &unknown),
                ));
            }
        }
    }
}

fn rds_cluster(
    index: &PlanIndex<'_>,
    rc: &ResourceView<'_>,
    ctx: &RuleContext<'_>,
    out: &mut Vec<Violation>,
) {
    let k = rc.after_known();
    let mode = k.get("engine_mode");
    let serverless_v1 = if mode.is_unknown() {
        Fact::Unknown
    } else {
        Fact::from(mode.as_str() == Some("serverless"))
    };
    storage_encrypted(rc, (serverless_v1, "engine_mode"), out);
    deletion_protection(rc, ctx, out);
    backup_retention(rc, ctx, Fact::No, out);
    publicly_accessible(rc, out);
    let class = k.get("db_cluster_instance_class");
    let multi_az_cluster = if class.is_unknown() {
        Fact::Unknown
    } else {
        Fact::from(class.value().is_some())
    };
    if ctx.production && serverless_v1 != Fact::Yes && multi_az_cluster != Fact::Yes {
        let (instances, maybe) = index.pointing_at_maybe(
            rc,
            "aws_rds_cluster_instance",
            "cluster_identifier",
            &["cluster_identifier", "id"],
        );
        if instances.len() < 2 {
            let counted = format!(
                "production Aurora cluster has {} instance{} in this plan; at least two (a writer and a reader in another AZ) are required",
                instances.len(),
                if instances.len() == 1 { "" } else { "s" }
            );
            let mut unknown = Vec::new();
            if serverless_v1 == Fact::Unknown {
                unknown.push("engine_mode");
            }
            if multi_az_cluster == Fact::Unknown {
                unknown.push("db_cluster_instance_class");
            }
            if maybe {
                unknown.push("an instance's cluster_identifier");
            }
            if unknown.is_empty() {
                out.push(Violation::new(RuleId::DbMultiAz, &rc.address, counted));
            } else {
                out.push(Violation::unknown(
                    RuleId::DbMultiAz,
                    &rc.address,
                    hinges(&format!("Multi-AZ ({counted})"), &unknown),
                ));
            }
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
        .filter(|k| flag(rc, k) == Fact::No)
        .collect();
    let unknown: Vec<&str> = BLOCK_SETTINGS
        .iter()
        .copied()
        .filter(|k| flag(rc, k) == Fact::Unknown)
        .collect();
    if !off.is_empty() {
        out.push(Violation::new(
            RuleId::S3PublicAccessBlock,
            &rc.address,
            format!("public access block leaves {} off", off.join(", ")),
        ));
    } else if !unknown.is_empty() {
        out.push(Violation::unknown(
            RuleId::S3PublicAccessBlock,
            &rc.address,
            hinges("the public access block", &unknown),
        ));
    }
}

fn all_blocked(rc: &ResourceView<'_>) -> Fact {
    let facts: Vec<Fact> = BLOCK_SETTINGS.iter().map(|k| flag(rc, k)).collect();
    if facts.contains(&Fact::No) {
        Fact::No
    } else if facts.contains(&Fact::Unknown) {
        Fact::Unknown
    } else {
        Fact::Yes
    }
}

fn s3_buckets(index: &PlanIndex<'_>, out: &mut Vec<Violation>) {
    const SSE: &str = "aws_s3_bucket_server_side_encryption_configuration";
    const PAB: &str = "aws_s3_bucket_public_access_block";
    let mut account_blocked = Fact::No;
    for a in index.of_type("aws_s3_account_public_access_block") {
        if Side::After.exists(&a) {
            match all_blocked(&a) {
                Fact::Yes => account_blocked = Fact::Yes,
                Fact::Unknown if account_blocked == Fact::No => account_blocked = Fact::Unknown,
                _ => {}
            }
        }
    }
    for bucket in index.of_type("aws_s3_bucket") {
        let bucket = &*bucket;
        if !Side::After.exists(bucket) {
            continue;
        }
        let removed = |t: &str| {
            index
                .pointing_at(bucket, t, "bucket", &["bucket", "id"], Side::Before)
                .iter()
                .any(|c| c.action == Action::Delete)
        };
        let changing = is_changing(bucket);
        if changing || removed(SSE) {
            let inline = bucket
                .after_known()
                .get("server_side_encryption_configuration");
            let inline_set = inline
                .value()
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            // Computed by the provider when not configured: unknown then says nothing.
            let inline_maybe = inline.is_unknown()
                && configured(index, bucket, "server_side_encryption_configuration");
            let (found, maybe) = index.pointing_at_maybe(bucket, SSE, "bucket", &["bucket", "id"]);
            if !inline_set && found.is_empty() {
                if inline_maybe || maybe {
                    let mut unknown = Vec::new();
                    if inline_maybe {
                        unknown.push("server_side_encryption_configuration");
                    }
                    if maybe {
                        unknown.push("the bucket of an encryption configuration");
                    }
                    out.push(Violation::unknown(
                        RuleId::S3Encryption,
                        &bucket.address,
                        hinges("the bucket's server-side encryption", &unknown),
                    ));
                } else {
                    out.push(Violation::new(
                        RuleId::S3Encryption,
                        &bucket.address,
                        format!(
                            "bucket has no server-side encryption configuration: add an {SSE} (SSE-KMS or AES256)"
                        ),
                    ));
                }
            }
        }
        if (changing || removed(PAB)) && account_blocked != Fact::Yes {
            let (blocks, maybe) = index.pointing_at_maybe(bucket, PAB, "bucket", &["bucket", "id"]);
            if blocks.is_empty() {
                if maybe || account_blocked == Fact::Unknown {
                    let mut unknown = Vec::new();
                    if maybe {
                        unknown.push("the bucket of a public access block");
                    }
                    if account_blocked == Fact::Unknown {
                        unknown.push("the account's public access block settings");
                    }
                    out.push(Violation::unknown(
                        RuleId::S3PublicAccessBlock,
                        &bucket.address,
                        hinges("the bucket's public access block", &unknown),
                    ));
                } else {
                    out.push(Violation::new(
                        RuleId::S3PublicAccessBlock,
                        &bucket.address,
                        format!(
                            "bucket has no public access block: add an {PAB} with all four settings true"
                        ),
                    ));
                }
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
        let (logs, maybe) = index.pointing_at_maybe(vpc, "aws_flow_log", "vpc_id", &["id"]);
        if !logs.is_empty() {
            continue;
        }
        if maybe {
            out.push(Violation::unknown(
                RuleId::VpcFlowLogs,
                &vpc.address,
                hinges("the production VPC's flow log", &["a flow log's vpc_id"]),
            ));
        } else {
            out.push(Violation::new(
                RuleId::VpcFlowLogs,
                &vpc.address,
                "production VPC has no flow log: add an aws_flow_log with vpc_id pointing at it"
                    .to_string(),
            ));
        }
    }
}

// --- prod-stateful-destroy ---------------------------------------------------------------------

fn stateful_destroy(rc: &ResourceView<'_>, ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    if rc.mode != Mode::Managed
        || !rc.destroys()
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
    out.push(Violation::new(
        RuleId::ProdStatefulDestroy,
        &rc.address,
        message,
    ));
}
