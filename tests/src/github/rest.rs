//! GitHub's official REST description (`@octokit/openapi`), loaded once per process: which
//! method and path GitHub serves, and what a request or answer body must look like.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

/// Most schema errors reported for one body: a list of 51 bad items needs no 51 lines.
const MAX_ERRORS: usize = 8;

/// The REST description and its routes.
pub(crate) struct RestDescription {
    doc: Value,
    routes: Vec<Route>,
}

/// One operation: a method on a path template.
struct Route {
    method: String,
    template: String,
    segments: Vec<Segment>,
}

enum Segment {
    Literal(String),
    /// A `{param}`; `true` when the description types it as an integer.
    Param(String, bool),
}

/// A request's operation in the description.
pub(crate) struct Operation<'a> {
    /// The operation's method, upper case.
    pub method: &'a str,
    /// The path template, e.g. `/repos/{owner}/{repo}/check-runs`.
    pub template: &'a str,
    /// The path parameters by name.
    pub params: BTreeMap<String, String>,
    op: &'a Value,
}

/// Where `scripts/tools.sh github` puts the description.
fn description_path() -> PathBuf {
    crate::workspace_root()
        .join(".tools/node_modules/@octokit/openapi/generated/api.github.com.json")
}

impl RestDescription {
    /// The description, read on first use.
    pub(crate) fn get() -> &'static RestDescription {
        static DESCRIPTION: OnceLock<RestDescription> = OnceLock::new();
        DESCRIPTION.get_or_init(|| {
            let path = description_path();
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "GitHub's REST description {} is unreadable ({e}): run `scripts/tools.sh github`",
                    path.display()
                )
            });
            let doc: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
            RestDescription::new(doc)
        })
    }

    fn new(doc: Value) -> RestDescription {
        let mut routes = Vec::new();
        if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
            for (template, item) in paths {
                let Some(item) = item.as_object() else {
                    continue;
                };
                for (method, op) in item {
                    if method == "parameters" || !op.is_object() {
                        continue;
                    }
                    let integer_params = integer_path_params(&doc, item.get("parameters"), op);
                    let segments = template
                        .split('/')
                        .skip(1)
                        .map(
                            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                                Some(name) => {
                                    Segment::Param(name.to_string(), integer_params.contains(&name))
                                }
                                None => Segment::Literal(s.to_string()),
                            },
                        )
                        .collect();
                    routes.push(Route {
                        method: method.to_ascii_uppercase(),
                        template: template.clone(),
                        segments,
                    });
                }
            }
        }
        RestDescription { doc, routes }
    }

    /// The operation `method path` is, or why GitHub does not serve it. Segments are matched one
    /// by one; a literal segment is preferred to a parameter. As GitHub documents, a `POST` is
    /// taken for a `PATCH` on a path that has no `POST`.
    pub(crate) fn operation(&self, method: &str, path: &str) -> Result<Operation<'_>, String> {
        match self.operation_exactly(method, path) {
            Err(why) if method == "POST" => self.operation_exactly("PATCH", path).map_err(|_| why),
            found => found,
        }
    }

    fn operation_exactly(&self, method: &str, path: &str) -> Result<Operation<'_>, String> {
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        let mut best: Option<(usize, &Route, BTreeMap<String, String>)> = None;
        let mut other_methods = Vec::new();
        for route in &self.routes {
            let Some(params) = route.matches(&segments) else {
                continue;
            };
            if route.method != method {
                other_methods.push(route.method.as_str());
                continue;
            }
            let literals = route
                .segments
                .iter()
                .filter(|s| matches!(s, Segment::Literal(_)))
                .count();
            if best.as_ref().is_none_or(|(n, _, _)| literals > *n) {
                best = Some((literals, route, params));
            }
        }
        match best {
            Some((_, route, params)) => {
                let op = self
                    .doc
                    .get("paths")
                    .and_then(|p| p.get(&route.template))
                    .and_then(|p| p.get(route.method.to_ascii_lowercase()))
                    .unwrap_or(&Value::Null);
                Ok(Operation {
                    method: &route.method,
                    template: &route.template,
                    params,
                    op,
                })
            }
            None if other_methods.is_empty() => {
                Err("GitHub's REST description has no such path".to_string())
            }
            None => {
                other_methods.sort_unstable();
                other_methods.dedup();
                Err(format!(
                    "GitHub's REST description has no {method} on this path (only {})",
                    other_methods.join(", ")
                ))
            }
        }
    }

    /// What is wrong with a request body for `op`: a missing body, missing required
    /// properties, values of the wrong type, values out of an enum or over a length limit.
    pub(crate) fn check_request(&self, op: &Operation<'_>, body: Option<&Value>) -> Vec<String> {
        let Some(request_body) = op.op.get("requestBody").map(|b| self.resolve(b)) else {
            return Vec::new();
        };
        let Some(schema) = request_body.pointer("/content/application~1json/schema") else {
            return Vec::new();
        };
        match body {
            None if request_body.get("required") == Some(&Value::Bool(true)) => {
                vec!["the operation requires a JSON body and none was sent".to_string()]
            }
            None => Vec::new(),
            Some(body) => self.errors(schema, body),
        }
    }

    /// What is wrong with an answer of the fake: GitHub's description of the answer with
    /// `status` does not allow `body`. Used to keep the fake honest.
    pub(crate) fn check_response(
        &self,
        op: &Operation<'_>,
        status: u16,
        body: &Value,
    ) -> Vec<String> {
        let schema = op
            .op
            .get("responses")
            .and_then(|r| r.get(status.to_string()))
            .map(|r| self.resolve(r))
            .and_then(|r| r.pointer("/content/application~1json/schema"));
        match schema {
            Some(schema) => self.errors(schema, body),
            None => Vec::new(),
        }
    }

    fn errors(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.validate(schema, value, "body", &mut errors);
        errors.truncate(MAX_ERRORS);
        errors
    }

    /// Follows `$ref`s to the component they name.
    fn resolve<'a>(&'a self, mut value: &'a Value) -> &'a Value {
        for _ in 0..16 {
            match value.get("$ref").and_then(Value::as_str) {
                Some(reference) => {
                    value = reference
                        .strip_prefix('#')
                        .and_then(|p| self.doc.pointer(p))
                        .unwrap_or(&Value::Null);
                }
                None => break,
            }
        }
        value
    }

    /// Checks `value` against the part of JSON Schema the description uses: `type`, `nullable`,
    /// `enum`, `required`, `properties`, `items`, `maxLength`, `maxItems`, `allOf`, `oneOf`,
    /// `anyOf`. Unknown properties are allowed, as GitHub ignores them.
    fn validate(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        if errors.len() >= MAX_ERRORS {
            return;
        }
        let schema = self.resolve(schema);
        if value.is_null() {
            let typed = schema.get("type").is_some()
                || schema.get("oneOf").is_some()
                || schema.get("anyOf").is_some();
            if typed && schema.get("nullable") != Some(&Value::Bool(true)) {
                errors.push(format!(
                    "{at} is null, which the description does not allow"
                ));
            }
            return;
        }
        for sub in array(schema, "allOf") {
            self.validate(sub, value, at, errors);
        }
        for key in ["oneOf", "anyOf"] {
            let alternatives = array(schema, key);
            if !alternatives.is_empty()
                && !alternatives.iter().any(|sub| {
                    let mut sub_errors = Vec::new();
                    self.validate(sub, value, at, &mut sub_errors);
                    sub_errors.is_empty()
                })
            {
                errors.push(format!("{at} matches none of the description's {key}"));
            }
        }
        if let Some(expected) = schema.get("type").and_then(Value::as_str) {
            let ok = match expected {
                "string" => value.is_string(),
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                "boolean" => value.is_boolean(),
                "array" => value.is_array(),
                "object" => value.is_object(),
                _ => true,
            };
            if !ok {
                errors.push(format!("{at} should be of type {expected}, not {value}"));
                return;
            }
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            if !allowed.contains(value) {
                errors.push(format!(
                    "{at} is {value}, not one of {}",
                    Value::Array(allowed.clone())
                ));
            }
        }
        if let (Some(max), Some(text)) = (
            schema.get("maxLength").and_then(Value::as_u64),
            value.as_str(),
        ) {
            let length = text.chars().count() as u64;
            if length > max {
                errors.push(format!(
                    "{at} is {length} characters long, over the maximum of {max}"
                ));
            }
        }
        if let Some(items) = value.as_array() {
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
                if items.len() as u64 > max {
                    errors.push(format!(
                        "{at} has {} items, over the maximum of {max}",
                        items.len()
                    ));
                }
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    self.validate(item_schema, item, &format!("{at}[{i}]"), errors);
                }
            }
        }
        if let Some(object) = value.as_object() {
            for required in array(schema, "required") {
                if let Some(name) = required.as_str() {
                    if !object.contains_key(name) {
                        errors.push(format!("{at} lacks the required property `{name}`"));
                    }
                }
            }
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, sub) in properties {
                    if let Some(v) = object.get(name) {
                        self.validate(sub, v, &format!("{at}.{name}"), errors);
                    }
                }
            }
        }
    }
}

impl Route {
    fn matches(&self, segments: &[&str]) -> Option<BTreeMap<String, String>> {
        if segments.len() != self.segments.len() {
            return None;
        }
        let mut params = BTreeMap::new();
        for (pattern, segment) in self.segments.iter().zip(segments) {
            match pattern {
                Segment::Literal(literal) if literal == segment => {}
                Segment::Literal(_) => return None,
                Segment::Param(_, _) if segment.is_empty() => return None,
                Segment::Param(_, true) if !segment.bytes().all(|b| b.is_ascii_digit()) => {
                    return None
                }
                Segment::Param(name, _) => {
                    params.insert(name.clone(), (*segment).to_string());
                }
            }
        }
        Some(params)
    }
}

fn array<'a>(schema: &'a Value, key: &str) -> &'a [Value] {
    schema
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The names of the path parameters the description types as integers.
fn integer_path_params<'a>(
    doc: &'a Value,
    path_params: Option<&'a Value>,
    op: &'a Value,
) -> Vec<&'a str> {
    let listed = path_params
        .and_then(Value::as_array)
        .into_iter()
        .chain(op.get("parameters").and_then(Value::as_array))
        .flatten();
    listed
        .filter_map(|p| match p.get("$ref").and_then(Value::as_str) {
            Some(reference) => reference.strip_prefix('#').and_then(|r| doc.pointer(r)),
            None => Some(p),
        })
        .filter(|p| p.get("in").and_then(Value::as_str) == Some("path"))
        .filter(|p| p.pointer("/schema/type").and_then(Value::as_str) == Some("integer"))
        .filter_map(|p| p.get("name").and_then(Value::as_str))
        .collect()
}
