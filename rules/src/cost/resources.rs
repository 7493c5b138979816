//! How each resource type is priced.

use serde_json::Value;

use super::book::{PriceBook, Query};
use super::{Estimate, HOURS_PER_MONTH};
use crate::config::UsageEstimate;
use crate::index::{PlanIndex, Side};
use std::borrow::Cow;

use crate::plan::{ResourceChange, ResourceView};

pub(crate) const PRICED_TYPES: &[&str] = &[
    "aws_cloudwatch_log_group",
    "aws_db_instance",
    "aws_ebs_volume",
    "aws_ecs_service",
    "aws_eip",
    "aws_eks_cluster",
    "aws_instance",
    "aws_lambda_function",
    "aws_lb",
    "aws_nat_gateway",
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_route53_zone",
];

/// AWS resource types with no charge of their own (their cost, if any, shows elsewhere).
const NO_CHARGE: &[&str] = &[
    "aws_acm_certificate",
    "aws_acm_certificate_validation",
    "aws_appautoscaling_policy",
    "aws_appautoscaling_target",
    "aws_autoscaling_policy",
    "aws_cloudwatch_log_metric_filter",
    "aws_db_option_group",
    "aws_db_parameter_group",
    "aws_db_subnet_group",
    "aws_default_network_acl",
    "aws_default_route_table",
    "aws_default_security_group",
    "aws_default_subnet",
    "aws_default_vpc",
    "aws_ecs_cluster",
    "aws_ecs_cluster_capacity_providers",
    "aws_ecs_task_definition",
    "aws_egress_only_internet_gateway",
    "aws_eip_association",
    "aws_internet_gateway",
    "aws_key_pair",
    "aws_kms_alias",
    "aws_launch_template",
    "aws_lb_listener",
    "aws_lb_listener_certificate",
    "aws_lb_listener_rule",
    "aws_lb_target_group",
    "aws_lb_target_group_attachment",
    "aws_main_route_table_association",
    "aws_network_acl",
    "aws_network_acl_rule",
    "aws_rds_cluster_parameter_group",
    "aws_rds_global_cluster",
    "aws_route",
    "aws_route53_record",
    "aws_route_table",
    "aws_route_table_association",
    "aws_s3_account_public_access_block",
    "aws_secretsmanager_secret_version",
    "aws_security_group",
    "aws_security_group_rule",
    "aws_sns_topic_subscription",
    "aws_subnet",
    "aws_vpc",
    "aws_vpc_dhcp_options",
    "aws_vpc_dhcp_options_association",
    "aws_vpc_security_group_egress_rule",
    "aws_vpc_security_group_ingress_rule",
];

/// Providers whose resources live only in terraform (no cloud bill).
const LOCAL_PROVIDERS: &[&str] = &[
    "archive",
    "cloudinit",
    "external",
    "http",
    "local",
    "null",
    "random",
    "template",
    "terraform",
    "time",
    "tls",
];

pub(crate) struct Pricer<'a, 'p> {
    pub(crate) index: &'a PlanIndex<'p>,
    pub(crate) book: &'a PriceBook,
    pub(crate) region: Option<&'a str>,
    pub(crate) usage: Option<&'a UsageEstimate>,
}

/// One side of a change, with its sensitivity and unknown markers.
struct Obj<'a> {
    value: &'a Value,
    sensitive: &'a Value,
    unknown: &'a Value,
}

impl<'a> Obj<'a> {
    fn of(rc: &'a ResourceView<'_>, side: Side) -> Obj<'a> {
        static NULL: Value = Value::Null;
        match side {
            Side::Before => Obj {
                value: &rc.change.before,
                sensitive: &rc.change.before_sensitive,
                unknown: &NULL,
            },
            Side::After => Obj {
                value: &rc.change.after,
                sensitive: &rc.change.after_sensitive,
                unknown: &rc.change.after_unknown,
            },
        }
    }

    fn marked(marker: &Value, key: &str) -> bool {
        marker == &Value::Bool(true) || marker.get(key).is_some_and(crate_marker_any)
    }

    /// The value of a top-level argument: Ok(None) when unset, Err when not knowable.
    fn get(&self, key: &str) -> Result<Option<&'a Value>, String> {
        if Self::marked(self.sensitive, key) {
            return Err(format!("`{key}` is sensitive"));
        }
        if Self::marked(self.unknown, key) {
            return Err(format!("`{key}` is known only after apply"));
        }
        Ok(self.value.get(key).filter(|v| !v.is_null()))
    }

    fn str(&self, key: &str) -> Result<Option<&'a str>, String> {
        Ok(self.get(key)?.and_then(Value::as_str))
    }

    fn num(&self, key: &str) -> Result<Option<f64>, String> {
        Ok(self.get(key)?.and_then(as_number))
    }

    fn bool(&self, key: &str) -> Result<Option<bool>, String> {
        Ok(self.get(key)?.and_then(Value::as_bool))
    }

    fn require_str(&self, key: &str) -> Result<&'a str, String> {
        self.str(key)?.ok_or_else(|| format!("`{key}` is not set"))
    }

    /// The first block of a nested block list (`root_block_device[0]`), with its markers.
    fn block(&self, key: &str) -> Option<Obj<'a>> {
        static NULL: Value = Value::Null;
        let first = |v: &'a Value| -> &'a Value {
            match v.get(key) {
                Some(Value::Array(a)) => a.first().unwrap_or(&NULL),
                Some(v @ Value::Bool(true)) => v,
                _ => &NULL,
            }
        };
        let value = first(self.value);
        if value.is_null() {
            return None;
        }
        Some(Obj {
            value,
            sensitive: if self.sensitive == &Value::Bool(true) {
                self.sensitive
            } else {
                first(self.sensitive)
            },
            unknown: if self.unknown == &Value::Bool(true) {
                self.unknown
            } else {
                first(self.unknown)
            },
        })
    }
}

fn crate_marker_any(m: &Value) -> bool {
    match m {
        Value::Bool(b) => *b,
        Value::Array(a) => a.iter().any(crate_marker_any),
        Value::Object(o) => o.values().any(crate_marker_any),
        _ => false,
    }
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A unit price: `$0.045`, `$0.50`, `$0.0000166667`, `$73.00`.
fn money(x: f64) -> String {
    if x >= 1.0 || x == 0.0 {
        return format!("${x:.2}");
    }
    let s = format!("{x:.10}");
    let s = s.trim_end_matches('0');
    let decimals = s.split('.').nth(1).map_or(0, str::len);
    if decimals < 2 {
        format!("${x:.2}")
    } else {
        format!("${s}")
    }
}

impl<'a, 'p> Pricer<'a, 'p> {
    /// The estimate of a resource decided by its provider and type alone (no charge, not
    /// priced), without looking at its values.
    pub(crate) fn by_type(rc: &ResourceChange) -> Option<Estimate> {
        let provider = rc
            .provider_name
            .rsplit('/')
            .next()
            .unwrap_or(&rc.provider_name);
        let is_aws = provider == "aws" || (provider.is_empty() && rc.type_name.starts_with("aws_"));
        if !is_aws {
            let local = rc.type_name.split('_').next().unwrap_or_default();
            if LOCAL_PROVIDERS.contains(&provider) || LOCAL_PROVIDERS.contains(&local) {
                return Some(Estimate::Free);
            }
            return Some(Estimate::Unpriced(format!(
                "resources of provider `{}` are not priced",
                if provider.is_empty() { local } else { provider }
            )));
        }
        if NO_CHARGE.contains(&rc.type_name.as_str())
            || rc.type_name.starts_with("aws_iam_")
            || rc.type_name.starts_with("aws_s3_bucket_")
        {
            return Some(Estimate::Free);
        }
        if !PRICED_TYPES.contains(&rc.type_name.as_str())
            && !matches!(rc.type_name.as_str(), "aws_s3_bucket" | "aws_flow_log")
        {
            return Some(Estimate::Unpriced(format!(
                "`{}` is not in Slipway's price list",
                rc.type_name
            )));
        }
        None
    }

    /// The estimate of one side of a resource.
    pub(crate) fn estimate(&self, rc: &ResourceView<'_>, side: Side) -> Estimate {
        if let Some(e) = Self::by_type(rc) {
            return e;
        }
        match self.price_type(rc, side) {
            Ok(e) => e,
            Err(reason) => Estimate::Unpriced(reason),
        }
    }

    fn price_type(&self, rc: &ResourceView<'_>, side: Side) -> Result<Estimate, String> {
        let o = Obj::of(rc, side);
        match rc.type_name.as_str() {
            "aws_instance" => self.instance(&o),
            "aws_ebs_volume" => self.ebs_volume(&o),
            "aws_eip" => self.eip(),
            "aws_nat_gateway" => self.nat_gateway(),
            "aws_lb" => self.load_balancer(&o),
            "aws_route53_zone" => self.route53_zone(),
            "aws_cloudwatch_log_group" => self.log_group(),
            "aws_eks_cluster" => self.eks_cluster(),
            "aws_lambda_function" => self.lambda(&o),
            "aws_ecs_service" => self.ecs_service(rc, side, &o),
            "aws_db_instance" => self.db_instance(&o),
            "aws_rds_cluster" => self.rds_cluster(&o),
            "aws_rds_cluster_instance" => self.rds_cluster_instance(&o),
            "aws_s3_bucket" => Ok(Estimate::Usage(
                "storage, requests and transfer are billed by usage".to_string(),
            )),
            "aws_flow_log" => Ok(Estimate::Usage(
                "billed as log data delivered to its destination".to_string(),
            )),
            other => Err(format!("`{other}` is not in Slipway's price list")),
        }
    }

    fn region(&self) -> Result<&str, String> {
        let region = self.region.ok_or_else(|| {
            "region unknown: the provider configuration has no constant `region`; pass --region, \
             set `region` in the environment's table of slipway.toml, or set AWS_REGION"
                .to_string()
        })?;
        if !self.book.regions.iter().any(|r| r == region) {
            return Err(format!(
                "the price book has no prices for {region} (it covers {})",
                self.book.regions.join(", ")
            ));
        }
        Ok(region)
    }

    fn price(&self, offer: &str, family: &str, attrs: &[(&str, &str)]) -> Result<f64, String> {
        let region = if offer == "AmazonRoute53" {
            None
        } else {
            Some(self.region()?)
        };
        self.book
            .lookup(&Query {
                offer,
                family,
                region,
                attrs,
            })
            .map(|p| p.usd)
            .ok_or_else(|| {
                let what: Vec<String> = attrs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!(
                    "no {offer} price for {family} ({}) in {}",
                    what.join(", "),
                    region.unwrap_or("any region")
                )
            })
    }

    fn instance(&self, o: &Obj<'_>) -> Result<Estimate, String> {
        let it = o.require_str("instance_type")?;
        match o.str("tenancy") {
            Ok(Some("dedicated")) | Ok(Some("host")) => {
                return Err("dedicated tenancy is not in the price book".to_string())
            }
            _ => {}
        }
        let hourly = self.price(
            "AmazonEC2",
            "Compute Instance",
            &[
                ("instanceType", it),
                ("operatingSystem", "Linux"),
                ("tenancy", "Shared"),
            ],
        )?;
        let mut monthly = hourly * HOURS_PER_MONTH;
        let mut detail = format!("{it} Linux on demand");
        let mut note = None;
        match o.block("root_block_device") {
            Some(root) if root.unknown != &Value::Bool(true) => {
                let size = root.num("volume_size").ok().flatten();
                let vt = root.str("volume_type").ok().flatten().unwrap_or("gp3");
                match size {
                    Some(size) => {
                        monthly += self.ebs_storage(vt, size, None, None)?;
                        detail.push_str(&format!(", {size} GB {vt} root volume"));
                    }
                    None => note = Some("root volume size known after apply: not included".into()),
                }
            }
            _ => note = Some("root volume size from the AMI: not included".to_string()),
        }
        Ok(Estimate::Priced {
            monthly,
            detail,
            note,
        })
    }

    fn ebs_storage(
        &self,
        vt: &str,
        size: f64,
        iops: Option<f64>,
        throughput: Option<f64>,
    ) -> Result<f64, String> {
        let mut monthly = size * self.price("AmazonEC2", "Storage", &[("volumeApiName", vt)])?;
        let extra_iops = match (vt, iops) {
            ("io1" | "io2", Some(i)) => i,
            ("gp3", Some(i)) => (i - 3000.0).max(0.0),
            _ => 0.0,
        };
        if extra_iops > 0.0 {
            monthly += extra_iops
                * self.price(
                    "AmazonEC2",
                    "System Operation",
                    &[("group", "EBS IOPS"), ("volumeApiName", vt)],
                )?;
        }
        if let ("gp3", Some(t)) = (vt, throughput) {
            let extra = (t - 125.0).max(0.0);
            if extra > 0.0 {
                monthly += extra
                    * self.price(
                        "AmazonEC2",
                        "Provisioned Throughput",
                        &[("volumeApiName", "gp3")],
                    )?;
            }
        }
        Ok(monthly)
    }

    fn ebs_volume(&self, o: &Obj<'_>) -> Result<Estimate, String> {
        let size = o
            .num("size")?
            .ok_or_else(|| "`size` is not set (volume from a snapshot)".to_string())?;
        let (vt, note) = match o.str("type") {
            Ok(Some(t)) => (t, None),
            Ok(None) | Err(_) => (
                "gp2",
                Some("`type` not set: AWS's default gp2 assumed".to_string()),
            ),
        };
        let iops = o.num("iops").ok().flatten();
        let throughput = o.num("throughput").ok().flatten();
        let monthly = self.ebs_storage(vt, size, iops, throughput)?;
        let mut detail = format!("{size} GB {vt}");
        if let Some(i) = iops.filter(|_| matches!(vt, "io1" | "io2" | "gp3")) {
            detail.push_str(&format!(", {i} IOPS"));
        }
        Ok(Estimate::Priced {
            monthly,
            detail,
            note,
        })
    }

    fn eip(&self) -> Result<Estimate, String> {
        let hourly = self.price(
            "AmazonVPC",
            "VPC Public IPv4 Address",
            &[("usagetype", "PublicIPv4:InUseAddress")],
        )?;
        Ok(Estimate::Priced {
            monthly: hourly * HOURS_PER_MONTH,
            detail: "public IPv4 address".to_string(),
            note: None,
        })
    }

    fn nat_gateway(&self) -> Result<Estimate, String> {
        let hourly = self.price(
            "AmazonEC2",
            "NAT Gateway",
            &[("usagetype", "NatGateway-Hours")],
        )?;
        let per_gb = self.price(
            "AmazonEC2",
            "NAT Gateway",
            &[("usagetype", "NatGateway-Bytes")],
        )?;
        let mut monthly = hourly * HOURS_PER_MONTH;
        let mut detail = "NAT gateway hours".to_string();
        let note = match self.usage.and_then(|u| u.monthly_processed_gb) {
            Some(gb) => {
                monthly += gb * per_gb;
                detail.push_str(&format!(" + {gb} GB processed"));
                None
            }
            None => Some(format!("plus {} per GB processed", money(per_gb))),
        };
        Ok(Estimate::Priced {
            monthly,
            detail,
            note,
        })
    }

    fn load_balancer(&self, o: &Obj<'_>) -> Result<Estimate, String> {
        let kind = o.str("load_balancer_type")?.unwrap_or("application");
        let family = match kind {
            "application" => "Load Balancer-Application",
            "network" => "Load Balancer-Network",
            other => {
                return Err(format!(
                    "`{other}` load balancers are not in the price book"
                ))
            }
        };
        let hourly = self.price("AWSELB", family, &[("usagetype", "LoadBalancerUsage")])?;
        let per_unit = self.price("AWSELB", family, &[("usagetype", "LCUUsage")])?;
        let unit = if kind == "network" { "NLCU" } else { "LCU" };
        let mut monthly = hourly * HOURS_PER_MONTH;
        let mut detail = format!("{kind} load balancer hours");
        let note = match self.usage.and_then(|u| u.capacity_units_per_hour) {
            Some(units) => {
                monthly += units * per_unit * HOURS_PER_MONTH;
                detail.push_str(&format!(" + {units} {unit}/hour"));
                None
            }
            None => Some(format!("plus {} per {unit}-hour of usage", money(per_unit))),
        };
        Ok(Estimate::Priced {
            monthly,
            detail,
            note,
        })
    }

    fn route53_zone(&self) -> Result<Estimate, String> {
        let monthly = self.price("AmazonRoute53", "DNS Zone", &[("usagetype", "HostedZone")])?;
        Ok(Estimate::Priced {
            monthly,
            detail: "hosted zone".to_string(),
            note: Some("plus DNS queries".to_string()),
        })
    }

    fn log_group(&self) -> Result<Estimate, String> {
        let ingest = self.price(
            "AmazonCloudWatch",
            "Data Payload",
            &[("usagetype", "DataProcessing-Bytes")],
        )?;
        let store = self.price(
            "AmazonCloudWatch",
            "Storage Snapshot",
            &[("usagetype", "TimedStorage-ByteHrs")],
        )?;
        let usage = self
            .usage
            .filter(|u| u.monthly_ingested_gb.is_some() || u.storage_gb.is_some());
        match usage {
            Some(u) => {
                let gb_in = u.monthly_ingested_gb.unwrap_or(0.0);
                let gb_stored = u.storage_gb.unwrap_or(0.0);
                Ok(Estimate::Priced {
                    monthly: gb_in * ingest + gb_stored * store,
                    detail: format!(
                        "{gb_in} GB ingested, {gb_stored} GB stored (configured usage)"
                    ),
                    note: None,
                })
            }
            None => Ok(Estimate::Usage(format!(
                "{} per GB ingested, {} per GB-month stored",
                money(ingest),
                money(store)
            ))),
        }
    }

    fn eks_cluster(&self) -> Result<Estimate, String> {
        let hourly = self.price(
            "AmazonEKS",
            "Compute",
            &[("usagetype", "AmazonEKS-Hours:perCluster")],
        )?;
        Ok(Estimate::Priced {
            monthly: hourly * HOURS_PER_MONTH,
            detail: "EKS control plane (standard support)".to_string(),
            note: Some("worker nodes are priced separately".to_string()),
        })
    }

    fn lambda(&self, o: &Obj<'_>) -> Result<Estimate, String> {
        let arm = o
            .get("architectures")
            .ok()
            .flatten()
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| x.as_str() == Some("arm64")));
        let (req_group, dur_group) = if arm {
            ("AWS-Lambda-Requests-ARM", "AWS-Lambda-Duration-ARM")
        } else {
            ("AWS-Lambda-Requests", "AWS-Lambda-Duration")
        };
        let per_request = self.price("AWSLambda", "Serverless", &[("group", req_group)])?;
        let per_gb_s = self.price("AWSLambda", "Serverless", &[("group", dur_group)])?;
        let memory_mb = o.num("memory_size").ok().flatten().unwrap_or(128.0);
        let usage = self
            .usage
            .and_then(|u| Some((u.monthly_requests?, u.average_duration_ms?)));
        match usage {
            Some((requests, ms)) => {
                let gb_s = requests * ms / 1000.0 * memory_mb / 1024.0;
                Ok(Estimate::Priced {
                    monthly: requests * per_request + gb_s * per_gb_s,
                    detail: format!(
                        "{requests} requests × {ms} ms at {memory_mb} MB (configured usage)"
                    ),
                    note: Some("free tier not deducted".to_string()),
                })
            }
            None => Ok(Estimate::Usage(format!(
                "{} per million requests + {} per GB-second ({memory_mb} MB{})",
                money(per_request * 1e6),
                money(per_gb_s),
                if arm { ", arm64" } else { "" }
            ))),
        }
    }

    fn ecs_service(
        &self,
        rc: &ResourceChange,
        side: Side,
        o: &Obj<'_>,
    ) -> Result<Estimate, String> {
        let launch_type = o.str("launch_type")?;
        let strategy: Vec<String> = o
            .get("capacity_provider_strategy")?
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.get("capacity_provider").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let fargate = match launch_type {
            Some("FARGATE") => true,
            Some(_) => false,
            None if strategy.is_empty() => return Err(
                "no launch type or capacity provider strategy: it comes from the cluster's default"
                    .to_string(),
            ),
            None if strategy.iter().all(|s| s == "FARGATE") => true,
            None if strategy.iter().any(|s| s == "FARGATE_SPOT") => {
                return Err("Fargate Spot prices vary and are not in the price book".to_string())
            }
            None => false,
        };
        if !fargate {
            // On EC2 capacity the service costs nothing itself: the instances carry the cost.
            return Ok(Estimate::Free);
        }
        let desired = o.num("desired_count")?.unwrap_or(0.0);
        let task = self.task_definition(rc, side, o)?;
        let task_obj = Obj::of(&task, side);
        let cpu_units = task_obj
            .num("cpu")?
            .ok_or_else(|| format!("task definition {} has no task-level `cpu`", task.address))?;
        let memory_mib = task_obj.num("memory")?.ok_or_else(|| {
            format!(
                "task definition {} has no task-level `memory`",
                task.address
            )
        })?;
        let arm = task_obj
            .block("runtime_platform")
            .and_then(|p| p.str("cpu_architecture").ok().flatten())
            .is_some_and(|a| a.eq_ignore_ascii_case("ARM64"));
        let (cpu_ut, mem_ut) = if arm {
            ("Fargate-ARM-vCPU-Hours:perCPU", "Fargate-ARM-GB-Hours")
        } else {
            ("Fargate-vCPU-Hours:perCPU", "Fargate-GB-Hours")
        };
        let per_vcpu = self.price("AmazonECS", "Compute", &[("usagetype", cpu_ut)])?;
        let per_gb = self.price("AmazonECS", "Compute", &[("usagetype", mem_ut)])?;
        let vcpu = cpu_units / 1024.0;
        let gb = memory_mib / 1024.0;
        let monthly = desired * (vcpu * per_vcpu + gb * per_gb) * HOURS_PER_MONTH;
        Ok(Estimate::Priced {
            monthly,
            detail: format!(
                "Fargate{}: {desired} task(s) × {vcpu} vCPU, {gb} GB (task definition {})",
                if arm { " arm64" } else { "" },
                task.address
            ),
            note: Some("at desired_count; autoscaling may change it".to_string()),
        })
    }

    /// The task definition an ECS service runs on one side of the change: by configuration
    /// reference, else by the family named in `task_definition` (`arn:...:task-definition/app:3`).
    fn task_definition(
        &self,
        rc: &ResourceChange,
        side: Side,
        o: &Obj<'_>,
    ) -> Result<Cow<'a, ResourceView<'p>>, String> {
        let index = self.index;
        let by_ref = index
            .referenced(rc, "task_definition", "aws_ecs_task_definition")
            .into_iter()
            .find(|t| side.exists(t.rc));
        if let Some(t) = by_ref {
            return Ok(t);
        }
        let named = o.str("task_definition").ok().flatten().ok_or_else(|| {
            "its task definition is known only after apply and not found in the plan".to_string()
        })?;
        let family = named
            .rsplit('/')
            .next()
            .unwrap_or(named)
            .split(':')
            .next()
            .unwrap_or(named);
        index
            .of_type("aws_ecs_task_definition")
            .into_iter()
            .find(|t| {
                side.exists(t.rc)
                    && side.value(t).get("family").and_then(Value::as_str) == Some(family)
            })
            .ok_or_else(|| format!("task definition `{family}` is not in this plan"))
    }

    fn rds_engine(engine: &str) -> Result<&'static str, String> {
        Ok(match engine {
            "mysql" => "MySQL",
            "mariadb" => "MariaDB",
            "postgres" => "PostgreSQL",
            "aurora" | "aurora-mysql" => "Aurora MySQL",
            "aurora-postgresql" => "Aurora PostgreSQL",
            other => return Err(format!("engine `{other}` is not in the price book")),
        })
    }

    fn db_instance(&self, o: &Obj<'_>) -> Result<Estimate, String> {
        let engine = match o.str("engine")? {
            Some(e) => e,
            None if o
                .str("replicate_source_db")
                .ok()
                .flatten()
                .is_some_and(|s| !s.is_empty()) =>
            {
                return Err("a read replica's engine comes from its source database".to_string())
            }
            None => return Err("`engine` is not set".to_string()),
        };
        let engine_name = Self::rds_engine(engine)?;
        let class = o.require_str("instance_class")?;
        let multi_az = o.bool("multi_az")?.unwrap_or(false);
        let deployment = if multi_az { "Multi-AZ" } else { "Single-AZ" };
        let hourly = self.price(
            "AmazonRDS",
            "Database Instance",
            &[
                ("instanceType", class),
                ("databaseEngine", engine_name),
                ("deploymentOption", deployment),
            ],
        )?;
        let mut monthly = hourly * HOURS_PER_MONTH;
        let mut note = None;
        let (storage_type, assumed) = match o.str("storage_type") {
            Ok(Some(t)) => (t, false),
            _ => ("gp2", true),
        };
        let volume_type = match storage_type {
            "gp2" => "General Purpose",
            "gp3" => "General Purpose-GP3",
            "io1" => "Provisioned IOPS",
            "io2" => "Provisioned IOPS-IO2",
            "standard" => "Magnetic",
            other => return Err(format!("storage type `{other}` is not in the price book")),
        };
        let size = o.num("allocated_storage")?;
        let mut detail = format!("{class} {engine_name} {deployment}");
        match size {
            Some(gb) => {
                let per_gb = self.price(
                    "AmazonRDS",
                    "Database Storage",
                    &[
                        ("volumeType", volume_type),
                        ("deploymentOption", deployment),
                    ],
                )?;
                monthly += gb * per_gb;
                detail.push_str(&format!(", {gb} GB {storage_type}"));
                if assumed {
                    note = Some("`storage_type` not set: AWS's default gp2 assumed".to_string());
                }
                if matches!(storage_type, "io1" | "io2") {
                    if let Some(iops) = o.num("iops")? {
                        let usage = if multi_az {
                            "RDS:Multi-AZ-PIOPS"
                        } else {
                            "RDS:PIOPS"
                        };
                        monthly += iops
                            * self.price(
                                "AmazonRDS",
                                "Provisioned IOPS",
                                &[("usagetype", usage)],
                            )?;
                        detail.push_str(&format!(", {iops} IOPS"));
                    }
                }
            }
            None => note = Some("storage size not set: not included".to_string()),
        }
        Ok(Estimate::Priced {
            monthly,
            detail,
            note,
        })
    }

    fn rds_cluster(&self, o: &Obj<'_>) -> Result<Estimate, String> {
        let engine = o.str("engine")?.unwrap_or("aurora");
        if o.str("db_cluster_instance_class").ok().flatten().is_some() {
            return Err("Multi-AZ DB clusters are not in the price book".to_string());
        }
        if o.str("engine_mode").ok().flatten() == Some("serverless") {
            return Err("Aurora Serverless v1 is billed per ACU-hour by usage".to_string());
        }
        if o.str("storage_type").ok().flatten() == Some("aurora-iopt1") {
            return Err("Aurora I/O-Optimized is not in the price book".to_string());
        }
        let engine_name = Self::rds_engine(engine)?;
        if !engine_name.starts_with("Aurora") {
            return Err(format!(
                "engine `{engine}` clusters are not in the price book"
            ));
        }
        let per_gb = self.price(
            "AmazonRDS",
            "Database Storage",
            &[("volumeType", "General Purpose-Aurora")],
        )?;
        let per_io = self.price(
            "AmazonRDS",
            "System Operation",
            &[("group", "Aurora I/O Operation")],
        )?;
        let usage = self
            .usage
            .filter(|u| u.storage_gb.is_some() || u.monthly_io_millions.is_some());
        match usage {
            Some(u) => {
                let gb = u.storage_gb.unwrap_or(0.0);
                let io = u.monthly_io_millions.unwrap_or(0.0);
                Ok(Estimate::Priced {
                    monthly: gb * per_gb + io * 1e6 * per_io,
                    detail: format!(
                        "{engine_name} storage {gb} GB, {io} million I/O (configured usage)"
                    ),
                    note: Some("instances are priced separately".to_string()),
                })
            }
            None => Ok(Estimate::Usage(format!(
                "{engine_name} storage {} per GB-month + {} per million I/O requests; instances priced separately",
                money(per_gb),
                money(per_io * 1e6)
            ))),
        }
    }

    fn rds_cluster_instance(&self, o: &Obj<'_>) -> Result<Estimate, String> {
        let class = o.require_str("instance_class")?;
        let engine = o.str("engine")?.unwrap_or("aurora");
        let engine_name = Self::rds_engine(engine)?;
        if class == "db.serverless" {
            return Ok(Estimate::Usage(
                "Aurora Serverless v2: billed per ACU-hour by usage".to_string(),
            ));
        }
        let hourly = self.price(
            "AmazonRDS",
            "Database Instance",
            &[
                ("instanceType", class),
                ("databaseEngine", engine_name),
                ("deploymentOption", "Single-AZ"),
            ],
        )?;
        Ok(Estimate::Priced {
            monthly: hourly * HOURS_PER_MONTH,
            detail: format!("{class} {engine_name}"),
            note: None,
        })
    }
}
