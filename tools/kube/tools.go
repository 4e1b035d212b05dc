//go:build tools

// Package tools pins the Kubernetes components keyfleet's tests run for real:
// kube-apiserver (with etcd from Debian), kubectl, and the kubelet's
// AtomicWriter. scripts/ensure-tools.sh builds them from this module because
// `go install` refuses k8s.io/kubernetes (its go.mod has replace directives).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
