//! Serving the fake over HTTP on 127.0.0.1, loading a fixture into it, and writing a
//! kubeconfig that points kubectl or the operator at it.

use std::net::SocketAddr;
use std::path::Path;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::http::FakeApiServer;

/// Loads the Kubernetes objects of a fixture file (its Scenario document is the operator's
/// business, not the API server's).
pub fn load_fixture(server: &FakeApiServer, path: &Path) -> Result<usize, String> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let fixture = image_registry_core::fixture::parse(&name, &text).map_err(|e| e.to_string())?;
    let objects: Vec<serde_json::Value> = fixture.observed.objects.iter().map(|(_, v)| v.clone()).collect();
    server.with_store(|s| s.load(objects)).map_err(|e| format!("{name}: {e}"))
}

/// A kubeconfig for a fake listening at `address` (plain HTTP, no credentials).
pub fn kubeconfig(address: SocketAddr) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: http://{address}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: openshift-image-registry\ncurrent-context: fake\nusers:\n- name: fake\n  user: {{}}\n"
    )
}

/// Writes [`kubeconfig`] to `path`.
pub fn write_kubeconfig(address: SocketAddr, path: &Path) -> Result<(), String> {
    std::fs::write(path, kubeconfig(address)).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Binds 127.0.0.1:`port` (0: any free port).
pub async fn bind(port: u16) -> Result<TcpListener, String> {
    TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))
}

/// Serves connections until the task is dropped.
pub async fn serve(server: FakeApiServer, listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let service = TowerToHyperService::new(server.clone());
        tokio::spawn(async move {
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// Starts serving in the background on a free port; returns the address.
pub async fn spawn(server: FakeApiServer) -> Result<SocketAddr, String> {
    let listener = bind(0).await?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(serve(server, listener));
    Ok(address)
}
