package localsts

import (
	"fmt"
	"time"
)

// witTagsClaim is where GetWebIdentityToken puts the Tags of the request.
const witTagsClaim = "https://sts.amazonaws.com/tags"

// signingAlgorithms are GetWebIdentityToken's SigningAlgorithm values; the server keeps a
// signer for each and publishes all their keys.
var signingAlgorithms = []string{"RS256", "ES384"}

// webIdentityTokenRequest is a GetWebIdentityToken request's validated parameters.
type webIdentityTokenRequest struct {
	audiences []string
	alg       string
	duration  int
	tags      []tag
}

func (c *call) getWebIdentityToken() (string, error) {
	req, err := c.webIdentityTokenParams()
	if err != nil {
		return "", err
	}
	exp := c.now.Add(seconds(req.duration)).Truncate(time.Second)
	jwt, err := c.s.witSigners[req.alg].Sign(c.webIdentityTokenClaims(req, exp))
	if err != nil {
		return "", err
	}
	var b xmlBuilder
	b.el("WebIdentityToken", jwt)
	b.el("Expiration", exp.UTC().Format(time.RFC3339))
	return b.String(), nil
}

// webIdentityTokenParams reads and validates the request's parameters.
func (c *call) webIdentityTokenParams() (webIdentityTokenRequest, error) {
	var v validator
	auds := c.audienceParams(&v)
	alg, hasAlg := v.str(c.form, "SigningAlgorithm", "signingAlgorithm", true, 1, 16, nil)
	if hasAlg && !contains(signingAlgorithms, alg) {
		v.fail("signingAlgorithm", alg, false, "Member must satisfy enum value set: [RS256, ES384]")
	}
	d, err := v.integer(c.form, "DurationSeconds", "durationSeconds", witMinDuration, witMaxDuration, witDefaultDuration)
	if err != nil {
		return webIdentityTokenRequest{}, err
	}
	tags, _ := v.tagParams(c.form, false)
	if err := v.err(); err != nil {
		return webIdentityTokenRequest{}, err
	}
	if err := checkTags(tags, nil); err != nil {
		return webIdentityTokenRequest{}, err
	}
	return webIdentityTokenRequest{audiences: auds, alg: alg, duration: d, tags: tags}, nil
}

// audienceParams reads the Audience.member.N list: one to ten audiences of 1–1000 characters.
func (c *call) audienceParams(v *validator) []string {
	var auds []string
	for _, m := range members(c.form, "Audience") {
		a := m.fields[""]
		v.check(fmt.Sprintf("audience.%d.member", m.index), a, 1, 1000, nil)
		auds = append(auds, a)
	}
	switch {
	case len(auds) == 0:
		v.fail("audience", "", true, "Member must not be null")
	case len(auds) > 10:
		v.fail("audience", listText(auds), false, "Member must have length less than or equal to 10")
	}
	return auds
}

// webIdentityTokenClaims are the token's claims: who the caller is, in the shape AWS's own
// issuer uses, for the requested audiences until exp.
func (c *call) webIdentityTokenClaims(req webIdentityTokenRequest, exp time.Time) map[string]any {
	p := &c.cred.p
	claims := map[string]any{
		"iss": c.s.base(c.r) + stsIssuerPath,
		"sub": p.arn,
		"iat": c.now.Unix(),
		"nbf": c.now.Unix(),
		"exp": exp.Unix(),
		"jti": newRequestID(),
		"https://sts.amazonaws.com/": map[string]any{
			"aws_account":     p.account,
			"principal_id":    p.principalArnKey(),
			"source_region":   c.region,
			"org_id":          orgIDFor(c.s.org, p.account),
			"principal_tags":  principalTagClaims(p),
			"source_identity": p.sourceIdentity,
		},
	}
	// A single audience is a string, as in tokens AWS issues; several are a list.
	if len(req.audiences) == 1 {
		claims["aud"] = req.audiences[0]
	} else {
		claims["aud"] = req.audiences
	}
	if len(req.tags) > 0 {
		m := map[string]string{}
		for _, t := range req.tags {
			m[t.Key] = t.Value
		}
		claims[witTagsClaim] = m
	}
	return claims
}

// orgIDFor is the organization ID of an account in the configured organization, "" otherwise.
func orgIDFor(org *Organization, account string) string {
	if org == nil || (org.ManagementAccount != account && !contains(org.Members, account)) {
		return ""
	}
	return orgID(org)
}

// principalTagClaims is the caller's tags as a key→value map for the token.
func principalTagClaims(p *principal) map[string]string {
	out := map[string]string{}
	for _, t := range p.tags {
		out[t.Key] = t.Value
	}
	return out
}
