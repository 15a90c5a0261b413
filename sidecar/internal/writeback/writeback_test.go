package writeback

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"go.uber.org/zap"

	"awsflow-sts/sidecar/internal/redact"
	"awsflow-sts/sidecar/internal/session"
)

// TestChangedFollowsTheSession: a refresh rewrites the remembered profile; once the session is
// forgotten (or replaced), a refresh of that name writes nothing.
func TestChangedFollowsTheSession(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	store := session.NewStore(func() time.Time { return now }, &redact.Secrets{})
	put := func(key string) {
		store.Put(&session.Session{Name: "dev", Command: "AssumeRole", Class: session.ClassRole, Expiration: now.Add(time.Hour),
			Credentials: aws.Credentials{AccessKeyID: key, SecretAccessKey: "secret-" + key, SessionToken: "token-" + key}})
	}
	path := filepath.Join(t.TempDir(), "credentials")
	w := New(store, func(s string) string { return s }, zap.NewNop())
	read := func() string {
		b, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return string(b)
	}

	put("ASIAFIRST0000000")
	w.Remember("dev", path, "dev-profile")
	w.Remember("dev", path, "dev-profile") // once is enough
	put("ASIASECOND000000")
	w.Changed(session.ReasonRefreshed, "dev")
	if got := read(); !strings.Contains(got, "[dev-profile]") || !strings.Contains(got, "ASIASECOND000000") {
		t.Fatalf("after a refresh the file holds:\n%s", got)
	}

	for _, reason := range []string{session.ReasonForgotten, session.ReasonCreated} {
		w.Remember("dev", path, "dev-profile")
		w.Changed(reason, "dev")
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		w.Changed(session.ReasonRefreshed, "dev")
		if got := read(); got != "" {
			t.Fatalf("after %s a refresh still wrote:\n%s", reason, got)
		}
	}
}
