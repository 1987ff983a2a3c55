//! The files the offline commands read: fixtures, parsed with the file named in any error.

use std::path::Path;

use image_registry_core::fixture;

/// Reads and parses a fixture file, naming the file in any error.
pub fn fixture(path: &Path) -> Result<fixture::Fixture, String> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    fixture::parse(&name, &text).map_err(|e| e.to_string())
}
