package keychain

import (
	"errors"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"awsflow-sts/sidecar/internal/protocol"
)

// memory is an in-memory Backend.
type memory map[string]string

func (m memory) Get(service, user string) (string, error) {
	v, ok := m[service+"/"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}
func (m memory) Set(service, user, secret string) error { m[service+"/"+user] = secret; return nil }
func (m memory) Delete(service, user string) error {
	if _, ok := m[service+"/"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(m, service+"/"+user)
	return nil
}

func TestSaveLoadRoundTrip(t *testing.T) {
	m := memory{}
	recipe := &protocol.Recipe{Command: protocol.CmdAssumeRole, Params: []byte(`{"RoleArn":"arn:aws:iam::123456789012:role/Dev"}`)}
	in := []protocol.ExportedSession{
		{Name: "me", Class: "role", SecretAccessKey: "s1", SessionToken: "t1", Expiration: "2030-01-01T00:00:00Z", Recipe: recipe},
		{Name: "ops", Class: "role", SecretAccessKey: "s2"},
	}
	if err := New(m).Save(in, "ops"); err != nil {
		t.Fatal(err)
	}
	if len(m) != 3 {
		t.Fatalf("want one item per session and an index, got %d items: %v", len(m), m)
	}
	k := New(m)
	got, active, err := k.Load()
	if err != nil {
		t.Fatal(err)
	}
	if active != "ops" || len(got) != 2 || got[0].Name != "me" || got[0].SessionToken != "t1" || got[0].Recipe == nil ||
		string(got[0].Recipe.Params) != string(recipe.Params) || got[0].Expiration != in[0].Expiration || got[0].Class != "role" {
		t.Fatalf("Load = %+v, %q", got, active)
	}
	// Saving fewer sessions deletes the items of the others.
	if err := k.Save(got[:1], protocol.ReservedSessionName); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(Service, sessionPrefix+"ops"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("the item of a session no longer kept was not deleted: %v", err)
	}
	got, active, _ = New(m).Load()
	if len(got) != 1 || active != protocol.ReservedSessionName {
		t.Errorf("after saving one session, Load = %+v, %q", got, active)
	}
}

func TestLoadSkipsDamagedItems(t *testing.T) {
	m := memory{}
	if _, _, err := New(m).Load(); err != nil {
		t.Fatalf("an empty keychain is not an error: %v", err)
	}
	_ = New(m).Save([]protocol.ExportedSession{{Name: "a"}, {Name: "b"}}, "")
	m[Service+"/"+sessionPrefix+"a"] = "not json"
	delete(m, Service+"/"+sessionPrefix+"b")
	got, _, err := New(m).Load()
	if err != nil || len(got) != 0 {
		t.Errorf("Load with damaged items = %+v, %v; want none and no error", got, err)
	}
	m[Service+"/"+indexUser] = "{"
	if _, _, err := New(m).Load(); err == nil {
		t.Error("a damaged index is not reported")
	}
}

// TestBoundedGivesUp checks that a keychain operation that never answers is given up on with the
// error that says so, and that one that answers is passed through.
func TestBoundedGivesUp(t *testing.T) {
	never := make(chan struct{})
	defer close(never)
	if err := bounded(10*time.Millisecond, func() error { <-never; return nil }); !errors.Is(err, errNoAnswer) {
		t.Fatalf("a keychain that never answers: %v, want errNoAnswer", err)
	}
	want := errors.New("locked")
	if err := bounded(time.Minute, func() error { return want }); err != want {
		t.Fatalf("an answer: %v, want %v", err, want)
	}
}
