package conformance

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"awsflow-sts/sidecar/internal/testing/peers"
)

// client is an SDK STS client for an endpoint; moto takes any keys.
func client(endpoint string, id, secret string) *sts.Client {
	return sts.New(sts.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(id, secret, ""),
		RetryMaxAttempts: 1,
	})
}

// shape lists the non-empty fields of an SDK output, recursively, as paths: what must agree
// between two STSs, where the values themselves (keys, ids, times) cannot.
func shape(v any) []string {
	var out []string
	var walk func(prefix string, rv reflect.Value)
	walk = func(prefix string, rv reflect.Value) {
		for rv.Kind() == reflect.Pointer {
			if rv.IsNil() {
				return
			}
			rv = rv.Elem()
		}
		switch rv.Kind() {
		case reflect.Struct:
			if rv.Type().PkgPath() == "time" {
				out = append(out, prefix)
				return
			}
			for i := 0; i < rv.NumField(); i++ {
				f := rv.Type().Field(i)
				if !f.IsExported() || f.Name == "ResultMetadata" {
					continue
				}
				walk(prefix+"."+f.Name, rv.Field(i))
			}
		case reflect.String:
			if rv.Len() > 0 {
				out = append(out, prefix)
			}
		case reflect.Slice:
			if rv.Len() > 0 {
				out = append(out, prefix+"[]")
			}
		default:
			out = append(out, prefix)
		}
	}
	walk("", reflect.ValueOf(v))
	sort.Strings(out)
	return out
}

// TestMotoDifferential sends the same requests to moto and the local STS for the seven operations
// both implement: the answers must have the same shape, and invalid requests must fail on both.
func TestMotoDifferential(t *testing.T) {
	motoURL := peers.Moto(t)
	l := startLocal(t)
	ctx := context.Background()
	moto := client(motoURL, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	ours := client(l.url, l.demo.AccessKeyID, l.demo.SecretAccessKey)
	saml := func(c *sts.Client, assertion string) (any, error) {
		return c.AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{
			RoleArn: aws.String(l.role("SamlDev")), PrincipalArn: aws.String("arn:aws:iam::" + l.demo.Account + ":saml-provider/DemoIdP"),
			SAMLAssertion: aws.String(assertion)})
	}
	// SessionTokenSize is a newer STS field the local STS sends and moto does not.
	common := []string{".SessionTokenSize"}
	cases := []struct {
		name string
		call func(c *sts.Client) (any, error)
		// optional: fields one side may add that the other does not send (documented differences)
		ignore []string
	}{
		{"GetCallerIdentity", func(c *sts.Client) (any, error) { return c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}) }, nil},
		{"AssumeRole", func(c *sts.Client) (any, error) {
			return c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(l.role("Dev")), RoleSessionName: aws.String("diff"), DurationSeconds: aws.Int32(900)})
		}, []string{".PackedPolicySize", ".SourceIdentity"}},
		{"AssumeRoleWithSAML", func(c *sts.Client) (any, error) { return saml(c, l.samlAssertion(t, "SamlDev")) },
			[]string{".NameQualifier", ".PackedPolicySize", ".SourceIdentity", ".SubjectType"}},
		{"AssumeRoleWithWebIdentity", func(c *sts.Client) (any, error) {
			return c.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(l.role("WebDev")),
				RoleSessionName: aws.String("diff"), WebIdentityToken: aws.String(l.webIdentityToken(t, "demo-client"))})
		}, []string{".PackedPolicySize", ".SourceIdentity", ".Provider", ".Audience", ".SubjectFromWebIdentityToken"}},
		{"GetAccessKeyInfo", func(c *sts.Client) (any, error) {
			return c.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(l.demo.AccessKeyID)})
		}, nil},
		{"GetFederationToken", func(c *sts.Client) (any, error) {
			return c.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("bob"),
				PolicyArns: []types.PolicyDescriptorType{{Arn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}}})
		}, nil},
		{"GetSessionToken", func(c *sts.Client) (any, error) {
			return c.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)})
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tc.call(moto)
			if err != nil {
				t.Fatalf("moto: %v", err)
			}
			o, err := tc.call(ours)
			if err != nil {
				t.Fatalf("local STS: %v", err)
			}
			ignore := append(common, tc.ignore...)
			ms, os := without(shape(m), ignore), without(shape(o), ignore)
			if !reflect.DeepEqual(ms, os) {
				t.Fatalf("shapes differ\n moto: %v\nlocal: %v", ms, os)
			}
		})
	}

	// Invalid requests, sent raw so the SDK's own checks do not stop them first.
	invalid := []struct {
		name string
		form url.Values
	}{
		{"unknown action", url.Values{"Action": {"GetEverything"}, "Version": {"2011-06-15"}}},
		{"AssumeRole without RoleArn", url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleSessionName": {"ab"}}},
		{"AssumeRoleWithSAML with a garbage assertion", url.Values{"Action": {"AssumeRoleWithSAML"}, "Version": {"2011-06-15"},
			"RoleArn": {l.role("SamlDev")}, "PrincipalArn": {"arn:aws:iam::" + l.demo.Account + ":saml-provider/DemoIdP"}, "SAMLAssertion": {"bm90IHNhbWw="}}},
	}
	for _, tc := range invalid {
		t.Run("invalid/"+tc.name, func(t *testing.T) {
			for name, endpoint := range map[string]string{"moto": motoURL, "local STS": l.url} {
				req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(tc.form.Encode()))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				// A signature-shaped header, so both get as far as the action (moto checks none).
				req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+l.demo.AccessKeyID+"/20261123/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				resp.Body.Close()
				if resp.StatusCode < 400 {
					t.Errorf("%s accepted it: %s", name, resp.Status)
				}
			}
		})
	}
}

func without(paths, ignore []string) []string {
	var out []string
	for _, p := range paths {
		skip := false
		for _, ig := range ignore {
			if p == ig || strings.HasPrefix(p, ig+".") {
				skip = true
			}
		}
		if !skip {
			out = append(out, p)
		}
	}
	return out
}
