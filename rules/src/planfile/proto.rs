//! The messages of terraform's `tfplan` member (planfile.proto, format version 3, as terraform
//! 1.0 writes it: resource instances by their parts, not yet by one address string), declared
//! by hand for prost. Only the fields Slipway reads are declared: prost skips the others. Enums are kept as their wire integers and mapped where they are read, so
//! a value this reader does not know stays visible instead of being folded into a default.

use std::collections::BTreeMap;

/// The root message of `tfplan`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Plan {
    /// Plan file format version; 3 for terraform 0.15 and 1.x.
    #[prost(uint64, tag = "1")]
    pub version: u64,
    /// Root module input variables, each a msgpack value of dynamic type.
    #[prost(btree_map = "string, message", tag = "2")]
    pub variables: BTreeMap<String, DynamicValue>,
    /// Planned changes to resource instances, in no particular order.
    #[prost(message, repeated, tag = "3")]
    pub resource_changes: Vec<ResourceInstanceChange>,
    /// Planned changes to root module outputs.
    #[prost(message, repeated, tag = "4")]
    pub output_changes: Vec<OutputChange>,
    /// Version of terraform that wrote the plan.
    #[prost(string, tag = "14")]
    pub terraform_version: String,
}

/// One planned change: an action and the values it goes between.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Change {
    /// `Action` enum: 0 no-op, 1 create, 2 read, 3 update, 5 delete, 6 delete then create,
    /// 7 create then delete.
    #[prost(int32, tag = "1")]
    pub action: i32,
    /// The before and/or after values; which ones depends on the action.
    #[prost(message, repeated, tag = "2")]
    pub values: Vec<DynamicValue>,
    /// Paths into the before value that are sensitive.
    #[prost(message, repeated, tag = "3")]
    pub before_sensitive_paths: Vec<Path>,
    /// Paths into the after value that are sensitive.
    #[prost(message, repeated, tag = "4")]
    pub after_sensitive_paths: Vec<Path>,
}

/// A change to one resource instance (or one deposed object of it).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ResourceInstanceChange {
    /// Module instance address, e.g. `module.a[0]`; empty in the root module.
    #[prost(string, tag = "1")]
    pub module_path: String,
    /// `ResourceMode` enum: 0 managed, 1 data.
    #[prost(int32, tag = "2")]
    pub mode: i32,
    /// Resource type.
    #[prost(string, tag = "3")]
    pub r#type: String,
    /// Resource name.
    #[prost(string, tag = "4")]
    pub name: String,
    /// `count` or `for_each` key, when the resource has one.
    #[prost(oneof = "InstanceKey", tags = "5, 6")]
    pub instance_key: Option<InstanceKey>,
    /// Deposed object key, empty for the current object.
    #[prost(string, tag = "7")]
    pub deposed_key: String,
    /// Absolute provider configuration address, e.g. `provider["registry.terraform.io/hashicorp/null"]`.
    #[prost(string, tag = "8")]
    pub provider: String,
    /// The change itself.
    #[prost(message, optional, tag = "9")]
    pub change: Option<Change>,
    /// Paths whose change forces replacement.
    #[prost(message, repeated, tag = "11")]
    pub required_replace: Vec<Path>,
    /// `ResourceInstanceActionReason` enum: 0 none, 1 tainted, 2 by request, 3 cannot update.
    #[prost(int32, tag = "12")]
    pub action_reason: i32,
}

/// The instance key of a [`ResourceInstanceChange`].
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum InstanceKey {
    /// A `for_each` key.
    #[prost(string, tag = "5")]
    Str(String),
    /// A `count` index.
    #[prost(int64, tag = "6")]
    Int(i64),
}

/// A change to one root module output.
#[derive(Clone, PartialEq, prost::Message)]
pub struct OutputChange {
    /// Output name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// The change.
    #[prost(message, optional, tag = "2")]
    pub change: Option<Change>,
    /// Whether the output is sensitive.
    #[prost(bool, tag = "3")]
    pub sensitive: bool,
}

/// A value serialized as cty msgpack.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DynamicValue {
    /// The msgpack bytes.
    #[prost(bytes = "vec", tag = "1")]
    pub msgpack: Vec<u8>,
}

/// A path into a value.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Path {
    /// Steps from the root.
    #[prost(message, repeated, tag = "1")]
    pub steps: Vec<Step>,
}

/// One step of a [`Path`].
#[derive(Clone, PartialEq, prost::Message)]
pub struct Step {
    /// Attribute name or element key.
    #[prost(oneof = "Selector", tags = "1, 2")]
    pub selector: Option<Selector>,
}

/// What a [`Step`] selects.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Selector {
    /// An attribute of an object.
    #[prost(string, tag = "1")]
    AttributeName(String),
    /// An element of a collection; the key is a msgpack value of dynamic type.
    #[prost(message, tag = "2")]
    ElementKey(DynamicValue),
}
