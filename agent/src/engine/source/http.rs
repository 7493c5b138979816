//! A small HTTP(S) GET client for registries and archives: hyper over rustls (the stack the AWS
//! SDK already brings), the system's root certificates, redirects followed (credentials dropped
//! when the host changes), bodies capped.

use std::sync::Arc;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::aws::Secret;

/// A reply, its body read in full.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// The URL that answered (after redirects).
    pub url: url::Url,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
}

/// The client, shared by every fetch of a cache.
pub struct Http {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

const REDIRECTS: usize = 10;

impl Http {
    pub fn new() -> Result<Http, String> {
        let mut roots = rustls::RootCertStore::empty();
        // Certificates that cannot be read are left out; HTTPS to a host needing them fails
        // with a certificate error naming the host.
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Http {
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// GETs `url`, following redirects; `auth` (an `Authorization` value) is sent to
    /// `auth_host` only. A body longer than `limit` bytes is an error.
    pub async fn get(
        &self,
        url: &url::Url,
        auth: Option<(&str, &Secret)>,
        limit: u64,
    ) -> Result<Reply, String> {
        let mut url = url.clone();
        for _ in 0..=REDIRECTS {
            let mut req = hyper::Request::get(url.as_str()).header("user-agent", "slipway");
            if let Some((host, value)) = auth {
                if authority(&url).as_deref() == Some(host) {
                    req = req.header("authorization", value.expose());
                }
            }
            let req = req
                .body(Empty::new())
                .map_err(|e| format!("cannot request {url}: {e}"))?;
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| format!("GET {url}: {}", chain(&e)))?;
            let status = resp.status().as_u16();
            if matches!(status, 301 | 302 | 303 | 307 | 308) {
                let location = resp
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| format!("GET {url}: redirect {status} without a location"))?;
                let next = url
                    .join(location)
                    .map_err(|e| format!("GET {url}: bad redirect {location}: {e}"))?;
                if url.scheme() == "https" && next.scheme() != "https" {
                    return Err(format!(
                        "GET {url}: refused a redirect from HTTPS to {next}"
                    ));
                }
                url = next;
                continue;
            }
            let headers = resp.headers().clone();
            let mut body = resp.into_body();
            let mut bytes = Vec::new();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| format!("GET {url}: {}", chain(&e)))?;
                if let Some(data) = frame.data_ref() {
                    bytes.extend_from_slice(data);
                    if bytes.len() as u64 > limit {
                        return Err(format!("GET {url}: more than {limit} bytes (the limit)"));
                    }
                }
            }
            return Ok(Reply {
                status,
                url,
                headers,
                body: bytes,
            });
        }
        Err(format!("GET {url}: more than {REDIRECTS} redirects"))
    }
}

/// `host` or `host:port`.
pub fn authority(u: &url::Url) -> Option<String> {
    let host = u.host_str()?;
    Some(match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    })
}

/// An error and its causes on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}
