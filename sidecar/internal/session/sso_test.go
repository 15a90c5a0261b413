package session

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/redact"
)

// ssoSession is an IAM Identity Center role session of sign-in corp.
func ssoSession(name string, exp time.Time) *Session {
	return &Session{Name: name, Command: SSOCommand, Class: ClassSSO, Expiration: exp, Account: "111122223333",
		Source: protocol.ReservedSessionName, CreatedAt: exp.Add(-time.Hour),
		Credentials: aws.Credentials{AccessKeyID: "ASIASSOEXAMPLE0001", SecretAccessKey: "ssosecret-" + name, SessionToken: "ssotoken-" + name},
		Recipe:      NewSSORecipe(SSORecipe{SSOSession: "corp", AccountID: "111122223333", RoleName: "Developer"})}
}

func TestSSOSessionExportImport(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	src := NewStore(func() time.Time { return now }, &redact.Secrets{})
	src.Put(ssoSession("dev-sso", now.Add(time.Hour)))
	e, err := src.Export("dev-sso")
	if err != nil {
		t.Fatal(err)
	}
	if e.Class != string(ClassSSO) || e.Command != SSOCommand || e.Recipe == nil {
		t.Fatalf("export %+v", e)
	}
	// Expired, it is still imported: its recipe re-makes it.
	later := now.Add(2 * time.Hour)
	dst := NewStore(func() time.Time { return later }, &redact.Secrets{})
	remade := 0
	dst.SetHooks(Hooks{Remake: func(_ context.Context, old *Session) (*Session, error) {
		r, err := ParseSSORecipe(old.Recipe)
		if err != nil || r.SSOSession != "corp" || r.RoleName != "Developer" {
			t.Errorf("recipe %+v %v", r, err)
		}
		remade++
		fresh := ssoSession(old.Name, later.Add(time.Hour))
		fresh.Credentials.AccessKeyID = "ASIASSOEXAMPLE0002"
		return fresh, nil
	}})
	res, err := dst.Import([]protocol.ExportedSession{e}, "")
	if err != nil || len(res.Imported) != 1 {
		t.Fatalf("import %+v %v", res, err)
	}
	dst.Maintain(context.Background())
	s, err := dst.Get("dev-sso")
	if err != nil || remade != 1 || s.Credentials.AccessKeyID != "ASIASSOEXAMPLE0002" || s.Class != ClassSSO {
		t.Fatalf("after maintenance: %+v %v (remade %d)", s, err, remade)
	}

	for name, mut := range map[string]func(*protocol.ExportedSession){
		"sso class, other command": func(e *protocol.ExportedSession) { e.Command = protocol.CmdAssumeRole },
		"sso command, other class": func(e *protocol.ExportedSession) { e.Class = string(ClassRole) },
		"recipe without a role": func(e *protocol.ExportedSession) {
			e.Recipe.Params = []byte(`{"ssoSession":"corp","accountId":"111122223333"}`)
		},
		"recipe of another kind": func(e *protocol.ExportedSession) { e.Recipe.Command = protocol.CmdAssumeRole },
	} {
		bad := e
		r := *e.Recipe
		bad.Recipe = &r
		mut(&bad)
		if _, err := NewStore(time.Now, &redact.Secrets{}).Import([]protocol.ExportedSession{bad}, ""); err == nil {
			t.Errorf("%s: imported", name)
		}
	}
}

func TestSSOSessionsAreRoleCredentialsAndForgetMatching(t *testing.T) {
	if !ClassSSO.Role() || !ClassRole.Role() || ClassSessionToken.Role() {
		t.Error("Role() is wrong")
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	st := NewStore(func() time.Time { return now }, &redact.Secrets{})
	st.Put(ssoSession("a", now.Add(time.Hour)))
	st.Put(ssoSession("b", now.Add(time.Hour)))
	st.Put(&Session{Name: "c", Command: protocol.CmdAssumeRole, Class: ClassRole, Expiration: now.Add(time.Hour)})
	if err := st.Use("b"); err != nil {
		t.Fatal(err)
	}
	got := st.ForgetMatching(func(s *Session) bool { return s.Class == ClassSSO })
	if strings.Join(got, ",") != "a,b" || st.Active() != protocol.ReservedSessionName || len(st.Names()) != 1 {
		t.Errorf("forgot %v, active %s, left %v", got, st.Active(), st.Names())
	}
	st.Put(ssoSession("d", now.Add(-time.Minute)))
	if _, err := st.Get("d"); !errors.Is(err, ErrExpired) || !strings.Contains(err.Error(), "sign in to IAM Identity Center again") {
		t.Errorf("expired SSO session: %v", err)
	}
}
