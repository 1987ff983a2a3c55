//! The operator's image in a pod's shoes: the image `scripts/image` built (named by
//! `SHIPPED_IMAGE` in buildah's store `SHIPPED_IMAGE_STORE`; `scripts/test` builds it with the
//! debug binary, the same layout as a release), run by `buildah run` (host network, chroot
//! isolation) as its non-root user, with only what a pod has: `KUBERNETES_SERVICE_HOST/PORT`
//! and the service account's token, CA and namespace mounted at
//! `/var/run/secrets/kubernetes.io/serviceaccount/`. The API server is the fake over HTTPS,
//! loaded with `manifests/` (the release's RBAC included, which it enforces) and a cluster.
//! `run --in-cluster` converges with no refused request; a rule taken out of the operator's Role
//! is named in Progressing at once and in Degraded after the documented inertia, and once the
//! rule is back the operator recovers within half a minute. `node-ca-sync` runs from the same
//! image against a mounted CA folder.
//!
//! The pod's clock runs [`SPEED`] times faster than the test's (libfaketime, preloaded from the
//! host: `FAKETIME_LIBRARY`, which `scripts/test` installs): the operator's five minutes of
//! inertia, its lease, backoff and requeue timers all pass on its own clock as they would in a
//! cluster, while the test waits half a minute. The binary is the shipped one, unchanged.

use crate::cluster;
use crate::shipped;
use crate::stand;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cluster::{NS, dynamic, object};
use fake_apiserver::{FakeApiServer, serve};
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::{Value, json};
use shipped::{available, condition};

const OPERATOR_SA: &str = "cluster-image-registry-operator";
const OPERATOR_USER: &str = "system:serviceaccount:openshift-image-registry:cluster-image-registry-operator";

/// How much faster the operator's clock runs than the test's.
const SPEED: u32 = 10;

/// The host's libfaketime, mounted into the pod and preloaded with `FAKETIME="+0 x{SPEED}"`.
fn faketime() -> Option<PathBuf> {
    stand::emulator("FAKETIME_LIBRARY", "libfaketime").map(PathBuf::from)
}

/// The image and the buildah store it is in, or `None` (with a notice) when the test command
/// did not build it; when it asked for its stand, a missing one is a failure.
fn image() -> Option<(String, PathBuf)> {
    let image = stand::emulator("SHIPPED_IMAGE", "the operator's image")?;
    let store = stand::emulator("SHIPPED_IMAGE_STORE", "the image's buildah store")?;
    Some((image, PathBuf::from(store)))
}

/// buildah on the store `scripts/image` wrote.
fn buildah(store: &Path) -> Command {
    let mut command = Command::new("buildah");
    command
        .arg("--root")
        .arg(store.join("storage"))
        .arg("--runroot")
        .arg(store.join("run"))
        .args(["--storage-driver", "vfs"])
        .env("BUILDAH_ISOLATION", "chroot");
    command
}

/// A working container of the image, removed when dropped, and the process running in it.
struct Pod {
    store: PathBuf,
    container: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Pod {
    /// A container of `image`; nothing runs yet.
    fn new(image: &str, store: &Path, name: &str) -> Self {
        let out = buildah(store).args(["from", "--pull-never", "--name", name, image]).output().unwrap();
        assert!(out.status.success(), "buildah from: {}", String::from_utf8_lossy(&out.stderr));
        let container = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        let log = std::env::temp_dir().join(format!("{name}.log"));
        Self { store: store.to_owned(), container, child: None, log }
    }

    /// Runs `args` in the container as the image's user, with `mounts` (host, container,
    /// options) and `env`, the way the kubelet would start the pod's container.
    fn start(&mut self, mounts: &[(&Path, &str, &str)], env: &[(&str, String)], args: &[&str]) {
        let mut command = buildah(&self.store);
        command.args(["run", "--isolation", "chroot", "--network", "host", "--user", "65532:65532"]);
        for (host, path, options) in mounts {
            command.arg("-v").arg(format!("{}:{path}:{options}", host.display()));
        }
        for (key, value) in env {
            command.arg("--env").arg(format!("{key}={value}"));
        }
        command.arg(&self.container).arg("--").args(args);
        let file = std::fs::File::create(&self.log).unwrap();
        self.child = Some(command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(file).spawn().unwrap());
    }

    /// SIGTERM to the container's process, as the kubelet stops a pod (buildah itself would
    /// answer a SIGTERM by killing it); the exit status, if it ended within `limit`.
    async fn terminate(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let child = self.child.as_mut()?;
        let process = operator_process(child.id()).unwrap_or(child.id());
        let _ = Command::new("kill").args(["-TERM", &process.to_string()]).status();
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }
}

/// The operator's process among the descendants of `root` (buildah's), found through /proc.
fn operator_process(root: u32) -> Option<u32> {
    let parent_of = |pid: u32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // `pid (comm) state ppid ...`: the name may hold spaces, so read after the last ')'.
        stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
    };
    let descends = |mut pid: u32| {
        while let Some(parent) = parent_of(pid) {
            if parent == root {
                return true;
            }
            if parent <= 1 {
                return false;
            }
            pid = parent;
        }
        false
    };
    std::fs::read_dir("/proc").ok()?.filter_map(Result::ok).find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
        let name = exe.file_name()?.to_str()?.to_owned();
        (name == "cluster-image-registry-operator" && descends(pid)).then_some(pid)
    })
}

impl Drop for Pod {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut()
            && matches!(child.try_wait(), Ok(None))
        {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            let started = Instant::now();
            while child.try_wait().ok().flatten().is_none() && started.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = buildah(&self.store).args(["rm", &self.container]).output();
    }
}

async fn wait_for(what: &str, pod: &Pod, limit: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() <= limit,
            "timed out after {limit:?} waiting for {what}; the operator's last log lines:\n{}",
            pod.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    started.elapsed()
}

/// A folder for a pod's mount, readable (and, when `writable`, writable) by the image's user.
fn folder(name: &str, writable: bool) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mode = if writable { "1777" } else { "755" };
    assert!(Command::new("chmod").args([mode, &dir.display().to_string()]).status().unwrap().success());
    dir
}

fn write_readable(dir: &Path, file: &str, content: &str) {
    let path = dir.join(file);
    std::fs::write(&path, content).unwrap();
    assert!(Command::new("chmod").args(["644", &path.display().to_string()]).status().unwrap().success());
}

/// The operator's requests the fake refused (401 or 403), as `verb path -> code`.
fn refused(fake: &FakeApiServer) -> Vec<String> {
    fake.requests()
        .into_iter()
        .filter(|e| e.user == OPERATOR_USER && (e.code == 401 || e.code == 403))
        .map(|e| format!("{} {} -> {}", e.verb, e.path, e.code))
        .collect()
}

fn condition_says(fake: &FakeApiServer, kind: &str, type_: &str, status: &str, text: &str) -> bool {
    condition(fake, kind, type_)
        .is_some_and(|c| c["status"] == status && c["message"].as_str().is_some_and(|m| m.contains(text)))
}

/// The operator's Role with the `networking.k8s.io` rule left out (`without`) or back.
async fn set_role_rules(fake: &FakeApiServer, without: Option<&str>) {
    let manifests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifests/02-rbac.yaml");
    let text = std::fs::read_to_string(&manifests).unwrap();
    let docs = image_registry_core::fixture::documents("02-rbac.yaml", &text).unwrap();
    let role = docs.into_iter().find(|d| d.value["kind"] == "Role").unwrap().value;
    let rules: Vec<Value> = role["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| without.is_none_or(|group| r["apiGroups"][0] != group))
        .cloned()
        .collect();
    let roles = dynamic(fake, "rbac.authorization.k8s.io", "Role", "roles", Some(NS));
    let patch = json!({"rules": rules});
    roles.patch(OPERATOR_SA, &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_image_runs_in_cluster_under_the_release_rbac_and_names_a_forbidden_write() {
    let Some((image, store)) = image() else { return };
    let Some(faketime) = faketime() else { return };
    // The cluster: the release's manifests as the cluster-version operator applies them, a
    // bare-metal cluster, and the user's Config with emptyDir storage (no cloud needed).
    let fake = FakeApiServer::default();
    serve::load_manifests(&fake, &Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifests")).unwrap();
    serve::load_fixture(&fake, &Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/baremetal-fresh.yaml"))
        .unwrap();
    let configs = dynamic(&fake, "imageregistry.operator.openshift.io", "Config", "configs", None);
    let config = shipped::users_config(json!({"emptyDir": {}}));
    configs.create(&Default::default(), &serde_json::from_value(config).unwrap()).await.unwrap();
    let (address, ca) = serve::spawn_tls(fake.clone()).await.unwrap();

    // What the kubelet mounts into the operator's pod.
    let secrets = folder("incluster-sa", false);
    write_readable(&secrets, "token", &fake.issue_token(NS, OPERATOR_SA));
    write_readable(&secrets, "ca.crt", &ca);
    write_readable(&secrets, "namespace", NS);
    let mut pod = Pod::new(&image, &store, &format!("incluster-operator-{}", std::process::id()));
    let env = [
        ("KUBERNETES_SERVICE_HOST", "127.0.0.1".to_owned()),
        ("KUBERNETES_SERVICE_PORT", address.port().to_string()),
        ("POD_NAME", "cluster-image-registry-operator-7d9f-x2x4q".to_owned()),
        ("RELEASE_VERSION", "4.20.0".to_owned()),
        ("IMAGE", "quay.io/openshift/origin-docker-registry:4.20".to_owned()),
        ("IMAGE_PRUNER", "quay.io/openshift/origin-cli:4.20".to_owned()),
        ("OPERATOR_IMAGE", image.clone()),
        ("LD_PRELOAD", "/usr/lib/faketime.so".to_owned()),
        ("FAKETIME", format!("+0 x{SPEED}")),
    ];
    pod.start(
        &[(&secrets, "/var/run/secrets/kubernetes.io/serviceaccount", "ro"), (&faketime, "/usr/lib/faketime.so", "ro")],
        &env,
        &["/usr/bin/cluster-image-registry-operator", "run", "--in-cluster", "--metrics-address", "none"],
    );

    // Converges as its service account, with nothing refused.
    let took = wait_for("the registry to be available", &pod, Duration::from_secs(120), || available(&fake)).await;
    eprintln!("available {took:?} after start");
    assert_eq!(refused(&fake), Vec::<String>::new(), "requests the release's RBAC refused");
    let users: std::collections::BTreeSet<String> =
        fake.requests().into_iter().filter(|e| e.user != "system:admin").map(|e| e.user).collect();
    assert_eq!(users.into_iter().collect::<Vec<_>>(), [OPERATOR_USER], "every request as the service account");

    // A rule taken out of the Role: the next write it covered is refused, and said so.
    set_role_rules(&fake, Some("networking.k8s.io")).await;
    let policies = dynamic(&fake, "networking.k8s.io", "NetworkPolicy", "networkpolicies", Some(NS));
    policies.delete("image-registry-networkpolicy", &DeleteParams::default()).await.unwrap();
    let refused_at = Instant::now();
    let forbidden = "cannot patch resource \"networkpolicies\" in API group \"networking.k8s.io\"";
    let took = wait_for("Progressing to name the forbidden write", &pod, Duration::from_secs(30), || {
        condition_says(&fake, "Config", "Progressing", "True", forbidden)
    })
    .await;
    eprintln!("Progressing named the refusal {took:?} after it began");
    // Times on the operator's clock are the test's times SPEED.
    let took = wait_for("Degraded to name the forbidden write", &pod, Duration::from_secs(360) / SPEED, || {
        condition_says(&fake, "Config", "Degraded", "True", forbidden)
    })
    .await;
    let degraded_after = refused_at.elapsed() * SPEED;
    eprintln!("Degraded {:?} after the first refusal on the operator's clock (inertia 300 s)", took * SPEED);
    assert!(took * SPEED >= Duration::from_secs(290), "Degraded before the inertia: {:?}", took * SPEED);
    // The ClusterOperator's status is the pass's next write, right after the Config's.
    wait_for("the ClusterOperator to follow", &pod, Duration::from_secs(10), || {
        condition_says(&fake, "ClusterOperator", "Degraded", "True", "networkpolicies")
    })
    .await;
    // No hot loop while refused: a few attempts a minute once the backoff has grown.
    let attempts = refused(&fake).len();
    let per_minute = attempts as f64 * 60.0 / degraded_after.as_secs_f64();
    eprintln!("{attempts} refused requests in {degraded_after:?} on its clock ({per_minute:.1} a minute)");
    assert!(attempts <= 30, "{attempts} refused requests: {:?}", refused(&fake));

    // The rule back: picked up without any event the operator watches, within half a minute.
    set_role_rules(&fake, None).await;
    let recovered = wait_for("the operator to recover", &pod, Duration::from_secs(60), || {
        object(&fake, "NetworkPolicy", "image-registry-networkpolicy").is_some()
            && condition(&fake, "Config", "Degraded").is_some_and(|c| c["status"] == "False")
            && available(&fake)
    })
    .await;
    eprintln!("recovered {:?} after the rule came back, on the operator's clock", recovered * SPEED);
    // Its 30-s backoff cap on its clock, plus the pass itself, whose requests take real time on
    // a loaded machine (a resync, 10 min on its clock, would take a real minute).
    let limit = Duration::from_secs(30) / SPEED + Duration::from_secs(5);
    assert!(recovered <= limit, "recovery took {recovered:?} (limit {limit:?})");

    // Stopped as the kubelet stops it: SIGTERM, the lease released, exit 0.
    let status = pod.terminate(Duration::from_secs(20)).await;
    assert!(status.is_some_and(|s| s.success()), "exit {status:?}; log:\n{}", pod.log_tail());
    let _ = std::fs::remove_dir_all(&secrets);
}

/// What the node-ca DaemonSet runs, from the same image: the registry CAs of the mounted
/// ConfigMap land in the node's trust directory, one folder per registry.
#[tokio::test]
async fn node_ca_sync_runs_from_the_same_image() {
    let Some((image, store)) = image() else { return };
    let source = folder("incluster-serviceca", false);
    write_readable(&source, "image-registry.openshift-image-registry.svc..5000", "-----BEGIN CERTIFICATE-----\nA\n");
    write_readable(&source, "registry.example.com", "-----BEGIN CERTIFICATE-----\nB\n");
    let destination = folder("incluster-certs.d", true);
    let mut pod = Pod::new(&image, &store, &format!("incluster-node-ca-{}", std::process::id()));
    pod.start(
        &[(&source, "/tmp/serviceca", "ro"), (&destination, "/etc/docker/certs.d", "rw")],
        &[],
        &["/usr/bin/cluster-image-registry-operator", "node-ca-sync"],
    );
    let copied = |dir: &str| std::fs::read_to_string(destination.join(dir).join("ca.crt")).ok();
    wait_for("the CAs to be copied", &pod, Duration::from_secs(30), || {
        copied("image-registry.openshift-image-registry.svc:5000").is_some() && copied("registry.example.com").is_some()
    })
    .await;
    assert_eq!(copied("registry.example.com").as_deref(), Some("-----BEGIN CERTIFICATE-----\nB\n"));
    let status = pod.terminate(Duration::from_secs(10)).await;
    assert!(status.is_some_and(|s| s.success()), "exit {status:?}; log:\n{}", pod.log_tail());
    let _ = std::fs::remove_dir_all(&source);
    let _ = std::fs::remove_dir_all(&destination);
}
