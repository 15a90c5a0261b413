package localsts

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const callerIdentityBody = "Action=GetCallerIdentity&Version=2011-06-15"

// signedRequest builds a POST of body signed by the SDK's own SigV4 signer (an independent
// implementation) at signTime, with the given scope region and service.
func (e *env) signedRequest(t *testing.T, body, keyID, secret, token string, signTime time.Time, region, service string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: token}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), service, region, signTime); err != nil {
		t.Fatal(err)
	}
	return req
}

func TestSigV4ThroughSDK(t *testing.T) {
	e := sharedEnv(t)
	dev := e.assume(e.alice(), &sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("sig")})
	key, secret, token := aws.ToString(dev.Credentials.AccessKeyId), aws.ToString(dev.Credentials.SecretAccessKey), aws.ToString(dev.Credentials.SessionToken)
	other := e.assume(e.alice(), &sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("sig2")})
	tests := []struct {
		name   string
		client *sts.Client
		code   string
		status int
		msg    string
	}{
		{"wrong secret", e.client(DemoAccessKeyID, "wrong"+DemoSecretAccessKey[5:], ""), "SignatureDoesNotMatch", 403,
			"The request signature we calculated does not match the signature you provided."},
		{"unknown key", e.client("AKIARZPUZDIKZZZZZZZZ", DemoSecretAccessKey, ""), "InvalidClientTokenId", 403, "The security token included in the request is invalid."},
		{"temporary key without its token", e.client(key, secret, ""), "InvalidClientTokenId", 403, "The security token included in the request is invalid."},
		{"temporary key with a wrong token", e.client(key, secret, token[:len(token)-4]+"AAAA"), "InvalidClientTokenId", 403, ""},
		{"temporary key with another session's token", e.client(key, secret, aws.ToString(other.Credentials.SessionToken)), "InvalidClientTokenId", 403, ""},
		{"long-term key with a token", e.client(DemoAccessKeyID, DemoSecretAccessKey, token), "InvalidClientTokenId", 403, ""},
		{"no credentials at all", e.client("", "", ""), "MissingAuthenticationToken", 403, "Request is missing Authentication Token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			wantAPIError(t, err, tt.code, tt.status, tt.msg)
		})
	}
	t.Run("temporary key with its token", func(t *testing.T) {
		if got := aws.ToString(whoami(t, e.client(key, secret, token)).Arn); !strings.HasSuffix(got, "assumed-role/Dev/sig") {
			t.Fatal(got)
		}
	})
}

func TestSigV4HandBuilt(t *testing.T) {
	e := sharedEnv(t)
	now := time.Now()
	sign := func(mod func(*http.Request)) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			r := e.signedRequest(t, callerIdentityBody, DemoAccessKeyID, DemoSecretAccessKey, "", now, "us-east-1", "sts")
			if mod != nil {
				mod(r)
			}
			return r
		}
	}
	authz := func(f func(string) string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", f(r.Header.Get("Authorization"))) }
	}
	dropPart := func(part string) func(*http.Request) {
		return authz(func(a string) string {
			var keep []string
			alg, rest, _ := strings.Cut(a, " ")
			for _, p := range strings.Split(rest, ", ") {
				if !strings.HasPrefix(p, part+"=") {
					keep = append(keep, p)
				}
			}
			return alg + " " + strings.Join(keep, ", ")
		})
	}
	// swapBody signs one body and sends another of the same length (so Content-Length, which
	// the SDK signs, still matches).
	const signedBody, sentBody = callerIdentityBody + "&X=1", callerIdentityBody + "&X=2"
	swapBody := func(mod func(*http.Request)) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			r := e.signedRequest(t, signedBody, DemoAccessKeyID, DemoSecretAccessKey, "", now, "us-east-1", "sts")
			r.Body = bodyOf(sentBody)
			if mod != nil {
				mod(r)
			}
			return r
		}
	}
	tests := []struct {
		name   string
		req    func(t *testing.T) *http.Request
		status int
		code   string
		msg    string
	}{
		{"valid", sign(nil), 200, "", ""},
		{"valid with a Date header instead of X-Amz-Date", func(t *testing.T) *http.Request {
			// Sign over a Date header by hand: the SDK always uses X-Amz-Date.
			r, _ := http.NewRequest(http.MethodPost, e.url+"/", strings.NewReader(callerIdentityBody))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Date", now.UTC().Format(http.TimeFormat))
			sr := &sigRequest{keyID: DemoAccessKeyID, scopeDate: now.UTC().Format(scopeDateLayout), region: "us-east-1", service: "sts",
				terminator: "aws4_request", signedHeaders: []string{"content-type", "date", "host"}, amzDate: now.UTC().Format(amzDateLayout)}
			r.Host = strings.TrimPrefix(e.url, "http://")
			sum := sha256.Sum256([]byte(callerIdentityBody))
			canon := canonicalRequest(r, url.Values{}, sr, hex.EncodeToString(sum[:]))
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+DemoAccessKeyID+"/"+sr.scopeDate+"/us-east-1/sts/aws4_request, SignedHeaders=content-type;date;host, Signature="+sr.sign(DemoSecretAccessKey, canon))
			return r
		}, 200, "", ""},
		{"no Signature", sign(dropPart("Signature")), 400, "IncompleteSignature", "Authorization header requires 'Signature' parameter."},
		{"no Credential", sign(dropPart("Credential")), 400, "IncompleteSignature", "Authorization header requires 'Credential' parameter."},
		{"no SignedHeaders", sign(dropPart("SignedHeaders")), 400, "IncompleteSignature", "Authorization header requires 'SignedHeaders' parameter."},
		{"no date", sign(func(r *http.Request) { r.Header.Del("X-Amz-Date") }), 400, "IncompleteSignature",
			"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
		{"malformed date", sign(func(r *http.Request) { r.Header.Set("X-Amz-Date", "yesterday") }), 400, "IncompleteSignature", "ISO-8601"},
		{"credential with four parts", sign(authz(func(a string) string { return strings.Replace(a, "/aws4_request", "", 1) })), 400, "IncompleteSignature",
			"Credential must have exactly 5 slash-delimited elements"},
		{"another algorithm", sign(authz(func(a string) string { return strings.Replace(a, "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1", 1) })), 400, "IncompleteSignature", "AWS4-HMAC-SHA1"},
		{"host not signed", sign(authz(func(a string) string { return strings.Replace(a, "host;", "", 1) })), 403, "SignatureDoesNotMatch", "'Host'"},
		{"body changed after signing", swapBody(nil), 403, "SignatureDoesNotMatch", "The request signature we calculated does not match"},
		{"content-sha256 header lying about the body", swapBody(func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sha256sum(signedBody)))
		}), 403, "SignatureDoesNotMatch", ""},
		{"UNSIGNED-PAYLOAD", func(t *testing.T) *http.Request {
			r, _ := http.NewRequest(http.MethodPost, e.url+"/", strings.NewReader(callerIdentityBody))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
			creds := aws.Credentials{AccessKeyID: DemoAccessKeyID, SecretAccessKey: DemoSecretAccessKey}
			if err := v4.NewSigner().SignHTTP(ctx, creds, r, unsignedPayload, "sts", "us-east-1", now); err != nil {
				t.Fatal(err)
			}
			return r
		}, 403, "SignatureDoesNotMatch", "UNSIGNED-PAYLOAD"},
		{"signed twenty minutes ago", func(t *testing.T) *http.Request {
			return e.signedRequest(t, callerIdentityBody, DemoAccessKeyID, DemoSecretAccessKey, "", now.Add(-20*time.Minute), "us-east-1", "sts")
		}, 403, "SignatureDoesNotMatch", "Signature expired: "},
		{"signed twenty minutes ahead", func(t *testing.T) *http.Request {
			return e.signedRequest(t, callerIdentityBody, DemoAccessKeyID, DemoSecretAccessKey, "", now.Add(20*time.Minute), "us-east-1", "sts")
		}, 403, "SignatureDoesNotMatch", "Signature not yet current: "},
		{"signed ten minutes ago", func(t *testing.T) *http.Request {
			return e.signedRequest(t, callerIdentityBody, DemoAccessKeyID, DemoSecretAccessKey, "", now.Add(-10*time.Minute), "us-east-1", "sts")
		}, 200, "", ""},
		{"scoped to another service", func(t *testing.T) *http.Request {
			return e.signedRequest(t, callerIdentityBody, DemoAccessKeyID, DemoSecretAccessKey, "", now, "us-east-1", "s3")
		}, 403, "SignatureDoesNotMatch", "Credential should be scoped to correct service: 'sts'."},
		{"scoped to an invalid region", func(t *testing.T) *http.Request {
			return e.signedRequest(t, callerIdentityBody, DemoAccessKeyID, DemoSecretAccessKey, "", now, "mars", "sts")
		}, 403, "SignatureDoesNotMatch", "Credential should be scoped to a valid region."},
		{"scoped to another region", func(t *testing.T) *http.Request {
			return e.signedRequest(t, callerIdentityBody, DemoAccessKeyID, DemoSecretAccessKey, "", now, "ap-southeast-2", "sts")
		}, 200, "", ""},
		{"scope date not the request date", sign(authz(func(a string) string {
			return strings.Replace(a, "/"+now.UTC().Format(scopeDateLayout)+"/", "/"+now.UTC().Add(-48*time.Hour).Format(scopeDateLayout)+"/", 1)
		})), 403, "SignatureDoesNotMatch", "Date in Credential scope does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.do(tt.req(t))
			if resp.status != tt.status || resp.errorCode() != tt.code {
				t.Fatalf("got %d %s, want %d %s: %s", resp.status, resp.errorCode(), tt.status, tt.code, resp.body)
			}
			if tt.msg != "" && !strings.Contains(resp.body, xmlText(tt.msg)) {
				t.Fatalf("message does not contain %q: %s", tt.msg, resp.body)
			}
		})
	}
}

func bodyOf(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }

func sha256sum(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

func xmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func TestPresignedURL(t *testing.T) {
	e := newEnv(t, nil)
	presign := func(t *testing.T, opts ...func(*sts.PresignOptions)) string {
		req, err := sts.NewPresignClient(e.alice(), opts...).PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		return req.URL
	}
	get := func(t *testing.T, u string) rawResponse {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		return e.do(req)
	}
	t.Run("SDK presigned GetCallerIdentity", func(t *testing.T) {
		resp := get(t, presign(t))
		if resp.status != 200 || !strings.Contains(resp.body, "<Arn>arn:aws:iam::123456789012:user/alice</Arn>") {
			t.Fatalf("%d %s", resp.status, resp.body)
		}
	})
	t.Run("tampered signature", func(t *testing.T) {
		u := presign(t)
		i := strings.Index(u, "X-Amz-Signature=") + len("X-Amz-Signature=")
		flip := map[byte]byte{'0': '1'}
		b := []byte(u)
		if f, ok := flip[b[i]]; ok {
			b[i] = f
		} else {
			b[i] = '0'
		}
		resp := get(t, string(b))
		if resp.status != 403 || resp.errorCode() != "SignatureDoesNotMatch" {
			t.Fatalf("%d %s", resp.status, resp.body)
		}
	})
	t.Run("tampered parameter", func(t *testing.T) {
		resp := get(t, strings.Replace(presign(t), "Action=GetCallerIdentity", "Action=GetSessionToken", 1))
		if resp.status != 403 || resp.errorCode() != "SignatureDoesNotMatch" {
			t.Fatalf("%d %s", resp.status, resp.body)
		}
	})
	t.Run("expired presigned URL", func(t *testing.T) {
		// The SDK presigns STS without X-Amz-Expires, so the usual 15-minute window applies.
		u := presign(t)
		e.clock.Advance(20 * time.Minute)
		defer e.clock.Advance(-20 * time.Minute)
		resp := get(t, u)
		if resp.status != 403 || resp.errorCode() != "SignatureDoesNotMatch" || !strings.Contains(resp.body, "Signature expired") {
			t.Fatalf("%d %s", resp.status, resp.body)
		}
	})
}

func TestPresignedWithExpires(t *testing.T) {
	e := newEnv(t, nil)
	now := time.Now()
	req, _ := http.NewRequest(http.MethodGet, e.url+"/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60", nil)
	creds := aws.Credentials{AccessKeyID: DemoAccessKeyID, SecretAccessKey: DemoSecretAccessKey}
	u, _, err := v4.NewSigner().PresignHTTP(ctx, creds, req, hex.EncodeToString(sha256sum("")), "sts", "us-east-1", now)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		advance time.Duration
		status  int
	}{
		{"within X-Amz-Expires", 0, 200},
		{"after X-Amz-Expires", 2 * time.Minute, 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Advance(tt.advance)
			r, _ := http.NewRequest(http.MethodGet, u, nil)
			resp := e.do(r)
			if resp.status != tt.status {
				t.Fatalf("%d %s", resp.status, resp.body)
			}
		})
	}
}
