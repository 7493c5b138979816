//! `tags-required`, `tags-allowed-values`, `tags-environment-match`.
//!
//! A resource is taggable when its after object has a `tags` or `tags_all` attribute (terraform
//! writes every schema attribute, null included). `tags_all` includes the provider's
//! `default_tags`, so it is what counts; when it is unknown until apply, only `tags` is read and
//! a missing key is not reported (the default tags may well supply it).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{is_changing, quote, RuleContext, Violation};
use crate::config::RuleId;
use crate::plan::ResourceView;

pub(super) fn check(rc: &ResourceView<'_>, ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    {
        if !is_changing(rc) || !rc.type_name.starts_with("aws_") {
            return;
        }
        let has =
            |k: &str| rc.change.after.get(k).is_some() || rc.change.after_unknown.get(k).is_some();
        if !has("tags") && !has("tags_all") {
            return;
        }
        let (tags, complete) = effective_tags(rc);
        check_resource(rc, &tags, complete, ctx, out);
    }
}

/// The tags a resource ends up with, and whether that set is complete (known).
fn effective_tags(rc: &ResourceView<'_>) -> (BTreeMap<String, Option<String>>, bool) {
    let mut tags = BTreeMap::new();
    collect(rc, "tags_all", &mut tags);
    collect(rc, "tags", &mut tags);
    let has =
        |k: &str| rc.change.after.get(k).is_some() || rc.change.after_unknown.get(k).is_some();
    let counted = if has("tags_all") { "tags_all" } else { "tags" };
    (tags, !rc.after_unknown_at(&[counted]))
}

/// Adds the known tags of one attribute; values that are sensitive or unknown become None.
fn collect(rc: &ResourceView<'_>, key: &str, tags: &mut BTreeMap<String, Option<String>>) {
    let Some(Value::Object(map)) = rc.change.after.get(key) else {
        return;
    };
    for (k, v) in map {
        let hidden = rc.after_at(&[key, k]).is_none() || rc.after_unknown_at(&[key, k]);
        let value = if hidden {
            None
        } else {
            v.as_str().map(str::to_string)
        };
        let slot = tags.entry(k.clone()).or_insert(None);
        if value.is_some() {
            *slot = value;
        }
    }
    // Keys present only as unknown values.
    if let Some(Value::Object(unknown)) = rc.change.after_unknown.get(key) {
        for k in unknown.keys() {
            tags.entry(k.clone()).or_insert(None);
        }
    }
}

fn check_resource(
    rc: &ResourceView<'_>,
    tags: &BTreeMap<String, Option<String>>,
    complete: bool,
    ctx: &RuleContext<'_>,
    out: &mut Vec<Violation>,
) {
    let policy = ctx.policy;
    let missing: Vec<&str> = policy
        .required_tags
        .iter()
        .filter(|k| match tags.get(k.as_str()) {
            None => complete,
            Some(Some(v)) => v.trim().is_empty(),
            Some(None) => false,
        })
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        out.push(Violation {
            rule: RuleId::TagsRequired,
            address: rc.address.clone(),
            message: format!(
                "missing required tag{} {} (tags and provider default_tags both count)",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ),
        });
    }
    for (key, allowed) in &policy.allowed_tag_values {
        if let Some(Some(value)) = tags.get(key) {
            if !value.trim().is_empty() && !allowed.iter().any(|a| a == value) {
                out.push(Violation {
                    rule: RuleId::TagsAllowedValues,
                    address: rc.address.clone(),
                    message: format!(
                        "tag {key} is {} but must be one of: {}",
                        quote(value),
                        allowed.join(", ")
                    ),
                });
            }
        }
    }
    if let Some(Some(value)) = tags.get(&policy.environment_tag) {
        if value != ctx.env {
            out.push(Violation {
                rule: RuleId::TagsEnvironmentMatch,
                address: rc.address.clone(),
                message: format!(
                    "tag {} is {} but the unit belongs to environment {}",
                    policy.environment_tag,
                    quote(value),
                    quote(ctx.env)
                ),
            });
        }
    }
}
