package tool

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/redact"
	"awsflow-sts/sidecar/internal/session"
	"awsflow-sts/sidecar/internal/stsops"
	"awsflow-sts/sidecar/internal/testing/ststest"
)

// baseSecret is the base profile's secret key; it must never show up either.
const baseSecret = "BASESECRETwJalrXUtnFEMI/K7MDENG/bPxRfiCY"

// now is the tests' fixed clock: an hour before every fake credential expires.
var now = ststest.Expiration.Add(-time.Hour)

type harness struct {
	t      *testing.T
	fake   *ststest.Server
	runner *Runner
	clock  time.Time
}

// newHarness points a runner at a fake STS with a base profile in scratch AWS config files.
func newHarness(t *testing.T) *harness {
	t.Helper()
	fake := ststest.New()
	t.Cleanup(fake.Close)
	ststest.UseProfile(t, "test", ststest.BaseKeyID, baseSecret)
	h := &harness{t: t, fake: fake, clock: now}
	secrets := &redact.Secrets{}
	store := session.NewStore(func() time.Time { return h.clock }, secrets)
	clients := stsops.NewClients(protocol.Settings{Profile: "test", Region: "us-east-1", EndpointURL: fake.URL, MaxAttempts: 1})
	h.runner = NewRunner(store, clients, secrets)
	return h
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// invoke runs a command and fails the test on error.
func (h *harness) invoke(command string, params any) *protocol.InvokeResult {
	h.t.Helper()
	res, err := h.try(command, params)
	if err != nil {
		h.t.Fatalf("%s: %v", command, err)
	}
	return res
}

func (h *harness) try(command string, params any) (*protocol.InvokeResult, error) {
	h.t.Helper()
	raw, err := json.Marshal(params)
	must(h.t, err)
	res, err := h.runner.Invoke(context.Background(), protocol.InvokeParams{Command: command, Params: raw})
	if err == nil {
		h.assertNoSecrets(res.Text, string(res.Data))
	} else {
		h.assertNoSecrets(err.Error())
	}
	return res, err
}

// assertNoSecrets fails if any secret the fake issued, or the base secret, is in the texts.
func (h *harness) assertNoSecrets(texts ...string) {
	h.t.Helper()
	secrets := append(h.fake.Secrets(), baseSecret)
	for _, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				h.t.Fatalf("secret %q leaked into output:\n%s", s, text)
			}
		}
	}
}

// toolErr asserts err is a *Error with the code.
func toolErr(t *testing.T, err error, code int64) *Error {
	t.Helper()
	te, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %v (%T) is not a *tool.Error", err, err)
	}
	if te.Code != code {
		t.Fatalf("code %d, want %d: %v", te.Code, code, te)
	}
	return te
}

func contains(t *testing.T, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("missing %q in:\n%s", w, text)
		}
	}
}
