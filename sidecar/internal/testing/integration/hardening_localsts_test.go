package integration

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"awsflow-sts/sidecar/internal/localsts"
	"awsflow-sts/sidecar/internal/testing/ststest"
)

// localSTSClient is an SDK STS client of ls signing with the demo keys.
func localSTSClient(ls *localSTSProc) *sts.Client {
	return sts.New(sts.Options{
		Region:           ls.region,
		BaseEndpoint:     aws.String(ls.endpoint),
		RetryMaxAttempts: 1,
		Credentials:      credentials.NewStaticCredentialsProvider(ls.accessKeyID, ls.secretAccessKey, ""),
	})
}

// localSTSDo sends req and returns the status and body.
func localSTSDo(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(req.Context(), callTimeout)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestLocalSTSRefusesUnsignedPayload replays the headers of a GetCallerIdentity signed with
// UNSIGNED-PAYLOAD with a GetSessionToken body of the same length: no credentials may come back.
func TestLocalSTSRefusesUnsignedPayload(t *testing.T) {
	ls := startLocalSTS(t)
	const captured = "Action=GetCallerIdentity&Version=2011-06-15&Pad=xxxxxxxxxxxx"
	replayed := "Action=GetSessionToken&Version=2011-06-15&P="
	replayed += strings.Repeat("p", len(captured)-len(replayed)) // Content-Length is signed too
	req, err := http.NewRequest(http.MethodPost, ls.endpoint+"/", strings.NewReader(captured))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	creds := aws.Credentials{AccessKeyID: ls.accessKeyID, SecretAccessKey: ls.secretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", "sts", ls.region, time.Now()); err != nil {
		t.Fatal(err)
	}
	req.Body, req.ContentLength = io.NopCloser(strings.NewReader(replayed)), int64(len(replayed))
	status, body := localSTSDo(t, req)
	if strings.Contains(body, "SecretAccessKey") {
		t.Fatalf("the replay got a secret key (status %d)", status) // the body is not printed: it holds the secret
	}
	if status != http.StatusForbidden || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") {
		t.Fatalf("replayed body answered %d: %s", status, body)
	}
	// A correctly signed request still works.
	if _, err := localSTSClient(ls).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
}

// TestLocalSTSBodyBounds drips a body to the binary and sends it one too large: the first is cut
// off after --read-timeout, the second refused, and the server goes on serving.
func TestLocalSTSBodyBounds(t *testing.T) {
	ls := startLocalSTS(t, "--read-timeout", "1s")
	t.Run("dripped body", func(t *testing.T) {
		// Generous: the server gives up after 1 s.
		b, err := ststest.DripBody(strings.TrimPrefix(ls.endpoint, "http://"), 100*time.Millisecond, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 0 && !bytes.Contains(b, []byte("RequestTimeout")) {
			t.Fatalf("unexpected answer to a dripped body: %s", b)
		}
	})
	t.Run("oversize body", func(t *testing.T) {
		big := "Action=GetCallerIdentity&Version=2011-06-15&X=" + strings.Repeat("a", 1<<20)
		req, err := http.NewRequest(http.MethodPost, ls.endpoint+"/", strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		status, body := localSTSDo(t, req)
		if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "<Code>RequestEntityTooLarge</Code>") {
			t.Fatalf("%d %s", status, body)
		}
	})
	t.Run("still serving", func(t *testing.T) {
		if _, err := localSTSClient(ls).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	})
}

// nonLoopbackIPv4 is an address of this machine that other hosts could reach, or "" if it has
// none.
func nonLoopbackIPv4(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}

// waitStderr waits for want in ls's stderr (written before its first stdout line, but copied by
// another goroutine) and fails after a generous bound.
func waitStderr(t *testing.T, ls *localSTSProc, want string) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !strings.Contains(ls.stderr.String(), want); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("stderr lacks %q:\n%s", want, ls.stderr.String())
		}
	}
}

// TestLocalSTSBeyondLoopback binds the binary to an address of this machine other hosts could
// reach and calls it there, so the peer address is not loopback: it warns, and refuses the demo
// keys and the demo SSO token unless --allow-remote-demo is given.
func TestLocalSTSBeyondLoopback(t *testing.T) {
	ip := nonLoopbackIPv4(t)
	if ip == "" {
		t.Skip("this machine has no non-loopback IPv4 address to listen on")
	}
	flag := "--" + localsts.AllowRemoteDemoFlag
	ssoStatus := func(t *testing.T, ls *localSTSProc) (int, string) {
		q := url.Values{"account_id": {localsts.MemberAccount}, "role_name": {localsts.DemoSSOPermissionSet}}
		req, err := http.NewRequest(http.MethodGet, ls.endpoint+"/federation/credentials?"+q.Encode(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("x-amz-sso_bearer_token", localsts.DemoSSOAccessToken)
		return localSTSDo(t, req)
	}

	t.Run("loopback says nothing", func(t *testing.T) {
		ls := startLocalSTS(t)
		if _, err := localSTSClient(ls).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
		if s := ls.stderr.String(); strings.Contains(s, "warning") {
			t.Fatalf("a loopback server warned:\n%s", s)
		}
	})
	t.Run("refused without the flag", func(t *testing.T) {
		ls := startLocalSTS(t, "--addr", net.JoinHostPort(ip, "0"))
		waitStderr(t, ls, "warning: listening on "+ip)
		waitStderr(t, ls, flag)
		_, err := localSTSClient(ls).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" || !strings.Contains(ae.ErrorMessage(), flag) {
			t.Fatalf("the demo key from %s was not refused naming %s: %v", ip, flag, err)
		}
		status, body := ssoStatus(t, ls)
		if status != http.StatusForbidden || !strings.Contains(body, flag) || strings.Contains(body, "secretAccessKey") {
			t.Fatalf("the demo SSO token from %s: %d %s", ip, status, body)
		}
		if strings.Contains(body, localsts.DemoSSOAccessToken) || strings.Contains(err.Error(), ls.secretAccessKey) {
			t.Fatal("a refusal quotes the secret it refuses")
		}
	})
	t.Run("served with the flag", func(t *testing.T) {
		ls := startLocalSTS(t, "--addr", net.JoinHostPort(ip, "0"), flag)
		waitStderr(t, ls, "anyone who reaches it")
		out, err := localSTSClient(ls).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		if err != nil || !strings.HasSuffix(aws.ToString(out.Arn), ":user/alice") {
			t.Fatalf("%v %v", out, err)
		}
		if status, body := ssoStatus(t, ls); status != http.StatusOK {
			t.Fatalf("the demo SSO token with %s: %d %s", flag, status, body)
		}
	})
}
