//! Failures the fake GitHub injects when a test asks: server errors, rate limits. A failed
//! request changes nothing, except with [`FaultKind::AppliedThen`], which is GitHub doing the
//! work and losing the answer.

use std::time::Duration;

/// How an injected failure answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// A server error with this status (500, 502, 503...).
    Status(u16),
    /// GitHub's secondary rate limit: 403 with `Retry-After` and its message.
    SecondaryRateLimit {
        /// The `Retry-After` header.
        retry_after: Duration,
    },
    /// The request is carried out, then answered with this server error (a 502 from a proxy
    /// after GitHub made the comment): what a client must not take as "not done".
    AppliedThen(u16),
    /// The primary rate limit: `x-ratelimit-remaining: 0` and a reset time.
    PrimaryRateLimit {
        /// 403 or 429.
        status: u16,
        /// How long until `x-ratelimit-reset`.
        reset_in: Duration,
    },
}

/// A failure to inject into the next requests, optionally only into those matching a method and
/// a path prefix. Built with [`Fault::status`], [`Fault::secondary_rate_limit`] or
/// [`Fault::primary_rate_limit`], then [`Fault::times`] and [`Fault::matching`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// How it answers.
    pub kind: FaultKind,
    /// How many more requests it answers.
    pub remaining: usize,
    /// Only requests with this method, if set.
    pub method: Option<String>,
    /// Only requests whose path starts with this, if set.
    pub path_prefix: Option<String>,
}

impl Fault {
    /// The next request is answered with server error `status`.
    pub fn status(status: u16) -> Fault {
        Fault::new(FaultKind::Status(status))
    }

    /// The next request is carried out, but answered with server error `status`.
    pub fn applied_then(status: u16) -> Fault {
        Fault::new(FaultKind::AppliedThen(status))
    }

    /// The next request hits the secondary rate limit, to be retried after `retry_after`.
    pub fn secondary_rate_limit(retry_after: Duration) -> Fault {
        Fault::new(FaultKind::SecondaryRateLimit { retry_after })
    }

    /// The next request finds the primary rate limit exhausted (`status` 403 or 429), resetting
    /// in `reset_in`.
    pub fn primary_rate_limit(status: u16, reset_in: Duration) -> Fault {
        Fault::new(FaultKind::PrimaryRateLimit { status, reset_in })
    }

    fn new(kind: FaultKind) -> Fault {
        Fault {
            kind,
            remaining: 1,
            method: None,
            path_prefix: None,
        }
    }

    /// Answers the next `n` (matching) requests instead of one.
    pub fn times(mut self, n: usize) -> Fault {
        self.remaining = n;
        self
    }

    /// Answers only requests with `method` (any, if empty) whose path starts with `path_prefix`.
    pub fn matching(mut self, method: &str, path_prefix: &str) -> Fault {
        self.method = (!method.is_empty()).then(|| method.to_ascii_uppercase());
        self.path_prefix = Some(path_prefix.to_string());
        self
    }

    pub(crate) fn applies_to(&self, method: &str, path: &str) -> bool {
        self.remaining > 0
            && self.method.as_deref().is_none_or(|m| m == method)
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|p| path.starts_with(p))
    }
}
