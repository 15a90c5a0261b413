//go:build !unix

package benchcpu

import "testing"

// Report reports nothing where getrusage is missing; see cpu_unix.go.
func Report(*testing.B) func() { return func() {} }
