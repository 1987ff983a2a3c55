//! Reading storage credentials from Secrets without ever putting a value into a message:
//! errors name the secret and the key, never the content (spec 30 §1.7).

use k8s_openapi::api::core::v1::Secret;

use crate::inputs::Inputs;
use crate::names::{INSTALLER_CREDENTIALS_SECRET, NAMESPACE, USER_CREDENTIALS_SECRET};

/// A secret's keys, decoded as UTF-8 text.
#[derive(Clone, Debug)]
pub struct SecretData {
    name: String,
    data: std::collections::BTreeMap<String, Vec<u8>>,
}

impl SecretData {
    /// The text under `key`, if present. Non-UTF-8 content is an error naming the key.
    pub fn get(&self, key: &str) -> Result<Option<String>, String> {
        match self.data.get(key) {
            None => Ok(None),
            Some(bytes) => String::from_utf8(bytes.clone())
                .map(Some)
                .map_err(|_| format!("secret \"{NAMESPACE}/{}\" has a key {key:?} that is not UTF-8 text", self.name)),
        }
    }

    /// The text under `key`; absent is an error naming the secret and key.
    pub fn require(&self, key: &str) -> Result<String, String> {
        self.get(key)?
            .ok_or_else(|| format!("secret \"{NAMESPACE}/{}\" does not contain required key \"{key}\"", self.name))
    }
}

fn read(observed: &Inputs<'_>, name: &str) -> Result<Option<SecretData>, String> {
    let secret = observed.objects.get::<Secret>(NAMESPACE, name).map_err(|e| e.to_string())?;
    Ok(secret.map(|s| {
        let mut data: std::collections::BTreeMap<String, Vec<u8>> =
            s.data.unwrap_or_default().into_iter().map(|(k, v)| (k, v.0)).collect();
        // stringData never comes back from a server, but hand-written fixtures may use it.
        for (key, value) in s.string_data.unwrap_or_default() {
            data.entry(key).or_insert_with(|| value.into_bytes());
        }
        SecretData { name: name.to_owned(), data }
    }))
}

/// Where the credentials come from: the user's override wins whenever it exists.
#[derive(Clone, Debug)]
pub enum Source {
    /// `image-registry-private-configuration-user`.
    User(SecretData),
    /// `installer-cloud-credentials`.
    Installer(SecretData),
}

/// The credentials secret to use (spec 30 §1.7 precedence).
pub fn source(observed: &Inputs<'_>) -> Result<Source, String> {
    if let Some(user) = read(observed, USER_CREDENTIALS_SECRET)? {
        return Ok(Source::User(user));
    }
    read(observed, INSTALLER_CREDENTIALS_SECRET)?.map(Source::Installer).ok_or_else(|| {
        format!(
            "unable to get cluster minted credentials \"{NAMESPACE}/{INSTALLER_CREDENTIALS_SECRET}\": \
             secrets \"{INSTALLER_CREDENTIALS_SECRET}\" not found"
        )
    })
}

/// An AWS shared-credentials file holding static keys.
pub fn static_credentials_file(access_key_id: &str, secret_access_key: &str) -> String {
    format!("[default]\naws_access_key_id = {access_key_id}\naws_secret_access_key = {secret_access_key}\n")
}

/// A secret value a read carries to the shell (a keyfile, a credentials file): compared and
/// passed on, never shown. `Debug` prints only that it is there.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretText(pub String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText(<redacted>)")
    }
}
