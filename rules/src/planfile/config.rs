//! The `configuration` part of `terraform show -json`, rebuilt from the configuration snapshot
//! inside a plan file: provider configurations, and per module the resources (with the
//! references of each argument), module calls, variables and outputs.
//!
//! References follow terraform's rules: the traversals an expression reads (names bound by
//! `for` left out), each parsed into a referenceable subject, and listed from the longest
//! form to the subject itself (`aws_ecs_task_definition.app.arn`, then
//! `aws_ecs_task_definition.app`). Only top-level arguments are rendered; nested blocks are
//! left out.

use std::collections::{BTreeMap, BTreeSet};

use hcl::expr::{Expression, ObjectKey, Operation, TemplateExpr, TraversalOperator};
use hcl::template::{Directive, Element, Template};
use hcl::{Block, Body};
use serde_json::{json, Map, Value};

use super::address::go_quote;
use super::cty::Fault;

/// The configuration snapshot: module keys (`""`, `app`, `app.leaf`) and their files.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Every module key of `tfconfig/modules.json`.
    pub keys: BTreeSet<String>,
    /// Files by module key: (file name, contents).
    pub files: BTreeMap<String, Vec<(String, String)>>,
}

/// Where a fault was found: a file or a module, and what.
pub type Located = (String, Fault);

/// Answers whether a block name in a resource body is, per the provider schema, an attribute
/// (terraform then reads the blocks as that attribute's value). None: no schema for the type.
pub type AttrAsBlock<'a> = dyn Fn(bool, &str, &str) -> Option<bool> + 'a;

/// Builds `configuration`.
pub fn configuration(snap: &Snapshot, attr_as_block: &AttrAsBlock<'_>) -> Result<Value, Located> {
    let mut providers = Map::new();
    let root = module(snap, "", "", "", &mut providers, attr_as_block)?;
    let mut out = Map::new();
    if !providers.is_empty() {
        out.insert("provider_config".into(), Value::Object(providers));
    }
    out.insert("root_module".into(), root);
    Ok(Value::Object(out))
}

const RESOURCE_META: &[&str] = &["count", "for_each", "provider", "depends_on"];
const RESOURCE_META_BLOCKS: &[&str] = &["lifecycle", "provisioner", "connection"];
const MODULE_META: &[&str] = &[
    "source",
    "version",
    "count",
    "for_each",
    "providers",
    "depends_on",
];

/// One module: `key` is its snapshot key, `path` its module path (`module.a.module.b`),
/// `call` the name it is called by (terraform prefixes its resources' provider keys with it).
fn module(
    snap: &Snapshot,
    key: &str,
    path: &str,
    call: &str,
    providers: &mut Map<String, Value>,
    attr_as_block: &AttrAsBlock<'_>,
) -> Result<Value, Located> {
    if !snap.keys.contains(key) {
        return Err((
            "tfconfig/modules.json".into(),
            Fault::Corrupt(format!("no module `{key}` in the manifest")),
        ));
    }
    let mut bodies = Vec::new();
    for (name, text) in snap.files.get(key).map(Vec::as_slice).unwrap_or_default() {
        let at = format!("tfconfig/m-{key}/{name}");
        if name.ends_with(".tf.json") {
            return Err((at, Fault::Unsupported("JSON configuration files".into())));
        }
        if !name.ends_with(".tf") {
            continue;
        }
        if name == "override.tf" || name.ends_with("_override.tf") {
            return Err((at, Fault::Unsupported("override files".into())));
        }
        let body: Body = hcl::parse(text).map_err(|e| {
            (
                at.clone(),
                Fault::Unsupported(format!("the HCL parser used here rejects it: {e}")),
            )
        })?;
        bodies.push((at, body));
    }

    let mut resources = Vec::new();
    let mut calls = Map::new();
    let mut variables = Map::new();
    let mut outputs = Map::new();
    let mut provider_blocks = Vec::new();
    let mut required = Vec::new();
    for (at, body) in &bodies {
        let fail = |f: Fault| (at.clone(), f);
        for block in body.blocks() {
            let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
            match (block.identifier.as_str(), labels.as_slice()) {
                ("resource", [t, n]) => {
                    resources.push(resource(block, false, t, n, call, attr_as_block).map_err(fail)?)
                }
                ("data", [t, n]) => {
                    resources.push(resource(block, true, t, n, call, attr_as_block).map_err(fail)?)
                }
                ("module", [n]) => {
                    let child_key = if key.is_empty() {
                        (*n).to_string()
                    } else {
                        format!("{key}.{n}")
                    };
                    let child_path = if path.is_empty() {
                        format!("module.{n}")
                    } else {
                        format!("{path}.module.{n}")
                    };
                    let mut c = Map::new();
                    if let Some(src) = block.body.attributes().find(|a| a.key.as_str() == "source")
                    {
                        match &src.expr {
                            Expression::String(s) => {
                                c.insert("source".into(), Value::String(s.clone()));
                            }
                            _ => {
                                return Err(fail(Fault::Unsupported(format!(
                                    "module `{n}` has a source that is not a string"
                                ))))
                            }
                        }
                    }
                    let exprs = expressions(&block.body, MODULE_META).map_err(fail)?;
                    if !exprs.is_empty() {
                        c.insert("expressions".into(), Value::Object(exprs));
                    }
                    let child = module(snap, &child_key, &child_path, n, providers, attr_as_block)?;
                    c.insert("module".into(), child);
                    calls.insert((*n).to_string(), Value::Object(c));
                }
                ("variable", [n]) => {
                    variables.insert((*n).to_string(), sensitive_flag(block).map_err(fail)?);
                }
                ("output", [n]) => {
                    outputs.insert((*n).to_string(), sensitive_flag(block).map_err(fail)?);
                }
                ("provider", [n]) => provider_blocks.push((*n, block)),
                ("terraform", []) => {
                    for rp in block
                        .body
                        .blocks()
                        .filter(|b| b.identifier.as_str() == "required_providers")
                    {
                        for a in rp.body.attributes() {
                            if let Expression::Object(o) = &a.expr {
                                if o.keys()
                                    .any(|k| object_key_name(k) == Some("configuration_aliases"))
                                {
                                    return Err(fail(Fault::Unsupported(format!(
                                        "configuration_aliases of provider `{}`",
                                        a.key.as_str()
                                    ))));
                                }
                            }
                            required.push(a.key.as_str().to_string());
                        }
                    }
                }
                _ => {}
            }
        }
    }

    let provider_key = |name: &str| {
        if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}:{name}")
        }
    };
    for (name, block) in provider_blocks {
        let at = format!("provider `{name}` in module `{key}`");
        let alias = match block.body.attributes().find(|a| a.key.as_str() == "alias") {
            Some(a) => match &a.expr {
                Expression::String(s) => Some(s.clone()),
                _ => {
                    return Err((
                        at,
                        Fault::Unsupported("an alias that is not a string".into()),
                    ))
                }
            },
            None => None,
        };
        let mut p = Map::new();
        p.insert("name".into(), json!(name));
        if let Some(alias) = &alias {
            p.insert("alias".into(), json!(alias));
        }
        if !path.is_empty() {
            p.insert("module_address".into(), json!(path));
        }
        let exprs = expressions(&block.body, &["alias", "version"]).map_err(|f| (at.clone(), f))?;
        if let Some(Value::Object(region)) = exprs.get("region") {
            if region.is_empty() {
                return Err((
                    at,
                    Fault::Unsupported(
                        "a `region` that is neither a constant nor references".into(),
                    ),
                ));
            }
        }
        if !exprs.is_empty() {
            p.insert("expressions".into(), Value::Object(exprs));
        }
        let k = match &alias {
            Some(a) => provider_key(&format!("{name}.{a}")),
            None => provider_key(name),
        };
        providers.insert(k, Value::Object(p));
    }
    for name in required {
        let k = provider_key(&name);
        if !providers.contains_key(&k) {
            let mut p = Map::new();
            p.insert("name".into(), json!(name));
            if !path.is_empty() {
                p.insert("module_address".into(), json!(path));
            }
            providers.insert(k, Value::Object(p));
        }
    }

    // Terraform lists managed resources, then data sources, each sorted by address.
    resources.sort_by_key(|r| {
        (
            r["mode"] == "data",
            r["address"].as_str().unwrap_or_default().to_string(),
        )
    });
    let mut m = Map::new();
    if !outputs.is_empty() {
        m.insert("outputs".into(), Value::Object(outputs));
    }
    if !resources.is_empty() {
        m.insert("resources".into(), Value::Array(resources));
    }
    if !calls.is_empty() {
        m.insert("module_calls".into(), Value::Object(calls));
    }
    if !variables.is_empty() {
        m.insert("variables".into(), Value::Object(variables));
    }
    Ok(Value::Object(m))
}

fn object_key_name(k: &ObjectKey) -> Option<&str> {
    match k {
        ObjectKey::Identifier(i) => Some(i.as_str()),
        ObjectKey::Expression(Expression::String(s)) => Some(s),
        _ => None,
    }
}

fn sensitive_flag(block: &Block) -> Result<Value, Fault> {
    let mut m = Map::new();
    if let Some(a) = block
        .body
        .attributes()
        .find(|a| a.key.as_str() == "sensitive")
    {
        match a.expr {
            Expression::Bool(true) => {
                m.insert("sensitive".into(), Value::Bool(true));
            }
            Expression::Bool(false) => {}
            _ => {
                return Err(Fault::Unsupported(
                    "`sensitive` that is not a literal bool".into(),
                ))
            }
        }
    }
    Ok(Value::Object(m))
}

fn resource(
    block: &Block,
    data: bool,
    type_name: &str,
    name: &str,
    call: &str,
    attr_as_block: &AttrAsBlock<'_>,
) -> Result<Value, Fault> {
    let address = if data {
        format!("data.{type_name}.{name}")
    } else {
        format!("{type_name}.{name}")
    };
    // `provider = null.b`: the HCL parser reads a provider named like a keyword as the keyword.
    let bare = |e: &Expression| match e {
        Expression::Variable(v) => Some(v.as_str().to_string()),
        Expression::Null => Some("null".to_string()),
        Expression::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let local = match block
        .body
        .attributes()
        .find(|a| a.key.as_str() == "provider")
    {
        None => type_name.split('_').next().unwrap_or(type_name).to_string(),
        Some(a) => {
            let named = match &a.expr {
                Expression::Traversal(t) => match (bare(&t.expr), t.operators.as_slice()) {
                    (Some(p), [TraversalOperator::GetAttr(alias)]) => {
                        Some(format!("{p}.{}", alias.as_str()))
                    }
                    _ => None,
                },
                e => bare(e),
            };
            named.ok_or_else(|| {
                Fault::Unsupported(format!("the `provider` argument of {address}"))
            })?
        }
    };
    let provider_config_key = if call.is_empty() {
        local
    } else {
        format!("{call}:{local}")
    };
    for b in block.body.blocks() {
        let id = b.identifier.as_str();
        if RESOURCE_META_BLOCKS.contains(&id) {
            continue;
        }
        let named = if id == "dynamic" {
            b.labels.first().map(|l| l.as_str()).unwrap_or_default()
        } else {
            id
        };
        match attr_as_block(data, type_name, named) {
            Some(false) => {}
            Some(true) => {
                return Err(Fault::Unsupported(format!(
                    "`{named}` blocks of {address}, which its provider declares as an attribute"
                )))
            }
            None => {
                return Err(Fault::Unsupported(format!(
                    "the `{named}` block of {address}: no provider schema for {type_name}"
                )))
            }
        }
    }
    let mut r = Map::new();
    r.insert("address".into(), json!(address));
    r.insert("mode".into(), json!(if data { "data" } else { "managed" }));
    r.insert("type".into(), json!(type_name));
    r.insert("name".into(), json!(name));
    r.insert("provider_config_key".into(), json!(provider_config_key));
    let exprs = expressions(&block.body, RESOURCE_META)?;
    if !exprs.is_empty() {
        r.insert("expressions".into(), Value::Object(exprs));
    }
    Ok(Value::Object(r))
}

/// `{argument: {"constant_value": ..., "references": [...]}}` for the body's attributes.
fn expressions(body: &Body, skip: &[&str]) -> Result<Map<String, Value>, Fault> {
    let mut out = Map::new();
    for a in body.attributes() {
        let name = a.key.as_str();
        if skip.contains(&name) {
            continue;
        }
        let mut e = Map::new();
        if let Some(c) = literal(&a.expr) {
            e.insert("constant_value".into(), c);
        }
        let refs = references(&a.expr).map_err(|f| match f {
            Fault::Unsupported(m) => Fault::Unsupported(format!("argument `{name}`: {m}")),
            Fault::Corrupt(m) => Fault::Corrupt(format!("argument `{name}`: {m}")),
        })?;
        if !refs.is_empty() {
            e.insert("references".into(), json!(refs));
        }
        out.insert(name.to_string(), Value::Object(e));
    }
    Ok(out)
}

/// The value of an expression made of literals only.
fn literal(expr: &Expression) -> Option<Value> {
    Some(match expr {
        Expression::Null => Value::Null,
        Expression::Bool(b) => Value::Bool(*b),
        Expression::Number(n) => serde_json::to_value(n).ok()?,
        Expression::String(s) => Value::String(s.clone()),
        Expression::Array(a) => Value::Array(a.iter().map(literal).collect::<Option<_>>()?),
        Expression::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| Some((object_key_name(k)?.to_string(), literal(v)?)))
                .collect::<Option<_>>()?,
        ),
        Expression::TemplateExpr(t) => {
            let template = Template::from_expr(t).ok()?;
            let mut s = String::new();
            for e in template.elements() {
                match e {
                    Element::Literal(l) => s.push_str(l),
                    _ => return None,
                }
            }
            Value::String(s)
        }
        _ => return None,
    })
}

/// An index key written as a literal (terraform keeps it in the traversal).
#[derive(Debug, Clone, PartialEq)]
enum Key {
    Str(String),
    Int(u64),
}

#[derive(Debug, Clone, PartialEq)]
enum TStep {
    Attr(String),
    Index(Key),
}

fn literal_key(e: &Expression) -> Result<Option<Key>, Fault> {
    Ok(match e {
        Expression::String(s) => Some(Key::Str(s.clone())),
        Expression::Number(n) => match n.as_u64() {
            Some(i) if i < 10_000_000_000 => Some(Key::Int(i)),
            _ => return Err(Fault::Unsupported(format!("index {n}"))),
        },
        Expression::Bool(_) | Expression::Null => {
            return Err(Fault::Unsupported("a bool or null index".into()))
        }
        _ => None,
    })
}

/// The references of an expression, as terraform lists them.
fn references(expr: &Expression) -> Result<Vec<String>, Fault> {
    let mut w = Walker::default();
    w.expr(expr)?;
    let mut out = Vec::new();
    for (root, steps) in w.traversals {
        expand(&root, &steps, &mut out)?;
    }
    Ok(out)
}

#[derive(Default)]
struct Walker {
    scopes: Vec<Vec<String>>,
    traversals: Vec<(String, Vec<TStep>)>,
}

impl Walker {
    fn emit(&mut self, root: &str, steps: Vec<TStep>) {
        if !self.scopes.iter().flatten().any(|n| n == root) {
            self.traversals.push((root.to_string(), steps));
        }
    }

    fn expr(&mut self, e: &Expression) -> Result<(), Fault> {
        match e {
            Expression::Null
            | Expression::Bool(_)
            | Expression::Number(_)
            | Expression::String(_) => {}
            Expression::Array(a) => {
                for x in a {
                    self.expr(x)?;
                }
            }
            Expression::Object(o) => {
                for (k, v) in o.iter() {
                    if let ObjectKey::Expression(k) = k {
                        self.expr(k)?;
                    }
                    self.expr(v)?;
                }
            }
            Expression::TemplateExpr(t) => self.template_expr(t)?,
            Expression::Variable(v) => self.emit(v.as_str(), Vec::new()),
            Expression::Traversal(t) => {
                let root = match &t.expr {
                    Expression::Variable(v) => Some(v.as_str()),
                    Expression::Parenthesis(_) => {
                        return Err(Fault::Unsupported(
                            "a traversal of a parenthesized expression".into(),
                        ))
                    }
                    other => {
                        self.expr(other)?;
                        None
                    }
                };
                // `live`: still inside the traversal terraform starts at the root.
                let mut live = root.is_some();
                let mut steps = Vec::new();
                for op in &t.operators {
                    match op {
                        TraversalOperator::GetAttr(id) => {
                            if live {
                                steps.push(TStep::Attr(id.as_str().to_string()));
                            }
                        }
                        TraversalOperator::LegacyIndex(i) => {
                            if live {
                                steps.push(TStep::Index(Key::Int(*i)));
                            }
                        }
                        TraversalOperator::Index(k) => match literal_key(k)? {
                            Some(key) => {
                                if live {
                                    steps.push(TStep::Index(key));
                                }
                            }
                            None => {
                                if let (true, Some(r)) = (live, root) {
                                    self.emit(r, std::mem::take(&mut steps));
                                    live = false;
                                }
                                self.expr(k)?;
                            }
                        },
                        TraversalOperator::AttrSplat | TraversalOperator::FullSplat => {
                            if let (true, Some(r)) = (live, root) {
                                self.emit(r, std::mem::take(&mut steps));
                                live = false;
                            }
                        }
                    }
                }
                if let (true, Some(r)) = (live, root) {
                    self.emit(r, steps);
                }
            }
            Expression::FuncCall(f) => {
                for a in &f.args {
                    self.expr(a)?;
                }
            }
            Expression::Parenthesis(p) => self.expr(p)?,
            Expression::Conditional(c) => {
                self.expr(&c.cond_expr)?;
                self.expr(&c.true_expr)?;
                self.expr(&c.false_expr)?;
            }
            Expression::Operation(op) => match op.as_ref() {
                Operation::Unary(u) => self.expr(&u.expr)?,
                Operation::Binary(b) => {
                    self.expr(&b.lhs_expr)?;
                    self.expr(&b.rhs_expr)?;
                }
            },
            Expression::ForExpr(f) => {
                self.expr(&f.collection_expr)?;
                let mut names = vec![f.value_var.as_str().to_string()];
                if let Some(k) = &f.key_var {
                    names.push(k.as_str().to_string());
                }
                self.scopes.push(names);
                if let Some(k) = &f.key_expr {
                    self.expr(k)?;
                }
                self.expr(&f.value_expr)?;
                if let Some(c) = &f.cond_expr {
                    self.expr(c)?;
                }
                self.scopes.pop();
            }
            #[allow(unreachable_patterns)]
            _ => return Err(Fault::Unsupported("an expression of a newer HCL".into())),
        }
        Ok(())
    }

    fn template_expr(&mut self, t: &TemplateExpr) -> Result<(), Fault> {
        let template = Template::from_expr(t)
            .map_err(|e| Fault::Unsupported(format!("a template the parser rejects: {e}")))?;
        self.template(&template)
    }

    fn template(&mut self, t: &Template) -> Result<(), Fault> {
        for e in t.elements() {
            match e {
                Element::Literal(_) => {}
                Element::Interpolation(i) => self.expr(&i.expr)?,
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(i) => {
                        self.expr(&i.cond_expr)?;
                        self.template(&i.true_template)?;
                        if let Some(f) = &i.false_template {
                            self.template(f)?;
                        }
                    }
                    Directive::For(f) => {
                        self.expr(&f.collection_expr)?;
                        let mut names = vec![f.value_var.as_str().to_string()];
                        if let Some(k) = &f.key_var {
                            names.push(k.as_str().to_string());
                        }
                        self.scopes.push(names);
                        self.template(&f.template)?;
                        self.scopes.pop();
                    }
                },
            }
        }
        Ok(())
    }
}

fn step_str(s: &TStep) -> Result<String, Fault> {
    Ok(match s {
        TStep::Attr(a) => format!(".{a}"),
        TStep::Index(k) => format!("[{}]", key_str(k)?),
    })
}

fn key_str(k: &Key) -> Result<String, Fault> {
    match k {
        Key::Int(i) => Ok(i.to_string()),
        Key::Str(s) => go_quote(s)
            .ok_or_else(|| Fault::Unsupported(format!("the non-ASCII key {s:?} in a reference"))),
    }
}

/// Parses one traversal into terraform's subject and remaining steps, and lists its forms.
fn expand(root: &str, steps: &[TStep], out: &mut Vec<String>) -> Result<(), Fault> {
    let invalid = || {
        let mut t = root.to_string();
        for s in steps {
            t.push_str(&step_str(s).unwrap_or_default());
        }
        Fault::Unsupported(format!("the reference `{t}`"))
    };
    let attr = |i: usize| match steps.get(i) {
        Some(TStep::Attr(a)) => Some(a.as_str()),
        _ => None,
    };
    let mut extra = Vec::new();
    let (subject, rest) = match root {
        "var" | "local" | "count" | "each" | "path" | "terraform" => {
            let a = attr(0).ok_or_else(invalid)?;
            (format!("{root}.{a}"), &steps[1..])
        }
        "self" => ("self".to_string(), steps),
        "module" => {
            let name = attr(0).ok_or_else(invalid)?;
            let mut call = format!("module.{name}");
            let mut i = 1;
            if let Some(TStep::Index(k)) = steps.get(1) {
                extra.push(call.clone());
                call.push_str(&format!("[{}]", key_str(k)?));
                i = 2;
            }
            match attr(i) {
                Some(output) => {
                    // The output, then its module call instance (with its key, if any).
                    extra = vec![call.clone()];
                    (format!("{call}.{output}"), &steps[i + 1..])
                }
                None => (call, &steps[i..]),
            }
        }
        _ => {
            let (resource, i) = if root == "data" {
                let t = attr(0).ok_or_else(invalid)?;
                let n = attr(1).ok_or_else(invalid)?;
                (format!("data.{t}.{n}"), 2)
            } else {
                let n = attr(0).ok_or_else(invalid)?;
                (format!("{root}.{n}"), 1)
            };
            match steps.get(i) {
                Some(TStep::Index(k)) => {
                    extra.push(resource.clone());
                    (format!("{resource}[{}]", key_str(k)?), &steps[i + 1..])
                }
                _ => (resource, &steps[i..]),
            }
        }
    };
    let mut rest = rest;
    while !rest.is_empty() {
        let mut s = subject.clone();
        for step in rest {
            s.push_str(&step_str(step)?);
        }
        out.push(s);
        rest = &rest[..rest.len() - 1];
    }
    out.push(subject);
    out.extend(extra);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(src: &str) -> Vec<String> {
        let body: Body = hcl::parse(&format!("x = {src}\n")).expect("parses");
        let a = body.attributes().next().expect("one attribute");
        references(&a.expr).expect("references")
    }

    #[test]
    fn an_attribute_of_a_resource_lists_the_attribute_then_the_resource() {
        assert_eq!(
            refs("aws_ecs_task_definition.app.arn"),
            [
                "aws_ecs_task_definition.app.arn",
                "aws_ecs_task_definition.app"
            ]
        );
        assert_eq!(refs("var.x"), ["var.x"]);
        assert_eq!(
            refs("null_resource.a[0].id"),
            [
                "null_resource.a[0].id",
                "null_resource.a[0]",
                "null_resource.a"
            ]
        );
        assert_eq!(
            refs(r#"data.d.n.outputs["k"]"#),
            [r#"data.d.n.outputs["k"]"#, "data.d.n.outputs", "data.d.n"]
        );
    }

    #[test]
    fn names_bound_by_for_are_not_references() {
        assert_eq!(
            refs(r#"[for k, v in var.m : "${k}=${v}" if v != local.skip]"#),
            ["var.m", "local.skip"]
        );
    }

    #[test]
    fn a_splat_refers_to_what_it_spreads() {
        assert_eq!(
            refs("join(\",\", null_resource.c[*].id)"),
            ["null_resource.c"]
        );
        assert_eq!(refs("module.m.out"), ["module.m.out", "module.m"]);
        assert_eq!(
            refs("module.m[0].out.x"),
            ["module.m[0].out.x", "module.m[0].out", "module.m[0]"]
        );
        assert_eq!(refs("a.b[var.i].c"), ["a.b", "var.i"]);
    }
}
