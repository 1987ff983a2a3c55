//! The CRDs under `manifests/` are exactly what the Rust types generate.

use std::path::Path;

#[test]
fn committed_crds_match_the_types() {
    let manifests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifests");
    let generated = image_registry_operator::crds::render().unwrap();
    assert_eq!(generated.len(), 2);
    for (file, text) in generated {
        let committed = std::fs::read_to_string(manifests.join(file)).unwrap_or_else(|e| {
            panic!("manifests/{file}: {e}; run `cargo run -p image-registry-operator -- crds --dir manifests`")
        });
        assert!(
            committed == text,
            "manifests/{file} differs from the types; regenerate with `cargo run -p image-registry-operator -- crds --dir manifests`"
        );
    }
}
