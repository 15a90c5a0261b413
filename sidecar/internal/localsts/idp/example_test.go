package idp_test

import (
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"awsflow-sts/sidecar/internal/localsts/idp"
)

// A test identity provider issues a SAML response, and the local STS verifies it the way
// AssumeRoleWithSAML does.
func ExampleVerifySAML() {
	p, err := idp.NewSAMLIdP("https://idp.example.test/saml")
	if err != nil {
		panic(err)
	}
	now := time.Now()
	resp, err := p.Assertion(idp.AssertionOptions{
		Subject: "alice@example.com",
		Roles: []string{"arn:aws:iam::123456789012:role/Admin," +
			"arn:aws:iam::123456789012:saml-provider/Example"},
		SessionDuration: 3600,
		IssueInstant:    now,
	})
	if err != nil {
		panic(err)
	}

	claims, err := idp.VerifySAML(resp, []*x509.Certificate{p.Cert}, idp.DefaultSAMLAudience, now)
	if err != nil {
		panic(err)
	}
	fmt.Println(claims.Subject, claims.SubjectType, claims.RoleSessionName, claims.SessionDuration)
	fmt.Println(claims.Roles[0].RoleArn)

	_, err = idp.VerifySAML(resp, []*x509.Certificate{p.Cert}, idp.DefaultSAMLAudience, now.Add(10*time.Minute))
	var se *idp.SAMLError
	fmt.Println(errors.As(err, &se), se.Code)
	// Output:
	// alice@example.com persistent alice@example.com 3600
	// arn:aws:iam::123456789012:role/Admin
	// true ExpiredTokenException
}

// A Signer plays the OIDC provider; VerifyJWT checks its token against the published JWKS,
// as AssumeRoleWithWebIdentity does.
func ExampleVerifyJWT() {
	s, err := idp.NewSigner("ES384", "key-1")
	if err != nil {
		panic(err)
	}
	now := time.Now()
	token, err := s.Sign(map[string]any{
		"iss": "https://token.example.test",
		"sub": "repo:example/app:ref:refs/heads/main",
		"aud": "sts.amazonaws.com",
		"exp": now.Add(time.Hour).Unix(),
	})
	if err != nil {
		panic(err)
	}
	claims, err := idp.VerifyJWT(token, idp.JWKS{Keys: []idp.JWK{s.PublicJWK()}}, "https://token.example.test/", now)
	if err != nil {
		panic(err)
	}
	fmt.Println(claims.Subject, claims.Audience, claims.Alg, claims.KeyID)
	// Output:
	// repo:example/app:ref:refs/heads/main [sts.amazonaws.com] ES384 key-1
}
