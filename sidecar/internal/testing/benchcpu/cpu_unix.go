//go:build unix

// Package benchcpu adds the process's CPU time per operation to Go benchmarks. On a busy machine it
// moves far less than ns/op, which also counts the time spent waiting for a core, so the
// before/after comparisons of docs/BENCHMARKS.md use it.
package benchcpu

import (
	"syscall"
	"testing"
	"time"
)

// Report starts counting the process's user and system CPU time, every goroutine included; the
// returned function, called after the benchmark loop, reports it as cpu-ns/op.
func Report(b *testing.B) func() {
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
