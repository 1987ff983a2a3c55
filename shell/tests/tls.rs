//! The metrics endpoint over TLS (spec 40 §7.3): a certificate minted with openssl, scraped with
//! curl; a TLS 1.3 minimum refuses a TLS 1.2-only client; a rotated certificate is picked up.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use image_registry_operator::metrics::{self, Metrics};
use image_registry_operator::tls::{MinVersion, Reloading, TlsFiles};

fn mint(dir: &Path, name: &str) {
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args(["-subj", &format!("/CN={name}"), "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(dir.join("tls.key"))
        .arg("-out")
        .arg(dir.join("tls.crt"))
        .output()
        .expect("openssl is on the machine image");
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
}

async fn curl(dir: &Path, port: u16, extra: &[&str]) -> std::process::Output {
    let dir = dir.to_owned();
    let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new("curl")
            .args(["-sS", "--max-time", "5", "--cacert"])
            .arg(dir.join("tls.crt"))
            .args(&extra)
            .arg(format!("https://localhost:{port}/metrics"))
            .output()
            .expect("curl is on the machine image")
    })
    .await
    .unwrap()
}

async fn serve(dir: &Path, min_version: MinVersion) -> u16 {
    let files = TlsFiles { cert: dir.join("tls.crt"), key: dir.join("tls.key"), min_version };
    let tls = Arc::new(Reloading::new(files).unwrap());
    let listener = metrics::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(metrics::serve(Arc::new(Metrics::new()), listener, Some(tls)));
    port
}

#[tokio::test]
async fn metrics_over_tls_with_a_minimum_version_and_rotation() {
    let dir = std::env::temp_dir().join(format!("operator-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    mint(&dir, "first");
    let port = serve(&dir, MinVersion::Tls12).await;
    let out = curl(&dir, port, &[]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("image_registry_operator_leader"));

    let strict = serve(&dir, MinVersion::Tls13).await;
    assert!(curl(&dir, strict, &["--tlsv1.3"]).await.status.success());
    assert!(!curl(&dir, strict, &["--tlsv1.2", "--tls-max", "1.2"]).await.status.success(), "TLS 1.2 refused");

    // service-ca rotates the certificate: the next connection uses the new one (curl now trusts
    // only the new certificate, so success proves the reload).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    mint(&dir, "second");
    let out = curl(&dir, port, &[]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        Reloading::new(TlsFiles {
            cert: dir.join("missing"),
            key: dir.join("tls.key"),
            min_version: MinVersion::Tls12
        })
        .is_err()
    );
    std::fs::remove_dir_all(&dir).ok();
}
