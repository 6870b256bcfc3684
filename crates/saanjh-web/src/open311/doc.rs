//! One response tree, written as JSON or as XML exactly as the GeoReport v2
//! examples show them: a list is a JSON array and, in XML, a wrapper
//! element holding one named element per item (`<services><service>…`);
//! an absent value is JSON `null` and an empty XML element.

use serde_json::{Map, Value};

/// A value in an Open311 response.
#[derive(Debug, Clone)]
pub enum Node {
    Text(Option<String>),
    Number(Option<f64>),
    Int(i64),
    Bool(bool),
    /// Fields in the order the specification lists them.
    Object(Vec<(&'static str, Node)>),
    /// Items, each written in XML as an element with this name.
    List(&'static str, Vec<Node>),
}

impl Node {
    pub fn text(s: impl Into<String>) -> Node {
        Node::Text(Some(s.into()))
    }
    pub fn opt(s: Option<impl Into<String>>) -> Node {
        Node::Text(s.map(Into::into))
    }

    pub fn to_json(&self) -> Value {
        match self {
            Node::Text(t) => t.clone().map(Value::String).unwrap_or(Value::Null),
            Node::Number(n) => n
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Node::Int(i) => Value::from(*i),
            Node::Bool(b) => Value::Bool(*b),
            Node::Object(fields) => {
                let mut m = Map::new();
                for (k, v) in fields {
                    m.insert((*k).to_string(), v.to_json());
                }
                Value::Object(m)
            }
            Node::List(_, items) => Value::Array(items.iter().map(Node::to_json).collect()),
        }
    }

    /// The whole document, with `root` as the outermost element.
    pub fn to_xml(&self, root: &str) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        self.write_xml(root, &mut out);
        out.push('\n');
        out
    }

    fn write_xml(&self, name: &str, out: &mut String) {
        let scalar = |out: &mut String, body: Option<String>| match body {
            Some(b) if !b.is_empty() => {
                out.push_str(&format!("<{name}>{}</{name}>", escape(&b)));
            }
            _ => out.push_str(&format!("<{name}/>")),
        };
        match self {
            Node::Text(t) => scalar(out, t.clone()),
            Node::Number(n) => scalar(out, n.map(|n| n.to_string())),
            Node::Int(i) => scalar(out, Some(i.to_string())),
            Node::Bool(b) => scalar(out, Some(b.to_string())),
            Node::Object(fields) => {
                out.push_str(&format!("<{name}>"));
                for (k, v) in fields {
                    v.write_xml(k, out);
                }
                out.push_str(&format!("</{name}>"));
            }
            Node::List(item, items) => {
                if items.is_empty() {
                    out.push_str(&format!("<{name}/>"));
                    return;
                }
                out.push_str(&format!("<{name}>"));
                for i in items {
                    i.write_xml(item, out);
                }
                out.push_str(&format!("</{name}>"));
            }
        }
    }
}

/// Escape text for an XML element, dropping characters XML 1.0 cannot carry.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_arrays_in_json_and_wrapped_elements_in_xml() {
        let doc = Node::List(
            "error",
            vec![Node::Object(vec![
                ("code", Node::Int(400)),
                ("description", Node::text("lat is <bad> & worse")),
            ])],
        );
        assert_eq!(
            doc.to_json(),
            serde_json::json!([{ "code": 400, "description": "lat is <bad> & worse" }])
        );
        assert_eq!(
            doc.to_xml("errors"),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<errors><error><code>400</code><description>lat is &lt;bad&gt; &amp; worse</description></error></errors>\n"
        );
    }

    #[test]
    fn absent_values_are_null_and_empty_elements() {
        let doc = Node::Object(vec![
            ("account_id", Node::Text(None)),
            ("lat", Node::Number(None)),
        ]);
        assert_eq!(
            doc.to_json(),
            serde_json::json!({ "account_id": null, "lat": null })
        );
        assert_eq!(
            doc.to_xml("request").lines().nth(1),
            Some("<request><account_id/><lat/></request>")
        );
    }
}
