//! The network half of private endpoints (spec 30 §6.7 step 7, §6.8 step 1), at the Resource
//! Manager: virtual networks listed for discovery; the endpoint (its NIC named
//! `<endpoint>-nic`, connected to the account's `blob` service), the `privatelink.blob` DNS zone
//! with the account's A record, the endpoint's zone group and the zone's link to the vnet, then
//! the account's public network access disabled. Every step is an idempotent PUT, so a pass
//! that stops halfway is finished by the next; removal deletes what it made (the A record too:
//! the reference's swapped arguments left it behind).

use crate::cloud::CloudError;
use std::collections::BTreeMap;

use azure_core::http::Method;
use image_registry_core::outcome::ErrorClass;
use image_registry_core::storage::azure::facts::AzureVnet;
use serde_json::{Value, json};

use super::arm::Arm;

/// The network resource provider's API version.
const NETWORK_API: &str = "2024-05-01";
/// The private DNS provider's API version.
const DNS_API: &str = "2020-06-01";

/// Where a private endpoint goes and what it serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Private<'a> {
    /// The account and its resource group (also the endpoint's and the zone's).
    pub account: &'a str,
    /// The resource group.
    pub group: &'a str,
    /// The endpoint's location.
    pub location: &'a str,
    /// Tags for what is created.
    pub tags: &'a BTreeMap<String, String>,
    /// The endpoint.
    pub endpoint: &'a str,
    /// The vnet's resource group.
    pub network_group: &'a str,
    /// The vnet.
    pub vnet: &'a str,
    /// The subnet.
    pub subnet: &'a str,
    /// The DNS zone (`privatelink.blob.<storage suffix>`).
    pub zone: &'a str,
}

fn fail(call: &str, message: String) -> CloudError {
    CloudError { status: None, code: String::new(), class: ErrorClass::Other, message: format!("{call}: {message}") }
}

impl Arm {
    fn group_path(&self, group: &str) -> String {
        format!("{}/subscriptions/{}/resourceGroups/{group}", self.endpoint(), self.subscription())
    }

    /// The virtual networks of `group`, with their tags and subnets (every page).
    pub async fn list_vnets(&self, group: &str) -> Result<Vec<AzureVnet>, CloudError> {
        let mut url =
            format!("{}/providers/Microsoft.Network/virtualNetworks?api-version={NETWORK_API}", self.group_path(group));
        let mut vnets = Vec::new();
        loop {
            let (_, body) = self.send("ListVirtualNetworks", Method::Get, &url, None).await?;
            let items = body.get("value").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            for item in items {
                let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
                vnets.push(AzureVnet {
                    name: text(&item["name"]),
                    tags: item["tags"]
                        .as_object()
                        .map(|t| t.iter().map(|(k, v)| (k.clone(), text(v))).collect())
                        .unwrap_or_default(),
                    subnets: item
                        .pointer("/properties/subnets")
                        .and_then(Value::as_array)
                        .map(|s| s.iter().map(|s| text(&s["name"])).collect())
                        .unwrap_or_default(),
                });
            }
            match body.get("nextLink").and_then(Value::as_str) {
                Some(next) if !next.is_empty() => url = next.to_owned(),
                _ => return Ok(vnets),
            }
        }
    }

    /// Makes the account reachable only through a private endpoint (see the module's text).
    pub async fn make_private(&self, p: &Private<'_>) -> Result<(), CloudError> {
        let group = self.group_path(p.group);
        let subscription_path = |path: String| path.trim_start_matches(self.endpoint()).to_owned();
        let subnet_id = subscription_path(format!(
            "{}/providers/Microsoft.Network/virtualNetworks/{}/subnets/{}",
            self.group_path(p.network_group),
            p.vnet,
            p.subnet
        ));
        let vnet_id = subscription_path(format!(
            "{}/providers/Microsoft.Network/virtualNetworks/{}",
            self.group_path(p.network_group),
            p.vnet
        ));
        let account_id =
            subscription_path(format!("{group}/providers/Microsoft.Storage/storageAccounts/{}", p.account));
        let endpoint_url = format!("{group}/providers/Microsoft.Network/privateEndpoints/{}", p.endpoint);
        let endpoint = json!({
            "location": p.location,
            "tags": p.tags,
            "properties": {
                "subnet": { "id": subnet_id },
                "customNetworkInterfaceName": format!("{}-nic", p.endpoint),
                "privateLinkServiceConnections": [{
                    "name": p.endpoint,
                    "properties": { "privateLinkServiceId": account_id, "groupIds": ["blob"] },
                }],
            },
        });
        self.put("PutPrivateEndpoint", &format!("{endpoint_url}?api-version={NETWORK_API}"), endpoint).await?;
        let ip = self.endpoint_address(&endpoint_url).await?;

        let zone_url = format!("{group}/providers/Microsoft.Network/privateDnsZones/{}", p.zone);
        let zone_id = subscription_path(zone_url.clone());
        let zone = json!({ "location": "global", "tags": p.tags });
        self.put("PutPrivateDnsZone", &format!("{zone_url}?api-version={DNS_API}"), zone).await?;
        let record = json!({ "properties": { "ttl": 10, "aRecords": [{ "ipv4Address": ip }] } });
        self.put("PutPrivateDnsRecord", &format!("{zone_url}/A/{}?api-version={DNS_API}", p.account), record).await?;
        let group_name = p.zone.replace('.', "-");
        let zone_group = json!({ "properties": { "privateDnsZoneConfigs": [{
            "name": group_name, "properties": { "privateDnsZoneId": zone_id } }] } });
        let zone_group_url = format!("{endpoint_url}/privateDnsZoneGroups/{group_name}?api-version={NETWORK_API}");
        self.put("PutPrivateDnsZoneGroup", &zone_group_url, zone_group).await?;
        let link = json!({ "location": "global", "tags": p.tags,
            "properties": { "virtualNetwork": { "id": vnet_id }, "registrationEnabled": false } });
        let link_url = format!("{zone_url}/virtualNetworkLinks/{}?api-version={DNS_API}", p.account);
        match self.put("PutVirtualNetworkLink", &link_url, link).await {
            // A link of this vnet under another name: the zone already resolves in it.
            Err(e) if e.code == "Conflict" => {}
            other => other?,
        }
        self.update_account(p.group, p.account, json!({ "publicNetworkAccess": "Disabled" })).await
    }

    /// The endpoint's private address: from its DNS configs, else from its NIC.
    async fn endpoint_address(&self, endpoint_url: &str) -> Result<String, CloudError> {
        const CALL: &str = "GetPrivateEndpoint";
        let (_, endpoint) =
            self.send(CALL, Method::Get, &format!("{endpoint_url}?api-version={NETWORK_API}"), None).await?;
        if let Some(ip) = endpoint.pointer("/properties/customDnsConfigs/0/ipAddresses/0").and_then(Value::as_str) {
            return Ok(ip.to_owned());
        }
        let nic = endpoint.pointer("/properties/networkInterfaces/0/id").and_then(Value::as_str).ok_or_else(|| {
            fail(CALL, "the private endpoint has neither a DNS config nor a network interface".into())
        })?;
        let url = format!("{}{nic}?api-version={NETWORK_API}", self.endpoint());
        let (_, nic) = self.send("GetNetworkInterface", Method::Get, &url, None).await?;
        nic.pointer("/properties/ipConfigurations/0/properties/privateIPAddress")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                fail("GetNetworkInterface", "the private endpoint's interface has no private address".into())
            })
    }

    /// Deletes the endpoint's zone group, the vnet link and the A record, then the endpoint;
    /// what is gone already is done.
    pub async fn remove_private(
        &self,
        group: &str,
        account: &str,
        endpoint: &str,
        zone: &str,
    ) -> Result<(), CloudError> {
        let base = self.group_path(group);
        let endpoint_url = format!("{base}/providers/Microsoft.Network/privateEndpoints/{endpoint}");
        let zone_url = format!("{base}/providers/Microsoft.Network/privateDnsZones/{zone}");
        let steps = [
            (
                "DeletePrivateDnsZoneGroup",
                format!("{endpoint_url}/privateDnsZoneGroups/{}?api-version={NETWORK_API}", zone.replace('.', "-")),
            ),
            ("DeleteVirtualNetworkLink", format!("{zone_url}/virtualNetworkLinks/{account}?api-version={DNS_API}")),
            ("DeletePrivateDnsRecord", format!("{zone_url}/A/{account}?api-version={DNS_API}")),
            ("DeletePrivateEndpoint", format!("{endpoint_url}?api-version={NETWORK_API}")),
        ];
        for (call, url) in steps {
            match self.send(call, Method::Delete, &url, None).await {
                Ok((headers, _)) => self.follow(call, &headers).await?,
                Err(e) if e.status == Some(404) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn put(&self, call: &str, url: &str, body: Value) -> Result<(), CloudError> {
        let (headers, _) = self.send(call, Method::Put, url, Some(body)).await?;
        self.follow(call, &headers).await
    }
}
