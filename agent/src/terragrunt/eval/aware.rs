//! Bottom-up evaluation for what hcl-rs cannot do on its own: `try` and `can` that catch errors
//! anywhere (inside index and `for` expressions too), and values unknown during discovery.
//!
//! An unknown (see [`unknown`]) must never turn into a known answer: `run_cmd(...) == "x"` is
//! not `false`, `local.env == "prod" ? a : b` picks no branch, `upper(unknown)` is unknown. So
//! operations, conditions, indexes and functions that inspect a value give an unknown when an
//! operand holds one; functions that only move values (`merge`, `concat`, a string template)
//! carry the unknown parts along and keep the known ones. Each leaf is still evaluated by hcl-rs.

use hcl::eval::{Context, Evaluate};
use hcl::expr::{Operation, TraversalOperator};
use hcl::{Expression, Map, ObjectKey, Value};

use super::{clean_error, inline_vars, is_lazy_call, mentions_var};
use crate::terragrunt::funcs::type_name;
use crate::terragrunt::parse::TEMPLATE_FUNC;
use crate::terragrunt::unknown;

/// Functions that move values without looking into them: an unknown argument part stays a part
/// of the result, the rest stays known. Any other function given an unknown anywhere in its
/// arguments gives an unknown.
const MOVERS: &[&str] = &[
    TEMPLATE_FUNC,
    "sensitive",
    "nonsensitive",
    "ephemeralasnull",
    "merge",
    "concat",
    "flatten",
    "tolist",
    "tomap",
    "toset",
    "coalesce",
    "coalescelist",
    "lookup",
    "element",
    "values",
    "keys",
    "zipmap",
    "slice",
    "reverse",
    "length",
    "compact",
    "one",
];

/// Evaluates `expr` against `ctx` (whose variables are `vars`).
pub(super) fn eval(expr: &Expression, ctx: &Context<'_>, vars: &Map<String, Value>) -> Res {
    Folder { ctx, vars }.fold(expr)
}

type Res = Result<Value, String>;

struct Folder<'a, 'c> {
    ctx: &'a Context<'c>,
    vars: &'a Map<String, Value>,
}

/// An unknown carrying the reason of the first unknown in `v`.
fn unknown_like(v: &Value) -> Value {
    unknown::value(&unknown::reason(v).unwrap_or_else(|| "an unknown value".into()))
}

impl Folder<'_, '_> {
    /// hcl-rs evaluates an expression whose parts are values; its arithmetic panics on some
    /// input (`1 % 0`), which is this expression's error, caught by an enclosing `try`.
    fn leaf(&self, e: &Expression) -> Res {
        crate::terragrunt::catch_quietly(|| {
            e.evaluate(self.ctx)
                .map_err(|err| clean_error(&err.to_string()))
        })
        .unwrap_or_else(|panic| {
            let what = crate::terragrunt::panic_message(&*panic)
                .unwrap_or_else(|| "arithmetic error".into());
            Err(format!("cannot evaluate: {what}"))
        })
    }

    fn fold(&self, e: &Expression) -> Res {
        match e {
            Expression::Array(items) => Ok(Value::Array(
                items
                    .iter()
                    .map(|i| self.fold(i))
                    .collect::<Result<_, _>>()?,
            )),
            Expression::Object(o) => {
                // Later keys replace earlier ones, as in Terraform.
                let mut m = Map::new();
                for (k, v) in o {
                    let key = match k {
                        ObjectKey::Identifier(id) => id.to_string(),
                        ObjectKey::Expression(ke) => {
                            match key_string(self.fold(ke)?, "an object key")? {
                                Ok(k) => k,
                                Err(unknown) => return Ok(unknown),
                            }
                        }
                        #[allow(unreachable_patterns)]
                        _ => return self.leaf(e),
                    };
                    m.insert(key, self.fold(v)?);
                }
                Ok(Value::Object(m))
            }
            Expression::Parenthesis(x) => self.fold(x),
            Expression::Conditional(c) => match self.fold(&c.cond_expr)? {
                Value::Bool(true) => self.fold(&c.true_expr),
                Value::Bool(false) => self.fold(&c.false_expr),
                Value::String(s) if s == "true" => self.fold(&c.true_expr),
                Value::String(s) if s == "false" => self.fold(&c.false_expr),
                v if unknown::contains(&v) => Ok(unknown_like(&v)),
                other => Err(format!(
                    "the condition must be a bool, got {}",
                    type_name(&other)
                )),
            },
            Expression::Operation(op) => match op.as_ref() {
                Operation::Unary(u) => {
                    let v = self.fold(&u.expr)?;
                    if unknown::contains(&v) {
                        return Ok(unknown_like(&v));
                    }
                    let mut w = u.clone();
                    w.expr = Expression::from(v);
                    self.leaf(&Expression::Operation(Box::new(Operation::Unary(w))))
                }
                Operation::Binary(b) => {
                    let l = self.fold(&b.lhs_expr)?;
                    let r = self.fold(&b.rhs_expr)?;
                    for side in [&l, &r] {
                        if unknown::contains(side) {
                            return Ok(unknown_like(side));
                        }
                    }
                    let mut c = b.clone();
                    c.lhs_expr = Expression::from(l);
                    c.rhs_expr = Expression::from(r);
                    self.leaf(&Expression::Operation(Box::new(Operation::Binary(c))))
                }
            },
            Expression::FuncCall(f) if is_lazy_call(f) => self.lazy(f),
            Expression::FuncCall(f) => self.call(f),
            Expression::Traversal(t) => {
                let base = self.fold(&t.expr)?;
                if unknown::is_unknown(&base) {
                    return Ok(unknown_like(&base));
                }
                let mut ops = Vec::with_capacity(t.operators.len());
                for op in &t.operators {
                    ops.push(match op {
                        TraversalOperator::Index(ix) => {
                            let k = self.fold(ix)?;
                            if unknown::contains(&k) {
                                return Ok(unknown_like(&k));
                            }
                            TraversalOperator::Index(Expression::from(k))
                        }
                        other => other.clone(),
                    });
                }
                // `local.cfg.locals.tier` where `cfg` is unknown: that unknown, not an error.
                if let Some(u) = unknown_on_the_way(&base, &ops) {
                    return Ok(unknown_like(u));
                }
                let rebuilt = hcl::expr::Traversal::new(Expression::from(base), ops);
                self.leaf(&Expression::Traversal(Box::new(rebuilt)))
            }
            Expression::ForExpr(f) => self.for_expr(f),
            Expression::TemplateExpr(_) => {
                // A template with directives reads variables hcl-rs looks up itself: one that
                // holds an unknown makes the template unknown.
                if let Some((_, v)) = self
                    .vars
                    .iter()
                    .find(|(name, v)| unknown::contains(v) && mentions_var(e, name))
                {
                    return Ok(unknown_like(v));
                }
                self.leaf(e)
            }
            _ => self.leaf(e),
        }
    }

    /// `try(a, b, ...)`: the first argument that evaluates (an unknown one included: its real
    /// value would have been taken); `can(x)`: whether `x` evaluates.
    fn lazy(&self, f: &hcl::expr::FuncCall) -> Res {
        let is_try = f.name.name.as_str() == "try";
        if !is_try {
            if f.args.len() != 1 {
                return Err(format!("can expects 1 argument, got {}", f.args.len()));
            }
            return Ok(match self.fold(&f.args[0]) {
                Ok(v) if unknown::contains(&v) => unknown_like(&v),
                Ok(_) => Value::Bool(true),
                Err(_) => Value::Bool(false),
            });
        }
        let mut last = None;
        for arg in &f.args {
            match self.fold(arg) {
                Ok(v) => return Ok(v),
                Err(e) => last = Some(e),
            }
        }
        Err(match last {
            Some(e) => {
                format!("try: no argument could be evaluated; the last one failed with: {e}")
            }
            None => "try: needs at least one argument".into(),
        })
    }

    fn call(&self, f: &hcl::expr::FuncCall) -> Res {
        let mut args = f
            .args
            .iter()
            .map(|a| self.fold(a))
            .collect::<Result<Vec<_>, _>>()?;
        if f.expand_final {
            match args.pop() {
                Some(Value::Array(rest)) => args.extend(rest),
                Some(v) if unknown::is_unknown(&v) => return Ok(unknown_like(&v)),
                Some(other) => {
                    return Err(format!(
                        "the final argument expanded with ... must be a list, got {}",
                        type_name(&other)
                    ))
                }
                None => {}
            }
        }
        let mover = f.name.namespace.is_empty() && MOVERS.contains(&f.name.name.as_str());
        let unknown_arg = if mover {
            args.iter().find(|a| unknown::is_unknown(a))
        } else {
            args.iter().find(|a| unknown::contains(a))
        };
        if let Some(a) = unknown_arg {
            return Ok(unknown_like(a));
        }
        let holds_unknown = args.iter().any(unknown::contains);
        let mut g = f.clone();
        g.args = args.into_iter().map(Expression::from).collect();
        g.expand_final = false;
        match self.leaf(&Expression::FuncCall(Box::new(g))) {
            Err(_) if holds_unknown => Ok(unknown::value(&format!(
                "{} of a value unknown",
                f.name.name
            ))),
            r => r,
        }
    }

    /// A `for` expression, element by element, so that `try` in its body is lazy and an
    /// unknown element or condition is seen.
    fn for_expr(&self, f: &hcl::expr::ForExpr) -> Res {
        let collection = self.fold(&f.collection_expr)?;
        if unknown::is_unknown(&collection) {
            return Ok(unknown_like(&collection));
        }
        let elements: Vec<(Value, Value)> = match collection {
            Value::Array(a) => a
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::from(i as u64), v))
                .collect(),
            Value::Object(o) => o.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
            other => {
                return Err(format!(
                    "a for expression needs a list, set or object, got {}",
                    type_name(&other)
                ))
            }
        };
        let mut list = Vec::new();
        let mut object: Map<String, Value> = Map::new();
        for (k, v) in elements {
            super::budget::charge(1)?;
            let mut bound = Map::new();
            if let Some(kv) = &f.key_var {
                bound.insert(kv.to_string(), k);
            }
            bound.insert(f.value_var.to_string(), v);
            let bind = |e: &Expression| -> Result<Expression, String> {
                let mut residual = false;
                let out = inline_vars(e, &bound, &mut Vec::new(), &mut residual);
                let out = out.unwrap_or_else(|| e.clone());
                if residual && has_raw_template(&out) {
                    return Err(String::new());
                }
                Ok(out)
            };
            let (Ok(cond), Ok(value)) = (
                f.cond_expr.as_ref().map(&bind).transpose(),
                bind(&f.value_expr),
            ) else {
                // The body reads the element inside a template with directives, which only
                // hcl-rs can evaluate: the whole expression goes to it.
                return self.native_for(f);
            };
            if let Some(c) = cond {
                match self.fold(&c)? {
                    Value::Bool(true) => {}
                    Value::Bool(false) => continue,
                    u if unknown::contains(&u) => return Ok(unknown_like(&u)),
                    other => {
                        return Err(format!(
                            "a for condition must be a bool, got {}",
                            type_name(&other)
                        ))
                    }
                }
            }
            let value = self.fold(&value)?;
            // Each element counts as it is made: a loop copying a large value into every
            // element stops at the budget, not after building it.
            super::budget::charge_value(&value)?;
            match &f.key_expr {
                None => list.push(value),
                Some(key_expr) => {
                    let Ok(key_expr) = bind(key_expr) else {
                        return self.native_for(f);
                    };
                    let key = match key_string(self.fold(&key_expr)?, "a for key")? {
                        Ok(k) => k,
                        Err(unknown) => return Ok(unknown),
                    };
                    if f.grouping {
                        let entry = object
                            .entry(key)
                            .or_insert_with(|| Value::Array(Vec::new()));
                        if let Value::Array(items) = entry {
                            items.push(value);
                        }
                    } else if object.contains_key(&key) {
                        return Err(format!(
                            "duplicate key \"{key}\" in a for expression (add ... to group them)"
                        ));
                    } else {
                        object.insert(key, value);
                    }
                }
            }
        }
        Ok(match f.key_expr {
            None => Value::Array(list),
            Some(_) => Value::Object(object),
        })
    }

    fn native_for(&self, f: &hcl::expr::ForExpr) -> Res {
        let collection = self.fold(&f.collection_expr)?;
        if unknown::contains(&collection) {
            return Ok(unknown_like(&collection));
        }
        let mut g = f.clone();
        g.collection_expr = Expression::from(collection);
        self.leaf(&Expression::ForExpr(Box::new(g)))
    }
}

/// A value used as an object key (`what` names it for the error): its string, or the unknown
/// the whole object becomes when the key is unknown.
fn key_string(v: Value, what: &str) -> Result<Result<String, Value>, String> {
    match v {
        Value::String(s) if unknown::str_is_unknown(&s) => Ok(Err(unknown_like(&Value::String(s)))),
        Value::String(s) => Ok(Ok(s)),
        Value::Number(n) => Ok(Ok(n.to_string())),
        Value::Bool(b) => Ok(Ok(b.to_string())),
        other => Err(format!(
            "{what} must be a string, got {}",
            type_name(&other)
        )),
    }
}

/// The unknown a traversal runs into before its last step, if it runs into one.
fn unknown_on_the_way<'v>(base: &'v Value, ops: &[TraversalOperator]) -> Option<&'v Value> {
    let mut cur = base;
    for op in ops {
        if unknown::is_unknown(cur) {
            return Some(cur);
        }
        cur = match (op, cur) {
            (TraversalOperator::GetAttr(k), Value::Object(o)) => o.get(k.as_str())?,
            (TraversalOperator::Index(Expression::String(k)), Value::Object(o)) => o.get(k)?,
            (TraversalOperator::Index(Expression::Number(n)), Value::Array(a)) => {
                a.get(usize::try_from(n.as_u64()?).ok()?)?
            }
            (TraversalOperator::LegacyIndex(i), Value::Array(a)) => {
                a.get(usize::try_from(*i).ok()?)?
            }
            // A splat: any unknown among the elements.
            (TraversalOperator::AttrSplat | TraversalOperator::FullSplat, v) => {
                return unknown::contains(v).then_some(v);
            }
            _ => return None,
        };
    }
    None
}

/// True when the expression holds a template hcl-rs evaluates from its text (directives).
fn has_raw_template(e: &Expression) -> bool {
    match e {
        Expression::TemplateExpr(_) => true,
        Expression::Array(a) => a.iter().any(has_raw_template),
        Expression::Object(o) => o.iter().any(|(k, v)| {
            has_raw_template(v) || matches!(k, ObjectKey::Expression(ke) if has_raw_template(ke))
        }),
        Expression::FuncCall(f) => f.args.iter().any(has_raw_template),
        Expression::Parenthesis(x) => has_raw_template(x),
        Expression::Conditional(c) => {
            has_raw_template(&c.cond_expr)
                || has_raw_template(&c.true_expr)
                || has_raw_template(&c.false_expr)
        }
        Expression::Operation(op) => match op.as_ref() {
            Operation::Unary(u) => has_raw_template(&u.expr),
            Operation::Binary(b) => has_raw_template(&b.lhs_expr) || has_raw_template(&b.rhs_expr),
        },
        Expression::Traversal(t) => {
            has_raw_template(&t.expr)
                || t.operators
                    .iter()
                    .any(|op| matches!(op, TraversalOperator::Index(ix) if has_raw_template(ix)))
        }
        Expression::ForExpr(f) => {
            has_raw_template(&f.collection_expr)
                || has_raw_template(&f.value_expr)
                || f.key_expr.as_ref().is_some_and(has_raw_template)
                || f.cond_expr.as_ref().is_some_and(has_raw_template)
        }
        _ => false,
    }
}
