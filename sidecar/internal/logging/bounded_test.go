package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"go.uber.org/zap"
)

func TestLinesAreBounded(t *testing.T) {
	huge := strings.Repeat("A", 1<<20)
	many := make([]zap.Field, 200)
	for i := range many {
		many[i] = zap.String(strings.Repeat("k", 3)+string(rune('a'+i%26))+strings.Repeat("x", i%7), strings.Repeat("v", 1000))
	}
	tests := []struct {
		name string
		log  func(l *zap.Logger)
		want string // must survive in the line
	}{
		{"long string field", func(l *zap.Logger) { l.Info("request failed", zap.String("command", huge)) }, `"command":"AAAA`},
		{"long message", func(l *zap.Logger) { l.Info(huge) }, `"msg":"AAAA`},
		{"long byte string", func(l *zap.Logger) { l.Warn("rejected", zap.ByteString("id", []byte(huge))) }, `"id":"AAAA`},
		{"long error", func(l *zap.Logger) { l.Error("failed", zap.Error(errors.New(huge))) }, `"error":"AAAA`},
		{"long context field", func(l *zap.Logger) { l.With(zap.String("session", huge)).Info("changed") }, `"session":"AAAA`},
		{"many fields", func(l *zap.Logger) { l.Info("many", many...) }, `"msg":"many"`},
		{"long list", func(l *zap.Logger) { l.Info("imported", zap.Strings("sessions", []string{huge, huge, huge})) }, `"msg":"imported"`},
		{"many long context fields", func(l *zap.Logger) {
			l.With(zap.String("a", huge), zap.String("b", huge), zap.String("c", huge), zap.String("d", huge), zap.String("e", huge)).Info("ctx")
		}, `"msg":"ctx"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l, err := New(&buf, "", "debug")
			if err != nil {
				t.Fatal(err)
			}
			tt.log(l.Logger)
			line := buf.String()
			if len(line) > MaxLine {
				t.Errorf("line of %d bytes, want at most %d", len(line), MaxLine)
			}
			if !strings.HasSuffix(line, "\n") || strings.Count(line, "\n") != 1 {
				t.Errorf("want exactly one line, got %q…", line[:min(len(line), 200)])
			}
			if !json.Valid([]byte(line)) {
				t.Errorf("line is not JSON: %q…", line[:min(len(line), 200)])
			}
			if !strings.Contains(line, tt.want) {
				t.Errorf("line lacks %s: %q…", tt.want, line[:min(len(line), 300)])
			}
		})
	}
}

func TestShortLinesUnchanged(t *testing.T) {
	var buf bytes.Buffer
	l, err := New(&buf, "", "info")
	if err != nil {
		t.Fatal(err)
	}
	l.Info("command done", zap.String("command", "GetCallerIdentity"), zap.Error(errors.New("boom")), zap.Strings("s", []string{"a", "b"}))
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["command"] != "GetCallerIdentity" || got["error"] != "boom" || got["msg"] != "command done" {
		t.Errorf("line %s lost a field", buf.String())
	}
	if s, ok := got["s"].([]any); !ok || len(s) != 2 {
		t.Errorf("line %s lost the list", buf.String())
	}
	l.Debug("hidden")
	if strings.Contains(buf.String(), "hidden") {
		t.Error("a debug line was written at level info")
	}
}
