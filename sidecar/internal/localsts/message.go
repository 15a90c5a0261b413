package localsts

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// DenialMessage is the content of an encoded authorization failure message: who was denied
// what, and by which statement.
type DenialMessage struct {
	// Account is the account whose principals may decode the message.
	Account string `json:"account"`
	// PrincipalArn is the denied caller.
	PrincipalArn string `json:"principalArn"`
	// Action is the denied action, e.g. "ec2:RunInstances".
	Action string `json:"action"`
	// Resource is the resource ARN the action was denied on.
	Resource string `json:"resource"`
	// ExplicitDeny is true when a Deny statement decided, false for an implicit deny.
	ExplicitDeny bool `json:"explicitDeny,omitempty"`
	// StatementID is the Sid of the deciding statement, if any.
	StatementID string `json:"statementId,omitempty"`
	// SourcePolicy names the policy holding that statement, if known.
	SourcePolicy string `json:"sourcePolicy,omitempty"`
	// Context holds the request's condition keys and values.
	Context map[string][]string `json:"context,omitempty"`
}

// messageVersion prefixes the ciphertext so the format can change without misreading old ones.
const messageVersion = 1

// messageKey derives the account's message key from the server secret (HKDF-style: an HMAC of
// the account under a purpose label), so one account's key opens no other account's messages.
func (s *Server) messageKey(account string) []byte {
	m := hmac.New(sha256.New, s.msgSecret)
	m.Write([]byte("localsts authorization message v1\x00" + account))
	return m.Sum(nil)
}

// EncodeMessage mints an "encoded authorization failure message" like EC2 returns on a denial,
// encrypted (AES-256-GCM under a key for m.Account) so that only DecodeAuthorizationMessage,
// called by a principal of that account, reads it back. The output is unpadded base64url, one
// long line, as AWS's are.
func (s *Server) EncodeMessage(m DenialMessage) (string, error) {
	if !accountRE.MatchString(m.Account) {
		return "", fmt.Errorf("localsts: message account %q is not a 12-digit account id", m.Account)
	}
	if m.Action == "" {
		return "", errors.New("localsts: message action is empty")
	}
	plain, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	aead, err := s.messageAEAD(m.Account)
	if err != nil {
		return "", err
	}
	nonce := randomBytes(aead.NonceSize())
	out := append([]byte{messageVersion}, nonce...)
	out = aead.Seal(out, nonce, plain, []byte(m.Account))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

func (s *Server) messageAEAD(account string) (cipher.AEAD, error) {
	block, err := aes.NewCipher(s.messageKey(account))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// openMessage decrypts an encoded message with account's key; it fails for messages of other
// accounts, of other servers, and for anything tampered with.
func (s *Server) openMessage(account, encoded string) (*DenialMessage, error) {
	raw, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		return nil, err
	}
	aead, err := s.messageAEAD(account)
	if err != nil {
		return nil, err
	}
	if len(raw) < 1+aead.NonceSize()+aead.Overhead() || raw[0] != messageVersion {
		return nil, errors.New("not a message")
	}
	nonce, sealed := raw[1:1+aead.NonceSize()], raw[1+aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, sealed, []byte(account))
	if err != nil {
		return nil, err
	}
	var m DenialMessage
	if err := json.Unmarshal(plain, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

var lineBreakRE = regexp.MustCompile(`[\r\n]`)

func (c *call) decodeAuthorizationMessage() (string, error) {
	var v validator
	enc, _ := v.str(c.form, "EncodedMessage", "encodedMessage", true, 1, 10240, nil)
	if err := v.err(); err != nil {
		return "", err
	}
	p := &c.cred.p
	if !c.s.mayDecode(c.cred) {
		return "", notAuthorized(p.arn, "sts:DecodeAuthorizationMessage", "")
	}
	if lineBreakRE.MatchString(enc) {
		return "", errBadRequest("InvalidAuthorizationMessageException", "The encoded message contains line breaks; pass it as one line.")
	}
	m, err := c.s.openMessage(p.account, strings.TrimSpace(enc))
	if err != nil {
		return "", errBadRequest("InvalidAuthorizationMessageException", "The encoded message is not valid, or was not issued for this account.")
	}
	decoded, err := c.s.decodedJSON(m)
	if err != nil {
		return "", err
	}
	var b xmlBuilder
	b.el("DecodedMessage", decoded)
	return b.String(), nil
}

// mayDecode is the config's stand-in for the sts:DecodeAuthorizationMessage permission: root,
// users with canDecode (and their session-token sessions) and sessions of decodeRoles.
func (s *Server) mayDecode(cr *credential) bool {
	p := &cr.p
	switch {
	case cr.class == classFederated || cr.class == classRootTask:
		return false
	case p.kind == kindRoot:
		return true
	case p.user != nil:
		return p.user.cfg.CanDecode
	case p.role != nil:
		return contains(s.cfg.DecodeRoles, p.role.arn)
	}
	return false
}

// The decoded message, in AWS's field order.
type (
	valueItem struct {
		Value string `json:"value"`
	}
	valueItems struct {
		Items []valueItem `json:"items"`
	}
	decodedStatement struct {
		StatementID      string     `json:"statementId"`
		Effect           string     `json:"effect"`
		SourcePolicyName string     `json:"sourcePolicyName,omitempty"`
		Principals       valueItems `json:"principals"`
		PrincipalGroups  valueItems `json:"principalGroups"`
		Actions          valueItems `json:"actions"`
		Resources        valueItems `json:"resources"`
		Conditions       valueItems `json:"conditions"`
	}
	decodedCondition struct {
		Key    string     `json:"key"`
		Values valueItems `json:"values"`
	}
	decodedMessage struct {
		Allowed           bool `json:"allowed"`
		ExplicitDeny      bool `json:"explicitDeny"`
		MatchedStatements struct {
			Items []decodedStatement `json:"items"`
		} `json:"matchedStatements"`
		Failures valueItems `json:"failures"`
		Context  struct {
			Principal struct {
				ID   string `json:"id"`
				Name string `json:"name,omitempty"`
				Arn  string `json:"arn"`
			} `json:"principal"`
			Action     string `json:"action"`
			Resource   string `json:"resource"`
			Conditions struct {
				Items []decodedCondition `json:"items"`
			} `json:"conditions"`
		} `json:"context"`
	}
)

func items(vals ...string) valueItems {
	out := valueItems{Items: []valueItem{}}
	for _, v := range vals {
		out.Items = append(out.Items, valueItem{v})
	}
	return out
}

var assumedRoleRE = regexp.MustCompile(`^arn:aws:sts::(\d{12}):assumed-role/([\w+=,.@-]+)/([\w+=,.@-]+)$`)

// principalIdentity is the unique id and friendly name of a principal ARN, when the config
// knows it.
func (s *Server) principalIdentity(arn string) (id, name string) {
	if u := s.users[arn]; u != nil {
		return u.id, u.cfg.Name
	}
	if m := assumedRoleRE.FindStringSubmatch(arn); m != nil {
		if r := s.roles[roleARN(m[1], m[2])]; r != nil {
			return r.id + ":" + m[3], ""
		}
	}
	if m := rootTargetRE.FindStringSubmatch(arn); m != nil {
		return m[1], ""
	}
	return "", ""
}

// decodedJSON renders the message as DecodeAuthorizationMessage's DecodedMessage JSON.
func (s *Server) decodedJSON(m *DenialMessage) (string, error) {
	var d decodedMessage
	d.ExplicitDeny = m.ExplicitDeny
	d.MatchedStatements.Items = []decodedStatement{}
	d.Failures = items()
	id, name := s.principalIdentity(m.PrincipalArn)
	if m.ExplicitDeny || m.StatementID != "" {
		effect := "DENY"
		principal := id
		if principal == "" {
			principal = m.PrincipalArn
		}
		d.MatchedStatements.Items = append(d.MatchedStatements.Items, decodedStatement{
			StatementID: m.StatementID, Effect: effect, SourcePolicyName: m.SourcePolicy,
			Principals: items(principal), PrincipalGroups: items(), Actions: items(m.Action),
			Resources: items(m.Resource), Conditions: items(),
		})
	}
	d.Context.Principal.ID, d.Context.Principal.Name, d.Context.Principal.Arn = id, name, m.PrincipalArn
	d.Context.Action, d.Context.Resource = m.Action, m.Resource
	d.Context.Conditions.Items = []decodedCondition{}
	keys := make([]string, 0, len(m.Context))
	for k := range m.Context {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d.Context.Conditions.Items = append(d.Context.Conditions.Items, decodedCondition{Key: k, Values: items(m.Context[k]...)})
	}
	out, err := json.Marshal(d)
	return string(out), err
}

// handleEncodeMessage is POST /_localsts/encode-message: a DenialMessage in, {"encodedMessage"}
// out, so demos can produce what EC2 would put in a denial.
func (s *Server) handleEncodeMessage(w http.ResponseWriter, r *http.Request) {
	var m DenialMessage
	if !readJSON(w, r, &m) {
		return
	}
	enc, err := s.EncodeMessage(m)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"encodedMessage": enc})
}
