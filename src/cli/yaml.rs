//! JSON values written as block YAML: mappings and sequences indented, every string and key
//! double-quoted with JSON's escapes (which YAML's double-quoted scalars share), so nothing is
//! read back as another type. Enough for a template; no YAML library.

use std::fmt::Write;

use serde_json::Value;

/// `v` as a YAML document.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    block(v, 0, &mut out);
    out.trim_end().to_string()
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(o) if o.is_empty() => "{}".into(),
        other => other.to_string(),
    }
}

fn is_block(v: &Value) -> bool {
    matches!(v, Value::Array(a) if !a.is_empty()) || matches!(v, Value::Object(o) if !o.is_empty())
}

fn block(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(o) if !o.is_empty() => {
            for (k, v) in o {
                let key = Value::String(k.clone()).to_string();
                if is_block(v) {
                    let _ = writeln!(out, "{pad}{key}:");
                    block(v, indent + 2, out);
                } else {
                    let _ = writeln!(out, "{pad}{key}: {}", scalar(v));
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for item in a {
                if is_block(item) {
                    let _ = writeln!(out, "{pad}-");
                    block(item, indent + 2, out);
                } else {
                    let _ = writeln!(out, "{pad}- {}", scalar(item));
                }
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", scalar(other));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_and_quoting() {
        let v = serde_json::json!({"a": {"b": [1, "x: y", {"c": true}], "d": []}, "e": "${Q}"});
        let y = to_yaml(&v);
        assert_eq!(
            y,
            "\"a\":\n  \"b\":\n    - 1\n    - \"x: y\"\n    -\n      \"c\": true\n  \"d\": []\n\"e\": \"${Q}\""
        );
    }
}
