//! Entra ID tokens through the official `azure_identity`: a client secret, or workload
//! identity (the projected token file exchanged as a client assertion), against the cloud's
//! authority host (spec 30 §6.2, §6.3), on the shared reqwest/rustls transport.

use std::path::PathBuf;
use std::sync::Arc;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientOptions, Transport};
use azure_identity::{
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use image_registry_core::storage::azure::Credentials;

/// The token credential `credentials` describe, for the cloud whose authority host is
/// `authority`: the client secret when there is one, else the federated token file.
pub fn credential(
    credentials: &Credentials,
    authority: &str,
    http: reqwest::Client,
) -> Result<Arc<dyn TokenCredential>, String> {
    let mut custom = CustomConfiguration::default();
    custom.authority_host = authority.trim_end_matches('/').to_owned();
    let client_options = ClientOptions {
        cloud: Some(Arc::new(CloudConfiguration::from(custom))),
        transport: Some(Transport::new(Arc::new(http))),
        ..ClientOptions::default()
    };
    // azure_identity's messages name the missing field, never the secret.
    if !credentials.client_secret.is_empty() {
        let options = ClientSecretCredentialOptions { client_options };
        let credential = ClientSecretCredential::new(
            &credentials.tenant_id,
            credentials.client_id.clone(),
            Secret::new(credentials.client_secret.clone()),
            Some(options),
        )
        .map_err(|e| format!("Azure client secret credentials: {e}"))?;
        return Ok(credential);
    }
    if !credentials.federated_token_file.is_empty() {
        let options = WorkloadIdentityCredentialOptions {
            credential_options: ClientAssertionCredentialOptions { client_options },
            client_id: Some(credentials.client_id.clone()),
            tenant_id: Some(credentials.tenant_id.clone()),
            token_file_path: Some(PathBuf::from(&credentials.federated_token_file)),
        };
        let credential =
            WorkloadIdentityCredential::new(Some(options)).map_err(|e| format!("Azure workload identity: {e}"))?;
        return Ok(credential);
    }
    Err("the Azure credentials have neither azure_client_secret nor azure_federated_token_file".to_owned())
}
