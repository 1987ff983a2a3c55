//! The IAM roles behind every IBM Cloud call the operator makes, by the call: the source of
//! the committed CredentialsRequests (`manifests/01-registry-credentials-request-ibmcos.yaml`
//! and `-powervs.yaml`), which a test keeps equal to what is derived here.

/// The policy a role is granted in: on the COS service, or on resource groups.
pub const COS: &str = "serviceName=cloud-object-storage";
/// See [`COS`].
pub const RESOURCE_GROUP: &str = "resourceType=resource-group";

const VIEWER: &str = "crn:v1:bluemix:public:iam::::role:Viewer";
const OPERATOR: &str = "crn:v1:bluemix:public:iam::::role:Operator";
const EDITOR: &str = "crn:v1:bluemix:public:iam::::role:Editor";
const ADMINISTRATOR: &str = "crn:v1:bluemix:public:iam::::role:Administrator";
const WRITER: &str = "crn:v1:bluemix:public:iam::::serviceRole:Writer";

/// Every call [`super::api::Api`] and the bucket client make, with the (policy, role) pairs it
/// needs. A test checks that every call the client made against the double is in this table.
pub const CALLS: &[(&str, &[(&str, &str)])] = &[
    // The API key is its own proof.
    ("IAMToken", &[]),
    ("ListResourceGroups", &[(RESOURCE_GROUP, VIEWER)]),
    ("ListResourceInstances", &[(COS, VIEWER)]),
    ("GetResourceInstance", &[(COS, VIEWER)]),
    ("CreateResourceInstance", &[(COS, EDITOR)]),
    ("ListResourceKeys", &[(COS, VIEWER)]),
    // A key's credentials are shown to Operators and above.
    ("GetResourceKey", &[(COS, OPERATOR)]),
    // The key grants Writer to a service ID it creates: only who administers the service and
    // holds Writer may hand that out.
    ("CreateResourceKey", &[(COS, ADMINISTRATOR), (COS, WRITER)]),
    // The bucket calls are signed with the key's HMAC pair, which carries the key's own role.
    ("HeadBucket", &[]),
    ("CreateBucket", &[]),
    ("ListObjectVersions", &[]),
    ("DeleteObjects", &[]),
    ("ListMultipartUploads", &[]),
    ("AbortMultipartUpload", &[]),
    ("DeleteBucket", &[]),
];
