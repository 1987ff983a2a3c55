//! Private endpoints (spec 30 §6.7 step 7): with `networkAccess.type: Internal` the registry
//! reaches its storage account only through a private endpoint in the cluster's subnet. The
//! names are completed here, from the Config, the cluster, or the vnets the shell listed (the
//! first vnet tagged as this cluster's, its first subnet), and persisted before anything is
//! created; a name the user gave is never rewritten.

use super::Credentials;
use crate::api::storage::{Azure, AzureNetworkAccessInternal};
use crate::inputs::Inputs;
use crate::storage::azure::facts::AzureVnet;
use crate::storage::naming;

/// Whether the Config asks for a private endpoint.
pub fn internal(azure: &Azure) -> bool {
    azure.network_access.as_ref().is_some_and(|n| n.type_ == "Internal")
}

fn given(azure: &Azure) -> AzureNetworkAccessInternal {
    azure.network_access.as_ref().and_then(|n| n.internal.clone()).unwrap_or_default()
}

fn network_group(given: &AzureNetworkAccessInternal, c: &Credentials) -> String {
    if given.network_resource_group_name.is_empty() {
        c.resource_group.clone()
    } else {
        given.network_resource_group_name.clone()
    }
}

/// The resource group whose vnets the shell must list for `azure`: only when a private
/// endpoint is asked for and its vnet or subnet is not named.
pub fn vnets_wanted(azure: &Azure, c: &Credentials) -> Option<String> {
    let given = given(azure);
    (internal(azure) && c.account_key.is_empty() && (given.vnet_name.is_empty() || given.subnet_name.is_empty()))
        .then(|| network_group(&given, c))
}

/// The vnet tagged as this cluster's (by the Cluster API provider or the installer, `owned` or
/// `shared`), and its first subnet.
fn discover(vnets: &[AzureVnet], infra: &str) -> Result<(String, String), String> {
    let tags =
        [format!("sigs.k8s.io_cluster-api-provider-azure_cluster_{infra}"), format!("kubernetes.io_cluster.{infra}")];
    let vnet = vnets
        .iter()
        .find(|v| tags.iter().any(|t| matches!(v.tags.get(t).map(String::as_str), Some("owned" | "shared"))))
        .ok_or_else(|| {
            format!(
                "failed to discover vnet name, please provide network details manually: \"no virtual network is tagged {} or {}\"",
                tags[0], tags[1]
            )
        })?;
    let subnet = vnet.subnets.first().ok_or_else(|| {
        format!(
            "failed to discover subnet name, please provide network details manually: \"virtual network {} has no subnet\"",
            vnet.name
        )
    })?;
    Ok((vnet.name.clone(), subnet.clone()))
}

/// The internal block, completed: every name the Config gives kept, the others filled.
pub fn complete(observed: &Inputs<'_>, azure: &Azure, c: &Credentials) -> Result<AzureNetworkAccessInternal, String> {
    let mut block = given(azure);
    let group = network_group(&block, c);
    if block.vnet_name.is_empty() || block.subnet_name.is_empty() {
        let vnets = observed
            .cloud
            .azure
            .vnets
            .get(&group)
            .ok_or_else(|| format!("the virtual networks of resource group {group} have not been observed"))?;
        let (vnet, subnet) = match (block.vnet_name.is_empty(), discover(vnets, observed.infrastructure_name())) {
            (_, Ok(found)) => found,
            // A named vnet without a subnet: its first subnet.
            (false, Err(_)) => {
                let named = vnets.iter().find(|v| v.name == block.vnet_name).ok_or_else(|| {
                    format!("virtual network {} was not found in resource group {group}", block.vnet_name)
                })?;
                let subnet = named.subnets.first().cloned().ok_or_else(|| {
                    format!("failed to discover subnet name, please provide network details manually: \"virtual network {} has no subnet\"", named.name)
                })?;
                (named.name.clone(), subnet)
            }
            (true, Err(e)) => return Err(e),
        };
        if block.vnet_name.is_empty() {
            block.vnet_name = vnet;
        }
        if block.subnet_name.is_empty() {
            block.subnet_name = subnet;
        }
    }
    if block.network_resource_group_name.is_empty() {
        block.network_resource_group_name = group;
    }
    if block.private_endpoint_name.is_empty() {
        let infra = observed.cluster_id().map_err(|e| e.to_string())?;
        block.private_endpoint_name = naming::azure_account(infra, observed.seed, "azure-private-endpoint");
    }
    Ok(block)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn vnet(name: &str, tag: Option<(&str, &str)>, subnets: &[&str]) -> AzureVnet {
        AzureVnet {
            name: name.into(),
            tags: tag.map(|(k, v)| BTreeMap::from([(k.to_owned(), v.to_owned())])).unwrap_or_default(),
            subnets: subnets.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn the_clusters_vnet_and_its_first_subnet_are_found_by_tag() {
        let vnets = [
            vnet("other", Some(("kubernetes.io_cluster.someone-else", "owned")), &["a"]),
            vnet("mine", Some(("kubernetes.io_cluster.c1", "shared")), &["workers", "masters"]),
        ];
        assert_eq!(discover(&vnets, "c1"), Ok(("mine".into(), "workers".into())));
        let capz = [vnet("capz", Some(("sigs.k8s.io_cluster-api-provider-azure_cluster_c1", "owned")), &["s"])];
        assert_eq!(discover(&capz, "c1"), Ok(("capz".into(), "s".into())));
        let err = discover(&vnets[..1], "c1").unwrap_err();
        assert!(err.starts_with("failed to discover vnet name, please provide network details manually"), "{err}");
        let empty = [vnet("mine", Some(("kubernetes.io_cluster.c1", "owned")), &[])];
        assert!(discover(&empty, "c1").unwrap_err().starts_with("failed to discover subnet name"));
        let unowned = [vnet("mine", Some(("kubernetes.io_cluster.c1", "other")), &["s"])];
        assert!(discover(&unowned, "c1").is_err());
    }
}
