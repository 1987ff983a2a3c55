//! The registry's blob container, through the official `azure_storage_blob` client: whether it
//! exists, create it, delete it. Signed with the account key ([`SharedKeyPolicy`]) or an
//! Entra token (workload identity), on the shared reqwest/rustls transport.

use crate::cloud::CloudError;
use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use azure_core::http::{ClientOptions, StatusCode, Transport, Url};
use azure_storage_blob::{BlobContainerClient, BlobContainerClientOptions};

use super::errors::from_core;
use super::sharedkey::SharedKeyPolicy;
use crate::cloud::calls::CallCounter;

/// How blob calls are authorized.
#[derive(Clone)]
pub enum BlobAuth {
    /// The account key (base64).
    Key(String),
    /// Entra tokens (the blob endpoint must be HTTPS).
    Token(Arc<dyn TokenCredential>),
}

/// Blob containers of one account.
pub struct Containers {
    account: String,
    /// `https://<account>.blob.<suffix>` or an emulator's `<endpoint>/<account>`.
    endpoint: String,
    auth: BlobAuth,
    http: reqwest::Client,
    calls: CallCounter,
}

impl Containers {
    /// The containers of `account` at `endpoint` (no trailing slash).
    pub fn new(account: &str, endpoint: &str, auth: BlobAuth, http: reqwest::Client, calls: CallCounter) -> Self {
        Self { account: account.to_owned(), endpoint: endpoint.trim_end_matches('/').to_owned(), auth, http, calls }
    }

    fn client(&self, call: &str, container: &str) -> Result<BlobContainerClient, CloudError> {
        let url = Url::parse(&format!("{}/{container}", self.endpoint)).map_err(|e| CloudError {
            status: None,
            code: String::new(),
            class: image_registry_core::outcome::ErrorClass::Invalid,
            message: format!("{call}: the blob endpoint is not a URL: {e}"),
        })?;
        let mut client_options =
            ClientOptions { transport: Some(Transport::new(Arc::new(self.http.clone()))), ..ClientOptions::default() };
        let credential = match &self.auth {
            BlobAuth::Key(key) => {
                client_options.per_try_policies.push(Arc::new(SharedKeyPolicy::new(&self.account, key)));
                None
            }
            BlobAuth::Token(credential) => Some(credential.clone()),
        };
        let options = BlobContainerClientOptions { client_options, ..BlobContainerClientOptions::default() };
        BlobContainerClient::new(url, credential, Some(options)).map_err(|e| from_core(call, &e))
    }

    fn count<T>(&self, call: &str, result: &Result<T, CloudError>) {
        self.calls.count("azure", call, result.as_ref().map(drop).map_err(|e| e.class));
    }

    /// Whether the container exists (`GetContainerProperties`).
    pub async fn exists(&self, container: &str) -> Result<bool, CloudError> {
        const CALL: &str = "GetContainerProperties";
        let client = self.client(CALL, container)?;
        let result = match client.get_properties(None).await {
            Ok(_) => Ok(true),
            Err(e) if e.http_status() == Some(StatusCode::NotFound) => Ok(false),
            Err(e) => Err(from_core(CALL, &e)),
        };
        self.count(CALL, &result);
        result
    }

    /// Creates the container (private: no public access); one that exists already is done.
    pub async fn create(&self, container: &str) -> Result<(), CloudError> {
        const CALL: &str = "CreateContainer";
        let client = self.client(CALL, container)?;
        let result = match client.create(None).await {
            Ok(_) => Ok(()),
            Err(e) => match from_core(CALL, &e) {
                found if found.code == "ContainerAlreadyExists" => Ok(()),
                other => Err(other),
            },
        };
        self.count(CALL, &result);
        result
    }

    /// Deletes the container; one already gone is done.
    pub async fn delete(&self, container: &str) -> Result<(), CloudError> {
        const CALL: &str = "DeleteContainer";
        let client = self.client(CALL, container)?;
        let result = match client.delete(None).await {
            Ok(_) => Ok(()),
            Err(e) if e.http_status() == Some(StatusCode::NotFound) => match from_core(CALL, &e) {
                gone if gone.code == "ContainerNotFound" || gone.code.is_empty() => Ok(()),
                other => Err(other),
            },
            Err(e) => Err(from_core(CALL, &e)),
        };
        self.count(CALL, &result);
        result
    }
}
