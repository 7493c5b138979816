//! cty values as terraform stores them in a plan file: types from their JSON form, values from
//! msgpack, and the JSON renderings `terraform show -json` makes of them (the value with unknowns
//! left out, `after_unknown` and the `*_sensitive` markers).

use std::collections::BTreeMap;

use rmp::Marker;
use serde_json::{Map, Number, Value};

/// Why a value could not be decoded. The caller adds where the value was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The bytes are not what terraform writes.
    Corrupt(String),
    /// Valid, but beyond what this reader handles.
    Unsupported(String),
}

fn corrupt<T>(msg: impl Into<String>) -> Result<T, Fault> {
    Err(Fault::Corrupt(msg.into()))
}

fn unsupported<T>(msg: impl Into<String>) -> Result<T, Fault> {
    Err(Fault::Unsupported(msg.into()))
}

/// A cty type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    Bool,
    Number,
    String,
    /// `dynamic`: the concrete type travels with the value.
    Dynamic,
    List(Box<Ty>),
    Set(Box<Ty>),
    Map(Box<Ty>),
    Object(BTreeMap<String, Ty>),
    Tuple(Vec<Ty>),
}

const MAX_DEPTH: usize = 64;

impl Ty {
    /// Reads a type in cty's JSON form: `"string"`, `["list","string"]`, `["object",{...}]`.
    pub fn from_json(v: &Value) -> Result<Ty, Fault> {
        Ty::from_json_at(v, 0)
    }

    fn from_json_at(v: &Value, depth: usize) -> Result<Ty, Fault> {
        if depth > MAX_DEPTH {
            return unsupported("a type nested too deeply");
        }
        match v {
            Value::String(s) => match s.as_str() {
                "bool" => Ok(Ty::Bool),
                "number" => Ok(Ty::Number),
                "string" => Ok(Ty::String),
                "dynamic" => Ok(Ty::Dynamic),
                other => unsupported(format!("type `{other}`")),
            },
            Value::Array(a) => {
                let kind = a.first().and_then(Value::as_str).unwrap_or_default();
                match (kind, a.len()) {
                    ("list" | "set" | "map", 2) => {
                        let elem = Box::new(Ty::from_json_at(&a[1], depth + 1)?);
                        Ok(match kind {
                            "list" => Ty::List(elem),
                            "set" => Ty::Set(elem),
                            _ => Ty::Map(elem),
                        })
                    }
                    ("object", 2) => {
                        let Value::Object(attrs) = &a[1] else {
                            return corrupt("an object type without attributes");
                        };
                        let mut out = BTreeMap::new();
                        for (k, t) in attrs {
                            out.insert(k.clone(), Ty::from_json_at(t, depth + 1)?);
                        }
                        Ok(Ty::Object(out))
                    }
                    ("object", 3) => unsupported("object types with optional attributes"),
                    ("tuple", 2) => {
                        let Value::Array(elems) = &a[1] else {
                            return corrupt("a tuple type without element types");
                        };
                        let elems = elems
                            .iter()
                            .map(|t| Ty::from_json_at(t, depth + 1))
                            .collect::<Result<_, _>>()?;
                        Ok(Ty::Tuple(elems))
                    }
                    _ => unsupported(format!("type {v}")),
                }
            }
            _ => corrupt(format!("{v} is not a type")),
        }
    }

    fn kind(&self) -> Kind {
        match self {
            Ty::Bool | Ty::Number | Ty::String | Ty::Dynamic => Kind::Scalar,
            Ty::List(_) | Ty::Set(_) | Ty::Tuple(_) => Kind::Seq,
            Ty::Map(_) | Ty::Object(_) => Kind::Mapping,
        }
    }

    /// Whether the type has `dynamic` anywhere inside.
    pub fn has_dynamic(&self) -> bool {
        match self {
            Ty::Dynamic => true,
            Ty::Bool | Ty::Number | Ty::String => false,
            Ty::List(t) | Ty::Set(t) | Ty::Map(t) => t.has_dynamic(),
            Ty::Object(a) => a.values().any(Ty::has_dynamic),
            Ty::Tuple(e) => e.iter().any(Ty::has_dynamic),
        }
    }
}

/// The shape of an unknown value's type: what terraform's markers write for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Primitive or dynamic.
    Scalar,
    /// List, set or tuple.
    Seq,
    /// Map or object.
    Mapping,
}

/// A decoded value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Unknown(Kind),
    Bool(bool),
    Number(Number),
    String(String),
    Seq {
        set: bool,
        items: Vec<Val>,
    },
    Mapping {
        object: bool,
        entries: BTreeMap<String, Val>,
    },
}

/// One step of a path into a value (cty's GetAttrStep and IndexStep).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Attr(String),
    Key(String),
    Index(u64),
}

/// Decodes a msgpack value of type `ty`.
pub fn decode(bytes: &[u8], ty: &Ty) -> Result<Val, Fault> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let v = r.value(ty, 0)?;
    if r.pos != bytes.len() {
        return corrupt(format!(
            "{} bytes left over after the value",
            bytes.len() - r.pos
        ));
    }
    Ok(v)
}

/// Decodes a path step's element key: a msgpack string or number (or a value of dynamic type).
pub fn decode_key(bytes: &[u8]) -> Result<Step, Fault> {
    let ty = match bytes.first().map(|b| Marker::from_u8(*b)) {
        Some(Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32) => Ty::String,
        Some(Marker::FixArray(_) | Marker::Array16 | Marker::Array32) => Ty::Dynamic,
        _ => Ty::Number,
    };
    match decode(bytes, &ty)? {
        Val::String(s) => Ok(Step::Key(s)),
        Val::Number(n) => match n.as_u64() {
            Some(i) => Ok(Step::Index(i)),
            None => unsupported(format!("index {n} in a path")),
        },
        other => unsupported(format!("path key {other:?}")),
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Fault> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len());
        let Some(end) = end else {
            return corrupt("msgpack value cut short");
        };
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, Fault> {
        Ok(self.take(1)?[0])
    }

    fn uint(&mut self, n: usize) -> Result<u64, Fault> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |a, b| (a << 8) | u64::from(*b)))
    }

    fn len(&mut self, n: usize) -> Result<usize, Fault> {
        let len = self.uint(n)?;
        usize::try_from(len).or_else(|_| corrupt("length out of range"))
    }

    /// A collection length, checked against the bytes left (every element takes one at least).
    fn count(&mut self, len: usize) -> Result<usize, Fault> {
        if len > self.buf.len() - self.pos {
            return corrupt(format!("a collection of {len} elements in fewer bytes"));
        }
        Ok(len)
    }

    fn value(&mut self, ty: &Ty, depth: usize) -> Result<Val, Fault> {
        if depth > MAX_DEPTH {
            return unsupported("a value nested too deeply");
        }
        let start = self.pos;
        let marker = Marker::from_u8(self.byte()?);
        match marker {
            Marker::Null => return Ok(Val::Null),
            Marker::FixExt1
            | Marker::FixExt2
            | Marker::FixExt4
            | Marker::FixExt8
            | Marker::FixExt16
            | Marker::Ext8
            | Marker::Ext16
            | Marker::Ext32 => {
                let len = match marker {
                    Marker::FixExt1 => 1,
                    Marker::FixExt2 => 2,
                    Marker::FixExt4 => 4,
                    Marker::FixExt8 => 8,
                    Marker::FixExt16 => 16,
                    Marker::Ext8 => self.len(1)?,
                    Marker::Ext16 => self.len(2)?,
                    _ => self.len(4)?,
                };
                let ext_type = self.byte()?;
                self.take(len)?;
                if ext_type != 0 {
                    return unsupported(format!("msgpack extension type {ext_type}"));
                }
                return Ok(Val::Unknown(ty.kind()));
            }
            _ => {}
        }
        match ty {
            Ty::Dynamic => {
                if self.array_len(marker)? != Some(2) {
                    return corrupt("a dynamic value that is not a [type, value] pair");
                }
                let type_bytes = self.bytes_or_str()?;
                let type_json: Value = serde_json::from_slice(type_bytes)
                    .or_else(|e| corrupt(format!("the type of a dynamic value: {e}")))?;
                let inner = Ty::from_json(&type_json)?;
                if inner == Ty::Dynamic {
                    return corrupt("a dynamic value of dynamic type");
                }
                self.value(&inner, depth + 1)
            }
            Ty::Bool => match marker {
                Marker::True => Ok(Val::Bool(true)),
                Marker::False => Ok(Val::Bool(false)),
                _ => self.mismatch(start, "bool"),
            },
            Ty::Number => self.number(marker, start),
            Ty::String => match self.str_len(marker)? {
                Some(len) => Ok(Val::String(self.utf8(len)?)),
                None => self.mismatch(start, "string"),
            },
            Ty::List(elem) | Ty::Set(elem) => {
                let Some(len) = self.array_len(marker)? else {
                    return self.mismatch(start, "list or set");
                };
                let items = (0..len)
                    .map(|_| self.value(elem, depth + 1))
                    .collect::<Result<_, _>>()?;
                Ok(Val::Seq {
                    set: matches!(ty, Ty::Set(_)),
                    items,
                })
            }
            Ty::Tuple(elems) => {
                let Some(len) = self.array_len(marker)? else {
                    return self.mismatch(start, "tuple");
                };
                if len != elems.len() {
                    return corrupt(format!(
                        "a tuple of {len} elements where the type has {}",
                        elems.len()
                    ));
                }
                let items = elems
                    .iter()
                    .map(|t| self.value(t, depth + 1))
                    .collect::<Result<_, _>>()?;
                Ok(Val::Seq { set: false, items })
            }
            Ty::Map(elem) => {
                let Some(len) = self.map_len(marker)? else {
                    return self.mismatch(start, "map");
                };
                let mut entries = BTreeMap::new();
                for _ in 0..len {
                    let k = self.key()?;
                    let v = self.value(elem, depth + 1)?;
                    if entries.insert(k.clone(), v).is_some() {
                        return corrupt(format!("map key {k:?} twice"));
                    }
                }
                Ok(Val::Mapping {
                    object: false,
                    entries,
                })
            }
            Ty::Object(attrs) => {
                let Some(len) = self.map_len(marker)? else {
                    return self.mismatch(start, "object");
                };
                let mut entries = BTreeMap::new();
                for _ in 0..len {
                    let k = self.key()?;
                    let Some(aty) = attrs.get(&k) else {
                        return unsupported(format!(
                            "attribute {k:?}, which the provider schema does not have"
                        ));
                    };
                    let v = self.value(aty, depth + 1)?;
                    if entries.insert(k.clone(), v).is_some() {
                        return corrupt(format!("attribute {k:?} twice"));
                    }
                }
                // cty writes every attribute: one missing means another schema.
                if let Some(k) = attrs.keys().find(|k| !entries.contains_key(*k)) {
                    return unsupported(format!(
                        "no attribute {k:?}, which the provider schema has"
                    ));
                }
                Ok(Val::Mapping {
                    object: true,
                    entries,
                })
            }
        }
    }

    fn mismatch<T>(&self, start: usize, want: &str) -> Result<T, Fault> {
        corrupt(format!(
            "expected a {want}, found msgpack byte {:#04x}",
            self.buf.get(start).copied().unwrap_or_default()
        ))
    }

    fn key(&mut self) -> Result<String, Fault> {
        let start = self.pos;
        let marker = Marker::from_u8(self.byte()?);
        match self.str_len(marker)? {
            Some(len) => self.utf8(len),
            None => self.mismatch(start, "string key"),
        }
    }

    fn utf8(&mut self, len: usize) -> Result<String, Fault> {
        let b = self.take(len)?;
        String::from_utf8(b.to_vec()).or_else(|_| corrupt("a string that is not UTF-8"))
    }

    fn bytes_or_str(&mut self) -> Result<&'a [u8], Fault> {
        let start = self.pos;
        let marker = Marker::from_u8(self.byte()?);
        let len = match marker {
            Marker::Bin8 => self.len(1)?,
            Marker::Bin16 => self.len(2)?,
            Marker::Bin32 => self.len(4)?,
            m => match self.str_len(m)? {
                Some(len) => len,
                None => return self.mismatch(start, "type description"),
            },
        };
        self.take(len)
    }

    fn str_len(&mut self, marker: Marker) -> Result<Option<usize>, Fault> {
        Ok(Some(match marker {
            Marker::FixStr(n) => usize::from(n),
            Marker::Str8 => self.len(1)?,
            Marker::Str16 => self.len(2)?,
            Marker::Str32 => self.len(4)?,
            _ => return Ok(None),
        }))
    }

    fn array_len(&mut self, marker: Marker) -> Result<Option<usize>, Fault> {
        let len = match marker {
            Marker::FixArray(n) => usize::from(n),
            Marker::Array16 => self.len(2)?,
            Marker::Array32 => self.len(4)?,
            _ => return Ok(None),
        };
        self.count(len).map(Some)
    }

    fn map_len(&mut self, marker: Marker) -> Result<Option<usize>, Fault> {
        let len = match marker {
            Marker::FixMap(n) => usize::from(n),
            Marker::Map16 => self.len(2)?,
            Marker::Map32 => self.len(4)?,
            _ => return Ok(None),
        };
        // A map entry takes two bytes at least.
        self.count(len.saturating_mul(2))?;
        Ok(Some(len))
    }

    fn number(&mut self, marker: Marker, start: usize) -> Result<Val, Fault> {
        let n: Number = match marker {
            Marker::FixPos(n) => n.into(),
            Marker::FixNeg(n) => n.into(),
            Marker::U8 => self.uint(1)?.into(),
            Marker::U16 => self.uint(2)?.into(),
            Marker::U32 => self.uint(4)?.into(),
            Marker::U64 => self.uint(8)?.into(),
            // Two's complement: the cast back to signed is the point.
            Marker::I8 => i64::from(self.uint(1)? as u8 as i8).into(),
            Marker::I16 => i64::from(self.uint(2)? as u16 as i16).into(),
            Marker::I32 => i64::from(self.uint(4)? as u32 as i32).into(),
            Marker::I64 => (self.uint(8)? as i64).into(),
            Marker::F32 => float(f64::from(f32::from_bits(self.uint(4)? as u32)))?,
            Marker::F64 => float(f64::from_bits(self.uint(8)?))?,
            m => match self.str_len(m)? {
                // cty writes a number that fits neither int64 nor float64 exactly as its
                // decimal text. Keep it only when a float64 renders to the same text.
                Some(len) => {
                    let text = self.utf8(len)?;
                    let f: f64 = text
                        .parse()
                        .or_else(|_| corrupt("a number that does not parse".to_string()))?;
                    let n = float(f)?;
                    if n.to_string() != text {
                        // The value itself stays out of the message: it may be sensitive.
                        return unsupported("a number a float64 does not hold exactly".to_string());
                    }
                    n
                }
                None => return self.mismatch(start, "number"),
            },
        };
        Ok(Val::Number(n))
    }
}

fn float(f: f64) -> Result<Number, Fault> {
    Number::from_f64(f).ok_or_else(|| Fault::Unsupported("a number JSON cannot hold".to_string()))
}

/// A tree of marked paths: the sensitive marks of one value.
#[derive(Debug, Default)]
pub struct Marks {
    marked: bool,
    children: BTreeMap<Step, Marks>,
}

impl Marks {
    /// Marks one path.
    pub fn add(&mut self, path: &[Step]) {
        let mut node = self;
        for step in path {
            node = node.children.entry(step.clone()).or_default();
        }
        node.marked = true;
    }

    fn child(&self, step: &Step) -> Option<&Marks> {
        self.children.get(step)
    }
}

/// `true` where terraform's marker says so, in the shape terraform writes it.
const fn tf(b: bool) -> Value {
    Value::Bool(b)
}

impl Val {
    /// Whether no part of the value is unknown.
    pub fn wholly_known(&self) -> bool {
        match self {
            Val::Unknown(_) => false,
            Val::Seq { items, .. } => items.iter().all(Val::wholly_known),
            Val::Mapping { entries, .. } => entries.values().all(Val::wholly_known),
            _ => true,
        }
    }

    /// The JSON of a wholly known value (unknowns, should there be any, as null).
    pub fn to_json(&self) -> Value {
        match self {
            Val::Null | Val::Unknown(_) => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Number(n) => Value::Number(n.clone()),
            Val::String(s) => Value::String(s.clone()),
            Val::Seq { items, .. } => Value::Array(items.iter().map(Val::to_json).collect()),
            Val::Mapping { entries, .. } => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// The JSON of the known part: unknown attributes and map elements left out, unknown
    /// list elements as null (terraform's `after` of a change that is not wholly known).
    pub fn known_json(&self) -> Option<Value> {
        Some(match self {
            Val::Unknown(_) => return None,
            Val::Seq { items, .. } => Value::Array(
                items
                    .iter()
                    .map(|v| v.known_json().unwrap_or(Value::Null))
                    .collect(),
            ),
            Val::Mapping { entries, .. } => Value::Object(
                entries
                    .iter()
                    .filter_map(|(k, v)| v.known_json().map(|j| (k.clone(), j)))
                    .collect(),
            ),
            other => other.to_json(),
        })
    }

    /// terraform's `after_unknown`: `true` at unknown values, `false` elsewhere, with the
    /// `false` attributes of objects and maps left out.
    pub fn unknown_json(&self) -> Value {
        match self {
            Val::Unknown(_) => tf(true),
            Val::Seq { items, .. } => Value::Array(items.iter().map(Val::unknown_json).collect()),
            Val::Mapping { entries, .. } => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.unknown_json()))
                    .filter(|(_, j)| j != &tf(false))
                    .collect::<Map<_, _>>(),
            ),
            _ => tf(false),
        }
    }

    /// terraform's `*_sensitive`: `true` at marked values, with the `false` attributes of
    /// objects and maps left out; an unknown collection is an empty one (its contents are not
    /// known, nor are their marks). Marks below an unknown or null value do not apply.
    pub fn sensitive_json(&self, marks: Option<&Marks>) -> Result<Value, Fault> {
        if marks.is_some_and(|m| m.marked) {
            return Ok(tf(true));
        }
        Ok(match self {
            Val::Null | Val::Bool(_) | Val::Number(_) | Val::String(_) => tf(false),
            Val::Unknown(Kind::Scalar) => tf(false),
            Val::Unknown(Kind::Seq) => Value::Array(Vec::new()),
            Val::Unknown(Kind::Mapping) => Value::Object(Map::new()),
            Val::Seq { set, items } => {
                if *set && marks.is_some_and(|m| !m.children.is_empty()) {
                    return unsupported("a sensitive value inside a set");
                }
                let mut out = Vec::with_capacity(items.len());
                for (i, v) in items.iter().enumerate() {
                    let m = marks.and_then(|m| m.child(&Step::Index(i as u64)));
                    out.push(v.sensitive_json(m)?);
                }
                Value::Array(out)
            }
            Val::Mapping { object, entries } => {
                let mut out = Map::new();
                for (k, v) in entries {
                    let step = if *object {
                        Step::Attr(k.clone())
                    } else {
                        Step::Key(k.clone())
                    };
                    let s = v.sensitive_json(marks.and_then(|m| m.child(&step)))?;
                    if s != tf(false) {
                        out.insert(k.clone(), s);
                    }
                }
                Value::Object(out)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(attrs: &[(&str, Ty)]) -> Ty {
        Ty::Object(
            attrs
                .iter()
                .map(|(k, t)| ((*k).to_string(), t.clone()))
                .collect(),
        )
    }

    #[test]
    fn unknown_id_is_left_out_of_the_value_and_marked_in_after_unknown() {
        // {"id": <unknown>, "triggers": {"a": "b"}}
        let bytes = [
            0x82, 0xa2, b'i', b'd', 0xd4, 0x00, 0x00, 0xa8, b't', b'r', b'i', b'g', b'g', b'e',
            b'r', b's', 0x81, 0xa1, b'a', 0xa1, b'b',
        ];
        let ty = obj(&[
            ("id", Ty::String),
            ("triggers", Ty::Map(Box::new(Ty::String))),
        ]);
        let v = decode(&bytes, &ty).expect("decodes");
        assert!(!v.wholly_known());
        assert_eq!(
            v.known_json(),
            Some(serde_json::json!({"triggers": {"a": "b"}}))
        );
        assert_eq!(
            v.unknown_json(),
            serde_json::json!({"id": true, "triggers": {}})
        );
    }

    #[test]
    fn a_dynamic_value_carries_its_type() {
        // ["\"number\"", 7]
        let mut bytes = vec![0x92, 0xa8];
        bytes.extend_from_slice(b"\"number\"");
        bytes.push(0x07);
        assert_eq!(decode(&bytes, &Ty::Dynamic), Ok(Val::Number(7.into())));
    }

    #[test]
    fn a_huge_length_is_corrupt_not_an_allocation() {
        let bytes = [0xdd, 0xff, 0xff, 0xff, 0xff];
        let ty = Ty::List(Box::new(Ty::String));
        assert!(matches!(decode(&bytes, &ty), Err(Fault::Corrupt(_))));
    }

    #[test]
    fn a_big_number_text_is_kept_only_when_a_float_holds_it() {
        let text = |s: &str| {
            let mut b = vec![0xa0 | s.len() as u8];
            b.extend_from_slice(s.as_bytes());
            decode(&b, &Ty::Number)
        };
        assert_eq!(
            text("0.1"),
            Ok(Val::Number(Number::from_f64(0.1).expect("finite")))
        );
        assert!(matches!(
            text("123456789012345678901234"),
            Err(Fault::Unsupported(_))
        ));
    }
}
