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

impl Parsed {
    pub fn parse(text: &str) -> Result<Parsed, SyntaxError> {
        let edit: hcl::edit::structure::Body = match text.parse() {
            Ok(b) => b,
            Err(e) => {
                let e: hcl::edit::parser::Error = e;
                return Err(SyntaxError {
                    line: e.location().line(),
                    column: e.location().column(),
                    message: e.message().to_string(),
                });
            }
        };
        let line_of = |span: Option<std::ops::Range<usize>>| {
            span.map_or(0, |s| {
                text.as_bytes()[..s.start.min(text.len())]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1
            })
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
                    lines.insert(key, line_of(b.span()));
                    if b.ident.as_str() == "locals" {
                        for inner in b.body.iter() {
                            if let hcl::edit::structure::Structure::Attribute(a) = inner {
                                lines.insert(
                                    format!("locals.{}", a.key.as_str()),
                                    line_of(a.span()),
                                );
                            }
                        }
                    }
                }
            }
        }
        Ok(Parsed {
            body: edit.into(),
            lines,
        })
    }

    /// Line of a construct (0 when unknown).
    pub fn line(&self, key: &str) -> usize {
        self.lines.get(key).copied().unwrap_or(0)
    }
}

/// Key of a block in the line table: `dependency "vpc"`.
pub fn block_key(ident: &str, labels: impl Iterator<Item = String>) -> String {
    let mut key = ident.to_string();
    for l in labels {
        key.push_str(&format!(" \"{l}\""));
    }
    key
}
