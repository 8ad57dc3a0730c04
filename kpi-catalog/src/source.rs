//! Where definitions came from: files, YAML lines and columns, paths such as `kpis[3].formula`.
//!
//! Loading parses a document twice: once into the domain types, and once into a tree of [`Node`]s
//! that only records positions and keys. Validation uses the tree to point each problem at its
//! YAML line, to report keys that no field reads, and to map a formula position into the file.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// Where a problem is: the file (if any), the path inside the document, and the line and column
/// (1-based) when the document was YAML or JSON text with positions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// The file or source name, e.g. `catalog.yaml`.
    pub file: Option<String>,
    /// The path inside the document, e.g. `kpis[3].formula`.
    pub path: String,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// 1-based column, when known.
    pub column: Option<u32>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(file) = &self.file {
            write!(f, "{file}")?;
            sep = ":";
        }
        if let Some(line) = self.line {
            write!(f, "{sep}{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
            sep = ":";
        }
        if !self.path.is_empty() {
            if sep.is_empty() {
                write!(f, "{}", self.path)?;
            } else {
                write!(f, " ({})", self.path)?;
            }
        }
        Ok(())
    }
}

/// Appends a field to a document path: `[3]` for an index, `.name` (or `name` first) otherwise.
pub(crate) fn push_path(path: &mut String, field: &str) {
    match field.parse::<usize>() {
        Ok(i) => path.push_str(&format!("[{i}]")),
        Err(_) => {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(field);
        }
    }
}

/// A loaded document: its name, its text and its position tree.
#[derive(Debug)]
pub(crate) struct SourceFile {
    pub name: Option<String>,
    pub text: String,
    pub root: Option<Node>,
}

/// Where one catalog entry was defined: its file and path, and its position subtree.
#[derive(Clone, Debug)]
pub(crate) struct Origin {
    pub file: Arc<SourceFile>,
    pub path: String,
    pub node: Option<Node>,
}

impl Origin {
    /// An origin for an entry of a document at `path`, looked up in the file's tree.
    pub fn new(file: &Arc<SourceFile>, path: String, node: Option<Node>) -> Origin {
        Origin { file: file.clone(), path, node }
    }

    /// The location of a field below the entry, e.g. `["thresholds", "warning"]`; falls back to the
    /// deepest part of the path that exists.
    pub fn locate(&self, fields: &[&str]) -> Location {
        let mut path = self.path.clone();
        let mut node = self.node.as_ref();
        let mut pos = node.map(|n| (n.line, n.column));
        for field in fields {
            push_path(&mut path, field);
            node = node.and_then(|n| match field.parse::<usize>() {
                Ok(i) => n.items().get(i),
                Err(_) => n.get(field),
            });
            if let Some(n) = node {
                pos = Some((n.line, n.column));
            }
        }
        Location { file: self.file.name.clone(), path, line: pos.map(|p| p.0), column: pos.map(|p| p.1) }
    }

    /// The node at `fields` below the entry, with the key that holds it (when it is a map value).
    pub fn node_at(&self, fields: &[&str]) -> Option<(Option<&Key>, &Node)> {
        let mut key = None;
        let mut node = self.node.as_ref()?;
        for f in fields {
            match f.parse::<usize>() {
                Ok(i) => {
                    key = None;
                    node = node.items().get(i)?;
                }
                Err(_) => {
                    let NodeValue::Map(entries) = &node.value else { return None };
                    let (k, v) = entries.iter().find(|(k, _)| k.name == *f)?;
                    key = Some(k);
                    node = v;
                }
            }
        }
        Some((key, node))
    }

    /// The file location of a 1-based (line, column) inside the text of the scalar at `fields`
    /// (e.g. a position inside a formula), for plain, quoted, literal (`|`) and folded (`>`)
    /// scalars.
    pub fn locate_inside(&self, fields: &[&str], line: u32, column: u32) -> Location {
        let mut loc = self.locate(fields);
        let Some((key, n)) = self.node_at(fields) else { return loc };
        let lines: Vec<&str> = self.file.text.lines().collect();
        let text_at = |l: u32| lines.get(l as usize - 1).copied().unwrap_or("");
        let block =
            key.filter(|k| n.line > k.line).map(|k| text_at(k.line).split_once(':').map_or("", |(_, rest)| rest.trim()).chars().next());
        let (file_line, file_column) = match block {
            // A block scalar: its content starts on the line after the key.
            Some(indicator) => {
                let indent = n.column.saturating_sub(1);
                // Literal lines map one to one, and so do folded lines that kept their break
                // (more-indented ones).
                if indicator == Some('|') || line > 1 {
                    (n.line + line - 1, indent + column)
                } else {
                    // Folded: lines are joined with spaces, so walk them to find the column.
                    let mut consumed = 0;
                    let mut at = (n.line, indent + column);
                    for l in n.line.. {
                        let content = text_at(l).get(indent as usize..).unwrap_or("").trim_end();
                        if content.is_empty() || l as usize > lines.len() {
                            break;
                        }
                        let len = content.chars().count() as u32;
                        if column <= consumed + len {
                            at = (l, indent + column - consumed);
                            break;
                        }
                        consumed += len + 1;
                    }
                    at
                }
            }
            None => {
                let quote = n.offset.and_then(|o| self.file.text.get(o..)).and_then(|t| t.chars().next());
                let skip = u32::from(matches!(quote, Some('"' | '\'')));
                (n.line + line - 1, if line == 1 { n.column + skip + column - 1 } else { column })
            }
        };
        loc.line = Some(file_line);
        loc.column = Some(file_column);
        loc
    }
}

/// A position in a document, with its children for maps and sequences.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub line: u32,
    pub column: u32,
    pub offset: Option<usize>,
    pub value: NodeValue,
}

#[derive(Clone, Debug)]
pub(crate) enum NodeValue {
    Map(Vec<(Key, Node)>),
    Seq(Vec<Node>),
    Scalar,
}

#[derive(Clone, Debug)]
pub(crate) struct Key {
    pub name: String,
    pub line: u32,
    pub column: u32,
}

impl Node {
    /// The value at key `name` of a map.
    pub fn get(&self, name: &str) -> Option<&Node> {
        match &self.value {
            NodeValue::Map(entries) => entries.iter().find(|(k, _)| k.name == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The items of a sequence (empty otherwise).
    pub fn items(&self) -> &[Node] {
        match &self.value {
            NodeValue::Seq(items) => items,
            _ => &[],
        }
    }

    /// The keys of a map (empty otherwise).
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        let entries = match &self.value {
            NodeValue::Map(entries) => entries.as_slice(),
            _ => &[],
        };
        entries.iter().map(|(k, _)| k)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<NodeValue>::deserialize(d)?;
        let at = spanned.referenced;
        Ok(Node {
            line: at.line() as u32,
            column: at.column() as u32,
            offset: at.span().byte_offset().map(|o| o as usize),
            value: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for NodeValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = NodeValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NodeValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let value: Node = map.next_value()?;
            let at = key.referenced;
            entries.push((Key { name: key.value.0, line: at.line() as u32, column: at.column() as u32 }, value));
        }
        Ok(NodeValue::Map(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NodeValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(NodeValue::Seq(items))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<NodeValue, E> {
        Ok(NodeValue::Scalar)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<NodeValue, E> {
        Ok(NodeValue::Scalar)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<NodeValue, E> {
        Ok(NodeValue::Scalar)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<NodeValue, E> {
        Ok(NodeValue::Scalar)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<NodeValue, E> {
        Ok(NodeValue::Scalar)
    }
    fn visit_unit<E: de::Error>(self) -> Result<NodeValue, E> {
        Ok(NodeValue::Scalar)
    }
    fn visit_none<E: de::Error>(self) -> Result<NodeValue, E> {
        Ok(NodeValue::Scalar)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<NodeValue, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

/// A map key read as text whatever its YAML type (asked for as a string, so `on:` stays `on`
/// rather than the YAML 1.1 boolean).
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
        }
        d.deserialize_str(V)
    }
}

/// The field names serde reads for a struct type, found by asking its `Deserialize` impl.
pub(crate) fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Probe(&'static [&'static str]);
    impl std::error::Error for Probe {}
    impl fmt::Display for Probe {
        fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("probe")
        }
    }
    impl fmt::Debug for Probe {
        fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("probe")
        }
    }
    impl de::Error for Probe {
        fn custom<M: fmt::Display>(_: M) -> Self {
            Probe(&[])
        }
    }
    struct Fields;
    impl<'de> Deserializer<'de> for Fields {
        type Error = Probe;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probe> {
            Err(Probe(&[]))
        }
        fn deserialize_struct<V: Visitor<'de>>(self, _: &'static str, fields: &'static [&'static str], _: V) -> Result<V::Value, Probe> {
            Err(Probe(fields))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    match T::deserialize(Fields) {
        Err(Probe(fields)) => fields,
        Ok(_) => &[],
    }
}
