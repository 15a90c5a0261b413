//go:build unix

package rpc

import (
	"syscall"
	"testing"
	"time"
)

// reportCPU adds cpu-ns/op to a benchmark: the process's user and system CPU time per operation,
// every goroutine included. On a busy machine it moves far less than ns/op, which also counts the
// time spent waiting for a core, so before/after comparisons use it. Call the returned function
// after the loop.
func reportCPU(b *testing.B) func() {
	b.Helper()
	start := cpuTime()
	return func() {
		if n := b.N; n > 0 {
			b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(n), "cpu-ns/op")
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
