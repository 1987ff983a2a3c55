//! A test double of the Cloud Resource Manager v3 tag-binding API (no emulator exists): the
//! effective tags of a parent, one per page so paging is exercised; `tagBindings.create`
//! answering a long-running operation that is done on its first poll, 409 when the value is
//! bound already, and 429 while `throttle` is set. Every request is logged.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use serde_json::{Value, json};

/// What the double holds.
#[derive(Default)]
pub struct Model {
    /// Parent → bound tag values (`<parentID>/<key>/<value>`).
    pub bindings: BTreeMap<String, BTreeSet<String>>,
    /// Operations created and not yet polled.
    pub pending: BTreeSet<String>,
    /// Answer 429 to every create.
    pub throttle: bool,
    /// `METHOD path?query`, in order.
    pub log: Vec<String>,
}

/// A running double.
pub struct ResourceManager {
    /// Its base URL.
    pub endpoint: String,
    /// Its state.
    pub model: Arc<Mutex<Model>>,
}

fn answer(status: u16, body: Value) -> http::Response<Full<Bytes>> {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

fn query(target: &str, name: &str) -> Option<String> {
    let query = target.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned())
    })
}

/// Answers one request (also called directly by the double's own test).
pub fn handle(model: &mut Model, method: &str, target: &str, body: &Value) -> http::Response<Full<Bytes>> {
    model.log.push(format!("{method} {target}"));
    let path = target.split('?').next().unwrap_or_default();
    match (method, path) {
        ("GET", "/v3/effectiveTags") => {
            let parent = query(target, "parent").unwrap_or_default();
            let bound: Vec<&String> = model.bindings.get(&parent).map(|b| b.iter().collect()).unwrap_or_default();
            let at: usize = query(target, "pageToken").and_then(|t| t.parse().ok()).unwrap_or(0);
            let page: Vec<Value> = bound
                .get(at)
                .map(|v| json!({"namespacedTagValue": v, "tagValue": "tagValues/1"}))
                .into_iter()
                .collect();
            let mut out = json!({ "effectiveTags": page });
            if at + 1 < bound.len() {
                out["nextPageToken"] = json!((at + 1).to_string());
            }
            answer(200, out)
        }
        ("POST", "/v3/tagBindings") => {
            if model.throttle {
                return answer(
                    429,
                    json!({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}),
                );
            }
            let parent = body["parent"].as_str().unwrap_or_default().to_owned();
            let value = body["tagValueNamespacedName"].as_str().unwrap_or_default().to_owned();
            if !model.bindings.entry(parent).or_default().insert(value) {
                return answer(
                    409,
                    json!({"error": {"code": 409, "message": "already bound", "status": "ALREADY_EXISTS"}}),
                );
            }
            let name = format!("operations/rctb.{}", model.log.len());
            model.pending.insert(name.clone());
            answer(200, json!({"name": name, "done": false}))
        }
        ("GET", operation) if operation.starts_with("/v3/operations/") => {
            let name = operation.trim_start_matches("/v3/").to_owned();
            model.pending.remove(&name);
            answer(200, json!({"name": name, "done": true, "response": {}}))
        }
        _ => answer(404, json!({"error": {"code": 404, "message": "not modelled"}})),
    }
}

/// Starts the double on 127.0.0.1.
pub async fn start() -> ResourceManager {
    let (listener, endpoint) = super::bind(0).await;
    let model = Arc::new(Mutex::new(Model::default()));
    let shared = model.clone();
    super::serve(listener, move |r| {
        let target = if r.query.is_empty() { r.path.clone() } else { format!("{}?{}", r.path, r.query) };
        let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        handle(&mut shared.lock().unwrap(), &r.method, &target, &body)
    });
    ResourceManager { endpoint, model }
}
