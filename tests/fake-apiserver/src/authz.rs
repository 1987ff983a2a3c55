//! Who is asking, and may they: bearer tokens the fake issued to service accounts, checked
//! against the RBAC objects it stores with the real API server's rules (kubernetes' RBAC
//! authorizer): ClusterRoleBindings grant everywhere, RoleBindings only in their namespace (to a
//! Role there or a ClusterRole), subjects by ServiceAccount, User or the service-account groups,
//! rules by verb, API group, resource or `resource/subresource` (wildcards included) and
//! `resourceNames`. A refusal is a 403 worded as the real server words it. A request without a
//! token is the test's administrator, as before (the admin kubeconfig keeps working); an unknown
//! token is a 401.

use serde_json::Value;

use crate::resources::{self, Resource};
use crate::store::{ApiError, Store};

/// The caller of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum User {
    /// No credentials: the test's administrator, allowed everything.
    Admin,
    /// A service account's token.
    ServiceAccount {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
}

impl User {
    /// The user name the API server knows it by.
    pub fn name(&self) -> String {
        match self {
            Self::Admin => "system:admin".to_owned(),
            Self::ServiceAccount { namespace, name } => format!("system:serviceaccount:{namespace}:{name}"),
        }
    }
}

/// What a resource request asks to do, in the authorizer's terms.
#[derive(Clone, Debug)]
pub struct Attributes<'a> {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`.
    pub verb: &'a str,
    /// The resource type.
    pub resource: &'a Resource,
    /// `status` for the status subresource, else empty.
    pub subresource: &'a str,
    /// The namespace in the path (empty: cluster scope).
    pub namespace: &'a str,
    /// The object's name (empty for lists, watches of a collection and creates).
    pub name: &'a str,
}

/// Decides one request: `Ok` when `user` may, else the 403 the real server answers.
pub fn authorize(store: &Store, user: &User, request: &Attributes<'_>) -> Result<(), ApiError> {
    let User::ServiceAccount { namespace: sa_namespace, name: sa_name } = user else { return Ok(()) };
    let subject = Subject { namespace: sa_namespace, name: sa_name };
    if allowed(store, &subject, request) {
        return Ok(());
    }
    Err(forbidden(user, request))
}

struct Subject<'a> {
    namespace: &'a str,
    name: &'a str,
}

fn rbac(kind: &str) -> Option<Resource> {
    resources::by_kind("rbac.authorization.k8s.io/v1", kind)
}

fn allowed(store: &Store, subject: &Subject<'_>, request: &Attributes<'_>) -> bool {
    let (Some(cluster_roles), Some(cluster_bindings), Some(roles), Some(bindings)) =
        (rbac("ClusterRole"), rbac("ClusterRoleBinding"), rbac("Role"), rbac("RoleBinding"))
    else {
        return false;
    };
    let all = |r: &Resource, ns: Option<&str>| store.list(r, ns, &|_| true);
    let role_rules = |kind: &str, namespace: &str, name: &str| -> Vec<Value> {
        let (r, ns) = if kind == "ClusterRole" { (&cluster_roles, "") } else { (&roles, namespace) };
        store
            .get(r, ns, name)
            .ok()
            .and_then(|role| role.get("rules").and_then(Value::as_array).cloned())
            .unwrap_or_default()
    };
    // Cluster-wide grants.
    for binding in all(&cluster_bindings, None) {
        if binds(&binding, subject, "")
            && let Some((kind, name)) = role_ref(&binding)
            && kind == "ClusterRole"
            && role_rules(kind, "", name).iter().any(|rule| rule_allows(rule, request))
        {
            return true;
        }
    }
    // Grants within the request's namespace only.
    if request.namespace.is_empty() {
        return false;
    }
    for binding in all(&bindings, Some(request.namespace)) {
        if binds(&binding, subject, request.namespace)
            && let Some((kind, name)) = role_ref(&binding)
            && role_rules(kind, request.namespace, name).iter().any(|rule| rule_allows(rule, request))
        {
            return true;
        }
    }
    false
}

fn role_ref(binding: &Value) -> Option<(&str, &str)> {
    let kind = binding.pointer("/roleRef/kind").and_then(Value::as_str)?;
    let name = binding.pointer("/roleRef/name").and_then(Value::as_str)?;
    Some((kind, name))
}

/// Whether a binding names the service account: as itself (a RoleBinding's ServiceAccount
/// subject without a namespace means the binding's own), by user name, or by the groups every
/// service account is in.
fn binds(binding: &Value, subject: &Subject<'_>, binding_namespace: &str) -> bool {
    let user = format!("system:serviceaccount:{}:{}", subject.namespace, subject.name);
    let groups = [
        "system:serviceaccounts".to_owned(),
        format!("system:serviceaccounts:{}", subject.namespace),
        "system:authenticated".to_owned(),
    ];
    let subjects = binding.get("subjects").and_then(Value::as_array).cloned().unwrap_or_default();
    subjects.iter().any(|s| {
        let field = |f: &str| s.get(f).and_then(Value::as_str).unwrap_or_default();
        match field("kind") {
            "ServiceAccount" => {
                let namespace = if field("namespace").is_empty() { binding_namespace } else { field("namespace") };
                field("name") == subject.name && namespace == subject.namespace
            }
            "User" => field("name") == user,
            "Group" => groups.iter().any(|g| g == field("name")),
            _ => false,
        }
    })
}

fn strings(rule: &Value, field: &str) -> Vec<String> {
    rule.get(field)
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// One PolicyRule against one request, as kubernetes' `RuleAllows`.
fn rule_allows(rule: &Value, request: &Attributes<'_>) -> bool {
    let verbs = strings(rule, "verbs");
    let groups = strings(rule, "apiGroups");
    let resources = strings(rule, "resources");
    let names = strings(rule, "resourceNames");
    let combined = if request.subresource.is_empty() {
        request.resource.plural.to_owned()
    } else {
        format!("{}/{}", request.resource.plural, request.subresource)
    };
    let verb_ok = verbs.iter().any(|v| v == "*" || v == request.verb);
    let group_ok = groups.iter().any(|g| g == "*" || g == request.resource.group);
    let resource_ok = resources.iter().any(|r| {
        r == "*" || *r == combined || (!request.subresource.is_empty() && *r == format!("*/{}", request.subresource))
    });
    // A rule naming objects cannot allow a request that names none (a list, a create).
    let name_ok = names.is_empty() || names.iter().any(|n| n == request.name);
    verb_ok && group_ok && resource_ok && name_ok
}

/// The real server's 403: `<resource>.<group> "<name>" is forbidden: User "…" cannot <verb>
/// resource "<resource>[/<sub>]" in API group "<group>" in the namespace "<ns>"` (or `at the
/// cluster scope`).
fn forbidden(user: &User, request: &Attributes<'_>) -> ApiError {
    let r = request.resource;
    let qualified = if r.group.is_empty() { r.plural.to_owned() } else { format!("{}.{}", r.plural, r.group) };
    let resource = if request.subresource.is_empty() {
        r.plural.to_owned()
    } else {
        format!("{}/{}", r.plural, request.subresource)
    };
    let scope = if request.namespace.is_empty() {
        "at the cluster scope".to_owned()
    } else {
        format!("in the namespace \"{}\"", request.namespace)
    };
    let reason = format!(
        "User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\" {scope}",
        user.name(),
        request.verb,
        r.group
    );
    let message = if request.name.is_empty() {
        format!("{qualified} is forbidden: {reason}")
    } else {
        format!("{qualified} \"{}\" is forbidden: {reason}", request.name)
    };
    ApiError::new(403, "Forbidden", message)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn store(objects: Vec<Value>) -> Store {
        let mut store = Store::new();
        assert!(store.load(objects).is_ok());
        store
    }

    fn sa() -> User {
        User::ServiceAccount { namespace: "ns".into(), name: "op".into() }
    }

    fn ask<'a>(
        verb: &'a str,
        plural: &str,
        group: &str,
        namespace: &'a str,
        name: &'a str,
    ) -> (Resource, &'a str, &'a str, &'a str) {
        let r = resources::all().find(|r| r.plural == plural && r.group == group);
        let Some(r) = r else { panic!("no resource {plural}.{group}") };
        (r, verb, namespace, name)
    }

    fn decide(
        store: &Store,
        (r, verb, namespace, name): (Resource, &str, &str, &str),
        sub: &str,
    ) -> Result<(), ApiError> {
        authorize(store, &sa(), &Attributes { verb, resource: &r, subresource: sub, namespace, name })
    }

    fn role(kind: &str, namespace: Option<&str>, rules: Value) -> Value {
        let mut meta = json!({"name": "r"});
        if let Some(ns) = namespace {
            meta["namespace"] = json!(ns);
        }
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta, "rules": rules})
    }

    fn binding(kind: &str, namespace: Option<&str>, role_kind: &str, subject: Value) -> Value {
        let mut meta = json!({"name": "b"});
        if let Some(ns) = namespace {
            meta["namespace"] = json!(ns);
        }
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta,
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": "r"},
               "subjects": [subject]})
    }

    #[test]
    fn a_role_binding_grants_in_its_namespace_only_and_the_denial_reads_as_the_real_one() {
        let s = store(vec![
            role(
                "Role",
                Some("ns"),
                json!([{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"]}]),
            ),
            // A ServiceAccount subject without a namespace is the binding's namespace's.
            binding("RoleBinding", Some("ns"), "Role", json!({"kind": "ServiceAccount", "name": "op"})),
        ]);
        assert!(decide(&s, ask("get", "deployments", "apps", "ns", "x"), "").is_ok());
        assert!(decide(&s, ask("list", "deployments", "apps", "ns", ""), "").is_ok());
        let denied = decide(&s, ask("patch", "deployments", "apps", "ns", "x"), "").unwrap_err();
        assert_eq!(denied.code, 403);
        assert_eq!(
            denied.message,
            "deployments.apps \"x\" is forbidden: User \"system:serviceaccount:ns:op\" cannot patch resource \
             \"deployments\" in API group \"apps\" in the namespace \"ns\""
        );
        let elsewhere = decide(&s, ask("get", "deployments", "apps", "other", "x"), "").unwrap_err();
        assert!(elsewhere.message.contains("in the namespace \"other\""), "{}", elsewhere.message);
        let all = decide(&s, ask("list", "deployments", "apps", "", ""), "").unwrap_err();
        assert_eq!(
            all.message,
            "deployments.apps is forbidden: User \"system:serviceaccount:ns:op\" cannot list resource \
             \"deployments\" in API group \"apps\" at the cluster scope"
        );
    }

    #[test]
    fn cluster_roles_subresources_resource_names_and_groups() {
        let s = store(vec![
            role(
                "ClusterRole",
                None,
                json!([
                    {"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]},
                    {"apiGroups": ["config.openshift.io"], "resources": ["clusteroperators/status"], "verbs": ["patch"]},
                    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"], "resourceNames": ["only"]},
                ]),
            ),
            binding(
                "ClusterRoleBinding",
                None,
                "ClusterRole",
                json!({"kind": "Group", "name": "system:serviceaccounts:ns"}),
            ),
        ]);
        assert!(decide(&s, ask("list", "nodes", "", "", ""), "").is_ok());
        assert!(decide(&s, ask("patch", "clusteroperators", "config.openshift.io", "", "c"), "status").is_ok());
        let main = decide(&s, ask("patch", "clusteroperators", "config.openshift.io", "", "c"), "").unwrap_err();
        assert!(main.message.contains("cannot patch resource \"clusteroperators\""), "{}", main.message);
        let sub = decide(&s, ask("update", "clusteroperators", "config.openshift.io", "", "c"), "status").unwrap_err();
        assert!(sub.message.contains("resource \"clusteroperators/status\""), "{}", sub.message);
        assert!(decide(&s, ask("get", "configmaps", "", "ns", "only"), "").is_ok());
        assert!(decide(&s, ask("get", "configmaps", "", "ns", "other"), "").is_err());
        // A rule naming objects never allows a request that names none.
        let list = decide(&s, ask("list", "configmaps", "", "ns", ""), "").unwrap_err();
        assert_eq!(list.message.split(':').next(), Some("configmaps is forbidden"));
    }

    #[test]
    fn a_role_binding_to_a_cluster_role_is_namespaced_and_wildcards_match() {
        let s = store(vec![
            role("ClusterRole", None, json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])),
            binding(
                "RoleBinding",
                Some("ns"),
                "ClusterRole",
                json!({"kind": "User", "name": "system:serviceaccount:ns:op"}),
            ),
        ]);
        assert!(decide(&s, ask("delete", "secrets", "", "ns", "x"), "").is_ok());
        assert!(decide(&s, ask("get", "nodes", "", "", "n"), "").is_err());
        assert!(decide(&s, ask("get", "secrets", "", "other", "x"), "").is_err());
        // The administrator is never asked.
        let r = resources::all().next().unwrap();
        let request = Attributes { verb: "delete", resource: &r, subresource: "", namespace: "", name: "x" };
        assert!(authorize(&Store::new(), &User::Admin, &request).is_ok());
    }
}
