//! Storage names as the clouds accept them, checked before any call carries one: AWS's bucket
//! naming rules, Google Cloud Storage's, Azure's storage account and container rules, and
//! Swift's container rule. The operator's generated names pass by construction.

use super::lower_digit;

fn length(name: &str, what: &str, min: usize, max: usize) -> Result<(), String> {
    if name.len() < min || name.len() > max {
        return Err(format!("{name:?}: {what} must be {min} to {max} characters long"));
    }
    Ok(())
}

fn ip_address(name: &str) -> bool {
    name.parse::<std::net::Ipv4Addr>().is_ok()
}

/// An S3 general purpose bucket name (AWS: "Bucket naming rules").
pub fn s3_bucket(name: &str) -> Result<(), String> {
    let what = "an S3 bucket name";
    length(name, what, 3, 63)?;
    if !name.chars().all(|c| lower_digit(c) || c == '.' || c == '-') {
        return Err(format!("{name:?}: {what} may contain only lowercase letters, digits, '.' and '-'"));
    }
    if !name.starts_with(lower_digit) || !name.ends_with(lower_digit) {
        return Err(format!("{name:?}: {what} must begin and end with a lowercase letter or a digit"));
    }
    if name.contains("..") {
        return Err(format!("{name:?}: {what} may not contain two adjacent periods"));
    }
    if ip_address(name) {
        return Err(format!("{name:?}: {what} may not be formatted as an IP address"));
    }
    if let Some(prefix) = ["xn--", "sthree-", "amzn-s3-demo-"].into_iter().find(|p| name.starts_with(p)) {
        return Err(format!("{name:?}: {what} may not start with {prefix:?}"));
    }
    if let Some(suffix) =
        ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"].into_iter().find(|s| name.ends_with(s))
    {
        return Err(format!("{name:?}: {what} may not end with {suffix:?}"));
    }
    Ok(())
}

/// A Google Cloud Storage bucket name (Google: "Bucket naming requirements").
pub fn gcs_bucket(name: &str) -> Result<(), String> {
    let what = "a GCS bucket name";
    let max = if name.contains('.') { 222 } else { 63 };
    length(name, what, 3, max)?;
    if name.split('.').any(|part| part.len() > 63) {
        return Err(format!("{name:?}: each dot-separated part of {what} must be at most 63 characters"));
    }
    if !name.chars().all(|c| lower_digit(c) || matches!(c, '.' | '-' | '_')) {
        return Err(format!("{name:?}: {what} may contain only lowercase letters, digits, '-', '_' and '.'"));
    }
    if !name.starts_with(lower_digit) || !name.ends_with(lower_digit) {
        return Err(format!("{name:?}: {what} must begin and end with a lowercase letter or a digit"));
    }
    if ip_address(name) {
        return Err(format!("{name:?}: {what} may not be an IP address"));
    }
    if name.starts_with("goog") || name.contains("google") || name.contains("g00gle") {
        return Err(format!("{name:?}: {what} may not begin with \"goog\" or contain \"google\""));
    }
    Ok(())
}

/// An Azure storage account name.
pub fn azure_account(name: &str) -> Result<(), String> {
    let what = "an Azure storage account name";
    length(name, what, 3, 24)?;
    if !name.chars().all(lower_digit) {
        return Err(format!("{name:?}: {what} may contain only lowercase letters and digits"));
    }
    Ok(())
}

/// An Azure Blob container name.
pub fn azure_container(name: &str) -> Result<(), String> {
    let what = "an Azure container name";
    length(name, what, 3, 63)?;
    if !name.chars().all(|c| lower_digit(c) || c == '-') {
        return Err(format!("{name:?}: {what} may contain only lowercase letters, digits and '-'"));
    }
    if !name.starts_with(lower_digit) || !name.ends_with(lower_digit) || name.contains("--") {
        return Err(format!(
            "{name:?}: {what} must start and end with a letter or a digit, and every '-' must stand between letters or digits"
        ));
    }
    Ok(())
}

/// A Swift container name: at most 256 bytes, no '/'.
pub fn swift_container(name: &str) -> Result<(), String> {
    let what = "a Swift container name";
    length(name, what, 1, 256)?;
    if name.contains('/') {
        return Err(format!("{name:?}: {what} may not contain '/'"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clouds_naming_rules() {
        let long = "a".repeat(64);
        for good in ["mycluster-x7k2p-image-registry-us-east-1", "abc", "a.b-c"] {
            assert_eq!(s3_bucket(good), Ok(()), "{good}");
        }
        for (bad, rule) in [
            ("MyCluster-UPPER-Bucket", "lowercase"),
            (long.as_str(), "3 to 63"),
            ("my..bucket", "adjacent periods"),
            ("ab", "3 to 63"),
            ("-abc", "begin and end"),
            ("192.168.5.4", "IP address"),
            ("xn--abc", "\"xn--\""),
            ("logs-s3alias", "\"-s3alias\""),
            ("under_score", "lowercase"),
        ] {
            let error = s3_bucket(bad).unwrap_err();
            assert!(error.contains(rule), "{bad}: {error}");
        }
        assert_eq!(gcs_bucket("my_bucket.with.dots"), Ok(()));
        for bad in ["goog-registry", "my-google-bucket", "UPPER", "a", "1.2.3.4", "_lead"] {
            assert!(gcs_bucket(bad).is_err(), "{bad}");
        }
        assert_eq!(azure_account("imageregistryabc123"), Ok(()));
        for bad in ["Not_An_Account", "ab", "a".repeat(25).as_str(), "with-dash"] {
            assert!(azure_account(bad).is_err(), "{bad}");
        }
        assert_eq!(azure_container("mycluster-image-registry-abc"), Ok(()));
        for bad in ["bad--container", "-lead", "trail-", "Upper", "ab"] {
            assert!(azure_container(bad).is_err(), "{bad}");
        }
        assert_eq!(swift_container("Any name, even with spaces"), Ok(()));
        assert!(swift_container("a/b").is_err());
        assert!(swift_container(&"c".repeat(257)).is_err());
    }
}
