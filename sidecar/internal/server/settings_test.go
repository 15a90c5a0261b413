package server

import (
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/tool"
)

func TestCheckSettings(t *testing.T) {
	tests := []struct {
		name string
		st   protocol.Settings
		want string // "" for valid; else the start of the message
	}{
		{"empty is every default", protocol.Settings{}, ""},
		{"everything valid", protocol.Settings{Region: "eu-west-1", EndpointURL: "http://127.0.0.1:4566/", MaxAttempts: 20, RequestTimeoutSeconds: 300, LogLevel: "warn"}, ""},
		{"gov region", protocol.Settings{Region: "us-gov-west-1"}, ""},
		{"log level in capitals", protocol.Settings{LogLevel: "DEBUG"}, ""},
		{"region with spaces", protocol.Settings{Region: "us east 1"}, "settings.region must match"},
		{"region upper case", protocol.Settings{Region: "US-EAST-1"}, "settings.region must match"},
		{"region with a path", protocol.Settings{Region: "us-east-1/../x"}, "settings.region must match"},
		{"endpoint without scheme", protocol.Settings{EndpointURL: "sts.example.com"}, "settings.endpointUrl must match"},
		{"endpoint ftp", protocol.Settings{EndpointURL: "ftp://sts.example.com"}, "settings.endpointUrl must match"},
		{"endpoint without host", protocol.Settings{EndpointURL: "https://"}, "settings.endpointUrl must name a host"},
		{"endpoint with port only", protocol.Settings{EndpointURL: "http://:8080"}, "settings.endpointUrl must name a host"},
		{"endpoint with user info", protocol.Settings{EndpointURL: "https://user:pass@sts.example.com"}, "settings.endpointUrl must not carry a user"},
		{"endpoint with query", protocol.Settings{EndpointURL: "https://sts.example.com/?Action=x"}, "settings.endpointUrl must not carry a query"},
		{"endpoint with empty query", protocol.Settings{EndpointURL: "https://sts.example.com/?"}, "settings.endpointUrl must not carry a query"},
		{"endpoint with fragment", protocol.Settings{EndpointURL: "https://sts.example.com/#x"}, "settings.endpointUrl must not carry a query"},
		{"endpoint bad port", protocol.Settings{EndpointURL: "https://sts.example.com:port"}, "settings.endpointUrl is not a URL"},
		{"max attempts too many", protocol.Settings{MaxAttempts: 21}, "settings.maxAttempts is 21; use 1 to 20"},
		{"max attempts negative", protocol.Settings{MaxAttempts: -1}, "settings.maxAttempts is -1"},
		{"timeout too long", protocol.Settings{RequestTimeoutSeconds: 301}, "settings.requestTimeoutSeconds is 301; use 1 to 300"},
		{"timeout negative", protocol.Settings{RequestTimeoutSeconds: -5}, "settings.requestTimeoutSeconds is -5"},
		{"log level unknown", protocol.Settings{LogLevel: "dpanic"}, "settings.logLevel must be one of debug, info, warn, error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tool.CheckSettings(tt.st)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("checkSettings = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(strings.TrimPrefix(err.Error(), fmt.Sprintf("rpc error %d: ", protocol.CodeInvalidParams)), tt.want)):
				t.Fatalf("checkSettings = %v, want an invalid-params error starting %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "user:pass") {
				t.Errorf("error %q quotes the endpoint's password", err)
			}
		})
	}
}

// TestInvalidSettingsChangeNothing: one bad value refuses the whole update, so a valid log level
// sent beside it does not take effect either.
func TestInvalidSettingsChangeNothing(t *testing.T) {
	r := start(t)
	r.initialize()
	for _, method := range []string{"settings/update", "initialize"} {
		t.Run(method, func(t *testing.T) {
			resp := r.call(0, method, map[string]any{"settings": map[string]any{"logLevel": "error", "region": "us east 1"}})
			code, e := rpcError(t, resp)
			if code != int(protocol.CodeInvalidParams) || !strings.Contains(fmt.Sprint(e["message"]), "settings.region") {
				t.Fatalf("%s with a bad region = %d %v, want %d naming settings.region", method, code, e, protocol.CodeInvalidParams)
			}
			if lvl := r.srv.cfg.Logger.Level.Level(); lvl != zapcore.DebugLevel {
				t.Errorf("log level %v after a refused update, want it unchanged (debug)", lvl)
			}
		})
	}
}
