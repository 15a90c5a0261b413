// Package redact scrubs known secret values from any text that leaves the sidecar, as a second
// line of defence behind code that never puts them there.
package redact

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Placeholder replaces a scrubbed secret.
const Placeholder = "[redacted]"

// minSecretLen keeps short values out of the scrubber: a six-digit MFA code would also match
// inside account ids and timestamps and mangle them, so such codes are kept out of output by
// construction alone.
const minSecretLen = 8

// Secrets is a set of secret values to scrub. The zero value is ready to use and safe for
// concurrent use.
type Secrets struct {
	mu       sync.Mutex
	values   map[string]struct{}
	replacer atomic.Pointer[strings.Replacer]
}

// Add registers values as secret; empty and very short values are ignored.
func (s *Secrets) Add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = make(map[string]struct{})
	}
	changed := false
	for _, v := range values {
		if len(v) < minSecretLen {
			continue
		}
		if _, ok := s.values[v]; !ok {
			s.values[v] = struct{}{}
			changed = true
		}
	}
	if changed {
		s.rebuild()
	}
}

// Len reports how many secrets are registered.
func (s *Secrets) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.values)
}

func (s *Secrets) rebuild() {
	// Longest first, so a secret that contains another is replaced whole.
	vals := make([]string, 0, len(s.values))
	for v := range s.values {
		vals = append(vals, v)
	}
	sort.Slice(vals, func(i, j int) bool { return len(vals[i]) > len(vals[j]) })
	pairs := make([]string, 0, 2*len(vals))
	for _, v := range vals {
		pairs = append(pairs, v, Placeholder)
	}
	s.replacer.Store(strings.NewReplacer(pairs...))
}

// Scrub returns text with every registered secret replaced by Placeholder.
func (s *Secrets) Scrub(text string) string {
	r := s.replacer.Load()
	if r == nil || text == "" {
		return text
	}
	return r.Replace(text)
}
