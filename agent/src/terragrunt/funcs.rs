//! The Terraform functions that Terragrunt configurations use, for hcl-rs's evaluator.
//!
//! Each takes its arguments as values and checks them itself, so a wrong call reports the
//! function's name and what it expected instead of a generic type error.

use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};
use hcl::{Map, Number, Value};

type Res = Result<Value, String>;

/// Registers every supported Terraform function in `ctx`.
pub fn register(ctx: &mut Context<'_>) {
    let table: &[(&str, hcl::eval::Func)] = &[
        ("abs", abs),
        ("basename", basename),
        ("ceil", ceil),
        ("chomp", chomp),
        ("cidrsubnet", cidrsubnet),
        ("cidrhost", cidrhost),
        ("coalesce", coalesce),
        ("coalescelist", coalescelist),
        ("compact", compact),
        ("concat", concat),
        ("contains", contains),
        ("dirname", dirname),
        ("distinct", distinct),
        ("element", element),
        ("endswith", endswith),
        ("flatten", flatten),
        ("floor", floor),
        ("format", format),
        ("index", index),
        ("join", join),
        ("jsondecode", jsondecode),
        ("jsonencode", jsonencode),
        ("keys", keys),
        ("length", length),
        ("lookup", lookup),
        ("lower", lower),
        ("max", max),
        ("merge", merge),
        ("min", min),
        ("one", one),
        ("range", range),
        ("regex", regex),
        ("regexall", regexall),
        ("replace", replace),
        ("reverse", reverse),
        ("slice", slice),
        ("sort", sort),
        ("split", split),
        ("startswith", startswith),
        ("strcontains", strcontains),
        ("substr", substr),
        ("sum", sum),
        ("title", title),
        ("tobool", tobool),
        ("tolist", tolist),
        ("tomap", tomap),
        ("tonumber", tonumber),
        ("toset", toset),
        ("tostring", tostring),
        ("trim", trim),
        ("trimprefix", trimprefix),
        ("trimspace", trimspace),
        ("trimsuffix", trimsuffix),
        ("upper", upper),
        ("values", values),
        ("yamldecode", yamldecode),
        ("zipmap", zipmap),
        ("alltrue", alltrue),
        ("anytrue", anytrue),
        ("base64decode", base64decode),
        ("base64encode", base64encode),
        ("base64gzip", base64gzip),
        ("base64sha256", base64sha256),
        ("base64sha512", base64sha512),
        ("bcrypt", bcrypt),
        ("chunklist", chunklist),
        ("cidrnetmask", cidrnetmask),
        ("cidrsubnets", cidrsubnets),
        ("csvdecode", csvdecode),
        ("ephemeralasnull", identity),
        ("formatdate", formatdate),
        ("formatlist", formatlist),
        ("indent", indent),
        ("issensitive", issensitive),
        ("log", log),
        ("matchkeys", matchkeys),
        ("md5", md5),
        ("nonsensitive", identity),
        ("parseint", parseint),
        ("pathexpand", pathexpand),
        ("plantimestamp", plantimestamp),
        ("pow", pow),
        ("rsadecrypt", rsadecrypt),
        ("sensitive", identity),
        ("setintersection", setintersection),
        ("setproduct", setproduct),
        ("setsubtract", setsubtract),
        ("setunion", setunion),
        ("sha1", sha1),
        ("sha256", sha256),
        ("sha512", sha512),
        ("signum", signum),
        ("strrev", strrev),
        ("templatestring", templatestring),
        ("textdecodebase64", textdecodebase64),
        ("textencodebase64", textencodebase64),
        ("timeadd", timeadd),
        ("timecmp", timecmp),
        ("timestamp", timestamp),
        ("transpose", transpose),
        ("urlencode", urlencode),
        ("uuid", uuid),
        ("uuidv5", uuidv5),
        ("yamlencode", yamlencode),
    ];
    for (name, f) in table {
        ctx.declare_func(
            *name,
            FuncDef::builder().variadic_param(ParamType::Any).build(*f),
        );
    }
    ctx.declare_func(
        super::parse::TEMPLATE_FUNC,
        FuncDef::builder()
            .variadic_param(ParamType::Any)
            .build(template),
    );
}

/// A compiled string template: its parts, converted to strings and joined.
fn template(a: FuncArgs) -> Res {
    let mut out = String::new();
    for v in a.iter() {
        match v {
            Value::String(s) => out.push_str(s),
            Value::Number(n) => out.push_str(&n.to_string()),
            Value::Bool(b) => out.push_str(&b.to_string()),
            Value::Null => return Err("cannot interpolate a null value into a string".into()),
            other => {
                return Err(format!(
                    "cannot interpolate a {} into a string",
                    type_name(other)
                ))
            }
        }
    }
    Ok(Value::String(out))
}

// ---- argument helpers ----

fn arity(args: &FuncArgs, min: usize, max: usize) -> Result<(), String> {
    if args.len() < min || args.len() > max {
        if min == max {
            return Err(format!("expects {min} argument(s), got {}", args.len()));
        }
        return Err(format!(
            "expects {min} to {max} arguments, got {}",
            args.len()
        ));
    }
    Ok(())
}

fn string(v: &Value, what: &str) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("{what} must be a string, got {}", type_name(other))),
    }
}

fn number(v: &Value, what: &str) -> Result<f64, String> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| format!("{what} is not a finite number")),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .ok_or_else(|| format!("{what} must be a number, got \"{s}\"")),
        other => Err(format!("{what} must be a number, got {}", type_name(other))),
    }
}

fn int(v: &Value, what: &str) -> Result<i64, String> {
    let f = number(v, what)?;
    if f.fract() != 0.0 {
        return Err(format!("{what} must be a whole number, got {f}"));
    }
    Ok(f as i64)
}

fn list<'a>(v: &'a Value, what: &str) -> Result<&'a Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("{what} must be a list, got {}", type_name(v)))
}

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{what} must be a map or object, got {}", type_name(v)))
}

pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

fn num(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::Number(Number::from(f as i64))
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

fn str1(args: &FuncArgs) -> Result<String, String> {
    arity(args, 1, 1)?;
    string(&args[0], "the argument")
}

/// Terraform's `tostring` of a primitive, used by `format` and `join`.
fn display(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Err("cannot use a null value here".into()),
        other => Err(format!("cannot convert {} to a string", type_name(other))),
    }
}

// ---- strings ----

fn lower(a: FuncArgs) -> Res {
    Ok(Value::String(str1(&a)?.to_lowercase()))
}
fn upper(a: FuncArgs) -> Res {
    Ok(Value::String(str1(&a)?.to_uppercase()))
}
fn trimspace(a: FuncArgs) -> Res {
    Ok(Value::String(str1(&a)?.trim().to_string()))
}
fn chomp(a: FuncArgs) -> Res {
    Ok(Value::String(
        str1(&a)?.trim_end_matches(['\n', '\r']).to_string(),
    ))
}
fn title(a: FuncArgs) -> Res {
    let s = str1(&a)?;
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric();
    }
    Ok(Value::String(out))
}
fn trim(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    let s = string(&a[0], "the string")?;
    let cut = string(&a[1], "the characters")?;
    Ok(Value::String(
        s.trim_matches(|c| cut.contains(c)).to_string(),
    ))
}
fn trimprefix(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    let s = string(&a[0], "the string")?;
    let p = string(&a[1], "the prefix")?;
    Ok(Value::String(s.strip_prefix(&p).unwrap_or(&s).to_string()))
}
fn trimsuffix(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    let s = string(&a[0], "the string")?;
    let p = string(&a[1], "the suffix")?;
    Ok(Value::String(s.strip_suffix(&p).unwrap_or(&s).to_string()))
}
fn startswith(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    Ok(Value::Bool(
        string(&a[0], "the string")?.starts_with(&string(&a[1], "the prefix")?),
    ))
}
fn endswith(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    Ok(Value::Bool(
        string(&a[0], "the string")?.ends_with(&string(&a[1], "the suffix")?),
    ))
}
fn strcontains(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    Ok(Value::Bool(
        string(&a[0], "the string")?.contains(&string(&a[1], "the substring")?),
    ))
}
fn replace(a: FuncArgs) -> Res {
    arity(&a, 3, 3)?;
    let s = string(&a[0], "the string")?;
    let from = string(&a[1], "the substring")?;
    let to = string(&a[2], "the replacement")?;
    // A substring in slashes is a regular expression (RE2 syntax; `$1` in the replacement).
    if let Some(pattern) = from
        .strip_prefix('/')
        .and_then(|p| p.strip_suffix('/'))
        .filter(|_| from.len() > 1)
    {
        let re = compile(pattern)?;
        return Ok(Value::String(re.replace_all(&s, to.as_str()).into_owned()));
    }
    Ok(Value::String(s.replace(&from, &to)))
}

fn compile(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(pattern).map_err(|e| {
        let first = e.to_string();
        let first = first.lines().last().unwrap_or_default().trim().to_string();
        format!("invalid regular expression {pattern:?}: {first}")
    })
}

/// One match as Terraform's `regex` gives it: the match without capture groups, a list of the
/// groups when they are unnamed, an object when they are named ([`regex_args`] refuses a mix).
fn captures_value(re: &regex::Regex, caps: &regex::Captures<'_>) -> Value {
    let group = |i: usize| {
        caps.get(i)
            .map_or(Value::Null, |m| Value::String(m.as_str().to_string()))
    };
    if re.captures_len() == 1 {
        return group(0);
    }
    let names: Vec<(usize, &str)> = re
        .capture_names()
        .enumerate()
        .filter_map(|(i, n)| Some((i, n?)))
        .collect();
    if names.is_empty() {
        Value::Array((1..re.captures_len()).map(group).collect())
    } else {
        Value::Object(
            names
                .into_iter()
                .map(|(i, n)| (n.to_string(), group(i)))
                .collect(),
        )
    }
}

fn regex_args(a: &FuncArgs) -> Result<(regex::Regex, String), String> {
    arity(a, 2, 2)?;
    let pattern = string(&a[0], "the pattern")?;
    let s = string(&a[1], "the string")?;
    let re = compile(&pattern)?;
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    if names.iter().any(Option::is_some) && names.iter().any(Option::is_none) {
        return Err(format!(
            "pattern {pattern:?} mixes named and unnamed capture groups"
        ));
    }
    Ok((re, s))
}

fn regex(a: FuncArgs) -> Res {
    let (re, s) = regex_args(&a)?;
    let caps = re
        .captures(&s)
        .ok_or_else(|| format!("pattern {:?} does not match {s:?}", re.as_str()))?;
    Ok(captures_value(&re, &caps))
}

fn regexall(a: FuncArgs) -> Res {
    let (re, s) = regex_args(&a)?;
    Ok(Value::Array(
        re.captures_iter(&s)
            .map(|caps| captures_value(&re, &caps))
            .collect(),
    ))
}
fn split(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    let sep = string(&a[0], "the separator")?;
    let s = string(&a[1], "the string")?;
    // An empty separator splits between characters, as Go's strings.Split does.
    if sep.is_empty() {
        return Ok(Value::Array(
            s.chars().map(|c| Value::String(c.to_string())).collect(),
        ));
    }
    Ok(Value::Array(
        s.split(sep.as_str())
            .map(|p| Value::String(p.to_string()))
            .collect(),
    ))
}
fn join(a: FuncArgs) -> Res {
    if a.len() < 2 {
        return Err(format!(
            "expects a separator and at least one list, got {} argument(s)",
            a.len()
        ));
    }
    let sep = string(&a[0], "the separator")?;
    let mut parts = Vec::new();
    for l in a.iter().skip(1) {
        for v in list(l, "each list")? {
            parts.push(display(v)?);
        }
    }
    Ok(Value::String(parts.join(&sep)))
}
fn substr(a: FuncArgs) -> Res {
    arity(&a, 3, 3)?;
    let s: Vec<char> = string(&a[0], "the string")?.chars().collect();
    let mut off = int(&a[1], "the offset")?;
    let len = int(&a[2], "the length")?;
    if off < 0 {
        off += s.len() as i64;
    }
    let off = off.clamp(0, s.len() as i64) as usize;
    let end = if len < 0 {
        s.len()
    } else {
        (off + len as usize).min(s.len())
    };
    Ok(Value::String(s[off..end].iter().collect()))
}
/// The widest width or precision a format directive may ask for: Rust's formatting stops at
/// 65,535 (Go's at 1,000,000); above it is an error, never a string of any size a
/// configuration asks for.
const MAX_WIDTH: usize = u16::MAX as usize;

/// Parses a run of digits of a format directive, refusing values above [`MAX_WIDTH`].
fn directive_number(digits: &str, what: &str, spec: &str) -> Result<Option<usize>, String> {
    if digits.is_empty() {
        return Ok(None);
    }
    match digits.parse::<usize>() {
        Ok(n) if n <= MAX_WIDTH => Ok(Some(n)),
        _ => Err(format!(
            "the {what} {digits} in \"{spec}\" is too large (at most {MAX_WIDTH})"
        )),
    }
}

fn format(a: FuncArgs) -> Res {
    if a.is_empty() {
        return Err("expects a format string".into());
    }
    let spec = string(&a[0], "the format")?;
    format_with(&spec, &a[1..]).map(Value::String)
}

/// Terraform's `format`: `spec` applied to `args`.
fn format_with(spec: &str, args: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    let mut next = 0;
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        // %[flags][width][.precision]verb
        let mut left = false;
        let mut zero = false;
        let mut plus = false;
        let mut sharp = false;
        while let Some(&f) = chars.peek() {
            match f {
                '-' => left = true,
                '0' => zero = true,
                '+' => plus = true,
                '#' => sharp = true,
                ' ' => {}
                _ => break,
            }
            chars.next();
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let width = directive_number(&width, "width", spec)?;
        let mut precision = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            precision = Some(directive_number(&p, "precision", spec)?.unwrap_or(0));
        }
        let verb = chars
            .next()
            .ok_or_else(|| "format string ends with a lone %".to_string())?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let arg = args
            .get(next)
            .ok_or_else(|| format!("not enough arguments for the format \"{spec}\""))?;
        next += 1;
        let (text, numeric) = match verb {
            'v' if sharp => (json_text(arg), false),
            's' | 'v' => {
                let s = match arg {
                    Value::Array(_) | Value::Object(_) => json_text(arg),
                    other => display(other)?,
                };
                match precision {
                    Some(p) => (s.chars().take(p).collect(), false),
                    None => (s, false),
                }
            }
            'q' => (
                serde_json::to_string(&display(arg)?).map_err(|e| e.to_string())?,
                false,
            ),
            'd' => {
                let n = int(arg, "a %d argument")?;
                let sign = if plus && n >= 0 { "+" } else { "" };
                (format!("{sign}{n}"), true)
            }
            'f' => {
                let n = number(arg, "a %f argument")?;
                let prec = precision.unwrap_or(6);
                let sign = if plus && n >= 0.0 { "+" } else { "" };
                (format!("{sign}{n:.prec$}"), true)
            }
            'b' | 'o' | 'x' | 'X' => {
                let n = int(arg, &format!("a %{verb} argument"))?;
                let sign = if n < 0 {
                    "-"
                } else if plus {
                    "+"
                } else {
                    ""
                };
                let m = n.unsigned_abs();
                let digits = match verb {
                    'b' => format!("{m:b}"),
                    'o' => format!("{m:o}"),
                    'x' => format!("{m:x}"),
                    _ => format!("{m:X}"),
                };
                (format!("{sign}{digits}"), true)
            }
            'e' | 'E' | 'g' | 'G' => {
                let n = number(arg, &format!("a %{verb} argument"))?;
                let text = go_float(n, verb, precision);
                let sign = if plus && n >= 0.0 { "+" } else { "" };
                (format!("{sign}{text}"), true)
            }
            't' => match arg {
                Value::Bool(b) => (b.to_string(), false),
                other => return Err(format!("%t needs a bool, got {}", type_name(other))),
            },
            other => return Err(format!("unsupported format verb %{other}")),
        };
        let width = width.unwrap_or(0);
        let len = text.chars().count();
        if len >= width {
            out.push_str(&text);
        } else if left {
            out.push_str(&text);
            out.extend(std::iter::repeat_n(' ', width - len));
        } else if zero && numeric {
            // Zeros go after the sign: %05d of -42 is -0042.
            let (sign, digits) = match text.strip_prefix(['-', '+']) {
                Some(rest) => (&text[..1], rest),
                None => ("", text.as_str()),
            };
            out.push_str(sign);
            out.extend(std::iter::repeat_n('0', width - len));
            out.push_str(digits);
        } else {
            out.extend(std::iter::repeat_n(' ', width - len));
            out.push_str(&text);
        }
    }
    Ok(out)
}

/// A float as Go's `%e`, `%E`, `%g` and `%G` write it: `1.234560e+08`, `1e+06`.
fn go_float(n: f64, verb: char, precision: Option<usize>) -> String {
    // Go writes the exponent with a sign and at least two digits.
    fn exponent(rust: &str) -> String {
        match rust.split_once('e') {
            Some((m, e)) => {
                let e: i32 = e.parse().unwrap_or(0);
                let sign = if e < 0 { '-' } else { '+' };
                format!("{m}e{sign}{:02}", e.unsigned_abs())
            }
            None => rust.to_string(),
        }
    }
    let text = match verb {
        'e' | 'E' => exponent(&format!("{n:.*e}", precision.unwrap_or(6))),
        _ => {
            // %g: the shortest form (or `precision` significant digits), in exponent form when
            // the exponent is below -4 or at least the precision (6 for the shortest form).
            let (sci, limit) = match precision {
                Some(p) => (format!("{n:.*e}", p.max(1) - 1), p.max(1) as i32),
                None => (format!("{n:e}"), 6),
            };
            let exp: i32 = sci
                .split_once('e')
                .and_then(|(_, e)| e.parse().ok())
                .unwrap_or(0);
            if n != 0.0 && (exp < -4 || exp >= limit) {
                let (m, _) = sci.split_once('e').unwrap_or((&sci, ""));
                let m = if m.contains('.') {
                    m.trim_end_matches('0').trim_end_matches('.')
                } else {
                    m
                };
                exponent(&format!("{m}e{exp}"))
            } else {
                match precision {
                    Some(p) => {
                        let decimals = (p.max(1) as i32 - 1 - exp).max(0) as usize;
                        let f = format!("{n:.decimals$}");
                        if f.contains('.') {
                            f.trim_end_matches('0').trim_end_matches('.').to_string()
                        } else {
                            f
                        }
                    }
                    None => format!("{n}"),
                }
            }
        }
    };
    if verb.is_ascii_uppercase() {
        text.to_uppercase()
    } else {
        text
    }
}

// ---- paths ----

fn basename(a: FuncArgs) -> Res {
    let s = str1(&a)?;
    let t = s.trim_end_matches('/');
    Ok(Value::String(
        t.rsplit('/').next().unwrap_or_default().to_string(),
    ))
}
fn dirname(a: FuncArgs) -> Res {
    let s = str1(&a)?;
    let t = s.trim_end_matches('/');
    Ok(Value::String(match t.rfind('/') {
        Some(0) => "/".to_string(),
        Some(i) => t[..i].to_string(),
        None => ".".to_string(),
    }))
}

// ---- collections ----

fn length(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    let n = match &a[0] {
        Value::Array(v) => v.len(),
        Value::Object(m) => m.len(),
        Value::String(s) => s.chars().count(),
        other => return Err(format!("cannot take the length of {}", type_name(other))),
    };
    Ok(num(n as f64))
}
fn merge(a: FuncArgs) -> Res {
    let mut out = Map::new();
    for (i, v) in a.iter().enumerate() {
        match v {
            Value::Null => {}
            Value::Object(m) => {
                for (k, v) in m {
                    out.insert(k.clone(), v.clone());
                }
            }
            other => {
                return Err(format!(
                    "argument {} must be a map or object, got {}",
                    i + 1,
                    type_name(other)
                ))
            }
        }
    }
    Ok(Value::Object(out))
}
fn lookup(a: FuncArgs) -> Res {
    arity(&a, 2, 3)?;
    let m = object(&a[0], "the first argument")?;
    let k = string(&a[1], "the key")?;
    match (m.get(&k), a.get(2)) {
        (Some(v), _) => Ok(v.clone()),
        (None, Some(d)) => Ok(d.clone()),
        (None, None) => Err(format!(
            "the map has no key \"{k}\" and no default was given"
        )),
    }
}
fn concat(a: FuncArgs) -> Res {
    let mut out = Vec::new();
    for l in a.iter() {
        out.extend(list(l, "each argument")?.iter().cloned());
    }
    Ok(Value::Array(out))
}
fn element(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    let l = list(&a[0], "the first argument")?;
    if l.is_empty() {
        return Err("cannot use element on an empty list".into());
    }
    let i = int(&a[1], "the index")?;
    if i < 0 {
        return Err("the index must not be negative".into());
    }
    Ok(l[(i as usize) % l.len()].clone())
}
fn index(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    let l = list(&a[0], "the first argument")?;
    l.iter()
        .position(|v| v == &a[1])
        .map(|i| num(i as f64))
        .ok_or_else(|| "the item is not in the list".to_string())
}
fn keys(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    let mut k: Vec<&String> = object(&a[0], "the argument")?.keys().collect();
    k.sort();
    Ok(Value::Array(
        k.into_iter().map(|s| Value::String(s.clone())).collect(),
    ))
}
fn values(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    let m = object(&a[0], "the argument")?;
    let mut k: Vec<&String> = m.keys().collect();
    k.sort();
    Ok(Value::Array(
        k.into_iter().filter_map(|k| m.get(k).cloned()).collect(),
    ))
}
fn contains(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    Ok(Value::Bool(
        list(&a[0], "the first argument")?.contains(&a[1]),
    ))
}
fn distinct(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    // First occurrences in order, found by key: linear, not quadratic, in the list's length.
    let mut seen = std::collections::HashSet::new();
    let out = list(&a[0], "the argument")?
        .iter()
        .filter(|v| match v {
            Value::String(s) => seen.insert(format!("s{s}")),
            other => seen.insert(format!("j{}", set_key(other))),
        })
        .cloned()
        .collect();
    Ok(Value::Array(out))
}
fn flatten(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    fn go(v: &[Value], out: &mut Vec<Value>) {
        for x in v {
            match x {
                Value::Array(inner) => go(inner, out),
                other => out.push(other.clone()),
            }
        }
    }
    let mut out = Vec::new();
    go(list(&a[0], "the argument")?, &mut out);
    Ok(Value::Array(out))
}
fn compact(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    Ok(Value::Array(
        list(&a[0], "the argument")?
            .iter()
            .filter(|v| !matches!(v, Value::Null) && v.as_str() != Some(""))
            .cloned()
            .collect(),
    ))
}
fn zipmap(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    let k = list(&a[0], "the keys")?;
    let v = list(&a[1], "the values")?;
    if k.len() != v.len() {
        return Err(format!("{} keys but {} values", k.len(), v.len()));
    }
    let mut out = Map::new();
    for (k, v) in k.iter().zip(v) {
        out.insert(display(k)?, v.clone());
    }
    Ok(Value::Object(out))
}
fn range(a: FuncArgs) -> Res {
    arity(&a, 1, 3)?;
    // Without a step, Terraform counts down when the limit is below the start.
    let default_step = |start: f64, end: f64| if end < start { -1.0 } else { 1.0 };
    let (start, end, step) = match a.len() {
        1 => {
            let end = number(&a[0], "the limit")?;
            (0.0, end, default_step(0.0, end))
        }
        2 => {
            let start = number(&a[0], "the start")?;
            let end = number(&a[1], "the limit")?;
            (start, end, default_step(start, end))
        }
        _ => (
            number(&a[0], "the start")?,
            number(&a[1], "the limit")?,
            number(&a[2], "the step")?,
        ),
    };
    if step == 0.0 {
        return Err("the step must not be zero".into());
    }
    let mut out = Vec::new();
    let mut x = start;
    while (step > 0.0 && x < end) || (step < 0.0 && x > end) {
        out.push(num(x));
        x += step;
        if out.len() > 1024 {
            return Err("range would produce more than 1024 elements".into());
        }
    }
    Ok(Value::Array(out))
}
fn coalesce(a: FuncArgs) -> Res {
    let found = a
        .iter()
        .find(|v| !matches!(v, Value::Null) && v.as_str() != Some(""))
        .cloned()
        .ok_or_else(|| "no non-null, non-empty argument".to_string())?;
    // Terraform unifies the arguments' types first: with a string among them, a number or a
    // bool comes out as a string (`coalesce(1, "a")` is "1").
    let any_string = a.iter().any(|v| matches!(v, Value::String(_)));
    Ok(match found {
        Value::Number(_) | Value::Bool(_) if any_string => Value::String(display(&found)?),
        other => other,
    })
}
fn coalescelist(a: FuncArgs) -> Res {
    for v in a.iter() {
        if !list(v, "each argument")?.is_empty() {
            return Ok(v.clone());
        }
    }
    Err("no non-empty list argument".into())
}
fn one(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    let l = list(&a[0], "the argument")?;
    match l.len() {
        0 => Ok(Value::Null),
        1 => Ok(l[0].clone()),
        n => Err(format!("must have zero or one element, has {n}")),
    }
}
fn sort(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    let mut s: Vec<String> = list(&a[0], "the argument")?
        .iter()
        .map(display)
        .collect::<Result<_, _>>()?;
    s.sort();
    Ok(Value::Array(s.into_iter().map(Value::String).collect()))
}
fn reverse(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    let mut l = list(&a[0], "the argument")?.clone();
    l.reverse();
    Ok(Value::Array(l))
}
fn slice(a: FuncArgs) -> Res {
    arity(&a, 3, 3)?;
    let l = list(&a[0], "the list")?;
    let s = int(&a[1], "the start index")?;
    let e = int(&a[2], "the end index")?;
    if s < 0 || e < s || e as usize > l.len() {
        return Err(format!(
            "indexes {s}..{e} are out of range for a list of {}",
            l.len()
        ));
    }
    Ok(Value::Array(l[s as usize..e as usize].to_vec()))
}
fn sum(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    let mut t = 0.0;
    for v in list(&a[0], "the argument")? {
        t += number(v, "each element")?;
    }
    Ok(num(t))
}
fn max(a: FuncArgs) -> Res {
    let mut best: Option<f64> = None;
    for v in a.iter() {
        let n = number(v, "each argument")?;
        best = Some(best.map_or(n, |b: f64| b.max(n)));
    }
    best.map(num)
        .ok_or_else(|| "expects at least one number".into())
}
fn min(a: FuncArgs) -> Res {
    let mut best: Option<f64> = None;
    for v in a.iter() {
        let n = number(v, "each argument")?;
        best = Some(best.map_or(n, |b: f64| b.min(n)));
    }
    best.map(num)
        .ok_or_else(|| "expects at least one number".into())
}
fn abs(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    Ok(num(number(&a[0], "the argument")?.abs()))
}
fn ceil(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    Ok(num(number(&a[0], "the argument")?.ceil()))
}
fn floor(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    Ok(num(number(&a[0], "the argument")?.floor()))
}

// ---- conversions ----

fn tostring(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    match &a[0] {
        Value::Null => Ok(Value::Null),
        v => Ok(Value::String(display(v)?)),
    }
}
fn tonumber(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    match &a[0] {
        Value::Null => Ok(Value::Null),
        v => Ok(num(number(v, "the argument")?)),
    }
}
fn tobool(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    match &a[0] {
        Value::Bool(b) => Ok(Value::Bool(*b)),
        Value::String(s) if s == "true" => Ok(Value::Bool(true)),
        Value::String(s) if s == "false" => Ok(Value::Bool(false)),
        Value::Null => Ok(Value::Null),
        other => Err(format!("cannot convert {} to bool", type_name(other))),
    }
}
fn tolist(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    list(&a[0], "the argument").map(|l| Value::Array(l.clone()))
}
fn toset(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    Ok(Value::Array(set_of(
        list(&a[0], "the argument")?.iter().cloned(),
    )))
}
fn tomap(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    object(&a[0], "the argument").map(|m| Value::Object(m.clone()))
}

// ---- encodings ----

fn jsonencode(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    Ok(Value::String(json_text(&a[0])))
}

/// JSON as Terraform's `jsonencode` writes it: object keys sorted, and `<`, `>`, `&`, U+2028 and
/// U+2029 escaped.
fn json_text(v: &Value) -> String {
    let mut out = String::new();
    write_json(v, &mut out);
    out
}

fn write_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_json_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(k, out);
                out.push(':');
                if let Some(item) = m.get(k) {
                    write_json(item, out);
                }
            }
            out.push('}');
        }
    }
}

fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' | '\u{0}'..='\u{1f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn jsondecode(a: FuncArgs) -> Res {
    let s = str1(&a)?;
    serde_json::from_str::<Value>(&s).map_err(|e| format!("invalid JSON: {e}"))
}
fn yamldecode(a: FuncArgs) -> Res {
    let s = str1(&a)?;
    // One document, as Terraform's yamldecode: mappings become objects, sequences tuples, and
    // merge keys (`<<: *defaults`) are applied.
    let mut doc: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&s).map_err(|e| format!("yamldecode: {e}"))?;
    doc.apply_merge().map_err(|e| format!("yamldecode: {e}"))?;
    serde_yaml_ng::from_value::<Value>(doc).map_err(|e| format!("yamldecode: {e}"))
}

// ---- bounds ----

/// The most elements a function builds (`setproduct`, `chunklist`, `formatlist`, ...): a
/// configuration asking for more is an error, not an allocation of any size.
pub const MAX_ELEMENTS: usize = 4_000_000;

/// The longest string a function builds (`indent`, `formatlist`, `yamlencode`, ...), in bytes.
pub const MAX_STRING_BYTES: usize = 64 << 20;

fn check_len(len: usize, what: &str) -> Result<(), String> {
    if len > MAX_STRING_BYTES {
        return Err(format!(
            "{what} would be longer than {MAX_STRING_BYTES} bytes"
        ));
    }
    Ok(())
}

// ---- unknown during discovery ----

/// `timestamp()`, `plantimestamp()`, `uuid()` and `bcrypt()` give a different value at each
/// call: during discovery they are unknown (see [`super::unknown`]), never a made-up value.
/// In a run they are real, as in Terragrunt: the time of the call (RFC 3339, UTC), a random
/// version 4 UUID.
fn timestamp(_: FuncArgs) -> Res {
    if super::context::in_run() {
        return now_rfc3339();
    }
    Ok(super::unknown::value("timestamp()"))
}
fn plantimestamp(_: FuncArgs) -> Res {
    if super::context::in_run() {
        return now_rfc3339();
    }
    Ok(super::unknown::value("plantimestamp()"))
}
fn uuid(_: FuncArgs) -> Res {
    if super::context::in_run() {
        let bytes = fastrand::u128(..).to_le_bytes();
        return Ok(Value::String(
            ::uuid::Builder::from_random_bytes(bytes)
                .into_uuid()
                .to_string(),
        ));
    }
    Ok(super::unknown::value("uuid()"))
}

fn now_rfc3339() -> Res {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let t = time::OffsetDateTime::from_unix_timestamp(secs as i64).map_err(|e| e.to_string())?;
    rfc3339(&t).map(Value::String)
}
fn bcrypt(a: FuncArgs) -> Res {
    arity(&a, 1, 2)?;
    // The reason never quotes the argument: it is a password.
    Ok(super::unknown::value("bcrypt()"))
}
fn rsadecrypt(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    Ok(super::unknown::value(
        "rsadecrypt(): Slipway does not decrypt RSA ciphertext while evaluating",
    ))
}

/// `pathexpand`: a leading `~` is the home directory of the user running Terraform; discovery
/// runs as nobody in particular, so such a path is unknown there. Paths without `~` are kept.
fn pathexpand(a: FuncArgs) -> Res {
    pathexpand_with(&str1(&a)?, None)
}

/// Terraform's `pathexpand` with `home` as the home directory (unknown when `None`).
pub fn pathexpand_with(path: &str, home: Option<&str>) -> Res {
    let Some(rest) = path.strip_prefix('~') else {
        return Ok(Value::String(path.to_string()));
    };
    if !rest.is_empty() && !rest.starts_with('/') && !rest.starts_with('\\') {
        return Err(format!(
            "cannot expand {path:?}: expanding another user's home directory is not supported"
        ));
    }
    match home {
        Some(home) => Ok(Value::String(format!(
            "{}{rest}",
            home.trim_end_matches('/')
        ))),
        None => Ok(super::unknown::value(&format!(
            "pathexpand({path:?}): the home directory is not known during discovery"
        ))),
    }
}

// ---- sensitivity and ephemerality ----

/// Slipway's values carry no sensitivity or ephemerality marks: `sensitive` and `nonsensitive`
/// give their argument, `ephemeralasnull` gives a non-ephemeral argument as it is (as
/// Terraform does), and `issensitive` is false.
fn identity(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    Ok(a[0].clone())
}
fn issensitive(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    Ok(Value::Bool(false))
}

// ---- numbers ----

fn finite(f: f64, what: &str) -> Res {
    if f.is_finite() {
        Ok(num(f))
    } else {
        Err(format!("{what} is not a finite number"))
    }
}

fn pow(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    let base = number(&a[0], "the base")?;
    let exp = number(&a[1], "the exponent")?;
    finite(base.powf(exp), "the result")
}
fn log(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    let n = number(&a[0], "the number")?;
    let base = number(&a[1], "the base")?;
    finite(n.ln() / base.ln(), "the result")
}
fn signum(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    let n = number(&a[0], "the argument")?;
    Ok(num(if n > 0.0 {
        1.0
    } else if n < 0.0 {
        -1.0
    } else {
        0.0
    }))
}

/// `parseint(string, base)`: bases 2 to 62; above 36, lowercase letters are 10 to 35 and
/// uppercase ones 36 to 61, as Go's `big.Int` reads them.
fn parseint(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    let s = string(&a[0], "the number")?;
    let base = int(&a[1], "the base")?;
    if !(2..=62).contains(&base) {
        return Err(format!("the base must be between 2 and 62, got {base}"));
    }
    let base = base as u32;
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(&s)),
    };
    if digits.is_empty() {
        return Err(format!("cannot parse {s:?} as a base {base} integer"));
    }
    let mut n: i128 = 0;
    for c in digits.chars() {
        let d = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'a'..='z' => c as u32 - 'a' as u32 + 10,
            'A'..='Z' if base <= 36 => c as u32 - 'A' as u32 + 10,
            'A'..='Z' => c as u32 - 'A' as u32 + 36,
            _ => u32::MAX,
        };
        if d >= base {
            return Err(format!("cannot parse {s:?} as a base {base} integer"));
        }
        n = n
            .checked_mul(base as i128)
            .and_then(|n| n.checked_add(d as i128))
            .ok_or_else(|| format!("{s:?} is too large"))?;
    }
    let n = if negative { -n } else { n };
    Ok(if let Ok(i) = i64::try_from(n) {
        Value::Number(Number::from(i))
    } else if let Ok(u) = u64::try_from(n) {
        Value::Number(Number::from(u))
    } else {
        finite(n as f64, "the result")?
    })
}

// ---- strings ----

fn strrev(a: FuncArgs) -> Res {
    use unicode_segmentation::UnicodeSegmentation;
    let s = str1(&a)?;
    Ok(Value::String(s.graphemes(true).rev().collect()))
}

/// `indent(n, s)`: `n` spaces after every newline of `s` (the first line is not indented).
fn indent(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    let n = int(&a[0], "the number of spaces")?;
    let s = string(&a[1], "the string")?;
    if n < 0 || n as usize > MAX_WIDTH {
        return Err(format!(
            "the number of spaces must be between 0 and {MAX_WIDTH}, got {n}"
        ));
    }
    let lines = s.matches('\n').count();
    check_len(
        s.len().saturating_add(lines.saturating_mul(n as usize)),
        "the indented string",
    )?;
    let pad = format!("\n{}", " ".repeat(n as usize));
    Ok(Value::String(s.replace('\n', &pad)))
}

/// `formatlist(spec, args...)`: `format` applied element-wise; lists must have one length, other
/// arguments are repeated.
fn formatlist(a: FuncArgs) -> Res {
    if a.is_empty() {
        return Err("expects a format string".into());
    }
    let spec = string(&a[0], "the format")?;
    let mut len: Option<usize> = None;
    for (i, v) in a.iter().enumerate().skip(1) {
        if let Value::Array(l) = v {
            match len {
                Some(n) if n != l.len() => {
                    return Err(format!(
                    "argument {} has length {}, which does not match the {n} of the earlier lists",
                    i + 1,
                    l.len()
                ))
                }
                _ => len = Some(l.len()),
            }
        }
    }
    let len = len.unwrap_or(1);
    let mut out = Vec::with_capacity(len.min(MAX_ELEMENTS));
    let mut total = 0usize;
    for i in 0..len {
        let args: Vec<Value> = a
            .iter()
            .skip(1)
            .map(|v| match v {
                Value::Array(l) => l[i].clone(),
                other => other.clone(),
            })
            .collect();
        let s = format_with(&spec, &args).map_err(|e| format!("element {i}: {e}"))?;
        total = total.saturating_add(s.len());
        check_len(total, "the formatted list")?;
        out.push(Value::String(s));
    }
    Ok(Value::Array(out))
}

/// `templatestring(template, vars)`: the string rendered as a template with `vars` and the
/// Terraform functions.
fn templatestring(a: FuncArgs) -> Res {
    use hcl::eval::Evaluate;
    arity(&a, 2, 2)?;
    let src = string(&a[0], "the template")?;
    let vars = object(&a[1], "the variables")?;
    let template: hcl::Template = src
        .parse()
        .map_err(|e: hcl::Error| format!("invalid template: {e}"))?;
    let mut ctx = Context::new();
    register(&mut ctx);
    for (k, v) in vars {
        ctx.declare_var(k.as_str(), v.clone());
    }
    template
        .evaluate(&ctx)
        .map(Value::String)
        .map_err(|e| format!("rendering the template: {e}"))
}

// ---- collections ----

fn alltrue(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    let mut all = true;
    for v in list(&a[0], "the argument")? {
        all &= boolean(v)?;
    }
    Ok(Value::Bool(all))
}
fn anytrue(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    let mut any = false;
    for v in list(&a[0], "the argument")? {
        any |= boolean(v)?;
    }
    Ok(Value::Bool(any))
}

/// A bool, or a string Terraform converts to one.
fn boolean(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        other => Err(format!(
            "each element must be a bool, got {}",
            type_name(other)
        )),
    }
}

fn chunklist(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    let l = list(&a[0], "the list")?;
    let size = int(&a[1], "the size")?;
    if size < 0 {
        return Err("the size must not be negative".into());
    }
    if l.is_empty() {
        return Ok(Value::Array(Vec::new()));
    }
    if size == 0 {
        return Ok(Value::Array(vec![Value::Array(l.clone())]));
    }
    // At most as many chunks as elements: bounded by the input.
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    Ok(Value::Array(
        l.chunks(size).map(|c| Value::Array(c.to_vec())).collect(),
    ))
}

/// A value as a key for set operations: equal values, equal keys.
fn set_key(v: &Value) -> String {
    json_text(v)
}

/// A set as Terraform orders it: no duplicates; strings in lexical order, numbers ascending,
/// `false` before `true`; other elements as first seen.
fn set_of(items: impl IntoIterator<Item = Value>) -> Vec<Value> {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<Value> = items
        .into_iter()
        .filter(|v| seen.insert(set_key(v)))
        .collect();
    if out.iter().all(|v| matches!(v, Value::String(_))) {
        out.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
    } else if out.iter().all(|v| matches!(v, Value::Number(_))) {
        out.sort_by(|x, y| {
            let f = |v: &Value| v.as_f64().unwrap_or(0.0);
            f(x).total_cmp(&f(y))
        });
    } else if out.iter().all(|v| matches!(v, Value::Bool(_))) {
        out.sort_by_key(|v| v.as_bool());
    }
    out
}

fn sets(a: &FuncArgs, min: usize) -> Result<Vec<&Vec<Value>>, String> {
    if a.len() < min {
        return Err(format!(
            "expects at least {min} set argument(s), got {}",
            a.len()
        ));
    }
    a.iter().map(|v| list(v, "each argument")).collect()
}

fn setunion(a: FuncArgs) -> Res {
    let s = sets(&a, 1)?;
    Ok(Value::Array(set_of(s.into_iter().flatten().cloned())))
}
fn setintersection(a: FuncArgs) -> Res {
    let s = sets(&a, 1)?;
    let others: Vec<std::collections::HashSet<String>> = s[1..]
        .iter()
        .map(|l| l.iter().map(set_key).collect())
        .collect();
    Ok(Value::Array(set_of(
        s[0].iter()
            .filter(|v| {
                let k = set_key(v);
                others.iter().all(|o| o.contains(&k))
            })
            .cloned(),
    )))
}
fn setsubtract(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    let s = sets(&a, 2)?;
    let minus: std::collections::HashSet<String> = s[1].iter().map(set_key).collect();
    Ok(Value::Array(set_of(
        s[0].iter()
            .filter(|v| !minus.contains(&set_key(v)))
            .cloned(),
    )))
}

/// `setproduct(a, b, ...)`: every combination, the first argument varying slowest.
fn setproduct(a: FuncArgs) -> Res {
    let s = sets(&a, 2)?;
    let total = s
        .iter()
        .try_fold(1usize, |acc, l| acc.checked_mul(l.len()))
        .filter(|n| n.saturating_mul(s.len()) <= MAX_ELEMENTS)
        .ok_or_else(|| format!("the product would have more than {MAX_ELEMENTS} elements"))?;
    let mut out = Vec::with_capacity(total);
    let mut idx = vec![0usize; s.len()];
    for _ in 0..total {
        out.push(Value::Array(
            idx.iter().zip(&s).map(|(i, l)| l[*i].clone()).collect(),
        ));
        // Odometer: the last argument turns fastest.
        for d in (0..idx.len()).rev() {
            idx[d] += 1;
            if idx[d] < s[d].len() {
                break;
            }
            idx[d] = 0;
        }
    }
    Ok(Value::Array(out))
}

/// `transpose({a = ["1", "2"], b = ["2"]})` is `{"1" = ["a"], "2" = ["a", "b"]}`.
fn transpose(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    let m = object(&a[0], "the argument")?;
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    let mut out: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    for k in keys {
        let l = m
            .get(k)
            .map(|v| list(v, &format!("the value of {k:?}")))
            .transpose()?
            .map(Vec::as_slice)
            .unwrap_or_default();
        for v in l {
            let v = match v {
                Value::Null => return Err(format!("the list of {k:?} holds a null")),
                other => display(other)?,
            };
            out.entry(v).or_default().push(Value::String(k.clone()));
        }
    }
    Ok(Value::Object(
        out.into_iter().map(|(k, v)| (k, Value::Array(v))).collect(),
    ))
}

/// Equality as Terraform's type unification has it: `1` and `"1"` are the same key.
fn loosely_equal(x: &Value, y: &Value) -> bool {
    match (x, y) {
        (Value::String(_) | Value::Number(_) | Value::Bool(_), Value::String(_))
        | (Value::String(_), Value::Number(_) | Value::Bool(_)) => display(x) == display(y),
        _ => x == y,
    }
}

fn matchkeys(a: FuncArgs) -> Res {
    arity(&a, 3, 3)?;
    let values = list(&a[0], "the values")?;
    let keys = list(&a[1], "the keys")?;
    let search = list(&a[2], "the search set")?;
    if values.len() != keys.len() {
        return Err(format!(
            "the values ({}) and the keys ({}) must have the same length",
            values.len(),
            keys.len()
        ));
    }
    Ok(Value::Array(
        values
            .iter()
            .zip(keys)
            .filter(|(_, k)| search.iter().any(|s| loosely_equal(k, s)))
            .map(|(v, _)| v.clone())
            .collect(),
    ))
}

// ---- encodings and hashes ----

use base64::Engine as _;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn b64decode(s: &str) -> Result<Vec<u8>, String> {
    // Go's decoder, which Terraform uses, skips line breaks.
    let cleaned: String = s.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    B64.decode(cleaned.as_bytes())
        .map_err(|e| format!("invalid base64 data: {e}"))
}

fn base64encode(a: FuncArgs) -> Res {
    Ok(Value::String(B64.encode(str1(&a)?.as_bytes())))
}
fn base64decode(a: FuncArgs) -> Res {
    let bytes = b64decode(&str1(&a)?)?;
    String::from_utf8(bytes).map(Value::String).map_err(|_| {
        "the decoded bytes are not valid UTF-8 (Terraform strings are UTF-8; filebase64 \
         and textdecodebase64 read other data)"
            .to_string()
    })
}
fn base64gzip(a: FuncArgs) -> Res {
    use std::io::Write;
    let s = str1(&a)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(s.as_bytes())
        .and_then(|()| gz.finish())
        .map(|bytes| Value::String(B64.encode(bytes)))
        .map_err(|e| format!("gzip: {e}"))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The digest of `bytes` named as the Terraform function that gives it: `md5`, `sha1`,
/// `sha256`, `sha512` (hexadecimal), `base64sha256`, `base64sha512`.
fn digest(kind: &str, bytes: &[u8]) -> Result<String, String> {
    use sha2::Digest;
    Ok(match kind {
        "md5" => hex(&md5::Md5::digest(bytes)),
        "sha1" => hex(&sha1::Sha1::digest(bytes)),
        "sha256" => hex(&sha2::Sha256::digest(bytes)),
        "sha512" => hex(&sha2::Sha512::digest(bytes)),
        "base64sha256" => B64.encode(sha2::Sha256::digest(bytes)),
        "base64sha512" => B64.encode(sha2::Sha512::digest(bytes)),
        other => return Err(format!("no digest named {other:?}")),
    })
}

fn md5(a: FuncArgs) -> Res {
    digest("md5", str1(&a)?.as_bytes()).map(Value::String)
}
fn sha1(a: FuncArgs) -> Res {
    digest("sha1", str1(&a)?.as_bytes()).map(Value::String)
}
fn sha256(a: FuncArgs) -> Res {
    digest("sha256", str1(&a)?.as_bytes()).map(Value::String)
}
fn sha512(a: FuncArgs) -> Res {
    digest("sha512", str1(&a)?.as_bytes()).map(Value::String)
}
fn base64sha256(a: FuncArgs) -> Res {
    digest("base64sha256", str1(&a)?.as_bytes()).map(Value::String)
}
fn base64sha512(a: FuncArgs) -> Res {
    digest("base64sha512", str1(&a)?.as_bytes()).map(Value::String)
}

/// The Terraform functions of a file's contents, which [`file_function`] computes from the
/// file's bytes (reading the file is the caller's: it needs the repository snapshot).
pub const FILE_FUNCTIONS: &[&str] = &[
    "filebase64",
    "filemd5",
    "filesha1",
    "filesha256",
    "filesha512",
    "filebase64sha256",
    "filebase64sha512",
];

/// What the Terraform function `func` (one of [`FILE_FUNCTIONS`]) gives for a file holding
/// `bytes`: `file_function("filemd5", b"hello")` is the MD5 of `hello` in hexadecimal.
pub fn file_function(func: &str, bytes: &[u8]) -> Res {
    match func {
        "filebase64" => Ok(Value::String(B64.encode(bytes))),
        _ => match func.strip_prefix("file") {
            Some(kind) if FILE_FUNCTIONS.contains(&func) => digest(kind, bytes).map(Value::String),
            _ => Err(format!("{func} is not a file digest function")),
        },
    }
}

/// `urlencode`: Go's `url.QueryEscape`, spaces as `+`.
fn urlencode(a: FuncArgs) -> Res {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    const QUERY: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let s = str1(&a)?;
    Ok(Value::String(
        utf8_percent_encode(&s, QUERY)
            .to_string()
            .replace("%20", "+"),
    ))
}

/// The character encodings `textencodebase64` and `textdecodebase64` support.
#[derive(Clone, Copy)]
enum TextEncoding {
    Utf8,
    Utf16Le,
    Utf16Be,
    /// UTF-16 with a byte order mark (big-endian when there is none).
    Utf16,
    Latin1,
    Ascii,
}

fn text_encoding(name: &str) -> Result<(TextEncoding, &'static str), String> {
    use TextEncoding::*;
    Ok(match name.to_ascii_lowercase().replace('_', "-").as_str() {
        "utf-8" | "utf8" | "csutf8" => (Utf8, "UTF-8"),
        "utf-16le" | "csutf16le" => (Utf16Le, "UTF-16LE"),
        "utf-16be" | "csutf16be" => (Utf16Be, "UTF-16BE"),
        "utf-16" | "csutf16" => (Utf16, "UTF-16"),
        "iso-8859-1" | "iso-8859-1:1987" | "iso8859-1" | "iso-ir-100" | "latin1" | "l1"
        | "ibm819" | "cp819" | "csisolatin1" => (Latin1, "ISO-8859-1"),
        "us-ascii" | "ascii" | "us" | "iso646-us" | "ansi-x3.4-1968" | "csascii" => {
            (Ascii, "US-ASCII")
        }
        _ => {
            return Err(format!(
                "{name:?} is not a supported encoding: Slipway supports UTF-8, UTF-16LE, \
                 UTF-16BE, UTF-16, ISO-8859-1 and US-ASCII"
            ))
        }
    })
}

fn textencodebase64(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    let s = string(&a[0], "the string")?;
    let (enc, name) = text_encoding(&string(&a[1], "the encoding")?)?;
    let unrepresentable =
        || format!("the string holds characters that cannot be represented in {name}");
    let bytes: Vec<u8> = match enc {
        TextEncoding::Utf8 => s.into_bytes(),
        TextEncoding::Utf16Le => s.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        TextEncoding::Utf16Be => s.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        TextEncoding::Utf16 => [0xfe, 0xff]
            .into_iter()
            .chain(s.encode_utf16().flat_map(u16::to_be_bytes))
            .collect(),
        TextEncoding::Latin1 | TextEncoding::Ascii => {
            let max = if matches!(enc, TextEncoding::Latin1) {
                0xff
            } else {
                0x7f
            };
            s.chars()
                .map(|c| u8::try_from(c as u32).ok().filter(|b| u32::from(*b) <= max))
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(unrepresentable)?
        }
    };
    Ok(Value::String(B64.encode(bytes)))
}

fn textdecodebase64(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    let bytes = b64decode(&string(&a[0], "the encoded text")?)?;
    let (enc, name) = text_encoding(&string(&a[1], "the encoding")?)?;
    let invalid = || format!("the decoded bytes are not valid {name}");
    let utf16 = |bytes: &[u8], le: bool| -> Result<String, String> {
        let pairs = bytes.chunks_exact(2);
        if !pairs.remainder().is_empty() {
            return Err(invalid());
        }
        let units = pairs.map(|c| {
            let pair = [c[0], c[1]];
            if le {
                u16::from_le_bytes(pair)
            } else {
                u16::from_be_bytes(pair)
            }
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|_| invalid())
    };
    let s = match enc {
        TextEncoding::Utf8 => String::from_utf8(bytes).map_err(|_| invalid())?,
        TextEncoding::Utf16Le => utf16(&bytes, true)?,
        TextEncoding::Utf16Be => utf16(&bytes, false)?,
        TextEncoding::Utf16 => match bytes.as_slice() {
            [0xff, 0xfe, rest @ ..] => utf16(rest, true)?,
            [0xfe, 0xff, rest @ ..] => utf16(rest, false)?,
            rest => utf16(rest, false)?,
        },
        TextEncoding::Latin1 => bytes.iter().map(|b| char::from(*b)).collect(),
        TextEncoding::Ascii => {
            if !bytes.is_ascii() {
                return Err(invalid());
            }
            bytes.iter().map(|b| char::from(*b)).collect()
        }
    };
    Ok(Value::String(s))
}

/// `uuidv5(namespace, name)`: the name-based UUID (SHA-1) of `name` in the namespace `dns`,
/// `url`, `oid`, `x500` or a UUID given as a string.
fn uuidv5(a: FuncArgs) -> Res {
    use sha2::Digest;
    arity(&a, 2, 2)?;
    let ns = string(&a[0], "the namespace")?;
    let name = string(&a[1], "the name")?;
    let ns = match ns.as_str() {
        "dns" => uuid::Uuid::NAMESPACE_DNS,
        "url" => uuid::Uuid::NAMESPACE_URL,
        "oid" => uuid::Uuid::NAMESPACE_OID,
        "x500" => uuid::Uuid::NAMESPACE_X500,
        other => uuid::Uuid::parse_str(other).map_err(|_| {
            format!("the namespace must be dns, url, oid, x500 or a UUID, got {other:?}")
        })?,
    };
    let mut h = sha1::Sha1::new();
    h.update(ns.as_bytes());
    h.update(name.as_bytes());
    let hash = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    Ok(Value::String(
        uuid::Builder::from_sha1_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .to_string(),
    ))
}

// ---- dates and times ----

fn timestamp_arg(v: &Value, what: &str) -> Result<time::OffsetDateTime, String> {
    let s = string(v, what)?;
    time::OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{what} {s:?} is not an RFC 3339 timestamp: {e}"))
}

fn offset_text(t: &time::OffsetDateTime, colon: bool) -> String {
    let secs = t.offset().whole_seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let (h, m) = (secs.unsigned_abs() / 3600, secs.unsigned_abs() % 3600 / 60);
    if colon {
        format!("{sign}{h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}")
    }
}

/// RFC 3339 as Go's `time.RFC3339` writes it: whole seconds, `Z` for UTC.
fn rfc3339(t: &time::OffsetDateTime) -> Result<String, String> {
    if !(0..=9999).contains(&t.year()) {
        return Err(format!("the year {} is out of range", t.year()));
    }
    let zone = if t.offset().is_utc() {
        "Z".to_string()
    } else {
        offset_text(t, true)
    };
    Ok(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{zone}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    ))
}

/// `formatdate(spec, timestamp)`, with Terraform's format verbs (`YYYY`, `MMM`, `DD`, `EEEE`,
/// `hh`, `HH`, `aa`, `mm`, `ss`, `ZZZ`, ...) and `'quoted'` literal text.
fn formatdate(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    let spec = string(&a[0], "the format")?;
    let t = timestamp_arg(&a[1], "the timestamp")?;
    let chars: Vec<char> = spec.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // Quoted literal; '' is a quote.
            let mut j = i + 1;
            if chars.get(j) == Some(&'\'') {
                out.push('\'');
                i = j + 1;
                continue;
            }
            loop {
                match chars.get(j) {
                    None => return Err("the format has an unterminated quoted literal".into()),
                    Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                        out.push('\'');
                        j += 2;
                    }
                    Some('\'') => break,
                    Some(ch) => {
                        out.push(*ch);
                        j += 1;
                    }
                }
            }
            i = j + 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let mut n = 1;
        while chars.get(i + n) == Some(&c) {
            n += 1;
        }
        let verb: String = chars[i..i + n].iter().collect();
        i += n;
        let hour12 = match t.hour() % 12 {
            0 => 12,
            h => h,
        };
        let text = match (c, n) {
            ('Y', 4) => format!("{:04}", t.year()),
            ('Y', 2) => format!("{:02}", t.year().rem_euclid(100)),
            ('M', 1) => u8::from(t.month()).to_string(),
            ('M', 2) => format!("{:02}", u8::from(t.month())),
            ('M', 3) => t.month().to_string()[..3].to_string(),
            ('M', 4) => t.month().to_string(),
            ('D', 1) => t.day().to_string(),
            ('D', 2) => format!("{:02}", t.day()),
            ('E', 3) => t.weekday().to_string()[..3].to_string(),
            ('E', 4) => t.weekday().to_string(),
            ('h', 1) => t.hour().to_string(),
            ('h', 2) => format!("{:02}", t.hour()),
            ('H', 1) => hour12.to_string(),
            ('H', 2) => format!("{hour12:02}"),
            ('A', 2) => (if t.hour() < 12 { "AM" } else { "PM" }).to_string(),
            ('a', 2) => (if t.hour() < 12 { "am" } else { "pm" }).to_string(),
            ('m', 1) => t.minute().to_string(),
            ('m', 2) => format!("{:02}", t.minute()),
            ('s', 1) => t.second().to_string(),
            ('s', 2) => format!("{:02}", t.second()),
            ('Z', 1) if t.offset().is_utc() => "Z".to_string(),
            ('Z', 1) => offset_text(&t, true),
            ('Z', 3) if t.offset().is_utc() => "UTC".to_string(),
            ('Z', 3 | 4) => offset_text(&t, false),
            ('Z', 5) => offset_text(&t, true),
            _ => {
                return Err(format!(
                    "invalid date format verb {verb:?} (put literal letters in single quotes)"
                ))
            }
        };
        out.push_str(&text);
    }
    Ok(Value::String(out))
}

/// A duration as Go's `time.ParseDuration` reads it (`1h30m`, `-10s`, `1.5h`, `300ms`), in
/// nanoseconds.
fn go_duration(s: &str) -> Result<i128, String> {
    let bad = || format!("invalid duration {s:?}");
    let (negative, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let int_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (int_part, after) = rest.split_at(int_len);
        let (frac_part, after) = match after.strip_prefix('.') {
            Some(f) => {
                let l = f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len());
                f.split_at(l)
            }
            None => ("", after),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(bad());
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err(format!("missing unit in duration {s:?}")),
            _ => return Err(format!("unknown unit {unit:?} in duration {s:?}")),
        };
        let whole: i128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| bad())?
        };
        let mut part = whole.checked_mul(scale).ok_or_else(bad)?;
        if !frac_part.is_empty() {
            let digits = &frac_part[..frac_part.len().min(18)];
            let f: i128 = digits.parse().map_err(|_| bad())?;
            part = part
                .checked_add(f * scale / 10i128.pow(digits.len() as u32))
                .ok_or_else(bad)?;
        }
        total = total.checked_add(part).ok_or_else(bad)?;
        if total > i64::MAX as i128 {
            return Err(bad());
        }
        rest = after;
    }
    Ok(if negative { -total } else { total })
}

fn timeadd(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    let t = timestamp_arg(&a[0], "the timestamp")?;
    let d = go_duration(&string(&a[1], "the duration")?)?;
    let d = time::Duration::nanoseconds(i64::try_from(d).map_err(|_| "the duration is too long")?);
    let sum = t
        .checked_add(d)
        .ok_or_else(|| "the resulting time is out of range".to_string())?;
    rfc3339(&sum).map(Value::String)
}

fn timecmp(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    let x = timestamp_arg(&a[0], "the first timestamp")?;
    let y = timestamp_arg(&a[1], "the second timestamp")?;
    Ok(num(match x.cmp(&y) {
        std::cmp::Ordering::Less => -1.0,
        std::cmp::Ordering::Equal => 0.0,
        std::cmp::Ordering::Greater => 1.0,
    }))
}

// ---- networking ----

/// An IPv4 or IPv6 prefix: the address as a number, the prefix length, and the address width
/// (32 or 128 bits).
#[derive(Clone, Copy)]
struct Prefix {
    addr: u128,
    bits: u32,
    width: u32,
}

impl Prefix {
    fn host_mask(&self, len: u32) -> u128 {
        match self.width - len {
            128 => u128::MAX,
            n => (1u128 << n) - 1,
        }
    }
    fn base(&self) -> u128 {
        self.addr & !self.host_mask(self.bits)
    }
    fn show(&self, addr: u128) -> String {
        if self.width == 32 {
            std::net::Ipv4Addr::from(addr as u32).to_string()
        } else {
            std::net::Ipv6Addr::from(addr).to_string()
        }
    }
}

fn parse_prefix(v: &Value) -> Result<Prefix, String> {
    let s = string(v, "the prefix")?;
    let (ip, bits) = s
        .split_once('/')
        .ok_or_else(|| format!("\"{s}\" is not a CIDR block"))?;
    let (addr, width) = match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => (u128::from(u32::from(ip)), 32),
        Ok(std::net::IpAddr::V6(ip)) => (u128::from(ip), 128),
        Err(_) => return Err(format!("\"{s}\" is not a CIDR block: invalid address")),
    };
    let bits: u32 = bits
        .parse()
        .ok()
        .filter(|b| *b <= width)
        .ok_or_else(|| format!("\"{s}\" has an invalid prefix length"))?;
    Ok(Prefix { addr, bits, width })
}

fn cidrsubnet(a: FuncArgs) -> Res {
    arity(&a, 3, 3)?;
    let p = parse_prefix(&a[0])?;
    let newbits = int(&a[1], "newbits")?;
    let netnum = int(&a[2], "netnum")?;
    // Checked before any arithmetic: newbits comes from the configuration and may be huge.
    if newbits < 0 || newbits > i64::from(p.width - p.bits) {
        return Err(format!(
            "insufficient address space to extend prefix of {} by {newbits}",
            p.bits
        ));
    }
    let len = p.bits + newbits as u32;
    let fits = newbits >= 63 || netnum < (1i64 << newbits);
    if netnum < 0 || !fits {
        return Err(format!(
            "prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"
        ));
    }
    // A shift by the whole width (`::/0` by 0 bits) leaves netnum 0.
    let net = p.base() | (netnum as u128).checked_shl(p.width - len).unwrap_or(0);
    Ok(Value::String(format!("{}/{len}", p.show(net))))
}

fn cidrhost(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    let p = parse_prefix(&a[0])?;
    let host = int(&a[1], "hostnum")?;
    let hosts = p.host_mask(p.bits); // the number of addresses, less one
                                     // A negative number counts from the end: -1 is the last address.
    let offset = if host >= 0 {
        Some(host as u128).filter(|h| *h <= hosts)
    } else {
        Some(host.unsigned_abs() as u128 - 1)
            .filter(|h| *h <= hosts)
            .map(|h| hosts - h)
    };
    let offset = offset.ok_or_else(|| {
        format!(
            "prefix of {} does not accommodate a host numbered {host}",
            p.bits
        )
    })?;
    Ok(Value::String(p.show(p.base() | offset)))
}

fn cidrnetmask(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    let p = parse_prefix(&a[0])?;
    if p.width != 32 {
        return Err("only IPv4 networks have a netmask".into());
    }
    Ok(Value::String(p.show(!p.host_mask(p.bits) & 0xffff_ffff)))
}

/// `cidrsubnets(prefix, newbits...)`: consecutive subnets, each aligned to its own size, as
/// Terraform allocates them.
fn cidrsubnets(a: FuncArgs) -> Res {
    if a.is_empty() {
        return Err("expects a prefix and new bit counts".into());
    }
    let p = parse_prefix(&a[0])?;
    let base = p.base();
    let last = base | p.host_mask(p.bits);
    // The next free address; None once the whole space is used.
    let mut next: Option<u128> = Some(base);
    let mut prev: Option<String> = None;
    let mut out = Vec::new();
    for (i, v) in a.iter().enumerate().skip(1) {
        let newbits = int(v, "each newbits")?;
        if newbits < 0 || newbits > i64::from(p.width - p.bits) {
            return Err(format!(
                "argument {}: cannot extend a prefix of {} by {newbits} bits",
                i + 1,
                p.bits
            ));
        }
        let len = p.bits + newbits as u32;
        let mask = p.host_mask(len);
        let no_space = || {
            format!(
                "not enough remaining address space for a subnet with a prefix of {len} bits after {}",
                prev.clone().unwrap_or_else(|| format!("{}/{}", p.show(base), p.bits))
            )
        };
        let start = next
            .and_then(|n| n.checked_add(mask))
            .map(|n| n & !mask)
            .ok_or_else(no_space)?;
        let end = start
            .checked_add(mask)
            .filter(|e| *e <= last)
            .ok_or_else(no_space)?;
        let subnet = format!("{}/{len}", p.show(start));
        out.push(Value::String(subnet.clone()));
        prev = Some(subnet);
        next = end.checked_add(1);
    }
    Ok(Value::Array(out))
}

// ---- csvdecode ----

/// The records of CSV text as Go's `encoding/csv` reads them (RFC 4180: quoted fields, `""`
/// for a quote, line breaks inside quotes, blank lines skipped, `\r\n` as a line end).
fn csv_records(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1usize;
    while chars.peek().is_some() {
        // A blank line is no record.
        match chars.peek() {
            Some('\n') => {
                chars.next();
                line += 1;
                continue;
            }
            Some('\r') => {
                chars.next();
                if chars.peek() == Some(&'\n') {
                    chars.next();
                    line += 1;
                }
                continue;
            }
            _ => {}
        }
        let mut record = Vec::new();
        loop {
            let mut field = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                loop {
                    match chars.next() {
                        None => return Err(format!("line {line}: a quoted field is not closed")),
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            field.push(c);
                        }
                    }
                }
                match chars.peek() {
                    None | Some(',') | Some('\n') | Some('\r') => {}
                    Some(_) => {
                        return Err(format!(
                            "line {line}: extraneous or missing \" in a quoted field"
                        ))
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' || c == '\n' || c == '\r' {
                        break;
                    }
                    if c == '"' {
                        return Err(format!("line {line}: a bare \" in a non-quoted field"));
                    }
                    field.push(c);
                    chars.next();
                }
            }
            record.push(field);
            if record.len() > MAX_ELEMENTS {
                return Err("too many fields".into());
            }
            match chars.next() {
                Some(',') => continue,
                Some('\r') => {
                    if chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    line += 1;
                    break;
                }
                Some('\n') => {
                    line += 1;
                    break;
                }
                None => break,
                Some(c) => return Err(format!("line {line}: unexpected {c:?} after a field")),
            }
        }
        records.push(record);
    }
    Ok(records)
}

/// `csvdecode(text)`: one object per row after the header row, every value a string.
fn csvdecode(a: FuncArgs) -> Res {
    let text = str1(&a)?;
    let records = csv_records(&text)?;
    let Some((header, rows)) = records.split_first() else {
        return Err("the CSV text has no header row".into());
    };
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = header.iter().find(|h| !seen.insert(h.as_str())) {
        return Err(format!("duplicate column name {dup:?}"));
    }
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        if row.len() != header.len() {
            return Err(format!(
                "record {} has {} fields, the header {}",
                i + 2,
                row.len(),
                header.len()
            ));
        }
        out.push(Value::Object(
            header
                .iter()
                .zip(row)
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ));
    }
    Ok(Value::Array(out))
}

// ---- yamlencode ----

/// `yamlencode(value)`: YAML block syntax as Terraform writes it: keys sorted and every string
/// double-quoted, multi-line strings as literal blocks, sequences in a mapping not indented.
/// (Terraform also folds double-quoted strings longer than 80 columns at a space; Slipway keeps
/// them on one line, which reads back as the same value.)
fn yamlencode(a: FuncArgs) -> Res {
    arity(&a, 1, 1)?;
    let mut out = String::new();
    match &a[0] {
        Value::Array(l) if !l.is_empty() => yaml_seq(l, 0, false, &mut out)?,
        Value::Object(m) if !m.is_empty() => yaml_map(m, 0, false, &mut out)?,
        Value::String(s) => {
            yaml_string(s, 2, false, &mut out);
            out.push('\n');
        }
        // A plain scalar document ends with a document end marker.
        v @ (Value::Null | Value::Bool(_) | Value::Number(_)) => {
            yaml_plain(v, &mut out);
            out.push_str("\n...\n");
        }
        Value::Array(_) => out.push_str("[]\n"),
        Value::Object(_) => out.push_str("{}\n"),
    }
    Ok(Value::String(out))
}

fn yaml_plain(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => out.push_str(&i.to_string()),
            (_, Some(u), _) => out.push_str(&u.to_string()),
            (_, _, Some(f)) => out.push_str(&format!("{f}")),
            _ => out.push_str(&n.to_string()),
        },
        _ => {}
    }
}

/// A value after `key:` or `- ` (the caller wrote that), ending with its line break; `indent` is
/// the indentation of the enclosing collection.
fn yaml_value(v: &Value, indent: usize, in_map: bool, out: &mut String) -> Result<(), String> {
    check_len(out.len(), "the YAML text")?;
    match v {
        Value::Array(l) if !l.is_empty() => {
            if in_map {
                out.push('\n');
                yaml_seq(l, indent, false, out)
            } else {
                out.push(' ');
                yaml_seq(l, indent + 2, true, out)
            }
        }
        Value::Object(m) if !m.is_empty() => {
            if in_map {
                out.push('\n');
                yaml_map(m, indent + 2, false, out)
            } else {
                out.push(' ');
                yaml_map(m, indent + 2, true, out)
            }
        }
        Value::Array(_) => {
            out.push_str(" []\n");
            Ok(())
        }
        Value::Object(_) => {
            out.push_str(" {}\n");
            Ok(())
        }
        Value::String(s) => {
            out.push(' ');
            yaml_string(s, indent + 2, false, out);
            out.push('\n');
            Ok(())
        }
        scalar => {
            out.push(' ');
            yaml_plain(scalar, out);
            out.push('\n');
            Ok(())
        }
    }
}

fn yaml_map(
    m: &Map<String, Value>,
    indent: usize,
    inline_first: bool,
    out: &mut String,
) -> Result<(), String> {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    for (i, k) in keys.into_iter().enumerate() {
        if i > 0 || !inline_first {
            out.extend(std::iter::repeat_n(' ', indent));
        }
        yaml_string(k, indent, true, out);
        out.push(':');
        if let Some(v) = m.get(k) {
            yaml_value(v, indent, true, out)?;
        }
    }
    Ok(())
}

fn yaml_seq(
    l: &[Value],
    indent: usize,
    inline_first: bool,
    out: &mut String,
) -> Result<(), String> {
    for (i, v) in l.iter().enumerate() {
        if i > 0 || !inline_first {
            out.extend(std::iter::repeat_n(' ', indent));
        }
        out.push('-');
        yaml_value(v, indent, false, out)?;
    }
    Ok(())
}

/// Printable as YAML (libyaml's rule): other characters are escaped in a double-quoted string.
fn yaml_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

/// A string: a literal block (`|-`) when it has line breaks and a block can hold it exactly,
/// double-quoted otherwise; `content_indent` is where a block's lines start.
fn yaml_string(s: &str, content_indent: usize, key: bool, out: &mut String) {
    let literal = !key
        && s.contains('\n')
        && !s.ends_with(' ')
        && !s.contains(" \n")
        && s.chars()
            .all(|c| yaml_printable(c) && !matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}'));
    if literal {
        out.push('|');
        if s.starts_with(' ') || s.starts_with('\n') {
            out.push('2');
        }
        if !s.ends_with('\n') {
            out.push('-');
        } else if s.ends_with("\n\n") {
            out.push('+');
        }
        out.push('\n');
        let lines: Vec<&str> = s.split('\n').collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.is_empty() {
                out.extend(std::iter::repeat_n(' ', content_indent));
                out.push_str(line);
            }
            if i + 1 < lines.len() {
                out.push('\n');
            }
        }
        // The caller ends the value with a line break; a string ending with one has it already.
        if s.ends_with('\n') {
            out.pop();
        }
        return;
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if !yaml_printable(c) => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02X}"));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04X}"));
                } else {
                    out.push_str(&format!("\\U{n:08X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

// ---- fileset ----

/// The most alternatives a pattern's `{a,b}` groups expand to.
const MAX_GLOB_ALTERNATIVES: usize = 1024;

/// Terraform's `fileset(path, pattern)` without the file system: of `paths` (the files under
/// `path`, relative to it, `/`-separated), those `pattern` matches, sorted. `*` matches within
/// a path segment, `**` any number of segments (none too), `?` one character, `{a,b}` either
/// alternative, `[abc]`, `[a-z]` and `[^a]` one character of a class, `\` escapes.
pub fn fileset_match<S: AsRef<str>>(pattern: &str, paths: &[S]) -> Result<Vec<String>, String> {
    if pattern.matches('{').count() > 64 {
        return Err(format!(
            "the pattern {pattern:?} has more than 64 {{ groups"
        ));
    }
    let alternatives = expand_braces(pattern)?;
    let compiled: Vec<Vec<Vec<char>>> = alternatives
        .iter()
        .map(|p| {
            let p = p.strip_prefix("./").unwrap_or(p);
            let mut segs: Vec<Vec<char>> = Vec::new();
            for seg in p.split('/').filter(|seg| !seg.is_empty() && *seg != ".") {
                // `**/**` is `**`.
                if seg == "**" && segs.last().is_some_and(|l| l.as_slice() == ['*', '*']) {
                    continue;
                }
                segs.push(seg.chars().collect());
            }
            segs
        })
        .collect();
    for segs in &compiled {
        for seg in segs {
            check_class_syntax(seg, pattern)?;
        }
    }
    let mut out: Vec<String> = paths
        .iter()
        .map(AsRef::as_ref)
        .filter(|path| {
            let parts: Vec<Vec<char>> = path
                .split('/')
                .filter(|p| !p.is_empty())
                .map(|p| p.chars().collect())
                .collect();
            compiled.iter().any(|segs| match_segments(segs, &parts))
        })
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// `a{b,c{d,e}}f` as `abf`, `acdf`, `acef`.
fn expand_braces(pattern: &str) -> Result<Vec<String>, String> {
    let chars: Vec<char> = pattern.chars().collect();
    // The first top-level `{`, not escaped.
    let mut i = 0;
    let mut open = None;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '{' => {
                open = Some(i);
                break;
            }
            _ => {}
        }
        i += 1;
    }
    let Some(open) = open else {
        return Ok(vec![pattern.to_string()]);
    };
    let mut depth = 0;
    let mut parts = Vec::new();
    let mut start = open + 1;
    let mut close = None;
    let mut j = open;
    while j < chars.len() {
        match chars[j] {
            '\\' => j += 1,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    parts.push(chars[start..j].iter().collect::<String>());
                    close = Some(j);
                    break;
                }
            }
            ',' if depth == 1 => {
                parts.push(chars[start..j].iter().collect::<String>());
                start = j + 1;
            }
            _ => {}
        }
        j += 1;
    }
    let close = close.ok_or_else(|| format!("the pattern {pattern:?} has an unclosed {{"))?;
    let prefix: String = chars[..open].iter().collect();
    let suffix: String = chars[close + 1..].iter().collect();
    let mut out = Vec::new();
    for part in parts {
        for expanded in expand_braces(&format!("{prefix}{part}{suffix}"))? {
            out.push(expanded);
            if out.len() > MAX_GLOB_ALTERNATIVES {
                return Err(format!(
                    "the pattern {pattern:?} expands to more than {MAX_GLOB_ALTERNATIVES} alternatives"
                ));
            }
        }
    }
    Ok(out)
}

fn check_class_syntax(seg: &[char], pattern: &str) -> Result<(), String> {
    let mut i = 0;
    while i < seg.len() {
        match seg[i] {
            '\\' => i += 1,
            '[' => {
                let end = class_end(seg, i)
                    .ok_or_else(|| format!("the pattern {pattern:?} has an unclosed ["))?;
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// The index of the `]` closing the class opened at `open`.
fn class_end(seg: &[char], open: usize) -> Option<usize> {
    let mut i = open + 1;
    if matches!(seg.get(i), Some('^' | '!')) {
        i += 1;
    }
    // A `]` right after the opening is a member.
    if seg.get(i) == Some(&']') {
        i += 1;
    }
    while i < seg.len() {
        match seg[i] {
            '\\' => i += 1,
            ']' => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn class_matches(class: &[char], c: char) -> bool {
    let (negated, members) = match class.first() {
        Some('^' | '!') => (true, &class[1..]),
        _ => (false, class),
    };
    let mut found = false;
    let mut i = 0;
    while i < members.len() {
        let mut lo = members[i];
        if lo == '\\' && i + 1 < members.len() {
            i += 1;
            lo = members[i];
        }
        if members.get(i + 1) == Some(&'-') && i + 2 < members.len() {
            let mut hi = members[i + 2];
            i += 2;
            if hi == '\\' && i + 1 < members.len() {
                i += 1;
                hi = members[i];
            }
            found |= lo <= c && c <= hi;
        } else {
            found |= lo == c;
        }
        i += 1;
    }
    found != negated
}

/// One path segment against one pattern segment (no `/`, braces expanded).
fn match_segment(p: &[char], s: &[char]) -> bool {
    // Backtracking over the last `*` only: linear in practice, quadratic at worst.
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        let step = match p.get(pi) {
            Some('*') => {
                star = Some((pi, si));
                pi += 1;
                continue;
            }
            Some('?') => Some(pi + 1),
            Some('[') => match class_end(p, pi) {
                Some(end) if class_matches(&p[pi + 1..end], s[si]) => Some(end + 1),
                _ => None,
            },
            Some('\\') if pi + 1 < p.len() => (p[pi + 1] == s[si]).then_some(pi + 2),
            Some(c) => (*c == s[si]).then_some(pi + 1),
            None => None,
        };
        match (step, star) {
            (Some(next), _) => {
                pi = next;
                si += 1;
            }
            (None, Some((sp, ss))) => {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            (None, None) => return false,
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn match_segments(p: &[Vec<char>], s: &[Vec<char>]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((first, rest)) if first.as_slice() == ['*', '*'] => {
            (0..=s.len()).any(|skip| match_segments(rest, &s[skip..]))
        }
        Some((first, rest)) => match s.split_first() {
            Some((seg, srest)) => match_segment(first, seg) && match_segments(rest, srest),
            None => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluates `expr` with the Terraform functions.
    fn eval(expr: &str) -> Res {
        let mut ctx = Context::new();
        register(&mut ctx);
        let body: Value =
            hcl::eval::from_str(&format!("x = {expr}\n"), &ctx).map_err(|e| e.to_string())?;
        body.as_object()
            .and_then(|o| o.get("x"))
            .cloned()
            .ok_or_else(|| "no value".to_string())
    }

    fn ok(expr: &str) -> Value {
        eval(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
    }

    fn s(v: &str) -> Value {
        Value::String(v.to_string())
    }

    #[test]
    fn file_functions_digest_the_bytes_they_are_given() {
        let f = |name: &str| file_function(name, b"hello world").expect(name);
        assert_eq!(f("filemd5"), s("5eb63bbbe01eeed093cb22bb8f5acdc3"));
        assert_eq!(f("filesha1"), s("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"));
        assert_eq!(
            f("filesha256"),
            s("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
        );
        assert_eq!(f("filebase64"), s("aGVsbG8gd29ybGQ="));
        assert_eq!(
            f("filebase64sha256"),
            s("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=")
        );
        for name in FILE_FUNCTIONS {
            assert!(file_function(name, &[0xff, 0x00]).is_ok(), "{name}");
        }
        assert!(file_function("file", b"x").is_err());
        assert!(file_function("filemd6", b"x").is_err());
    }

    #[test]
    fn fileset_matches_as_terraform_globs() {
        let paths = [
            "main.tf",
            "files/hello.txt",
            "files/world.txt",
            "files/sub/deep.txt",
            "other/a.txt",
            "other/b.md",
            ".hidden.txt",
        ];
        let m = |p: &str| fileset_match(p, &paths).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(m("files/*.txt"), ["files/hello.txt", "files/world.txt"]);
        assert_eq!(
            m("{files,other}/*.txt"),
            ["files/hello.txt", "files/world.txt", "other/a.txt"]
        );
        assert_eq!(m("**/*.md"), ["other/b.md"]);
        assert_eq!(
            m("files/**"),
            ["files/hello.txt", "files/sub/deep.txt", "files/world.txt"]
        );
        assert_eq!(m("**").len(), paths.len());
        assert_eq!(m("*.tf"), ["main.tf"]);
        assert_eq!(m("./*.tf"), ["main.tf"]);
        assert_eq!(m("files/?????.txt"), ["files/hello.txt", "files/world.txt"]);
        assert_eq!(m("files/[h]*"), ["files/hello.txt"]);
        assert_eq!(m("files/[^h]*.txt"), ["files/world.txt"]);
        assert_eq!(m("files/[a-i]*.txt"), ["files/hello.txt"]);
        assert_eq!(m("other/{a,b}.{txt,md}"), ["other/a.txt", "other/b.md"]);
        assert_eq!(m("*.txt"), [".hidden.txt"]);
        assert!(m("nothing/*").is_empty());
        assert!(fileset_match("files/[a", &paths).is_err());
        assert!(fileset_match("{a,b", &paths).is_err());
        // Pathological patterns stay cheap.
        let long = ["a".repeat(200)];
        assert!(fileset_match(&"*a".repeat(50), &long).is_ok());
        assert!(fileset_match(&"{a,b}".repeat(20), &long).is_err());
        assert!(fileset_match(&"**/".repeat(50), &paths).is_ok());
    }

    #[test]
    fn pathexpand_needs_a_home_for_a_tilde() {
        assert_eq!(
            pathexpand_with("~/.ssh/id_rsa", Some("/home/steve")),
            Ok(s("/home/steve/.ssh/id_rsa"))
        );
        assert_eq!(
            pathexpand_with("/etc/resolv.conf", None),
            Ok(s("/etc/resolv.conf"))
        );
        let unknown = pathexpand_with("~/x", None).expect("unknown");
        assert!(super::super::unknown::is_unknown(&unknown));
        assert!(pathexpand_with("~bob/x", Some("/home/steve")).is_err());
    }

    #[test]
    fn durations_read_as_go_reads_them() {
        assert_eq!(go_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(go_duration("-10m"), Ok(-600_000_000_000));
        assert_eq!(go_duration("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(go_duration("300ms"), Ok(300_000_000));
        assert_eq!(go_duration("0"), Ok(0));
        for bad in ["", "1", "h", "1x", "1.h.", "99999999999999999999h", "-"] {
            assert!(go_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn format_knows_go_numeric_verbs() {
        assert_eq!(
            ok(r#"format("%x %X %o %b", 255, 255, 8, 5)"#),
            s("ff FF 10 101")
        );
        assert_eq!(ok(r#"format("%e", 123456789)"#), s("1.234568e+08"));
        assert_eq!(ok(r#"format("%.2e", 0.000123)"#), s("1.23e-04"));
        assert_eq!(ok(r#"format("%g", 1.5)"#), s("1.5"));
        assert_eq!(ok(r#"format("%g", 1000000)"#), s("1e+06"));
        assert_eq!(
            ok(r#"format("%#v", {a = [1, "b"]})"#),
            s(r#"{"a":[1,"b"]}"#)
        );
        assert_eq!(ok(r#"format("%x", -255)"#), s("-ff"));
    }

    #[test]
    fn yamlencode_writes_terraform_block_style() {
        assert_eq!(
            ok(r#"yamlencode({a = "b", c = "d"})"#),
            s("\"a\": \"b\"\n\"c\": \"d\"\n")
        );
        assert_eq!(
            ok(r#"yamlencode({foo = [1, { a = "b", c = "d" }, 3], bar = "baz"})"#),
            s("\"bar\": \"baz\"\n\"foo\":\n- 1\n- \"a\": \"b\"\n  \"c\": \"d\"\n- 3\n")
        );
        assert_eq!(ok("yamlencode(true)"), s("true\n...\n"));
        assert_eq!(ok("yamlencode(null)"), s("null\n...\n"));
        assert_eq!(ok(r#"yamlencode("hello")"#), s("\"hello\"\n"));
        assert_eq!(ok("yamlencode({})"), s("{}\n"));
        assert_eq!(ok("yamlencode([])"), s("[]\n"));
        assert_eq!(
            ok(r#"yamlencode({ a = "line1\nline2", b = "x\n", c = "tab\there\n" })"#),
            s("\"a\": |-\n  line1\n  line2\n\"b\": |\n  x\n\"c\": \"tab\\there\\n\"\n")
        );
        assert_eq!(
            ok(r#"yamlencode([[1, 2], { k = [] }, { m = { n = 1 } }])"#),
            s("- - 1\n  - 2\n- \"k\": []\n- \"m\":\n    \"n\": 1\n")
        );
        // What yamlencode writes, yamldecode reads back.
        let v = ok(
            r#"yamldecode(yamlencode({ a = ["x\n\ny", " lead\n", "q\"\\", "é ☃"], b = { c = "end \n" } }))"#,
        );
        assert_eq!(
            v,
            ok(r#"{ a = ["x\n\ny", " lead\n", "q\"\\", "é ☃"], b = { c = "end \n" } }"#)
        );
    }

    #[test]
    fn csv_follows_rfc_4180() {
        assert_eq!(
            csv_records("a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\n\n\"multi\nline\",\n"),
            Ok(vec![
                vec!["a".to_string(), "b".to_string()],
                vec!["x,1".to_string(), "say \"hi\"".to_string()],
                vec!["multi\nline".to_string(), String::new()],
            ])
        );
        assert!(csv_records("a\"b\n").is_err());
        assert!(csv_records("\"open\n").is_err());
        assert!(csv_records("\"a\"b\n").is_err());
    }

    #[test]
    fn impure_functions_are_unknown() {
        for f in [
            "timestamp()",
            "plantimestamp()",
            "uuid()",
            "bcrypt(\"secret\")",
        ] {
            let v = ok(f);
            assert!(super::super::unknown::is_unknown(&v), "{f}");
            assert!(!super::super::unknown::reason(&v)
                .unwrap_or_default()
                .contains("secret"));
        }
    }

    #[test]
    fn sizes_are_bounded() {
        assert!(eval("setproduct(range(1000), range(1000), range(1000))").is_err());
        assert!(eval("indent(1000000, join(\"\\n\", range(1000)))").is_err());
        assert!(eval("formatlist(\"%1000000d\", range(1000))").is_err());
        assert!(eval("indent(-1, \"x\")").is_err());
        assert!(eval("chunklist([1], 99999999999999)").is_ok());
    }

    #[test]
    fn split_by_an_empty_separator_gives_the_characters() {
        assert_eq!(ok(r#"split("", "a☃b")"#), ok(r#"["a", "☃", "b"]"#));
        assert_eq!(ok(r#"split(",", "")"#), ok(r#"[""]"#));
        assert!(eval(r#"tonumber("inf")"#).is_err());
        assert!(eval(r#"tonumber("NaN")"#).is_err());
    }

    #[test]
    fn edges_are_errors_not_panics() {
        assert_eq!(ok(r#"cidrsubnet("::/0", 0, 0)"#), s("::/0"));
        assert_eq!(
            ok(r#"cidrsubnets("::/0", 0)"#),
            Value::Array(vec![s("::/0")])
        );
        assert_eq!(
            ok(r#"cidrhost("::/0", -1)"#),
            s("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
        );
        assert!(eval(r#"cidrsubnets("::/0", 0, 0)"#).is_err());
        assert!(eval(r#"cidrsubnet("10.0.0.0/8", 99999999999, 1)"#).is_err());
        assert!(eval(r#"cidrsubnet("10.0.0.0/8", 9223372036854775807, 0)"#).is_err());
        assert!(eval(r#"cidrsubnets("10.0.0.0/8", 9223372036854775807)"#).is_err());
        assert!(go_duration("170141183460469231731687303715884105727h.9").is_err());
        assert!(go_duration("2562048h").is_err());
        assert!(eval(r#"timeadd("9999-12-31T23:59:59Z", "1s")"#).is_err());
        assert!(eval(r#"parseint("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", 62)"#).is_err());
        assert!(eval("log(-1, 10)").is_err());
        assert!(eval("pow(10, 400)").is_err());
        assert!(fileset_match(&"{".repeat(100_000), &["a"]).is_err());
        assert!(fileset_match(&"[".repeat(1000), &["a"]).is_err());
    }
}
