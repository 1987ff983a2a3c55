//! Structural schemas as the API server uses them for custom resources: defaulting, pruning of
//! unknown fields and validation, with the server's messages (`<path>: Invalid value: "<v>":
//! <field> in body should match '<pattern>'`), plus the check a CRD's own defaults must pass
//! before the CRD is accepted at all.
//!
//! Written from the Kubernetes documentation on structural schemas, defaulting and pruning
//! (`apiextensions.k8s.io/v1`), and the messages measured on kube-apiserver 1.33. CEL rules
//! (`x-kubernetes-validations`) and `format` are not evaluated.

use regex::Regex;
use serde_json::Value;

/// One field error, as `metav1.StatusCause` carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The dotted field path (`status.storage`).
    pub field: String,
    /// The whole message, `field: Invalid value: …`.
    pub message: String,
}

/// How a value prints inside `Invalid value: …`.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        Value::Null => "\"null\"".to_owned(),
        other => other.to_string(),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(wanted: &str, value: &Value) -> bool {
    match (wanted, value) {
        ("number", Value::Number(_)) => true,
        ("integer", Value::Number(n)) => n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0),
        (wanted, value) => wanted == type_name(value),
    }
}

struct Walk<'a> {
    errors: &'a mut Vec<FieldError>,
}

impl Walk<'_> {
    /// `path` is where the value sits (for the error's field), `name` how the rule names it in
    /// the message (the API server uses the full path for most rules, the field's own name for
    /// type errors, and nothing for a CRD's defaults).
    fn error(&mut self, path: &str, value: &Value, rule: String) {
        self.errors.push(FieldError {
            field: path.to_owned(),
            message: format!("{path}: Invalid value: {}: {rule}", shown(value)),
        });
    }

    fn validate(&mut self, schema: &Value, value: &Value, path: &str, name: &str, type_name_only: &str) {
        let nullable = schema.get("nullable").and_then(Value::as_bool).unwrap_or(false);
        if value.is_null() && nullable {
            return;
        }
        let int_or_string = schema.get("x-kubernetes-int-or-string").and_then(Value::as_bool).unwrap_or(false);
        if let Some(wanted) = schema.get("type").and_then(Value::as_str)
            && !int_or_string
            && !type_matches(wanted, value)
        {
            self.error(
                path,
                value,
                format!(
                    "{type_name_only} in body must be of type {wanted}: {}",
                    shown(&Value::String(type_name(value).into()))
                ),
            );
            return;
        }
        if let Some(Value::Array(allowed)) = schema.get("enum")
            && !allowed.contains(value)
        {
            let list: Vec<String> = allowed.iter().map(shown).collect();
            self.error(path, value, format!("{name} in body should be one of [{}]", list.join(" ")));
        }
        if let Value::String(text) = value {
            if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
                && Regex::new(pattern).is_ok_and(|re| !re.is_match(text))
            {
                self.error(path, value, format!("{name} in body should match '{pattern}'"));
            }
            let length = text.chars().count();
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
                && (length as u64) < min
            {
                self.error(path, value, format!("{name} in body should be at least {min} chars long"));
            }
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
                && (length as u64) > max
            {
                self.error(path, value, format!("{name} in body may not be longer than {max}"));
            }
        }
        if let Some(number) = value.as_f64() {
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
                && number < min
            {
                self.error(path, value, format!("{name} in body should be greater than or equal to {min}"));
            }
            if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
                && number > max
            {
                self.error(path, value, format!("{name} in body should be less than or equal to {max}"));
            }
        }
        match value {
            Value::Object(map) => {
                if let Some(Value::Array(required)) = schema.get("required") {
                    for field in required.iter().filter_map(Value::as_str) {
                        if !map.contains_key(field) {
                            let here = join(path, field);
                            self.errors
                                .push(FieldError { field: here.clone(), message: format!("{here}: Required value") });
                        }
                    }
                }
                for (key, child) in map {
                    let here = join(path, key);
                    if let Some(property) = schema.get("properties").and_then(|p| p.get(key)) {
                        self.validate(property, child, &here, &here, key);
                    } else if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                        self.validate(extra, child, &here, &here, key);
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (index, item) in items.iter().enumerate() {
                        let here = format!("{path}[{index}]");
                        self.validate(item_schema, item, &here, &here, &here);
                    }
                }
            }
            _ => {}
        }
        if let Some(Value::Array(branches)) = schema.get("anyOf") {
            let passes = |branch: &Value| {
                let mut errors = Vec::new();
                Walk { errors: &mut errors }.validate(branch, value, path, name, type_name_only);
                errors.is_empty() && branch_required_holds(branch, value)
            };
            if !branches.iter().any(passes) {
                self.error(path, value, format!("{name} in body must be valid against any of the schemas"));
            }
        }
    }
}

/// `not` and `required` inside an `anyOf` branch (the only places this CRD uses them).
fn branch_required_holds(branch: &Value, value: &Value) -> bool {
    if let Some(not) = branch.get("not")
        && let Some(Value::Array(required)) = not.get("required")
        && required.iter().filter_map(Value::as_str).all(|f| value.get(f).is_some())
    {
        return false;
    }
    branch.get("properties").and_then(Value::as_object).is_none_or(|properties| {
        properties.iter().all(|(key, property)| {
            let Some(child) = value.get(key) else { return true };
            match property.get("not").and_then(|n| n.get("enum")).and_then(Value::as_array) {
                Some(forbidden) => !forbidden.contains(child),
                None => true,
            }
        })
    })
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

/// Validates `value` against `schema`; an empty list means valid.
pub fn validate(schema: &Value, value: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut walk = Walk { errors: &mut errors };
    if let (Value::Object(map), Some(Value::Object(properties))) = (value, schema.get("properties")) {
        // The root's own fields are named from the root.
        for (key, child) in map {
            if let Some(property) = properties.get(key) {
                walk.validate(property, child, key, key, key);
            }
        }
        if let Some(Value::Array(required)) = schema.get("required") {
            for field in required.iter().filter_map(Value::as_str).filter(|f| !map.contains_key(*f)) {
                errors.push(FieldError { field: field.to_owned(), message: format!("{field}: Required value") });
            }
        }
    } else {
        walk.validate(schema, value, "", "", "");
    }
    errors
}

/// Fills in defaults where the parent exists and the field is absent, recursively (defaults
/// are applied on every read and write, before validation).
pub fn default(schema: &Value, value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = schema.get("properties") {
                for (key, property) in properties {
                    if !map.contains_key(key)
                        && let Some(default) = property.get("default")
                    {
                        map.insert(key.clone(), default.clone());
                    }
                }
                for (key, child) in map.iter_mut() {
                    if let Some(property) = properties.get(key) {
                        default(property, child);
                    }
                }
            } else if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                map.values_mut().for_each(|child| default(extra, child));
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                items.iter_mut().for_each(|item| default(item_schema, item));
            }
        }
        _ => {}
    }
}

/// Drops fields the schema does not know (pruning), except where it preserves unknown fields.
pub fn prune(schema: &Value, value: &mut Value) {
    if schema.get("x-kubernetes-preserve-unknown-fields").and_then(Value::as_bool).unwrap_or(false) {
        return;
    }
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = schema.get("properties") {
                map.retain(|key, _| properties.contains_key(key));
                for (key, child) in map.iter_mut() {
                    if let Some(property) = properties.get(key) {
                        prune(property, child);
                    }
                }
            } else if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                map.values_mut().for_each(|child| prune(extra, child));
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                items.iter_mut().for_each(|item| prune(item_schema, item));
            }
        }
        _ => {}
    }
}

/// The errors that make a CRD invalid because a `default` fails its own schema, with the
/// paths the API server reports (`spec.validation.openAPIV3Schema.properties[spec]…default`).
pub fn crd_default_errors(crd: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let versions = crd.pointer("/spec/versions").and_then(Value::as_array).cloned().unwrap_or_default();
    for version in versions {
        if let Some(schema) = version.pointer("/schema/openAPIV3Schema") {
            defaults_in(schema, "spec.validation.openAPIV3Schema", &mut errors);
        }
    }
    errors
}

fn defaults_in(schema: &Value, path: &str, errors: &mut Vec<FieldError>) {
    if let Some(default) = schema.get("default") {
        let here = format!("{path}.default");
        let mut local = Vec::new();
        let mut walk = Walk { errors: &mut local };
        walk.validate(schema, default, &here, "", "");
        errors.extend(local);
    }
    if let Some(Value::Object(properties)) = schema.get("properties") {
        for (key, property) in properties {
            defaults_in(property, &format!("{path}.properties[{key}]"), errors);
        }
    }
    if let Some(items) = schema.get("items") {
        defaults_in(items, &format!("{path}.items"), errors);
    }
    if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object()) {
        defaults_in(extra, &format!("{path}.additionalProperties"), errors);
    }
}

/// The `Status` message for a rejected object: one error plain, several in brackets.
pub fn invalid_message(kind_group: &str, name: &str, errors: &[FieldError]) -> String {
    let list: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    let causes = match list.as_slice() {
        [one] => (*one).to_owned(),
        many => format!("[{}]", many.join(", ")),
    };
    format!("{kind_group} \"{name}\" is invalid: {causes}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_null_where_an_object_is_required_is_a_type_error_named_by_the_field() {
        let schema =
            json!({"properties": {"status": {"type": "object", "properties": {"storage": {"type": "object"}}}}});
        let errors = validate(&schema, &json!({"status": {"storage": null}}));
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].message,
            r#"status.storage: Invalid value: "null": storage in body must be of type object: "null""#
        );
    }

    #[test]
    fn patterns_lengths_enums_bounds_and_required_fields() {
        let schema = json!({"properties": {"spec": {"type": "object", "required": ["replicas"], "properties": {
            "managementState": {"type": "string", "pattern": "^(Managed|Removed)$"},
            "name": {"type": "string", "minLength": 3},
            "level": {"type": "string", "enum": ["", "Normal"]},
            "replicas": {"type": "integer", "minimum": 0}
        }}}});
        let value = json!({"spec": {"managementState": "x", "name": "ab", "level": "Loud"}});
        let messages: Vec<String> = validate(&schema, &value).into_iter().map(|e| e.message).collect();
        assert!(messages.contains(&r#"spec.managementState: Invalid value: "x": spec.managementState in body should match '^(Managed|Removed)$'"#.to_owned()));
        assert!(messages.contains(
            &r#"spec.name: Invalid value: "ab": spec.name in body should be at least 3 chars long"#.to_owned()
        ));
        assert!(messages.contains(
            &r#"spec.level: Invalid value: "Loud": spec.level in body should be one of ["" "Normal"]"#.to_owned()
        ));
        assert!(messages.contains(&"spec.replicas: Required value".to_owned()));
        assert!(validate(&schema, &json!({"spec": {"replicas": 1, "managementState": "Managed"}})).is_empty());
    }

    #[test]
    fn defaults_fill_only_under_existing_parents_and_unknown_fields_are_pruned() {
        let schema = json!({"properties": {"spec": {"type": "object", "properties": {
            "logLevel": {"type": "string", "default": "Normal"},
            "azure": {"type": "object", "properties": {"networkAccess": {"type": "object", "default": {"type": "External"},
                "properties": {"type": {"type": "string", "default": "External"}}}}}
        }}}});
        let mut value = json!({"spec": {"unknown": 1}});
        default(&schema, &mut value);
        prune(&schema, &mut value);
        assert_eq!(value, json!({"spec": {"logLevel": "Normal"}}));
        let mut value = json!({"spec": {"azure": {}}});
        default(&schema, &mut value);
        assert_eq!(value["spec"]["azure"], json!({"networkAccess": {"type": "External"}}));
    }

    #[test]
    fn a_crd_whose_default_fails_its_own_schema_is_named_as_the_server_does() {
        let crd = json!({"spec": {"versions": [{"schema": {"openAPIV3Schema": {"properties": {"spec": {"properties": {
            "managementState": {"type": "string", "pattern": "^(Managed|Unmanaged|Force|Removed)$", "default": ""},
            "keyID": {"type": "string", "minLength": 1, "default": ""}
        }}}}}}]}});
        let messages: Vec<String> = crd_default_errors(&crd).into_iter().map(|e| e.message).collect();
        assert_eq!(
            messages,
            vec![
                r#"spec.validation.openAPIV3Schema.properties[spec].properties[keyID].default: Invalid value: "":  in body should be at least 1 chars long"#,
                r#"spec.validation.openAPIV3Schema.properties[spec].properties[managementState].default: Invalid value: "":  in body should match '^(Managed|Unmanaged|Force|Removed)$'"#,
            ]
        );
    }
}
