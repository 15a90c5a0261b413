package localsts

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SigV4 constants.
const (
	sigAlgorithm    = "AWS4-HMAC-SHA256"
	amzDateLayout   = "20060102T150405Z"
	scopeDateLayout = "20060102"
	unsignedPayload = "UNSIGNED-PAYLOAD"
	// maxSkew is how far a request's time may be from the server's, as in AWS.
	maxSkew = 15 * time.Minute
	// maxPresignExpires is the longest X-Amz-Expires SigV4 allows (7 days).
	maxPresignExpires = 7 * 24 * 60 * 60
)

// sigMismatch is STS's message for a signature that does not verify.
const sigMismatch = "The request signature we calculated does not match the signature you provided. " +
	"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

// payloadMismatch refuses an x-amz-content-sha256 header that is not the hash of the body.
const payloadMismatch = "The x-amz-content-sha256 header is not the SHA-256 of the request body. " +
	"STS signs every payload: UNSIGNED-PAYLOAD and hashes of another body are not accepted."

// invalidToken is STS's message for an unknown access key or a wrong session token.
const invalidToken = "The security token included in the request is invalid."

// sigRequest is the SigV4 material of a request, from the Authorization header or the query.
type sigRequest struct {
	presigned     bool
	keyID         string
	scopeDate     string
	region        string
	service       string
	terminator    string
	signedHeaders []string
	signature     string
	amzDate       string
	date          time.Time
	token         string
	expires       int // X-Amz-Expires of a presigned URL; 0 when absent
}

// authenticate verifies the request's SigV4 signature (header or presigned query) and returns
// the credential that signed it and the region of its scope. It checks, in AWS's order, that
// the signature is complete, the key is known, the session token belongs to it and has not
// expired, the scope is STS's, the time is within 15 minutes, and the signature verifies.
func (s *Server) authenticate(r *http.Request, query url.Values, body []byte, now time.Time) (*credential, string, *apiError) {
	sr, aerr := parseSignature(r, query)
	if aerr != nil {
		return nil, "", aerr
	}
	cred := s.lookupKey(sr.keyID)
	if cred == nil {
		return nil, "", errInvalidClientTokenID()
	}
	// A temporary key needs its own token; a long-term key must not carry one.
	if cred.temporary() != (sr.token != "") ||
		(cred.temporary() && subtle.ConstantTimeCompare([]byte(sr.token), []byte(cred.token)) != 1) {
		return nil, "", errInvalidClientTokenID()
	}
	if cred.temporary() && !now.Before(cred.expires) {
		return nil, "", &apiError{status: http.StatusForbidden, code: "ExpiredToken",
			message: "The security token included in the request is expired"}
	}
	if sr.terminator != "aws4_request" {
		return nil, "", sigError("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'. ", sr.terminator)
	}
	if sr.service != "sts" {
		return nil, "", sigError("Credential should be scoped to correct service: 'sts'. ")
	}
	if !regionRE.MatchString(sr.region) {
		return nil, "", sigError("Credential should be scoped to a valid region. ")
	}
	if sr.scopeDate != sr.amzDate[:8] {
		return nil, "", sigError("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			sr.scopeDate, sr.amzDate[:8], sr.amzDate)
	}
	if aerr := checkTime(sr, now); aerr != nil {
		return nil, "", aerr
	}
	hashed, aerr := payloadHash(r, body)
	if aerr != nil {
		return nil, "", aerr
	}
	if !sr.verify(cred.secret, canonicalRequest(r, query, sr, hashed)) {
		// Presigned URLs of query APIs are signed either over the empty body or UNSIGNED-PAYLOAD,
		// depending on the tool. With no body the two mean the same (everything that counts is in
		// the signed query), so accept both then; with a body, an unsigned payload would let a
		// captured URL carry parameters of the sender's choosing.
		if !sr.presigned || len(body) > 0 || !sr.verify(cred.secret, canonicalRequest(r, query, sr, unsignedPayload)) {
			return nil, "", sigError("%s", sigMismatch)
		}
	}
	return cred, sr.region, nil
}

func sigError(format string, args ...any) *apiError {
	return &apiError{status: http.StatusForbidden, code: "SignatureDoesNotMatch", message: fmt.Sprintf(format, args...)}
}

func incomplete(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "IncompleteSignature", message: fmt.Sprintf(format, args...)}
}

func errInvalidClientTokenID() *apiError {
	return &apiError{status: http.StatusForbidden, code: "InvalidClientTokenId", message: invalidToken}
}

// isPresigned reports whether the query carries SigV4 query-string authentication.
func isPresigned(query url.Values) bool {
	return query.Has("X-Amz-Algorithm") || query.Has("X-Amz-Credential") || query.Has("X-Amz-Signature")
}

func parseSignature(r *http.Request, query url.Values) (*sigRequest, *apiError) {
	authz := r.Header.Get("Authorization")
	sr := &sigRequest{}
	var credential, signedHeaders string
	switch {
	case authz != "":
		alg, rest, _ := strings.Cut(strings.TrimSpace(authz), " ")
		if alg != sigAlgorithm {
			return nil, incomplete("Unsupported AWS 'algorithm': '%s'", alg)
		}
		parts := map[string]string{}
		for _, p := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			parts[k] = v
		}
		var missing []string
		for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
			if parts[k] == "" {
				missing = append(missing, "Authorization header requires '"+k+"' parameter.")
			}
		}
		sr.amzDate = r.Header.Get("X-Amz-Date")
		if sr.amzDate == "" {
			if d := r.Header.Get("Date"); d != "" {
				if t, err := http.ParseTime(d); err == nil {
					sr.amzDate = t.UTC().Format(amzDateLayout)
				}
			}
		}
		if sr.amzDate == "" {
			missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
		}
		if len(missing) > 0 {
			return nil, incomplete("%s Authorization=%s", strings.Join(missing, " "), authz)
		}
		credential, signedHeaders, sr.signature = parts["Credential"], parts["SignedHeaders"], parts["Signature"]
		sr.token = r.Header.Get("X-Amz-Security-Token")
	case isPresigned(query):
		sr.presigned = true
		var missing []string
		for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"} {
			if query.Get(k) == "" {
				missing = append(missing, "AWS query-string parameters must include '"+k+"'.")
			}
		}
		if len(missing) > 0 {
			return nil, incomplete("%s Re-examine the query-string parameters.", strings.Join(missing, " "))
		}
		if alg := query.Get("X-Amz-Algorithm"); alg != sigAlgorithm {
			return nil, incomplete("Unsupported AWS 'algorithm': '%s'", alg)
		}
		credential, signedHeaders, sr.signature = query.Get("X-Amz-Credential"), query.Get("X-Amz-SignedHeaders"), query.Get("X-Amz-Signature")
		sr.amzDate = query.Get("X-Amz-Date")
		sr.token = query.Get("X-Amz-Security-Token")
		// Without X-Amz-Expires (how the SDK presigns STS) the usual 15-minute window applies.
		if e := query.Get("X-Amz-Expires"); e != "" {
			n, err := strconv.Atoi(e)
			if err != nil || n < 1 || n > maxPresignExpires {
				return nil, &apiError{status: http.StatusBadRequest, code: "AuthorizationQueryParametersError",
					message: "X-Amz-Expires must be a number of seconds between 1 and 604800."}
			}
			sr.expires = n
		}
	default:
		return nil, &apiError{status: http.StatusForbidden, code: "MissingAuthenticationToken", message: "Request is missing Authentication Token"}
	}
	scope := strings.Split(credential, "/")
	if len(scope) != 5 {
		return nil, incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", credential)
	}
	sr.keyID, sr.scopeDate, sr.region, sr.service, sr.terminator = scope[0], scope[1], scope[2], scope[3], scope[4]
	t, err := time.Parse(amzDateLayout, sr.amzDate)
	if err != nil {
		return nil, incomplete("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", sr.amzDate)
	}
	sr.date = t
	sr.signedHeaders = strings.Split(signedHeaders, ";")
	hasHost := false
	for _, h := range sr.signedHeaders {
		hasHost = hasHost || h == "host"
	}
	if !hasHost {
		return nil, sigError("'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return sr, nil
}

// checkTime applies the 15-minute window (and a presigned URL's own expiry) with AWS's texts.
func checkTime(sr *sigRequest, now time.Time) *apiError {
	f := func(t time.Time) string { return t.UTC().Format(amzDateLayout) }
	if sr.date.After(now.Add(maxSkew)) {
		return sigError("Signature not yet current: %s is still later than %s (%s + 15 min.)", sr.amzDate, f(now.Add(maxSkew)), f(now))
	}
	if sr.presigned && sr.expires > 0 {
		if end := sr.date.Add(time.Duration(sr.expires) * time.Second); now.After(end) {
			return sigError("Signature expired: %s is now earlier than %s (%s - %d sec.)", f(end), f(now), f(now), sr.expires)
		}
		return nil
	}
	if sr.date.Before(now.Add(-maxSkew)) {
		return sigError("Signature expired: %s is now earlier than %s (%s - 15 min.)", sr.amzDate, f(now.Add(-maxSkew)), f(now))
	}
	return nil
}

// payloadHash is the hashed payload of the canonical request: always the SHA-256 of the body
// actually received, never what the client declares. An x-amz-content-sha256 header that says
// anything else, UNSIGNED-PAYLOAD included, is refused: otherwise a captured signature would
// carry any body (a signed GetCallerIdentity replayed as GetSessionToken).
//
// STS itself ignores the header and hashes the body, so such a request fails there as
// SignatureDoesNotMatch; the code is the same here, with a message that names the real cause.
func payloadHash(r *http.Request, body []byte) (string, *apiError) {
	sum := sha256.Sum256(body)
	actual := hex.EncodeToString(sum[:])
	for _, h := range r.Header.Values("X-Amz-Content-Sha256") {
		if !strings.EqualFold(strings.TrimSpace(h), actual) {
			return "", sigError("%s", payloadMismatch)
		}
	}
	return actual, nil
}

// canonicalRequest builds SigV4's canonical request.
func canonicalRequest(r *http.Request, query url.Values, sr *sigRequest, hashed string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	// Services other than S3 sign the path URI-encoded once more.
	b.WriteString(uriEncode(path, false))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(query))
	b.WriteByte('\n')
	for _, h := range sr.signedHeaders {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(headerValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(sr.signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(hashed)
	return b.String()
}

func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		vals = r.Header.Values("Content-Length")
		if len(vals) == 0 && r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		vals = r.Header.Values(name)
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(out, ",")
}

// canonicalQuery sorts the query by key and value, RFC 3986-encoded, without X-Amz-Signature.
func canonicalQuery(query url.Values) string {
	type kv struct{ k, v string }
	var pairs []kv
	for k, vs := range query {
		if k == "X-Amz-Signature" {
			continue
		}
		for _, v := range vs {
			pairs = append(pairs, kv{uriEncode(k, true), uriEncode(v, true)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// uriEncode is SigV4's UriEncode: unreserved characters stay, everything else is %XX; slashes
// stay when encoding a path.
func uriEncode(s string, encodeSlash bool) string {
	const hexUpper = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexUpper[c>>4])
			b.WriteByte(hexUpper[c&15])
		}
	}
	return b.String()
}

// sign computes the signature of a canonical request with secret, per the request's scope.
func (sr *sigRequest) sign(secret, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	scope := sr.scopeDate + "/" + sr.region + "/" + sr.service + "/" + sr.terminator
	toSign := sigAlgorithm + "\n" + sr.amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := hmacSHA256([]byte("AWS4"+secret), sr.scopeDate)
	key = hmacSHA256(key, sr.region)
	key = hmacSHA256(key, sr.service)
	key = hmacSHA256(key, sr.terminator)
	return hex.EncodeToString(hmacSHA256(key, toSign))
}

// verify compares in constant time, so the signature cannot be guessed byte by byte.
func (sr *sigRequest) verify(secret, canonical string) bool {
	return hmac.Equal([]byte(sr.sign(secret, canonical)), []byte(strings.ToLower(sr.signature)))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
