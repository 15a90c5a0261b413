package server

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/testing/ststest"
)

var update = flag.Bool("update", false, "rewrite the expected responses in protocol/testdata")

const goldenDir = "../../../protocol/testdata"

// golden is one file of protocol/testdata: messages the extension sends and what it must receive.
type golden struct {
	Description string `json:"description"`
	STS         string `json:"sts,omitempty"`
	Steps       []step `json:"steps"`
}

type step struct {
	Send json.RawMessage `json:"send"`
	// Reply answers the sidecar's requests during the step (mfa/tokenCode): a result, or an
	// object with "error". Without it they are answered MethodNotFound.
	Reply json.RawMessage `json:"reply,omitempty"`
	// Events are the notifications and requests the sidecar sends before its response.
	Events []json.RawMessage `json:"events,omitempty"`
	Expect json.RawMessage   `json:"expect,omitempty"`
}

// placeholders stand for values that differ per run or would be unreadable inline.
func placeholders(fake *ststest.Server) map[string]string {
	provider := "arn:aws:iam::123456789012:saml-provider/Okta"
	return map[string]string{
		"{{ENDPOINT}}": fake.URL,
		"{{VERSION}}":  testVersion,
		"{{WEB_IDENTITY_TOKEN}}": ststest.JWT(map[string]any{"iss": "https://issuer.example.com", "sub": "user-1", "aud": "sts.amazonaws.com",
			"exp": now.Add(time.Hour).Unix()}, "RS256"),
		"{{SAML_ASSERTION}}": ststest.SAMLResponse(now.Add(time.Hour), "arn:aws:iam::123456789012:role/Saml,"+provider),
	}
}

// TestGolden replays every exchange in protocol/testdata over net.Pipe and compares each response.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			replay(t, file)
		})
	}
}

func replay(t *testing.T, file string) {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	r := start(t)
	subst := placeholders(r.fake)
	for i, s := range g.Steps {
		msg := substitute(string(s.Send), subst, false)
		var sent map[string]any
		if err := json.Unmarshal([]byte(msg), &sent); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		r.sendRaw(frame(msg))
		if _, isRequest := sent["id"]; !isRequest {
			continue
		}
		var events []json.RawMessage
		resp := r.recv()
		for resp["method"] != nil {
			ev, err := json.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			assertNoSecrets(t, r, string(ev))
			events = append(events, indent([]byte(substitute(string(ev), subst, true))))
			if id, ok := resp["id"]; ok {
				r.answer(id, s.Reply)
			}
			resp = r.recv()
		}
		got, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		if sent["method"] != "sessions/export" {
			assertNoSecrets(t, r, string(got))
		}
		checkErrorKind(t, resp)
		got = []byte(substitute(string(got), subst, true))
		if *update {
			g.Steps[i].Expect = indent(got)
			g.Steps[i].Events = events
			continue
		}
		if len(events) != len(s.Events) {
			t.Errorf("step %d (%s): %d events, want %d", i, sent["method"], len(events), len(s.Events))
		}
		for j := range min(len(events), len(s.Events)) {
			if !jsonEqual(t, events[j], s.Events[j]) {
				t.Errorf("step %d (%s): event %d differs\n got: %s\nwant: %s", i, sent["method"], j, events[j], s.Events[j])
			}
		}
		if !jsonEqual(t, got, s.Expect) {
			t.Errorf("step %d (%s): response differs\n got: %s\nwant: %s", i, sent["method"], indent(got), s.Expect)
		}
	}
	if *update {
		out, err := marshalGolden(g)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkErrorKind asserts an error response's data.kind is the one the protocol gives its code.
func checkErrorKind(t *testing.T, resp map[string]any) {
	t.Helper()
	e, ok := resp["error"].(map[string]any)
	if !ok {
		return
	}
	code := int64(e["code"].(float64))
	data, _ := e["data"].(map[string]any)
	if data["kind"] != protocol.ErrorKind(code) {
		t.Errorf("error %d has data.kind %v, want %q", code, data["kind"], protocol.ErrorKind(code))
	}
}

// substitute fills placeholders into what is sent, or puts them back into what was received.
func substitute(s string, subst map[string]string, reverse bool) string {
	for k, v := range subst {
		if reverse {
			s = strings.ReplaceAll(s, jsonInner(v), k)
		} else {
			s = strings.ReplaceAll(s, k, jsonInner(v))
		}
	}
	return s
}

// jsonInner is a string as it appears inside a JSON string literal.
func jsonInner(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return false
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

func indent(b []byte) json.RawMessage {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "      ", "  "); err != nil {
		return b
	}
	return out.Bytes()
}

func marshalGolden(g golden) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(g); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
