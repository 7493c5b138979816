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
            .map_err(|_| format!("{what} must be a number, got \"{s}\"")),
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
    if sep.is_empty() {
        return Err("the separator must not be empty".into());
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
/// Go's fmt refuses widths and precisions above this; so does Slipway, rather than build a
/// string of any size a configuration asks for.
const MAX_WIDTH: usize = 1_000_000;

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
    let mut out = String::new();
    let mut next = 1;
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
        while let Some(&f) = chars.peek() {
            match f {
                '-' => left = true,
                '0' => zero = true,
                '+' => plus = true,
                '#' | ' ' => {}
                _ => break,
            }
            chars.next();
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let width = directive_number(&width, "width", &spec)?;
        let mut precision = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            precision = Some(directive_number(&p, "precision", &spec)?.unwrap_or(0));
        }
        let verb = chars
            .next()
            .ok_or_else(|| "format string ends with a lone %".to_string())?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let arg = a
            .get(next)
            .ok_or_else(|| format!("not enough arguments for the format \"{spec}\""))?;
        next += 1;
        let (text, numeric) = match verb {
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
    Ok(Value::String(out))
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
    let mut out: Vec<Value> = Vec::new();
    for v in list(&a[0], "the argument")? {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
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
    let (start, end, step) = match a.len() {
        1 => (0.0, number(&a[0], "the limit")?, 1.0),
        2 => (
            number(&a[0], "the start")?,
            number(&a[1], "the limit")?,
            1.0,
        ),
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
    a.iter()
        .find(|v| !matches!(v, Value::Null) && v.as_str() != Some(""))
        .cloned()
        .ok_or_else(|| "no non-null, non-empty argument".to_string())
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
    distinct(a)
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

// ---- networking ----

fn parse_cidr(s: &str) -> Result<(u32, u32), String> {
    let (ip, bits) = s
        .split_once('/')
        .ok_or_else(|| format!("\"{s}\" is not a CIDR block"))?;
    let ip: std::net::Ipv4Addr = ip
        .parse()
        .map_err(|_| format!("\"{s}\" is not an IPv4 CIDR block"))?;
    let bits: u32 = bits
        .parse()
        .ok()
        .filter(|b| *b <= 32)
        .ok_or_else(|| format!("\"{s}\" has an invalid prefix length"))?;
    Ok((u32::from(ip), bits))
}
fn cidrsubnet(a: FuncArgs) -> Res {
    arity(&a, 3, 3)?;
    let (ip, bits) = parse_cidr(&string(&a[0], "the prefix")?)?;
    let newbits = int(&a[1], "newbits")?;
    let netnum = int(&a[2], "netnum")?;
    // Checked before any arithmetic: newbits comes from the configuration and may be huge.
    if !(0..=32).contains(&newbits) {
        return Err(format!("cannot extend a /{bits} prefix by {newbits} bits"));
    }
    let total = bits as i64 + newbits;
    if total > 32 || netnum < 0 || netnum >= (1i64 << newbits) {
        return Err(format!("cannot make subnet {netnum} of {newbits} new bits"));
    }
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    let base = ip & mask;
    let net = base | ((netnum as u32) << (32 - total as u32));
    Ok(Value::String(format!(
        "{}/{}",
        std::net::Ipv4Addr::from(net),
        total
    )))
}
fn cidrhost(a: FuncArgs) -> Res {
    arity(&a, 2, 2)?;
    let (ip, bits) = parse_cidr(&string(&a[0], "the prefix")?)?;
    let host = int(&a[1], "hostnum")?;
    let size = 1i64 << (32 - bits);
    if host < 0 || host >= size {
        return Err(format!("host number {host} does not fit in /{bits}"));
    }
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    Ok(Value::String(
        std::net::Ipv4Addr::from((ip & mask) | host as u32).to_string(),
    ))
}
