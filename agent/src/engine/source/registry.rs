//! The module registry protocol, as HashiCorp documents it: service discovery
//! (`/.well-known/terraform.json` -> `modules.v1`), the versions of a module
//! (`<base>/<namespace>/<name>/<provider>/versions`), and where a version is downloaded from
//! (`<base>/.../<version>/download`, answered with an `X-Terraform-Get` header). Plus
//! Terraform's version constraints (`=`, `!=`, `>`, `>=`, `<`, `<=`, `~>`, comma-separated).

use semver::Version;

use super::address::RegistryAddress;
use super::http::{Http, Reply};
use crate::aws::Secret;

/// Largest registry answer read.
const LIMIT: u64 = 4 * 1024 * 1024;

/// One `op version` of a constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Clause {
    op: Op,
    version: Version,
    /// Components written (`~> 1.2` has 2), for `~>`.
    written: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Pessimistic,
}

/// A Terraform version constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint(Vec<Clause>);

fn version_of(text: &str) -> Result<(Version, usize), String> {
    let t = text.trim().trim_start_matches('v');
    let (core, pre) = match t.find(['-', '+']) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, ""),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.parse::<u64>().is_err()) {
        return Err(format!("{text:?} is not a version"));
    }
    let mut full: Vec<&str> = parts.clone();
    while full.len() < 3 {
        full.push("0");
    }
    Version::parse(&format!("{}{pre}", full.join(".")))
        .map(|v| (v, parts.len()))
        .map_err(|e| format!("{text:?} is not a version: {e}"))
}

impl Constraint {
    pub fn parse(text: &str) -> Result<Constraint, String> {
        let mut clauses = Vec::new();
        for part in text.split(',') {
            let p = part.trim();
            let (op, rest) = [
                ("~>", Op::Pessimistic),
                (">=", Op::Ge),
                ("<=", Op::Le),
                ("!=", Op::Ne),
                (">", Op::Gt),
                ("<", Op::Lt),
                ("=", Op::Eq),
            ]
            .iter()
            .find_map(|(s, op)| p.strip_prefix(s).map(|r| (*op, r)))
            .unwrap_or((Op::Eq, p));
            let (version, written) =
                version_of(rest).map_err(|e| format!("version constraint {text:?}: {e}"))?;
            clauses.push(Clause {
                op,
                version,
                written,
            });
        }
        Ok(Constraint(clauses))
    }

    /// The one version the constraint allows, when it is an exact `1.2.3`.
    pub fn exact(&self) -> Option<&Version> {
        match self.0.as_slice() {
            [Clause {
                op: Op::Eq,
                version,
                written: 3,
            }] => Some(version),
            _ => None,
        }
    }

    pub fn matches(&self, v: &Version) -> bool {
        // A pre-release is chosen only when asked for by name.
        if !v.pre.is_empty() && !self.0.iter().any(|c| c.op == Op::Eq && c.version == *v) {
            return false;
        }
        self.0.iter().all(|c| {
            let w = &c.version;
            match c.op {
                Op::Eq => v == w,
                Op::Ne => v != w,
                Op::Gt => v > w,
                Op::Ge => v >= w,
                Op::Lt => v < w,
                Op::Le => v <= w,
                Op::Pessimistic => {
                    // ~> 1.2.3 allows >= 1.2.3, < 1.3.0; ~> 1.2 allows >= 1.2, < 2.0.
                    let upper = match c.written {
                        1 | 2 => Version::new(w.major + 1, 0, 0),
                        _ => Version::new(w.major, w.minor + 1, 0),
                    };
                    v >= w && *v < upper
                }
            }
        })
    }
}

/// The registry's scheme: HTTPS, except for a stand-in on a loopback address.
pub fn base_scheme(host: &str) -> &'static str {
    let name = host.rsplit_once(':').map_or(host, |(h, p)| {
        if p.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    if matches!(name, "localhost" | "127.0.0.1" | "[::1]") {
        "http"
    } else {
        "https"
    }
}

/// A registry host's modules API base URL (ends with `/`).
pub async fn discover(
    http: &Http,
    host: &str,
    auth: Option<(&str, &Secret)>,
) -> Result<url::Url, String> {
    let well_known = url::Url::parse(&format!(
        "{}://{host}/.well-known/terraform.json",
        base_scheme(host)
    ))
    .map_err(|e| format!("registry host {host}: {e}"))?;
    let reply = ok(http.get(&well_known, auth, LIMIT).await?)?;
    let doc: serde_json::Value =
        serde_json::from_slice(&reply.body).map_err(|e| format!("{well_known}: not JSON: {e}"))?;
    let modules = doc
        .get("modules.v1")
        .and_then(|v| v.as_str())
        .ok_or_else(|| format!("{well_known}: the host offers no modules.v1 service"))?;
    let mut base = reply
        .url
        .join(modules)
        .map_err(|e| format!("{well_known}: modules.v1 {modules:?}: {e}"))?;
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    Ok(base)
}

fn ok(reply: Reply) -> Result<Reply, String> {
    match reply.status {
        200..=299 => Ok(reply),
        401 | 403 => Err(format!(
            "{}: access denied ({}): the registry needs credentials for this host",
            reply.url, reply.status
        )),
        404 => Err(format!("{}: not found (404)", reply.url)),
        s => Err(format!("{}: HTTP {s}", reply.url)),
    }
}

/// The highest version of the module the constraint allows.
pub async fn pick_version(
    http: &Http,
    base: &url::Url,
    m: &RegistryAddress,
    constraint: &Constraint,
    auth: Option<(&str, &Secret)>,
) -> Result<Version, String> {
    let url = base
        .join(&format!("{}/versions", m.module()))
        .map_err(|e| e.to_string())?;
    let reply = ok(http.get(&url, auth, LIMIT).await?)?;
    let doc: serde_json::Value =
        serde_json::from_slice(&reply.body).map_err(|e| format!("{url}: not JSON: {e}"))?;
    let mut versions: Vec<Version> = doc
        .get("modules")
        .and_then(|m| m.as_array())
        .into_iter()
        .flatten()
        .flat_map(|m| {
            m.get("versions")
                .and_then(|v| v.as_array())
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|v| {
            v.get("version")
                .and_then(|s| s.as_str())
                .and_then(|s| version_of(s).ok())
                .filter(|(_, written)| *written == 3)
                .map(|(v, _)| v)
        })
        .collect();
    versions.sort();
    let listed = versions.len();
    versions
        .into_iter()
        .rev()
        .find(|v| constraint.matches(v))
        .ok_or_else(|| {
            format!(
                "no version of {} matches {:?} ({listed} versions listed by {url})",
                m.module(),
                m.version
            )
        })
}

/// Where a version is downloaded from: the `X-Terraform-Get` location, made absolute when it
/// is a relative URL (`/...`, `./...`, `../...`; other values are source addresses).
pub async fn download_location(
    http: &Http,
    base: &url::Url,
    m: &RegistryAddress,
    version: &Version,
    auth: Option<(&str, &Secret)>,
) -> Result<String, String> {
    let url = base
        .join(&format!("{}/{version}/download", m.module()))
        .map_err(|e| e.to_string())?;
    let reply = ok(http.get(&url, auth, LIMIT).await?)?;
    let location = reply
        .headers
        .get("x-terraform-get")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| format!("{url}: the answer has no X-Terraform-Get header"))?;
    if location.starts_with('/') || location.starts_with("./") || location.starts_with("../") {
        return reply
            .url
            .join(&location)
            .map(|u| u.to_string())
            .map_err(|e| format!("{url}: X-Terraform-Get {location:?}: {e}"));
    }
    Ok(location)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn constraints_as_terraform_reads_them() {
        let c = Constraint::parse("~> 1.2").unwrap();
        assert!(c.matches(&v("1.2.0")) && c.matches(&v("1.9.3")));
        assert!(!c.matches(&v("2.0.0")) && !c.matches(&v("1.1.9")));
        let c = Constraint::parse("~> 1.2.3").unwrap();
        assert!(c.matches(&v("1.2.9")) && !c.matches(&v("1.3.0")));
        let c = Constraint::parse(">= 1.0, < 2.0, != 1.4.0").unwrap();
        assert!(c.matches(&v("1.5.0")) && !c.matches(&v("1.4.0")) && !c.matches(&v("2.0.0")));
        let c = Constraint::parse("1.1.0").unwrap();
        assert_eq!(c.exact(), Some(&v("1.1.0")));
        assert!(Constraint::parse("~> 1").unwrap().exact().is_none());
        assert!(!Constraint::parse(">= 1.0")
            .unwrap()
            .matches(&v("2.0.0-beta1")));
        assert!(Constraint::parse("= 2.0.0-beta1")
            .unwrap()
            .matches(&v("2.0.0-beta1")));
        assert!(Constraint::parse("latest").is_err());
        assert!(Constraint::parse(">= 1.x").is_err());
    }

    #[test]
    fn loopback_registries_are_spoken_to_over_http() {
        assert_eq!(base_scheme("127.0.0.1:8080"), "http");
        assert_eq!(base_scheme("localhost"), "http");
        assert_eq!(base_scheme("registry.terraform.io"), "https");
        assert_eq!(base_scheme("127.0.0.1.evil.example:80"), "https");
    }
}
