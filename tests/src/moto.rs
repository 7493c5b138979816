//! moto, the AWS emulator, on a free loopback port for one test: STS (`AssumeRole` into any
//! account, the identity visible in `GetCallerIdentity`), S3 and DynamoDB, with resources kept
//! per account as AWS does (DynamoDB tables exist in one account; S3 bucket names are global,
//! and without IAM authentication any account may read any bucket). Killed when dropped, and
//! when the test process ends.
//!
//! Setting up and checking AWS state goes through boto3 (which moto ships with) rather than
//! through Slipway's own AWS code, so that a test never grades Slipway with Slipway.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::workspace_root;

/// The credentials Slipway's own identity uses against moto (any key works until IAM
/// authentication is switched on).
pub const BASE_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const BASE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// A running moto server.
pub struct Moto {
    child: crate::guard::Guarded,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

fn venv(bin: &str) -> PathBuf {
    let p = workspace_root().join(".tools/venv/bin").join(bin);
    assert!(
        p.is_file(),
        "{} is missing: run `scripts/tools.sh moto` (make test does)",
        p.display()
    );
    p
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Moto {
    /// Starts moto and waits until it answers.
    pub fn start() -> Moto {
        let dir = tempfile::tempdir().expect("temporary directory");
        let log = dir.path().join("moto.log");
        let port = free_port();
        let out = std::fs::File::create(&log).expect("moto log");
        let err = out.try_clone().expect("moto log");
        let mut cmd = Command::new(venv("moto_server"));
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        // Never outlives the test process, even from a shared world that is never dropped.
        let child = crate::guard::Guarded::spawn(&cmd, Stdio::from(out), Stdio::from(err));
        let mut moto = Moto {
            child,
            port,
            log,
            _dir: dir,
        };
        moto.wait_ready();
        moto
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.child.exited() {
                panic!("moto_server exited:\n{}", self.log_text());
            }
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let req = format!(
                    "GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
                    self.port
                );
                let mut answer = String::new();
                if s.write_all(req.as_bytes()).is_ok()
                    && s.read_to_string(&mut answer).is_ok()
                    && answer.starts_with("HTTP/1")
                {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto_server did not answer in time:\n{}", self.log_text());
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// moto's own log, for failure messages.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Runs a Python script with boto3 against this moto and returns its standard output.
    /// The script sees `EP` (the endpoint), `client(service, creds=None)` (Slipway's base
    /// identity, or the given `Credentials` dict of an assumed role), `assume(role_arn)` and
    /// `creds(key_id, secret, token)`.
    pub fn boto3(&self, script: &str) -> String {
        let prelude = format!(
            r#"
import boto3, json, sys
EP = "{ep}"
def creds(key_id, secret, token=None):
    return {{"AccessKeyId": key_id, "SecretAccessKey": secret, "SessionToken": token}}
def client(service, creds=None):
    c = creds or {{"AccessKeyId": "{kid}", "SecretAccessKey": "{secret}", "SessionToken": None}}
    return boto3.client(service, endpoint_url=EP, region_name="us-east-1",
        aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c.get("SessionToken"))
def assume(arn):
    return client("sts").assume_role(RoleArn=arn, RoleSessionName="slipway-test")["Credentials"]
"#,
            ep = self.endpoint(),
            kid = BASE_KEY_ID,
            secret = BASE_SECRET,
        );
        let out = Command::new(venv("python"))
            .arg("-c")
            .arg(format!("{prelude}\n{script}"))
            .env_remove("AWS_PROFILE")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "boto3 script failed:\n{script}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Creates an S3 bucket (and a DynamoDB lock table named `<bucket>-lock`) in the account of
    /// `role_arn`, with credentials assumed into that role.
    pub fn create_state_bucket(&self, role_arn: &str, bucket: &str) {
        self.boto3(&format!(
            r#"
c = assume("{role_arn}")
client("s3", c).create_bucket(Bucket="{bucket}")
client("dynamodb", c).create_table(TableName="{bucket}-lock",
    KeySchema=[{{"AttributeName": "LockID", "KeyType": "HASH"}}],
    AttributeDefinitions=[{{"AttributeName": "LockID", "AttributeType": "S"}}],
    BillingMode="PAY_PER_REQUEST")
"#
        ));
    }

    /// The object's bytes when the account of `role_arn` can read it; otherwise the error code
    /// S3 gave that account (`NoSuchBucket`, `NoSuchKey`).
    pub fn read_object_as(
        &self,
        role_arn: &str,
        bucket: &str,
        key: &str,
    ) -> Result<String, String> {
        let out = self.boto3(&format!(
            r#"
c = assume("{role_arn}")
try:
    body = client("s3", c).get_object(Bucket="{bucket}", Key="{key}")["Body"].read().decode()
    print(json.dumps({{"ok": body}}))
except Exception as e:
    print(json.dumps({{"err": getattr(e, "response", {{}}).get("Error", {{}}).get("Code", str(e))}}))
"#
        ));
        let v: serde_json::Value = serde_json::from_str(out.trim()).expect("script output");
        match (v.get("ok"), v.get("err")) {
            (Some(ok), _) => Ok(ok.as_str().unwrap_or_default().to_string()),
            (_, Some(err)) => Err(err.as_str().unwrap_or_default().to_string()),
            _ => Err(out),
        }
    }

    /// The `LockID`s in a DynamoDB table as the account of `role_arn` sees it; otherwise the
    /// error code DynamoDB gave that account (`ResourceNotFoundException`: no such table there).
    /// Unlike S3 bucket names, which are global, a table exists in one account only: terraform's
    /// state digest in a lock table is proof of which account it wrote as.
    pub fn lock_ids_as(&self, role_arn: &str, table: &str) -> Result<Vec<String>, String> {
        let out = self.boto3(&format!(
            r#"
c = assume("{role_arn}")
try:
    items = client("dynamodb", c).scan(TableName="{table}")["Items"]
    print(json.dumps({{"ok": sorted(i["LockID"]["S"] for i in items)}}))
except Exception as e:
    print(json.dumps({{"err": getattr(e, "response", {{}}).get("Error", {{}}).get("Code", str(e))}}))
"#
        ));
        let v: serde_json::Value = serde_json::from_str(out.trim()).expect("script output");
        match (v.get("ok"), v.get("err")) {
            (Some(serde_json::Value::Array(ids)), _) => Ok(ids
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect()),
            (_, Some(err)) => Err(err.as_str().unwrap_or_default().to_string()),
            _ => Err(out),
        }
    }

    /// The ARN `GetCallerIdentity` reports for these credentials.
    pub fn caller_arn(&self, key_id: &str, secret: &str, token: Option<&str>) -> String {
        let token = match token {
            Some(t) => format!("\"{t}\""),
            None => "None".into(),
        };
        self.boto3(&format!(
            r#"print(client("sts", creds("{key_id}", "{secret}", {token})).get_caller_identity()["Arn"])"#
        ))
        .trim()
        .to_string()
    }

    /// Switches on IAM authentication and authorisation (every later request must be signed
    /// by a known key and allowed by its policies). Returns the key of a user in the default
    /// account allowed nothing but `sts:GetCallerIdentity` and S3 reads: an identity whose
    /// `AssumeRole` calls are refused with AccessDenied.
    pub fn enable_iam_with_powerless_user(&self) -> (String, String) {
        let out = self.boto3(
            r#"
iam = client("iam")
iam.create_user(UserName="slipway")
iam.put_user_policy(UserName="slipway", PolicyName="read-only", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["sts:GetCallerIdentity", "s3:GetObject"], "Resource": "*"}]}))
k = iam.create_access_key(UserName="slipway")["AccessKey"]
print(json.dumps([k["AccessKeyId"], k["SecretAccessKey"]]))
"#,
        );
        let keys: (String, String) = serde_json::from_str(out.trim()).expect("access key");
        // From now on every request is authenticated (moto counts requests without auth first).
        self.boto3(&format!(
            r#"
import urllib.request
urllib.request.urlopen(urllib.request.Request("{}/moto-api/reset-auth", data=b"0", method="POST", headers={{"Content-Type": "text/plain"}})).read()
"#,
            self.endpoint()
        ));
        keys
    }
}

/// The two-account tree of the role tests: dev (account 111111111111) and prod
/// (333333333333), each with a `network` unit, state in `slipway-state-<env>` of the
/// environment's own account, served by moto at `endpoint`. Each test adds its own `app` unit
/// and module.
pub fn two_account_tree(repo: &crate::TempRepo, endpoint: &str) {
    let ep = endpoint;
    repo.write(
        "slipway.toml",
        r#"live_dir = "live"
promotion = ["dev", "prod"]

[environments.dev]
path = "live/dev"
account_id = "111111111111"
plan_role = "arn:aws:iam::111111111111:role/slipway-plan"
apply_role = "arn:aws:iam::111111111111:role/slipway-apply"

[environments.prod]
path = "live/prod"
account_id = "333333333333"
plan_role = "arn:aws:iam::333333333333:role/slipway-plan"
apply_role = "arn:aws:iam::333333333333:role/slipway-apply"
"#,
    );
    repo.write(
        "live/terragrunt.hcl",
        &format!(
            r#"locals {{
  env = read_terragrunt_config(find_in_parent_folders("env.hcl"))
}}

remote_state {{
  backend = "s3"
  generate = {{
    path      = "backend.tf"
    if_exists = "overwrite_terragrunt"
  }}
  config = {{
    bucket                      = "slipway-state-${{local.env.locals.environment}}"
    key                         = "${{path_relative_to_include()}}/terraform.tfstate"
    region                      = "us-east-1"
    dynamodb_table              = "slipway-state-${{local.env.locals.environment}}-lock"
    endpoint                    = "{ep}"
    sts_endpoint                = "{ep}"
    dynamodb_endpoint           = "{ep}"
    force_path_style            = true
    skip_credentials_validation = true
    skip_metadata_api_check     = true
    skip_region_validation      = true
  }}
}}
"#
        ),
    );
    for env in ["dev", "prod"] {
        repo.write(
            &format!("live/{env}/env.hcl"),
            &format!("locals {{\n  environment = \"{env}\"\n}}\n"),
        );
        repo.write(
            &format!("live/{env}/network/terragrunt.hcl"),
            &format!(
                r#"include "root" {{
  path = find_in_parent_folders()
}}

terraform {{
  source = "../../../modules//network"
}}

inputs = {{
  name = "{env}"
}}
"#
            ),
        );
    }
    let provider = crate::NULL_PROVIDER_TF;
    repo.write(
        "modules/network/main.tf",
        &format!(
            r#"{provider}
variable "name" {{
  type = string
}}

resource "null_resource" "vpc" {{
  triggers = {{
    name = var.name
  }}
}}

output "vpc_id" {{
  value = "vpc-${{var.name}}-0001"
}}
"#
        ),
    );
}
