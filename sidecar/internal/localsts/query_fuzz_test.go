package localsts

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// fuzzNow is the fuzz server's fixed clock, so that a request signed for it stays valid however
// long the fuzzer runs.
var fuzzNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

var (
	fuzzOnce sync.Once
	fuzzSrv  *Server
	fuzzErr  error
)

// fuzzServer is one default-config server on the fixed clock, shared by every fuzz input (a
// server costs an RSA key).
func fuzzServer(t *testing.T) *Server {
	t.Helper()
	fuzzOnce.Do(func() { fuzzSrv, fuzzErr = New(DefaultConfig(), Options{Now: func() time.Time { return fuzzNow }}) })
	if fuzzErr != nil {
		t.Fatal(fuzzErr)
	}
	return fuzzSrv
}

// longTermSecrets are the default config's secret keys: no answer may carry one the request did
// not.
var longTermSecrets = []string{DemoSecretAccessKey, bobSecretAccessKey, carolSecretAccessKey}

// serveFuzz runs one request through the server's handler from loopback.
func serveFuzz(t *testing.T, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	req.RemoteAddr = "127.0.0.1:50000"
	rec := httptest.NewRecorder()
	fuzzServer(t).Handler().ServeHTTP(rec, req)
	return rec
}

// checkSTSAnswer checks that an answer is STS's: well-formed XML naming a request id, and no
// secret the request did not carry.
func checkSTSAnswer(t *testing.T, rec *httptest.ResponseRecorder, sent []byte) {
	t.Helper()
	body := rec.Body.Bytes()
	if rec.Header().Get("x-amzn-RequestId") == "" {
		t.Fatalf("answer %d without x-amzn-RequestId: %.300q", rec.Code, body)
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	elements := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("answer %d is not well-formed XML (%v): %.300q", rec.Code, err, body)
		}
		if _, ok := tok.(xml.StartElement); ok {
			elements++
		}
	}
	if elements == 0 {
		t.Fatalf("answer %d holds no XML element: %.300q", rec.Code, body)
	}
	for _, s := range longTermSecrets {
		if bytes.Contains(body, []byte(s)) && !bytes.Contains(sent, []byte(s)) {
			t.Fatalf("answer %d carries a long-term secret key: %.300q", rec.Code, body)
		}
	}
}

// FuzzQueryRequest sends arbitrary raw HTTP requests to the Query API (path "/"): query strings,
// form bodies, Authorization headers and presigned parameters. Nothing panics; every answer is
// STS XML with a request id; none carries a long-term secret; and, since nothing here can sign a
// request (the fuzzer does not know a secret key, and no valid SAML assertion or OIDC token is
// in the corpus), none succeeds.
func FuzzQueryRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return
		}
		req.URL.Path, req.RequestURI = "/", ""
		rec := serveFuzz(t, req)
		checkSTSAnswer(t, rec, raw)
		if rec.Code == http.StatusOK {
			t.Fatalf("an unsigned request succeeded: %.300q", rec.Body.Bytes())
		}
	})
}

// signedGetCallerIdentity is the body FuzzSignedBody signs.
const signedGetCallerIdentity = "Action=GetCallerIdentity&Version=2011-06-15"

// FuzzSignedBody signs GetCallerIdentity with the demo key, over its body's SHA-256 or, when
// unsignedBody is set, as UNSIGNED-PAYLOAD, then sends another body under that signature. A
// signature covers its body: a request whose body is not the one signed never succeeds (the
// replay that turned a signed GetCallerIdentity into a GetSessionToken answering a secret key).
func FuzzSignedBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, body string, unsignedBody bool) {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", strings.NewReader(signedGetCallerIdentity))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		sum := sha256.Sum256([]byte(signedGetCallerIdentity))
		payload := hex.EncodeToString(sum[:])
		if unsignedBody {
			payload = unsignedPayload
			req.Header.Set("X-Amz-Content-Sha256", payload)
		}
		creds := aws.Credentials{AccessKeyID: DemoAccessKeyID, SecretAccessKey: DemoSecretAccessKey}
		if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, payload, "sts", "us-east-1", fuzzNow); err != nil {
			t.Fatal(err)
		}
		req.Body = io.NopCloser(strings.NewReader(body))
		req.ContentLength = int64(len(body))
		rec := serveFuzz(t, req)
		checkSTSAnswer(t, rec, []byte(body))
		if rec.Code == http.StatusOK && body != signedGetCallerIdentity {
			t.Fatalf("a body that was not signed succeeded (UNSIGNED-PAYLOAD %v): %q → %.300q", unsignedBody, body, rec.Body.Bytes())
		}
	})
}

// FuzzParseSignature parses arbitrary SigV4 material from an Authorization header, an X-Amz-Date
// header and a query string. Nothing panics; what it accepts is consistent: the five scope
// elements are the credential's, the date reads back as sent, and host is a signed header.
func FuzzParseSignature(f *testing.F) {
	f.Fuzz(func(t *testing.T, authorization, amzDate, rawQuery string) {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", nil)
		req.Header.Set("Authorization", authorization)
		req.Header.Set("X-Amz-Date", amzDate)
		query, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		sr, aerr := parseSignature(req, query)
		if aerr != nil {
			if sr != nil {
				t.Fatal("parseSignature returned both a result and an error")
			}
			if aerr.code == "" || aerr.status < 400 || aerr.status > 499 {
				t.Fatalf("error %q with status %d", aerr.code, aerr.status)
			}
			return
		}
		scope := strings.Join([]string{sr.keyID, sr.scopeDate, sr.region, sr.service, sr.terminator}, "/")
		if strings.Count(scope, "/") != 4 {
			t.Fatalf("scope %q does not have five elements", scope)
		}
		if sr.date.Format(amzDateLayout) != sr.amzDate {
			t.Fatalf("date %v does not read back as %q", sr.date, sr.amzDate)
		}
		hasHost := false
		for _, h := range sr.signedHeaders {
			hasHost = hasHost || h == "host"
		}
		if !hasHost {
			t.Fatalf("signed headers %q lack host", sr.signedHeaders)
		}
		if sr.presigned == (strings.TrimSpace(authorization) != "") {
			t.Fatalf("presigned = %v with Authorization %q", sr.presigned, authorization)
		}
	})
}
