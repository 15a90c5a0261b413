package tool

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/stsops"
)

// TestHintsNameTheFrontendsSettings: the same failures explained for the call subcommand name its
// flags, and for VS Code its settings; neither names the other's.
func TestHintsNameTheFrontendsSettings(t *testing.T) {
	custom := callContext{command: "GetCallerIdentity", identity: baseWho, region: "us-east-1", endpoint: "http://127.0.0.1:5000"}
	aws := callContext{command: "GetCallerIdentity", identity: baseWho, region: "eu-west-1"}
	unsigned := callContext{command: "AssumeRoleWithWebIdentity", identity: unsignedWho, region: "us-east-1", endpoint: "http://127.0.0.1:5000"}
	tests := []struct {
		name     string
		cc       callContext
		err      error
		vscode   []string
		cli      []string
		cliNever []string
	}{
		{"endpoint not STS", custom, &stsops.EndpointError{Endpoint: "http://127.0.0.1:5000", Operation: "GetCallerIdentity", Status: 500, Reason: "an HTML page"},
			[]string{"the awsflowSts.endpointUrl setting"}, []string{"the --endpoint-url flag"}, nil},
		{"endpoint not STS, none set", aws, &stsops.EndpointError{Endpoint: "https://sts.eu-west-1.amazonaws.com", Operation: "GetCallerIdentity", Status: 200, Reason: "an HTML page"},
			[]string{"The awsflowSts.endpointUrl setting is empty"}, []string{"The --endpoint-url flag is empty"}, nil},
		{"timeout", custom, &stsops.TimeoutError{Seconds: 7, Err: context.DeadlineExceeded},
			[]string{"(the awsflowSts.requestTimeoutSeconds setting)", "raise the awsflowSts.requestTimeoutSeconds setting"},
			[]string{"(the --endpoint-url flag)", "Check the network, proxy and the --endpoint-url flag, then try again."}, []string{"raise"}},
		{"no credentials", aws, &stsops.CredentialsError{Err: errors.New("no EC2 IMDS role found")},
			[]string{"Set the awsflowSts.profile setting"}, []string{"Set the --profile flag"}, nil},
		{"unreachable", custom, fmt.Errorf("dial: %w", context.DeadlineExceeded),
			[]string{"the awsflowSts.endpointUrl setting, then try again"}, []string{"the --endpoint-url flag, then try again"}, nil},
		{"unsigned wanted signed", unsigned, &smithy.GenericAPIError{Code: "MissingAuthenticationToken", Message: "missing"},
			[]string{"check the awsflowSts.endpointUrl setting."}, []string{"check the --endpoint-url flag."}, nil},
		{"throttled", aws, &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"},
			[]string{"the awsflowSts.maxAttempts setting adds automatic retries"}, []string{"Wait a few seconds and try again."}, []string{"maxAttempts"}},
	}
	text := func(e *Error) string { return e.Message + "\n" + e.Hint }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vs := text(explain(tc.cc, tc.err))
			cc := tc.cc
			cc.front = Frontend{CLI: true}
			cli := text(explain(cc, tc.err))
			for _, w := range tc.vscode {
				if !strings.Contains(vs, w) {
					t.Errorf("VS Code text lacks %q:\n%s", w, vs)
				}
			}
			for _, w := range tc.cli {
				if !strings.Contains(cli, w) {
					t.Errorf("CLI text lacks %q:\n%s", w, cli)
				}
			}
			for _, w := range append([]string{"awsflowSts."}, tc.cliNever...) {
				if strings.Contains(cli, w) {
					t.Errorf("CLI text names %q:\n%s", w, cli)
				}
			}
			if strings.Contains(vs, "--endpoint-url") || strings.Contains(vs, "--profile") {
				t.Errorf("VS Code text names a CLI flag:\n%s", vs)
			}
		})
	}
}

// TestMintedTextPerFrontend: VS Code is told how to act as the session; the CLI is told that the
// keychain keeps it, or honestly that it ends with the command.
func TestMintedTextPerFrontend(t *testing.T) {
	info := protocol.SessionInfo{Name: "me", Kind: "credentials", Source: protocol.ReservedSessionName, AccessKeyID: "ASIA…ABCD"}
	out := &stsops.Result{ARN: "arn:aws:sts::123456789012:assumed-role/Dev/me"}
	cases := []struct {
		front       Frontend
		must, never string
	}{
		{Frontend{}, "To act as this session pass `\"Session\": \"me\"`", "keychain"},
		{Frontend{CLI: true, Keychain: true}, "kept in the OS keychain until it expires: act as it in a later call with `--params '{\"Session\":\"me\"}'`", "stay in the awsflow-sts sidecar"},
		{Frontend{CLI: true}, "No OS keychain is available here, so this session ends with this command.", "Session\\\": "},
	}
	for _, c := range cases {
		got := formatMinted(c.front, protocol.CmdAssumeRole, info, out, false).text
		if !strings.Contains(got, c.must) || strings.Contains(got, c.never) {
			t.Errorf("%+v: text must have %q and not %q:\n%s", c.front, c.must, c.never, got)
		}
	}
}
