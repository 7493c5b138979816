//! Attribute paths inside a resource's values: `ingress[0].cidr_blocks[1]`, `tags["a.b/c"]`.

use std::fmt;

/// One step of an attribute path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathSeg {
    /// An object attribute or map key.
    Key(String),
    /// A list or set element.
    Index(usize),
}

/// An attribute path, e.g. from terraform's `replace_paths`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct AttrPath(pub Vec<PathSeg>);

impl AttrPath {
    /// Renders segments as `a.b[0].c`; keys that are not plain identifiers are quoted: `tags["k.io/x"]`.
    pub fn render(segs: &[PathSeg]) -> String {
        let mut out = String::new();
        for seg in segs {
            match seg {
                PathSeg::Key(k) if is_identifier(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                PathSeg::Key(k) => {
                    out.push('[');
                    out.push_str(&serde_json::Value::String(k.clone()).to_string());
                    out.push(']');
                }
                PathSeg::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&AttrPath::render(&self.0))
    }
}

fn is_identifier(k: &str) -> bool {
    let mut chars = k.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
