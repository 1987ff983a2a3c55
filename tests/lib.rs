//! Helpers shared by the cross-crate tests: finding fixtures and loading them.

use std::path::{Path, PathBuf};

use image_registry_core::fixture::{self, Document, Fixture};

/// The repository's `fixtures/` directory.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("fixtures")
}

/// Every fixture file under `fixtures/`, recursively, in path order.
pub fn all_fixtures() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&fixtures_dir(), &mut out);
    out.sort();
    out
}

/// `storage/s3/fresh` for `fixtures/storage/s3/fresh.yaml`.
pub fn fixture_name(path: &Path) -> String {
    let relative = path.strip_prefix(fixtures_dir()).unwrap_or(path);
    relative.with_extension("").to_string_lossy().replace('\\', "/")
}

/// Reads a fixture's documents, failing the test with the parser's message.
pub fn documents(path: &Path) -> Vec<Document> {
    let name = fixture_name(path);
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
    fixture::documents(&name, &text).unwrap_or_else(|e| panic!("{e}"))
}

/// Loads a fixture, failing the test with the parser's message.
pub fn load(path: &Path) -> Fixture {
    let name = fixture_name(path);
    fixture::assemble(&name, documents(path)).unwrap_or_else(|e| panic!("{e}"))
}

/// A deterministic permutation of `items` (a seeded Fisher-Yates with a small LCG), so a
/// failing order can be reproduced.
pub fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    for i in (1..items.len()).rev() {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let j = usize::try_from((state >> 33) % (i as u64 + 1)).unwrap_or(0);
        items.swap(i, j);
    }
}

use image_registry_core::api::Config;
use image_registry_core::observed::Observed;

/// Every fixture, loaded once.
pub fn loaded() -> &'static [(String, Observed)] {
    static ALL: std::sync::OnceLock<Vec<(String, Observed)>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| all_fixtures().iter().map(|p| (fixture_name(p), load(p).observed)).collect())
}

/// A loaded fixture by name.
pub fn fixture(name: &str) -> Observed {
    loaded().iter().find(|(n, _)| n == name).map(|(_, o)| o.clone()).unwrap_or_else(|| panic!("no fixture {name}"))
}

/// Fixtures that stop on an error by design: the plan cannot be decided until a person acts.
pub const STUCK_BY_DESIGN: &[&str] =
    &["infrastructure-missing-platformstatus", "openstack-swift-probe-failed", "storage/s3/malformed-credentials"];

/// The working passes a fixture needs at most without faults: six (a deletion's teardown and
/// finalizer, the re-bootstrap, the objects, the Deployment once the service-ca has minted its
/// certificate, the status), and one more for IBM COS, whose service instance is recorded
/// before its key is made.
pub fn passes_to_converge(name: &str) -> usize {
    let ibm = name.starts_with("ibmcloud") || name.starts_with("powervs") || name.contains("ibmcos");
    if ibm { 7 } else { 6 }
}

/// Changes the Config of a snapshot in place.
pub fn edit_config(observed: &mut Observed, edit: impl FnOnce(&mut Config)) {
    let mut config: Config = observed.objects.get("", "cluster").unwrap().unwrap();
    edit(&mut config);
    observed.objects.insert(serde_json::to_value(&config).unwrap()).unwrap();
}

/// Property-test case count: `PROPTEST_CASES` when set (the nightly mode), else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
