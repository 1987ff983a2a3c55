//! The API server's validation of the pod fields the operator copies from a Config or an
//! ImagePruner (k8s.io/apimachinery `validation`, k8s.io/kubernetes `pkg/apis/core/validation`):
//! label keys and values, node selectors, tolerations, resource quantities, affinity and
//! topology spread constraints. Messages follow the API server's where they name a rule.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, NodeSelectorTerm, PodAffinityTerm, ResourceRequirements, Toleration, TopologySpreadConstraint,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::{Errors, lower_digit};

const NAME_RULE: &str =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/// Whether `c` may appear inside a label name or value.
fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// The name part of a qualified name or a label value's rule, without the length.
fn simple_name(value: &str) -> bool {
    let ends = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    ends(value.chars().next()) && ends(value.chars().last()) && value.chars().all(name_char)
}

/// A DNS-1123 subdomain: lowercase labels of alphanumerics and '-', joined by '.', at most 253.
pub fn dns_subdomain(value: &str) -> Result<(), String> {
    let label_ok = |l: &str| {
        l.starts_with(lower_digit) && l.ends_with(lower_digit) && l.chars().all(|c| lower_digit(c) || c == '-')
    };
    if value.is_empty() || value.len() > 253 {
        return Err(format!("{value:?}: a DNS-1123 subdomain must be 1 to 253 characters"));
    }
    if !value.split('.').all(label_ok) {
        return Err(format!(
            "{value:?}: a DNS-1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
        ));
    }
    Ok(())
}

/// A qualified name (a label key, a toleration key, a topology key): `[prefix/]name`, the prefix
/// a DNS subdomain, the name at most 63 characters.
pub fn qualified_name(value: &str) -> Result<(), String> {
    let (prefix, name) = match value.split('/').collect::<Vec<_>>().as_slice() {
        [name] => (None, *name),
        [prefix, name] => (Some(*prefix), *name),
        _ => {
            return Err(format!(
                "{value:?}: a qualified name {NAME_RULE}, with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ));
        }
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            return Err(format!("{value:?}: prefix part must be non-empty"));
        }
        dns_subdomain(prefix).map_err(|e| format!("{value:?}: prefix part {e}"))?;
    }
    if name.is_empty() {
        return Err(format!("{value:?}: name part must be non-empty"));
    }
    if name.len() > 63 {
        return Err(format!("{value:?}: name part must be no more than 63 characters"));
    }
    if !simple_name(name) {
        return Err(format!("{value:?}: name part {NAME_RULE}"));
    }
    Ok(())
}

/// A label value: empty, or at most 63 characters of the name rule.
pub fn label_value(value: &str) -> Result<(), String> {
    if value.len() > 63 {
        return Err(format!("{value:?}: a label value must be no more than 63 characters"));
    }
    if !value.is_empty() && !simple_name(value) {
        return Err(format!("{value:?}: a valid label value must be an empty string or {NAME_RULE}"));
    }
    Ok(())
}

/// A node selector: label keys and values.
pub fn node_selector(path: &str, selector: &BTreeMap<String, String>, errors: &mut Errors) {
    for (key, value) in selector {
        errors.check(format!("{path}[{key:?}]"), qualified_name(key));
        errors.check(format!("{path}[{key:?}]"), label_value(value));
    }
}

/// Tolerations (`validateTolerations`).
pub fn tolerations(path: &str, list: &[Toleration], errors: &mut Errors) {
    for (index, toleration) in list.iter().enumerate() {
        let at = |field: &str| format!("{path}[{index}].{field}");
        let key = toleration.key.as_deref().unwrap_or_default();
        let operator = toleration.operator.as_deref().unwrap_or_default();
        let value = toleration.value.as_deref().unwrap_or_default();
        let effect = toleration.effect.as_deref().unwrap_or_default();
        if key.is_empty() {
            if operator != "Exists" {
                errors.add(at("operator"), format!("{operator:?}: operator must be Exists when `key` is empty, which means \"match all values and all keys\""));
            }
        } else {
            errors.check(at("key"), qualified_name(key));
        }
        if toleration.toleration_seconds.is_some() && effect != "NoExecute" {
            errors.add(at("effect"), format!("{effect:?}: effect must be 'NoExecute' when `tolerationSeconds` is set"));
        }
        match operator {
            "" | "Equal" => errors.check(at("value"), label_value(value)),
            "Exists" if !value.is_empty() => {
                errors.add(at("operator"), format!("{value:?}: value must be empty when `operator` is 'Exists'"));
            }
            "Exists" => {}
            other => errors
                .add(at("operator"), format!("Unsupported value: {other:?}: supported values: \"Equal\", \"Exists\"")),
        }
        if !matches!(effect, "" | "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
            errors.add(
                at("effect"),
                format!("Unsupported value: {effect:?}: supported values: \"NoExecute\", \"NoSchedule\", \"PreferNoSchedule\""),
            );
        }
    }
}

/// A quantity's value (`resource.ParseQuantity`: a signed decimal number with an optional
/// exponent, binary suffix `Ki`…`Ei` or decimal suffix `n u m k M G T P E`).
pub fn quantity(text: &str) -> Result<f64, String> {
    let rule = || {
        format!("{text:?}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    };
    let digits_end = text
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || (*i == 0 && matches!(c, '+' | '-'))))
        .map_or(text.len(), |(i, _)| i);
    let (number, suffix) = text.split_at(digits_end);
    let unsigned = number.trim_start_matches(['+', '-']);
    if unsigned.is_empty() || unsigned == "." || unsigned.matches('.').count() > 1 {
        return Err(rule());
    }
    let base: f64 = number.parse().map_err(|_| rule())?;
    let scale = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        exponent => {
            let digits = exponent.strip_prefix(['e', 'E']).ok_or_else(rule)?;
            let unsigned = digits.trim_start_matches(['+', '-']);
            if unsigned.is_empty() || !unsigned.chars().all(|c| c.is_ascii_digit()) || digits.len() - unsigned.len() > 1
            {
                return Err(rule());
            }
            10f64.powi(digits.parse::<i32>().map_err(|_| rule())?)
        }
    };
    Ok(base * scale)
}

/// Requests and limits: resource names, quantities that parse and are not negative, and no
/// request above its limit.
pub fn resources(path: &str, requirements: &ResourceRequirements, errors: &mut Errors) {
    let mut parsed = BTreeMap::new();
    for (kind, list) in [("limits", &requirements.limits), ("requests", &requirements.requests)] {
        for (name, value) in list.iter().flatten() {
            let at = format!("{path}.{kind}[{name}]");
            errors.check(at.clone(), qualified_name(name));
            match quantity(&value.0) {
                Ok(number) if number < 0.0 => {
                    errors.add(at, format!("{:?}: must be greater than or equal to 0", value.0))
                }
                Ok(number) => {
                    parsed.insert((kind, name.clone()), (number, value.0.clone()));
                }
                Err(e) => errors.add(at, e),
            }
        }
    }
    for ((kind, name), (request, text)) in &parsed {
        if *kind != "requests" {
            continue;
        }
        if let Some((limit, limit_text)) = parsed.get(&("limits", name.clone()))
            && request > limit
        {
            errors.add(
                format!("{path}.requests[{name}]"),
                format!("Invalid value: {text:?}: must be less than or equal to {name} limit of {limit_text}"),
            );
        }
    }
}

/// A selector requirement's operator and values: `In`/`NotIn` need values, `Exists`/
/// `DoesNotExist` take none, and where `numeric` (node selectors) `Gt`/`Lt` take one integer.
fn requirement(at: &str, operator: &str, values: &[String], numeric: bool, errors: &mut Errors) {
    match operator {
        "In" | "NotIn" if values.is_empty() => {
            errors.add(format!("{at}.values"), "must be specified when `operator` is 'In' or 'NotIn'");
        }
        "Exists" | "DoesNotExist" if !values.is_empty() => {
            errors.add(format!("{at}.values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
        }
        "Gt" | "Lt" if numeric && (values.len() != 1 || values.iter().any(|v| v.parse::<i64>().is_err())) => {
            errors
                .add(format!("{at}.values"), "must be specified single integer value when `operator` is 'Lt' or 'Gt'");
        }
        "Gt" | "Lt" if numeric => {}
        "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
        other => errors.add(format!("{at}.operator"), format!("{other:?} is not a valid selector operator")),
    }
}

/// A label selector: its keys, values and operators.
fn label_selector(path: &str, selector: &LabelSelector, errors: &mut Errors) {
    for (key, value) in selector.match_labels.iter().flatten() {
        errors.check(format!("{path}.matchLabels[{key:?}]"), qualified_name(key));
        errors.check(format!("{path}.matchLabels[{key:?}]"), label_value(value));
    }
    for (index, expression) in selector.match_expressions.iter().flatten().enumerate() {
        let at = format!("{path}.matchExpressions[{index}]");
        errors.check(format!("{at}.key"), qualified_name(&expression.key));
        let values = expression.values.as_deref().unwrap_or_default();
        requirement(&at, &expression.operator, values, false, errors);
        for value in values {
            errors.check(format!("{at}.values"), label_value(value));
        }
    }
}

/// A node selector term of a node affinity.
fn node_selector_term(path: &str, term: &NodeSelectorTerm, errors: &mut Errors) {
    for (index, expression) in term.match_expressions.iter().flatten().enumerate() {
        let at = format!("{path}.matchExpressions[{index}]");
        errors.check(format!("{at}.key"), qualified_name(&expression.key));
        requirement(&at, &expression.operator, expression.values.as_deref().unwrap_or_default(), true, errors);
    }
    for (index, requirement) in term.match_fields.iter().flatten().enumerate() {
        let at = format!("{path}.matchFields[{index}]");
        if requirement.key != "metadata.name" {
            errors.add(format!("{at}.key"), format!("{:?}: not a valid field selector key", requirement.key));
        }
        let single = requirement.values.as_ref().is_some_and(|v| v.len() == 1);
        if !matches!(requirement.operator.as_str(), "In" | "NotIn") || !single {
            errors.add(at, "must be one value with the operator 'In' or 'NotIn'");
        }
    }
}

fn pod_affinity_term(path: &str, term: &PodAffinityTerm, errors: &mut Errors) {
    if term.topology_key.is_empty() {
        errors.add(format!("{path}.topologyKey"), "can not be empty");
    } else {
        errors.check(format!("{path}.topologyKey"), qualified_name(&term.topology_key));
    }
    if let Some(selector) = &term.label_selector {
        label_selector(&format!("{path}.labelSelector"), selector, errors);
    }
    if let Some(selector) = &term.namespace_selector {
        label_selector(&format!("{path}.namespaceSelector"), selector, errors);
    }
}

fn weight(path: &str, weight: i32, errors: &mut Errors) {
    if !(1..=100).contains(&weight) {
        errors.add(format!("{path}.weight"), format!("{weight}: must be in the range 1-100"));
    }
}

/// Node, pod and pod anti-affinity.
pub fn affinity(path: &str, affinity: &Affinity, errors: &mut Errors) {
    if let Some(node) = &affinity.node_affinity {
        let at = format!("{path}.nodeAffinity");
        if let Some(required) = &node.required_during_scheduling_ignored_during_execution {
            let at = format!("{at}.requiredDuringSchedulingIgnoredDuringExecution");
            if required.node_selector_terms.is_empty() {
                errors.add(format!("{at}.nodeSelectorTerms"), "must have at least one node selector term");
            }
            for (index, term) in required.node_selector_terms.iter().enumerate() {
                node_selector_term(&format!("{at}.nodeSelectorTerms[{index}]"), term, errors);
            }
        }
        for (index, preferred) in node.preferred_during_scheduling_ignored_during_execution.iter().flatten().enumerate()
        {
            let at = format!("{at}.preferredDuringSchedulingIgnoredDuringExecution[{index}]");
            weight(&at, preferred.weight, errors);
            node_selector_term(&format!("{at}.preference"), &preferred.preference, errors);
        }
    }
    let pod = [(
        "podAffinity",
        affinity.pod_affinity.as_ref().map(|a| {
            (
                &a.required_during_scheduling_ignored_during_execution,
                &a.preferred_during_scheduling_ignored_during_execution,
            )
        }),
    )];
    let anti = [(
        "podAntiAffinity",
        affinity.pod_anti_affinity.as_ref().map(|a| {
            (
                &a.required_during_scheduling_ignored_during_execution,
                &a.preferred_during_scheduling_ignored_during_execution,
            )
        }),
    )];
    for (name, terms) in pod.into_iter().chain(anti) {
        let Some((required, preferred)) = terms else { continue };
        let at = format!("{path}.{name}");
        for (index, term) in required.iter().flatten().enumerate() {
            pod_affinity_term(&format!("{at}.requiredDuringSchedulingIgnoredDuringExecution[{index}]"), term, errors);
        }
        for (index, weighted) in preferred.iter().flatten().enumerate() {
            let at = format!("{at}.preferredDuringSchedulingIgnoredDuringExecution[{index}]");
            weight(&at, weighted.weight, errors);
            pod_affinity_term(&format!("{at}.podAffinityTerm"), &weighted.pod_affinity_term, errors);
        }
    }
}

/// Topology spread constraints (`validateTopologySpreadConstraints`).
pub fn topology_spread(path: &str, constraints: &[TopologySpreadConstraint], errors: &mut Errors) {
    let mut pairs = Vec::new();
    for (index, constraint) in constraints.iter().enumerate() {
        let at = |field: &str| format!("{path}[{index}].{field}");
        if constraint.max_skew <= 0 {
            errors.add(at("maxSkew"), format!("{}: must be greater than zero", constraint.max_skew));
        }
        if constraint.topology_key.is_empty() {
            errors.add(at("topologyKey"), "can not be empty");
        } else {
            errors.check(at("topologyKey"), qualified_name(&constraint.topology_key));
        }
        let when = constraint.when_unsatisfiable.as_str();
        if !matches!(when, "DoNotSchedule" | "ScheduleAnyway") {
            errors.add(
                at("whenUnsatisfiable"),
                format!("Unsupported value: {when:?}: supported values: \"DoNotSchedule\", \"ScheduleAnyway\""),
            );
        }
        if let Some(min) = constraint.min_domains {
            if min <= 0 {
                errors.add(at("minDomains"), format!("{min}: must be greater than zero"));
            } else if when != "DoNotSchedule" {
                errors.add(
                    at("minDomains"),
                    format!("{min}: can only use minDomains if whenUnsatisfiable=DoNotSchedule"),
                );
            }
        }
        for (field, policy) in [
            ("nodeAffinityPolicy", &constraint.node_affinity_policy),
            ("nodeTaintsPolicy", &constraint.node_taints_policy),
        ] {
            if let Some(policy) = policy.as_deref().filter(|p| !matches!(*p, "Honor" | "Ignore")) {
                errors
                    .add(at(field), format!("Unsupported value: {policy:?}: supported values: \"Honor\", \"Ignore\""));
            }
        }
        for key in constraint.match_label_keys.iter().flatten() {
            errors.check(at("matchLabelKeys"), qualified_name(key));
        }
        if let Some(selector) = &constraint.label_selector {
            label_selector(&at("labelSelector"), selector, errors);
        }
        let pair = (constraint.topology_key.clone(), when.to_owned());
        if pairs.contains(&pair) {
            errors.add(at("{topologyKey, whenUnsatisfiable}"), format!("Duplicate value: {{{:?}, {when:?}}}", pair.0));
        }
        pairs.push(pair);
    }
}

/// The scheduling and resource fields a Config or an ImagePruner copies into a pod.
pub struct PodFields<'a> {
    /// `nodeSelector`.
    pub node_selector: Option<&'a BTreeMap<String, String>>,
    /// `tolerations`.
    pub tolerations: Option<&'a [Toleration]>,
    /// `resources`.
    pub resources: Option<&'a ResourceRequirements>,
    /// `affinity`.
    pub affinity: Option<&'a Affinity>,
    /// `topologySpreadConstraints`.
    pub topology_spread_constraints: Option<&'a [TopologySpreadConstraint]>,
}

/// Every rule above over the fields under `spec`.
pub fn pod_fields(fields: &PodFields<'_>, errors: &mut Errors) {
    if let Some(selector) = fields.node_selector {
        node_selector("spec.nodeSelector", selector, errors);
    }
    if let Some(list) = fields.tolerations {
        tolerations("spec.tolerations", list, errors);
    }
    if let Some(requirements) = fields.resources {
        resources("spec.resources", requirements, errors);
    }
    if let Some(rules) = fields.affinity {
        affinity("spec.affinity", rules, errors);
    }
    if let Some(constraints) = fields.topology_spread_constraints {
        topology_spread("spec.topologySpreadConstraints", constraints, errors);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors_of(f: impl FnOnce(&mut Errors)) -> Vec<String> {
        let mut errors = Errors::default();
        f(&mut errors);
        errors.into_vec().into_iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn qualified_names_and_label_values() {
        for good in ["kubernetes.io/os", "node-role.kubernetes.io/infra", "disk", "a.b_c-D"] {
            assert_eq!(qualified_name(good), Ok(()), "{good}");
        }
        for bad in ["bad key!/x/y", "a/b/c", "/x", "Example.com/x", "x/", "-x", &"k".repeat(64)] {
            assert!(qualified_name(bad).is_err(), "{bad}");
        }
        for good in ["", "v1", "a.b-c_d"] {
            assert_eq!(label_value(good), Ok(()), "{good}");
        }
        for bad in ["not a value", "-x", &"v".repeat(64)] {
            assert!(label_value(bad).is_err(), "{bad}");
        }
        let selector = BTreeMap::from([("bad key!/x/y".to_owned(), "v".to_owned())]);
        let found = errors_of(|e| node_selector("spec.nodeSelector", &selector, e));
        assert_eq!(found.len(), 1);
        assert!(found[0].starts_with("spec.nodeSelector[\"bad key!/x/y\"]: "), "{found:?}");
    }

    #[test]
    fn tolerations_as_the_api_server_checks_them() {
        let case = |t: serde_json::Value| {
            let toleration: Toleration = serde_json::from_value(t).unwrap();
            errors_of(|e| tolerations("spec.tolerations", &[toleration], e))
        };
        assert!(
            case(json!({"key": "node-role.kubernetes.io/infra", "operator": "Exists", "effect": "NoSchedule"}))
                .is_empty()
        );
        assert!(case(json!({"operator": "Exists"})).is_empty());
        assert!(case(json!({"key": "k", "value": "v", "effect": "NoExecute", "tolerationSeconds": 30})).is_empty());
        for (bad, field) in [
            (json!({"key": "k", "operator": "Maybe"}), "spec.tolerations[0].operator"),
            (json!({"key": "k", "operator": "Exists", "value": "v"}), "spec.tolerations[0].operator"),
            (json!({"value": "v"}), "spec.tolerations[0].operator"),
            (json!({"key": "k", "effect": "NoSchedul"}), "spec.tolerations[0].effect"),
            (json!({"key": "k", "effect": "NoSchedule", "tolerationSeconds": 3}), "spec.tolerations[0].effect"),
            (json!({"key": "bad key", "operator": "Exists"}), "spec.tolerations[0].key"),
            (json!({"key": "k", "value": "bad value"}), "spec.tolerations[0].value"),
        ] {
            let found = case(bad.clone());
            assert!(found.iter().any(|e| e.starts_with(&format!("{field}: "))), "{bad}: {found:?}");
        }
    }

    #[test]
    fn quantities_and_requests_within_limits() {
        for (text, value) in
            [("100m", 0.1), ("256Mi", 268_435_456.0), ("1e3", 1000.0), ("1.5", 1.5), ("2E", 2e18), ("+1k", 1000.0)]
        {
            assert_eq!(quantity(text), Ok(value), "{text}");
        }
        for bad in ["12Qi", "", "m", "1.2.3", "1e", "1e+-2", "abc", "1 Gi"] {
            assert!(quantity(bad).is_err(), "{bad}");
        }
        let requirements: ResourceRequirements = serde_json::from_value(json!({
            "requests": {"cpu": "3", "memory": "-1Gi", "bad key": "1"},
            "limits": {"cpu": "2", "memory": "12Qi"}
        }))
        .unwrap();
        let found = errors_of(|e| resources("spec.resources", &requirements, e));
        let fields: Vec<&str> = found.iter().filter_map(|e| e.split(": ").next()).collect();
        assert!(fields.contains(&"spec.resources.requests[cpu]"), "{found:?}");
        assert!(fields.contains(&"spec.resources.requests[memory]"), "{found:?}");
        assert!(fields.contains(&"spec.resources.limits[memory]"), "{found:?}");
        assert!(fields.contains(&"spec.resources.requests[bad key]"), "{found:?}");
    }

    #[test]
    fn affinity_and_topology_spread() {
        let rules: Affinity = serde_json::from_value(json!({
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "zone", "operator": "In"}, {"key": "n", "operator": "Gt", "values": ["x"]}]}
                ]},
                "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 0, "preference": {}}]
            },
            "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"topologyKey": "not/a/key", "labelSelector": {"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["x"]}]}}
            ]}
        }))
        .unwrap();
        let found = errors_of(|e| affinity("spec.affinity", &rules, e));
        assert_eq!(found.len(), 5, "{found:#?}");
        let good: Affinity = serde_json::from_value(json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"docker-registry": "default"}}}}
        ]}}))
        .unwrap();
        assert!(errors_of(|e| affinity("spec.affinity", &good, e)).is_empty());
        let constraints: Vec<TopologySpreadConstraint> = serde_json::from_value(json!([
            {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"},
            {"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"},
            {"maxSkew": 1, "topologyKey": "", "whenUnsatisfiable": "Sometimes", "minDomains": 2, "nodeTaintsPolicy": "Maybe"}
        ]))
        .unwrap();
        let found = errors_of(|e| topology_spread("spec.topologySpreadConstraints", &constraints, e));
        for field in [
            "[1].maxSkew",
            "[1].{topologyKey, whenUnsatisfiable}",
            "[2].topologyKey",
            "[2].whenUnsatisfiable",
            "[2].minDomains",
            "[2].nodeTaintsPolicy",
        ] {
            assert!(
                found.iter().any(|e| e.starts_with(&format!("spec.topologySpreadConstraints{field}: "))),
                "{field}: {found:#?}"
            );
        }
    }
}
