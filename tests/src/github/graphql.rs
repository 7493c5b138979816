//! `POST /graphql`: each query or mutation is checked against GitHub's GraphQL schema
//! (`@octokit/graphql-schema`): fields exist on their types, arguments exist, required
//! arguments and required input fields are given, enum values are known. Then the few fields
//! Slipway uses are answered: `minimizeComment`, `unminimizeComment` and `node`.

use std::collections::HashMap;
use std::sync::OnceLock;

use graphql_parser::query::{
    Definition, Document, Field, FragmentDefinition, OperationDefinition, Selection, SelectionSet,
    TypeCondition, Value as GqlValue, VariableDefinition,
};
use graphql_parser::schema::{self, TypeDefinition};
use serde_json::{json, Map, Value};

use super::server::Answer;
use super::state::{Comment, State};

/// A type reference: `Foo`, `[Foo]`, `Foo!`.
#[derive(Debug, Clone)]
enum TypeRef {
    Named(String),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    fn from_ast(t: &schema::Type<'_, String>) -> TypeRef {
        match t {
            schema::Type::NamedType(n) => TypeRef::Named(n.clone()),
            schema::Type::ListType(t) => TypeRef::List(Box::new(TypeRef::from_ast(t))),
            schema::Type::NonNullType(t) => TypeRef::NonNull(Box::new(TypeRef::from_ast(t))),
        }
    }

    fn name(&self) -> &str {
        match self {
            TypeRef::Named(n) => n,
            TypeRef::List(t) | TypeRef::NonNull(t) => t.name(),
        }
    }
}

/// An argument or input field.
#[derive(Debug)]
struct InputDef {
    name: String,
    ty: TypeRef,
    has_default: bool,
}

impl InputDef {
    fn required(&self) -> bool {
        matches!(self.ty, TypeRef::NonNull(_)) && !self.has_default
    }
}

#[derive(Debug)]
struct FieldDef {
    args: Vec<InputDef>,
    ty: TypeRef,
}

#[derive(Debug)]
enum TypeDef {
    /// An object or interface type and its fields.
    Fields(HashMap<String, FieldDef>),
    Union,
    Input(Vec<InputDef>),
    Enum(Vec<String>),
    Scalar,
}

/// GitHub's GraphQL schema, indexed by type name.
struct Schema {
    query: String,
    mutation: String,
    types: HashMap<String, TypeDef>,
    /// The interfaces an object type implements and the unions it belongs to.
    supertypes: HashMap<String, Vec<String>>,
}

impl Schema {
    /// Whether a fragment `on` applies to an object of type `typename`.
    fn fragment_applies(&self, on: &str, typename: &str) -> bool {
        on == typename
            || self
                .supertypes
                .get(typename)
                .is_some_and(|s| s.iter().any(|t| t == on))
    }
}

fn inputs(values: &[schema::InputValue<'_, String>]) -> Vec<InputDef> {
    values
        .iter()
        .map(|v| InputDef {
            name: v.name.clone(),
            ty: TypeRef::from_ast(&v.value_type),
            has_default: v.default_value.is_some(),
        })
        .collect()
}

fn fields(fields: &[schema::Field<'_, String>]) -> TypeDef {
    TypeDef::Fields(
        fields
            .iter()
            .map(|f| {
                (
                    f.name.clone(),
                    FieldDef {
                        args: inputs(&f.arguments),
                        ty: TypeRef::from_ast(&f.field_type),
                    },
                )
            })
            .collect(),
    )
}

impl Schema {
    /// The schema, read on first use.
    fn get() -> &'static Schema {
        static SCHEMA: OnceLock<Schema> = OnceLock::new();
        SCHEMA.get_or_init(|| {
            let path = crate::workspace_root()
                .join(".tools/node_modules/@octokit/graphql-schema/schema.graphql");
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "GitHub's GraphQL schema {} is unreadable ({e}): run `scripts/tools.sh github`",
                    path.display()
                )
            });
            let doc = schema::parse_schema::<String>(&text)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
            Schema::index(&doc)
        })
    }

    fn index(doc: &schema::Document<'_, String>) -> Schema {
        let mut schema = Schema {
            query: "Query".to_string(),
            mutation: "Mutation".to_string(),
            types: HashMap::new(),
            supertypes: HashMap::new(),
        };
        for definition in &doc.definitions {
            match definition {
                schema::Definition::SchemaDefinition(s) => {
                    if let Some(q) = &s.query {
                        schema.query.clone_from(q);
                    }
                    if let Some(m) = &s.mutation {
                        schema.mutation.clone_from(m);
                    }
                }
                schema::Definition::TypeDefinition(t) => {
                    let (name, def) = match t {
                        TypeDefinition::Object(o) => {
                            schema
                                .supertypes
                                .entry(o.name.clone())
                                .or_default()
                                .extend(o.implements_interfaces.iter().cloned());
                            (&o.name, fields(&o.fields))
                        }
                        TypeDefinition::Interface(i) => (&i.name, fields(&i.fields)),
                        TypeDefinition::Union(u) => {
                            for member in &u.types {
                                schema
                                    .supertypes
                                    .entry(member.clone())
                                    .or_default()
                                    .push(u.name.clone());
                            }
                            (&u.name, TypeDef::Union)
                        }
                        TypeDefinition::InputObject(i) => {
                            (&i.name, TypeDef::Input(inputs(&i.fields)))
                        }
                        TypeDefinition::Enum(e) => (
                            &e.name,
                            TypeDef::Enum(e.values.iter().map(|v| v.name.clone()).collect()),
                        ),
                        TypeDefinition::Scalar(s) => (&s.name, TypeDef::Scalar),
                    };
                    schema.types.insert(name.clone(), def);
                }
                _ => {}
            }
        }
        for builtin in ["String", "Int", "Float", "Boolean", "ID"] {
            schema
                .types
                .entry(builtin.to_string())
                .or_insert(TypeDef::Scalar);
        }
        schema
    }
}

type Query<'a> = Document<'a, String>;

/// Walks an operation against the schema, collecting what GitHub would refuse.
struct Checker<'d, 'q> {
    schema: &'static Schema,
    doc: &'d Query<'q>,
    variables: &'d Map<String, Value>,
    errors: Vec<String>,
    depth: usize,
}

impl<'d, 'q> Checker<'d, 'q> {
    fn fragment(&self, name: &str) -> Option<&'d FragmentDefinition<'q, String>> {
        let doc = self.doc;
        doc.definitions.iter().find_map(|d| match d {
            Definition::Fragment(f) if f.name == name => Some(f),
            _ => None,
        })
    }

    fn selection(&mut self, set: &SelectionSet<'_, String>, ty: &str) {
        self.depth += 1;
        if self.depth > 64 {
            self.errors
                .push("the selection nests too deep (a fragment cycle?)".to_string());
            return;
        }
        for item in &set.items {
            match item {
                Selection::Field(f) => self.field(f, ty),
                Selection::InlineFragment(inline) => {
                    let on = match &inline.type_condition {
                        Some(TypeCondition::On(on)) => on.as_str(),
                        None => ty,
                    };
                    if self.schema.types.contains_key(on) {
                        self.selection(&inline.selection_set, on);
                    } else {
                        self.errors
                            .push(format!("`... on {on}`: the schema has no type {on}"));
                    }
                }
                Selection::FragmentSpread(spread) => match self.fragment(&spread.fragment_name) {
                    Some(fragment) => {
                        let TypeCondition::On(on) = &fragment.type_condition;
                        self.selection(&fragment.selection_set, on);
                    }
                    None => self.errors.push(format!(
                        "fragment `{}` is not defined",
                        spread.fragment_name
                    )),
                },
            }
        }
        self.depth -= 1;
    }

    fn field(&mut self, f: &Field<'_, String>, ty: &str) {
        if f.name == "__typename" {
            return;
        }
        let at = format!("`{}` (line {})", f.name, f.position.line);
        let Some(TypeDef::Fields(fields)) = self.schema.types.get(ty) else {
            self.errors
                .push(format!("{at}: {ty} has no fields to select"));
            return;
        };
        let Some(def) = fields.get(&f.name) else {
            self.errors
                .push(format!("{at} is not a field of {ty} in GitHub's schema"));
            return;
        };
        for (name, value) in &f.arguments {
            match def.args.iter().find(|a| a.name == *name) {
                Some(arg) => {
                    let json = to_json(value, self.variables);
                    self.input(&json, &arg.ty, &format!("{at} argument `{name}`"));
                }
                None => self
                    .errors
                    .push(format!("{at} takes no argument `{name}` on {ty}")),
            }
        }
        for arg in def.args.iter().filter(|a| a.required()) {
            if !f.arguments.iter().any(|(n, _)| *n == arg.name) {
                self.errors
                    .push(format!("{at} lacks its required argument `{}`", arg.name));
            }
        }
        let returns = def.ty.name().to_string();
        let composite = matches!(
            self.schema.types.get(&returns),
            Some(TypeDef::Fields(_) | TypeDef::Union)
        );
        match (composite, f.selection_set.items.is_empty()) {
            (true, true) => self.errors.push(format!(
                "{at} is of type {returns}: it needs a selection of subfields"
            )),
            (false, false) => self
                .errors
                .push(format!("{at} is of type {returns}, which has no subfields")),
            (true, false) => self.selection(&f.selection_set, &returns),
            (false, true) => {}
        }
    }

    /// Checks an argument's value, variables substituted, against its input type.
    fn input(&mut self, value: &Value, ty: &TypeRef, at: &str) {
        match ty {
            TypeRef::NonNull(inner) => {
                if value.is_null() {
                    self.errors
                        .push(format!("{at} is required and was not given"));
                } else {
                    self.input(value, inner, at);
                }
            }
            TypeRef::List(inner) => match value {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.input(item, inner, &format!("{at}[{i}]"));
                    }
                }
                other => self.input(other, inner, at),
            },
            TypeRef::Named(_) if value.is_null() => {}
            TypeRef::Named(name) => match self.schema.types.get(name) {
                Some(TypeDef::Input(fields)) => {
                    let Some(object) = value.as_object() else {
                        self.errors
                            .push(format!("{at} should be an input object {name}"));
                        return;
                    };
                    for key in object.keys() {
                        if !fields.iter().any(|f| f.name == *key) {
                            self.errors
                                .push(format!("{at}: {name} has no field `{key}`"));
                        }
                    }
                    for field in fields {
                        let given = object.get(&field.name).unwrap_or(&Value::Null);
                        if given.is_null() && !field.required() {
                            continue;
                        }
                        self.input(given, &field.ty, &format!("{at}.{}", field.name));
                    }
                }
                Some(TypeDef::Enum(values))
                    if !value
                        .as_str()
                        .is_some_and(|v| values.iter().any(|e| e == v)) =>
                {
                    self.errors
                        .push(format!("{at} is {value}, not a value of the enum {name}"));
                }
                _ => {}
            },
        }
    }
}

/// A GraphQL value as JSON, variables substituted (absent ones are null).
fn to_json(value: &GqlValue<'_, String>, variables: &Map<String, Value>) -> Value {
    match value {
        GqlValue::Variable(name) => variables.get(name).cloned().unwrap_or(Value::Null),
        GqlValue::Int(n) => n.as_i64().map(Value::from).unwrap_or(Value::Null),
        GqlValue::Float(f) => json!(f),
        GqlValue::String(s) => Value::String(s.clone()),
        GqlValue::Boolean(b) => Value::Bool(*b),
        GqlValue::Null => Value::Null,
        GqlValue::Enum(e) => Value::String(e.clone()),
        GqlValue::List(items) => {
            Value::Array(items.iter().map(|v| to_json(v, variables)).collect())
        }
        GqlValue::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v, variables)))
                .collect(),
        ),
    }
}

/// An operation to run: its selection, whether it is a mutation, its variables.
type Chosen<'d, 'q> = (
    &'d SelectionSet<'q, String>,
    bool,
    &'d [VariableDefinition<'q, String>],
);

/// The operation `operationName` names, or the only one.
fn operation<'d, 'q>(doc: &'d Query<'q>, name: Option<&str>) -> Result<Chosen<'d, 'q>, String> {
    let operations: Vec<_> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Operation(op) => Some(op),
            Definition::Fragment(_) => None,
        })
        .collect();
    let chosen = match name {
        Some(name) => operations.into_iter().find(|op| match op {
            OperationDefinition::Query(q) => q.name.as_deref() == Some(name),
            OperationDefinition::Mutation(m) => m.name.as_deref() == Some(name),
            _ => false,
        }),
        None if operations.len() == 1 => operations.into_iter().next(),
        None => return Err("several operations and no operationName".to_string()),
    };
    match chosen {
        Some(OperationDefinition::SelectionSet(set)) => Ok((set, false, &[])),
        Some(OperationDefinition::Query(q)) => {
            Ok((&q.selection_set, false, &q.variable_definitions))
        }
        Some(OperationDefinition::Mutation(m)) => {
            Ok((&m.selection_set, true, &m.variable_definitions))
        }
        Some(OperationDefinition::Subscription(_)) => {
            Err("GitHub's API has no subscriptions".to_string())
        }
        None => Err("no operation to run".to_string()),
    }
}

/// GitHub's answer (200 with `errors`) to a refused query.
fn refused(errors: &[String]) -> Answer {
    Answer::json(
        200,
        json!({"errors": errors.iter().map(|e| json!({"message": e})).collect::<Vec<_>>()}),
    )
}

/// Answers a GraphQL request, with the violations it carries.
pub(crate) fn answer(
    state: &mut State,
    api: &str,
    login: &str,
    body: Option<&Value>,
) -> (Answer, Vec<String>) {
    let Some(query) = body.and_then(|b| b.get("query")).and_then(Value::as_str) else {
        let why = "a GraphQL request without a `query`".to_string();
        return (refused(std::slice::from_ref(&why)), vec![why]);
    };
    let empty = Map::new();
    let variables = body
        .and_then(|b| b.get("variables"))
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let doc = match graphql_parser::parse_query::<String>(query) {
        Ok(doc) => doc,
        Err(e) => {
            let why = format!("the GraphQL query does not parse: {e}");
            return (refused(std::slice::from_ref(&why)), vec![why]);
        }
    };
    let name = body
        .and_then(|b| b.get("operationName"))
        .and_then(Value::as_str);
    let (set, mutation, variable_definitions) = match operation(&doc, name) {
        Ok(chosen) => chosen,
        Err(why) => return (refused(std::slice::from_ref(&why)), vec![why]),
    };
    let schema = Schema::get();
    let mut checker = Checker {
        schema,
        doc: &doc,
        variables,
        errors: Vec::new(),
        depth: 0,
    };
    for definition in variable_definitions {
        let ty = TypeRef::from_ast(&definition.var_type);
        if !schema.types.contains_key(ty.name()) {
            checker.errors.push(format!(
                "variable `${}` has unknown type {}",
                definition.name,
                ty.name()
            ));
        } else if definition.default_value.is_none() {
            let given = variables.get(&definition.name).unwrap_or(&Value::Null);
            checker.input(given, &ty, &format!("variable `${}`", definition.name));
        }
    }
    let root = if mutation {
        &schema.mutation
    } else {
        &schema.query
    };
    checker.selection(set, root);
    if !checker.errors.is_empty() {
        let errors = checker
            .errors
            .iter()
            .map(|e| format!("GraphQL: {e}"))
            .collect::<Vec<_>>();
        return (refused(&checker.errors), errors);
    }
    let mut data = Map::new();
    let mut errors = Vec::new();
    let mut violations = Vec::new();
    for item in &set.items {
        let Selection::Field(f) = item else {
            continue;
        };
        let key = f.alias.clone().unwrap_or_else(|| f.name.clone());
        let args: Map<String, Value> = f
            .arguments
            .iter()
            .map(|(k, v)| (k.clone(), to_json(v, variables)))
            .collect();
        let resolved = match (mutation, f.name.as_str()) {
            (_, "__typename") => Ok(json!(if mutation { "Mutation" } else { "Query" })),
            (true, "minimizeComment") => minimize(state, api, login, &args, true),
            (true, "unminimizeComment") => minimize(state, api, login, &args, false),
            (false, "node") => Ok(args
                .get("id")
                .and_then(Value::as_str)
                .and_then(|id| state.comment_by_node_id(id))
                .filter(|c| !c.deleted)
                .map(|c| comment_node(api, login, c))
                .unwrap_or(Value::Null)),
            (_, other) => Err(format!(
                "GraphQL `{other}` is GitHub's, but the fake GitHub does not model it yet"
            )),
        };
        match resolved {
            Ok(value) => {
                data.insert(key, project(&doc, &value, &f.selection_set));
            }
            Err(why) => {
                errors.push(json!({"message": why, "path": [key]}));
                data.insert(key, Value::Null);
                violations.push(why);
            }
        }
    }
    let mut answer = json!({"data": data});
    if !errors.is_empty() {
        answer["errors"] = Value::Array(errors);
    }
    (Answer::json(200, answer), violations)
}

/// `minimizeComment(input: {subjectId, classifier})` or `unminimizeComment(input: {subjectId})`.
fn minimize(
    state: &mut State,
    api: &str,
    login: &str,
    args: &Map<String, Value>,
    hide: bool,
) -> Result<Value, String> {
    let input = args.get("input").cloned().unwrap_or(Value::Null);
    let subject = input.get("subjectId").and_then(Value::as_str).unwrap_or("");
    let comment = state
        .comments
        .values_mut()
        .find(|c| c.node_id == subject && !c.deleted)
        .ok_or_else(|| format!("Could not resolve to a node with the global id of '{subject}'"))?;
    comment.minimized = if hide {
        Some(
            input
                .get("classifier")
                .and_then(Value::as_str)
                .unwrap_or("OUTDATED")
                .to_string(),
        )
    } else {
        None
    };
    let node = comment_node(api, login, comment);
    let payload = if hide {
        "minimizedComment"
    } else {
        "unminimizedComment"
    };
    Ok(json!({
        "clientMutationId": input.get("clientMutationId").cloned().unwrap_or(Value::Null),
        payload: node,
    }))
}

/// An issue comment as a GraphQL node.
fn comment_node(api: &str, login: &str, c: &Comment) -> Value {
    json!({
        "__typename": "IssueComment",
        "id": c.node_id,
        "databaseId": c.id,
        "body": c.body,
        "isMinimized": c.minimized.is_some(),
        "minimizedReason": c.minimized.as_deref().map(|r| r.to_ascii_lowercase().replace('_', "-")),
        "viewerCanMinimize": true,
        "viewerDidAuthor": c.author == login,
        "url": format!("{api}/repos/{}/issues/comments/{}", c.repo, c.id),
        "author": {
            "__typename": if c.author.ends_with("[bot]") { "Bot" } else { "User" },
            "login": c.author,
        },
    })
}

/// The part of `value` that `set` selects, keyed by alias.
fn project(doc: &Query<'_>, value: &Value, set: &SelectionSet<'_, String>) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|v| project(doc, v, set)).collect()),
        Value::Object(_) if !set.items.is_empty() => {
            let mut out = Map::new();
            select(doc, value, set, &mut out, 0);
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn select(
    doc: &Query<'_>,
    value: &Value,
    set: &SelectionSet<'_, String>,
    out: &mut Map<String, Value>,
    depth: usize,
) {
    if depth > 64 {
        return;
    }
    let typename = value.get("__typename").and_then(Value::as_str);
    for item in &set.items {
        match item {
            Selection::Field(f) => {
                let key = f.alias.clone().unwrap_or_else(|| f.name.clone());
                let v = value.get(&f.name).unwrap_or(&Value::Null);
                out.insert(key, project(doc, v, &f.selection_set));
            }
            Selection::InlineFragment(inline) => {
                let applies = match &inline.type_condition {
                    Some(TypeCondition::On(on)) => {
                        typename.is_none_or(|t| Schema::get().fragment_applies(on, t))
                    }
                    None => true,
                };
                if applies {
                    select(doc, value, &inline.selection_set, out, depth + 1);
                }
            }
            Selection::FragmentSpread(spread) => {
                let fragment = doc.definitions.iter().find_map(|d| match d {
                    Definition::Fragment(f) if f.name == spread.fragment_name => Some(f),
                    _ => None,
                });
                if let Some(fragment) = fragment {
                    let TypeCondition::On(on) = &fragment.type_condition;
                    if typename.is_none_or(|t| Schema::get().fragment_applies(on, t)) {
                        select(doc, value, &fragment.selection_set, out, depth + 1);
                    }
                }
            }
        }
    }
}

/// Loads the schema now, so that a missing file fails the test that starts the fake.
pub(crate) fn preload() {
    Schema::get();
}
