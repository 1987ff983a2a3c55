//! The Azure RBAC actions behind every Resource Manager and blob call the operator makes, by
//! the call: the source of the committed CredentialsRequest
//! (`manifests/01-registry-credentials-request-azure.yaml`), which a test keeps equal to what is
//! derived here plus the registry's data path.

/// Every call the Azure clients count, with the actions it needs. A test checks that every
/// call the clients made against the doubles and azurite is in this table.
pub const CALLS: &[(&str, &[&str])] = &[
    ("GetStorageAccount", &["Microsoft.Storage/storageAccounts/read"]),
    ("CreateStorageAccount", &["Microsoft.Storage/storageAccounts/write", "Microsoft.Resources/tags/write"]),
    ("UpdateStorageAccount", &["Microsoft.Storage/storageAccounts/write"]),
    ("ListKeys", &["Microsoft.Storage/storageAccounts/listKeys/action"]),
    ("DeleteStorageAccount", &["Microsoft.Storage/storageAccounts/delete"]),
    // A long-running operation's status is readable by whoever started it.
    ("PollOperation", &[]),
    ("GetContainerProperties", &["Microsoft.Storage/storageAccounts/blobServices/containers/read"]),
    ("CreateContainer", &["Microsoft.Storage/storageAccounts/blobServices/containers/write"]),
    ("DeleteContainer", &["Microsoft.Storage/storageAccounts/blobServices/containers/delete"]),
    // Private endpoints (spec 30 §6.7 step 7, §6.8 step 1).
    ("ListVirtualNetworks", &["Microsoft.Network/virtualNetworks/read"]),
    (
        "PutPrivateEndpoint",
        &[
            "Microsoft.Network/privateEndpoints/write",
            "Microsoft.Network/virtualNetworks/subnets/read",
            "Microsoft.Network/virtualNetworks/subnets/join/action",
            "Microsoft.Storage/storageAccounts/PrivateEndpointConnectionsApproval/action",
        ],
    ),
    ("GetPrivateEndpoint", &["Microsoft.Network/privateEndpoints/read"]),
    ("GetNetworkInterface", &["Microsoft.Network/networkInterfaces/read"]),
    ("PutPrivateDnsZone", &["Microsoft.Network/privateDnsZones/write"]),
    ("PutPrivateDnsRecord", &["Microsoft.Network/privateDnsZones/A/write"]),
    (
        "PutPrivateDnsZoneGroup",
        &[
            "Microsoft.Network/privateEndpoints/privateDnsZoneGroups/write",
            "Microsoft.Network/privateDnsZones/join/action",
        ],
    ),
    (
        "PutVirtualNetworkLink",
        &[
            "Microsoft.Network/privateDnsZones/virtualNetworkLinks/write",
            "Microsoft.Network/virtualNetworks/join/action",
        ],
    ),
    ("DeletePrivateDnsZoneGroup", &["Microsoft.Network/privateEndpoints/privateDnsZoneGroups/delete"]),
    ("DeleteVirtualNetworkLink", &["Microsoft.Network/privateDnsZones/virtualNetworkLinks/delete"]),
    ("DeletePrivateDnsRecord", &["Microsoft.Network/privateDnsZones/A/delete"]),
    ("DeletePrivateEndpoint", &["Microsoft.Network/privateEndpoints/delete"]),
];

/// What the registry itself does with its account (the distribution Azure driver), control
/// plane: with workload identity it asks for user-delegation keys.
pub const REGISTRY: &[&str] = &[
    "Microsoft.Storage/storageAccounts/blobServices/read",
    "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
];

/// The registry's data path: its blobs.
pub const REGISTRY_DATA: &[&str] = &[
    "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
    "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
    "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
    "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action",
    "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action",
];
