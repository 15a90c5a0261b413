package tool

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/testing/ststest"
)

// maxEcho is the most of one name or value an error may quote.
const maxEcho = 100

// fuzzSecret stands in for a secret parameter's value; no error may repeat any 16-character run
// of it, in any case.
const fuzzSecret = "FuzzSecretCanary4Hn8Kq2Wx6Zp0Lm3Bv7Cj5Dg9"

// FuzzValidate runs a command name and params JSON from the model through unknownCommand and
// Validate. Nothing panics; an error is invalid-params, bounded in size, quotes no name or value
// longer than maxEcho whole, and never quotes a secret parameter's value; accepted params hold
// only the command's own parameters.
func FuzzValidate(f *testing.F) {
	f.Fuzz(func(t *testing.T, command string, params []byte) {
		spec, ok := protocol.Command(command)
		if !ok {
			checkEchoes(t, unknownCommand(command, protocol.CommandNames()), nil, []string{command}, nil)
			spec = &protocol.Commands[len(command)%len(protocol.Commands)]
		}
		var fields map[string]json.RawMessage
		_ = json.Unmarshal(params, &fields) // nil unless params is an object; Validate says why
		args, err := Validate(spec, params)
		if err != nil {
			var te *Error
			if !errors.As(err, &te) || te.Code != protocol.CodeInvalidParams || te.Command != spec.Name {
				t.Fatalf("Validate error %T %v is not invalid params for %s", err, err, spec.Name)
			}
			checkEchoes(t, te, fields, namesOf(fields), secretValues(spec, fields))
		} else {
			for name := range args {
				if _, ok := spec.Param(name); !ok {
					t.Fatalf("%s accepted a parameter it does not take: %q", spec.Name, name)
				}
			}
		}

		// The same params with every secret parameter set to the canary.
		if fields == nil {
			return
		}
		for _, name := range spec.ParamNames() {
			if p, _ := spec.Param(name); p.Spec.Secret {
				fields[name] = json.RawMessage(`"` + fuzzSecret + `"`)
			}
		}
		raw, err := json.Marshal(fields)
		if err != nil {
			return // a value the fuzzer made that encoding/json will not write back
		}
		if _, err := Validate(spec, raw); err != nil {
			var te *Error
			if errors.As(err, &te) && leaksSecret(te.Message+te.Hint) {
				t.Fatalf("error quotes a secret parameter's value: %q", te.Message)
			}
		}
	})
}

// namesOf lists the parameter names the model sent.
func namesOf(fields map[string]json.RawMessage) []string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	return names
}

// secretValues returns the string values the model sent for secret parameters.
func secretValues(spec *protocol.CommandSpec, fields map[string]json.RawMessage) []string {
	var out []string
	for name, raw := range fields {
		p, ok := spec.Param(name)
		var s string
		if ok && p.Spec.Secret && json.Unmarshal(raw, &s) == nil {
			out = append(out, s)
		}
	}
	return out
}

// checkEchoes checks an error against what the model sent: its size is bounded by the number of
// problems it can report, no name or string value longer than maxEcho appears whole, and no
// secret value of 8 characters or more appears at all.
func checkEchoes(t *testing.T, e *Error, fields map[string]json.RawMessage, names, secrets []string) {
	t.Helper()
	text := e.Message + "\n" + e.Hint
	if limit := 4096 + 600*len(fields); len(text) > limit {
		t.Fatalf("error of %d bytes for %d params (limit %d): %.300q", len(text), len(fields), limit, text)
	}
	long := append([]string(nil), names...)
	for _, raw := range fields {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			long = append(long, s)
		}
	}
	for _, s := range long {
		if utf8.RuneCountInString(s) > maxEcho && strings.Contains(text, s) {
			t.Fatalf("error quotes a %d-character name or value whole: %.300q", utf8.RuneCountInString(s), text)
		}
	}
	for _, s := range secrets {
		if len(s) >= 8 && strings.Contains(text, s) {
			t.Fatalf("error quotes a secret parameter's value %q: %.300q", s, text)
		}
	}
}

// leaksSecret reports whether s holds a 16-character run of fuzzSecret, ignoring case.
func leaksSecret(s string) bool {
	_, ok := ststest.Fragment(s, fuzzSecret)
	return ok
}
