//! GCP resource tags on a bucket (spec 30 §5.5), through the Cloud Resource Manager v3 API at
//! the bucket's regional endpoint, with the storage client's token: the effective tags are
//! listed (only when the cluster asks for tags), and a missing binding is created, its
//! long-running operation followed to the end. A binding that exists already (409) is done.
//! Hand-written (two calls and an operation poll on the storage client's HTTP stack and token)
//! because Google's Resource Manager crate brings its own transport and credentials stack for
//! what is three requests here.

use crate::cloud::CloudError;
use std::time::Duration;

use http::Method;
use image_registry_core::outcome::ErrorClass;
use serde_json::{Value, json};

use super::client::{GcsClient, segment};

/// How long a binding's long-running operation is followed before the pass gives up on it (the
/// next pass lists the tags again and binds what is still missing).
const OPERATION_WAIT: Duration = Duration::from_secs(30);

/// The Resource Manager endpoint for buckets in `location`, or the test stand's.
pub fn endpoint(location: &str, test_endpoint: Option<&str>) -> String {
    match test_endpoint {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("https://{}-cloudresourcemanager.googleapis.com", location.to_lowercase()),
    }
}

fn parent(bucket: &str) -> String {
    format!("//storage.googleapis.com/projects/_/buckets/{bucket}")
}

/// The tag values in effect on `bucket`, as `<parentID>/<key>/<value>`, every page.
pub async fn effective(client: &GcsClient, base: &str, bucket: &str) -> Result<Vec<String>, CloudError> {
    let mut tags = Vec::new();
    let mut page: Option<String> = None;
    loop {
        let mut url = format!("{base}/v3/effectiveTags?parent={}&pageSize=300", segment(&parent(bucket)));
        if let Some(token) = &page {
            url.push_str(&format!("&pageToken={}", segment(token)));
        }
        let body = client.send_to("effectiveTags.list", Method::GET, &url, None).await?;
        let listed = body.get("effectiveTags").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        tags.extend(listed.iter().filter_map(|t| t.get("namespacedTagValue")?.as_str().map(str::to_owned)));
        match body.get("nextPageToken").and_then(Value::as_str).filter(|t| !t.is_empty()) {
            Some(token) => page = Some(token.to_owned()),
            None => return Ok(tags),
        }
    }
}

/// Binds the tag value `<parentID>/<key>/<value>` to `bucket` and waits for the operation.
pub async fn bind(client: &GcsClient, base: &str, bucket: &str, tag: &str) -> Result<(), CloudError> {
    let body = json!({"parent": parent(bucket), "tagValueNamespacedName": tag});
    let mut operation =
        match client.send_to("tagBindings.create", Method::POST, &format!("{base}/v3/tagBindings"), Some(body)).await {
            Ok(operation) => operation,
            Err(e) if e.status == Some(409) => return Ok(()),
            Err(e) => return Err(e),
        };
    let started = std::time::Instant::now();
    let mut wait = Duration::from_millis(250);
    loop {
        if operation.get("done").and_then(Value::as_bool) == Some(true) {
            return match operation.get("error") {
                // google.rpc.Code 6 is ALREADY_EXISTS: bound meanwhile.
                Some(error) if error.get("code").and_then(Value::as_i64) != Some(6) => Err(CloudError {
                    status: None,
                    code: String::new(),
                    class: ErrorClass::Other,
                    message: format!(
                        "tagBindings.create: binding {tag}: {}",
                        error.get("message").and_then(Value::as_str).unwrap_or("the operation failed")
                    ),
                }),
                _ => Ok(()),
            };
        }
        let Some(name) = operation.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()) else {
            // An answer that is not an operation: the binding itself, created.
            return Ok(());
        };
        if started.elapsed() > OPERATION_WAIT {
            return Err(CloudError {
                status: None,
                code: String::new(),
                class: ErrorClass::Timeout,
                message: format!(
                    "tagBindings.create: binding {tag}: operation {name} not done after {OPERATION_WAIT:?}"
                ),
            });
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(5));
        operation = client.send_to("operations.get", Method::GET, &format!("{base}/v3/{name}"), None).await?;
    }
}
