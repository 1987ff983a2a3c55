//! Requests to answers: path routing for `/api` and `/apis`, the verbs (get, list, watch,
//! create, update, patch, apply, delete, status), discovery for kubectl, fault injection, the
//! request log and the `/_fake/*` control endpoints.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::authz::{self, Attributes, User};
use crate::resources::{self, Resource};
use crate::store::{ApiError, PatchKind, Store};

/// The body of every answer.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// One request, as the log keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query string.
    pub query: String,
    /// Kubernetes verb (`get`, `list`, `watch`, `create`, `update`, `patch`, `apply`, `delete`),
    /// or `discovery`.
    pub verb: String,
    /// Whether the request asked to change something.
    pub write: bool,
    /// The field manager named in the request, if any.
    pub manager: String,
    /// The `User-Agent` header (empty when none was sent).
    #[serde(default)]
    pub user_agent: String,
    /// The status answered.
    pub code: u16,
    /// Who asked (`system:admin` without a token, else the service account's user name).
    #[serde(default)]
    pub user: String,
}

/// A failure to inject. Every field but `code` narrows which requests it hits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    /// A verb, or `write` for every writing verb.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verb: Option<String>,
    /// A resource plural, `plural/status` for the subresource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// An object name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The HTTP status to answer (409, 403, 404, 429, 500, 503); 0 only delays.
    #[serde(default)]
    pub code: u16,
    /// How many requests it hits.
    #[serde(default = "one")]
    pub count: u32,
    /// Delay before answering, in milliseconds.
    #[serde(default)]
    pub delay_ms: u64,
}

fn one() -> u32 {
    1
}

/// The shared state behind every handle of one fake server.
pub struct Shared {
    store: Mutex<Store>,
    faults: Mutex<Vec<Fault>>,
    log: Mutex<Vec<LogEntry>>,
    close: watch::Sender<u64>,
    /// Bearer tokens issued to service accounts.
    tokens: Mutex<Vec<(String, User)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A handle on a fake API server: cheap to clone, usable as a `tower::Service` and from tests.
#[derive(Clone)]
pub struct FakeApiServer {
    shared: Arc<Shared>,
}

impl Default for FakeApiServer {
    fn default() -> Self {
        Self::new(Store::new())
    }
}

impl FakeApiServer {
    /// A server over `store`.
    pub fn new(store: Store) -> Self {
        let (close, _) = watch::channel(0);
        Self {
            shared: Arc::new(Shared {
                store: Mutex::new(store),
                faults: Mutex::new(Vec::new()),
                log: Mutex::new(Vec::new()),
                close,
                tokens: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Runs `f` on the store.
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        f(&mut lock(&self.shared.store))
    }

    /// Adds a fault.
    pub fn inject(&self, fault: Fault) {
        lock(&self.shared.faults).push(fault);
    }

    /// Drops every fault not yet used up.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Faults not yet used up.
    pub fn faults(&self) -> Vec<Fault> {
        lock(&self.shared.faults).clone()
    }

    /// The request log.
    pub fn requests(&self) -> Vec<LogEntry> {
        lock(&self.shared.log).clone()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// A bearer token for the service account `namespace/name`, as the token controller would
    /// mint one: requests carrying it are authorized by the RBAC objects in the store.
    pub fn issue_token(&self, namespace: &str, name: &str) -> String {
        let mut tokens = lock(&self.shared.tokens);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let token = format!("fake-sa-token-{}-{nanos:x}", tokens.len());
        tokens.push((token.clone(), User::ServiceAccount { namespace: namespace.to_owned(), name: name.to_owned() }));
        token
    }

    /// Who a request's `Authorization` header says it is; `None` for a token never issued.
    fn authenticate(&self, header: Option<&str>) -> Option<User> {
        let Some(value) = header else { return Some(User::Admin) };
        let token = value.strip_prefix("Bearer ")?.trim();
        lock(&self.shared.tokens).iter().find(|(t, _)| t == token).map(|(_, user)| user.clone())
    }

    /// Ends every open watch, as an API server restart or a watch timeout would: clients relist.
    pub fn close_watches(&self) {
        self.shared.close.send_modify(|n| *n += 1);
    }

    /// Loses the cluster's state, as an etcd restore from an older backup does: the store is
    /// replaced by `objects` loaded afresh (revisions start again, lower than any a client
    /// holds), every watch ends, and a watch resumed from an old revision is refused as too
    /// large. Faults, tokens and the request log stay.
    pub fn reset(&self, objects: impl IntoIterator<Item = Value>) -> Result<usize, String> {
        let mut store = Store::new();
        let loaded = store.load(objects)?;
        let mut current = lock(&self.shared.store);
        store.controllers = current.controllers;
        *current = store;
        drop(current);
        self.close_watches();
        Ok(loaded)
    }

    /// Answers one request.
    pub async fn handle(&self, request: Request<Bytes>) -> Response<Body> {
        let (parts, body) = request.into_parts();
        let path = parts.uri.path().to_owned();
        let query = parts.uri.query().unwrap_or_default().to_owned();
        if let Some(control) = path.strip_prefix("/_fake/") {
            return self.control(&parts.method, control, &body);
        }
        // The garbage collector works between requests: what a foreground deletion marked
        // during an earlier request is collected now, never within the request that asked.
        self.with_store(Store::collect_garbage);
        let params = Params::parse(&query);
        let content_type =
            parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let route = route(&path);
        let verb = verb(&parts.method, &route, &params, &content_type);
        let write = matches!(verb, "create" | "update" | "patch" | "apply" | "delete");
        let manager = params.get("fieldManager").unwrap_or_default().to_owned();
        let user_agent =
            parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let accept = parts.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let user = self.authenticate(parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()));
        let mut entry = LogEntry {
            method: parts.method.to_string(),
            path,
            query,
            verb: verb.to_owned(),
            write,
            manager,
            user_agent,
            code: 0,
            user: user.as_ref().map(User::name).unwrap_or_default(),
        };
        let Some(user) = user else {
            let response = error(&ApiError::new(401, "Unauthorized", "Unauthorized"));
            entry.code = response.status().as_u16();
            lock(&self.shared.log).push(entry);
            return response;
        };
        if let Err(denied) = self.authorize(&user, verb, &route) {
            let response = error(&denied);
            entry.code = response.status().as_u16();
            lock(&self.shared.log).push(entry);
            return response;
        }
        // A protobuf client (client-go's default for built-in kinds) is logged, then refused.
        if content_type.contains("protobuf") || (accept.contains("protobuf") && !accept.contains("json")) {
            let response = error(&ApiError::new(
                415,
                "UnsupportedMediaType",
                "the fake API server speaks JSON only, not protobuf",
            ));
            entry.code = response.status().as_u16();
            lock(&self.shared.log).push(entry);
            return response;
        }
        let fault = self.take_fault(verb, write, &route);
        let response = match fault {
            Some(fault) => {
                if fault.delay_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
                }
                if fault.code == 0 {
                    self.serve(&parts.method, &route, &params, &content_type, &body, verb)
                } else {
                    error(&ApiError::new(fault.code, reason(fault.code), format!("injected fault: {}", fault.code)))
                }
            }
            None => self.serve(&parts.method, &route, &params, &content_type, &body, verb),
        };
        entry.code = response.status().as_u16();
        lock(&self.shared.log).push(entry);
        response
    }

    /// RBAC for resource requests; discovery and health paths are open to every authenticated
    /// caller, as the bootstrap policy's `system:discovery` role makes them. Server-side apply is
    /// the `patch` verb, and an apply that creates needs `create` too, as the real server checks.
    fn authorize(&self, user: &User, verb: &'static str, route: &Route) -> Result<(), ApiError> {
        let Route::Resource { resource, namespace, name, status } = route else { return Ok(()) };
        let rbac_verb: &'static str = if verb == "apply" { "patch" } else { verb };
        let namespace = if resource.namespaced { namespace.as_deref().unwrap_or_default() } else { "" };
        let name = name.as_deref().unwrap_or_default();
        let subresource = if *status { "status" } else { "" };
        let ask = |verb: &'static str| Attributes { verb, resource, subresource, namespace, name };
        self.with_store(|s| {
            authz::authorize(s, user, &ask(rbac_verb))?;
            let creates = verb == "apply" && !name.is_empty() && s.get(resource, namespace, name).is_err();
            if creates { authz::authorize(s, user, &ask("create")) } else { Ok(()) }
        })
    }

    fn take_fault(&self, verb: &str, write: bool, route: &Route) -> Option<Fault> {
        let Route::Resource { resource, name, status, .. } = route else { return None };
        let mut faults = lock(&self.shared.faults);
        let index = faults.iter().position(|f| {
            f.count > 0
                && f.verb.as_deref().is_none_or(|v| v == verb || (v == "write" && write))
                && f.resource.as_deref().is_none_or(|r| {
                    let (plural, sub) = r.split_once('/').unwrap_or((r, ""));
                    plural == resource.plural && (sub == "status") == *status
                })
                && f.name.as_deref().is_none_or(|n| Some(n) == name.as_deref())
        })?;
        let fault = faults.get_mut(index)?;
        fault.count -= 1;
        let hit = fault.clone();
        faults.retain(|f| f.count > 0);
        Some(hit)
    }

    fn control(&self, method: &Method, what: &str, body: &Bytes) -> Response<Body> {
        match (method, what) {
            (&Method::GET, "requests") => ok(&json!(self.requests())),
            (&Method::DELETE, "requests") => {
                self.clear_requests();
                ok(&json!({}))
            }
            (&Method::GET, "faults") => ok(&json!(self.faults())),
            (&Method::POST, "faults") => {
                let parsed: Result<Vec<Fault>, _> = serde_json::from_slice::<Vec<Fault>>(body)
                    .or_else(|_| serde_json::from_slice::<Fault>(body).map(|f| vec![f]));
                match parsed {
                    Ok(faults) => {
                        faults.into_iter().for_each(|f| self.inject(f));
                        ok(&json!(self.faults()))
                    }
                    Err(e) => error(&ApiError::new(400, "BadRequest", format!("not a fault: {e}"))),
                }
            }
            (&Method::DELETE, "faults") => {
                lock(&self.shared.faults).clear();
                ok(&json!([]))
            }
            (&Method::POST, "close-watches") => {
                self.close_watches();
                ok(&json!({}))
            }
            (&Method::GET, "objects") => ok(&json!(self.with_store(|s| s.dump()))),
            (&Method::POST, "compact") => {
                self.with_store(Store::compact);
                ok(&json!({}))
            }
            (&Method::POST, "reset") => {
                let objects: Result<Vec<Value>, _> =
                    if body.is_empty() { Ok(Vec::new()) } else { serde_json::from_slice(body) };
                match objects.map_err(|e| e.to_string()).and_then(|o| self.reset(o)) {
                    Ok(loaded) => ok(&json!({"loaded": loaded})),
                    Err(e) => error(&ApiError::new(400, "BadRequest", format!("cannot reset: {e}"))),
                }
            }
            _ => error(&ApiError::new(404, "NotFound", format!("no control endpoint {method} /_fake/{what}"))),
        }
    }

    fn serve(
        &self,
        method: &Method,
        route: &Route,
        params: &Params,
        content_type: &str,
        body: &Bytes,
        verb: &str,
    ) -> Response<Body> {
        let (r, namespace, name, status) = match route {
            Route::Discovery(value) => return ok(value),
            Route::NotFound => {
                return error(&ApiError::new(404, "NotFound", "the server could not find the requested resource"));
            }
            Route::Resource { resource, namespace, name, status } => (resource, namespace, name, *status),
        };
        let ns = namespace.as_deref().unwrap_or_default();
        let manager = params.get("fieldManager").unwrap_or_default();
        let named = |f: &dyn Fn(&str) -> Result<Value, ApiError>| match name {
            Some(name) => f(name),
            None => Err(ApiError::new(405, "MethodNotAllowed", format!("{method} needs an object name"))),
        };
        let parse = || -> Result<Value, ApiError> {
            let text = std::str::from_utf8(body).map_err(|e| ApiError::new(400, "BadRequest", e.to_string()))?;
            serde_json::from_str(text)
                .or_else(|_| serde_saphyr::from_str::<Value>(text).map_err(|e| e.to_string()))
                .map_err(|e| ApiError::new(400, "BadRequest", format!("the body is neither JSON nor YAML: {e}")))
        };
        let created = |o: Value| (StatusCode::CREATED, o);
        let fine = |o: Value| (StatusCode::OK, o);
        let result: Result<(StatusCode, Value), ApiError> = match verb {
            "get" => named(&|n| self.with_store(|s| s.get(r, ns, n))).map(fine),
            "list" => self.list(r, namespace.as_deref(), params).map(fine),
            "watch" => return self.watch(r, namespace.clone(), name.clone(), params),
            "create" => parse().and_then(|b| self.with_store(|s| s.create(r, ns, b, manager))).map(created),
            "update" => {
                named(&|n| parse().and_then(|b| self.with_store(|s| s.update(r, ns, n, b, manager, status)))).map(fine)
            }
            "apply" | "patch" => {
                let kind = match verb {
                    "apply" => PatchKind::Apply { force: params.get("force") == Some("true") },
                    _ if content_type.starts_with("application/json-patch+json") => PatchKind::Json,
                    _ => PatchKind::Merge,
                };
                let existed = name.as_deref().is_some_and(|n| self.with_store(|s| s.get(r, ns, n).is_ok()));
                named(&|n| parse().and_then(|b| self.with_store(|s| s.patch(r, ns, n, kind, &b, manager, status))))
                    .map(if existed { fine } else { created })
            }
            "delete" => named(&|n| {
                let options: Value = if body.is_empty() { json!({}) } else { parse()? };
                let uid = options.pointer("/preconditions/uid").and_then(Value::as_str);
                let rv = options.pointer("/preconditions/resourceVersion").and_then(Value::as_str);
                let policy =
                    options.get("propagationPolicy").and_then(Value::as_str).or(params.get("propagationPolicy"));
                let foreground = policy == Some("Foreground");
                self.with_store(|s| s.delete(r, ns, n, uid, rv, foreground))
            })
            .map(fine),
            _ => Err(ApiError::new(405, "MethodNotAllowed", format!("{method} is not supported here"))),
        };
        match result {
            Ok((code, object)) => respond(code, &object),
            Err(e) => error(&e),
        }
    }

    /// A list at the current revision. One asked to be at least as new as a revision this server
    /// has not reached is refused as the real one refuses it (without its three-second wait).
    fn list(&self, r: &Resource, namespace: Option<&str>, params: &Params) -> Result<Value, ApiError> {
        let filter = Selector::from(params);
        let (items, revision) = self.with_store(|s| (s.list(r, namespace, &|o| filter.matches(o)), s.revision()));
        let wanted = params.get("resourceVersion").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        if wanted > revision && params.get("resourceVersionMatch") != Some("Exact") {
            return Err(ApiError::too_large(wanted, revision));
        }
        Ok(json!({
            "apiVersion": r.api_version(),
            "kind": format!("{}List", r.kind),
            "metadata": {"resourceVersion": revision.to_string()},
            "items": items,
        }))
    }

    fn watch(&self, r: &Resource, namespace: Option<String>, name: Option<String>, params: &Params) -> Response<Body> {
        let mut filter = Selector::from(params);
        if let Some(name) = name {
            filter.fields.push(("metadata.name".into(), name, true));
        }
        let since = params.get("resourceVersion").unwrap_or_default().parse::<u64>().unwrap_or(0);
        let timeout = params.get("timeoutSeconds").and_then(|t| t.parse().ok()).unwrap_or(1800u64);
        let r = *r;
        let server = self.clone();
        let mut close = self.shared.close.subscribe();
        let (tx, rx) = mpsc::channel::<Bytes>(256);
        tokio::spawn(async move {
            // A revision this server has not reached may just be early: the real watch cache
            // waits up to three seconds for it before it gives up with an error event.
            let waited = Instant::now();
            let (backlog, mut live) = loop {
                // Subscribing under the same lock as reading the backlog: no event is missed or
                // sent twice.
                let start = server.with_store(|s| {
                    let backlog: Result<Vec<(&'static str, Value)>, ApiError> = if since > 0 {
                        s.events_since(&r, since).map(|events| events.into_iter().map(|e| (e.kind, e.object)).collect())
                    } else {
                        Ok(s.list(&r, None, &|_| true).into_iter().map(|o| ("ADDED", o)).collect())
                    };
                    backlog.map(|b| (b, s.subscribe()))
                });
                match start {
                    Ok(started) => break started,
                    Err(e) if e.code == 504 && waited.elapsed() < TOO_LARGE_WAIT => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(e) => {
                        let _ = tx.send(line("ERROR", &status(&e))).await;
                        return;
                    }
                }
            };
            let backlog = backlog.into_iter().filter(|(_, o)| {
                let ns = o.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default();
                filter.matches(o) && in_namespace(&r, namespace.as_deref(), ns)
            });
            for (kind, object) in backlog {
                if tx.send(line(kind, &object)).await.is_err() {
                    return;
                }
            }
            let deadline = tokio::time::sleep(Duration::from_secs(timeout));
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    _ = &mut deadline => return,
                    _ = close.changed() => return,
                    () = tx.closed() => return,
                    event = live.recv() => match event {
                        Ok(e) if e.key.group == r.group
                            && e.key.plural == r.plural
                            && in_namespace(&r, namespace.as_deref(), &e.key.namespace)
                            && filter.matches(&e.object) =>
                        {
                            if tx.send(line(e.kind, &e.object)).await.is_err() {
                                return;
                            }
                        }
                        Ok(_) => {}
                        Err(_) => return,
                    },
                }
            }
        });
        let stream = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|chunk| (Ok::<_, Infallible>(Frame::data(chunk)), rx))
        });
        let mut response = Response::new(BodyExt::boxed_unsync(StreamBody::new(stream)));
        response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
        response
    }
}

/// Whether an object in `namespace` is in a request's scope (`wanted`: `None` for all namespaces).
fn in_namespace(r: &Resource, wanted: Option<&str>, namespace: &str) -> bool {
    !r.namespaced || wanted.is_none_or(|w| w == namespace)
}

fn line(kind: &str, object: &Value) -> Bytes {
    let mut text = json!({"type": kind, "object": object}).to_string();
    text.push('\n');
    Bytes::from(text)
}

fn reason(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    }
}

fn respond(code: StatusCode, value: &Value) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())).boxed_unsync());
    *response.status_mut() = code;
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    response
}

fn ok(value: &Value) -> Response<Body> {
    respond(StatusCode::OK, value)
}

/// An error as the `Status` object the real server sends, in a response or a watch's ERROR event.
fn status(e: &ApiError) -> Value {
    let mut status = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": e.message, "reason": e.reason, "code": e.code,
    });
    if let (Some(details), Value::Object(map)) = (&e.details, &mut status) {
        map.insert("details".into(), details.clone());
    }
    status
}

fn error(e: &ApiError) -> Response<Body> {
    respond(StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), &status(e))
}

/// How long a watch from a revision not yet reached waits for it (the watch cache's
/// `blockTimeout`).
const TOO_LARGE_WAIT: Duration = Duration::from_secs(3);

/// Where a request goes.
#[derive(Clone, Debug)]
enum Route {
    Discovery(Value),
    Resource { resource: Resource, namespace: Option<String>, name: Option<String>, status: bool },
    NotFound,
}

fn verb(method: &Method, route: &Route, params: &Params, content_type: &str) -> &'static str {
    let Route::Resource { name, .. } = route else { return "discovery" };
    match *method {
        Method::GET if name.is_some() => "get",
        Method::GET if matches!(params.get("watch"), Some("true" | "1")) => "watch",
        Method::GET => "list",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH if content_type.starts_with("application/apply-patch") => "apply",
        Method::PATCH => "patch",
        Method::DELETE => "delete",
        _ => "unknown",
    }
}

fn route(path: &str) -> Route {
    let segments: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let (group, version, rest) = match segments.as_slice() {
        ["api"] => {
            return Route::Discovery(
                json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}),
            );
        }
        ["apis"] => return Route::Discovery(group_list()),
        ["version"] => {
            return Route::Discovery(
                json!({"major": "1", "minor": "33", "gitVersion": "v1.33.0-fake", "platform": "linux/amd64"}),
            );
        }
        ["healthz" | "readyz" | "livez"] => return Route::Discovery(json!("ok")),
        ["api", "v1"] => return Route::Discovery(resource_list("", "v1")),
        ["apis", group] => {
            return match group_list()
                .get("groups")
                .and_then(Value::as_array)
                .and_then(|g| g.iter().find(|g| g.get("name") == Some(&json!(group))).cloned())
            {
                Some(g) => Route::Discovery(g),
                None => Route::NotFound,
            };
        }
        ["apis", group, version] => return Route::Discovery(resource_list(group, version)),
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Route::NotFound,
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, plural, tail @ ..] => (Some((*ns).to_owned()), [&[*plural][..], tail].concat()),
        other => (None, other.to_vec()),
    };
    let Some(resource) = rest.first().and_then(|plural| resources::by_plural(group, version, plural)) else {
        return Route::NotFound;
    };
    match rest.as_slice() {
        [_] => Route::Resource { resource, namespace, name: None, status: false },
        [_, name] => Route::Resource { resource, namespace, name: Some((*name).to_owned()), status: false },
        [_, name, "status"] => Route::Resource { resource, namespace, name: Some((*name).to_owned()), status: true },
        _ => Route::NotFound,
    }
}

fn group_list() -> Value {
    let groups: Vec<Value> = resources::groups()
        .into_iter()
        .map(|(group, versions)| {
            let versions: Vec<Value> =
                versions.iter().map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v})).collect();
            json!({"name": group, "versions": versions, "preferredVersion": versions.first()})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn resource_list(group: &str, version: &str) -> Value {
    let verbs = ["create", "delete", "get", "list", "patch", "update", "watch"];
    let mut list = Vec::new();
    for r in resources::all().filter(|r| r.group == group && r.version == version) {
        list.push(json!({"name": r.plural, "singularName": r.kind.to_lowercase(), "namespaced": r.namespaced, "kind": r.kind, "verbs": verbs}));
        if r.status_subresource {
            list.push(json!({"name": format!("{}/status", r.plural), "singularName": "", "namespaced": r.namespaced, "kind": r.kind, "verbs": ["get", "patch", "update"]}));
        }
    }
    let group_version = if group.is_empty() { version.to_owned() } else { format!("{group}/{version}") };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": list})
}

/// Query parameters.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(query: &str) -> Self {
        Self(
            query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                match bytes.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b),
                }
            }
            b'+' => out.push(b' '),
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Label and field selectors: `k=v`, `k==v`, `k!=v`, `k`, `!k`; fields `metadata.name`,
/// `metadata.namespace`.
#[derive(Clone, Debug, Default)]
struct Selector {
    labels: Vec<(String, Option<String>, bool)>,
    fields: Vec<(String, String, bool)>,
}

impl Selector {
    fn from(params: &Params) -> Self {
        let mut selector = Self::default();
        for term in params.get("labelSelector").unwrap_or_default().split(',').filter(|t| !t.is_empty()) {
            selector.labels.push(match term.split_once("!=") {
                Some((k, v)) => (k.trim().into(), Some(v.trim().into()), false),
                None => match term.split_once('=') {
                    Some((k, v)) => (k.trim().into(), Some(v.trim_start_matches('=').trim().into()), true),
                    None => match term.strip_prefix('!') {
                        Some(k) => (k.trim().into(), None, false),
                        None => (term.trim().into(), None, true),
                    },
                },
            });
        }
        for term in params.get("fieldSelector").unwrap_or_default().split(',').filter(|t| !t.is_empty()) {
            let (k, v, eq) = match term.split_once("!=") {
                Some((k, v)) => (k, v, false),
                None => match term.split_once('=') {
                    Some((k, v)) => (k, v.trim_start_matches('='), true),
                    None => continue,
                },
            };
            selector.fields.push((k.trim().into(), v.trim().into(), eq));
        }
        selector
    }

    fn matches(&self, object: &Value) -> bool {
        let labels = object.pointer("/metadata/labels");
        let label_ok = self.labels.iter().all(|(key, value, eq)| {
            let have = labels.and_then(|l| l.get(key)).and_then(Value::as_str);
            match value {
                Some(v) => (have == Some(v.as_str())) == *eq,
                None => have.is_some() == *eq,
            }
        });
        let field_ok = self.fields.iter().all(|(key, value, eq)| {
            let pointer = format!("/{}", key.replace('.', "/"));
            let have = object.pointer(&pointer).and_then(Value::as_str).unwrap_or_default();
            (have == value) == *eq
        });
        label_ok && field_ok
    }
}

impl<B> tower::Service<Request<B>> for FakeApiServer
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: std::fmt::Display,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let server = self.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let bytes = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(e) => return Ok(error(&ApiError::new(400, "BadRequest", format!("unreadable body: {e}")))),
            };
            Ok(server.handle(Request::from_parts(parts, bytes)).await)
        })
    }
}
