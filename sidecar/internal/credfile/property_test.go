package credfile

import (
	"errors"
	"fmt"
	"math/rand"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// propertySeeds is how many random files TestWriteProfileProperty tries.
const propertySeeds = 400

// genFile makes a random credentials file for the profile target: preamble comments, sections
// named target or names close to it, credential and other keys in mixed case with odd spacing,
// comments, blank lines and unicode values, with LF, CRLF or mixed endings and with or without
// a final newline.
func genFile(r *rand.Rand, target string) string {
	pick := func(s ...string) string { return s[r.Intn(len(s))] }
	mixCase := func(s string) string {
		b := []byte(s)
		for i := range b {
			if r.Intn(3) == 0 {
				b[i] = strings.ToUpper(string(b[i]))[0]
			}
		}
		return string(b)
	}
	style := r.Intn(3) // 0 LF, 1 CRLF, 2 mixed
	eol := func() string {
		if style == 1 || (style == 2 && r.Intn(2) == 0) {
			return "\r\n"
		}
		return "\n"
	}
	word := func() string {
		return pick("x", "ünïcødé", "日本語", "a=b", "#not-a-comment", "✓ ok", "with  spaces", "", "é;è")
	}
	keyID := func() string { return pick("AKIA", "ASIA") + fmt.Sprintf("%016X", r.Uint64())[:16] }
	valueFor := func(key string) string {
		switch key {
		case "aws_access_key_id":
			return keyID()
		case "aws_session_token", "aws_security_token":
			return pick("", "IQoJb3JpZ2luX2VjE"+fmt.Sprint(r.Int63()), "tok/"+word())
		case "aws_secret_access_key":
			return fmt.Sprintf("%x/+%s", r.Int63(), word())
		}
		return word()
	}
	keyLine := func() string {
		key := pick("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token",
			"region", "output", "role_arn", "note", "mfa_serial", "aws_access_key_id_old")
		indent := pick("", "", "", " ", "\t")
		return indent + mixCase(key) + pick("=", " = ", "  =", "=  ", "\t=\t", " =   ") + valueFor(key) + pick("", "", " ")
	}
	names := []string{target, target, target, target + "2", "x" + target, strings.ToUpper(target), "profile " + target,
		"default", "prod", "ünïcødé"}

	var b strings.Builder
	line := func(s string) { b.WriteString(s + eol()) }
	for range r.Intn(4) {
		line(pick("# preamble ✓", "; preamble", "", "   ", "region = us-east-1"))
	}
	for range r.Intn(7) {
		name := pick(names...)
		line(fmt.Sprintf(pick("[%s]", "[ %s ]", "  [%s]", "[%s] # c", "[%s]\t; note", "\t[  %s]  "), name))
		for range r.Intn(9) {
			switch r.Intn(6) {
			case 0, 1, 2:
				line(keyLine())
			case 3:
				line(pick("# comment "+word(), "  ; comment", ";", "#[dev]"))
			case 4:
				line(pick("", "", "  ", "\t"))
			case 5:
				line(pick("not a key", "[unclosed "+target))
			}
		}
	}
	s := b.String()
	if r.Intn(3) == 0 {
		s = strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
	}
	return s
}

// genCreds makes random credentials; a quarter have no session token.
func genCreds(r *rand.Rand) Credentials {
	c := Credentials{
		AccessKeyID:     fmt.Sprintf("ASIA%016X", r.Uint64())[:20],
		SecretAccessKey: fmt.Sprintf("s3cr3t/%x+Zq", r.Int63()),
	}
	if r.Intn(4) != 0 {
		c.SessionToken = fmt.Sprintf("IQoJtoken%x//ünï=", r.Int63())
	}
	return c
}

// expectLongTerm says whether WriteProfile must refuse content without OverwriteLongTermKeys.
func expectLongTerm(content, profile string) bool {
	akia, token := false, false
	for _, kv := range profileKeys(content, profile) {
		akia = akia || (kv[0] == "aws_access_key_id" && strings.HasPrefix(kv[1], "AKIA"))
		token = token || (kv[0] == "aws_session_token" && kv[1] != "")
	}
	return akia && !token
}

// outside returns the lines of content outside the first section called name, with endings.
func outside(content, name string) []string {
	lines := rawLines(content)
	start, end := section(lines, name)
	if start < 0 {
		return lines
	}
	return append(append([]string{}, lines[:start]...), lines[end:]...)
}

// keptInside returns the text of the non-credential lines of the first section called name,
// header included. Endings are left out: the section's last line gains one when keys follow it.
func keptInside(content, name string) []string {
	lines := rawLines(content)
	start, end := section(lines, name)
	if start < 0 {
		return nil
	}
	var out []string
	for _, l := range lines[start:end] {
		if k, _, ok := keyOf(l); ok && isCredKey(k) {
			continue
		}
		out = append(out, textOf(l))
	}
	return out
}

// sectionTexts returns the text of every line of the first section called name, header included.
func sectionTexts(content, name string) []string {
	lines := rawLines(content)
	start, end := section(lines, name)
	if start < 0 {
		return nil
	}
	var out []string
	for _, l := range lines[start:end] {
		out = append(out, textOf(l))
	}
	return out
}

// sectionTail returns the blank and comment lines that end the first section called name.
func sectionTail(content, name string) []string {
	in := sectionTexts(content, name)
	i := len(in)
	for i > 1 {
		t := strings.TrimSpace(in[i-1])
		if t != "" && t[0] != '#' && t[0] != ';' {
			break
		}
		i--
	}
	return in[i:]
}

// countEndings counts the lines ending in a bare LF and in CRLF.
func countEndings(content string) (lf, crlf int) {
	crlf = strings.Count(content, "\r\n")
	return strings.Count(content, "\n") - crlf, crlf
}

// TestWriteProfileProperty writes a profile into many random files and checks that the profile
// reads back as the new credentials while everything else in the file stays as it was.
func TestWriteProfileProperty(t *testing.T) {
	for seed := int64(1); seed <= propertySeeds; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			r := rand.New(rand.NewSource(seed))
			target := []string{"dev", "dev", "team.dev-1", "my profile", "ünï"}[r.Intn(5)]
			before := genFile(r, target)
			creds := genCreds(r)
			opts := Options{Path: filepath.Join(t.TempDir(), "credentials"), Profile: target, OverwriteLongTermKeys: r.Intn(2) == 0}
			writeFile(t, opts.Path, before, 0o644)
			fail := func(format string, args ...any) {
				t.Helper()
				t.Fatalf("seed %d: %s\nbefore:\n%q\nafter:\n%q", seed, fmt.Sprintf(format, args...), before, readFile(t, opts.Path))
			}

			res, err := WriteProfile(opts, creds)
			if expectLongTerm(before, target) && !opts.OverwriteLongTermKeys {
				if !errors.Is(err, ErrLongTermKeys) {
					fail("want ErrLongTermKeys, got %v", err)
				}
				if got := readFile(t, opts.Path); got != before {
					fail("a refused write changed the file")
				}
				if names := dirNames(t, filepath.Dir(opts.Path)); len(names) != 1 {
					fail("a refused write left files: %v", names)
				}
				return
			}
			if err != nil {
				fail("%v", err)
			}
			after := readFile(t, opts.Path)
			start, _ := section(rawLines(before), target)
			existed := start >= 0
			if res.Path != opts.Path || res.Backup != opts.Path+".bak" || res.Created == existed {
				fail("result %+v, profile existed before: %v", res, existed)
			}

			// (a) The profile holds exactly the new credentials.
			if got, want := credKeys(t, after, target), wantCreds(creds); !reflect.DeepEqual(got, want) {
				fail("profile keys %v, want %v", got, want)
			}
			// (b) Every line outside the profile is kept, byte for byte and in order.
			gotOut, wantOut := outside(after, target), wantOutside(before, target, !existed)
			if !reflect.DeepEqual(gotOut, wantOut) {
				fail("lines outside the profile changed:\n got %q\nwant %q", gotOut, wantOut)
			}
			// (c) The profile's other lines are kept in order.
			wantIn := keptInside(before, target)
			if !existed {
				wantIn = []string{"[" + target + "]"}
			}
			if gotIn := keptInside(after, target); !reflect.DeepEqual(gotIn, wantIn) {
				fail("non-credential lines of the profile changed:\n got %q\nwant %q", gotIn, wantIn)
			}
			// Keys are added after the profile's last key line, so the blank lines and comments that
			// end the section (often about the next one) stay at its end.
			if tail := sectionTail(before, target); len(tail) > 0 {
				in := sectionTexts(after, target)
				if got := in[max(len(in)-len(tail), 0):]; !reflect.DeepEqual(got, tail) {
					fail("the profile's trailing blank lines and comments moved:\n got %q\nwant %q", got, tail)
				}
			}
			// Added lines use the file's line ending, so endings of the other style never grow.
			lf0, crlf0 := countEndings(before)
			lf1, crlf1 := countEndings(after)
			if strings.Contains(before, "\r\n") && lf1 > lf0 || !strings.Contains(before, "\r\n") && crlf1 > crlf0 {
				fail("line endings: LF %d→%d, CRLF %d→%d", lf0, lf1, crlf0, crlf1)
			}
			// (d) The file is private.
			checkMode(t, opts.Path, 0o600)
			// (e) The backup is the previous file.
			if got := readFile(t, res.Backup); got != before {
				fail("backup differs from the previous file:\n%q", got)
			}
			checkMode(t, res.Backup, 0o600)
			if left := leftovers(t, filepath.Dir(opts.Path)); len(left) > 0 {
				fail("temporary files left: %v", left)
			}

			// Writing the same credentials again changes nothing.
			if _, err := WriteProfile(opts, creds); err != nil {
				fail("second write: %v", err)
			}
			if again := readFile(t, opts.Path); again != after {
				fail("second write changed the file:\n%q", again)
			}
			if got := readFile(t, res.Backup); got != after {
				fail("second backup is not the first write's file")
			}
		})
	}
}

// TestGenFileCoverage checks that the random files cover the cases the property test is for, so a
// change to the generator cannot quietly make the property test weaker.
func TestGenFileCoverage(t *testing.T) {
	seen := map[string]int{}
	for seed := int64(1); seed <= propertySeeds; seed++ {
		r := rand.New(rand.NewSource(seed))
		target := []string{"dev", "dev", "team.dev-1", "my profile", "ünï"}[r.Intn(5)]
		f := genFile(r, target)
		lines := rawLines(f)
		count := func(name string, ok bool) {
			if ok {
				seen[name]++
			}
		}
		s, _ := section(lines, target)
		n := 0
		for _, l := range lines {
			if h, ok := headerOf(l); ok && h == target {
				n++
			}
		}
		count("target exists", s >= 0)
		count("target missing", s < 0)
		count("target twice", n > 1)
		count("crlf only", strings.Contains(f, "\r\n") && !strings.Contains(strings.ReplaceAll(f, "\r\n", ""), "\n"))
		count("lf only", !strings.Contains(f, "\r"))
		count("mixed", strings.Contains(f, "\r\n") && strings.Contains(strings.ReplaceAll(f, "\r\n", ""), "\n"))
		count("no final newline", f != "" && !strings.HasSuffix(f, "\n"))
		count("empty", f == "")
		count("long-term keys", expectLongTerm(f, target))
		count("security token", strings.Contains(strings.ToLower(f), "aws_security_token"))
		count("header with spaces", strings.Contains(f, "[ "+target+" ]"))
		count("unicode", strings.Contains(f, "日本語"))
	}
	for _, c := range []string{"target exists", "target missing", "target twice", "crlf only", "lf only", "mixed",
		"no final newline", "empty", "long-term keys", "security token", "header with spaces", "unicode"} {
		if seen[c] < 3 {
			t.Errorf("only %d of %d random files have %s", seen[c], propertySeeds, c)
		}
	}
	if testing.Verbose() {
		t.Logf("random files: %v", seen)
	}
}
