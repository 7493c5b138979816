//! The HTTP face of `slipway serve`: `POST /webhooks/github` (verify, convert, persist, answer),
//! `GET /healthz` and `GET /readyz`. Nothing slow happens inside a request: no GitHub call, no
//! git fetch, no plan. A delivery and the jobs it makes are stored in one transaction before
//! the answer.

use std::sync::Arc;

use agent::store::{Delivery, Recorded, Store};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{KeyInit, Mac};

use crate::github::events::{self, Event, EventError};
use crate::jobs::{self, JobPolicy};

/// GitHub caps webhook payloads at 25 MB; a larger body is refused with 413.
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

/// What the webhook endpoint needs.
pub struct Ingest {
    pub store: Arc<dyn Store>,
    /// Every secret that signs valid deliveries (several while one is rotated).
    pub secrets: Vec<Vec<u8>>,
    pub policy: JobPolicy,
    /// Why Slipway cannot act on what it records (no GitHub credentials), if it cannot.
    pub cannot_act: Option<String>,
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingest")
            .field("secrets", &self.secrets.len())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// The router of `slipway serve`.
pub fn router(ingest: Arc<Ingest>) -> Router {
    Router::new()
        .route("/webhooks/github", post(webhook))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(ingest)
}

/// Whether `signature` (`sha256=<hex>`, GitHub's `X-Hub-Signature-256`) is the HMAC-SHA256 of
/// `body` under one of `secrets`. The comparison is constant-time.
pub fn verify(secrets: &[Vec<u8>], body: &[u8], signature: &str) -> bool {
    let Some(hex_sig) = signature.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    secrets.iter().any(|secret| {
        let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret) else {
            return false;
        };
        mac.update(body);
        mac.verify_slice(&sig).is_ok()
    })
}

/// The `X-Hub-Signature-256` value GitHub would send for `body` under `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    match hmac::Hmac::<sha2::Sha256>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(body);
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        }
        Err(_) => String::new(),
    }
}

fn answer(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(serde_json::json!({ "message": message.into() })),
    )
        .into_response()
}

async fn webhook(State(ingest): State<Arc<Ingest>>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(signature) = header("x-hub-signature-256") else {
        return answer(StatusCode::UNAUTHORIZED, "X-Hub-Signature-256 is missing");
    };
    if !verify(&ingest.secrets, &body, signature) {
        tracing::warn!("a delivery with a wrong signature was refused");
        return answer(
            StatusCode::UNAUTHORIZED,
            "X-Hub-Signature-256 does not match the body under any configured secret",
        );
    }
    let Some(event_name) = header("x-github-event") else {
        return answer(StatusCode::BAD_REQUEST, "X-GitHub-Event is missing");
    };
    let Some(delivery_id) = header("x-github-delivery").filter(|d| valid_delivery_id(d)) else {
        return answer(
            StatusCode::BAD_REQUEST,
            "X-GitHub-Delivery is missing or not a delivery id",
        );
    };
    if event_name.is_empty()
        || event_name.len() > 100
        || !event_name.bytes().all(|b| b.is_ascii_graphic())
    {
        return answer(
            StatusCode::BAD_REQUEST,
            "X-GitHub-Event is not an event name",
        );
    }
    let (event, action) = match events::parse_delivery(event_name, &body) {
        Ok(p) => (p.event, p.action),
        Err(e @ EventError::NotJson(_)) => return answer(StatusCode::BAD_REQUEST, e.to_string()),
        Err(e) => {
            tracing::warn!(delivery = delivery_id, "refused: {e}");
            return answer(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    let jobs = jobs::jobs_for(&event, ingest.policy);
    let handled = !matches!(event, Event::Ignored { .. });
    let delivery = Delivery {
        id: delivery_id.to_string(),
        event: event_name.to_string(),
        action,
        repo: event.repo().map(|r| r.name.clone()),
        handled,
        received_at_ms: agent::store::now_ms(),
    };
    match ingest.store.record_delivery(&delivery, &jobs).await {
        Ok(Recorded::New { jobs }) => {
            tracing::info!(
                delivery = delivery_id,
                event = event_name,
                jobs = jobs.len(),
                "delivery recorded"
            );
            (
                StatusCode::ACCEPTED,
                Json(serde_json::json!({ "delivery": delivery_id, "jobs": jobs })),
            )
                .into_response()
        }
        Ok(Recorded::Duplicate) => answer(StatusCode::OK, "this delivery was already recorded"),
        Err(e) => {
            tracing::error!(delivery = delivery_id, "cannot record a delivery: {e}");
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "the delivery cannot be recorded now; redeliver it later",
            )
        }
    }
}

/// GitHub's delivery ids are GUIDs; anything printable and short is accepted.
fn valid_delivery_id(d: &str) -> bool {
    !d.is_empty() && d.len() <= 100 && d.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

async fn readyz(State(ingest): State<Arc<Ingest>>) -> Response {
    match ingest.store.ready().await {
        Ok(()) => (
            StatusCode::OK,
            Json(serde_json::json!({
                "store": "ok",
                "github": ingest.cannot_act.as_deref().map_or_else(
                    || "ok".to_string(),
                    |why| format!("deliveries are recorded but not acted on: {why}"),
                ),
            })),
        )
            .into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "store": e.to_string() })),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_under_any_configured_secret_and_only_for_its_body() {
        let body = br#"{"zen":"Keep it logically awesome."}"#;
        let sig = sign(b"new", body);
        assert!(verify(&[b"old".to_vec(), b"new".to_vec()], body, &sig));
        assert!(!verify(&[b"old".to_vec()], body, &sig));
        assert!(!verify(&[b"new".to_vec()], b"{}", &sig));
        assert!(!verify(
            &[b"new".to_vec()],
            body,
            &sig.replace("sha256=", "sha1=")
        ));
        assert!(!verify(&[b"new".to_vec()], body, "sha256=zz"));
    }
}
