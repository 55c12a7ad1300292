//! The simulator's structured output: a value that validates against the requested JSON
//! Schema — `$ref` into `$defs`/`definitions` followed, `const`/`enum` honoured, numbers inside
//! `minimum`/`maximum` (exclusive ones too), strings of at least `minLength`, arrays of at
//! least `minItems`, the first branch of `anyOf`/`oneOf`, every property (required or not).

use serde_json::{json, Map, Value};

/// How deep `$ref`s and nesting are followed (a recursive schema stops here with `null` or
/// an empty container).
const MAX_DEPTH: usize = 16;

/// An example value for `schema`, resolving references against `root`.
pub(crate) fn example(schema: &Value) -> Value {
    value(schema, schema, 0)
}

fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    root.pointer(pointer)
}

fn value(schema: &Value, root: &Value, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    if let Some(r) = schema["$ref"].as_str() {
        return match resolve(root, r) {
            Some(target) => value(target, root, depth + 1),
            None => Value::Null,
        };
    }
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    if let Some(first) = schema["enum"].get(0) {
        return first.clone();
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(first) = schema[key].get(0) {
            return value(first, root, depth + 1);
        }
    }
    let kind = match &schema["type"] {
        Value::String(s) => Some(s.as_str()),
        // ["string", "null"]: the first non-null type.
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null"),
        _ => None,
    };
    match kind {
        Some("string") => string(schema),
        Some("integer") => integer(schema),
        Some("number") => number(schema),
        Some("boolean") => json!(true),
        Some("null") => Value::Null,
        Some("array") => array(schema, root, depth),
        Some("object") | None => object(schema, root, depth),
        Some(_) => Value::Null,
    }
}

fn string(schema: &Value) -> Value {
    let min = schema["minLength"].as_u64().unwrap_or(0) as usize;
    let base = match schema["format"].as_str() {
        Some("date-time") => "2026-01-01T00:00:00Z",
        Some("date") => "2026-01-01",
        Some("email") => "basalt@example.com",
        Some("uri") => "https://example.com/",
        Some("uuid") => "00000000-0000-4000-8000-000000000000",
        _ => "Paris",
    };
    let mut s = base.to_owned();
    while s.chars().count() < min {
        s.push('x');
    }
    Value::String(s)
}

fn bounds(schema: &Value) -> (Option<f64>, Option<f64>, bool, bool) {
    let lo_ex = schema["exclusiveMinimum"].as_f64();
    let hi_ex = schema["exclusiveMaximum"].as_f64();
    let lo = lo_ex.or(schema["minimum"].as_f64());
    let hi = hi_ex.or(schema["maximum"].as_f64());
    (lo, hi, lo_ex.is_some(), hi_ex.is_some())
}

fn integer(schema: &Value) -> Value {
    let (lo, hi, lo_ex, hi_ex) = bounds(schema);
    let lo = lo.map(|l| if lo_ex { l.floor() + 1.0 } else { l.ceil() });
    let hi = hi.map(|h| if hi_ex { h.ceil() - 1.0 } else { h.floor() });
    let n = match (lo, hi) {
        (Some(l), _) => l,
        (None, Some(h)) => h.min(1.0),
        (None, None) => 1.0,
    };
    json!(n as i64)
}

fn number(schema: &Value) -> Value {
    let (lo, hi, _, _) = bounds(schema);
    let n = match (lo, hi) {
        (Some(l), Some(h)) => (l + h) / 2.0,
        (Some(l), None) => l + 0.5,
        (None, Some(h)) => h - 0.5,
        (None, None) => 1.5,
    };
    json!(n)
}

fn array(schema: &Value, root: &Value, depth: usize) -> Value {
    let n = schema["minItems"].as_u64().unwrap_or(1).clamp(1, 8);
    let n = schema["maxItems"].as_u64().map_or(n, |max| n.min(max));
    let item = value(&schema["items"], root, depth + 1);
    Value::Array(vec![item; n as usize])
}

fn object(schema: &Value, root: &Value, depth: usize) -> Value {
    let mut obj = Map::new();
    if let Some(props) = schema["properties"].as_object() {
        for (k, v) in props {
            obj.insert(k.clone(), value(v, root, depth + 1));
        }
    }
    Value::Object(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_bounds_and_branches_give_a_valid_value() {
        let schema = json!({
            "type": "object",
            "properties": {
                "city": {"$ref": "#/$defs/City"},
                "age": {"type": "integer", "minimum": 18, "maximum": 99},
                "score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                "tags": {"type": "array", "items": {"type": "string", "minLength": 8}, "minItems": 2},
                "kind": {"enum": ["a", "b"]},
                "fixed": {"const": 7},
                "maybe": {"type": ["string", "null"]},
                "either": {"anyOf": [{"type": "boolean"}, {"type": "string"}]},
                "below": {"type": "integer", "exclusiveMaximum": 0}
            },
            "$defs": {"City": {"type": "object", "properties": {"name": {"type": "string"}}}}
        });
        assert_eq!(
            example(&schema),
            json!({
                "city": {"name": "Paris"}, "age": 18, "score": 0.5,
                "tags": ["Parisxxx", "Parisxxx"], "kind": "a", "fixed": 7, "maybe": "Paris",
                "either": true, "below": -1
            })
        );
    }

    #[test]
    fn a_recursive_schema_stops() {
        let schema = json!({"$ref": "#/$defs/Node", "$defs": {"Node": {"type": "object",
            "properties": {"next": {"$ref": "#/$defs/Node"}}}}});
        let v = example(&schema);
        assert!(v.is_object());
    }
}
