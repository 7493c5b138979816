//! AWS credentials for runs: Slipway assumes the unit's account role with STS (plan role for
//! plans, apply role for applies) and hands the temporary credentials to the child process's
//! environment only. Slipway's own credentials never reach terraform.
//!
//! Secrets live in [`Secret`], whose `Debug` and `Display` print `***`, so a log line or an error
//! can never carry them by accident.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_smithy_http_client::tls;

use crate::config::RepoConfig;
use crate::snapshot::{join, parent, Snapshot};
use crate::terragrunt::{EvalCache, Evaluator};
use crate::units::Unit;

/// A secret string: prints as `***` in `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must use it (a child's environment, a signer).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Temporary credentials of an assumed role.
#[derive(Clone)]
pub struct RoleCredentials {
    pub access_key_id: Secret,
    pub secret_access_key: Secret,
    pub session_token: Secret,
    pub expiration: SystemTime,
    /// `arn:aws:sts::<account>:assumed-role/<role>/<session>` as STS reported it.
    pub assumed_role_arn: String,
}

impl fmt::Debug for RoleCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoleCredentials")
            .field("assumed_role_arn", &self.assumed_role_arn)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

impl RoleCredentials {
    /// The environment a child process needs to act with these credentials.
    pub fn env(&self) -> Vec<(String, Secret)> {
        vec![
            ("AWS_ACCESS_KEY_ID".into(), self.access_key_id.clone()),
            (
                "AWS_SECRET_ACCESS_KEY".into(),
                self.secret_access_key.clone(),
            ),
            ("AWS_SESSION_TOKEN".into(), self.session_token.clone()),
        ]
    }

    /// Seconds of validity left (0 when expired).
    pub fn remaining(&self) -> Duration {
        self.expiration
            .duration_since(SystemTime::now())
            .unwrap_or_default()
    }

    /// The credentials in the SDK's own type, for S3 reads under this role.
    pub fn sdk(&self) -> aws_sdk_sts::config::Credentials {
        aws_sdk_sts::config::Credentials::new(
            self.access_key_id.expose(),
            self.secret_access_key.expose(),
            Some(self.session_token.expose().to_string()),
            Some(self.expiration),
            "slipway-assumed-role",
        )
    }

    /// Every secret value, for the log redactor.
    pub fn secrets(&self) -> Vec<String> {
        vec![
            self.access_key_id.expose().to_string(),
            self.secret_access_key.expose().to_string(),
            self.session_token.expose().to_string(),
        ]
    }
}

/// Where Slipway's own credentials (the ones allowed to call `AssumeRole`) come from.
#[derive(Clone, Debug, Default)]
pub enum BaseCredentials {
    /// The SDK's default chain: environment, profile, web identity, container, instance.
    #[default]
    Default,
    /// Fixed keys (tests against an emulator).
    Static {
        access_key_id: String,
        secret_access_key: Secret,
    },
}

/// How Slipway talks to AWS.
#[derive(Clone, Debug)]
pub struct AwsSettings {
    /// Region for STS and for S3 when a backend names none.
    pub region: String,
    /// Endpoint override for every AWS call (moto, LocalStack).
    pub endpoint_url: Option<String>,
    pub base: BaseCredentials,
    /// Session length asked for plan credentials.
    pub plan_session: Duration,
    /// Session length asked for apply credentials; a role's `MaxSessionDuration` caps it.
    pub apply_session: Duration,
}

impl Default for AwsSettings {
    fn default() -> Self {
        AwsSettings {
            region: "us-east-1".into(),
            endpoint_url: None,
            base: BaseCredentials::Default,
            plan_session: Duration::from_secs(3600),
            apply_session: Duration::from_secs(3600),
        }
    }
}

impl AwsSettings {
    /// Settings from the process environment: `SLIPWAY_AWS_REGION` (or `AWS_REGION`),
    /// `SLIPWAY_AWS_ENDPOINT_URL`, `SLIPWAY_APPLY_SESSION_SECONDS`.
    pub fn from_env() -> AwsSettings {
        let mut s = AwsSettings::default();
        if let Some(r) = std::env::var("SLIPWAY_AWS_REGION")
            .ok()
            .or_else(|| std::env::var("AWS_REGION").ok())
            .filter(|r| !r.is_empty())
        {
            s.region = r;
        }
        s.endpoint_url = std::env::var("SLIPWAY_AWS_ENDPOINT_URL")
            .ok()
            .filter(|e| !e.is_empty());
        if let Some(secs) = std::env::var("SLIPWAY_APPLY_SESSION_SECONDS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            s.apply_session = Duration::from_secs(secs);
        }
        s
    }
}

/// Plan or apply: which role to assume and which terraform command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Plan,
    Apply,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Plan => "plan",
            Action::Apply => "apply",
        })
    }
}

/// The role a unit runs under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoleRef {
    pub arn: String,
    pub external_id: Option<String>,
}

/// The role for `action` on `unit`: the environment's `plan_role`/`apply_role` in `slipway.toml`,
/// else `plan_role_arn`/`apply_role_arn` in the locals of the nearest `account.hcl`.
pub fn role_for(
    config: &RepoConfig,
    snap: &Arc<Snapshot>,
    unit: &Unit,
    action: Action,
) -> Option<RoleRef> {
    let env = unit.env.as_ref().and_then(|e| config.environments.get(e));
    let from_config = env.and_then(|e| match action {
        Action::Plan => e.plan_role.clone(),
        Action::Apply => e.apply_role.clone(),
    });
    let arn = from_config.or_else(|| {
        let key = match action {
            Action::Plan => "plan_role_arn",
            Action::Apply => "apply_role_arn",
        };
        account_local(snap, &unit.path, key)
    })?;
    Some(RoleRef {
        arn,
        external_id: env.and_then(|e| e.external_id.clone()),
    })
}

/// A string local of the nearest `account.hcl` above `dir`.
fn account_local(snap: &Arc<Snapshot>, dir: &str, key: &str) -> Option<String> {
    let mut d = dir.to_string();
    loop {
        let candidate = join(&d, "account.hcl");
        if snap.is_file(&candidate) {
            let ev = Evaluator::new(snap.clone(), Arc::new(EvalCache::default()));
            let read = ev.read_config(&candidate, dir).ok()?;
            let locals = read.value.as_object()?.get("locals")?.as_object()?;
            return crate::terragrunt::unknown::known_str(locals.get(key)?).map(str::to_string);
        }
        if d.is_empty() {
            return None;
        }
        d = parent(&d).to_string();
    }
}

/// An STS session name carrying repo and pull request, in STS's alphabet (`[\w+=,.@-]`) and at
/// most 64 characters; the pull request survives truncation.
pub fn session_name(repo: &str, pr: Option<u64>) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                    c
                } else {
                    '.'
                }
            })
            .collect()
    };
    let suffix = match pr {
        Some(n) => format!("-pr{n}"),
        None => String::new(),
    };
    let head = clean(&format!("slipway-{repo}"));
    let room = 64usize.saturating_sub(suffix.len());
    let head: String = head.chars().take(room).collect();
    let mut name = format!("{head}{suffix}");
    while name.len() < 2 {
        name.push('-');
    }
    name
}

/// `AssumeRole` failed: names the role, the unit and what STS said.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot assume {role} for {unit}: {code}: {message}")]
pub struct AssumeError {
    pub role: String,
    pub unit: String,
    /// STS's error code (`AccessDenied`, ...), or `Unreachable` when STS could not be reached.
    pub code: String,
    pub message: String,
}

/// Assumes roles and keeps the credentials until they get close to expiry.
pub struct Assumer {
    settings: AwsSettings,
    sdk: aws_config::SdkConfig,
    sts: aws_sdk_sts::Client,
    cache: tokio::sync::Mutex<HashMap<(RoleRef, String, Action), RoleCredentials>>,
}

impl fmt::Debug for Assumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Assumer")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The HTTP client every AWS call uses: rustls with ring, plain HTTP allowed for emulators.
pub fn http_client() -> aws_sdk_sts::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// The SDK configuration for Slipway's own identity.
pub async fn sdk_config(settings: &AwsSettings) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client())
        .region(aws_config::Region::new(settings.region.clone()));
    if let Some(ep) = &settings.endpoint_url {
        loader = loader.endpoint_url(ep);
    }
    if let BaseCredentials::Static {
        access_key_id,
        secret_access_key,
    } = &settings.base
    {
        loader = loader.credentials_provider(aws_sdk_sts::config::Credentials::new(
            access_key_id,
            secret_access_key.expose(),
            None,
            None,
            "slipway-static",
        ));
    }
    loader.load().await
}

impl Assumer {
    pub async fn new(settings: AwsSettings) -> Assumer {
        let sdk = sdk_config(&settings).await;
        let sts = aws_sdk_sts::Client::new(&sdk);
        Assumer {
            settings,
            sdk,
            sts,
            cache: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    pub fn settings(&self) -> &AwsSettings {
        &self.settings
    }

    /// Slipway's own SDK configuration (artifact bucket, clients derived per role).
    pub fn sdk(&self) -> &aws_config::SdkConfig {
        &self.sdk
    }

    /// Credentials for `role`, valid for at least `needed` more (capped at the session length
    /// asked for `action`): reused while they last, assumed again when they would expire during
    /// the step about to start. That is how a long apply gets fresh credentials for each step.
    pub async fn credentials(
        &self,
        role: &RoleRef,
        session: &str,
        action: Action,
        needed: Duration,
        unit: &str,
    ) -> Result<RoleCredentials, AssumeError> {
        let duration = match action {
            Action::Plan => self.settings.plan_session,
            Action::Apply => self.settings.apply_session,
        };
        // STS accepts 15 minutes to 12 hours.
        let duration = duration.clamp(Duration::from_secs(900), Duration::from_secs(43_200));
        let needed = needed.min(duration.saturating_sub(Duration::from_secs(60)));
        let key = (role.clone(), session.to_string(), action);
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.get(&key) {
            if c.remaining() > needed {
                return Ok(c.clone());
            }
        }
        let creds = self.assume(role, session, duration, unit).await?;
        cache.insert(key, creds.clone());
        Ok(creds)
    }

    /// Who `creds` are, from STS `GetCallerIdentity` called with them: what `get_aws_account_id()`
    /// and the other identity functions give in a run.
    pub async fn caller_identity(
        &self,
        creds: &RoleCredentials,
    ) -> Result<crate::terragrunt::runtime::AwsIdentity, String> {
        let provider = aws_sdk_sts::config::Credentials::new(
            creds.access_key_id.expose(),
            creds.secret_access_key.expose(),
            Some(creds.session_token.expose().to_string()),
            Some(creds.expiration),
            "slipway-assumed-role",
        );
        let conf = aws_sdk_sts::config::Builder::from(&self.sdk)
            .credentials_provider(provider)
            .build();
        let out = aws_sdk_sts::Client::from_conf(conf)
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| {
                format!(
                    "GetCallerIdentity as {}: {}",
                    creds.assumed_role_arn,
                    e.message().unwrap_or("the call failed")
                )
            })?;
        Ok(crate::terragrunt::runtime::AwsIdentity {
            account_id: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
            user_id: out.user_id().unwrap_or_default().to_string(),
        })
    }

    /// One `AssumeRole` call.
    pub async fn assume(
        &self,
        role: &RoleRef,
        session: &str,
        duration: Duration,
        unit: &str,
    ) -> Result<RoleCredentials, AssumeError> {
        let fail = |code: &str, message: String| AssumeError {
            role: role.arn.clone(),
            unit: unit.to_string(),
            code: code.to_string(),
            message,
        };
        let secs = i32::try_from(duration.as_secs()).unwrap_or(3600);
        let out = self
            .sts
            .assume_role()
            .role_arn(&role.arn)
            .role_session_name(session)
            .set_external_id(role.external_id.clone())
            .duration_seconds(secs)
            .send()
            .await
            .map_err(|e| {
                if let Some(code) = e.code() {
                    return fail(code, e.message().unwrap_or_default().to_string());
                }
                // An answer the SDK could not classify (emulators): read STS's XML error.
                let body = e
                    .raw_response()
                    .and_then(|r| r.body().bytes())
                    .map(|b| String::from_utf8_lossy(b).into_owned());
                match body.as_deref().and_then(|b| xml_tag(b, "Code")) {
                    Some(code) => fail(
                        &code,
                        body.as_deref()
                            .and_then(|b| xml_tag(b, "Message"))
                            .unwrap_or_default(),
                    ),
                    None => fail(
                        "Unreachable",
                        aws_sdk_sts::error::DisplayErrorContext(&e).to_string(),
                    ),
                }
            })?;
        let c = out
            .credentials()
            .ok_or_else(|| fail("NoCredentials", "STS returned no credentials".into()))?;
        let expiration =
            SystemTime::try_from(*c.expiration()).unwrap_or_else(|_| SystemTime::now() + duration);
        Ok(RoleCredentials {
            access_key_id: Secret::new(c.access_key_id()),
            secret_access_key: Secret::new(c.secret_access_key()),
            session_token: Secret::new(c.session_token()),
            expiration,
            assumed_role_arn: out
                .assumed_role_user()
                .map(|u| u.arn().to_string())
                .unwrap_or_default(),
        })
    }

    /// An S3 client acting with `creds` (or Slipway's own identity when `None`), with an
    /// optional endpoint, region and path-style override (from a backend's configuration).
    pub fn s3(
        &self,
        creds: Option<&RoleCredentials>,
        endpoint: Option<&str>,
        region: Option<&str>,
        force_path_style: bool,
    ) -> aws_sdk_s3::Client {
        let mut b = aws_sdk_s3::config::Builder::from(&self.sdk);
        if let Some(c) = creds {
            b = b.credentials_provider(c.sdk());
        }
        if let Some(ep) = endpoint.or(self.settings.endpoint_url.as_deref()) {
            b = b.endpoint_url(ep);
        }
        if let Some(r) = region {
            b = b.region(aws_sdk_s3::config::Region::new(r.to_string()));
        }
        if force_path_style || self.settings.endpoint_url.is_some() {
            b = b.force_path_style(true);
        }
        aws_sdk_s3::Client::from_conf(b.build())
    }
}

/// The text of the first `<tag>...</tag>` in an XML document.
fn xml_tag(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sts_error_documents_are_read() {
        let body = "<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: x is not authorized</Message></Error></Errors></ErrorResponse>";
        assert_eq!(xml_tag(body, "Code").as_deref(), Some("AccessDenied"));
        assert_eq!(
            xml_tag(body, "Message").as_deref(),
            Some("User: x is not authorized")
        );
        assert_eq!(xml_tag("<Code>", "Code"), None);
    }

    #[test]
    fn secrets_never_print() {
        let c = RoleCredentials {
            access_key_id: Secret::new("ASIAABCDEFGHIJKLMNOP"),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            session_token: Secret::new("IQoJb3JpZ2luX2VjEXAMPLE"),
            expiration: SystemTime::now(),
            assumed_role_arn: "arn:aws:sts::111111111111:assumed-role/slipway-plan/s".into(),
        };
        let shown = format!("{c:?} {:?} {}", c.env(), c.secret_access_key);
        assert!(!shown.contains("ASIAABCD"), "{shown}");
        assert!(!shown.contains("wJalr"), "{shown}");
        assert!(!shown.contains("IQoJ"), "{shown}");
        assert!(shown.contains("assumed-role/slipway-plan"), "{shown}");
    }

    #[test]
    fn session_name_fits_sts_rules_and_keeps_the_pull_request() {
        assert_eq!(
            session_name("example-org/infra", Some(42)),
            "slipway-example-org.infra-pr42"
        );
        let long = session_name(&"very-long-organisation/".repeat(10), Some(123456));
        assert_eq!(long.len(), 64, "{long}");
        assert!(long.ends_with("-pr123456"), "{long}");
        let odd = session_name("ünïcode repo/with spaces", None);
        assert!(
            odd.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)),
            "{odd}"
        );
    }
}
