package redact

import (
	"fmt"
	"strings"
	"testing"
)

// Scrub runs on every error message and log line that leaves the sidecar, against every secret it
// has seen: a long-running sidecar holds a few hundred.

func BenchmarkScrub(b *testing.B) {
	text := "operation error STS: AssumeRole, https response error StatusCode: 403, RequestID: 4f0e7a4c-1d2b-4a8e-9b1c-3d5e6f708192, " +
		"api error AccessDenied: User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Ops"
	for _, n := range []int{0, 10, 300} {
		b.Run(fmt.Sprintf("secrets=%d", n), func(b *testing.B) {
			s := &Secrets{}
			for i := range n {
				s.Add(fmt.Sprintf("wJalrXUtnFEMI/K7MDENG/bPxRfiCY%010d", i), strings.Repeat(fmt.Sprintf("IQoJb3JpZ2luX2VjE%04d", i), 20))
			}
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				if out := s.Scrub(text); len(out) != len(text) {
					b.Fatal("scrubbed a text with no secret in it")
				}
			}
		})
	}
	b.Run("secrets=300/hit", func(b *testing.B) {
		s := &Secrets{}
		for i := range 300 {
			s.Add(fmt.Sprintf("wJalrXUtnFEMI/K7MDENG/bPxRfiCY%010d", i))
		}
		hit := text + " wJalrXUtnFEMI/K7MDENG/bPxRfiCY0000000150"
		b.ReportAllocs()
		for b.Loop() {
			if out := s.Scrub(hit); !strings.HasSuffix(out, Placeholder) {
				b.Fatal("secret not scrubbed")
			}
		}
	})
}
