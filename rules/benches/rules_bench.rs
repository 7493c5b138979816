//! Model + rules + cost on a generated 10,000-resource plan (about 40 MB).
//!
//!     cargo bench -p slipway-rules --bench rules_bench
//!
//! The plan is generated once into the system temp directory; the measurement then runs in a
//! fresh child process so its peak memory (VmHWM) counts only reading, parsing, rules and cost.
//! Targets (issue 5): at most 1 s and peak memory at most 3x the file size, on 2 cores.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

use rules::config::PolicyConfig;
use rules::{evaluate, Context, Plan};

const RESOURCES: usize = 10_000;
const RUNS: usize = 5;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--measure") {
        match args.get(i + 1) {
            Some(path) => measure(path),
            None => eprintln!("--measure needs a path"),
        }
        return;
    }
    let path = std::env::temp_dir().join(format!("slipway-bench-plan-{RESOURCES}.json"));
    if !path.exists() {
        let t = Instant::now();
        let json = generate(RESOURCES);
        if let Err(e) = std::fs::write(&path, json) {
            eprintln!("cannot write {}: {e}", path.display());
            std::process::exit(2);
        }
        eprintln!("generated {} in {:.2?}", path.display(), t.elapsed());
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("cannot find the bench binary: {e}");
            std::process::exit(2);
        }
    };
    let status = Command::new(exe).arg("--measure").arg(&path).status();
    if !status.as_ref().is_ok_and(|s| s.success()) {
        eprintln!("measurement failed: {status:?}");
        std::process::exit(1);
    }
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn vm_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn measure(path: &str) {
    let policy = PolicyConfig::from_slipway_toml(
        r#"
[policy]
required_tags = ["Project", "Environment", "CostCenter", "Owner", "ManagedBy"]
production_envs = ["prod"]
[policy.allowed_tag_values]
ManagedBy = ["terraform"]
"#,
    )
    .unwrap_or_default();
    // Warm the embedded price book (parsed once per process, like in the service).
    let _ = rules::cost::PriceBook::embedded();
    let mut best = f64::MAX;
    let mut summary = String::new();
    let mut size = 0usize;
    for run in 0..RUNS {
        let t0 = Instant::now();
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("cannot read {path}: {e}");
                std::process::exit(2);
            }
        };
        size = bytes.len();
        let t_read = t0.elapsed();
        let t1 = Instant::now();
        let plan = match Plan::parse(&bytes) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{path}: {e}");
                std::process::exit(2);
            }
        };
        let t_parse = t1.elapsed();
        if run == 0 {
            eprintln!(
                "after parse: VmHWM {} MB, VmRSS {} MB",
                vm_hwm_kib() / 1000,
                vm_rss_kib() / 1000
            );
        }
        drop(bytes);
        let t2 = Instant::now();
        let report = evaluate(
            &plan,
            &Context {
                env: "prod",
                region: Some("us-east-1"),
                policy: &policy,
            },
        );
        let t_eval = t2.elapsed();
        let total = (t_parse + t_eval).as_secs_f64();
        best = best.min(total);
        summary = format!(
            "run {run}: read {:.0} ms, parse {:.0} ms, rules+cost {:.0} ms; {} resource changes, {} findings, cost {} -> {}, {} unpriced",
            t_read.as_secs_f64() * 1e3,
            t_parse.as_secs_f64() * 1e3,
            t_eval.as_secs_f64() * 1e3,
            plan.resource_changes.len(),
            report.findings.len(),
            report.cost.monthly_before,
            report.cost.monthly_after,
            report.cost.unpriced.len(),
        );
        eprintln!("{summary}");
    }
    let hwm = vm_hwm_kib() * 1024;
    let mb = |b: usize| b as f64 / 1e6;
    println!(
        "plan file: {:.1} MB, {RESOURCES} resource changes",
        mb(size)
    );
    println!("{summary}");
    println!(
        "parse + rules + cost: {:.0} ms (best of {RUNS}; target <= 1000 ms)",
        best * 1e3
    );
    println!(
        "peak memory (VmHWM): {:.1} MB = {:.2}x the file size (target <= 3x)",
        mb(hwm as usize),
        hwm as f64 / size.max(1) as f64
    );
    println!("reproduce: cargo bench -p slipway-rules --bench rules_bench");
}

// --- generator ---------------------------------------------------------------------------------

const TAGS: &str = r#"{"CostCenter":"engineering","Environment":"prod","ManagedBy":"terraform","Owner":"platform-team","Project":"sarc-ng"}"#;

struct Res {
    address: String,
    module: String,
    typ: &'static str,
    name: String,
    index: usize,
    actions: &'static str,
    before: Option<String>,
    after: Option<String>,
    after_unknown: String,
    sensitive: String,
}

fn policy_doc(i: usize) -> String {
    let mut s = String::from(r#"{\"Version\":\"2012-10-17\",\"Statement\":["#);
    for j in 0..6 {
        if j > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            r#"{{\"Sid\":\"S{j}\",\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\",\"s3:PutObject\",\"s3:ListBucket\"],\"Resource\":[\"arn:aws:s3:::sarc-ng-prod-bucket-{i}-{j}\",\"arn:aws:s3:::sarc-ng-prod-bucket-{i}-{j}/*\"]}}"#
        );
    }
    s.push_str("]}");
    s
}

fn object(kind: usize, i: usize, variant: usize) -> (&'static str, String, String, String) {
    // (type, values, after_unknown, sensitive)
    match kind {
        0 => {
            let mut ingress = String::new();
            for (j, port) in [443, 80, 22, 5432, 6379].iter().enumerate() {
                if j > 0 {
                    ingress.push(',');
                }
                let cidr = if *port == 22 && matches!(i % 50, 0) { "0.0.0.0/0" } else { "10.0.0.0/8" };
                let _ = write!(
                    ingress,
                    r#"{{"cidr_blocks":["{cidr}","172.16.{}.0/24"],"description":"rule {j} of group {i}","from_port":{port},"ipv6_cidr_blocks":[],"prefix_list_ids":[],"protocol":"tcp","security_groups":[],"self":false,"to_port":{port}}}"#,
                    (i + variant) % 250
                );
            }
            (
                "aws_security_group",
                format!(
                    r#"{{"arn":"arn:aws:ec2:us-east-1:333333333333:security-group/sg-{i:017x}","description":"service {i}","egress":[{{"cidr_blocks":["0.0.0.0/0"],"description":"","from_port":0,"ipv6_cidr_blocks":[],"prefix_list_ids":[],"protocol":"-1","security_groups":[],"self":false,"to_port":0}}],"id":"sg-{i:017x}","ingress":[{ingress}],"name":"svc-{i}","name_prefix":"","owner_id":"333333333333","revoke_rules_on_delete":false,"tags":{{"Name":"svc-{i}"}},"tags_all":{{"Name":"svc-{i}","CostCenter":"engineering","Environment":"prod","ManagedBy":"terraform","Owner":"platform-team","Project":"sarc-ng"}},"timeouts":null,"vpc_id":"vpc-0a1b2c3d"}}"#
                ),
                r#"{"egress":[{"cidr_blocks":[false],"ipv6_cidr_blocks":[],"prefix_list_ids":[],"security_groups":[]}],"tags":{},"tags_all":{}}"#.to_string(),
                r#"{"egress":[{"cidr_blocks":[false],"ipv6_cidr_blocks":[],"prefix_list_ids":[],"security_groups":[]}],"tags":{},"tags_all":{}}"#.to_string(),
            )
        }
        1 => (
            "aws_iam_policy",
            format!(
                r#"{{"arn":"arn:aws:iam::333333333333:policy/svc-{i}","description":"access for service {i}","id":"arn:aws:iam::333333333333:policy/svc-{i}","name":"svc-{i}","name_prefix":"","path":"/","policy":"{}","policy_id":"ANPA{i:016}","tags":null,"tags_all":{TAGS}}}"#,
                policy_doc(i + variant)
            ),
            r#"{"tags_all":{}}"#.to_string(),
            r#"{"tags_all":{}}"#.to_string(),
        ),
        2 => (
            "aws_instance",
            format!(
                r#"{{"ami":"ami-0abcdef12345{i:05}","arn":"arn:aws:ec2:us-east-1:333333333333:instance/i-{i:017x}","associate_public_ip_address":false,"availability_zone":"us-east-1a","cpu_core_count":1,"disable_api_termination":false,"ebs_optimized":false,"iam_instance_profile":"svc-{i}","id":"i-{i:017x}","instance_type":"{}","monitoring":false,"private_ip":"10.30.{}.{}","root_block_device":[{{"delete_on_termination":true,"device_name":"/dev/xvda","encrypted":true,"iops":3000,"kms_key_id":"","throughput":125,"volume_id":"vol-{i:017x}","volume_size":{},"volume_type":"gp3"}}],"subnet_id":"subnet-0a1b2c3d","tags":{{"Name":"svc-{i}"}},"tags_all":{{"Name":"svc-{i}","CostCenter":"engineering","Environment":"prod","ManagedBy":"terraform","Owner":"platform-team","Project":"sarc-ng"}},"tenancy":"default","user_data":"{:040x}","vpc_security_group_ids":["sg-{i:017x}"]}}"#,
                ["t3.micro", "t3.small", "m5.large", "c5.large"][(i + variant) % 4],
                i % 250,
                (i / 250) % 250,
                8 + variant * 4,
                i * 7919
            ),
            r#"{"root_block_device":[{}],"tags":{},"tags_all":{},"vpc_security_group_ids":[false]}"#.to_string(),
            r#"{"root_block_device":[{}],"tags":{},"tags_all":{},"vpc_security_group_ids":[false]}"#.to_string(),
        ),
        3 => (
            "aws_ecs_task_definition",
            format!(
                r#"{{"arn":"arn:aws:ecs:us-east-1:333333333333:task-definition/svc-{i}:{variant}","container_definitions":"[{{\"name\":\"app\",\"image\":\"333333333333.dkr.ecr.us-east-1.amazonaws.com/svc-{i}:1.{variant}.0\",\"cpu\":256,\"memory\":512,\"essential\":true,\"portMappings\":[{{\"containerPort\":8080,\"protocol\":\"tcp\"}}],\"environment\":[{{\"name\":\"SERVICE\",\"value\":\"svc-{i}\"}},{{\"name\":\"LOG_LEVEL\",\"value\":\"info\"}},{{\"name\":\"REGION\",\"value\":\"us-east-1\"}}],\"logConfiguration\":{{\"logDriver\":\"awslogs\",\"options\":{{\"awslogs-group\":\"/ecs/svc-{i}\",\"awslogs-region\":\"us-east-1\",\"awslogs-stream-prefix\":\"app\"}}}}}}]","cpu":"{}","family":"svc-{i}","id":"svc-{i}","memory":"{}","network_mode":"awsvpc","requires_compatibilities":["FARGATE"],"revision":{variant},"runtime_platform":[{{"cpu_architecture":"X86_64","operating_system_family":"LINUX"}}],"tags":null,"tags_all":{TAGS}}}"#,
                256 << (variant % 2),
                512 << (variant % 2)
            ),
            r#"{"requires_compatibilities":[false],"runtime_platform":[{}],"tags_all":{}}"#.to_string(),
            r#"{"requires_compatibilities":[false],"runtime_platform":[{}],"tags_all":{}}"#.to_string(),
        ),
        _ => (
            "aws_db_instance",
            format!(
                r#"{{"address":"svc-{i}.abc.us-east-1.rds.amazonaws.com","allocated_storage":{},"arn":"arn:aws:rds:us-east-1:333333333333:db:svc-{i}","backup_retention_period":{},"db_name":"app","deletion_protection":true,"engine":"postgres","engine_version":"16.3","id":"db-{i:026}","identifier":"svc-{i}","instance_class":"{}","multi_az":true,"password":"generated-secret-{i}","port":5432,"publicly_accessible":false,"storage_encrypted":true,"storage_type":"gp3","tags":null,"tags_all":{TAGS},"username":"app"}}"#,
                20 + variant * 10,
                if matches!(i % 40, 0) { 7 } else { 30 },
                ["db.t3.micro", "db.m5.large"][(i + variant) % 2]
            ),
            r#"{"tags_all":{}}"#.to_string(),
            r#"{"password":true,"tags_all":{}}"#.to_string(),
        ),
    }
}

fn generate(n: usize) -> String {
    let mut res = Vec::with_capacity(n);
    for i in 0..n {
        let kind = i % 5;
        let module = format!("module.svc_{}", i / 20);
        let (typ, before, unknown, sensitive) = object(kind, i, 0);
        let (_, after, _, _) = object(kind, i, 1);
        let (actions, before, after) = match i % 10 {
            0..=3 => (r#"["create"]"#, None, Some(after)),
            4..=6 => (r#"["update"]"#, Some(before), Some(after)),
            7 | 8 => (r#"["no-op"]"#, Some(before.clone()), Some(before)),
            _ if kind == 3 => (r#"["delete","create"]"#, Some(before), Some(after)),
            _ => (r#"["delete"]"#, Some(before), None),
        };
        res.push(Res {
            address: format!("{module}.{typ}.this[{}]", i % 20),
            module,
            typ,
            name: "this".to_string(),
            index: i % 20,
            actions,
            before,
            after,
            after_unknown: unknown,
            sensitive,
        });
    }
    let mut out = String::with_capacity(n * 4400);
    out.push_str(r#"{"format_version":"1.2","terraform_version":"1.9.8","variables":{"region":{"value":"us-east-1"}},"planned_values":{"root_module":{"child_modules":["#);
    for (k, r) in res.iter().filter(|r| r.after.is_some()).enumerate() {
        if k > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#"{{"address":"{}","resources":[{{"address":"{}","mode":"managed","type":"{}","name":"{}","index":{},"provider_name":"registry.terraform.io/hashicorp/aws","schema_version":1,"values":{},"sensitive_values":{}}}]}}"#,
            r.module,
            r.address,
            r.typ,
            r.name,
            r.index,
            r.after.as_deref().unwrap_or("null"),
            r.sensitive
        );
    }
    out.push_str(r#"]}},"resource_changes":["#);
    for (k, r) in res.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#"{{"address":"{}","module_address":"{}","mode":"managed","type":"{}","name":"{}","index":{},"provider_name":"registry.terraform.io/hashicorp/aws","change":{{"actions":{},"before":{},"after":{},"after_unknown":{},"before_sensitive":{},"after_sensitive":{}}}}}"#,
            r.address,
            r.module,
            r.typ,
            r.name,
            r.index,
            r.actions,
            r.before.as_deref().unwrap_or("null"),
            r.after.as_deref().unwrap_or("null"),
            if r.after.is_some() {
                r.after_unknown.as_str()
            } else {
                "false"
            },
            if r.before.is_some() {
                r.sensitive.as_str()
            } else {
                "false"
            },
            if r.after.is_some() {
                r.sensitive.as_str()
            } else {
                "false"
            },
        );
    }
    out.push_str(r#"],"prior_state":{"format_version":"1.0","terraform_version":"1.9.8","values":{"root_module":{"child_modules":["#);
    for (k, r) in res.iter().filter(|r| r.before.is_some()).enumerate() {
        if k > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#"{{"address":"{}","resources":[{{"address":"{}","mode":"managed","type":"{}","name":"{}","index":{},"provider_name":"registry.terraform.io/hashicorp/aws","schema_version":1,"values":{},"sensitive_values":{}}}]}}"#,
            r.module,
            r.address,
            r.typ,
            r.name,
            r.index,
            r.before.as_deref().unwrap_or("null"),
            r.sensitive
        );
    }
    out.push_str(r#"]}}},"configuration":{"provider_config":{"aws":{"name":"aws","full_name":"registry.terraform.io/hashicorp/aws","expressions":{"region":{"constant_value":"us-east-1"}}}},"root_module":{"module_calls":{"#);
    for m in 0..n / 20 {
        if m > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#""svc_{m}":{{"source":"../modules/svc","module":{{"resources":["#
        );
        for (k, typ) in [
            "aws_security_group",
            "aws_iam_policy",
            "aws_instance",
            "aws_ecs_task_definition",
            "aws_db_instance",
        ]
        .iter()
        .enumerate()
        {
            if k > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                r#"{{"address":"{typ}.this","mode":"managed","type":"{typ}","name":"this","provider_config_key":"aws","expressions":{{"tags":{{"references":["var.tags"]}}}},"schema_version":1,"count_expression":{{"constant_value":20}}}}"#
            );
        }
        out.push_str("]}}");
    }
    out.push_str(r#"}}},"timestamp":"2025-06-02T09:30:00Z","applyable":true,"complete":true,"errored":false}"#);
    out
}
