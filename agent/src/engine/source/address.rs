//! Module source addresses, read as Terragrunt reads `terraform.source` (go-getter's rules): a
//! forced getter (`git::`, `s3::`...), else the detectors (`github.com/...`, `git@host:...`,
//! `tfr://`, an archive URL); `//sub/dir` after the address names the module inside what is
//! fetched; the query carries the getter's options (`ref`, `depth`, `version`, `archive`,
//! `checksum`). Pure: nothing here touches the network.

use url::Url;

/// Host of the public Terraform registry, for `tfr:///ns/name/provider`.
pub const PUBLIC_REGISTRY: &str = "registry.terraform.io";

/// A parsed remote module source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub form: Form,
    /// The module's directory inside the fetched tree (`//sub/dir`), normalised; `""` for the
    /// root.
    pub subdir: String,
}

/// What is fetched, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    Git(GitAddress),
    Registry(RegistryAddress),
    Archive(ArchiveAddress),
}

/// How git reaches a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Https,
    Http,
    Ssh,
    File,
    /// `git://`: the unauthenticated git daemon protocol.
    Daemon,
}

impl Transport {
    /// What git over this transport is called in messages.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Https => "git over HTTPS",
            Transport::Http => "git over HTTP",
            Transport::Ssh => "git over SSH",
            Transport::File => "git from a local path",
            Transport::Daemon => "git protocol",
        }
    }
}

/// A git repository at a ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitAddress {
    /// The URL given to git (`https://...`, `ssh://...`, `file:///...`), without the query.
    pub url: String,
    pub transport: Transport,
    /// `host` or `host:port`; `None` for `file://`.
    pub host: Option<String>,
    /// `?ref=`: a tag, a branch or a full commit id; `None` for the remote's HEAD.
    pub reference: Option<String>,
    /// `?depth=`.
    pub depth: Option<u32>,
}

/// A module of a Terraform registry (`tfr://host/namespace/name/provider?version=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryAddress {
    /// `host` or `host:port`.
    pub host: String,
    pub namespace: String,
    pub name: String,
    pub provider: String,
    /// A version or a version constraint (`1.2.0`, `~> 1.2`, `>= 1.0, < 2.0`).
    pub version: String,
}

impl RegistryAddress {
    /// `namespace/name/provider`.
    pub fn module(&self) -> String {
        format!("{}/{}/{}", self.namespace, self.name, self.provider)
    }
}

/// How an archive is packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    Zip,
    TarGz,
    Tar,
}

/// An archive over HTTP(S).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveAddress {
    /// The URL downloaded (`archive` and `checksum` removed from the query, the rest kept).
    pub url: String,
    /// `None` when neither the URL nor `?archive=` says; the archive is then recognised by its
    /// first bytes (only for locations a registry gives).
    pub kind: Option<ArchiveKind>,
    /// `?checksum=sha256:<hex>`: the archive's identity known before it is downloaded.
    pub checksum: Option<String>,
    /// `host` or `host:port`.
    pub host: String,
    pub https: bool,
}

impl Form {
    /// What the form is called in messages.
    pub fn name(&self) -> &'static str {
        match self {
            Form::Git(g) => g.transport.name(),
            Form::Registry(_) => "Terraform registry module",
            Form::Archive(_) => "archive over HTTP",
        }
    }

    /// The address without its subdirectory: sources that differ only in `//sub/dir` fetch
    /// the same thing.
    pub fn key(&self) -> String {
        match self {
            Form::Git(g) => format!(
                "git {} ref={} depth={}",
                g.url,
                g.reference.as_deref().unwrap_or("HEAD"),
                g.depth.unwrap_or(1)
            ),
            Form::Registry(r) => format!("tfr {}/{} {}", r.host, r.module(), r.version),
            Form::Archive(a) => format!(
                "archive {} {}",
                a.url,
                a.checksum.as_deref().unwrap_or_default()
            ),
        }
    }
}

/// Why a source cannot be used: the form it was read as, and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressError {
    pub form: String,
    pub message: String,
}

fn fail(form: &str, message: impl Into<String>) -> AddressError {
    AddressError {
        form: form.to_string(),
        message: message.into(),
    }
}

/// Reads a remote module source.
pub fn parse(source: &str) -> Result<Address, AddressError> {
    let s = source.trim();
    if s.is_empty() {
        return Err(fail("unknown", "the source is empty"));
    }
    // Spaces are allowed in the query only (`?version=~> 1.2`).
    let head = s.split('?').next().unwrap_or_default();
    if s.chars().any(char::is_control) || head.chars().any(char::is_whitespace) {
        return Err(fail(
            "unknown",
            "the source contains spaces or control characters",
        ));
    }
    if s.starts_with('-') {
        return Err(fail("unknown", "a source cannot start with '-'"));
    }
    match forced_getter(s) {
        Some(("git", rest)) => git(rest),
        Some(("http" | "https", rest)) => archive(rest, true, "archive over HTTP"),
        Some(("s3", _)) => Err(fail(
            "S3 object",
            "S3 module sources are not fetched by the native engine yet; publish the module in a git repository, a registry or an HTTPS archive, or use the terragrunt engine",
        )),
        Some(("gcs", _)) => Err(fail(
            "GCS object",
            "GCS module sources are not fetched by the native engine; publish the module in a git repository, a registry or an HTTPS archive, or use the terragrunt engine",
        )),
        Some(("hg", _)) => Err(fail("Mercurial repository", "Mercurial sources are not supported")),
        Some(("file", _)) => Err(fail(
            "local path",
            "file:: names a local directory: write it as a path relative to the unit",
        )),
        Some((other, _)) => Err(fail(
            &format!("{other}::"),
            format!("{other}:: is not a getter Slipway knows (git::, http::, https::, tfr://)"),
        )),
        None => detect(s),
    }
}

/// `git::rest` -> `("git", "rest")`: go-getter's forced getter, letters and digits before `::`.
fn forced_getter(s: &str) -> Option<(&str, &str)> {
    let i = s.find("::")?;
    let name = &s[..i];
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some((name, &s[i + 2..]))
}

fn detect(s: &str) -> Result<Address, AddressError> {
    if s.starts_with("tfr://") {
        return registry(s);
    }
    if s.starts_with("https://") || s.starts_with("http://") {
        return archive(s, false, "archive over HTTP");
    }
    for host in ["github.com/", "bitbucket.org/"] {
        if let Some(rest) = s.strip_prefix(host) {
            return hosted_git(&host[..host.len() - 1], rest);
        }
    }
    if scp_like(s).is_some() {
        return git(s);
    }
    let first = s.split('/').next().unwrap_or_default();
    if first.ends_with(".amazonaws.com") && first.contains("s3") {
        return parse(&format!("s3::https://{s}"));
    }
    if first == "www.googleapis.com" || first == "storage.googleapis.com" {
        return parse(&format!("gcs::https://{s}"));
    }
    let parts: Vec<&str> = s.split(['?', '/']).collect();
    if s.split('?').next().unwrap_or_default().split('/').count() == 3
        && !first.contains('.')
        && parts.iter().take(3).all(|p| !p.is_empty())
    {
        return Err(fail(
            "registry module shorthand",
            format!(
                "a registry module in terraform.source is written tfr:///{}?version=<version> (or tfr://<host>/...)",
                s.split('?').next().unwrap_or_default()
            ),
        ));
    }
    if s.starts_with("ssh://") || s.starts_with("git://") || s.starts_with("file://") {
        return Err(fail(
            "unknown",
            format!("a git repository is written git::{s}"),
        ));
    }
    Err(fail(
        "unknown",
        "not a source form Slipway reads: use git::https://..., git::ssh://..., git@host:org/repo.git, github.com/org/repo, tfr:///namespace/name/provider?version=..., or an https:// URL of a .zip, .tar.gz or .tgz archive",
    ))
}

/// Splits go-getter's `address//sub/dir?query` into `(address?query, sub/dir)`: the `//` that
/// counts is the first one after the scheme's `://`.
fn split_subdir(s: &str) -> (String, String) {
    let start = s.find("://").map_or(0, |i| i + 3);
    match s[start..].find("//") {
        None => (s.to_string(), String::new()),
        Some(i) => {
            let at = start + i;
            let (addr, rest) = (&s[..at], &s[at + 2..]);
            match rest.split_once('?') {
                Some((sub, q)) => (format!("{addr}?{q}"), sub.to_string()),
                None => (addr.to_string(), rest.to_string()),
            }
        }
    }
}

fn clean_subdir(form: &str, sub: &str) -> Result<String, AddressError> {
    if sub.starts_with('/') {
        return Err(fail(form, format!("subdirectory //{sub} must be relative")));
    }
    if sub.contains(['*', '\\']) {
        return Err(fail(
            form,
            format!("subdirectory //{sub} has a wildcard or a backslash"),
        ));
    }
    crate::snapshot::normalize(sub).ok_or_else(|| {
        fail(
            form,
            format!("subdirectory //{sub} climbs out of the module source"),
        )
    })
}

/// Query pairs of `a?b=c&d`, decoded.
fn query_pairs(q: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// `user@host:path` (scp-like git syntax), as `(user@host, path)`.
fn scp_like(s: &str) -> Option<(&str, &str)> {
    if s.contains("://") {
        return None;
    }
    let (head, path) = s.split_once(':')?;
    let (user, host) = head.split_once('@')?;
    let ok = |x: &str| {
        !x.is_empty()
            && x.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    };
    (ok(user) && ok(host) && !path.is_empty() && !path.starts_with('/')).then_some((head, path))
}

fn hosted_git(host: &str, rest: &str) -> Result<Address, AddressError> {
    let (addr, mut sub) = split_subdir(rest);
    let (path, query) = match addr.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (addr.clone(), None),
    };
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() < 2 || parts[0].is_empty() || parts[1].is_empty() {
        return Err(fail(
            "git over HTTPS",
            format!("{host}/ needs an owner and a repository: {host}/owner/repo"),
        ));
    }
    if parts.len() > 2 && sub.is_empty() {
        // go-getter: `github.com/org/repo/sub` means the subdirectory `sub`.
        sub = parts[2..].join("/");
    }
    let repo = parts[1].strip_suffix(".git").unwrap_or(parts[1]);
    let mut url = format!("git::https://{host}/{}/{repo}.git", parts[0]);
    if !sub.is_empty() {
        url.push_str("//");
        url.push_str(&sub);
    }
    if let Some(q) = query {
        url.push('?');
        url.push_str(&q);
    }
    parse(&url)
}

fn git(rest: &str) -> Result<Address, AddressError> {
    let (addr, sub) = split_subdir(rest);
    let (base, query) = match addr.split_once('?') {
        Some((b, q)) => (b.to_string(), q.to_string()),
        None => (addr.clone(), String::new()),
    };
    let (url, transport, host) = if let Some((userhost, path)) = scp_like(&base) {
        let host = userhost.split_once('@').map_or(userhost, |(_, h)| h);
        (
            format!("ssh://{userhost}/{path}"),
            Transport::Ssh,
            Some(host.to_string()),
        )
    } else {
        let parsed =
            Url::parse(&base).map_err(|e| fail("git", format!("git::{base} is not a URL: {e}")))?;
        let transport = match parsed.scheme() {
            "https" => Transport::Https,
            "http" => Transport::Http,
            "ssh" => Transport::Ssh,
            "file" => Transport::File,
            "git" => Transport::Daemon,
            other => {
                return Err(fail(
                    "git",
                    format!("git over {other}:// is not supported (https, http, ssh, git, file)"),
                ))
            }
        };
        if parsed.password().is_some() {
            return Err(fail(
                "git",
                "credentials written in a module source are refused: Slipway uses the service's credentials for the host",
            ));
        }
        let host = match transport {
            Transport::File => {
                if parsed.host_str().is_some_and(|h| !h.is_empty()) {
                    return Err(fail(
                        "git from a local path",
                        "file:// names a path on this machine: file:///absolute/path",
                    ));
                }
                None
            }
            _ => Some(authority(&parsed).ok_or_else(|| fail("git", "the URL has no host"))?),
        };
        (base.clone(), transport, host)
    };
    let form_name = transport.name();
    let mut reference = None;
    let mut depth = None;
    for (k, v) in query_pairs(&query) {
        match k.as_str() {
            "ref" if !v.is_empty() => reference = Some(v),
            "ref" => {}
            "depth" => {
                depth = Some(v.parse::<u32>().ok().filter(|d| *d > 0).ok_or_else(|| {
                    fail(form_name, format!("depth={v} is not a positive number"))
                })?)
            }
            "sshkey" => {
                return Err(fail(
                    form_name,
                    "sshkey= is refused: keys come from the service's configuration, never from the repository",
                ))
            }
            other => {
                return Err(fail(
                    form_name,
                    format!("unknown parameter {other}= (git sources take ref= and depth=)"),
                ))
            }
        }
    }
    if let Some(r) = &reference {
        if r.starts_with('-')
            || r.contains("..")
            || r.contains(['\\', ':', '^', '~', '[', '*', '?'])
        {
            return Err(fail(form_name, format!("ref={r} is not a valid git ref")));
        }
    }
    let subdir = clean_subdir(form_name, &sub)?;
    Ok(Address {
        form: Form::Git(GitAddress {
            url,
            transport,
            host,
            reference,
            depth,
        }),
        subdir,
    })
}

/// `host` or `host:port` of a URL.
fn authority(u: &Url) -> Option<String> {
    let host = u.host_str().filter(|h| !h.is_empty())?;
    Some(match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    })
}

fn registry(s: &str) -> Result<Address, AddressError> {
    const FORM: &str = "Terraform registry module";
    let (addr, sub) = split_subdir(s);
    let rest = addr.strip_prefix("tfr://").unwrap_or(&addr);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (host, module) = path.split_once('/').unwrap_or((path, ""));
    let host = if host.is_empty() {
        PUBLIC_REGISTRY.to_string()
    } else {
        host.to_ascii_lowercase()
    };
    if host.contains('@') {
        return Err(fail(
            FORM,
            "credentials written in a module source are refused",
        ));
    }
    let parts: Vec<&str> = module.split('/').collect();
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if parts.len() != 3 || !parts.iter().all(|p| part_ok(p)) {
        return Err(fail(
            FORM,
            format!("tfr://{host}/{module} is not tfr://<host>/<namespace>/<name>/<provider>"),
        ));
    }
    let mut version = None;
    for (k, v) in query_pairs(query) {
        match k.as_str() {
            "version" => version = Some(v),
            other => {
                return Err(fail(
                    FORM,
                    format!("unknown parameter {other}= (registry sources take version=)"),
                ))
            }
        }
    }
    let version = version.filter(|v| !v.trim().is_empty()).ok_or_else(|| {
        fail(
            FORM,
            "a registry source needs ?version= (a version or a constraint such as ~> 1.2)",
        )
    })?;
    Ok(Address {
        form: Form::Registry(RegistryAddress {
            host,
            namespace: parts[0].to_string(),
            name: parts[1].to_string(),
            provider: parts[2].to_string(),
            version,
        }),
        subdir: clean_subdir(FORM, &sub)?,
    })
}

fn archive(s: &str, forced: bool, form: &str) -> Result<Address, AddressError> {
    let (addr, sub) = split_subdir(s);
    let mut url = Url::parse(&addr).map_err(|e| fail(form, format!("{addr} is not a URL: {e}")))?;
    let https = match url.scheme() {
        "https" => true,
        "http" => false,
        other => return Err(fail(form, format!("{other}:// is not HTTP or HTTPS"))),
    };
    if url.password().is_some() || !url.username().is_empty() {
        return Err(fail(
            form,
            "credentials written in a module source are refused: Slipway uses the service's credentials for the host",
        ));
    }
    let host = authority(&url).ok_or_else(|| fail(form, "the URL has no host"))?;
    let mut kind = None;
    let mut checksum = None;
    let mut kept = Vec::new();
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "archive" => {
                kind = Some(match v.as_ref() {
                    "zip" => ArchiveKind::Zip,
                    "tar.gz" | "tgz" => ArchiveKind::TarGz,
                    "tar" => ArchiveKind::Tar,
                    other => {
                        return Err(fail(
                            form,
                            format!("archive={other} is not one of zip, tar.gz, tgz, tar"),
                        ))
                    }
                })
            }
            "checksum" => {
                let hex = v.strip_prefix("sha256:").ok_or_else(|| {
                    fail(
                        form,
                        "checksum= must be sha256:<hex> (the only digest Slipway checks)",
                    )
                })?;
                if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(fail(form, "checksum=sha256: needs 64 hexadecimal digits"));
                }
                checksum = Some(hex.to_ascii_lowercase());
            }
            _ => kept.push((k.into_owned(), v.into_owned())),
        }
    }
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    if kind.is_none() {
        let path = url.path().to_ascii_lowercase();
        kind = if path.ends_with(".zip") {
            Some(ArchiveKind::Zip)
        } else if path.ends_with(".tar.gz") || path.ends_with(".tgz") {
            Some(ArchiveKind::TarGz)
        } else if path.ends_with(".tar") {
            Some(ArchiveKind::Tar)
        } else {
            None
        };
    }
    if kind.is_none() && !forced {
        return Err(fail(
            form,
            "an HTTP source must be an archive (.zip, .tar.gz, .tgz, .tar, or ?archive=); a git repository is written git::https://...",
        ));
    }
    Ok(Address {
        form: Form::Archive(ArchiveAddress {
            url: url.to_string(),
            kind,
            checksum,
            host,
            https,
        }),
        subdir: clean_subdir(form, &sub)?,
    })
}

/// The source with anything secret-looking masked: a password in the URL, signed-URL and
/// token parameters. For messages.
pub fn redacted(source: &str) -> String {
    let mut out = source.to_string();
    // user:password@ after a scheme
    if let Some(scheme_end) = out.find("://") {
        let auth_start = scheme_end + 3;
        let rest = &out[auth_start..];
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            let userinfo = &rest[..at];
            let masked = match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***"),
                None => userinfo.to_string(),
            };
            out = format!("{}{masked}{}", &out[..auth_start], &rest[at..]);
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let masked: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if secret_param(k) => format!("{k}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out = format!("{head}{}", masked.join("&"));
    }
    out
}

fn secret_param(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    [
        "token",
        "signature",
        "sshkey",
        "password",
        "secret",
        "credential",
        "sig",
    ]
    .iter()
    .any(|w| k.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git_of(s: &str) -> (GitAddress, String) {
        match parse(s) {
            Ok(Address {
                form: Form::Git(g),
                subdir,
            }) => (g, subdir),
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn git_forms_with_subdirectories_and_refs() {
        let (g, sub) = git_of("git::https://example.com/org/modules.git//vpc/main?ref=v1.2.0");
        assert_eq!(g.url, "https://example.com/org/modules.git");
        assert_eq!(g.transport, Transport::Https);
        assert_eq!(g.host.as_deref(), Some("example.com"));
        assert_eq!(g.reference.as_deref(), Some("v1.2.0"));
        assert_eq!(sub, "vpc/main");

        let (g, sub) =
            git_of("git::git@github.com:acme/infrastructure-modules.git//modules/mysql?ref=v0.8.0");
        assert_eq!(
            g.url,
            "ssh://git@github.com/acme/infrastructure-modules.git"
        );
        assert_eq!(g.transport, Transport::Ssh);
        assert_eq!(g.host.as_deref(), Some("github.com"));
        assert_eq!(sub, "modules/mysql");

        let (g, sub) = git_of("git@github.com:acme/mods.git?ref=main&depth=5");
        assert_eq!(g.transport, Transport::Ssh);
        assert_eq!((g.reference.as_deref(), g.depth), (Some("main"), Some(5)));
        assert_eq!(sub, "");

        let (g, sub) = git_of("git::ssh://git@gitlab.example.com:2222/a/b.git//x");
        assert_eq!(g.host.as_deref(), Some("gitlab.example.com:2222"));
        assert_eq!(sub, "x");

        let (g, sub) = git_of("git::file:///srv/mirrors/modules.git//net?ref=v1.0.0");
        assert_eq!(g.url, "file:///srv/mirrors/modules.git");
        assert_eq!((g.transport, g.host), (Transport::File, None));
        assert_eq!(sub, "net");
    }

    #[test]
    fn github_shorthand_is_git_over_https() {
        let (g, sub) = git_of("github.com/acme/modules//vpc?ref=v2");
        assert_eq!(g.url, "https://github.com/acme/modules.git");
        assert_eq!(g.reference.as_deref(), Some("v2"));
        assert_eq!(sub, "vpc");
        let (g, sub) = git_of("github.com/acme/modules.git/vpc");
        assert_eq!(g.url, "https://github.com/acme/modules.git");
        assert_eq!(sub, "vpc");
    }

    #[test]
    fn registry_forms() {
        let a = parse("tfr:///terraform-aws-modules/vpc/aws?version=5.1.0").unwrap();
        let Form::Registry(r) = &a.form else {
            panic!("{a:?}")
        };
        assert_eq!(r.host, PUBLIC_REGISTRY);
        assert_eq!(r.module(), "terraform-aws-modules/vpc/aws");
        assert_eq!(r.version, "5.1.0");
        let a = parse("tfr://registry.example.com:8443/acme/net/aws//modules/sub?version=~>%201.2")
            .unwrap();
        let Form::Registry(r) = &a.form else {
            panic!("{a:?}")
        };
        assert_eq!(r.host, "registry.example.com:8443");
        assert_eq!(r.version, "~> 1.2");
        assert_eq!(a.subdir, "modules/sub");
        assert!(parse("tfr:///a/b/c")
            .unwrap_err()
            .message
            .contains("version"));
        assert!(parse("tfr:///a/b?version=1").is_err());
    }

    #[test]
    fn archives_by_extension_or_parameter() {
        let a = parse(
            "https://example.com/m/vpc-1.0.tar.gz//vpc?checksum=sha256:"
                .to_string()
                .as_str(),
        );
        assert!(a.is_err(), "a short checksum is refused");
        let sum = "a".repeat(64);
        let a = parse(&format!(
            "https://example.com/m/vpc-1.0.tgz//vpc?checksum=sha256:{sum}&X-Sig=1"
        ))
        .unwrap();
        let Form::Archive(x) = &a.form else {
            panic!("{a:?}")
        };
        assert_eq!(x.kind, Some(ArchiveKind::TarGz));
        assert_eq!(x.checksum.as_deref(), Some(sum.as_str()));
        assert_eq!(x.url, "https://example.com/m/vpc-1.0.tgz?X-Sig=1");
        assert_eq!(a.subdir, "vpc");
        let a = parse("https://example.com/download?id=4&archive=zip").unwrap();
        let Form::Archive(x) = &a.form else {
            panic!("{a:?}")
        };
        assert_eq!(x.kind, Some(ArchiveKind::Zip));
        assert_eq!(x.url, "https://example.com/download?id=4");
        assert!(parse("https://example.com/org/repo").is_err());
    }

    #[test]
    fn unsupported_and_unknown_forms_say_what_they_are() {
        let e = parse("s3::https://s3-eu-west-1.amazonaws.com/bucket/vpc.zip").unwrap_err();
        assert_eq!(e.form, "S3 object");
        let e = parse("bucket.s3.amazonaws.com/vpc.zip").unwrap_err();
        assert_eq!(e.form, "S3 object");
        let e = parse("gcs::https://www.googleapis.com/storage/v1/b/m.zip").unwrap_err();
        assert_eq!(e.form, "GCS object");
        let e = parse("terraform-aws-modules/vpc/aws").unwrap_err();
        assert!(
            e.message.contains("tfr:///terraform-aws-modules/vpc/aws"),
            "{e:?}"
        );
        assert!(parse("foo::bar").is_err());
        assert!(parse("git::ext::sh -c touch% /tmp/x").is_err());
        assert!(parse("git::ext::sh").is_err());
        assert!(parse("git::https://example.com/a.git?ref=--upload-pack=x").is_err());
        assert!(parse("git::https://example.com/a.git?sshkey=abc").is_err());
        assert!(parse("git::https://u:p@example.com/a.git").is_err());
        assert!(parse("git::https://example.com/a.git//../../etc").is_err());
    }

    #[test]
    fn redaction_masks_passwords_and_signed_parameters() {
        assert_eq!(
            redacted("git::https://bob:hunter22@example.com/a.git?ref=v1"),
            "git::https://bob:***@example.com/a.git?ref=v1"
        );
        assert_eq!(
            redacted("https://x.example.com/m.zip?X-Amz-Signature=abcd&v=1"),
            "https://x.example.com/m.zip?X-Amz-Signature=***&v=1"
        );
    }

    proptest::proptest! {
        #[test]
        fn reading_any_source_never_panics(s in "\\PC{0,80}") {
            let _ = parse(&s);
            let _ = redacted(&s);
        }

        #[test]
        fn source_shaped_text_never_panics_and_subdirs_stay_inside(
            s in "(git::|s3::|tfr://|github\\.com/)?(https?://|ssh://|file://|git@)?[a-zé.:@0-9/-]{0,30}(//[a-z./*é]{0,16})?(\\?[a-z=&.0-9~> ]{0,24})?"
        ) {
            if let Ok(a) = parse(&s) {
                proptest::prop_assert!(!a.subdir.split('/').any(|c| c == ".."));
                proptest::prop_assert!(!a.subdir.starts_with('/'));
            }
            let _ = redacted(&s);
        }
    }

    #[test]
    fn the_key_ignores_the_subdirectory() {
        let a = parse("git::https://example.com/m.git//a?ref=v1").unwrap();
        let b = parse("git::https://example.com/m.git//b?ref=v1").unwrap();
        let c = parse("git::https://example.com/m.git//a?ref=v2").unwrap();
        assert_eq!(a.form.key(), b.form.key());
        assert_ne!(a.form.key(), c.form.key());
    }
}
