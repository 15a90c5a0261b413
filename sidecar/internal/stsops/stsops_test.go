package stsops

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/aws/smithy-go"
)

func TestPrincipalOf(t *testing.T) {
	tests := []struct {
		arn  string
		want Principal
	}{
		{"arn:aws:iam::123456789012:user/alice", Principal{Kind: "IAM user", Name: "alice"}},
		{"arn:aws:iam::123456789012:user/division/alice", Principal{Kind: "IAM user", Name: "alice"}},
		{"arn:aws:sts::123456789012:assumed-role/Dev/alice@example.com", Principal{Kind: "assumed role", Name: "Dev", SessionName: "alice@example.com"}},
		{"arn:aws:sts::123456789012:federated-user/bob", Principal{Kind: "federated user", Name: "bob"}},
		{"arn:aws:iam::123456789012:root", Principal{Kind: "root user"}},
		{"arn:aws-cn:iam::123456789012:role/Dev", Principal{Kind: "IAM role", Name: "Dev"}},
		{"not-an-arn", Principal{Kind: "unknown principal"}},
	}
	for _, tt := range tests {
		t.Run(tt.arn, func(t *testing.T) {
			if got := PrincipalOf(tt.arn); got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestAccountOf(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:sts::123456789012:assumed-role/Dev/x": "123456789012",
		"arn:aws:iam::aws:policy/ReadOnlyAccess":       "aws",
		"111122223333":                                 "",
		"":                                             "",
	} {
		if got := AccountOf(arn); got != want {
			t.Errorf("AccountOf(%q) = %q, want %q", arn, got, want)
		}
	}
}

func TestIsUnreachable(t *testing.T) {
	netErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"dial error", fmt.Errorf("get caller identity: %w", netErr), true},
		{"credentials", &CredentialsError{Profile: "p", Err: errors.New("failed to get shared config profile")}, true},
		{"sdk credentials text", errors.New("operation error STS: GetCallerIdentity, get identity: get credentials: failed to refresh cached credentials"), true},
		{"api error", &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}, false},
		{"cancelled", context.Canceled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsUnreachable(tt.err); got != tt.want {
				t.Fatalf("IsUnreachable(%v) = %v", tt.err, got)
			}
		})
	}
}
