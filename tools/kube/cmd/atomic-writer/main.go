// Command atomic-writer writes one Secret-volume payload with the kubelet's
// own AtomicWriter (k8s.io/kubernetes/pkg/volume/util, the code that updates
// every Secret and ConfigMap volume), so keyfleet's drill and loader tests
// see exactly the file-system operations a real pod sees, not our copy.
//
//	atomic-writer DIR < payload.json   payload: {"NAME": "<base64 data>", ...}
//	atomic-writer --version            prints the k8s.io/kubernetes version it was built from
//
// Files get mode 0644 (a Secret volume's defaultMode 420). DIR must exist, as
// the kubelet creates the volume directory before the first write. It prints
// nothing on success (data never reaches stdout or stderr); on failure one
// line naming the error, exit 1; a bad payload exits 2.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"k8s.io/kubernetes/pkg/volume/util"
)

// kubernetesVersion is the version of k8s.io/kubernetes compiled in, from the build info (go.mod's pin).
func kubernetesVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "k8s.io/kubernetes" {
				return dep.Version
			}
		}
	}
	return "unknown"
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Printf("atomic-writer k8s.io/kubernetes %s\n", kubernetesVersion())
		return
	}
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: atomic-writer DIR < payload.json  |  atomic-writer --version")
		os.Exit(2)
	}
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "atomic-writer: cannot read stdin")
		os.Exit(2)
	}
	var encoded map[string]string
	if err := json.Unmarshal(raw, &encoded); err != nil {
		// The payload holds secrets: never echo it, nor json's message (it may quote it).
		fmt.Fprintln(os.Stderr, "atomic-writer: stdin is not a JSON object of base64 strings")
		os.Exit(2)
	}
	payload := make(map[string]util.FileProjection, len(encoded))
	for name, b64 := range encoded {
		data, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "atomic-writer: the data of %q is not base64\n", name)
			os.Exit(2)
		}
		payload[name] = util.FileProjection{Data: data, Mode: 0o644}
	}
	writer, err := util.NewAtomicWriter(os.Args[1], "keyfleet")
	if err != nil {
		fmt.Fprintf(os.Stderr, "atomic-writer: %v\n", err)
		os.Exit(1)
	}
	if err := writer.Write(payload, nil); err != nil {
		fmt.Fprintf(os.Stderr, "atomic-writer: %v\n", err)
		os.Exit(1)
	}
}
