// Package k8s holds Quire's Kubernetes manifests: a Kustomize base with one
// Deployment per role, components (KEDA, HPA, Redis, shared volume, Gateway
// with cert-manager TLS, monitoring) and overlays (dev, gke).
//
// The package has no code; its tests render every overlay with the
// Kustomize API, decode every object strictly into the Kubernetes API types
// (and KEDA's, the Prometheus Operator's, Gateway API's and cert-manager's),
// and check the invariants of DESIGN.md: probes, requests and a
// disruption budget for every workload, a grace period that covers the
// shutdown, pinned images, default-deny network policies, and nothing
// exposed but the edge.
//
// The tests live in their own module (deploy/go.mod), so that the
// Kubernetes libraries they need never enter Quire's binary or its go.mod.
package k8s
