// Command protogen regenerates the files derived from protocol/model.json, or with -check reports
// those that are stale and exits 1.
package main

import (
	"flag"
	"fmt"
	"os"

	"awsflow-sts/sidecar/internal/protocolgen"
)

func main() {
	check := flag.Bool("check", false, "report stale generated files instead of writing them")
	root := flag.String("root", ".", "repository root")
	flag.Parse()
	if *check {
		stale, err := protocolgen.Stale(*root)
		if err != nil {
			fmt.Fprintln(os.Stderr, "protogen:", err)
			os.Exit(2)
		}
		for _, s := range stale {
			fmt.Fprintln(os.Stderr, "stale:", s)
		}
		if len(stale) > 0 {
			fmt.Fprintln(os.Stderr, "run `make generate` to update them")
			os.Exit(1)
		}
		return
	}
	if err := protocolgen.Write(*root); err != nil {
		fmt.Fprintln(os.Stderr, "protogen:", err)
		os.Exit(1)
	}
}
