//! `node-ca-sync`: what the node-ca DaemonSet runs on every node (spec 40 §5.5). Mirrors the
//! mounted `image-registry-certificates` ConfigMap (`/tmp/serviceca`, one file per registry,
//! `host..port`) into the container runtime's trust directory (`/etc/docker/certs.d/host:port/ca.crt`)
//! and removes directories no longer backed by a file. Immediately, then every 60 seconds.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tracing::{error, info, warn};

/// What one sync did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Files copied.
    pub copied: usize,
    /// Files whose target was newer.
    pub skipped: usize,
    /// Stale directories removed.
    pub trimmed: usize,
}

/// `host..port` to `host:port`: only the last `..` is replaced (`a..b..5000` → `a..b:5000`).
pub fn map_name(name: &str) -> String {
    match name.rfind("..") {
        Some(i) => format!("{}:{}", name.get(..i).unwrap_or_default(), name.get(i + 2..).unwrap_or_default()),
        None => name.to_owned(),
    }
}

fn describe(path: &Path, e: &std::io::Error) -> String {
    format!("{}: {e}", path.display())
}

/// Copies `source` to `target` atomically: a `.tmp` beside it with the source's permission
/// bits, synced, renamed over the target; the temporary file is removed on any failure.
pub fn copy_file(source: &Path, target: &Path) -> Result<(), String> {
    let meta = fs::metadata(source).map_err(|e| describe(source, &e))?;
    if meta.is_dir() {
        return Err(format!("{}: is a directory", source.display()));
    }
    let content = fs::read(source).map_err(|e| describe(source, &e))?;
    let mut temporary = target.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let written = (|| {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(&content)?;
        file.set_permissions(meta.permissions())?;
        file.sync_all()?;
        fs::rename(&temporary, target)
    })();
    written.map_err(|e| {
        let _ = fs::remove_file(&temporary);
        describe(target, &e)
    })
}

fn ensure_directory(path: &Path) -> Result<(), String> {
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(format!("{}: exists and is not a directory", path.display())),
        Err(_) => {
            fs::create_dir_all(path).map_err(|e| describe(path, &e))?;
            set_mode(path)
        }
    }
}

#[cfg(unix)]
fn set_mode(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).map_err(|e| describe(path, &e))
}

#[cfg(not(unix))]
fn set_mode(_: &Path) -> Result<(), String> {
    Ok(())
}

/// The copy step: every source file (symlinks followed; directories, including the ConfigMap's
/// `..data` link, skipped) to `<dst>/<mapped name>/ca.crt`, unless the target is newer.
pub fn copy_all(source: &Path, destination: &Path) -> Result<(usize, usize), String> {
    ensure_directory(destination)?;
    let entries = fs::read_dir(source).map_err(|e| describe(source, &e))?;
    let (mut copied, mut skipped) = (0, 0);
    for entry in entries.flatten() {
        let path = entry.path();
        let meta = match fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) => {
                warn!(error = %describe(&path, &e), "cannot read a source entry");
                continue;
            }
        };
        if meta.is_dir() {
            continue;
        }
        let name = map_name(&entry.file_name().to_string_lossy());
        let directory = destination.join(&name);
        let target = directory.join("ca.crt");
        let newer_target = fs::metadata(&target).and_then(|t| Ok(meta.modified()? < t.modified()?)).unwrap_or(false);
        if newer_target {
            skipped += 1;
            continue;
        }
        match ensure_directory(&directory).and_then(|()| copy_file(&path, &target)) {
            Ok(()) => copied += 1,
            Err(e) => warn!(error = %e, "cannot copy a certificate"),
        }
    }
    Ok((copied, skipped))
}

/// The trim step: removes every directory of `destination` that no source file maps to.
/// Files in `destination` are never touched.
pub fn trim(source: &Path, destination: &Path) -> Result<usize, String> {
    let wanted: Vec<String> = fs::read_dir(source)
        .map_err(|e| describe(source, &e))?
        .flatten()
        .filter(|e| fs::symlink_metadata(e.path()).is_ok_and(|m| !m.is_dir()))
        .map(|e| map_name(&e.file_name().to_string_lossy()))
        .collect();
    let mut trimmed = 0;
    for entry in fs::read_dir(destination).map_err(|e| describe(destination, &e))?.flatten() {
        let path = entry.path();
        let is_dir = fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        if !is_dir || wanted.contains(&entry.file_name().to_string_lossy().into_owned()) {
            continue;
        }
        match fs::remove_dir_all(&path) {
            Ok(()) => trimmed += 1,
            Err(e) => warn!(error = %describe(&path, &e), "cannot remove a stale directory"),
        }
    }
    Ok(trimmed)
}

/// One sync: copy, then trim. When the copy step fails nothing is trimmed.
pub fn sync(source: &Path, destination: &Path) -> Result<Counts, String> {
    let (copied, skipped) = copy_all(source, destination)?;
    let trimmed = trim(source, destination)?;
    Ok(Counts { copied, skipped, trimmed })
}

/// The loop: a sync now and every `every` until `stop` resolves; errors are logged, never fatal.
pub async fn run(source: &Path, destination: &Path, every: Duration, stop: impl std::future::Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        match sync(source, destination) {
            Ok(c) => info!("copied: {:03} skipped: {:03} trimmed: {:03}", c.copied, c.skipped, c.trimmed),
            Err(e) => error!(error = %e, "node-ca sync failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = &mut stop => return,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::time::SystemTime;

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("node-ca-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("src")).unwrap();
        dir
    }

    #[test]
    fn names_map_the_last_double_dot_only() {
        for (from, to) in [
            ("1.1.1.1..5000", "1.1.1.1:5000"),
            ("my.registry.com..3000", "my.registry.com:3000"),
            ("localhost..8080", "localhost:8080"),
            ("quay.io..443.crt", "quay.io:443.crt"),
            ("registry.example.com.crt", "registry.example.com.crt"),
            ("reg.sub.example.com..5000", "reg.sub.example.com:5000"),
            ("", ""),
            ("registry.com:5000", "registry.com:5000"),
            ("this..is..not..valid..5000.crt", "this..is..not..valid:5000.crt"),
        ] {
            assert_eq!(map_name(from), to, "{from}");
        }
    }

    #[test]
    fn copy_keeps_content_and_mode_and_leaves_no_temporary() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("copy");
        let (source, target) = (dir.join("src/a"), dir.join("b"));
        fs::write(&source, "pem").unwrap();
        fs::set_permissions(&source, fs::Permissions::from_mode(0o640)).unwrap();
        fs::write(&target, "old").unwrap();
        copy_file(&source, &target).unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "pem");
        assert_eq!(fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o640);
        assert!(!dir.join("b.tmp").exists());
        assert!(copy_file(&dir.join("missing"), &target).is_err());
        assert!(copy_file(&dir.join("src"), &target).is_err());
    }

    #[test]
    fn full_sync_counts_copies_skips_and_trims() {
        let dir = scratch("sync");
        let (src, dst) = (dir.join("src"), dir.join("dst"));
        // Sources an hour old, so the copies made now are strictly newer, whatever the
        // file system's timestamp resolution.
        let past = SystemTime::now() - Duration::from_secs(3600);
        for name in ["keep..80", "new..90"] {
            fs::write(src.join(name), name).unwrap();
            fs::File::options().write(true).open(src.join(name)).unwrap().set_modified(past).unwrap();
        }
        fs::create_dir_all(src.join("..2026_01_01")).unwrap();
        std::os::unix::fs::symlink(src.join("..2026_01_01"), src.join("..data")).unwrap();
        fs::create_dir_all(dst.join("remove:70")).unwrap();
        fs::write(dst.join("a-file"), "untouched").unwrap();
        assert_eq!(sync(&src, &dst).unwrap(), Counts { copied: 2, skipped: 0, trimmed: 1 });
        assert_eq!(fs::read_to_string(dst.join("keep:80/ca.crt")).unwrap(), "keep..80");
        assert!(!dst.join(":data").exists() && !dst.join("..data").exists());
        assert_eq!(fs::read_to_string(dst.join("a-file")).unwrap(), "untouched");
        // Targets newer than their sources are left alone; a new source is copied.
        let future = SystemTime::now() + Duration::from_secs(3600);
        fs::File::options().write(true).open(dst.join("keep:80/ca.crt")).unwrap().set_modified(future).unwrap();
        fs::write(src.join("newer..100"), "n2").unwrap();
        fs::File::options().write(true).open(src.join("newer..100")).unwrap().set_modified(past).unwrap();
        assert_eq!(sync(&src, &dst).unwrap(), Counts { copied: 1, skipped: 2, trimmed: 0 });
        // A source changed after its copy is copied again.
        fs::File::options().write(true).open(src.join("new..90")).unwrap().set_modified(future).unwrap();
        assert_eq!(sync(&src, &dst).unwrap(), Counts { copied: 1, skipped: 2, trimmed: 0 });
    }

    #[test]
    fn missing_source_or_a_file_as_destination_is_an_error() {
        let dir = scratch("errors");
        assert!(sync(&dir.join("missing"), &dir.join("dst")).is_err());
        fs::write(dir.join("file"), "x").unwrap();
        assert!(sync(&dir.join("src"), &dir.join("file")).is_err());
        // A fresh destination is created.
        fs::write(dir.join("src/registry..5000"), "r").unwrap();
        assert_eq!(sync(&dir.join("src"), &dir.join("fresh")).unwrap(), Counts { copied: 1, skipped: 0, trimmed: 0 });
    }
}
