//! Terraform's address strings as a plan file stores them: resource instances
//! (`module.a[0].data.t.n["k"]`) and provider configurations (`provider["reg/ns/name"].alias`),
//! whose keys are quoted the way Go's `%q` quotes.

use serde_json::Value;

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn eat(&mut self, prefix: &str) -> bool {
        if self.rest().starts_with(prefix) {
            self.pos += prefix.len();
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Option<&'a str> {
        let rest = self.rest();
        let len = rest
            .char_indices()
            .find(|&(i, c)| {
                !(c.is_ascii_alphabetic()
                    || c == '_'
                    || (i > 0 && (c.is_ascii_digit() || c == '-')))
            })
            .map_or(rest.len(), |(i, _)| i);
        if len == 0 {
            return None;
        }
        self.pos += len;
        Some(&rest[..len])
    }
}

/// The address terraform prints for a resource instance, from its parts.
pub fn instance_address(
    module: &str,
    data: bool,
    type_name: &str,
    name: &str,
    key: Option<&Value>,
) -> Result<String, String> {
    if !(module.is_empty() || module.starts_with("module.")) {
        return Err(format!("{module:?} is not a module instance address"));
    }
    let mut s = String::with_capacity(module.len() + type_name.len() + name.len() + 16);
    if !module.is_empty() {
        s.push_str(module);
        s.push('.');
    }
    if data {
        s.push_str("data.");
    }
    s.push_str(type_name);
    s.push('.');
    s.push_str(name);
    match key {
        None => {}
        Some(Value::String(k)) => {
            let q = go_quote(k).ok_or_else(|| format!("the instance key {k:?} of {s}"))?;
            s.push('[');
            s.push_str(&q);
            s.push(']');
        }
        Some(k) => s.push_str(&format!("[{k}]")),
    }
    Ok(s)
}

/// The provider source address of an absolute provider configuration address:
/// `module.a.provider["registry.terraform.io/hashicorp/null"].b` gives
/// `registry.terraform.io/hashicorp/null`.
pub fn provider_source(addr: &str) -> Result<String, String> {
    let bad = || format!("{addr:?} is not a provider configuration address");
    let mut c = Cursor { s: addr, pos: 0 };
    while c.eat("module.") {
        c.ident().ok_or_else(bad)?;
        if !c.eat(".") {
            return Err(bad());
        }
    }
    if !c.eat("provider[") {
        return Err(bad());
    }
    let (source, len) = go_unquote(c.rest())?;
    c.pos += len;
    if !c.eat("]") {
        return Err(bad());
    }
    if c.eat(".") {
        c.ident().ok_or_else(bad)?;
    }
    if !c.rest().is_empty() {
        return Err(bad());
    }
    Ok(source)
}

/// Reads a Go-quoted string at the start of `s`; returns it and the bytes it took.
fn go_unquote(s: &str) -> Result<(String, usize), String> {
    let bad = || format!("bad quoted string in {s:?}");
    let mut chars = s.char_indices();
    if chars.next().map(|(_, c)| c) != Some('"') {
        return Err(bad());
    }
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, i + 1)),
            '\\' => {
                let (_, e) = chars.next().ok_or_else(bad)?;
                let hex =
                    |chars: &mut std::str::CharIndices<'_>, n: usize| -> Result<u32, String> {
                        let digits: String = chars.by_ref().take(n).map(|(_, c)| c).collect();
                        if digits.len() != n {
                            return Err(bad());
                        }
                        u32::from_str_radix(&digits, 16).map_err(|_| bad())
                    };
                let decoded = match e {
                    '"' => '"',
                    '\\' => '\\',
                    '\'' => '\'',
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'v' => '\u{b}',
                    'x' => {
                        let b = hex(&mut chars, 2)?;
                        if b >= 0x80 {
                            return Err(format!("a key that is not UTF-8 in {s:?}"));
                        }
                        char::from_u32(b).ok_or_else(bad)?
                    }
                    'u' => char::from_u32(hex(&mut chars, 4)?).ok_or_else(bad)?,
                    'U' => char::from_u32(hex(&mut chars, 8)?).ok_or_else(bad)?,
                    _ => return Err(bad()),
                };
                out.push(decoded);
            }
            c => out.push(c),
        }
    }
    Err(bad())
}

/// Quotes a string as Go's `%q` does, for ASCII text and letters and digits of other scripts;
/// None for other text, whose quoting depends on Unicode printability tables.
pub fn go_quote(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            ' '..='~' => out.push(c),
            c if c.is_ascii() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_alphanumeric() => out.push(c),
            _ => return None,
        }
    }
    out.push('"');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn instance_addresses_quote_string_keys_as_go_does() {
        let a = instance_address(
            "module.app.module.leaf[0]",
            false,
            "null_resource",
            "keyed",
            Some(&json!("kubernetes.io/\"role\"")),
        );
        assert_eq!(
            a.as_deref(),
            Ok(r#"module.app.module.leaf[0].null_resource.keyed["kubernetes.io/\"role\""]"#)
        );
        let d = instance_address("", true, "null_data_source", "d", Some(&json!(3)));
        assert_eq!(d.as_deref(), Ok("data.null_data_source.d[3]"));
        assert!(instance_address("", false, "t", "n", Some(&json!("\u{2028}"))).is_err());
    }

    #[test]
    fn provider_addresses_give_their_source() {
        assert_eq!(
            provider_source(r#"module.a.provider["registry.terraform.io/hashicorp/null"].b"#),
            Ok("registry.terraform.io/hashicorp/null".to_string())
        );
        assert!(provider_source("provider.null").is_err());
    }

    #[test]
    fn go_quoting_round_trips() {
        let q = go_quote("a\"b\\c\nd\u{1}").expect("ascii");
        assert_eq!(q, r#""a\"b\\c\nd\x01""#);
        assert_eq!(go_unquote(&q), Ok(("a\"b\\c\nd\u{1}".to_string(), q.len())));
        assert_eq!(go_quote("ü").as_deref(), Some("\"ü\""));
        assert_eq!(go_quote("\u{2028}"), None);
    }
}
