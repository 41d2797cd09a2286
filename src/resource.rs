//! What a command reads or changes, typed: the read-ahead cache drops what a command changes, and
//! a plan answers "not there yet" for what a planned command changes, by these.
//!
//! A resource is a scope (an AWS account as one profile reaches it, or a Kubernetes cluster as
//! one kubeconfig reaches it) and a path inside it: `eks / CLUSTER / nodegroups`,
//! `NAMESPACE / KIND / NAME`. A resource covers itself and every resource whose path starts with
//! its own, segment by segment (`eks/c` covers `eks/c/nodegroups`, not `eks/cd`).

use crate::names::Profile;
use std::fmt;

/// Where a resource lives.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Scope {
    /// An AWS account, as the profile (or the default credentials) reaches it.
    Aws(Option<String>),
    /// A Kubernetes cluster, by its kubeconfig's path (variables as markers, so the key is the
    /// same in a real run and a dry-run).
    Kube(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Resource {
    scope: Scope,
    path: Vec<String>,
}

impl Resource {
    /// Something in the AWS account `profile` reaches.
    pub(crate) fn aws<'s>(profile: Option<&Profile>, path: impl IntoIterator<Item = &'s str>) -> Self {
        Resource {
            scope: Scope::Aws(profile.map(|p| p.as_str().to_string())),
            path: path.into_iter().map(str::to_string).collect(),
        }
    }

    /// Something in the cluster behind a kubeconfig (its key, [`Kubeconfig::key`]); no path is
    /// the whole cluster.
    ///
    /// [`Kubeconfig::key`]: crate::tools::kubectl::Kubeconfig::key
    pub(crate) fn kube<'s>(kubeconfig: String, path: impl IntoIterator<Item = &'s str>) -> Self {
        Resource {
            scope: Scope::Kube(kubeconfig),
            path: path.into_iter().map(str::to_string).collect(),
        }
    }

    /// Whether `other` is this resource or inside it.
    pub(crate) fn covers(&self, other: &Resource) -> bool {
        self.scope == other.scope && other.path.starts_with(&self.path)
    }

    /// Whether `other` is inside this resource, not the resource itself.
    pub(crate) fn contains(&self, other: &Resource) -> bool {
        self.covers(other) && other.path.len() > self.path.len()
    }
}

/// The key as the JSON events and the diagnostic log print it: `aws:PROFILE:eks/c/nodegroups`
/// (`-` for the default credentials), `k8s:KUBECONFIG:NAMESPACE/KIND/NAME` (an empty namespace
/// for cluster-wide objects).
impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.join("/");
        match &self.scope {
            Scope::Aws(profile) => write!(f, "aws:{}:{path}", profile.as_deref().unwrap_or("-")),
            Scope::Kube(kubeconfig) => write!(f, "k8s:{kubeconfig}:{path}"),
        }
    }
}

/// Which cached reads an invalidation drops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Selector {
    /// Everything: a mutating command that names no resource may change anything.
    All,
    /// A resource and everything inside it.
    Under(Resource),
    /// What is inside a resource, not the resource itself: a cluster's contents, whose reads
    /// may have raced its becoming ACTIVE, but not its own `describe-cluster`.
    Inside(Resource),
}

impl Selector {
    pub(crate) fn selects(&self, r: &Resource) -> bool {
        match self {
            Selector::All => true,
            Selector::Under(s) => s.covers(r),
            Selector::Inside(s) => s.contains(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(path: &str) -> Resource {
        Resource::aws(None, path.split('/'))
    }

    #[test]
    fn resources_cover_what_is_inside_them() {
        assert!(aws("eks/c").covers(&aws("eks/c")));
        assert!(aws("eks/c").covers(&aws("eks/c/nodegroups")));
        assert!(!aws("eks/c").covers(&aws("eks/cd")));
        assert!(!aws("eks/c/nodegroups").covers(&aws("eks/c")));
        let profile = Profile::parse("--profile", "p").unwrap();
        assert!(!Resource::aws(Some(&profile), ["eks", "c"]).covers(&aws("eks/c")));
        let cluster = Resource::kube("f".into(), []);
        assert!(cluster.covers(&Resource::kube("f".into(), ["iam", "secret", "s"])));
        assert!(!cluster.covers(&Resource::kube("g".into(), ["iam", "secret", "s"])));
        assert!(Resource::kube("f".into(), ["iam"]).covers(&Resource::kube("f".into(), ["iam", "secret", "s"])));
    }

    #[test]
    fn selectors_choose_a_resource_its_contents_or_everything() {
        let inside = Selector::Inside(aws("eks/c"));
        assert!(!inside.selects(&aws("eks/c")));
        assert!(inside.selects(&aws("eks/c/nodegroups")));
        assert!(Selector::Under(aws("eks/c")).selects(&aws("eks/c")));
        assert!(Selector::All.selects(&Resource::kube("f".into(), [])));
    }

    #[test]
    fn keys_print_as_before() {
        assert_eq!(aws("eks/c/nodegroups").to_string(), "aws:-:eks/c/nodegroups");
        assert_eq!(
            Resource::kube("k.yaml".into(), ["", "namespace", "argocd"]).to_string(),
            "k8s:k.yaml:/namespace/argocd"
        );
        assert_eq!(Resource::kube("k.yaml".into(), []).to_string(), "k8s:k.yaml:");
    }
}
