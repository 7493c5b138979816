//! Provider schemas: what a plan file leaves out. The types of resource attributes (to decode
//! their msgpack and to know the shape of an unknown value) and which attributes the provider
//! marks sensitive come from the provider, not from the plan file.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::cty::{Fault, Marks, Step, Ty, Val};
use super::PlanFileError;

/// Schemas of the providers a plan may use, in the shape of `terraform providers schema -json`.
#[derive(Debug, Clone, Default)]
pub struct ProviderSchemas {
    providers: BTreeMap<String, Provider>,
}

#[derive(Debug, Clone, Default)]
struct Provider {
    resources: BTreeMap<String, Result<Block, String>>,
    data_sources: BTreeMap<String, Result<Block, String>>,
}

/// One block of a schema: its attributes and nested block types.
#[derive(Debug, Clone, Default)]
pub(crate) struct Block {
    attributes: BTreeMap<String, Attribute>,
    block_types: BTreeMap<String, NestedBlock>,
}

#[derive(Debug, Clone)]
struct Attribute {
    ty: Ty,
    sensitive: bool,
}

#[derive(Debug, Clone)]
struct NestedBlock {
    nesting: Nesting,
    block: Block,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nesting {
    Single,
    Group,
    List,
    Set,
    Map,
}

/// `terraform providers schema -json` of hashicorp/null 2.1.2, written by terraform 1.0.3.
const NULL_2_1_2: &str = include_str!("schemas/null-2.1.2.json");

impl ProviderSchemas {
    /// Reads the output of `terraform providers schema -json`. A plan file does not say which
    /// provider versions made it: the caller keeps the schemas in step with the lock file.
    pub fn from_json(bytes: &[u8]) -> Result<ProviderSchemas, PlanFileError> {
        let doc: Value = serde_json::from_slice(bytes).map_err(|e| PlanFileError::Schemas {
            what: e.to_string(),
        })?;
        let Some(providers) = doc.get("provider_schemas").and_then(Value::as_object) else {
            return Err(PlanFileError::Schemas {
                what: "no `provider_schemas` object".to_string(),
            });
        };
        let mut out = ProviderSchemas::default();
        for (source, p) in providers {
            let mut provider = Provider::default();
            for (field, map) in [
                ("resource_schemas", &mut provider.resources),
                ("data_source_schemas", &mut provider.data_sources),
            ] {
                let Some(schemas) = p.get(field).and_then(Value::as_object) else {
                    continue;
                };
                for (type_name, s) in schemas {
                    let block = match s.get("block") {
                        Some(b) => Block::from_json(b, 0),
                        None => Err(format!("`{type_name}` has no block")),
                    };
                    map.insert(type_name.clone(), block);
                }
            }
            out.providers.insert(source.clone(), provider);
        }
        Ok(out)
    }

    /// The schemas Slipway ships: hashicorp/null (its 2.1.2 schema, which 3.x keeps).
    pub fn builtin() -> &'static ProviderSchemas {
        static BUILTIN: OnceLock<ProviderSchemas> = OnceLock::new();
        BUILTIN
            .get_or_init(|| ProviderSchemas::from_json(NULL_2_1_2.as_bytes()).unwrap_or_default())
    }

    /// The schema of a resource or data source type.
    pub(crate) fn block(
        &self,
        provider: &str,
        data: bool,
        type_name: &str,
    ) -> Result<&Block, Fault> {
        let Some(p) = self.providers.get(provider) else {
            return Err(Fault::Unsupported(format!(
                "no schema for provider {provider}: a plan file does not say which attributes \
                 the provider marks sensitive nor their types"
            )));
        };
        let map = if data { &p.data_sources } else { &p.resources };
        match map.get(type_name) {
            Some(Ok(b)) => Ok(b),
            Some(Err(e)) => Err(Fault::Unsupported(format!("schema of {type_name}: {e}"))),
            None => Err(Fault::Unsupported(format!(
                "provider {provider} has no schema for {type_name}"
            ))),
        }
    }
}

impl ProviderSchemas {
    /// The schema of a type in whichever provider has it.
    pub(crate) fn any_block(&self, data: bool, type_name: &str) -> Option<&Block> {
        self.providers.values().find_map(|p| {
            let map = if data { &p.data_sources } else { &p.resources };
            map.get(type_name).and_then(|b| b.as_ref().ok())
        })
    }
}

impl Block {
    fn from_json(v: &Value, depth: usize) -> Result<Block, String> {
        if depth > 32 {
            return Err("blocks nested too deeply".to_string());
        }
        let mut block = Block::default();
        if let Some(attrs) = v.get("attributes").and_then(Value::as_object) {
            for (name, a) in attrs {
                if a.get("nested_type").is_some() {
                    return Err(format!("attribute `{name}` has a nested type"));
                }
                let ty = a
                    .get("type")
                    .ok_or_else(|| format!("attribute `{name}` has no type"))
                    .and_then(|t| {
                        Ty::from_json(t).map_err(|f| format!("attribute `{name}`: {f:?}"))
                    })?;
                let sensitive = a.get("sensitive").and_then(Value::as_bool).unwrap_or(false);
                block
                    .attributes
                    .insert(name.clone(), Attribute { ty, sensitive });
            }
        }
        if let Some(blocks) = v.get("block_types").and_then(Value::as_object) {
            for (name, b) in blocks {
                let nesting = match b.get("nesting_mode").and_then(Value::as_str) {
                    Some("single") => Nesting::Single,
                    Some("group") => Nesting::Group,
                    Some("list") => Nesting::List,
                    Some("set") => Nesting::Set,
                    Some("map") => Nesting::Map,
                    other => return Err(format!("block `{name}` has nesting mode {other:?}")),
                };
                let inner = b
                    .get("block")
                    .ok_or_else(|| format!("block `{name}` has no block"))?;
                let block_schema = Block::from_json(inner, depth + 1)?;
                if matches!(nesting, Nesting::List | Nesting::Map)
                    && block_schema.implied_type().has_dynamic()
                {
                    // cty turns these into tuples and objects; not handled here.
                    return Err(format!("block `{name}` holds a dynamic attribute"));
                }
                block.block_types.insert(
                    name.clone(),
                    NestedBlock {
                        nesting,
                        block: block_schema,
                    },
                );
            }
        }
        Ok(block)
    }

    /// The object type of values of this block.
    pub(crate) fn implied_type(&self) -> Ty {
        let mut attrs: BTreeMap<String, Ty> = self
            .attributes
            .iter()
            .map(|(k, a)| (k.clone(), a.ty.clone()))
            .collect();
        for (k, b) in &self.block_types {
            let obj = b.block.implied_type();
            attrs.insert(
                k.clone(),
                match b.nesting {
                    Nesting::Single | Nesting::Group => obj,
                    Nesting::List => Ty::List(Box::new(obj)),
                    Nesting::Set => Ty::Set(Box::new(obj)),
                    Nesting::Map => Ty::Map(Box::new(obj)),
                },
            );
        }
        Ty::Object(attrs)
    }

    /// Whether the name is an attribute of this block (not a nested block type).
    pub(crate) fn has_attribute(&self, name: &str) -> bool {
        self.attributes.contains_key(name)
    }

    fn contains_sensitive(&self) -> bool {
        self.attributes.values().any(|a| a.sensitive)
            || self
                .block_types
                .values()
                .any(|b| b.block.contains_sensitive())
    }

    /// Adds the marks of attributes the schema declares sensitive, as terraform does before
    /// rendering a change: every sensitive attribute (null or not), and inside nested blocks
    /// that are known and not null.
    pub(crate) fn add_marks(
        &self,
        val: &Val,
        path: &mut Vec<Step>,
        marks: &mut Marks,
    ) -> Result<(), Fault> {
        for (name, a) in &self.attributes {
            if a.sensitive {
                path.push(Step::Attr(name.clone()));
                marks.add(path);
                path.pop();
            }
        }
        let Val::Mapping { entries, .. } = val else {
            return Ok(());
        };
        for (name, b) in &self.block_types {
            if !b.block.contains_sensitive() {
                continue;
            }
            let Some(v) = entries.get(name) else { continue };
            path.push(Step::Attr(name.clone()));
            match (b.nesting, v) {
                (_, Val::Null | Val::Unknown(_)) => {}
                (Nesting::Single | Nesting::Group, v) => b.block.add_marks(v, path, marks)?,
                (Nesting::List, Val::Seq { items, .. }) => {
                    for (i, item) in items.iter().enumerate() {
                        path.push(Step::Index(i as u64));
                        b.block.add_marks(item, path, marks)?;
                        path.pop();
                    }
                }
                (Nesting::Map, Val::Mapping { entries, .. }) => {
                    for (k, item) in entries {
                        path.push(Step::Key(k.clone()));
                        b.block.add_marks(item, path, marks)?;
                        path.pop();
                    }
                }
                (Nesting::Set, Val::Seq { items, .. }) if items.is_empty() => {}
                (Nesting::Set, _) => {
                    return Err(Fault::Unsupported(format!(
                        "sensitive attributes inside the set of `{name}` blocks"
                    )))
                }
                _ => {
                    return Err(Fault::Corrupt(format!(
                        "`{name}` does not have the shape of its block type"
                    )))
                }
            }
            path.pop();
        }
        Ok(())
    }
}
