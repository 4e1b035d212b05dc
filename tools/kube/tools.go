//go:build tools

// Package tools pins the Kubernetes components keyfleet's tests run for real.
// This file keeps k8s.io/kubernetes' kube-apiserver (run with etcd from
// Debian) and kubectl in go.mod; the kubelet's AtomicWriter
// (k8s.io/kubernetes/pkg/volume/util) is used by cmd/atomic-writer, a small
// command of this module. scripts/ensure-tools.sh --with-kube builds all three
// from this module, because `go install` refuses k8s.io/kubernetes (its
// go.mod has replace directives).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
