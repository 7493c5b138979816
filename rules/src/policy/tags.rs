//! `tags-required`, `tags-allowed-values`, `tags-environment-match`.
//!
//! A resource is taggable when its after object has a `tags` or `tags_all` attribute (terraform
//! writes every schema attribute, null included). `tags_all` includes the provider's
//! `default_tags`, so it is what counts. A tag whose value is known only after apply leaves the
//! other tags readable; when `tags_all` as a whole is unknown, only `tags` is read and a key
//! missing from it is "known after apply" (the default tags may well supply it).

use std::collections::BTreeMap;

use super::{is_changing, quote, RuleContext, Violation};
use crate::config::RuleId;
use crate::plan::{Known, ResourceView};

/// What is known of one tag's value.
#[derive(Debug, Clone, PartialEq)]
enum Tag {
    Value(String),
    /// Known only after apply.
    Unknown,
    /// Sensitive, or not a string.
    Hidden,
}

pub(super) fn check(rc: &ResourceView<'_>, ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    if !is_changing(rc) || !rc.type_name.starts_with("aws_") {
        return;
    }
    let has =
        |k: &str| rc.change.after.get(k).is_some() || rc.change.after_unknown.get(k).is_some();
    if !has("tags") && !has("tags_all") {
        return;
    }
    let counted = if has("tags_all") { "tags_all" } else { "tags" };
    let known = rc.after_known();
    let mut tags = BTreeMap::new();
    collect(known.get("tags_all"), &mut tags);
    collect(known.get("tags"), &mut tags);
    let complete = !known.get(counted).is_unknown();
    check_resource(rc, &tags, complete, counted, ctx, out);
}

/// Adds the tags of one attribute; a known value wins over an unknown one.
fn collect(attr: Known<'_>, tags: &mut BTreeMap<String, Tag>) {
    for (k, v) in attr.entries() {
        let tag = if v.is_unknown() {
            Tag::Unknown
        } else {
            match v.as_str() {
                Some(s) => Tag::Value(s.to_string()),
                None => Tag::Hidden,
            }
        };
        let slot = tags.entry(k.to_string()).or_insert(Tag::Hidden);
        match (&*slot, &tag) {
            (Tag::Value(_), _) => {}
            (_, Tag::Value(_)) | (Tag::Hidden, Tag::Unknown) => *slot = tag,
            _ => {}
        }
    }
}

fn check_resource(
    rc: &ResourceView<'_>,
    tags: &BTreeMap<String, Tag>,
    complete: bool,
    counted: &str,
    ctx: &RuleContext<'_>,
    out: &mut Vec<Violation>,
) {
    let policy = ctx.policy;
    let mut missing = Vec::new();
    let mut unknown = Vec::new();
    for k in &policy.required_tags {
        match tags.get(k.as_str()) {
            None if complete => missing.push(k.as_str()),
            None => unknown.push(k.as_str()),
            Some(Tag::Value(v)) if v.trim().is_empty() => missing.push(k.as_str()),
            Some(Tag::Unknown) => unknown.push(k.as_str()),
            Some(_) => {}
        }
    }
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    if !missing.is_empty() {
        out.push(Violation::new(
            RuleId::TagsRequired,
            &rc.address,
            format!(
                "missing required tag{} {} (tags and provider default_tags both count)",
                plural(missing.len()),
                missing.join(", ")
            ),
        ));
    } else if !unknown.is_empty() {
        let why = if complete {
            format!("the value{} known only after apply", plural(unknown.len()))
        } else {
            format!("{counted} (with the provider's default_tags) is known only after apply")
        };
        out.push(Violation::unknown(
            RuleId::TagsRequired,
            &rc.address,
            format!(
                "required tag{} {} cannot be checked before apply: {why}",
                plural(unknown.len()),
                unknown.join(", ")
            ),
        ));
    }
    for (key, allowed) in &policy.allowed_tag_values {
        match tags.get(key) {
            Some(Tag::Value(value))
                if !value.trim().is_empty() && !allowed.iter().any(|a| a == value) =>
            {
                out.push(Violation::new(
                    RuleId::TagsAllowedValues,
                    &rc.address,
                    format!(
                        "tag {key} is {} but must be one of: {}",
                        quote(value),
                        allowed.join(", ")
                    ),
                ));
            }
            Some(Tag::Unknown) => out.push(Violation::unknown(
                RuleId::TagsAllowedValues,
                &rc.address,
                format!(
                    "tag {key} must be one of: {}, and its value is known only after apply",
                    allowed.join(", ")
                ),
            )),
            _ => {}
        }
    }
    match tags.get(&policy.environment_tag) {
        Some(Tag::Value(value)) if value != ctx.env => out.push(Violation::new(
            RuleId::TagsEnvironmentMatch,
            &rc.address,
            format!(
                "tag {} is {} but the unit belongs to environment {}",
                policy.environment_tag,
                quote(value),
                quote(ctx.env)
            ),
        )),
        Some(Tag::Unknown) => out.push(Violation::unknown(
            RuleId::TagsEnvironmentMatch,
            &rc.address,
            format!(
                "tag {} must be {}, and its value is known only after apply",
                policy.environment_tag,
                quote(ctx.env)
            ),
        )),
        _ => {}
    }
}
