//go:build !unix

package server

import "testing"

// reportCPU reports nothing where getrusage is missing; see cpu_bench_test.go.
func reportCPU(*testing.B) func() { return func() {} }
