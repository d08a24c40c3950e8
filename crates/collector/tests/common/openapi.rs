//! Every JSON answer a test gets through the router is held to `openapi.json`: its status
//! must be one the operation lists, and its body must match the schema documented for it
//! (jsonschema, with the document's own `$ref`s). A field the code answers that the file
//! leaves out, or a status it never mentions, fails the test that saw it.

use std::sync::OnceLock;

use serde_json::Value;

fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    })
}

/// The document's path template that `path` (without its query) falls under, if any.
fn template(path: &str) -> Option<&'static str> {
    let path = path.split('?').next().unwrap_or(path);
    let actual: Vec<&str> = path.split('/').collect();
    document()["paths"]
        .as_object()?
        .keys()
        .find_map(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            let same = parts.len() == actual.len()
                && parts.iter().zip(&actual).all(|(part, real)| {
                    part == real || (part.starts_with('{') && !real.is_empty())
                });
            same.then_some(template.as_str())
        })
}

/// `value`, or what it refers to when it is a `{"$ref": "#/…"}`.
fn resolved(value: &'static Value) -> &'static Value {
    value["$ref"]
        .as_str()
        .and_then(|reference| reference.strip_prefix('#'))
        .and_then(|pointer| document().pointer(pointer))
        .unwrap_or(value)
}

/// Holds an answer of the router to `openapi.json`: `method` and `path` as requested.
/// Paths the file does not describe (static files, unknown ones) are not held to it.
pub fn check(method: &str, path: &str, status: u16, content_type: Option<&str>, body: &[u8]) {
    let Some(template) = template(path) else {
        return;
    };
    let Some(operation) = document()["paths"][template].get(method.to_ascii_lowercase()) else {
        return; // 405: no such operation
    };
    let responses = &operation["responses"];
    let response = responses
        .get(status.to_string())
        .or_else(|| responses.get("default"))
        .map(resolved)
        .unwrap_or_else(|| {
            panic!("{method} {template} answered {status}, which openapi.json does not list")
        });
    let json = content_type.is_some_and(|ct| ct.starts_with("application/json"));
    let Some(schema) = response["content"]["application/json"].get("schema") else {
        assert!(
            !json,
            "{method} {template} {status}: JSON that openapi.json does not describe"
        );
        return;
    };
    assert!(
        json,
        "{method} {template} {status}: not JSON ({content_type:?})"
    );
    let instance: Value = serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("{method} {template} {status}: the body is not JSON"));
    assert_matches(schema, &instance, &format!("{method} {template} {status}"));
}

/// Holds `instance` to the document's schema `name` (`components/schemas`), as a webhook
/// delivery's body to `WebhookPayload`.
pub fn assert_schema(name: &str, instance: &Value) {
    let schema = serde_json::json!({ "$ref": format!("#/components/schemas/{name}") });
    assert_matches(&schema, instance, name);
}

fn assert_matches(schema: &Value, instance: &Value, what: &str) {
    // The whole document as the root, so that the schema's `$ref`s resolve in it; and no
    // field at the top of the answer that the schema does not name.
    let mut root = document().clone();
    let root_object = root.as_object_mut().unwrap();
    root_object.insert("allOf".into(), Value::Array(vec![schema.clone()]));
    root_object.insert("unevaluatedProperties".into(), Value::Bool(false));
    // Formats too (date-time, uuid): the file's word for what a field holds.
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match openapi.json: {errors:?}\n{instance}"
    );
}
