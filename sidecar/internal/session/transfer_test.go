package session

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/redact"
)

const mfaSerial = "arn:aws:iam::123456789012:mfa/alice"

// transferSessions is one session of every class, with every exported field set.
func transferSessions(now time.Time) []*Session {
	creds := func(n string) aws.Credentials {
		return aws.Credentials{AccessKeyID: "ASIA" + strings.ToUpper(n) + "KEY00000000001", SecretAccessKey: "secret-" + n + "-0123456789", SessionToken: "token-" + n + "-0123456789"}
	}
	created := now.Add(-20 * time.Minute)
	return []*Session{
		{
			Name: "dev", Command: protocol.CmdAssumeRole, Class: ClassRole, Credentials: creds("dev"), Expiration: now.Add(time.Hour),
			ARN: "arn:aws:sts::123456789012:assumed-role/Dev/dev", Account: "123456789012", SourceIdentity: "alice", Region: "eu-west-1",
			Source: protocol.ReservedSessionName, CreatedAt: created, Profile: "dev-role",
			Recipe: &protocol.Recipe{Command: protocol.CmdAssumeRole, Params: json.RawMessage(`{"Profile":"dev-role","DurationSeconds":3600}`), Source: protocol.ReservedSessionName},
		},
		{
			Name: "ops", Command: protocol.CmdAssumeRole, Class: ClassRole, Credentials: creds("ops"), Expiration: now.Add(50 * time.Minute),
			ARN: "arn:aws:sts::123456789012:assumed-role/Ops/ops", Account: "123456789012", Region: "eu-west-1",
			Source: "dev", Chained: true, CreatedAt: created.Add(time.Minute), Profile: "dev-role",
			Recipe: &protocol.Recipe{Command: protocol.CmdAssumeRole, Params: json.RawMessage(`{"RoleArn":"arn:aws:iam::123456789012:role/Ops","RoleSessionName":"ops"}`), Source: "dev"},
		},
		{
			Name: "mfa-alice", Command: protocol.CmdGetSessionToken, Class: ClassSessionToken, Credentials: creds("mfa"), Expiration: now.Add(12 * time.Hour),
			ARN: "arn:aws:iam::123456789012:user/alice", Account: "123456789012", Region: "us-east-1",
			Source: protocol.ReservedSessionName, CreatedAt: created, MFASerial: mfaSerial, Profile: "test",
		},
		{
			Name: "admin", Command: protocol.CmdAssumeRole, Class: ClassRole, Credentials: creds("admin"), Expiration: now.Add(time.Hour),
			ARN: "arn:aws:sts::123456789012:assumed-role/Admin/admin", Account: "123456789012", Region: "us-east-1",
			Source: "mfa-alice", CreatedAt: created, MFASerial: mfaSerial, Profile: "admin-role",
			Recipe: &protocol.Recipe{Command: protocol.CmdAssumeRole, Params: json.RawMessage(`{"Profile":"admin-role"}`), Source: "mfa-alice"},
		},
		{
			Name: "bob", Command: protocol.CmdGetFederationToken, Class: ClassFederated, Credentials: creds("bob"), Expiration: now.Add(12 * time.Hour),
			ARN: "arn:aws:sts::123456789012:federated-user/bob", Account: "123456789012", Region: "us-east-1",
			Source: protocol.ReservedSessionName, CreatedAt: created, Profile: "test",
			Recipe: &protocol.Recipe{Command: protocol.CmdGetFederationToken, Params: json.RawMessage(`{"Name":"bob"}`), Source: protocol.ReservedSessionName},
		},
		{
			Name: "root-111122223333", Command: protocol.CmdAssumeRoot, Class: ClassRoot, Credentials: creds("root"), Expiration: now.Add(15 * time.Minute),
			ARN: "arn:aws:iam::111122223333:root", Account: "111122223333", Region: "us-east-1",
			Source: protocol.ReservedSessionName, CreatedAt: created, Profile: "test",
		},
		{
			Name: "jwt", Command: protocol.CmdGetWebIdentityToken, Class: ClassToken, Token: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl",
			Expiration: now.Add(5 * time.Minute), Account: "123456789012", Region: "us-east-1",
			Source: "dev", CreatedAt: created, Profile: "dev-role",
		},
	}
}

// wantExport is what Export must say of s.
func wantExport(s *Session) protocol.ExportedSession {
	kind := protocol.MintsCredentials
	if s.Class == ClassToken {
		kind = protocol.MintsToken
	}
	e := protocol.ExportedSession{
		Name: s.Name, Kind: string(kind), Command: s.Command, Class: string(s.Class), ARN: s.ARN, Account: s.Account,
		SourceIdentity: s.SourceIdentity, Region: s.Region, Source: s.Source, Chained: s.Chained,
		AccessKeyID: s.Credentials.AccessKeyID, SecretAccessKey: s.Credentials.SecretAccessKey, SessionToken: s.Credentials.SessionToken,
		WebIdentityToken: s.Token, Expiration: s.Expiration.UTC().Format(time.RFC3339), CreatedAt: s.CreatedAt.UTC().Format(time.RFC3339),
		MfaSerial: s.MFASerial, Profile: s.Profile,
	}
	if s.Recipe != nil {
		r := *s.Recipe
		e.Recipe = &r
	}
	return e
}

func exportAll(t *testing.T, st *Store) []protocol.ExportedSession {
	t.Helper()
	var out []protocol.ExportedSession
	for _, n := range st.Names() {
		e, err := st.Export(n)
		if err != nil {
			t.Fatalf("Export(%s): %v", n, err)
		}
		out = append(out, e)
	}
	return out
}

func TestExportImportRoundTrip(t *testing.T) {
	src, c, _ := newStore()
	fixtures := transferSessions(c.t)
	for _, s := range fixtures {
		src.Put(s)
	}
	if err := src.Use("ops"); err != nil {
		t.Fatal(err)
	}
	exported := exportAll(t, src)
	if len(exported) != len(fixtures) {
		t.Fatalf("exported %d of %d", len(exported), len(fixtures))
	}
	for _, s := range fixtures {
		t.Run("export "+s.Name, func(t *testing.T) {
			got, err := src.Export(s.Name)
			if err != nil {
				t.Fatal(err)
			}
			if want := wantExport(s); !reflect.DeepEqual(got, want) {
				t.Fatalf("Export =\n%+v\nwant\n%+v", got, want)
			}
			if s.Recipe != nil && got.Recipe == s.Recipe {
				t.Fatal("Export shares the stored recipe")
			}
		})
	}

	// The copy lands in another sidecar a little later, with its own secrets.
	dstSecrets := &redact.Secrets{}
	dstClock := &clock{t: c.t.Add(2 * time.Minute)}
	dst := NewStore(dstClock.now, dstSecrets)
	dst.SetWindow(testWindow, noJitter)
	rec := &recorder{}
	dst.SetHooks(Hooks{Changed: rec.record})
	wire, err := json.Marshal(exported) // as the extension keeps it
	if err != nil {
		t.Fatal(err)
	}
	var back []protocol.ExportedSession
	if err := json.Unmarshal(wire, &back); err != nil {
		t.Fatal(err)
	}
	res, err := dst.Import(back, "ops")
	if err != nil {
		t.Fatal(err)
	}
	names := src.Names()
	if !slices.Equal(res.Imported, names) || len(res.Skipped) != 0 {
		t.Fatalf("Import = %+v, want all of %v", res, names)
	}
	t.Run("same export", func(t *testing.T) {
		if got := exportAll(t, dst); !reflect.DeepEqual(got, exported) {
			t.Fatalf("after the round trip:\n%+v\nwant\n%+v", got, exported)
		}
	})
	t.Run("active restored", func(t *testing.T) {
		if dst.Active() != "ops" {
			t.Fatalf("active = %q", dst.Active())
		}
	})
	t.Run("events", func(t *testing.T) {
		var want []string
		for _, n := range names {
			want = append(want, ReasonImported+":"+n)
		}
		want = append(want, ReasonUsed+":ops")
		var got []string
		for _, e := range rec.take() {
			got = append(got, e.Reason+":"+e.Session)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
	})
	t.Run("secrets registered", func(t *testing.T) {
		for _, s := range fixtures {
			for _, secret := range []string{s.Credentials.SecretAccessKey, s.Credentials.SessionToken, s.Token} {
				if secret == "" {
					continue
				}
				if got := dstSecrets.Scrub("x " + secret + " y"); got != "x [redacted] y" {
					t.Errorf("%s: secret not registered: %q", s.Name, got)
				}
			}
		}
	})
	t.Run("imported recipe sessions refresh", func(t *testing.T) {
		for _, s := range fixtures {
			want := time.Time{}
			if s.Recipe != nil {
				want = s.Expiration.Add(-5 * time.Minute)
			}
			if got := dst.RefreshAt(s.Name); !got.Equal(want) {
				t.Errorf("%s: RefreshAt = %v, want %v", s.Name, got, want)
			}
		}
	})
	t.Run("listed the same", func(t *testing.T) {
		a, b := src.List(), dst.List()
		for i := range a.Sessions {
			a.Sessions[i].SecondsLeft, b.Sessions[i].SecondsLeft = 0, 0 // the clocks differ
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("lists differ:\n%+v\n%+v", a, b)
		}
	})
}

// goodExport is a valid exported role session.
func goodExport(name string, exp time.Time) protocol.ExportedSession {
	s := refreshable(name, exp)
	s.Credentials.AccessKeyID = "ASIAEXAMPLEKEY0" + strings.ToUpper(strings.ReplaceAll(name, "-", ""))
	s.CreatedAt = exp.Add(-time.Hour)
	return wantExport(s)
}

// tokenExport is a valid exported token session.
func tokenExport(name string, exp time.Time) protocol.ExportedSession {
	return wantExport(&Session{Name: name, Command: protocol.CmdGetWebIdentityToken, Class: ClassToken, Token: "header.payload.signature-" + name,
		Expiration: exp, CreatedAt: exp.Add(-time.Hour), Source: protocol.ReservedSessionName})
}

func TestImportValidation(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	exp := now.Add(time.Hour)
	role := func(mut func(e *protocol.ExportedSession)) func() protocol.ExportedSession {
		return func() protocol.ExportedSession { e := goodExport("bad", exp); mut(&e); return e }
	}
	token := func(mut func(e *protocol.ExportedSession)) func() protocol.ExportedSession {
		return func() protocol.ExportedSession { e := tokenExport("bad", exp); mut(&e); return e }
	}
	tests := []struct {
		name   string
		bad    func() protocol.ExportedSession // put between two good entries; nil: none
		active string
		want   []string
	}{
		{"bad name", role(func(e *protocol.ExportedSession) { e.Name = "no spaces" }), "", []string{`sessions[1] ("no spaces")`, "name must be 1 to 64"}},
		{"empty name", role(func(e *protocol.ExportedSession) { e.Name = "" }), "", []string{"name must be"}},
		{"name too long", role(func(e *protocol.ExportedSession) { e.Name = strings.Repeat("a", 65) }), "", []string{"name must be"}},
		{"reserved name", role(func(e *protocol.ExportedSession) { e.Name = protocol.ReservedSessionName }), "", []string{`sessions[1] ("base")`, `not "base"`}},
		{"unknown command", role(func(e *protocol.ExportedSession) { e.Command = "AssumeRol" }), "", []string{`command "AssumeRol" is not an STSTool command`}},
		{"bad class", role(func(e *protocol.ExportedSession) { e.Class = "admin" }), "", []string{`class "admin" is not one of`}},
		{"no class", role(func(e *protocol.ExportedSession) { e.Class = "" }), "", []string{`class "" is not one of`}},
		{"bad expiration", role(func(e *protocol.ExportedSession) { e.Expiration = "tomorrow" }), "", []string{`expiration "tomorrow" is not an RFC 3339 time`}},
		{"bad createdAt", role(func(e *protocol.ExportedSession) { e.CreatedAt = "2026-13-01" }), "", []string{`createdAt "2026-13-01"`}},
		{"bad source", role(func(e *protocol.ExportedSession) { e.Source = "no spaces" }), "", []string{`source "no spaces" is not a session name`}},
		{"token with keys", token(func(e *protocol.ExportedSession) { e.AccessKeyID = "ASIAEXAMPLEKEY0WXYZ" }), "", []string{"a token session has kind"}},
		{"token without token", token(func(e *protocol.ExportedSession) { e.WebIdentityToken = "" }), "", []string{"a token session has kind"}},
		{"token of credentials kind", token(func(e *protocol.ExportedSession) { e.Kind = string(protocol.MintsCredentials) }), "", []string{"a token session has kind"}},
		{"credentials of token kind", role(func(e *protocol.ExportedSession) { e.Kind = string(protocol.MintsToken) }), "", []string{`kind must be "credentials"`}},
		{"credentials without secret", role(func(e *protocol.ExportedSession) { e.SecretAccessKey = "" }), "", []string{"credentials need an accessKeyId, a secretAccessKey and a sessionToken"}},
		{"credentials without token", role(func(e *protocol.ExportedSession) { e.SessionToken = "" }), "", []string{"credentials need"}},
		{"credentials without key id", role(func(e *protocol.ExportedSession) { e.AccessKeyID = "" }), "", []string{"credentials need"}},
		{"bad key id", role(func(e *protocol.ExportedSession) { e.AccessKeyID = "asia-lowercase-key" }), "", []string{"credentials need"}},
		{"short key id", role(func(e *protocol.ExportedSession) { e.AccessKeyID = "ASIA123" }), "", []string{"credentials need"}},
		{"recipe for a command that cannot refresh", role(func(e *protocol.ExportedSession) {
			e.Command = protocol.CmdAssumeRoleWithSAML
			e.Recipe.Command = protocol.CmdAssumeRoleWithSAML
		}), "", []string{`recipe command "AssumeRoleWithSAML" cannot re-make a AssumeRoleWithSAML session`}},
		{"recipe of another command", role(func(e *protocol.ExportedSession) { e.Recipe.Command = protocol.CmdGetSessionToken }), "", []string{`recipe command "GetSessionToken" cannot re-make a AssumeRole session`}},
		{"recipe params an array", role(func(e *protocol.ExportedSession) { e.Recipe.Params = json.RawMessage(`["RoleArn"]`) }), "", []string{"recipe params must be a JSON object"}},
		{"recipe params a string", role(func(e *protocol.ExportedSession) { e.Recipe.Params = json.RawMessage(`"RoleArn"`) }), "", []string{"recipe params must be a JSON object"}},
		{"recipe params null", role(func(e *protocol.ExportedSession) { e.Recipe.Params = json.RawMessage(`null`) }), "", []string{"recipe params must be a JSON object"}},
		{"recipe params missing", role(func(e *protocol.ExportedSession) { e.Recipe.Params = nil }), "", []string{"recipe params must be a JSON object"}},
		{"recipe params broken", role(func(e *protocol.ExportedSession) { e.Recipe.Params = json.RawMessage(`{"RoleArn":`) }), "", []string{"recipe params must be a JSON object"}},
		{"duplicate name", role(func(e *protocol.ExportedSession) { e.Name = "good-a" }), "", []string{`sessions[1]: "good-a" appears more than once`}},
		{"bad active", nil, "no spaces", []string{`active "no spaces" is not a session name`}},
		{"every problem listed", role(func(e *protocol.ExportedSession) {
			e.Class, e.Expiration, e.SecretAccessKey = "admin", "soon", ""
		}), "x y", []string{`class "admin"`, `expiration "soon"`, "credentials need", `active "x y"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, c, secrets := newStore()
			c.t = now
			rec := &recorder{}
			st.SetHooks(Hooks{Changed: rec.record})
			in := []protocol.ExportedSession{goodExport("good-a", exp)}
			if tt.bad != nil {
				in = append(in, tt.bad())
			}
			in = append(in, goodExport("good-b", exp))
			res, err := st.Import(in, tt.active)
			if err == nil {
				t.Fatalf("Import accepted it: %+v", res)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "nothing was imported: ") {
				t.Errorf("error %q does not say nothing was imported", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, "good-b") || strings.Contains(msg, "sessions[0]") || strings.Contains(msg, "sessions[2]") {
				t.Errorf("error blames a good entry: %s", msg)
			}
			for _, e := range in {
				for _, secret := range []string{e.SecretAccessKey, e.SessionToken, e.WebIdentityToken} {
					if secret != "" && strings.Contains(msg, secret) {
						t.Errorf("error shows a secret: %s", msg)
					}
				}
			}
			if list := st.List(); len(list.Sessions) != 0 || list.Active != protocol.ReservedSessionName {
				t.Fatalf("something was stored: %+v", list)
			}
			if events := rec.take(); len(events) != 0 {
				t.Fatalf("events: %v", keys(events))
			}
			if n := secrets.Len(); n != 0 {
				t.Fatalf("%d secrets registered by a refused import", n)
			}
		})
	}

	t.Run("several bad entries", func(t *testing.T) {
		st, c, _ := newStore()
		c.t = now
		bad1, bad2 := goodExport("x", exp), goodExport("y", exp)
		bad1.Class = "admin"
		bad2.Expiration = "later"
		_, err := st.Import([]protocol.ExportedSession{goodExport("good-a", exp), bad1, bad2}, "")
		if err == nil || !strings.Contains(err.Error(), `sessions[1] ("x"): class "admin"`) || !strings.Contains(err.Error(), `sessions[2] ("y"): expiration "later"`) {
			t.Fatalf("Import error = %v", err)
		}
		if len(st.Names()) != 0 {
			t.Fatalf("stored %v", st.Names())
		}
	})

	t.Run("defaults", func(t *testing.T) {
		st, c, _ := newStore()
		c.t = now
		e := goodExport("dev", exp)
		e.Source, e.CreatedAt = "", ""
		if _, err := st.Import([]protocol.ExportedSession{e}, ""); err != nil {
			t.Fatal(err)
		}
		got, err := st.Export("dev")
		if err != nil {
			t.Fatal(err)
		}
		if got.Source != protocol.ReservedSessionName || got.CreatedAt != now.Format(time.RFC3339) {
			t.Fatalf("source %q createdAt %q; want base and the import time", got.Source, got.CreatedAt)
		}
	})
}

func TestImportSkipsAndReplaces(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	withKey := func(e protocol.ExportedSession, key string) protocol.ExportedSession { e.AccessKeyID = key; return e }
	noRecipe := func(e protocol.ExportedSession) protocol.ExportedSession { e.Recipe = nil; return e }
	const oldKey, newKey = "ASIAALREADYSTORED001", "ASIAFROMTHEIMPORT001"
	tests := []struct {
		name     string
		stored   []*Session
		storedOn string // active before the import
		in       []protocol.ExportedSession
		active   string
		imported []string
		skipped  [][2]string // name, part of the reason; in order
		events   []string    // in order
		key      string      // key id of "dev" afterwards, if set
		want     string      // Active() afterwards
	}{
		{
			name:    "expired without recipe skipped",
			in:      []protocol.ExportedSession{noRecipe(goodExport("dev", now.Add(-time.Minute)))},
			skipped: [][2]string{{"dev", "expired at 2026-11-23T11:59:00Z"}},
			want:    protocol.ReservedSessionName,
		},
		{
			name:    "expiring this second without recipe skipped",
			in:      []protocol.ExportedSession{noRecipe(goodExport("dev", now))},
			skipped: [][2]string{{"dev", "expired at"}},
			want:    protocol.ReservedSessionName,
		},
		{
			name:     "expired with recipe imported",
			in:       []protocol.ExportedSession{withKey(goodExport("dev", now.Add(-time.Hour)), newKey)},
			imported: []string{"dev"},
			events:   []string{"imported:dev"},
			key:      newKey,
			want:     protocol.ReservedSessionName,
		},
		{
			name:     "stored one lasts longer: kept",
			stored:   []*Session{withKeyS(roleSession("dev", now.Add(2*time.Hour)), oldKey)},
			in:       []protocol.ExportedSession{withKey(goodExport("dev", now.Add(time.Hour)), newKey)},
			skipped:  [][2]string{{"dev", "lasts as long or longer"}},
			key:      oldKey,
			want:     protocol.ReservedSessionName,
			imported: nil,
		},
		{
			name:    "stored one lasts as long: kept",
			stored:  []*Session{withKeyS(roleSession("dev", now.Add(time.Hour)), oldKey)},
			in:      []protocol.ExportedSession{withKey(goodExport("dev", now.Add(time.Hour)), newKey)},
			skipped: [][2]string{{"dev", "lasts as long or longer"}},
			key:     oldKey,
			want:    protocol.ReservedSessionName,
		},
		{
			name:     "stored one is shorter: replaced",
			stored:   []*Session{withKeyS(roleSession("dev", now.Add(30*time.Minute)), oldKey)},
			in:       []protocol.ExportedSession{withKey(goodExport("dev", now.Add(time.Hour)), newKey)},
			imported: []string{"dev"},
			events:   []string{"imported:dev"},
			key:      newKey,
			want:     protocol.ReservedSessionName,
		},
		{
			name:     "stored one has expired: replaced",
			stored:   []*Session{withKeyS(roleSession("dev", now.Add(-time.Minute)), oldKey)},
			in:       []protocol.ExportedSession{withKey(goodExport("dev", now.Add(time.Hour)), newKey)},
			imported: []string{"dev"},
			events:   []string{"imported:dev"},
			key:      newKey,
			want:     protocol.ReservedSessionName,
		},
		{
			name:     "active restored",
			in:       []protocol.ExportedSession{goodExport("dev", now.Add(time.Hour)), goodExport("ops", now.Add(time.Hour))},
			active:   "ops",
			imported: []string{"dev", "ops"},
			events:   []string{"imported:dev", "imported:ops", "used:ops"},
			want:     "ops",
		},
		{
			name:     "active already stored",
			stored:   []*Session{roleSession("ops", now.Add(time.Hour))},
			in:       []protocol.ExportedSession{goodExport("dev", now.Add(time.Hour))},
			active:   "ops",
			imported: []string{"dev"},
			events:   []string{"imported:dev", "used:ops"},
			want:     "ops",
		},
		{
			name:     "active not stored",
			storedOn: "",
			in:       []protocol.ExportedSession{goodExport("dev", now.Add(time.Hour))},
			active:   "gone",
			imported: []string{"dev"},
			skipped:  [][2]string{{"gone", `not made the default: no such session: there is no session "gone"`}},
			events:   []string{"imported:dev"},
			want:     protocol.ReservedSessionName,
		},
		{
			name:     "active skipped as expired",
			in:       []protocol.ExportedSession{noRecipe(goodExport("dev", now.Add(-time.Minute)))},
			active:   "dev",
			skipped:  [][2]string{{"dev", "expired at"}, {"dev", `not made the default: no such session: there is no session "dev"`}},
			want:     protocol.ReservedSessionName,
			imported: nil,
		},
		{
			name:     "active base",
			stored:   []*Session{roleSession("ops", now.Add(time.Hour))},
			storedOn: "ops",
			in:       []protocol.ExportedSession{goodExport("dev", now.Add(time.Hour))},
			active:   protocol.ReservedSessionName,
			imported: []string{"dev"},
			events:   []string{"imported:dev", "used:base"},
			want:     protocol.ReservedSessionName,
		},
		{
			name:     "no active: the default is left alone",
			stored:   []*Session{roleSession("ops", now.Add(time.Hour))},
			storedOn: "ops",
			in:       []protocol.ExportedSession{goodExport("dev", now.Add(time.Hour))},
			imported: []string{"dev"},
			events:   []string{"imported:dev"},
			want:     "ops",
		},
		{
			name:     "token session made active",
			in:       []protocol.ExportedSession{tokenExport("jwt", now.Add(time.Hour))},
			active:   "jwt",
			imported: []string{"jwt"},
			skipped:  [][2]string{{"jwt", "not made the default"}},
			events:   []string{"imported:jwt"},
			want:     protocol.ReservedSessionName,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, c, _ := newStore()
			c.t = now
			for _, s := range tt.stored {
				st.Put(s)
			}
			if tt.storedOn != "" {
				if err := st.Use(tt.storedOn); err != nil {
					t.Fatal(err)
				}
			}
			rec := &recorder{}
			st.SetHooks(Hooks{Changed: rec.record})
			res, err := st.Import(tt.in, tt.active)
			if err != nil {
				t.Fatal(err)
			}
			if want := append([]string{}, tt.imported...); !slices.Equal(res.Imported, want) {
				t.Errorf("imported %v, want %v", res.Imported, want)
			}
			if len(res.Skipped) != len(tt.skipped) {
				t.Fatalf("skipped %+v, want %v", res.Skipped, tt.skipped)
			}
			for i, sk := range res.Skipped {
				if want := tt.skipped[i]; sk.Name != want[0] || !strings.Contains(sk.Reason, want[1]) {
					t.Errorf("skipped %q because %q, want %q because of %q", sk.Name, sk.Reason, want[0], want[1])
				}
			}
			var events []string
			for _, e := range rec.take() {
				events = append(events, e.Reason+":"+e.Session)
			}
			if !slices.Equal(events, tt.events) {
				t.Errorf("events %v, want %v", events, tt.events)
			}
			if got := st.Active(); got != tt.want {
				t.Errorf("active %q, want %q", got, tt.want)
			}
			if tt.key != "" {
				st.mu.RLock()
				s := st.sessions["dev"]
				st.mu.RUnlock()
				if s == nil || s.Credentials.AccessKeyID != tt.key {
					t.Errorf("dev holds %+v, want key %s", s, tt.key)
				}
			}
			for _, n := range res.Imported {
				if !slices.Contains(st.Names(), n) {
					t.Errorf("%s reported imported but not stored", n)
				}
			}
		})
	}
}

func withKeyS(s *Session, key string) *Session { s.Credentials.AccessKeyID = key; return s }

func TestFindMFA(t *testing.T) {
	const other = "arn:aws:iam::123456789012:mfa/bob"
	mfa := func(name, serial, profile string, left time.Duration) func(now time.Time) *Session {
		return func(now time.Time) *Session {
			s := roleSession(name, now.Add(left))
			s.Command, s.Class, s.MFASerial, s.Profile = protocol.CmdGetSessionToken, ClassSessionToken, serial, profile
			return s
		}
	}
	withClass := func(mk func(time.Time) *Session, class Class) func(time.Time) *Session {
		return func(now time.Time) *Session { s := mk(now); s.Class = class; return s }
	}
	tests := []struct {
		name     string
		sessions []func(now time.Time) *Session
		serial   string
		profile  string
		want     string
	}{
		{"none stored", nil, mfaSerial, "test", ""},
		{"match", []func(time.Time) *Session{mfa("m", mfaSerial, "test", time.Hour)}, mfaSerial, "test", "m"},
		{"other serial", []func(time.Time) *Session{mfa("m", other, "test", time.Hour)}, mfaSerial, "test", ""},
		{"other profile", []func(time.Time) *Session{mfa("m", mfaSerial, "prod", time.Hour)}, mfaSerial, "test", ""},
		{"no profile recorded", []func(time.Time) *Session{mfa("m", mfaSerial, "", time.Hour)}, mfaSerial, "test", ""},
		{"without MFA", []func(time.Time) *Session{mfa("m", "", "test", time.Hour)}, mfaSerial, "test", ""},
		{"expired", []func(time.Time) *Session{mfa("m", mfaSerial, "test", -time.Second)}, mfaSerial, "test", ""},
		{"expiring now", []func(time.Time) *Session{mfa("m", mfaSerial, "test", 0)}, mfaSerial, "test", ""},
		{"role class", []func(time.Time) *Session{withClass(mfa("r", mfaSerial, "test", time.Hour), ClassRole)}, mfaSerial, "test", ""},
		{"federated class", []func(time.Time) *Session{withClass(mfa("f", mfaSerial, "test", time.Hour), ClassFederated)}, mfaSerial, "test", ""},
		{"token class", []func(time.Time) *Session{withClass(mfa("j", mfaSerial, "test", time.Hour), ClassToken)}, mfaSerial, "test", ""},
		{"longest lasting", []func(time.Time) *Session{
			mfa("short", mfaSerial, "test", time.Hour), mfa("long", mfaSerial, "test", 3*time.Hour), mfa("mid", mfaSerial, "test", 2*time.Hour),
		}, mfaSerial, "test", "long"},
		{"longest among matches only", []func(time.Time) *Session{
			mfa("m", mfaSerial, "test", time.Hour),
			withClass(mfa("role", mfaSerial, "test", 5*time.Hour), ClassRole),
			mfa("prod", mfaSerial, "prod", 5*time.Hour),
			mfa("bob", other, "test", 5*time.Hour),
		}, mfaSerial, "test", "m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, c, _ := newStore()
			for _, mk := range tt.sessions {
				st.Put(mk(c.t))
			}
			for range 20 { // the store's map order varies from call to call
				got := st.FindMFA(tt.serial, tt.profile)
				switch {
				case tt.want == "" && got != nil:
					t.Fatalf("FindMFA = %q, want none", got.Name)
				case tt.want != "" && (got == nil || got.Name != tt.want):
					t.Fatalf("FindMFA = %v, want %q", got, tt.want)
				}
			}
		})
	}

	t.Run("a session that expires is no longer found", func(t *testing.T) {
		st, c, _ := newStore()
		st.Put(mfa("long", mfaSerial, "test", 2*time.Hour)(c.t))
		st.Put(mfa("short", mfaSerial, "test", time.Hour)(c.t))
		c.t = c.t.Add(2 * time.Hour)
		if got := st.FindMFA(mfaSerial, "test"); got != nil {
			t.Fatalf("found %q after every session expired", got.Name)
		}
	})
}
