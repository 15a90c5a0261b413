package localsts

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"awsflow-sts/sidecar/internal/localsts/idp"
)

// signedGET signs a GET whose parameters are all in the query string.
func (e *env) signedGET(t *testing.T, query string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url+"/?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	creds := aws.Credentials{AccessKeyID: DemoAccessKeyID, SecretAccessKey: DemoSecretAccessKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sha256sum("")), "sts", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestQueryProtocol(t *testing.T) {
	e := sharedEnv(t)
	t.Run("GET with the query string, in STS's shape", func(t *testing.T) {
		resp := e.do(e.signedGET(t, "Action=GetCallerIdentity&Version=2011-06-15"))
		if resp.status != 200 {
			t.Fatalf("%d %s", resp.status, resp.body)
		}
		id := resp.header.Get("x-amzn-RequestId")
		if !uuidRE.MatchString(id) {
			t.Fatalf("request id %q", id)
		}
		if ct := resp.header.Get("Content-Type"); ct != "text/xml" {
			t.Fatalf("Content-Type %q", ct)
		}
		want := `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
			`<Arn>arn:aws:iam::123456789012:user/alice</Arn><UserId>` + stableID(prefixUser, DemoAccount, "alice") + `</UserId><Account>123456789012</Account>` +
			`</GetCallerIdentityResult><ResponseMetadata><RequestId>` + id + `</RequestId></ResponseMetadata></GetCallerIdentityResponse>`
		if resp.body != want {
			t.Fatalf("body\n%s\nwant\n%s", resp.body, want)
		}
	})
	t.Run("error shape", func(t *testing.T) {
		resp := e.do(e.signedGET(t, "Action=NoSuchThing&Version=2011-06-15"))
		id := resp.header.Get("x-amzn-RequestId")
		want := `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidAction</Code>` +
			`<Message>Could not find operation NoSuchThing for version 2011-06-15</Message></Error><RequestId>` + id + `</RequestId></ErrorResponse>`
		if resp.status != 400 || resp.body != want {
			t.Fatalf("%d\n%s\nwant\n%s", resp.status, resp.body, want)
		}
	})
	for _, tt := range []struct {
		name, query string
		status      int
		code, msg   string
	}{
		{"missing Action", "Version=2011-06-15", 400, "MissingAction", "Missing Action"},
		{"missing Version", "Action=GetCallerIdentity", 400, "InvalidAction", "Could not find operation GetCallerIdentity for version NO_VERSION_SPECIFIED"},
		{"other Version", "Action=GetCallerIdentity&Version=2010-01-01", 400, "InvalidAction", "Could not find operation GetCallerIdentity for version 2010-01-01"},
		{"unknown Action", "Action=AssumeEverything&Version=2011-06-15", 400, "InvalidAction", "Could not find operation AssumeEverything for version 2011-06-15"},
		{"missing required parameter", "Action=AssumeRole&Version=2011-06-15&RoleSessionName=abc", 400, "ValidationError",
			"1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null"},
		{"integer that is not one", "Action=GetSessionToken&Version=2011-06-15&DurationSeconds=soon", 400, "InvalidParameterValue", "DurationSeconds"},
		{"trusted contexts cannot be verified", "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FDev&RoleSessionName=abc" +
			"&ProvidedContexts.member.1.ProviderArn=arn%3Aaws%3Aiam%3A%3Aaws%3AcontextProvider%2FIdentityCenter&ProvidedContexts.member.1.ContextAssertion=x", 400, "InvalidParameterValue", "ProvidedContexts"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.do(e.signedGET(t, tt.query))
			if resp.status != tt.status || resp.errorCode() != tt.code || !strings.Contains(resp.body, tt.msg) {
				t.Fatalf("got %d %s, want %d %s %q", resp.status, resp.body, tt.status, tt.code, tt.msg)
			}
		})
	}
	t.Run("form body over the cap", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15&X="+strings.Repeat("a", maxBody)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if resp := e.do(req); resp.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("%d %s", resp.status, resp.body)
		}
	})
	t.Run("unsigned operations need no credentials", func(t *testing.T) {
		_, err := e.client("", "", "").AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(role("WebDev")),
			RoleSessionName: aws.String("web"), WebIdentityToken: aws.String("not-a-jwt")})
		wantAPIError(t, err, "InvalidIdentityToken", 400, "not a valid JWT")
	})
	t.Run("health", func(t *testing.T) {
		resp, err := http.Get(e.url + "/_localsts/health")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%v %v", resp, err)
		}
		resp.Body.Close()
	})
	t.Run("unknown local route", func(t *testing.T) {
		resp, err := http.Get(e.url + "/_localsts/nothing")
		if err != nil || resp.StatusCode != 404 {
			t.Fatalf("%v %v", resp, err)
		}
		resp.Body.Close()
	})
}

func TestListMembers(t *testing.T) {
	form := url.Values{
		"Tags.member.2.Key": {"b"}, "Tags.member.2.Value": {"2"},
		"Tags.member.1.Key": {"a"}, "Tags.member.1.Value": {"1"},
		"Tags.member.10.Key": {"j"}, "Tags.member.10.Value": {""},
		"Tags.member.x.Key": {"ignored"},
		"Audience.member.1": {"aud-1"}, "Audience.member.2": {"aud-2"},
		"PolicyArns.member.1.arn": {"arn:aws:iam::aws:policy/ReadOnlyAccess"},
		"TaskPolicyArn.arn":       {"arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy"},
	}
	for _, tt := range []struct {
		name string
		list string
		want []listMember
	}{
		{"fields, in index order", "Tags", []listMember{{1, map[string]string{"Key": "a", "Value": "1"}}, {2, map[string]string{"Key": "b", "Value": "2"}},
			{10, map[string]string{"Key": "j", "Value": ""}}}},
		{"scalars", "Audience", []listMember{{1, map[string]string{"": "aud-1"}}, {2, map[string]string{"": "aud-2"}}}},
		{"structure members", "PolicyArns", []listMember{{1, map[string]string{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}}}},
		{"absent", "TransitiveTagKeys", []listMember{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := members(form, tt.list); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	t.Run("lists reach the operation", func(t *testing.T) {
		e := sharedEnv(t)
		out, err := e.alice().GetWebIdentityToken(ctx, &sts.GetWebIdentityTokenInput{Audience: []string{"aud-1", "aud-2"}, SigningAlgorithm: aws.String("RS256"),
			Tags: []types.Tag{{Key: aws.String("k1"), Value: aws.String("v1")}, {Key: aws.String("k2"), Value: aws.String("v2")}}})
		if err != nil {
			t.Fatal(err)
		}
		claims := e.verifySTSToken(t, aws.ToString(out.WebIdentityToken))
		if !reflect.DeepEqual(claims.Audience, []string{"aud-1", "aud-2"}) {
			t.Fatalf("aud = %v", claims.Audience)
		}
		if tags, _ := json.Marshal(claims.Raw[witTagsClaim]); string(tags) != `{"k1":"v1","k2":"v2"}` {
			t.Fatalf("tags claim = %s", tags)
		}
	})
}

// verifySTSToken verifies a GetWebIdentityToken JWT against the JWKS the server publishes.
func (e *env) verifySTSToken(t *testing.T, token string) *idp.JWTClaims {
	t.Helper()
	resp, err := http.Get(e.url + "/_localsts/sts/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set idp.JWKS
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	claims, err := idp.VerifyJWT(token, set, e.url+"/_localsts/sts", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return claims
}
