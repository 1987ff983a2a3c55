//! The APIServer TLS profile as the registry's `observedConfig.servingInfo` (spec 10 §2.6):
//! the predefined Mozilla-based profiles, with OpenSSL cipher names turned into IANA names.

use serde_json::{Value, json};

use crate::api::openshift::TlsSecurityProfile;

const TLS13: [&str; 3] = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"];

const INTERMEDIATE: [&str; 6] = [
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
];

const OLD_EXTRA: [&str; 15] = [
    "ECDHE-ECDSA-AES128-SHA256",
    "ECDHE-RSA-AES128-SHA256",
    "ECDHE-ECDSA-AES128-SHA",
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-ECDSA-AES256-SHA384",
    "ECDHE-RSA-AES256-SHA384",
    "ECDHE-ECDSA-AES256-SHA",
    "ECDHE-RSA-AES256-SHA",
    "AES128-GCM-SHA256",
    "AES256-GCM-SHA384",
    "AES128-SHA256",
    "AES256-SHA256",
    "AES128-SHA",
    "AES256-SHA",
    "DES-CBC3-SHA",
];

/// OpenSSL name → IANA name, for the suites Go's TLS stack implements. Others are dropped.
const OPENSSL_TO_IANA: [(&str, &str); 18] = [
    ("ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    ("ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    ("ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    ("ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
    ("ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    ("ECDHE-RSA-CHACHA20-POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    ("ECDHE-ECDSA-AES128-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"),
    ("ECDHE-RSA-AES128-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"),
    ("ECDHE-ECDSA-AES128-SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
    ("ECDHE-RSA-AES128-SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    ("ECDHE-ECDSA-AES256-SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"),
    ("ECDHE-RSA-AES256-SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
    ("AES128-GCM-SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256"),
    ("AES256-GCM-SHA384", "TLS_RSA_WITH_AES_256_GCM_SHA384"),
    ("AES128-SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA256"),
    ("AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA"),
    ("AES256-SHA", "TLS_RSA_WITH_AES_256_CBC_SHA"),
    ("DES-CBC3-SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
];

fn to_iana(name: &str) -> Option<&'static str> {
    if let Some(tls13) = TLS13.iter().find(|n| **n == name) {
        return Some(tls13);
    }
    OPENSSL_TO_IANA.iter().find(|(openssl, _)| *openssl == name).map(|(_, iana)| *iana)
}

/// `(minTLSVersion, OpenSSL cipher names)` of a profile; no profile or an incomplete `Custom`
/// profile means `Intermediate`.
fn resolve(profile: Option<&TlsSecurityProfile>) -> (String, Vec<String>) {
    let owned = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
    let intermediate = || ("VersionTLS12".to_owned(), owned(&[&TLS13[..], &INTERMEDIATE[..]].concat()));
    match profile.map(|p| (p.type_.as_str(), p.custom.as_ref())) {
        Some(("Old", _)) => {
            ("VersionTLS10".to_owned(), owned(&[&TLS13[..], &INTERMEDIATE[..], &OLD_EXTRA[..]].concat()))
        }
        Some(("Modern", _)) => ("VersionTLS13".to_owned(), owned(&TLS13)),
        Some(("Custom", Some(custom))) => (custom.min_tls_version.clone(), custom.ciphers.clone()),
        _ => intermediate(),
    }
}

/// `{"servingInfo": {"minTLSVersion": ..., "cipherSuites": [...]}}` for a profile.
pub fn observed_config(profile: Option<&TlsSecurityProfile>) -> Value {
    let (min_version, ciphers) = resolve(profile);
    let iana: Vec<&str> = ciphers.iter().filter_map(|c| to_iana(c)).collect();
    json!({ "servingInfo": { "minTLSVersion": min_version, "cipherSuites": iana } })
}

/// `ConfigObservationDegraded`, the config observer's condition (spec 40 §6): `False` with no
/// reason while the APIServer's TLS profile can be read, else `True`/`Error` naming the object
/// and what is wrong (the last observed profile stays in `spec.observedConfig`).
pub fn observation(observed: &crate::inputs::Inputs<'_>) -> crate::conditions::Wanted {
    use crate::api::ConditionStatus;
    use crate::conditions::Wanted;
    const TYPE: &str = "ConfigObservationDegraded";
    match &observed.api_server {
        Ok(_) => Wanted::new(TYPE, ConditionStatus::False, "", ""),
        Err(e) => Wanted::new(
            TYPE,
            ConditionStatus::True,
            "Error",
            format!("unable to observe the TLS security profile of apiservers.config.openshift.io/cluster: {e}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::openshift::CustomTlsProfile;

    fn profile(type_: &str) -> TlsSecurityProfile {
        TlsSecurityProfile { type_: type_.to_owned(), custom: None }
    }

    #[test]
    fn no_profile_is_intermediate() {
        let config = observed_config(None);
        assert_eq!(config["servingInfo"]["minTLSVersion"], "VersionTLS12");
        let suites = config["servingInfo"]["cipherSuites"].as_array().unwrap();
        assert_eq!(suites.len(), 9);
        assert_eq!(suites[0], "TLS_AES_128_GCM_SHA256");
        assert_eq!(suites[8], "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
        assert_eq!(observed_config(Some(&profile("Intermediate"))), config);
    }

    #[test]
    fn modern_is_tls13_only() {
        let config = observed_config(Some(&profile("Modern")));
        assert_eq!(config["servingInfo"]["minTLSVersion"], "VersionTLS13");
        assert_eq!(config["servingInfo"]["cipherSuites"], json!(TLS13));
    }

    #[test]
    fn old_drops_suites_go_does_not_implement() {
        let config = observed_config(Some(&profile("Old")));
        let suites = config["servingInfo"]["cipherSuites"].as_array().unwrap();
        assert_eq!(config["servingInfo"]["minTLSVersion"], "VersionTLS10");
        assert!(suites.iter().all(|s| s.as_str().unwrap().starts_with("TLS_")));
        assert!(!suites.iter().any(|s| s.as_str().unwrap().contains("SHA384") && s.as_str().unwrap().contains("CBC")));
        assert_eq!(suites.len(), 3 + 6 + 12);
    }

    #[test]
    fn custom_uses_its_own_settings_and_incomplete_custom_is_intermediate() {
        let custom = TlsSecurityProfile {
            type_: "Custom".to_owned(),
            custom: Some(CustomTlsProfile {
                ciphers: vec!["ECDHE-RSA-AES128-GCM-SHA256".into(), "NOT-A-CIPHER".into()],
                min_tls_version: "VersionTLS11".into(),
            }),
        };
        let config = observed_config(Some(&custom));
        assert_eq!(
            config,
            json!({"servingInfo": {"minTLSVersion": "VersionTLS11", "cipherSuites": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]}})
        );
        assert_eq!(observed_config(Some(&profile("Custom"))), observed_config(None));
    }
}
