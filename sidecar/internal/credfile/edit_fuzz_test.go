package credfile

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// FuzzEdit edits arbitrary file content. Whatever the file holds, edit never panics, a refusal
// is ErrLongTermKeys and only when the profile holds long-term keys, and a write keeps every line
// outside the profile byte for byte and in order, keeps the profile's other lines, and leaves the
// profile holding exactly the new credentials; editing the result again changes nothing.
func FuzzEdit(f *testing.F) {
	f.Fuzz(func(t *testing.T, content, profile, keyID, secret, token string, overwrite bool) {
		creds := Credentials{AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: token}
		if ValidProfileName(profile) != nil || checkCredentials(creds) != nil {
			return // WriteProfile refuses these before it edits anything
		}
		out, added, err := edit([]byte(content), profile, creds, overwrite)
		if err != nil {
			if !errors.Is(err, ErrLongTermKeys) || overwrite || !expectLongTerm(content, profile) {
				t.Fatalf("edit refused (overwrite %v): %v\nfile: %q", overwrite, err, content)
			}
			return
		}
		if !overwrite && expectLongTerm(content, profile) {
			t.Fatalf("edit replaced long-term keys without OverwriteLongTermKeys\nfile: %q", content)
		}
		after := string(out)
		start, _ := section(rawLines(content), profile)
		if added != (start < 0) {
			t.Fatalf("added = %v, but the profile existed before: %v\nfile: %q", added, start >= 0, content)
		}
		if got, want := credKeys(t, after, profile), wantCreds(creds); !reflect.DeepEqual(got, want) {
			t.Fatalf("profile keys %v, want %v\nbefore: %q\nafter:  %q", got, want, content, after)
		}
		gotOut, wantOut := outside(after, profile), wantOutside(content, profile, added)
		if !reflect.DeepEqual(gotOut, wantOut) {
			t.Fatalf("lines outside the profile changed:\n got %q\nwant %q", gotOut, wantOut)
		}
		wantIn := keptInside(content, profile)
		if added {
			wantIn = []string{"[" + profile + "]"}
		}
		if gotIn := keptInside(after, profile); !reflect.DeepEqual(gotIn, wantIn) {
			t.Fatalf("the profile's other lines changed:\n got %q\nwant %q", gotIn, wantIn)
		}
		again, addedAgain, err := edit(out, profile, creds, true)
		if err != nil || addedAgain || !bytes.Equal(again, out) {
			t.Fatalf("a second identical edit changed the file (added %v, err %v):\n got %q\nwant %q", addedAgain, err, again, out)
		}
	})
}
