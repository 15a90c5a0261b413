package stsops

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"

	"awsflow-sts/sidecar/internal/protocol"
)

// TestServiceConfigIsBounded: the clients of IAM Identity Center built from ServiceConfig take
// the endpoint from AWS_ENDPOINT_URL_SSO_OIDC, and their calls are bounded in time and size as
// STS calls are.
func TestServiceConfigIsBounded(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/client/register": // never answers in time
			select {
			case <-release:
			case <-r.Context().Done():
			}
		default: // an answer far over the cap
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"clientId":"` + strings.Repeat("x", MaxResponseBytes+10) + `"}`))
		}
	}))
	defer srv.Close()
	defer close(release)
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ENDPOINT_URL_SSO_OIDC", srv.URL)
	c := NewClients(protocol.Settings{RequestTimeoutSeconds: 1, MaxAttempts: 1})
	cfg, err := c.ServiceConfig(context.Background(), "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	client := ssooidc.NewFromConfig(cfg)
	_, err = client.RegisterClient(context.Background(), &ssooidc.RegisterClientInput{ClientName: aws.String("t"), ClientType: aws.String("public")})
	var te *TimeoutError
	if !errors.As(err, &te) || te.Seconds != 1 {
		t.Fatalf("a call that is not answered: %v", err)
	}
	_, err = client.StartDeviceAuthorization(context.Background(), &ssooidc.StartDeviceAuthorizationInput{
		ClientId: aws.String("a"), ClientSecret: aws.String("b"), StartUrl: aws.String("https://x/start")})
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("an oversized answer: %v", err)
	}
}
