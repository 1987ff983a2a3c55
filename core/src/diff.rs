//! Desired vs observed: which owned fields differ. Quiet at the fixpoint by construction: only
//! the fields the operator sets are compared, so what the API server or other managers add
//! (defaults, `managedFields`, `resourceVersion`, timestamps, status, extra list items) never
//! counts as a difference.
//!
//! Rules: maps compare key by key over the desired keys, except atomic maps (label selectors,
//! `Service.spec.selector`), which must be equal whole; an empty desired map, list or `null`
//! equals an absent field; list items match by the keys server-side apply merges them on
//! (`structure`: containers by `name`, Service ports by `port`+`protocol`, …); sets must hold
//! the desired values; other lists compare position by position and must have the same length;
//! numbers compare by value, and resource quantities by amount (`1Gi` = `1024Mi`).

use serde_json::Value;

use crate::action::FieldChange;
use crate::structure::{ListType, is_atomic_map, list_type};

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// The fields of `desired` that `observed` (objects of `kind`) does not hold. Paths are dotted;
/// keyed list elements print as `containers[name=registry]`.
pub fn differences(kind: &str, desired: &Value, observed: &Value) -> Vec<FieldChange> {
    differences_under(kind, &[], desired, observed)
}

/// [`differences`] of a part of an object: `at` names where the part sits (`["status"]`), so
/// its lists merge as they do there; the paths printed are relative to it.
pub fn differences_under<'a>(kind: &str, at: &[&'a str], desired: &'a Value, observed: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    Compare { kind, names: at.to_vec(), path: Vec::new() }.compare(desired, observed, false, &mut out);
    out
}

/// How a keyed item prints: `[name=registry]`, `[port=5000,protocol=TCP]`.
pub fn item_label(keys: &[&str], item: &Value) -> String {
    let mut label = String::new();
    write_label(&mut label, keys, item);
    label
}

fn write_label(out: &mut String, keys: &[&str], item: &Value) {
    out.push('[');
    for (index, key) in keys.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push('=');
        match item.get(*key) {
            Some(Value::String(text)) => out.push_str(text),
            Some(other) => out.push_str(&other.to_string()),
            None => out.push_str("null"),
        }
    }
    out.push(']');
}

/// Whether two items are the same keyed item.
pub fn same_item(keys: &[&str], a: &Value, b: &Value) -> bool {
    keys.iter().all(|key| a.get(*key).unwrap_or(&Value::Null) == b.get(*key).unwrap_or(&Value::Null))
}

/// One step of the path being compared; printed only when a difference is found, so the walk
/// over an unchanged object allocates nothing.
enum Step<'a> {
    Key(&'a str),
    Item(&'static [&'static str], &'a Value),
    Index(usize),
}

struct Compare<'k, 'a> {
    kind: &'k str,
    /// The keys from the object's root (what `structure` looks up).
    names: Vec<&'a str>,
    /// The path printed, relative to where the comparison started.
    path: Vec<Step<'a>>,
}

impl<'a> Compare<'_, 'a> {
    fn path(&self) -> String {
        let mut text = String::new();
        for step in &self.path {
            match step {
                Step::Key(key) => {
                    if !text.is_empty() {
                        text.push('.');
                    }
                    text.push_str(key);
                }
                Step::Item(keys, item) => write_label(&mut text, keys, item),
                Step::Index(index) => text.push_str(&format!("[{index}]")),
            }
        }
        text
    }

    fn change(&self, before: Option<&Value>, after: &Value, out: &mut Vec<FieldChange>) {
        out.push(FieldChange { path: self.path(), before: before.cloned(), after: Some(after.clone()), secret: false });
    }

    fn compare(&mut self, desired: &'a Value, observed: &Value, quantity: bool, out: &mut Vec<FieldChange>) {
        match desired {
            Value::Object(fields) => {
                let Value::Object(actual) = observed else {
                    if !(is_empty(desired) && observed.is_null()) {
                        self.change(Some(observed), desired, out);
                    }
                    return;
                };
                if is_atomic_map(self.kind, &self.names) {
                    if desired != observed {
                        self.change(Some(observed), desired, out);
                    }
                    return;
                }
                for (key, want) in fields {
                    let is_quantity = quantity || matches!(key.as_str(), "requests" | "limits" | "capacity");
                    self.names.push(key);
                    self.path.push(Step::Key(key));
                    match actual.get(key) {
                        Some(have) => self.compare(want, have, is_quantity, out),
                        None if is_empty(want) => {}
                        None => self.change(None, want, out),
                    }
                    self.path.pop();
                    self.names.pop();
                }
            }
            Value::Array(items) => {
                let Value::Array(actual) = observed else {
                    if !(items.is_empty() && observed.is_null()) {
                        self.change(Some(observed), desired, out);
                    }
                    return;
                };
                match list_type(self.kind, &self.names) {
                    ListType::Map(keys) => {
                        for item in items {
                            self.path.push(Step::Item(keys, item));
                            match actual.iter().find(|a| same_item(keys, item, a)) {
                                Some(have) => self.compare(item, have, quantity, out),
                                None => self.change(None, item, out),
                            }
                            self.path.pop();
                        }
                    }
                    ListType::Set => {
                        if items.iter().any(|item| !actual.contains(item)) {
                            self.change(Some(observed), desired, out);
                        }
                    }
                    ListType::Atomic if items.len() != actual.len() => self.change(Some(observed), desired, out),
                    ListType::Atomic => {
                        let before = out.len();
                        for (index, (want, have)) in items.iter().zip(actual).enumerate() {
                            self.path.push(Step::Index(index));
                            self.compare(want, have, quantity, out);
                            self.path.pop();
                        }
                        // An atomic list is replaced whole: show it whole.
                        if out.len() > before {
                            out.truncate(before);
                            self.change(Some(observed), desired, out);
                        }
                    }
                }
            }
            scalar => {
                if !scalar_equal(scalar, observed, quantity) {
                    self.change(Some(observed).filter(|v| !v.is_null()), desired, out);
                }
            }
        }
    }
}

fn scalar_equal(want: &Value, have: &Value, quantity: bool) -> bool {
    match (want, have) {
        (Value::Number(a), Value::Number(b)) => a == b || a.as_f64() == b.as_f64(),
        (Value::String(a), Value::String(b)) if quantity && a != b => {
            matches!((parse_quantity(a), parse_quantity(b)), (Some(x), Some(y)) if x == y)
        }
        _ => want == have,
    }
}

/// A Kubernetes quantity as an exact amount in units of 10⁻⁹ (nano), or `None` if malformed.
pub fn parse_quantity(text: &str) -> Option<i128> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-')).unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let (negative, number) = match number.strip_prefix('-') {
        Some(n) => (true, n),
        None => (false, number.strip_prefix('+').unwrap_or(number)),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.len() > 9 {
        return None;
    }
    let digits = |s: &str| -> Option<i128> { if s.is_empty() { Some(0) } else { s.parse::<i128>().ok() } };
    let scale = 10i128.pow(9 - u32::try_from(fraction.len()).ok()?);
    let nanos = digits(whole)?.checked_mul(1_000_000_000)?.checked_add(digits(fraction)?.checked_mul(scale)?)?;
    let (multiplier, divisor): (i128, i128) = match suffix {
        "" => (1, 1),
        "n" => (1, 1_000_000_000),
        "u" => (1, 1_000_000),
        "m" => (1, 1_000),
        "k" => (1_000, 1),
        "M" => (1_000_000, 1),
        "G" => (1_000_000_000, 1),
        "T" => (1_000_000_000_000, 1),
        "P" => (1_000_000_000_000_000, 1),
        "E" => (1_000_000_000_000_000_000, 1),
        "Ki" => (1 << 10, 1),
        "Mi" => (1 << 20, 1),
        "Gi" => (1 << 30, 1),
        "Ti" => (1 << 40, 1),
        "Pi" => (1 << 50, 1),
        "Ei" => (1 << 60, 1),
        exponent => {
            let power: i32 = exponent.strip_prefix(['e', 'E'])?.parse().ok()?;
            if power >= 0 {
                (10i128.checked_pow(u32::try_from(power).ok()?)?, 1)
            } else {
                (1, 10i128.checked_pow(u32::try_from(-power).ok()?)?)
            }
        }
    };
    let amount = nanos.checked_mul(multiplier)? / divisor;
    Some(if negative { -amount } else { amount })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn paths(desired: Value, observed: Value) -> Vec<String> {
        differences("Deployment", &desired, &observed).into_iter().map(|c| c.path).collect()
    }

    #[test]
    fn server_additions_are_not_differences() {
        let desired = json!({"metadata": {"name": "a", "labels": {"x": "1"}}, "spec": {"template": {"spec": {"containers": [{"name": "p", "image": "i"}]}}}});
        let observed = json!({
            "metadata": {"name": "a", "uid": "u", "resourceVersion": "9", "labels": {"x": "1", "extra": "y"}, "managedFields": []},
            "spec": {"template": {"spec": {"containers": [{"name": "p", "image": "i", "imagePullPolicy": "Always"}, {"name": "other"}]}}, "paused": false},
            "status": {"loadBalancer": {}}
        });
        assert!(paths(desired, observed).is_empty());
    }

    #[test]
    fn owned_edits_and_removals_are_differences() {
        let container = |env: Value, command: Value| json!({"spec": {"template": {"spec": {"containers": [{"name": "r", "env": env, "command": command}]}}}});
        let desired = container(json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]), json!(["a", "b"]));
        let observed = container(json!([{"name": "A", "value": "edited"}]), json!(["a"]));
        let at = "spec.template.spec.containers[name=r]";
        assert_eq!(
            paths(desired, observed),
            vec![format!("{at}.command"), format!("{at}.env[name=A].value"), format!("{at}.env[name=B]")]
        );
    }

    #[test]
    fn service_ports_match_by_port_and_protocol_and_selectors_whole() {
        let desired =
            json!({"spec": {"ports": [{"name": "5000-tcp", "port": 5000, "protocol": "TCP"}], "selector": {"a": "b"}}});
        let observed = json!({"spec": {"ports": [{"name": "5000-tcp", "port": 5001, "protocol": "TCP"}], "selector": {"a": "b", "x": "y"}}});
        let changes: Vec<String> = differences("Service", &desired, &observed).into_iter().map(|c| c.path).collect();
        assert_eq!(changes, vec!["spec.ports[port=5000,protocol=TCP]", "spec.selector"]);
    }

    #[test]
    fn empty_desired_equals_absent_and_numbers_by_value() {
        assert!(paths(json!({"data": {}, "emptyDir": {}, "n": 1}), json!({"emptyDir": {}, "n": 1.0})).is_empty());
        assert_eq!(paths(json!({"emptyDir": {}}), json!({"emptyDir": {"medium": "Memory"}})), Vec::<String>::new());
    }

    #[test]
    fn quantities_compare_by_amount_only_under_resources() {
        let desired = json!({"resources": {"requests": {"cpu": "0.1", "memory": "1Gi"}}, "name": "1Gi"});
        let observed = json!({"resources": {"requests": {"cpu": "100m", "memory": "1024Mi"}}, "name": "1024Mi"});
        assert_eq!(paths(desired, observed), vec!["name"]);
        assert_eq!(parse_quantity("1.5Gi"), Some(1_610_612_736 * 1_000_000_000));
        assert_eq!(parse_quantity("100m"), parse_quantity("0.1"));
        assert_eq!(parse_quantity("1e3"), parse_quantity("1k"));
        assert_eq!(parse_quantity("abc"), None);
    }
}
