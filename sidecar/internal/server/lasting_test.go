package server

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/localsts"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/session"
	"awsflow-sts/sidecar/internal/testing/ststest"
)

// billingRole is a second role that trusts alice only with MFA, so that one MFA session can be
// shown to serve two MFA-conditioned roles.
const billingRole = "arn:aws:iam::" + localsts.DemoAccount + ":role/Billing"

type lasting struct {
	*running
	clock    *ststest.Clock
	endpoint string
	id       int
}

// startLasting serves a sidecar whose base identity is alice of the local STS's demo world (plus
// the Billing role), with a clock the test moves.
func startLasting(t *testing.T) *lasting {
	t.Helper()
	cfg := localsts.DefaultConfig()
	cfg.Roles = append(cfg.Roles, localsts.Role{Account: localsts.DemoAccount, Name: "Billing", Trust: json.RawMessage(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + localsts.DemoAccount + `:user/alice"},` +
			`"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`)})
	// One clock for both: the local STS then issues credentials that expire on the moved clock. The
	// SDK signs with real time, which stays within SigV4's 15-minute skew of the moves made here.
	clock := &ststest.Clock{}
	sts, err := localsts.New(cfg, localsts.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(sts.Handler())
	t.Cleanup(hs.Close)
	sts.SetBaseURL(hs.URL)
	ststest.UseProfile(t, "default", localsts.DemoAccessKeyID, localsts.DemoSecretAccessKey)
	r := serve(t, clock.Now)
	l := &lasting{running: r, clock: clock, endpoint: hs.URL}
	result(t, r.call(0, "initialize", map[string]any{"settings": map[string]any{"endpointUrl": hs.URL, "region": "us-east-1", "maxAttempts": 1}}))
	// No jitter: refresh times are exact (expiry minus the 5-minute window).
	r.srv.Store().SetWindow(session.DefaultWindow, func() float64 { return 0 })
	return l
}

func (l *lasting) invoke(command string, params map[string]any) map[string]any {
	l.t.Helper()
	return l.method("tool/invoke", map[string]any{"command": command, "params": params})
}

func (l *lasting) method(method string, params any) map[string]any {
	l.t.Helper()
	l.id++
	return l.call(l.id, method, params)
}

// maintain runs one maintenance pass. sessions/list round trips (which read whatever comes
// before their response, answering any request) go on until the pass is over, then one more: its
// response comes after everything the pass sent, so by then all of it has been read into l.events.
func (l *lasting) maintain() {
	l.t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.srv.Store().Maintain(context.Background())
	}()
	for {
		l.id++
		result(l.t, l.call(l.id, "sessions/list", nil))
		select {
		case <-done:
			l.id++
			result(l.t, l.call(l.id, "sessions/list", nil))
			return
		default:
		}
	}
}

// takeEvents returns the methods (and sessions/changed reasons) the sidecar sent since the last
// call to it.
func (l *lasting) takeEvents() []string {
	var out []string
	for _, e := range l.events {
		m, _ := e["method"].(string)
		if p, ok := e["params"].(map[string]any); ok && m == protocol.MethodSessionsChanged {
			m += ":" + p["reason"].(string) + ":" + p["session"].(string)
		}
		out = append(out, m)
	}
	l.events = nil
	return out
}

func sessionData(t *testing.T, resp map[string]any) map[string]any {
	t.Helper()
	data, _ := result(t, resp)["data"].(map[string]any)
	s, _ := data["session"].(map[string]any)
	if s == nil {
		t.Fatalf("no session in %v", resp)
	}
	return s
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// TestMFASessionServesTwoRoles: the first AssumeRole of an MFA-conditioned role asks for one code,
// which makes an MFA session; the second role is assumed through that session without asking.
func TestMFASessionServesTwoRoles(t *testing.T) {
	l := startLasting(t)

	// The condition is real: without MFA the local STS refuses the role.
	code, _ := rpcError(t, l.invoke("AssumeRole", map[string]any{"RoleArn": billingRole, "RoleSessionName": "no-mfa"}))
	if code != int(protocol.CodeAWSError) {
		t.Fatalf("AssumeRole without MFA: code %d, want AWSError", code)
	}
	l.takeEvents()

	l.reply = json.RawMessage(`{"tokenCode":"` + localsts.DemoMFACode + `"}`)
	admin := sessionData(t, l.invoke("AssumeRole", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Admin", "RoleSessionName": "admin", "SerialNumber": localsts.DemoMFASerial}))
	ev := l.takeEvents()
	if count(ev, protocol.MethodMfaTokenCode) != 1 || count(ev, "sessions/changed:created:mfa-alice") != 1 || count(ev, "sessions/changed:created:admin") != 1 {
		t.Fatalf("first MFA role: events %v, want one prompt, then the MFA session and the role session created", ev)
	}
	if admin["source"] != "mfa-alice" || admin["mfaSerial"] != localsts.DemoMFASerial {
		t.Errorf("admin session: source %v mfaSerial %v, want mfa-alice and the device", admin["source"], admin["mfaSerial"])
	}

	l.reply = json.RawMessage(`{"error":{"code":-32800,"message":"must not be asked"}}`)
	billing := sessionData(t, l.invoke("AssumeRole", map[string]any{"RoleArn": billingRole, "RoleSessionName": "billing", "SerialNumber": localsts.DemoMFASerial}))
	if ev := l.takeEvents(); count(ev, protocol.MethodMfaTokenCode) != 0 {
		t.Fatalf("second MFA role asked for a code again: %v", ev)
	}
	if billing["source"] != "mfa-alice" || billing["chained"] == true {
		t.Errorf("billing session: source %v chained %v, want mfa-alice and not chained", billing["source"], billing["chained"])
	}
	who := result(t, l.invoke("GetCallerIdentity", map[string]any{"Session": "billing"}))
	if arn := who["data"].(map[string]any)["arn"]; arn != "arn:aws:sts::123456789012:assumed-role/Billing/billing" {
		t.Errorf("GetCallerIdentity as billing: %v", arn)
	}

	// The MFA session lasts 12 hours; the role sessions refresh through it while it does.
	list := result(t, l.method("sessions/list", nil))
	for _, s := range list["sessions"].([]any) {
		s := s.(map[string]any)
		want := s["name"] != "mfa-alice"
		if s["refreshable"] == true != want {
			t.Errorf("session %v refreshable=%v, want %v", s["name"], s["refreshable"], want)
		}
	}
}

// TestMFAPromptAnswers: a cancelled prompt, a malformed code and a wrong code each run nothing and
// store nothing.
func TestMFAPromptAnswers(t *testing.T) {
	l := startLasting(t)
	for _, tt := range []struct {
		name  string
		reply string
		code  int64
	}{
		{"cancelled", `{"error":{"code":-32800,"message":"MFA code entry was cancelled"}}`, protocol.CodeRequestCancelled},
		{"not six digits", `{"tokenCode":"12345"}`, protocol.CodeInvalidParams},
		{"wrong code", `{"tokenCode":"000000"}`, protocol.CodeAWSError},
		{"client cannot prompt", ``, protocol.CodeRuleViolation},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l.reply = json.RawMessage(tt.reply)
			got, _ := rpcError(t, l.invoke("GetSessionToken", map[string]any{"SerialNumber": localsts.DemoMFASerial}))
			if int64(got) != tt.code {
				t.Errorf("code %d, want %d", got, tt.code)
			}
			if ev := l.takeEvents(); len(ev) != 1 || ev[0] != protocol.MethodMfaTokenCode {
				t.Errorf("events %v, want only the prompt", ev)
			}
		})
	}
	if n := len(result(t, l.method("sessions/list", nil))["sessions"].([]any)); n != 0 {
		t.Errorf("%d sessions stored after failed prompts, want 0", n)
	}
}

// TestRefreshWindow: a session made from the base identity is re-made once the cache window opens
// (5 minutes before expiry), not before; the new credentials sign later calls.
func TestRefreshWindow(t *testing.T) {
	l := startLasting(t)
	dev := sessionData(t, l.invoke("AssumeRole", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Dev", "RoleSessionName": "dev", "DurationSeconds": 900}))
	exp, _ := time.Parse(time.RFC3339, dev["expiration"].(string))
	if want := exp.Add(-5 * time.Minute); !l.srv.Store().RefreshAt("dev").Equal(want) {
		t.Fatalf("refresh at %v, want %v", l.srv.Store().RefreshAt("dev"), want)
	}
	l.takeEvents()

	l.clock.Set(exp.Add(-5*time.Minute - time.Second))
	l.maintain()
	if ev := l.takeEvents(); len(ev) != 0 {
		t.Fatalf("before the window: events %v, want none", ev)
	}
	l.clock.Set(exp.Add(-5 * time.Minute))
	l.maintain()
	if ev := l.takeEvents(); len(ev) != 1 || ev[0] != "sessions/changed:refreshed:dev" {
		t.Fatalf("in the window: events %v, want dev refreshed", ev)
	}
	list := result(t, l.method("sessions/list", nil))["sessions"].([]any)
	fresh := list[0].(map[string]any)
	if fresh["accessKeyId"] == dev["accessKeyId"] || fresh["refreshedAt"] == nil || fresh["createdAt"] != dev["createdAt"] {
		t.Errorf("after refresh: key %v (was %v), refreshedAt %v, createdAt %v (was %v)", fresh["accessKeyId"], dev["accessKeyId"], fresh["refreshedAt"], fresh["createdAt"], dev["createdAt"])
	}
	if got := time.Duration(fresh["secondsLeft"].(float64)) * time.Second; got < 14*time.Minute {
		t.Errorf("after refresh %v left, want a new 15-minute session counted from the moved clock", got)
	}
	who := result(t, l.invoke("GetCallerIdentity", map[string]any{"Session": "dev"}))
	if arn := who["data"].(map[string]any)["arn"]; arn != "arn:aws:sts::123456789012:assumed-role/Dev/dev" {
		t.Errorf("the refreshed session signs as %v", arn)
	}
}

// TestRefreshOnUse: a call signed by a session whose window has opened refreshes it first, even
// with no maintenance pass.
func TestRefreshOnUse(t *testing.T) {
	l := startLasting(t)
	dev := sessionData(t, l.invoke("AssumeRole", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Dev", "RoleSessionName": "dev", "DurationSeconds": 900}))
	exp, _ := time.Parse(time.RFC3339, dev["expiration"].(string))
	l.takeEvents()
	l.clock.Set(exp.Add(-time.Minute))
	result(t, l.invoke("GetCallerIdentity", map[string]any{"Session": "dev"}))
	if ev := l.takeEvents(); count(ev, "sessions/changed:refreshed:dev") != 1 {
		t.Fatalf("events %v, want dev refreshed before the call", ev)
	}
}

// TestRefreshFailureAndExpiry: a chained session whose source is gone cannot be re-made: the
// failure is reported once, the old credentials serve until they expire, the user is warned before
// the end, and after it the session is refused with a clear message.
func TestRefreshFailureAndExpiry(t *testing.T) {
	l := startLasting(t)
	sessionData(t, l.invoke("AssumeRole", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Dev", "RoleSessionName": "dev"}))
	ops := sessionData(t, l.invoke("AssumeRole", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Ops", "RoleSessionName": "ops", "Session": "dev", "DurationSeconds": 900}))
	exp, _ := time.Parse(time.RFC3339, ops["expiration"].(string))
	result(t, l.method("sessions/forget", map[string]any{"name": "dev"}))
	l.takeEvents()

	l.clock.Set(exp.Add(-4 * time.Minute))
	l.maintain()
	l.maintain() // within the retry pause: no second attempt, no second report
	ev := l.takeEvents()
	if count(ev, "sessions/changed:refreshFailed:ops") != 1 || count(ev, "sessions/changed:expiring:ops") != 1 {
		t.Fatalf("events %v, want one refreshFailed and one expiring for ops", ev)
	}
	who := result(t, l.invoke("GetCallerIdentity", map[string]any{"Session": "ops"}))
	if arn := who["data"].(map[string]any)["arn"]; !strings.Contains(arn.(string), "assumed-role/Ops/ops") {
		t.Errorf("ops before expiry signs as %v", arn)
	}
	l.takeEvents()

	l.clock.Set(exp.Add(time.Second))
	l.maintain() // retries the refresh once more, then reports the end
	if ev := l.takeEvents(); count(ev, "sessions/changed:expired:ops") != 1 {
		t.Fatalf("after expiry: events %v, want ops expired", ev)
	}
	code, e := rpcError(t, l.invoke("GetCallerIdentity", map[string]any{"Session": "ops"}))
	if code != int(protocol.CodeSessionError) || !strings.Contains(e["message"].(string), "expired") {
		t.Errorf("using the expired session: %d %v", code, e["message"])
	}
}

// TestExpiringNoticeOnce: a session that cannot refresh itself (MFA) is announced once, ten
// minutes before it ends.
func TestExpiringNoticeOnce(t *testing.T) {
	l := startLasting(t)
	s := sessionData(t, l.invoke("GetSessionToken", map[string]any{"SerialNumber": localsts.DemoMFASerial, "TokenCode": localsts.DemoMFACode, "DurationSeconds": 900}))
	if s["refreshable"] == true {
		t.Fatal("an MFA session cannot be refreshable")
	}
	exp, _ := time.Parse(time.RFC3339, s["expiration"].(string))
	l.takeEvents()
	l.clock.Set(exp.Add(-session.ExpiringNotice - time.Second))
	l.maintain()
	if ev := l.takeEvents(); len(ev) != 0 {
		t.Fatalf("events %v before the notice window", ev)
	}
	l.clock.Set(exp.Add(-session.ExpiringNotice + time.Minute))
	l.maintain()
	l.maintain()
	msgs := l.events
	if ev := l.takeEvents(); len(ev) != 1 || ev[0] != "sessions/changed:expiring:mfa-session" {
		t.Fatalf("events %v, want one expiring notice", ev)
	}
	msg := msgs[0]["params"].(map[string]any)["message"].(string)
	if !strings.Contains(msg, "needs an MFA code") || !strings.Contains(msg, "run GetSessionToken again") {
		t.Errorf("expiring message %q", msg)
	}
}

// TestRestartReimport: what sessions/export returns, imported into a new sidecar (a restart),
// signs calls there, and refreshes there.
func TestRestartReimport(t *testing.T) {
	l := startLasting(t)
	sessionData(t, l.invoke("AssumeRole", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Dev", "RoleSessionName": "dev", "DurationSeconds": 900}))
	result(t, l.method("sessions/use", map[string]any{"name": "dev"}))
	exported := result(t, l.method("sessions/export", map[string]any{"name": "dev"}))

	clock := l.clock
	next := serve(t, clock.Now)
	result(t, next.call(0, "initialize", map[string]any{"settings": map[string]any{"endpointUrl": l.endpoint, "region": "us-east-1", "maxAttempts": 1}}))
	next.srv.Store().SetWindow(session.DefaultWindow, func() float64 { return 0 })
	imp := result(t, next.call(1, "sessions/import", map[string]any{"sessions": []any{exported}, "active": "dev"}))
	if got := imp["imported"].([]any); len(got) != 1 || got[0] != "dev" {
		t.Fatalf("imported %v", imp["imported"])
	}
	who := result(t, next.call(2, "tool/invoke", map[string]any{"command": "GetCallerIdentity"}))
	if arn := who["data"].(map[string]any)["arn"]; arn != "arn:aws:sts::123456789012:assumed-role/Dev/dev" {
		t.Errorf("after import the default signs as %v", arn)
	}
	again := result(t, next.call(3, "sessions/export", map[string]any{"name": "dev"}))
	if !jsonEqual(t, mustMarshal(t, again), mustMarshal(t, exported)) {
		t.Errorf("export after import differs:\n got %v\nwant %v", again, exported)
	}
	exp, _ := time.Parse(time.RFC3339, exported["expiration"].(string))
	clock.Set(exp.Add(-time.Minute))
	(&lasting{running: next}).maintain()
	if n := len(next.events); n == 0 {
		t.Fatal("no events after the imported session's window opened")
	}
	last := next.events[len(next.events)-1]["params"].(map[string]any)
	if last["reason"] != "refreshed" || last["session"] != "dev" {
		t.Errorf("last event %v, want dev refreshed from its recipe", last)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAssumeRoleFromProfile: AssumeRole's Profile reads role_arn, source_profile, external_id,
// mfa_serial, duration_seconds and role_session_name from the shared config file.
func TestAssumeRoleFromProfile(t *testing.T) {
	l := startLasting(t)
	config := `[default]
region = us-east-1

[profile partner]
role_arn = arn:aws:iam::123456789012:role/Partner
source_profile = default
external_id = ` + localsts.DemoExternalID + `

[profile admin]
role_arn = arn:aws:iam::123456789012:role/Admin
source_profile = default
mfa_serial = ` + localsts.DemoMFASerial + `
duration_seconds = 7200
role_session_name = from-profile

[profile no-role]
region = eu-west-1

[profile no-source]
role_arn = arn:aws:iam::123456789012:role/Dev
`
	if err := os.WriteFile(os.Getenv("AWS_CONFIG_FILE"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	partner := sessionData(t, l.invoke("AssumeRole", map[string]any{"Profile": "partner"}))
	if partner["arn"] != "arn:aws:sts::123456789012:assumed-role/Partner/awsflow-sts-partner" || partner["profile"] != "partner" {
		t.Errorf("partner: arn %v profile %v", partner["arn"], partner["profile"])
	}
	l.reply = json.RawMessage(`{"tokenCode":"` + localsts.DemoMFACode + `"}`)
	admin := sessionData(t, l.invoke("AssumeRole", map[string]any{"Profile": "admin"}))
	if admin["arn"] != "arn:aws:sts::123456789012:assumed-role/Admin/from-profile" || admin["name"] != "from-profile" {
		t.Errorf("admin: arn %v name %v", admin["arn"], admin["name"])
	}
	if left := admin["secondsLeft"].(float64); left < 7100 {
		t.Errorf("admin lasts %vs, want duration_seconds 7200", left)
	}
	if ev := l.takeEvents(); count(ev, protocol.MethodMfaTokenCode) != 1 {
		t.Errorf("events %v, want one MFA prompt for mfa_serial", ev)
	}
	for _, tt := range []struct{ profile, want string }{
		{"missing", `there is no profile "missing"`},
		{"no-role", "does not assume a role"},
		{"no-source", "no source_profile"},
	} {
		code, e := rpcError(t, l.invoke("AssumeRole", map[string]any{"Profile": tt.profile}))
		if code != int(protocol.CodeInvalidParams) || !strings.Contains(e["message"].(string), tt.want) {
			t.Errorf("Profile %s: %d %v, want InvalidParams saying %q", tt.profile, code, e["message"], tt.want)
		}
	}
}

// TestWriteProfile: sessions/writeProfile puts the session's credentials into the credentials
// file, 0600, refuses to overwrite long-term keys unless told to, and the SDK reads the profile.
func TestWriteProfile(t *testing.T) {
	l := startLasting(t)
	sessionData(t, l.invoke("AssumeRole", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Dev", "RoleSessionName": "dev"}))
	exported := result(t, l.method("sessions/export", map[string]any{"name": "dev"}))
	path := os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res := result(t, l.method("sessions/writeProfile", map[string]any{"name": "dev", "profile": "dev-session"}))
	if res["created"] != true || res["backup"] == "" || res["path"] == "" {
		t.Errorf("result %v", res)
	}
	after, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(after), string(before)) || !strings.Contains(string(after), "[dev-session]") ||
		!strings.Contains(string(after), exported["sessionToken"].(string)) {
		t.Errorf("credentials file after writing:\n%s", after)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	code, e := rpcError(t, l.method("sessions/writeProfile", map[string]any{"name": "dev", "profile": "default"}))
	if code != int(protocol.CodeRuleViolation) || strings.Contains(e["message"].(string), exported["secretAccessKey"].(string)) {
		t.Errorf("overwriting long-term keys: %d %v", code, e["message"])
	}
	code, _ = rpcError(t, l.method("sessions/writeProfile", map[string]any{"name": "dev", "profile": "bad]name"}))
	if code != int(protocol.CodeInvalidParams) {
		t.Errorf("bad profile name: code %d", code)
	}
	// The SDK reads the written profile: it signs as the session.
	l.method("settings/update", map[string]any{"settings": map[string]any{"endpointUrl": l.endpoint, "region": "us-east-1", "maxAttempts": 1, "profile": "dev-session"}})
	who := result(t, l.invoke("GetCallerIdentity", nil))
	if arn := who["data"].(map[string]any)["arn"]; arn != "arn:aws:sts::123456789012:assumed-role/Dev/dev" {
		t.Errorf("the written profile signs as %v", arn)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "credentials.bak")); err != nil {
		t.Errorf("no backup: %v", err)
	}
}

// TestBaseRoleProfileAsksForMFA: when the base identity is a role profile with mfa_serial, the
// SDK assumes the role itself and the code it needs is asked for through mfa/tokenCode.
func TestBaseRoleProfileAsksForMFA(t *testing.T) {
	l := startLasting(t)
	config := "[default]\nregion = us-east-1\n\n[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = default\n" +
		"mfa_serial = " + localsts.DemoMFASerial + "\nrole_session_name = base-admin\n"
	if err := os.WriteFile(os.Getenv("AWS_CONFIG_FILE"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	result(t, l.method("settings/update", map[string]any{"settings": map[string]any{"endpointUrl": l.endpoint, "region": "us-east-1", "maxAttempts": 1, "profile": "admin"}}))
	l.reply = json.RawMessage(`{"tokenCode":"` + localsts.DemoMFACode + `"}`)
	who := result(t, l.invoke("GetCallerIdentity", nil))
	if arn := who["data"].(map[string]any)["arn"]; arn != "arn:aws:sts::123456789012:assumed-role/Admin/base-admin" {
		t.Errorf("the base role profile signs as %v", arn)
	}
	ev := l.takeEvents()
	if count(ev, protocol.MethodMfaTokenCode) != 1 {
		t.Fatalf("events %v, want one MFA prompt", ev)
	}
	// The SDK caches the role's credentials: the next call asks nobody.
	result(t, l.invoke("GetCallerIdentity", nil))
	if ev := l.takeEvents(); count(ev, protocol.MethodMfaTokenCode) != 0 {
		t.Errorf("second call asked again: %v", ev)
	}
}

// TestWrittenProfileFollowsRefresh: a profile written from a refreshable session is rewritten
// with the new credentials when the session refreshes; forgetting the session stops that.
func TestWrittenProfileFollowsRefresh(t *testing.T) {
	l := startLasting(t)
	dev := sessionData(t, l.invoke("AssumeRole", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Dev", "RoleSessionName": "dev", "DurationSeconds": 900}))
	path := filepath.Join(t.TempDir(), "credentials")
	result(t, l.method("sessions/writeProfile", map[string]any{"name": "dev", "profile": "dev-session", "path": path}))
	before := result(t, l.method("sessions/export", map[string]any{"name": "dev"}))
	exp, _ := time.Parse(time.RFC3339, dev["expiration"].(string))
	l.clock.Set(exp.Add(-time.Minute))
	l.maintain()
	after := result(t, l.method("sessions/export", map[string]any{"name": "dev"}))
	if after["accessKeyId"] == before["accessKeyId"] {
		t.Fatal("the session was not refreshed")
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(file), after["sessionToken"].(string)) || strings.Contains(string(file), before["sessionToken"].(string)) {
		t.Fatalf("the profile does not hold the refreshed credentials:\n%s", file)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after the rewrite", st.Mode().Perm())
	}

	result(t, l.method("sessions/forget", map[string]any{"name": "dev"}))
	sessionData(t, l.invoke("AssumeRole", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Dev", "RoleSessionName": "dev", "DurationSeconds": 900}))
	again := result(t, l.method("sessions/export", map[string]any{"name": "dev"}))
	exp2, _ := time.Parse(time.RFC3339, again["expiration"].(string))
	l.clock.Set(exp2.Add(-time.Minute))
	l.maintain()
	if file2, _ := os.ReadFile(path); string(file2) != string(file) {
		t.Error("a forgotten session's profile was still rewritten")
	}
}
