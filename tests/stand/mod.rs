//! The cloud test stand as the tests see it: the moto that `scripts/test` started (a test that
//! needs it fails when the test command asked for emulators and it is missing), unique bucket
//! names, the test's own S3 client to set up and check moto, and a recording proxy in front of
//! moto (optionally over TLS with a CA made here) that logs every request line and the access
//! key each request was signed with.
#![allow(dead_code)]

pub mod arm_double;
pub mod ibm_double;
pub mod keystone_double;
pub mod resource_manager_double;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// One request as a test double sees it, read whole.
pub struct DoubleRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, still percent-encoded.
    pub path: String,
    /// The query, without `?`.
    pub query: String,
    /// The `Authorization` header (empty when absent).
    pub authorization: String,
    /// The body.
    pub body: Bytes,
}

/// Binds 127.0.0.1:`port` (0: any free one): the listener and its `http://` endpoint.
pub async fn bind(port: u16) -> (TcpListener, String) {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    (listener, endpoint)
}

/// Serves a test double over HTTP/1 on `listener` until the test ends: each request, read
/// whole, is answered by `answer` (which locks the double's model).
pub fn serve(
    listener: TcpListener,
    answer: impl Fn(DoubleRequest) -> http::Response<Full<Bytes>> + Send + Sync + 'static,
) {
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let answer = answer.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let answer = answer.clone();
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        let header = parts.headers.get("authorization").and_then(|v| v.to_str().ok());
                        let request = DoubleRequest {
                            method: parts.method.to_string(),
                            path: parts.uri.path().to_owned(),
                            query: parts.uri.query().unwrap_or_default().to_owned(),
                            authorization: header.unwrap_or_default().to_owned(),
                            body,
                        };
                        Ok::<_, std::convert::Infallible>(answer(request))
                    }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
}

/// The endpoint the test command exported in `var`, or `None` (with a notice naming `what`)
/// when it did not start emulators; when it asked for them
/// (`IMAGE_REGISTRY_EMULATORS=required`), a missing one is a failure.
pub fn emulator(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(endpoint) if !endpoint.is_empty() => Some(endpoint),
        _ => {
            assert!(
                std::env::var("IMAGE_REGISTRY_EMULATORS").as_deref() != Ok("required"),
                "the test command asked for emulators but {var} is not set"
            );
            eprintln!("{what} is not running (run scripts/test): skipping");
            None
        }
    }
}

/// azurite's blob endpoint (accounts in the path), or `None` (with a notice) when the test
/// command did not start emulators; when it asked for them, a missing azurite is a failure.
pub fn azurite() -> Option<String> {
    emulator("AZURITE_BLOB_ENDPOINT", "azurite")
}

/// An azurite of the test's own on `port`, knowing `accounts` (`name:key;...`), stopped when
/// dropped: the operator names its storage accounts itself, and azurite serves only accounts it
/// was started with.
pub struct OwnAzurite(std::process::Child);

impl OwnAzurite {
    /// Starts `$AZURITE_COMMAND` on 127.0.0.1:`port` and waits until it listens.
    pub async fn start(port: u16, accounts: &str) -> Self {
        Self::start_with(port, accounts, &[]).await
    }

    /// As [`Self::start`], with more of azurite's arguments (`--cert`, `--oauth basic`, ...).
    pub async fn start_with(port: u16, accounts: &str, args: &[&str]) -> Self {
        let command = std::env::var("AZURITE_COMMAND").expect("scripts/test names azurite-blob in AZURITE_COMMAND");
        let child = std::process::Command::new(command)
            .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
            .args(["--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--disableTelemetry"])
            .args(args)
            .env("AZURITE_ACCOUNTS", accounts)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(started.elapsed() < std::time::Duration::from_secs(30), "azurite did not come up on {port}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Self(child)
    }
}

impl Drop for OwnAzurite {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// moto's endpoint, or `None` (with a notice) when the test command did not start emulators.
/// When it asked for them (`IMAGE_REGISTRY_EMULATORS=required`), a missing moto is a failure.
pub fn moto() -> Option<String> {
    emulator("MOTO_ENDPOINT", "moto")
}

/// A moto of the test's own on `port` (for outages and authentication), stopped when dropped.
pub struct OwnMoto(std::process::Child);

impl OwnMoto {
    /// Starts `$MOTO_SERVER` on 127.0.0.1:`port` with `env`, and waits until it answers.
    pub async fn start(port: u16, env: &[(&str, &str)]) -> Self {
        let server = std::env::var("MOTO_SERVER").expect("scripts/test names moto_server in MOTO_SERVER");
        let child = std::process::Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let moto = Self(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return moto;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("moto did not come up on port {port}");
    }
}

impl Drop for OwnMoto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port nothing listens on (yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A form POST to `service` whose signature is not checked (moto lets its first requests through
/// unauthenticated; the credential scope only names the service); the answer's body.
pub async fn post_form(endpoint: &str, service: &str, form: &str) -> String {
    let client: HttpClient<_, Full<Bytes>> = HttpClient::builder(TokioExecutor::new()).build_http();
    let scope = format!(
        "AWS4-HMAC-SHA256 Credential=AKIASTANDSETUP000001/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00"
    );
    let request = http::Request::post(format!("{endpoint}/"))
        .header("authorization", scope)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(form.to_owned())))
        .unwrap();
    let answer = client.request(request).await.unwrap();
    String::from_utf8(answer.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

/// The GCS emulator's base URL, as `moto` does for S3.
pub fn gcs_emulator() -> Option<String> {
    emulator("GCS_EMULATOR_ENDPOINT", "gcp-storage-emulator")
}

/// One plain HTTP request (the test's own set-up and checks): a body that is a JSON object is
/// sent as JSON, any other as bytes. The status and the body.
pub async fn http(method: &str, url: &str, body: &str) -> (u16, String) {
    let client: HttpClient<_, Full<Bytes>> = HttpClient::builder(TokioExecutor::new()).build_http();
    let mut request = http::Request::builder().method(method).uri(url);
    if !body.is_empty() {
        let json = body.starts_with('{');
        request = request.header("content-type", if json { "application/json" } else { "application/octet-stream" });
    }
    let answer = client.request(request.body(Full::new(Bytes::from(body.to_owned()))).unwrap()).await.unwrap();
    let status = answer.status().as_u16();
    (status, String::from_utf8(answer.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap())
}

/// The text of the first `<tag>` in `xml`.
pub fn xml_text(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    xml.split(&open).nth(1).and_then(|rest| rest.split(&format!("</{tag}>")).next()).unwrap_or_default().to_owned()
}

/// A bucket name no other test (or earlier run against the same moto) uses.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{prefix}-{}-{nanos:x}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The test's own S3 client (moto's default account), path style.
pub fn s3(endpoint: &str, region: &str) -> aws_sdk_s3::Client {
    s3_as(endpoint, region, "AKIATESTSTANDKEY0001")
}

/// An S3 client signing with `access_key`.
pub fn s3_as(endpoint: &str, region: &str, access_key: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(Credentials::new(access_key, "test-stand-secret", None, None, "stand"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// One request that went through the proxy.
#[derive(Clone, Debug)]
pub struct Logged {
    /// `GET`, `PUT`, ...
    pub method: String,
    /// Path and query.
    pub target: String,
    /// The access key ID the request was signed with.
    pub access_key: String,
}

impl Logged {
    /// Whether the request changes anything in S3.
    pub fn mutates(&self) -> bool {
        !matches!(self.method.as_str(), "GET" | "HEAD")
    }
}

/// A recording proxy in front of an HTTP endpoint: a reverse proxy, and a forward proxy too
/// (whatever host a request names, it goes to the upstream).
#[derive(Clone)]
pub struct Recorder {
    /// Where clients connect.
    pub endpoint: String,
    log: Arc<Mutex<Vec<Logged>>>,
}

impl Recorder {
    /// Everything seen so far.
    pub fn log(&self) -> Vec<Logged> {
        self.log.lock().unwrap().clone()
    }
}

/// The requests among `log` that change something, as `METHOD target`.
pub fn mutations(log: &[Logged]) -> Vec<String> {
    log.iter().filter(|l| l.mutates()).map(|l| format!("{} {}", l.method, l.target)).collect()
}

/// Starts a recording proxy to `upstream`; with `tls`, it serves HTTPS with that config.
pub async fn recorder(upstream: &str, tls: Option<Arc<rustls::ServerConfig>>) -> Recorder {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let scheme = if tls.is_some() { "https" } else { "http" };
    let recorder = Recorder { endpoint: format!("{scheme}://127.0.0.1:{}", address.port()), log: log.clone() };
    let upstream = upstream.trim_end_matches('/').to_owned();
    let client: HttpClient<_, Full<Bytes>> = HttpClient::builder(TokioExecutor::new()).build_http();
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let (log, client, upstream, acceptor) = (log.clone(), client.clone(), upstream.clone(), acceptor.clone());
            tokio::spawn(async move {
                let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let (log, client, upstream) = (log.clone(), client.clone(), upstream.clone());
                    async move {
                        let (mut parts, body) = request.into_parts();
                        let target = parts.uri.path_and_query().map_or("/".to_owned(), |p| p.to_string());
                        let access_key = parts
                            .headers
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.split("Credential=").nth(1))
                            .and_then(|v| v.split('/').next())
                            .unwrap_or_default()
                            .to_owned();
                        log.lock().unwrap().push(Logged {
                            method: parts.method.to_string(),
                            target: target.clone(),
                            access_key,
                        });
                        let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        parts.uri = format!("{upstream}{target}").parse().unwrap();
                        // As a forward proxy it gets the cloud's host name; moto routes by host.
                        let authority = parts.uri.authority().map(|a| a.to_string()).unwrap_or_default();
                        parts.headers.insert(http::header::HOST, authority.parse().unwrap());
                        let answer = client.request(http::Request::from_parts(parts, Full::new(body))).await;
                        let answer = match answer {
                            Ok(answer) => {
                                let (parts, body) = answer.into_parts();
                                let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                                http::Response::from_parts(parts, Full::new(body))
                            }
                            Err(_) => http::Response::builder().status(502).body(Full::new(Bytes::new())).unwrap(),
                        };
                        Ok::<_, std::convert::Infallible>(answer)
                    }
                });
                let builder = hyper::server::conn::http1::Builder::new();
                match acceptor {
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(stream).await {
                            let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                    None => {
                        let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                    }
                }
            });
        }
    });
    recorder
}

/// A CA, and a server config for 127.0.0.1 signed by it: `(CA PEM, server config)`.
pub fn tls_for_localhost() -> (String, Arc<rustls::ServerConfig>) {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let certs = LocalhostCertificates::new();
    let key = rustls::pki_types::PrivateKeyDer::try_from(certs.leaf_key.serialize_der()).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![certs.leaf.der().clone(), certs.ca.der().clone()], key)
        .unwrap();
    (certs.ca.pem(), Arc::new(config))
}

/// A CA, and a certificate for 127.0.0.1 signed by it and its key written as PEM files in
/// `dir` (for a server of another process): `(CA PEM, certificate file, key file)`.
pub fn tls_files_for_localhost(dir: &std::path::Path) -> (String, String, String) {
    let certs = LocalhostCertificates::new();
    std::fs::create_dir_all(dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, certs.leaf.pem() + &certs.ca.pem()).unwrap();
    std::fs::write(&key, certs.leaf_key.serialize_pem()).unwrap();
    (certs.ca.pem(), cert.display().to_string(), key.display().to_string())
}

struct LocalhostCertificates {
    ca: rcgen::Certificate,
    leaf: rcgen::Certificate,
    leaf_key: rcgen::KeyPair,
}

impl LocalhostCertificates {
    fn new() -> Self {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, "image-registry test stand CA");
        let ca = params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(params, ca_key);
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let mut leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        leaf.distinguished_name.push(rcgen::DnType::CommonName, "127.0.0.1");
        let leaf = leaf.signed_by(&leaf_key, &issuer).unwrap();
        Self { ca, leaf, leaf_key }
    }
}

/// Every cloud call counted in `calls` is one `table` (a client's permissions table) knows, so
/// the CredentialsRequest derived from the table covers what the client really called; returns
/// how many distinct calls were seen.
pub fn assert_permitted(
    calls: &image_registry_operator::cloud::calls::CallCounter,
    table: &[(&str, &[&str])],
) -> usize {
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register("calls", "", calls.family());
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    let called: std::collections::BTreeSet<&str> =
        text.split("call=\"").skip(1).filter_map(|rest| rest.split('"').next()).collect();
    for call in &called {
        assert!(
            table.iter().any(|(known, _)| known == call),
            "{call} is called but has no permissions in permissions.rs"
        );
    }
    called.len()
}
