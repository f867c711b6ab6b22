//! CloudFormation's intrinsic functions as JSON values, and names written as `${Param}` tokens:
//! a string that holds a token becomes `Fn::Sub`, so a resource spec built from token names is
//! the template's declaration of that resource.

use serde_json::{Value, json};

/// `{"Ref": name}`.
pub fn reference(name: &str) -> Value {
    json!({ "Ref": name })
}

/// `{"Fn::GetAtt": [resource, attribute]}`.
pub fn get_att(resource: &str, attribute: &str) -> Value {
    json!({ "Fn::GetAtt": [resource, attribute] })
}

/// A string, or `Fn::Sub` of it when it names a parameter or attribute (`${…}`).
pub fn text(s: &str) -> Value {
    if s.contains("${") {
        json!({ "Fn::Sub": s })
    } else {
        Value::String(s.to_string())
    }
}

/// `${name}`: how a parameter appears inside a name.
pub fn token(name: &str) -> String {
    format!("${{{name}}}")
}

/// Every string in `v` that holds a token, as `Fn::Sub` (a policy document, say).
pub fn subs(v: Value) -> Value {
    match v {
        Value::String(s) => text(&s),
        Value::Array(a) => Value::Array(a.into_iter().map(subs).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, subs(v))).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_strings_with_tokens_become_subs() {
        assert_eq!(text("plain"), json!("plain"));
        assert_eq!(
            text("${QueueName}-dlq"),
            json!({"Fn::Sub": "${QueueName}-dlq"})
        );
        let doc = subs(json!({"Resource": ["${Queue.Arn}", "*"], "n": 1}));
        assert_eq!(
            doc,
            json!({"Resource": [{"Fn::Sub": "${Queue.Arn}"}, "*"], "n": 1})
        );
    }
}
