// Package ststest is an in-process fake of the STS Query API for unit tests: canned but
// well-formed XML answers for all 11 operations, distinctive secrets in every minted credential,
// errors and delays on demand. It checks no signatures; the integration tests use real peers.
package ststest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Expiration is when every credential the fake issues expires.
var Expiration = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// Account is the fake's only account.
const Account = "123456789012"

// BaseKeyID is the access key the tests' base profile uses; the fake maps it to an IAM user.
const BaseKeyID = "AKIAIOSFODNN7EXAMPLE"

// Failure makes an action answer with an AWS error.
type Failure struct {
	Status  int
	Code    string
	Message string
}

// Server is a running fake STS.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	n        int
	failures map[string]Failure
	delay    map[string]chan struct{}
	faults   map[string]Fault
	started  chan string
	gone     chan string
	issued   map[string]string // access key id → ARN
	secrets  []string
	requests []Request
}

// Request records what a call sent.
type Request struct {
	// Action is the STS action.
	Action string
	// KeyID is the access key that signed it ("" when unsigned).
	KeyID string
	// Form is the request's parameters.
	Form url.Values
}

// New starts a fake STS; Close stops it.
func New() *Server {
	s := &Server{
		failures: map[string]Failure{},
		delay:    map[string]chan struct{}{},
		started:  make(chan string, 64),
		gone:     make(chan string, 64),
		issued:   map[string]string{BaseKeyID: "arn:aws:iam::" + Account + ":user/alice"},
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// Fail makes action answer with f until cleared with a zero Failure.
func (s *Server) Fail(action string, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Code == "" {
		delete(s.failures, action)
		return
	}
	s.failures[action] = f
}

// Hold makes action wait until release is closed or the client goes away; Started reports each
// held call as it arrives.
func (s *Server) Hold(action string, release chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay[action] = release
}

// Started receives the action of each held call once it is waiting.
func (s *Server) Started() <-chan string { return s.started }

// Abandoned receives the action of each held call whose client went away before its release.
func (s *Server) Abandoned() <-chan string { return s.gone }

// Secrets returns every secret the fake has issued (secret keys, session tokens, JWTs).
func (s *Server) Secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.secrets...)
}

// Requests returns what each call sent.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

var credentialRE = regexp.MustCompile(`Credential=([A-Z0-9]+)/`)

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	action := r.Form.Get("Action")
	keyID := ""
	if m := credentialRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		keyID = m[1]
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Action: action, KeyID: keyID, Form: r.Form})
	fail, failing := s.failures[action]
	release := s.delay[action]
	fault := s.faultFor(action)
	s.n++
	n := s.n
	s.mu.Unlock()

	if release != nil {
		s.started <- action
		select {
		case <-release:
		case <-r.Context().Done():
			select {
			case s.gone <- action:
			default: // nobody is reading Abandoned; never hold the handler for it
			}
			return
		}
	}
	if s.misbehave(w, r, fault, action, n) {
		return
	}
	if failing {
		writeError(w, fail, n)
		return
	}
	body, err := s.answer(action, keyID, r.Form, n)
	if err != nil {
		writeError(w, Failure{Status: 400, Code: "InvalidAction", Message: err.Error()}, n)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", requestID(n))
	fmt.Fprintf(w, `<%sResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><%sResult>%s</%sResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`,
		action, action, body, action, requestID(n), action)
}

func requestID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

func writeError(w http.ResponseWriter, f Failure, n int) {
	if f.Status == 0 {
		f.Status = http.StatusForbidden
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", requestID(n))
	w.WriteHeader(f.Status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		f.Code, xmlEscape(f.Message), requestID(n))
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// credentials issues distinctive credentials for arn and records their secrets.
func (s *Server) credentials(arn string, n int) string {
	key := fmt.Sprintf("ASIAFAKE%012d", n)
	secret := fmt.Sprintf("FAKESECRETKEY%04d/wJalrXUtnFEMIK7MDENGbPxRfiCY", n)
	token := fmt.Sprintf("FAKESESSIONTOKEN%04dFwoGZXIvYXdzEJr//////////wEaDEXAMPLE", n)
	s.mu.Lock()
	s.issued[key] = arn
	s.secrets = append(s.secrets, secret, token)
	s.mu.Unlock()
	return fmt.Sprintf(`<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>`,
		key, secret, token, Expiration.Format(time.RFC3339))
}

func roleARN(roleArn, session string) (arn, id string) {
	name := roleArn[strings.LastIndex(roleArn, "/")+1:]
	return fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", Account, name, session), "AROAFAKEROLEID000001:" + session
}

func (s *Server) answer(action, keyID string, f url.Values, n int) (string, error) {
	switch action {
	case "GetCallerIdentity":
		s.mu.Lock()
		arn, ok := s.issued[keyID]
		s.mu.Unlock()
		if !ok {
			arn = "arn:aws:iam::" + Account + ":user/unknown"
		}
		return fmt.Sprintf(`<Arn>%s</Arn><UserId>AIDAFAKEUSERID000001</UserId><Account>%s</Account>`, arn, Account), nil
	case "AssumeRole", "AssumeRoleWithWebIdentity":
		arn, id := roleARN(f.Get("RoleArn"), f.Get("RoleSessionName"))
		extra := ""
		if action == "AssumeRoleWithWebIdentity" {
			extra = `<SubjectFromWebIdentityToken>user-1</SubjectFromWebIdentityToken><Provider>https://issuer.example.com</Provider><Audience>sts.amazonaws.com</Audience>`
		}
		return fmt.Sprintf(`<AssumedRoleUser><Arn>%s</Arn><AssumedRoleId>%s</AssumedRoleId></AssumedRoleUser>%s<PackedPolicySize>6</PackedPolicySize>%s`,
			arn, id, s.credentials(arn, n), extra), nil
	case "AssumeRoleWithSAML":
		arn, id := roleARN(f.Get("RoleArn"), "alice@example.com")
		return fmt.Sprintf(`<AssumedRoleUser><Arn>%s</Arn><AssumedRoleId>%s</AssumedRoleId></AssumedRoleUser>%s<Issuer>https://idp.example.com</Issuer><Subject>alice@example.com</Subject><SubjectType>persistent</SubjectType><Audience>https://signin.aws.amazon.com/saml</Audience><NameQualifier>abc=</NameQualifier>`,
			arn, id, s.credentials(arn, n)), nil
	case "AssumeRoot":
		return s.credentials("arn:aws:iam::"+f.Get("TargetPrincipal")+":root", n) + `<SourceIdentity></SourceIdentity>`, nil
	case "GetSessionToken":
		s.mu.Lock()
		arn := s.issued[keyID]
		s.mu.Unlock()
		return s.credentials(arn, n), nil
	case "GetFederationToken":
		arn := fmt.Sprintf("arn:aws:sts::%s:federated-user/%s", Account, f.Get("Name"))
		return fmt.Sprintf(`%s<FederatedUser><Arn>%s</Arn><FederatedUserId>%s:%s</FederatedUserId></FederatedUser><PackedPolicySize>3</PackedPolicySize>`,
			s.credentials(arn, n), arn, Account, f.Get("Name")), nil
	case "GetDelegatedAccessToken":
		arn := fmt.Sprintf("arn:aws:sts::%s:assumed-role/Delegated/delegated-%d", Account, n)
		return fmt.Sprintf(`%s<AssumedPrincipal>%s</AssumedPrincipal><PackedPolicySize>1</PackedPolicySize>`, s.credentials(arn, n), arn), nil
	case "GetWebIdentityToken":
		s.mu.Lock()
		sub := s.issued[keyID]
		s.mu.Unlock()
		jwt := JWT(map[string]any{"iss": "https://sts.fake.example/" + Account, "sub": sub, "aud": f.Get("Audience.member.1"), "exp": Expiration.Unix(), "iat": Expiration.Add(-time.Hour).Unix()}, f.Get("SigningAlgorithm"))
		s.mu.Lock()
		s.secrets = append(s.secrets, jwt)
		s.mu.Unlock()
		return fmt.Sprintf(`<WebIdentityToken>%s</WebIdentityToken><Expiration>%s</Expiration>`, jwt, Expiration.Format(time.RFC3339)), nil
	case "GetAccessKeyInfo":
		return fmt.Sprintf(`<Account>%s</Account>`, Account), nil
	case "DecodeAuthorizationMessage":
		msg := fmt.Sprintf(`{"allowed":false,"explicitDeny":false,"matchedStatements":{"items":[]},"failures":{"items":[]},"context":{"principal":{"id":"AIDAFAKEUSERID000001","name":"alice","arn":"arn:aws:iam::%s:user/alice"},"action":"ec2:RunInstances","resource":"arn:aws:ec2:us-east-1:%s:instance/*","conditions":{"items":[{"key":"ec2:Region","values":{"items":[{"value":"us-east-1"}]}}]}}}`, Account, Account)
		return "<DecodedMessage>" + xmlEscape(msg) + "</DecodedMessage>", nil
	}
	return "", fmt.Errorf("could not find operation %s for version 2011-06-15", action)
}

// JWT builds an unsigned-looking compact JWS with the given claims (the signature is fake).
func JWT(claims map[string]any, alg string) string {
	if alg == "" {
		alg = "RS256"
	}
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]string{"alg": alg, "kid": "fake-key-1", "typ": "JWT"})
	p, _ := json.Marshal(claims)
	return enc.EncodeToString(h) + "." + enc.EncodeToString(p) + "." + enc.EncodeToString([]byte("FAKESIGNATURE-not-a-real-signature-0123456789"))
}

// SAMLResponse builds a base64 SAML response offering the given role,provider pairs.
func SAMLResponse(notOnOrAfter time.Time, pairs ...string) string {
	var vals strings.Builder
	for _, p := range pairs {
		vals.WriteString("<saml:AttributeValue>" + p + "</saml:AttributeValue>")
	}
	xml := `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="r1" Version="2.0">` +
		`<saml:Issuer>https://idp.example.com</saml:Issuer><saml:Assertion ID="a1" Version="2.0"><saml:Issuer>https://idp.example.com</saml:Issuer>` +
		`<saml:Subject><saml:NameID>alice@example.com</saml:NameID></saml:Subject>` +
		`<saml:Conditions NotOnOrAfter="` + notOnOrAfter.UTC().Format(time.RFC3339) + `"><saml:AudienceRestriction><saml:Audience>https://signin.aws.amazon.com/saml</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
		`<saml:AttributeStatement><saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role">` + vals.String() + `</saml:Attribute>` +
		`<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><saml:AttributeValue>alice@example.com</saml:AttributeValue></saml:Attribute>` +
		`</saml:AttributeStatement></saml:Assertion></samlp:Response>`
	return base64.StdEncoding.EncodeToString([]byte(xml))
}

// UseProfile points the AWS SDK of this test process at scratch config and credentials files whose
// profile holds the given keys, and clears every AWS variable that could override them; it all
// reverts when the test ends.
func UseProfile(t testing.TB, profile, keyID, secret string) {
	t.Helper()
	dir := t.TempDir()
	section := profile
	if profile != "default" {
		section = "profile " + profile
	}
	files := map[string]string{
		"credentials": "[" + profile + "]\naws_access_key_id = " + keyID + "\naws_secret_access_key = " + secret + "\n",
		"config":      "[" + section + "]\nregion = us-east-1\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION",
		"AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"} {
		t.Setenv(v, "") // registers the restore
		os.Unsetenv(v)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}
