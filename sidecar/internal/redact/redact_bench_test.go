package redact

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// Scrub runs on every result, error message and log line that leaves the sidecar, against every
// secret it has seen: a long-running sidecar holds a few hundred.

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
	// Real session tokens are ~1,000 random characters, so every window of them is distinct; a
	// tool result is a few KB.
	r := rand.New(rand.NewPCG(1, 2))
	many := &Secrets{}
	var tok string
	for range 150 {
		tok = randomSecret(r, 1000)
		many.Add(randomSecret(r, 40), tok)
	}
	result := strings.Repeat(text+"\n", 15)
	b.Run("sessions=150/result=4KB", func(b *testing.B) {
		b.SetBytes(int64(len(result)))
		b.ReportAllocs()
		for b.Loop() {
			if out := many.Scrub(result); len(out) != len(result) {
				b.Fatal("scrubbed a text with no secret in it")
			}
		}
	})
	hit := result + strings.ToUpper(tok[100:140])
	b.Run("sessions=150/result=4KB/hit", func(b *testing.B) {
		b.SetBytes(int64(len(hit)))
		b.ReportAllocs()
		for b.Loop() {
			if out := many.Scrub(hit); !strings.HasSuffix(out, Placeholder) {
				b.Fatal("secret not scrubbed")
			}
		}
	})
}

func randomSecret(r *rand.Rand, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// BenchmarkAddInput is the cost of one 100 KB assertion passed to a command, with the index at its
// bound: indexing it, and the rebuilds that dropping older inputs takes, spread over the calls.
func BenchmarkAddInput(b *testing.B) {
	var s Secrets
	r := rand.New(rand.NewPCG(1, 2))
	raw := make([]byte, 75_000)
	b.ReportAllocs()
	for b.Loop() {
		for j := range raw {
			raw[j] = byte(r.Uint32())
		}
		s.AddInput(base64.StdEncoding.EncodeToString(raw))()
	}
}
