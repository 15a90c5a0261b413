package localsts

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The local STS's side of every call the benchmarks make: the AWS Query request parsed, its SigV4
// signature verified, the operation run and its XML written.

// benchAssumeRoleBody is an AssumeRole request as the SDK encodes it, with tags and a policy.
var benchAssumeRoleBody = url.Values{
	"Action":                     {"AssumeRole"},
	"Version":                    {apiVersion},
	"RoleArn":                    {"arn:aws:iam::123456789012:role/Dev"},
	"RoleSessionName":            {"bench"},
	"DurationSeconds":            {"3600"},
	"Tags.member.1.Key":          {"team"},
	"Tags.member.1.Value":        {"platform"},
	"Tags.member.2.Key":          {"env"},
	"Tags.member.2.Value":        {"dev"},
	"TransitiveTagKeys.member.1": {"team"},
	"Policy":                     {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`},
	"PolicyArns.member.1.arn":    {"arn:aws:iam::aws:policy/ReadOnlyAccess"},
	"SourceIdentity":             {"alice-laptop"},
}.Encode()

func benchServer(b *testing.B) *Server {
	b.Helper()
	sharedOnce.Do(func() { sharedSrv, sharedErr = New(DefaultConfig(), Options{}) })
	if sharedErr != nil {
		b.Fatal(sharedErr)
	}
	return sharedSrv
}

// signedBench returns a request template for body signed as the demo user, and how to make a fresh
// request from it (the signature stays valid for the 15 minutes STS allows).
func signedBench(b *testing.B, body string) func() *http.Request {
	b.Helper()
	tmpl, err := http.NewRequest(http.MethodPost, "http://localsts.bench/", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	tmpl.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: DemoAccessKeyID, SecretAccessKey: DemoSecretAccessKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, tmpl, hex.EncodeToString(sum[:]), "sts", "us-east-1", time.Now()); err != nil {
		b.Fatal(err)
	}
	raw := []byte(body)
	return func() *http.Request {
		r := tmpl.Clone(ctx)
		r.Body = httpBody(raw)
		return r
	}
}

type bodyReader struct{ *bytes.Reader }

func (bodyReader) Close() error { return nil }

func httpBody(b []byte) bodyReader { return bodyReader{bytes.NewReader(b)} }

// BenchmarkServeQuery is one signed request through the handler: parse, verify, run, encode.
func BenchmarkServeQuery(b *testing.B) {
	for _, c := range []struct{ name, body string }{
		{"GetCallerIdentity", "Action=GetCallerIdentity&Version=" + apiVersion},
		{"AssumeRole", benchAssumeRoleBody},
	} {
		b.Run(c.name, func(b *testing.B) {
			h := benchServer(b).Handler()
			next := signedBench(b, c.body)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, next())
				if w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}

// BenchmarkParseQuery is the Query decoding and parameter validation of an AssumeRole body.
func BenchmarkParseQuery(b *testing.B) {
	body := benchAssumeRoleBody
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		form, err := url.ParseQuery(body)
		if err != nil {
			b.Fatal(err)
		}
		var v validator
		v.str(form, "RoleSessionName", "roleSessionName", true, 2, 64, &patSessionName)
		v.policyParams(form)
		tags, trans := v.tagParams(form, true)
		if v.err() != nil || len(tags) != 2 || len(trans) != 1 {
			b.Fatalf("validation: %v", v.err())
		}
	}
}

// BenchmarkEncodeXML is the XML of an AssumeRole result with its credentials.
func BenchmarkEncodeXML(b *testing.B) {
	cr := &credential{
		keyID: "ASIARZPUZDIKCEZA6SZI", secret: strings.Repeat("s", 40), token: strings.Repeat("IQoJb3JpZ2luX2VjE", 24),
		expires: time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC),
	}
	b.ReportAllocs()
	for b.Loop() {
		var x xmlBuilder
		x.credentials(cr)
		x.tokenSize(cr)
		x.raw("<AssumedRoleUser>")
		x.el("AssumedRoleId", "AROARZPUZDIKCEZA6SZIX:bench")
		x.el("Arn", "arn:aws:sts::123456789012:assumed-role/Dev/bench")
		x.raw("</AssumedRoleUser>")
		x.el("PackedPolicySize", "6")
		x.el("SourceIdentity", "alice-laptop")
		if x.Len() == 0 {
			b.Fatal("empty")
		}
	}
}
