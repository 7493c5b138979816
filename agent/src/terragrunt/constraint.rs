//! Version constraints as Terragrunt's `constraint_check` reads them (HashiCorp's go-version
//! syntax): `">= 1.2, < 2.0"`, `"~> 1.4"`, `"!= 1.3.1"`, `"= 1.0.0-beta"`.

use std::cmp::Ordering;

/// A version: up to three numeric segments (missing ones are 0), an optional pre-release.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    segments: [u64; 3],
    /// How many segments were written (`~> 1.2` differs from `~> 1.2.0`).
    written: usize,
    prerelease: Vec<String>,
}

impl Version {
    fn parse(text: &str) -> Result<Version, String> {
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        // Build metadata never counts.
        let t = t.split_once('+').map_or(t, |(v, _)| v);
        let (core, pre) = match t.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (t, None),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return Err(format!("invalid version {text:?}"));
        }
        let mut segments = [0u64; 3];
        for (i, p) in parts.iter().enumerate() {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("invalid version {text:?}"));
            }
            segments[i] = p
                .parse()
                .map_err(|_| format!("invalid version {text:?}: segment too large"))?;
        }
        let prerelease = match pre {
            None => Vec::new(),
            Some(p) => {
                let ids: Vec<String> = p.split('.').map(str::to_string).collect();
                let valid = |id: &String| {
                    !id.is_empty()
                        && id
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '~')
                };
                if !ids.iter().all(valid) {
                    return Err(format!("invalid version {text:?}"));
                }
                ids
            }
        };
        Ok(Version {
            segments,
            written: parts.len(),
            prerelease,
        })
    }

    fn cmp(&self, other: &Version) -> Ordering {
        self.segments
            .cmp(&other.segments)
            .then_with(|| cmp_prerelease(&self.prerelease, &other.prerelease))
    }
}

/// A release sorts after its pre-releases; identifiers compare numerically when both are
/// numbers, as text otherwise, a number before text.
fn cmp_prerelease(a: &[String], b: &[String]) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    for (x, y) in a.iter().zip(b) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            _ => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// Whether `version` satisfies every comma-separated constraint of `constraints`.
pub fn check(version: &str, constraints: &str) -> Result<bool, String> {
    let v = Version::parse(version)?;
    let mut all = true;
    for c in constraints.split(',') {
        let c = c.trim();
        let (op, rest) = ["~>", ">=", "<=", "!=", ">", "<", "="]
            .iter()
            .find_map(|op| c.strip_prefix(op).map(|r| (*op, r)))
            .unwrap_or(("=", c));
        let want = Version::parse(rest).map_err(|e| format!("invalid constraint {c:?}: {e}"))?;
        // A pre-release only satisfies constraints naming a pre-release of the same version.
        let pre_ok = match (v.prerelease.is_empty(), want.prerelease.is_empty()) {
            (false, false) => v.segments == want.segments,
            (false, true) => false,
            _ => true,
        };
        let o = v.cmp(&want);
        let ok = match op {
            "=" => o == Ordering::Equal,
            "!=" => o != Ordering::Equal,
            ">" => pre_ok && o == Ordering::Greater,
            "<" => pre_ok && o == Ordering::Less,
            ">=" => pre_ok && o != Ordering::Less,
            "<=" => pre_ok && o != Ordering::Greater,
            // `~> 1.2.3`: at least 1.2.3, below 1.3; `~> 1.2`: at least 1.2, below 2.
            _ => {
                // With a pre-release in the constraint, only pre-releases match.
                let release_ok = want.prerelease.is_empty() || !v.prerelease.is_empty();
                pre_ok
                    && release_ok
                    && o != Ordering::Less
                    && v.segments[..want.written.saturating_sub(1)]
                        == want.segments[..want.written.saturating_sub(1)]
            }
        };
        all &= ok;
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn constraints_read_as_hashicorp_reads_them() {
        let yes = [
            ("1.2.3", ">= 1.0.0"),
            ("1.2.3", ">= 1.0, < 2.0"),
            ("1.2.3", "~> 1.2"),
            ("1.9.0", "~> 1.2"),
            ("1.2.9", "~> 1.2.3"),
            ("1.2.3", "= 1.2.3"),
            ("1.2.3", "1.2.3"),
            ("v1.2.3", "!= 1.2.4"),
            ("1.0.0-beta.2", ">= 1.0.0-beta.1"),
            ("1.0.0", "> 1.0.0-rc1"),
            ("1.2.3+build", "= 1.2.3"),
        ];
        for (v, c) in yes {
            assert_eq!(check(v, c), Ok(true), "{v} {c}");
        }
        let no = [
            ("0.9.9", ">= 1.0.0"),
            ("2.0.0", ">= 1.0, < 2.0"),
            ("2.0.0", "~> 1.2"),
            ("1.3.0", "~> 1.2.3"),
            ("1.0.0-beta", ">= 0.9"),
            ("1.1.0-beta", ">= 1.0.0-beta"),
            ("1.2.3", "!= 1.2.3"),
        ];
        for (v, c) in no {
            assert_eq!(check(v, c), Ok(false), "{v} {c}");
        }
        assert!(check("one", ">= 1").is_err());
        assert!(check("1.0", ">= x").is_err());
    }
}
