//! Redaction of log lines before they leave a run: known secret values (assumed credentials,
//! sensitive variables and outputs) and the shapes of AWS secrets (access key ids, secret keys
//! and session tokens after their usual labels, session token prefixes).

/// What replaces a secret.
pub const MASK: &str = "***";

/// Labels after which the next token is a secret, whatever it looks like.
const LABELS: &[&str] = &[
    "aws_secret_access_key",
    "aws_session_token",
    "secretaccesskey",
    "sessiontoken",
    "secret_key",
    "x-amz-security-token",
];

/// How STS session tokens start (base64 of their binary header).
const TOKEN_PREFIXES: &[&str] = &["IQoJb3JpZ2luX2Vj", "FwoGZXIvYXdzE", "FQoGZXIvYXdzE"];

/// Key id prefixes of long-term and temporary AWS credentials.
const KEY_ID_PREFIXES: &[&str] = &["AKIA", "ASIA"];

/// Masks secrets in text. Cheap to clone; literals are matched longest first.
#[derive(Clone, Default)]
pub struct Redactor {
    literals: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} literals)", self.literals.len())
    }
}

impl Redactor {
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// Adds exact values to mask. Values shorter than 4 characters are ignored: masking every
    /// `1` or `ok` would make logs unreadable and protects nothing.
    pub fn add<I, S>(&mut self, values: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for v in values {
            let v = v.into();
            if v.chars().count() >= 4 && !self.literals.contains(&v) {
                self.literals.push(v);
            }
        }
        self.literals.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// A copy that also masks `values`.
    pub fn with<I, S>(&self, values: I) -> Redactor
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut r = self.clone();
        r.add(values);
        r
    }

    /// The text with every secret masked.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for lit in &self.literals {
            if out.contains(lit.as_str()) {
                out = out.replace(lit.as_str(), MASK);
            }
        }
        let out = mask_key_ids(&out);
        let out = mask_token_prefixes(&out);
        mask_after_labels(&out)
    }
}

fn is_upper_alnum(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

fn is_b64(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '='
}

/// `AKIA`/`ASIA` followed by 16 upper-case letters or digits, as a whole word.
fn mask_key_ids(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let at_word_start = i == 0 || !is_upper_alnum(chars[i - 1]);
        if at_word_start && i + 20 <= chars.len() {
            let head: String = chars[i..i + 4].iter().collect();
            let body_ok = chars[i + 4..i + 20].iter().all(|c| is_upper_alnum(*c));
            let ends = i + 20 == chars.len() || !is_upper_alnum(chars[i + 20]);
            if KEY_ID_PREFIXES.contains(&head.as_str()) && body_ok && ends {
                out.push_str(MASK);
                i += 20;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// A session token prefix and the base64 run that follows it.
fn mask_token_prefixes(text: &str) -> String {
    let mut out = text.to_string();
    for p in TOKEN_PREFIXES {
        while let Some(start) = out.find(p) {
            let end = out[start..]
                .char_indices()
                .find(|(_, c)| !is_b64(*c))
                .map(|(i, _)| start + i)
                .unwrap_or(out.len());
            out.replace_range(start..end, MASK);
        }
    }
    out
}

/// The token after a secret label and its separator (`=`, `:`, quotes, spaces).
fn mask_after_labels(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    for label in LABELS {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(label) {
            let after = from + pos + label.len();
            from = after;
            let rest = &text[after..];
            let sep_len = rest
                .char_indices()
                .find(|(_, c)| !matches!(c, ' ' | '"' | '\'' | ':' | '=' | '\t'))
                .map(|(i, _)| i)
                .unwrap_or(rest.len());
            if !rest[..sep_len].contains([':', '=']) {
                continue;
            }
            let value_start = after + sep_len;
            let value_len = text[value_start..]
                .char_indices()
                .find(|(_, c)| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '&' | ';'))
                .map(|(i, _)| i)
                .unwrap_or(text.len() - value_start);
            if value_len > 0 && &text[value_start..value_start + value_len] != MASK {
                cuts.push((value_start, value_start + value_len));
            }
        }
    }
    cuts.sort();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (s, e) in cuts {
        if s < last {
            continue;
        }
        out.push_str(&text[last..s]);
        out.push_str(MASK);
        last = e;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn access_key_ids_are_masked_wherever_they_appear() {
        let r = Redactor::new();
        assert_eq!(r.redact("using ASIAQWERTYUIOPASDFGH now"), "using *** now");
        assert_eq!(r.redact("key=AKIAIOSFODNN7EXAMPLE."), "key=***.");
        // Not a key id: too short, or part of a longer word.
        assert_eq!(r.redact("ASIA123"), "ASIA123");
        assert_eq!(r.redact("XASIAQWERTYUIOPASDFGHJ"), "XASIAQWERTYUIOPASDFGHJ");
    }

    #[test]
    fn secrets_after_their_labels_are_masked() {
        let r = Redactor::new();
        assert_eq!(
            r.redact("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            "aws_secret_access_key = ***"
        );
        assert_eq!(
            r.redact(r#"{"SecretAccessKey": "abc/def+ghi", "SessionToken":"tok"}"#),
            r#"{"SecretAccessKey": "***", "SessionToken":"***"}"#
        );
        assert_eq!(
            r.redact("GET /?X-Amz-Security-Token=abcdef&x=1"),
            "GET /?X-Amz-Security-Token=***&x=1"
        );
        // A label without a value separator is prose, not a secret.
        assert_eq!(
            r.redact("set aws_session_token in the env"),
            "set aws_session_token in the env"
        );
    }

    #[test]
    fn session_tokens_and_known_values_are_masked() {
        let mut r = Redactor::new();
        r.add(["s3cr3t-password", "no"]);
        assert_eq!(
            r.redact("token IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH end"),
            "token *** end"
        );
        assert_eq!(
            r.redact("password = \"s3cr3t-password\", answer = no"),
            "password = \"***\", answer = no"
        );
    }

    proptest! {
        #[test]
        fn redaction_never_panics_and_removes_known_values(
            text in ".{0,200}",
            secret in "[a-zA-Z0-9/+]{8,40}",
        ) {
            let mut r = Redactor::new();
            r.add([secret.clone()]);
            let line = format!("{text}{secret}{text}");
            let out = r.redact(&line);
            prop_assert!(!out.contains(&secret));
        }
    }
}
