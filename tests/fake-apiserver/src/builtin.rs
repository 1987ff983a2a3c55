//! The validation a real API server gives the built-in kinds' fields the operator writes
//! (k8s.io/apimachinery `util/validation`, k8s.io/kubernetes `pkg/apis/core/validation`):
//! labels and annotations, label selectors, node selectors, tolerations, environment variable
//! names, resource quantities, affinity and topology spread constraints of every pod template.
//! Written from the upstream regular expressions, apart from the core's own checks, so that a
//! value the core lets through is refused here with 422 as on a cluster.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::schema::FieldError;

/// A fixed pattern (a unit test below compiles each one).
type Pattern = LazyLock<Option<Regex>>;

fn rx(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

fn is(pattern: &Pattern, text: &str) -> bool {
    pattern.as_ref().is_some_and(|p| p.is_match(text))
}

static QUALIFIED_NAME: Pattern = LazyLock::new(|| rx("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"));
static LABEL_VALUE: Pattern = LazyLock::new(|| rx("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"));
static DNS1123_SUBDOMAIN: Pattern =
    LazyLock::new(|| rx("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"));
/// Kubernetes 1.33 validates environment variable names relaxed (RelaxedEnvironmentVariableValidation,
/// on by default since 1.32): printable ASCII but '='.
static ENV_NAME: Pattern = LazyLock::new(|| rx("^[ -<>-~]+$"));
static QUANTITY: Pattern = LazyLock::new(|| rx("^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"));

struct Check {
    errors: Vec<FieldError>,
}

impl Check {
    fn invalid(&mut self, field: &str, value: &str, detail: &str) {
        self.errors.push(FieldError {
            field: field.to_owned(),
            message: format!("{field}: Invalid value: {value:?}: {detail}"),
        });
    }

    fn unsupported(&mut self, field: &str, value: &str, supported: &[&str]) {
        let list: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
        self.errors.push(FieldError {
            field: field.to_owned(),
            message: format!("{field}: Unsupported value: {value:?}: supported values: {}", list.join(", ")),
        });
    }

    fn required(&mut self, field: &str, detail: &str) {
        self.errors.push(FieldError { field: field.to_owned(), message: format!("{field}: Required value: {detail}") });
    }

    /// `IsQualifiedName`.
    fn qualified_name(&mut self, field: &str, value: &str) {
        let parts: Vec<&str> = value.split('/').collect();
        let (prefix, name) = match parts.as_slice() {
            [name] => (None, *name),
            [prefix, name] => (Some(*prefix), *name),
            _ => {
                return self.invalid(
                    field,
                    value,
                    "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character with an optional DNS subdomain prefix and '/'",
                );
            }
        };
        if let Some(prefix) = prefix
            && (prefix.len() > 253 || !is(&DNS1123_SUBDOMAIN, prefix))
        {
            self.invalid(field, value, "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'");
        }
        if name.is_empty() || name.len() > 63 || !is(&QUALIFIED_NAME, name) {
            self.invalid(field, value, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, at most 63 characters");
        }
    }

    /// `IsValidLabelValue`.
    fn label_value(&mut self, field: &str, value: &str) {
        if value.len() > 63 || !is(&LABEL_VALUE, value) {
            self.invalid(field, value, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
        }
    }

    fn labels(&mut self, field: &str, labels: Option<&Value>) {
        for (key, value) in labels.and_then(Value::as_object).into_iter().flatten() {
            self.qualified_name(field, key);
            self.label_value(field, value.as_str().unwrap_or_default());
        }
    }

    fn label_selector(&mut self, field: &str, selector: Option<&Value>) {
        let Some(selector) = selector else { return };
        self.labels(&format!("{field}.matchLabels"), selector.get("matchLabels"));
        for (i, requirement) in array(selector.get("matchExpressions")).iter().enumerate() {
            let at = format!("{field}.matchExpressions[{i}]");
            self.qualified_name(&format!("{at}.key"), text(requirement, "key"));
            let operator = text(requirement, "operator");
            let values = array(requirement.get("values"));
            match operator {
                "In" | "NotIn" if values.is_empty() => {
                    self.required(&format!("{at}.values"), "must be specified when `operator` is 'In' or 'NotIn'");
                }
                "Exists" | "DoesNotExist" if !values.is_empty() => {
                    self.invalid(
                        &format!("{at}.values"),
                        "",
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    );
                }
                "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
                other => self.invalid(&format!("{at}.operator"), other, "not a valid selector operator"),
            }
        }
    }

    fn quantity(&mut self, field: &str, value: &Value) -> Option<f64> {
        let text = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
        let parsed = QUANTITY.as_ref().and_then(|p| p.captures(&text)).and_then(|c| {
            let number: f64 = c.get(1)?.as_str().parse().ok()?;
            let suffix = c.get(2).map_or("", |m| m.as_str());
            // Decimal suffixes step by a thousand from nano; binary ones by 1024 from Ki;
            // anything else must be an exponent.
            const DECIMAL: [&str; 10] = ["n", "u", "m", "", "k", "M", "G", "T", "P", "E"];
            const BINARY: [&str; 6] = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
            let factor = if let Some(i) = DECIMAL.iter().position(|s| *s == suffix) {
                1000f64.powi(i32::try_from(i).ok()? - 3)
            } else if let Some(i) = BINARY.iter().position(|s| *s == suffix) {
                1024f64.powi(i32::try_from(i).ok()? + 1)
            } else {
                10f64.powi(suffix.strip_prefix(['e', 'E'])?.parse().ok()?)
            };
            Some(number * factor)
        });
        match parsed {
            Some(number) if number < 0.0 => {
                self.invalid(field, &text, "must be greater than or equal to 0");
                None
            }
            Some(number) => Some(number),
            None => {
                self.invalid(
                    field,
                    &text,
                    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                );
                None
            }
        }
    }

    fn resources(&mut self, field: &str, resources: Option<&Value>) {
        let Some(resources) = resources else { return };
        let limits = resources.get("limits").and_then(Value::as_object);
        for (name, value) in limits.into_iter().flatten() {
            self.quantity(&format!("{field}.limits[{name}]"), value);
        }
        for (name, value) in resources.get("requests").and_then(Value::as_object).into_iter().flatten() {
            let at = format!("{field}.requests[{name}]");
            let Some(request) = self.quantity(&at, value) else { continue };
            let limit = limits.and_then(|l| l.get(name));
            let limit_number = limit.and_then(|l| Check { errors: Vec::new() }.quantity("", l));
            if let (Some(limit), Some(limit_number)) = (limit, limit_number)
                && request > limit_number
            {
                let shown = limit.as_str().map(str::to_owned).unwrap_or_else(|| limit.to_string());
                self.invalid(
                    &at,
                    &value.to_string(),
                    &format!("must be less than or equal to {name} limit of {shown}"),
                );
            }
        }
    }

    fn tolerations(&mut self, field: &str, tolerations: &[Value]) {
        for (i, toleration) in tolerations.iter().enumerate() {
            let at = |f: &str| format!("{field}[{i}].{f}");
            let (key, operator, value, effect) = (
                text(toleration, "key"),
                text(toleration, "operator"),
                text(toleration, "value"),
                text(toleration, "effect"),
            );
            if key.is_empty() && operator != "Exists" {
                self.invalid(
                    &at("operator"),
                    operator,
                    "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
                );
            }
            if !key.is_empty() {
                self.qualified_name(&at("key"), key);
            }
            if toleration.get("tolerationSeconds").is_some_and(|s| !s.is_null()) && effect != "NoExecute" {
                self.invalid(&at("effect"), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set");
            }
            match operator {
                "" | "Equal" => self.label_value(&at("value"), value),
                "Exists" if !value.is_empty() => {
                    self.invalid(&at("operator"), value, "value must be empty when `operator` is 'Exists'");
                }
                "Exists" => {}
                other => self.unsupported(&at("operator"), other, &["Equal", "Exists"]),
            }
            if !["", "NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect) {
                self.unsupported(&at("effect"), effect, &["NoExecute", "NoSchedule", "PreferNoSchedule"]);
            }
        }
    }

    fn affinity_term(&mut self, field: &str, term: &Value) {
        let key = text(term, "topologyKey");
        if key.is_empty() {
            self.required(&format!("{field}.topologyKey"), "can not be empty");
        } else {
            self.qualified_name(&format!("{field}.topologyKey"), key);
        }
        self.label_selector(&format!("{field}.labelSelector"), term.get("labelSelector"));
        self.label_selector(&format!("{field}.namespaceSelector"), term.get("namespaceSelector"));
    }

    fn affinity(&mut self, field: &str, affinity: Option<&Value>) {
        let Some(affinity) = affinity else { return };
        let node = affinity.get("nodeAffinity");
        let required = node.and_then(|n| n.get("requiredDuringSchedulingIgnoredDuringExecution"));
        for (i, term) in required.map(|r| array(r.get("nodeSelectorTerms"))).unwrap_or_default().iter().enumerate() {
            for (j, expression) in array(term.get("matchExpressions")).iter().enumerate() {
                let at = format!(
                    "{field}.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[{i}].matchExpressions[{j}]"
                );
                self.qualified_name(&format!("{at}.key"), text(expression, "key"));
                let operator = text(expression, "operator");
                if !["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"].contains(&operator) {
                    self.invalid(&format!("{at}.operator"), operator, "not a valid selector operator");
                }
            }
        }
        for kind in ["podAffinity", "podAntiAffinity"] {
            let Some(rules) = affinity.get(kind) else { continue };
            for (i, term) in array(rules.get("requiredDuringSchedulingIgnoredDuringExecution")).iter().enumerate() {
                self.affinity_term(
                    &format!("{field}.{kind}.requiredDuringSchedulingIgnoredDuringExecution[{i}]"),
                    term,
                );
            }
            for (i, weighted) in array(rules.get("preferredDuringSchedulingIgnoredDuringExecution")).iter().enumerate()
            {
                let at = format!("{field}.{kind}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
                let weight = weighted.get("weight").and_then(Value::as_i64).unwrap_or(0);
                if !(1..=100).contains(&weight) {
                    self.invalid(&format!("{at}.weight"), &weight.to_string(), "must be in the range 1-100");
                }
                self.affinity_term(
                    &format!("{at}.podAffinityTerm"),
                    weighted.get("podAffinityTerm").unwrap_or(&Value::Null),
                );
            }
        }
    }

    fn topology_spread(&mut self, field: &str, constraints: &[Value]) {
        for (i, constraint) in constraints.iter().enumerate() {
            let at = |f: &str| format!("{field}[{i}].{f}");
            let skew = constraint.get("maxSkew").and_then(Value::as_i64).unwrap_or(0);
            if skew <= 0 {
                self.invalid(&at("maxSkew"), &skew.to_string(), "must be greater than zero");
            }
            let key = text(constraint, "topologyKey");
            if key.is_empty() {
                self.required(&at("topologyKey"), "can not be empty");
            } else {
                self.qualified_name(&at("topologyKey"), key);
            }
            let when = text(constraint, "whenUnsatisfiable");
            if !["DoNotSchedule", "ScheduleAnyway"].contains(&when) {
                self.unsupported(&at("whenUnsatisfiable"), when, &["DoNotSchedule", "ScheduleAnyway"]);
            }
            self.label_selector(&at("labelSelector"), constraint.get("labelSelector"));
        }
    }

    fn pod_spec(&mut self, field: &str, spec: &Value) {
        self.labels(&format!("{field}.nodeSelector"), spec.get("nodeSelector"));
        self.tolerations(&format!("{field}.tolerations"), &array(spec.get("tolerations")));
        self.affinity(&format!("{field}.affinity"), spec.get("affinity"));
        self.topology_spread(
            &format!("{field}.topologySpreadConstraints"),
            &array(spec.get("topologySpreadConstraints")),
        );
        for list in ["initContainers", "containers"] {
            for (i, container) in array(spec.get(list)).iter().enumerate() {
                let at = format!("{field}.{list}[{i}]");
                for (j, variable) in array(container.get("env")).iter().enumerate() {
                    let name = text(variable, "name");
                    if !is(&ENV_NAME, name) {
                        self.invalid(&format!("{at}.env[{j}].name"), name, "a valid environment variable name must consist only of printable ASCII characters other than '='");
                    }
                }
                self.resources(&format!("{at}.resources"), container.get("resources"));
            }
        }
    }

    fn template(&mut self, field: &str, template: Option<&Value>) {
        let Some(template) = template else { return };
        self.labels(&format!("{field}.metadata.labels"), template.pointer("/metadata/labels"));
        if let Some(spec) = template.get("spec") {
            self.pod_spec(&format!("{field}.spec"), spec);
        }
    }
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn array(value: Option<&Value>) -> Vec<Value> {
    value.and_then(Value::as_array).cloned().unwrap_or_default()
}

/// The field errors a real API server finds in `object` of built-in `kind`.
pub fn validate(kind: &str, object: &Value) -> Vec<FieldError> {
    let mut check = Check { errors: Vec::new() };
    check.labels("metadata.labels", object.pointer("/metadata/labels"));
    for key in object.pointer("/metadata/annotations").and_then(Value::as_object).into_iter().flatten().map(|(k, _)| k)
    {
        check.qualified_name("metadata.annotations", key);
    }
    match kind {
        "Deployment" | "DaemonSet" | "ReplicaSet" | "StatefulSet" => {
            check.label_selector("spec.selector", object.pointer("/spec/selector"));
            check.template("spec.template", object.pointer("/spec/template"));
        }
        "Job" => check.template("spec.template", object.pointer("/spec/template")),
        "CronJob" => {
            check.template("spec.jobTemplate.spec.template", object.pointer("/spec/jobTemplate/spec/template"))
        }
        "Pod" => {
            if let Some(spec) = object.get("spec") {
                check.pod_spec("spec", spec);
            }
        }
        "Service" => check.labels("spec.selector", object.pointer("/spec/selector")),
        "PodDisruptionBudget" => check.label_selector("spec.selector", object.pointer("/spec/selector")),
        _ => {}
    }
    check.errors
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::validate;

    fn deployment(pod: Value) -> Value {
        json!({"metadata": {"name": "d", "labels": {"app": "x"}}, "spec": {
            "selector": {"matchLabels": {"app": "x"}},
            "template": {"metadata": {"labels": {"app": "x"}}, "spec": pod}
        }})
    }

    use serde_json::Value;

    fn fields(kind: &str, object: &Value) -> Vec<String> {
        validate(kind, object).into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn every_pattern_compiles() {
        for pattern in
            [&super::QUALIFIED_NAME, &super::LABEL_VALUE, &super::DNS1123_SUBDOMAIN, &super::ENV_NAME, &super::QUANTITY]
        {
            assert!(pattern.is_some());
        }
    }

    #[test]
    fn a_valid_registry_pod_passes() {
        let pod = json!({
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "tolerations": [{"key": "node-role.kubernetes.io/infra", "operator": "Exists", "effect": "NoSchedule"}, {"operator": "Exists"}],
            "containers": [{"name": "registry", "env": [{"name": "REGISTRY_HTTP_ADDR", "value": ":5000"}],
                "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}}}],
            "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"docker-registry": "default"}}}],
            "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}]}}
        });
        assert_eq!(fields("Deployment", &deployment(pod)), Vec::<String>::new());
    }

    #[test]
    fn what_a_real_server_refuses_in_a_pod_template() {
        let pod = json!({
            "nodeSelector": {"bad key!/x/y": "v"},
            "tolerations": [{"key": "k", "operator": "Maybe"}],
            "containers": [{"name": "c", "env": [{"name": "BAD=NAME"}], "resources": {"requests": {"cpu": "3", "memory": "12Qi"}, "limits": {"cpu": "2"}}}],
            "topologySpreadConstraints": [{"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "Sometimes"}],
            "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": ""}]}}
        });
        let found = fields("Deployment", &deployment(pod));
        let at = |f: &str| format!("spec.template.spec.{f}");
        for field in [
            at("nodeSelector"),
            at("tolerations[0].operator"),
            at("containers[0].env[0].name"),
            at("containers[0].resources.requests[cpu]"),
            at("containers[0].resources.requests[memory]"),
            at("topologySpreadConstraints[0].maxSkew"),
            at("topologySpreadConstraints[0].whenUnsatisfiable"),
            at("affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey"),
        ] {
            assert!(found.contains(&field), "{field} not in {found:#?}");
        }
        let cronjob = json!({"metadata": {"name": "c", "labels": {"bad label": "x"}}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"tolerations": [{"value": "v"}]}}}}}});
        assert_eq!(
            fields("CronJob", &cronjob),
            ["metadata.labels", "spec.jobTemplate.spec.template.spec.tolerations[0].operator"]
        );
    }
}
