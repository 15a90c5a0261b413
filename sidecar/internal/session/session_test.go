package session

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/redact"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newStore() (*Store, *clock, *redact.Secrets) {
	c := &clock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	secrets := &redact.Secrets{}
	return NewStore(c.now, secrets), c, secrets
}

func roleSession(name string, exp time.Time) *Session {
	return &Session{
		Name: name, Command: protocol.CmdAssumeRole, Class: ClassRole, Expiration: exp,
		Credentials: aws.Credentials{AccessKeyID: "ASIAEXAMPLEKEY0WXYZ", SecretAccessKey: "secret-" + name + "-0123456789", SessionToken: "token-" + name + "-0123456789"},
		ARN:         "arn:aws:sts::123456789012:assumed-role/Dev/" + name, Source: protocol.ReservedSessionName,
	}
}

func TestPutGetExpire(t *testing.T) {
	st, c, secrets := newStore()
	exp := c.t.Add(time.Hour)
	if replaced := st.Put(roleSession("dev", exp)); replaced {
		t.Fatal("first Put reported a replacement")
	}
	if replaced := st.Put(roleSession("dev", exp)); !replaced {
		t.Fatal("second Put did not report a replacement")
	}
	if got := secrets.Scrub("x secret-dev-0123456789 token-dev-0123456789"); got != "x [redacted] [redacted]" {
		t.Fatalf("secrets not registered: %q", got)
	}
	if _, err := st.Get("dev"); err != nil {
		t.Fatal(err)
	}
	c.t = exp.Add(-time.Second)
	info := st.List().Sessions[0]
	if info.SecondsLeft != 1 || info.Expired {
		t.Fatalf("one second before expiry: %+v", info)
	}
	c.t = exp
	_, err := st.Get("dev")
	if !errors.Is(err, ErrExpired) || !strings.Contains(err.Error(), "run AssumeRole again") {
		t.Fatalf("at expiry: %v", err)
	}
	info = st.List().Sessions[0]
	if info.SecondsLeft != 0 || !info.Expired {
		t.Fatalf("at expiry: %+v", info)
	}
}

func TestInfoHasNoSecrets(t *testing.T) {
	st, c, _ := newStore()
	st.Put(roleSession("dev", c.t.Add(time.Hour)))
	info := st.List().Sessions[0]
	if info.AccessKeyID != "ASIA…WXYZ" {
		t.Fatalf("key id not masked: %q", info.AccessKeyID)
	}
	s := strings.Join([]string{info.Name, info.AccessKeyID, info.ARN, info.Source, info.Expiration}, " ")
	if strings.Contains(s, "secret-") || strings.Contains(s, "token-") {
		t.Fatalf("secret in info: %s", s)
	}
	exp, err := st.Export("dev")
	if err != nil {
		t.Fatal(err)
	}
	if exp.SecretAccessKey != "secret-dev-0123456789" || exp.SessionToken != "token-dev-0123456789" || exp.AccessKeyID != "ASIAEXAMPLEKEY0WXYZ" {
		t.Fatalf("export lacks the secrets: %+v", exp)
	}
}

func TestUseAndForget(t *testing.T) {
	st, c, _ := newStore()
	if st.Active() != protocol.ReservedSessionName {
		t.Fatalf("active = %q", st.Active())
	}
	err := st.Use("nope")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "no sessions are stored yet") {
		t.Fatalf("Use(nope) = %v", err)
	}
	st.Put(roleSession("a", c.t.Add(time.Hour)))
	st.Put(roleSession("b", c.t.Add(time.Hour)))
	st.Put(&Session{Name: "jwt", Class: ClassToken, Token: "header.payload.signature", Expiration: c.t.Add(time.Hour)})
	if err := st.Use("jwt"); err == nil {
		t.Fatal("a token session became the default identity")
	}
	if err := st.Use("b"); err != nil {
		t.Fatal(err)
	}
	list := st.List()
	if list.Active != "b" || !list.Sessions[1].Active || list.Sessions[0].Active {
		t.Fatalf("list = %+v", list)
	}
	if err := st.Forget("b"); err != nil {
		t.Fatal(err)
	}
	if st.Active() != protocol.ReservedSessionName {
		t.Fatal("forgetting the active session kept it active")
	}
	err = st.Forget("b")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "stored sessions: a, jwt") {
		t.Fatalf("Forget twice = %v", err)
	}
	if err := st.Use(protocol.ReservedSessionName); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(2 * time.Hour)
	if err := st.Use("a"); !errors.Is(err, ErrExpired) {
		t.Fatalf("Use(expired) = %v", err)
	}
}

// TestChangesCarryOnlyTheChange checks that the Changed hook gets the one session concerned (none
// when it was forgotten) and the default's name, never the list: N changes must cost O(N).
func TestChangesCarryOnlyTheChange(t *testing.T) {
	st, c, _ := newStore()
	var events []protocol.SessionsChangedParams
	st.SetHooks(Hooks{Changed: func(p protocol.SessionsChangedParams) { events = append(events, p) }})
	for _, name := range []string{"a", "b", "c"} {
		st.Put(roleSession(name, c.t.Add(time.Hour)))
	}
	if err := st.Use("b"); err != nil {
		t.Fatal(err)
	}
	if err := st.Forget("b"); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		reason, session, active string
		info                    bool
	}{
		{ReasonCreated, "a", protocol.ReservedSessionName, true},
		{ReasonCreated, "b", protocol.ReservedSessionName, true},
		{ReasonCreated, "c", protocol.ReservedSessionName, true},
		{ReasonUsed, "b", "b", true},
		{ReasonForgotten, "b", protocol.ReservedSessionName, false},
	}
	if len(events) != len(want) {
		t.Fatalf("%d events, want %d", len(events), len(want))
	}
	for i, w := range want {
		e := events[i]
		if e.Reason != w.reason || e.Session != w.session || e.Active != w.active || (e.Info != nil) != w.info {
			t.Errorf("event %d = %s %s active %s info %v, want %+v", i, e.Reason, e.Session, e.Active, e.Info != nil, w)
		}
		if e.Info != nil && (e.Info.Name != e.Session || e.Info.Active != (e.Active == e.Session)) {
			t.Errorf("event %d info = %+v", i, *e.Info)
		}
	}
}
