//! Parsing of HCL files with the line of every top-level construct kept for error messages.

use std::collections::HashMap;

use hcl::edit::Span;

/// A parsed HCL file: the body, and the line where each construct starts.
#[derive(Debug)]
pub struct Parsed {
    pub body: hcl::Body,
    /// Line (1-based) by construct key: `inputs`, `include "root"`, `locals.region`, ...
    lines: HashMap<String, usize>,
}

/// A syntax error, with its position.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Most entries one `{ ... }` may hold. The HCL parser checks each new object key against the
/// ones before it, so an object of n keys costs n² (40,000 keys took 10 s); real
/// configurations stay in the hundreds.
pub const MAX_ENTRIES: usize = 10_000;

impl Parsed {
    pub fn parse(text: &str) -> Result<Parsed, SyntaxError> {
        // A UTF-8 byte-order mark (Windows editors write one) is not part of the text.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if let Some((line, column)) = crowded(text) {
            return Err(SyntaxError {
                line,
                column,
                message: format!(
                    "this object or block has more than {MAX_ENTRIES} entries, more than Slipway reads in one"
                ),
            });
        }
        let edit: hcl::edit::structure::Body = match text.parse() {
            Ok(b) => b,
            Err(e) => {
                let e: hcl::edit::parser::Error = e;
                let (line, column) = (e.location().line(), e.location().column());
                let message = number_out_of_range(text, line, column)
                    .unwrap_or_else(|| e.message().to_string());
                return Err(SyntaxError {
                    line,
                    column,
                    message,
                });
            }
        };
        // Offsets where lines start, searched per construct: counting newlines from the top
        // for each one made a file of thousands of locals quadratic.
        let starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let line_of = |span: Option<std::ops::Range<usize>>| {
            span.map_or(0, |s| starts.partition_point(|&start| start <= s.start))
        };
        let mut lines = HashMap::new();
        for structure in edit.iter() {
            match structure {
                hcl::edit::structure::Structure::Attribute(a) => {
                    lines.insert(a.key.as_str().to_string(), line_of(a.span()));
                }
                hcl::edit::structure::Structure::Block(b) => {
                    let key = block_key(
                        b.ident.as_str(),
                        b.labels.iter().map(|l| match l {
                            hcl::edit::structure::BlockLabel::String(s) => s.as_str().to_string(),
                            hcl::edit::structure::BlockLabel::Ident(i) => i.as_str().to_string(),
                        }),
                    );
                    // Attributes inside the block too (`locals.region`, `include "root".path`,
                    // `terraform.source`): an error names the line of its expression.
                    for inner in b.body.iter() {
                        if let hcl::edit::structure::Structure::Attribute(a) = inner {
                            lines.insert(format!("{key}.{}", a.key.as_str()), line_of(a.span()));
                        }
                    }
                    lines.insert(key, line_of(b.span()));
                }
            }
        }
        let mut body: hcl::Body = edit.into();
        compile_body(&mut body);
        Ok(Parsed { body, lines })
    }

    /// Line of a construct (0 when unknown).
    pub fn line(&self, key: &str) -> usize {
        self.lines.get(key).copied().unwrap_or(0)
    }

    /// Line of the attribute `attr` of the block `key`, or of the block.
    pub fn attr_line(&self, key: &str, attr: &str) -> usize {
        self.lines
            .get(&format!("{key}.{attr}"))
            .copied()
            .unwrap_or_else(|| self.line(key))
    }
}

/// Where a syntax error stops just after the digits of a number too large for a 64-bit float
/// (`1e400`): a message saying so, instead of the parser's "expected `}`".
fn number_out_of_range(text: &str, line: usize, column: usize) -> Option<String> {
    let row = text.lines().nth(line.checked_sub(1)?)?;
    let upto: String = row.chars().take(column.saturating_sub(1)).collect();
    let rest: String = row.chars().skip(upto.chars().count()).collect();
    // The number starts at the last run of digits before the error and continues after it.
    let start = upto
        .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or(0, |i| i + 1);
    let head = &upto[start..];
    let tail: String = rest
        .chars()
        .enumerate()
        .take_while(|(i, c)| {
            c.is_ascii_digit() || matches!(c, 'e' | 'E') || (*i > 0 && matches!(c, '+' | '-'))
        })
        .map(|(_, c)| c)
        .collect();
    let literal = format!("{head}{tail}");
    let value: f64 = literal.parse().ok()?;
    (head.chars().next().is_some_and(|c| c.is_ascii_digit()) && value.is_infinite()).then(|| {
        format!(
            "the number {literal} is out of range: Slipway reads numbers as 64-bit floating point (up to about 1.8e308)"
        )
    })
}

/// The position of the first `{` holding more than [`MAX_ENTRIES`] entries (lines or commas at
/// its own depth), found by a scan that skips strings, heredocs and comments.
fn crowded(text: &str) -> Option<(usize, usize)> {
    if text.len() < MAX_ENTRIES * 2 {
        return None;
    }
    let b = text.as_bytes();
    // Per open brace: its offset and the separators seen at its depth; `None` for `[`/`(`.
    let mut stack: Vec<Option<(usize, usize)>> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
                continue;
            }
            b'<' if b.get(i + 1) == Some(&b'<') => {
                // A heredoc: `<<EOF` or `<<-EOF`, up to a line holding only the marker.
                let mut j = i + 2;
                if b.get(j) == Some(&b'-') {
                    j += 1;
                }
                let start = j;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                let marker = &text[start..j];
                if !marker.is_empty() {
                    let mut pos = text[j..].find('\n').map_or(b.len(), |e| j + e + 1);
                    while pos < b.len() {
                        let end = text[pos..].find('\n').map_or(b.len(), |e| pos + e);
                        if text[pos..end].trim() == marker {
                            break;
                        }
                        pos = end + 1;
                    }
                    i = pos;
                    continue;
                }
            }
            b'{' => stack.push(Some((i, 0))),
            b'[' | b'(' => stack.push(None),
            b'}' | b']' | b')' => {
                stack.pop();
            }
            b'\n' | b',' => {
                if let Some(Some((at, n))) = stack.last_mut() {
                    *n += 1;
                    if *n > MAX_ENTRIES {
                        let at = *at;
                        let line = text[..at].matches('\n').count() + 1;
                        let column = at - text[..at].rfind('\n').map_or(0, |p| p + 1) + 1;
                        return Some((line, column));
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Key of a block in the line table: `dependency "vpc"`.
pub fn block_key(ident: &str, labels: impl Iterator<Item = String>) -> String {
    let mut key = ident.to_string();
    for l in labels {
        key.push_str(&format!(" \"{l}\""));
    }
    key
}

/// Name of the internal function string templates are compiled into.
pub const TEMPLATE_FUNC: &str = "__slipway_template";

/// Compiles string templates (`"${a}-${b}"`, plain heredocs) into calls of [`TEMPLATE_FUNC`]
/// once per parsed file. hcl-rs parses a template's text again on every evaluation, and a root
/// configuration is evaluated once per unit: this is where most of that time went. Templates
/// with directives, strip markers or indented heredocs are left to hcl-rs.
fn compile_body(body: &mut hcl::Body) {
    for structure in body.0.iter_mut() {
        match structure {
            hcl::Structure::Attribute(a) => compile_expr(&mut a.expr),
            hcl::Structure::Block(b) => compile_body(&mut b.body),
        }
    }
}

fn compile_expr(expr: &mut hcl::Expression) {
    use hcl::expr::{HeredocStripMode, Operation, TemplateExpr};
    use hcl::template::{Element, Strip};
    use hcl::Expression;
    match expr {
        Expression::TemplateExpr(t) => {
            let text = match t.as_ref() {
                TemplateExpr::QuotedString(s) => s.clone(),
                TemplateExpr::Heredoc(h) if h.strip == HeredocStripMode::None => h.template.clone(),
                TemplateExpr::Heredoc(_) => return,
            };
            let Ok(template) = text.parse::<hcl::Template>() else {
                return;
            };
            let elements = template.elements();
            let plain = elements.iter().all(|e| match e {
                Element::Literal(_) => true,
                Element::Interpolation(i) => i.strip == Strip::None,
                Element::Directive(_) => false,
            });
            if !plain {
                return;
            }
            // A lone interpolation yields its value unconverted, as HCL specifies.
            if let [Element::Interpolation(i)] = elements {
                let mut inner = i.expr.clone();
                compile_expr(&mut inner);
                *expr = inner;
                return;
            }
            let args = elements
                .iter()
                .map(|e| match e {
                    Element::Literal(l) => Expression::String(l.clone()),
                    Element::Interpolation(i) => {
                        let mut inner = i.expr.clone();
                        compile_expr(&mut inner);
                        inner
                    }
                    Element::Directive(_) => Expression::Null,
                })
                .collect();
            let mut call = hcl::expr::FuncCall::new(TEMPLATE_FUNC);
            call.args = args;
            *expr = Expression::FuncCall(Box::new(call));
        }
        Expression::Array(a) => a.iter_mut().for_each(compile_expr),
        Expression::Object(o) => {
            for (_, v) in o.iter_mut() {
                compile_expr(v);
            }
        }
        Expression::FuncCall(f) => f.args.iter_mut().for_each(compile_expr),
        Expression::Parenthesis(e) => compile_expr(e),
        Expression::Conditional(c) => {
            compile_expr(&mut c.cond_expr);
            compile_expr(&mut c.true_expr);
            compile_expr(&mut c.false_expr);
        }
        Expression::Operation(op) => match op.as_mut() {
            Operation::Unary(u) => compile_expr(&mut u.expr),
            Operation::Binary(b) => {
                compile_expr(&mut b.lhs_expr);
                compile_expr(&mut b.rhs_expr);
            }
        },
        Expression::Traversal(t) => compile_expr(&mut t.expr),
        Expression::ForExpr(f) => {
            compile_expr(&mut f.collection_expr);
            if let Some(k) = f.key_expr.as_mut() {
                compile_expr(k);
            }
            compile_expr(&mut f.value_expr);
            if let Some(c) = f.cond_expr.as_mut() {
                compile_expr(c);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl::eval::{Context, Evaluate};

    fn eval(text: &str) -> Result<hcl::Value, String> {
        let parsed = Parsed::parse(text).map_err(|e| e.message)?;
        let mut ctx = Context::new();
        crate::terragrunt::funcs::register(&mut ctx);
        ctx.declare_var("n", 3);
        ctx.declare_var("name", "api");
        let attr = parsed.body.attributes().next().ok_or("no attribute")?;
        attr.expr().evaluate(&ctx).map_err(|e| e.to_string())
    }

    #[test]
    fn compiled_templates_evaluate_like_hcl_templates() {
        assert_eq!(
            eval(r#"a = "${name}-${n}x""#).unwrap(),
            hcl::Value::from("api-3x")
        );
        assert_eq!(eval(r#"a = "${n}""#).unwrap(), hcl::Value::from(3));
        assert_eq!(
            eval("a = <<EOT\nhi ${name}\nEOT\n").unwrap(),
            hcl::Value::from("hi api\n")
        );
        assert_eq!(
            eval("a = <<-EOT\n    hi ${name}\n    EOT\n").unwrap(),
            hcl::Value::from("hi api\n")
        );
        assert_eq!(
            eval(r#"a = "%{ if n > 1 }many%{ endif }""#).unwrap(),
            hcl::Value::from("many")
        );
        assert!(eval(r#"a = "x${[1]}""#).unwrap_err().contains("list"));
    }
}
