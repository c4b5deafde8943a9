// Package deploy holds what it takes to run Quire outside `quire up`: the
// container image (Dockerfile, with an OCR variant), compose.yaml for local
// onboarding, an nginx configuration for hosts without Kubernetes, and the
// Kubernetes manifests in k8s/.
//
// Its tests check the files that no test here can run: no Docker engine is
// available to the tests, so the Dockerfile is parsed with BuildKit's own
// parser and its rules are checked instead of building it.
package deploy
