// Package redact scrubs known secret values from any text that leaves the sidecar, as a second
// line of defence behind code that never puts them there.
//
// A secret is removed whole and by its fragments: any run of FragmentLen characters of a
// registered secret, in any letter case, and in the URL-query-encoded and JSON-escaped forms an
// endpoint or a log may quote it in. MFA codes are too short for fragments: they are removed only
// where they stand as a whole number, so account ids and timestamps that contain the same digits
// are left intact.
package redact

import (
	"encoding/json"
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Placeholder replaces a scrubbed secret.
const Placeholder = "[redacted]"

// FragmentLen is the length of the shortest run of a secret that is scrubbed wherever it appears:
// long enough that ordinary text (ARNs, ids, timestamps) never matches one by chance.
const FragmentLen = 16

// minSecretLen keeps short values out of the scrubber: they would match ordinary words.
const minSecretLen = 8

// minCodeLen is the shortest all-digit value scrubbed as a code (an MFA code has 6 digits).
const minCodeLen = 6

// Bloom filter sizes, in bits.
const (
	minBloomBits     = 1 << 12
	maxBloomBits     = 1 << 25
	bloomBitsPerItem = 16
)

// anchorLen is the stride of the scan: Scrub looks up one 8-byte anchor per 8 bytes of text, and
// only where an anchor is a piece of some secret does it look for fragments around it. Any run of
// FragmentLen bytes holds a whole anchor that starts at a multiple of anchorLen.
const anchorLen = 8

// Secrets is a set of secret values to scrub. The zero value is ready to use and safe for
// concurrent use. Its index costs about 60 bytes per character of secret (a session's keys, about
// 60 KB; a 100 KB SAML assertion, about 6 MB), and Scrub about one lookup per 8 bytes of text.
type Secrets struct {
	// any is set once a value is indexed: until then Scrub takes no lock.
	any atomic.Bool
	mu  sync.RWMutex
	// values holds every value added, by hash, so each is indexed once and the index can be
	// rebuilt without the inputs it drops.
	values map[uint64]*entry
	// inputBytes is the size of the values that are inputs only (see AddInput); seq orders them.
	inputBytes int
	seq        uint64
	seed       maphash.Seed
	// key seeds the fragment hash, so no one can craft text that collides with a fragment.
	key [2]uint64
	// fragments holds the hash of every lowercased FragmentLen-byte window of every secret, with
	// a bloom filter in front.
	fragments     map[uint64]struct{}
	fragmentBloom bloom
	// anchors holds the hash of every lowercased anchorLen-byte window of every secret long
	// enough for fragments: a bloom filter, and the hashes to rebuild it from as it grows.
	anchors     []uint64
	anchorBloom bloom
	// shorts holds lowercased secrets shorter than FragmentLen, by their first 8 bytes.
	shorts map[uint64][]string
	// codes holds all-digit secrets, matched only as whole numbers.
	codes   map[string]struct{}
	maxCode int
}

// maxInputBytes bounds the inputs (see AddInput) the index keeps once their calls are done: past
// it, the oldest are dropped, so a stream of large assertions cannot grow the sidecar without
// end (the index costs about 60 bytes per byte of secret). Values added with Add are never
// dropped. A variable so that tests can shrink it.
var maxInputBytes = 1 << 20

// entry is one registered value.
type entry struct {
	value string
	// input: added only with AddInput; pins counts the calls still using it; seq is its age.
	input bool
	pins  int
	seq   uint64
}

// Add registers values as secret for the life of the set (credentials, issued tokens, typed MFA
// codes), with the forms they may be quoted in. A value of digits only (an MFA code) of at least
// 6 digits is scrubbed only where it stands as a whole number; other values shorter than 8
// characters, and empty ones, are ignored.
func (s *Secrets) Add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		if e := s.register(v); e != nil && e.input {
			e.input = false
			s.inputBytes -= len(e.value)
		}
	}
}

// AddInput registers values one call brought (a token or an assertion the model passed or a file
// held) and keeps them until release is called once the call is done; after that they stay while
// the inputs added since come to less than maxInputBytes.
func (s *Secrets) AddInput(values ...string) (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var held []*entry
	for _, v := range values {
		if e := s.register(v); e != nil && e.input {
			e.pins++
			held = append(held, e)
		}
	}
	if len(held) == 0 {
		return func() {}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, e := range held {
				e.pins--
			}
			s.trim()
		})
	}
}

// register indexes v if it is new (as an input) and returns its entry; nil for a value too short
// to scrub. s.mu must be held.
func (s *Secrets) register(v string) *entry {
	if len(v) < minCodeLen {
		return nil
	}
	digits := isCode(v)
	if !digits && len(v) < minSecretLen {
		return nil
	}
	if s.values == nil {
		s.init()
	}
	h := maphash.String(s.seed, v)
	if e, ok := s.values[h]; ok {
		return e
	}
	s.seq++
	e := &entry{value: v, input: true, seq: s.seq}
	s.values[h] = e
	s.inputBytes += len(v)
	s.any.Store(true)
	s.indexValue(v)
	return e
}

func isCode(v string) bool { return strings.Trim(v, "0123456789") == "" }

// indexValue indexes v in every form it may be quoted in. s.mu must be held.
func (s *Secrets) indexValue(v string) {
	if isCode(v) {
		s.codes[v] = struct{}{}
		s.maxCode = max(s.maxCode, len(v))
		return
	}
	s.index(v)
	if q := url.QueryEscape(v); q != v {
		s.index(q)
	}
	if j := jsonEscape(v); j != v {
		s.index(j)
	}
}

// trim drops the oldest inputs no call holds until those left come to at most half of
// maxInputBytes, and rebuilds the index without them (halving leaves room, so a rebuild is rare).
// s.mu must be held.
func (s *Secrets) trim() {
	if s.inputBytes <= maxInputBytes {
		return
	}
	var free []uint64
	for h, e := range s.values {
		if e.input && e.pins == 0 {
			free = append(free, h)
		}
	}
	sort.Slice(free, func(i, j int) bool { return s.values[free[i]].seq < s.values[free[j]].seq })
	for _, h := range free {
		if s.inputBytes <= maxInputBytes/2 {
			break
		}
		s.inputBytes -= len(s.values[h].value)
		delete(s.values, h)
	}
	s.fragments, s.fragmentBloom = map[uint64]struct{}{}, nil
	s.anchors, s.anchorBloom = nil, nil
	s.shorts, s.codes, s.maxCode = map[uint64][]string{}, map[string]struct{}{}, 0
	for _, e := range s.values {
		s.indexValue(e.value)
	}
}

// Len reports how many secrets are registered.
func (s *Secrets) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.values)
}

func (s *Secrets) init() {
	s.values = map[uint64]*entry{}
	s.seed = maphash.MakeSeed()
	for i := range s.key {
		s.key[i] = rand.Uint64() | 1
	}
	s.fragments = map[uint64]struct{}{}
	s.shorts = map[uint64][]string{}
	s.codes = map[string]struct{}{}
}

// index adds one form of a secret. The windows an encoded form shares with the secret itself are
// stored once.
func (s *Secrets) index(form string) {
	low := lower(form)
	if len(low) < FragmentLen {
		w := word(low, 0)
		if !containsString(s.shorts[w], low) {
			s.shorts[w] = append(s.shorts[w], low)
		}
		return
	}
	for i := 0; i+FragmentLen <= len(low); i++ {
		h := s.hash(word(low, i), word(low, i+8))
		if _, ok := s.fragments[h]; ok {
			continue
		}
		s.fragments[h] = struct{}{}
		s.fragmentBloom.add(h, len(s.fragments), func(mark func(uint64)) {
			for h := range s.fragments {
				mark(h)
			}
		})
		// Each window adds the anchor it starts with; the last one adds all of its anchors. A
		// window already known came with its anchors.
		last := i + 1
		if i+FragmentLen == len(low) {
			last = i + FragmentLen - anchorLen + 1
		}
		for j := i; j < last; j++ {
			ah := s.hash(word(low, j), 0)
			s.anchors = append(s.anchors, ah)
			s.anchorBloom.add(ah, len(s.anchors), func(mark func(uint64)) {
				for _, h := range s.anchors {
					mark(h)
				}
			})
		}
	}
}

func containsString(list []string, v string) bool {
	for _, e := range list {
		if e == v {
			return true
		}
	}
	return false
}

// bloom is a bloom filter of 64-bit hashes with two probes, taken from the two halves of a hash.
type bloom []uint64

// add marks h, first growing the filter to fit n items, refilled by all.
func (b *bloom) add(h uint64, n int, all func(mark func(uint64))) {
	if bits := len(*b) * 64; bits < minBloomBits || n*bloomBitsPerItem > bits && bits < maxBloomBits {
		size := max(minBloomBits, bits)
		for size < n*bloomBitsPerItem && size < maxBloomBits {
			size *= 2
		}
		if size != bits {
			*b = make(bloom, size/64)
			all(b.mark)
		}
	}
	b.mark(h)
}

func (b bloom) mark(h uint64) {
	mask := uint64(len(b)*64 - 1)
	x, y := h&mask, (h>>32)&mask
	b[x>>6] |= 1 << (x & 63)
	b[y>>6] |= 1 << (y & 63)
}

// maybe reports whether h may have been marked; false is certain.
func (b bloom) maybe(h uint64) bool {
	if len(b) == 0 {
		return false
	}
	mask := uint64(len(b)*64 - 1)
	x, y := h&mask, (h>>32)&mask
	return b[x>>6]&(1<<(x&63)) != 0 && b[y>>6]&(1<<(y&63)) != 0
}

// hash mixes the two 8-byte halves of a window with the secret key (one wyhash round).
func (s *Secrets) hash(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a^s.key[0], b^s.key[1])
	return hi ^ lo
}

// span is a byte range [start, end) of text to replace.
type span struct{ start, end int }

// Scrub returns text with every registered secret, and every run of FragmentLen characters of
// one, replaced by Placeholder; a run of such runs becomes one Placeholder.
func (s *Secrets) Scrub(text string) string {
	if len(text) < minCodeLen || !s.any.Load() {
		return text
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	spans := s.scan(text, nil)
	if len(s.codes) > 0 {
		if codes := s.scanCodes(text, nil); len(codes) > 0 {
			spans = merge(append(spans, codes...))
		}
	}
	if len(spans) == 0 {
		return text
	}
	return replace(text, spans)
}

// scan finds fragments and short secrets, in order of their start.
func (s *Secrets) scan(text string, spans []span) []span {
	if len(s.fragments) > 0 {
		spans = s.scanFragments(text, spans)
	}
	if len(s.shorts) > 0 {
		if shorts := s.scanShorts(text, nil); len(shorts) > 0 {
			spans = merge(append(spans, shorts...))
		}
	}
	return spans
}

// scanFragments looks up one anchor per anchorLen bytes, and the windows around each anchor that
// may be a piece of a secret.
func (s *Secrets) scanFragments(text string, spans []span) []span {
	// The last anchor that can lie inside a run of FragmentLen bytes of text.
	last := len(text) - FragmentLen + anchorLen - 1
	for q := 0; q <= last; q += anchorLen {
		if !s.anchorBloom.maybe(s.hash(lowerWord(word(text, q)), 0)) {
			continue
		}
		for p := max(0, q-anchorLen+1); p <= q && p+FragmentLen <= len(text); p++ {
			h := s.hash(lowerWord(word(text, p)), lowerWord(word(text, p+8)))
			if !s.fragmentBloom.maybe(h) {
				continue
			}
			if _, ok := s.fragments[h]; ok {
				spans = add(spans, p, p+FragmentLen)
			}
		}
	}
	return spans
}

// scanShorts looks for the secrets shorter than FragmentLen at every byte.
func (s *Secrets) scanShorts(text string, spans []span) []span {
	for i := 0; i+8 <= len(text); i++ {
		for _, v := range s.shorts[lowerWord(word(text, i))] {
			if len(v) <= len(text)-i && equalFoldASCII(text[i:i+len(v)], v) {
				spans = add(spans, i, i+len(v))
			}
		}
	}
	return spans
}

// scanCodes finds registered codes that stand as whole numbers: not part of a longer number, a
// word or a decimal fraction.
func (s *Secrets) scanCodes(text string, spans []span) []span {
	for i := 0; i < len(text); {
		if !isDigit(text[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(text) && isDigit(text[j]) {
			j++
		}
		if n := j - i; n >= minCodeLen && n <= s.maxCode && standsAlone(text, i, j) {
			if _, ok := s.codes[text[i:j]]; ok {
				spans = append(spans, span{i, j})
			}
		}
		i = j
	}
	return spans
}

func standsAlone(text string, i, j int) bool {
	if i > 0 {
		if c := text[i-1]; isWordByte(c) || c == '.' && i > 1 && isDigit(text[i-2]) {
			return false
		}
	}
	if j < len(text) {
		if c := text[j]; isWordByte(c) || c == '.' && j+1 < len(text) && isDigit(text[j+1]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isWordByte(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
}

// add appends [start, end) to spans sorted by start, merging it into the last one it touches.
func add(spans []span, start, end int) []span {
	if n := len(spans); n > 0 && start <= spans[n-1].end {
		spans[n-1].end = max(spans[n-1].end, end)
		return spans
	}
	return append(spans, span{start, end})
}

func merge(spans []span) []span {
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	out := spans[:0]
	for _, sp := range spans {
		out = add(out, sp.start, sp.end)
	}
	return out
}

// replace writes text with each span replaced by Placeholder. A span is widened over a backslash
// escape it cuts, so that scrubbed JSON stays JSON.
func replace(text string, spans []span) string {
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for _, sp := range spans {
		start, end := sp.start, sp.end
		if q := openEscape(text, start); q >= last {
			start = q
		}
		if q := openEscape(text, end); q >= 0 {
			end = min(len(text), q+escapeLen(text, q))
		}
		start = max(start, last)
		// A quote that no backslash escapes is a string's delimiter, not a character of a
		// secret's JSON form: keep it, or the JSON around it breaks.
		if start < end && text[start] == '"' && !oddBackslashes(text[:start]) {
			start++
		}
		if end > start && text[end-1] == '"' && !oddBackslashes(text[:end-1]) {
			end--
		}
		if end <= start {
			continue
		}
		b.WriteString(text[last:start])
		b.WriteString(Placeholder)
		last = end
	}
	b.WriteString(text[last:])
	return b.String()
}

// openEscape returns where a backslash escape that straddles pos (starts before it and ends after
// it) begins, or -1.
func openEscape(text string, pos int) int {
	for p := pos - 1; p >= 0 && p >= pos-5; p-- {
		if text[p] != '\\' {
			continue
		}
		if !oddBackslashes(text[:p+1]) || p+escapeLen(text, p) <= pos {
			return -1
		}
		return p
	}
	return -1
}

// escapeLen is the length of the escape that starts with the backslash at p: \uXXXX or \c.
func escapeLen(text string, p int) int {
	if p+1 < len(text) && text[p+1] == 'u' {
		return 6
	}
	return 2
}

// oddBackslashes reports whether s ends in an odd run of backslashes: the last one opens an escape.
func oddBackslashes(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// word reads 8 bytes of s at i, little-endian.
func word(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// lowerWord lowercases the ASCII letters among the 8 bytes of w at once.
func lowerWord(w uint64) uint64 {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	low7 := w &^ high
	geA := low7 + (0x80-'A')*ones
	gtZ := low7 + (0x80-'Z'-1)*ones
	upper := (geA &^ gtZ) &^ w & high
	return w | upper>>2
}

// lower lowercases ASCII letters only, so byte offsets stay those of the original.
func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerByte(c)
	}
	return string(b)
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func equalFoldASCII(s, lowered string) bool {
	for i := 0; i < len(s); i++ {
		if lowerByte(s[i]) != lowered[i] {
			return false
		}
	}
	return true
}

// jsonEscape is v as it appears inside a JSON string.
func jsonEscape(v string) string {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	return string(b[1 : len(b)-1])
}
