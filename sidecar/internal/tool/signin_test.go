package tool

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/smithy-go"

	"awsflow-sts/sidecar/internal/protocol"
)

func TestSignInRequiredOnlyForItsCause(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	conf := "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n" +
		"[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Dev\n" +
		"[profile keys]\nregion = us-east-1\n"
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := fmt.Errorf("get credentials: failed to refresh cached credentials, failed to read cached SSO token file, open /x.json: %w",
		&fs.PathError{Op: "open", Path: "/x.json", Err: syscall.ENOENT})
	expired := errors.New("get credentials: failed to refresh cached credentials, refresh cached SSO token failed, cached SSO token is expired, or not present, and cannot be refreshed")
	refused := fmt.Errorf("get credentials: failed to refresh cached credentials, refresh cached SSO token failed, unable to refresh SSO token, %w",
		&smithy.GenericAPIError{Code: "InvalidGrantException", Message: "invalid_grant"})
	legacy := fmt.Errorf("get credentials: failed to refresh cached credentials, %w", &ssocreds.InvalidTokenError{})
	network := fmt.Errorf("get credentials: failed to refresh cached credentials, refresh cached SSO token failed, unable to refresh SSO token, %w",
		&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
	forbidden := fmt.Errorf("get credentials: %w", &smithy.GenericAPIError{Code: "ForbiddenException", Message: "No access"})
	cc := callContext{command: protocol.CmdGetCallerIdentity, identity: "the base identity (profile `dev`)", profile: "dev"}
	for name, err := range map[string]error{"missing": missing, "expired": expired, "refused": refused, "legacy": legacy} {
		e := signInRequired(cc, err, path)
		if e == nil {
			t.Errorf("%s: not SignInRequired", name)
			continue
		}
		code, msg, data := e.RPCError()
		d := data.(protocol.ErrorData)
		if code != protocol.CodeSignInRequired || d.Kind != protocol.KindSignin || d.SsoSession != "corp" ||
			!strings.Contains(msg, "asked to sign in") || !strings.Contains(e.Hint, "cannot start a sign-in") {
			t.Errorf("%s: %d %q %+v", name, code, msg, d)
		}
	}
	for name, err := range map[string]error{"network": network, "forbidden": forbidden} {
		if e := signInRequired(cc, err, path); e != nil {
			t.Errorf("%s: SignInRequired for another cause: %s", name, e.Message)
		}
	}
	keys := cc
	keys.profile = "keys"
	if e := signInRequired(keys, expired, path); e != nil {
		t.Error("SignInRequired for a profile that is not an SSO profile")
	}
	// Through explain, a network failure keeps its own explanation.
	t.Setenv("AWS_CONFIG_FILE", path)
	if e := explain(cc, network); e.Code == protocol.CodeSignInRequired {
		t.Errorf("explain: %+v", e)
	}
	if e := explain(cc, expired); e.Code != protocol.CodeSignInRequired || e.SSOSession != "corp" {
		t.Errorf("explain: %+v", e)
	}
}
