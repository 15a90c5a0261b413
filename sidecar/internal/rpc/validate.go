package rpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"awsflow-sts/sidecar/internal/clip"
)

// Pre-validation: jsonrpc2 closes the connection whenever it cannot decode a message, so every
// body is checked here first, with encoding/json, against what jsonrpc2's decoders accept.
// Problems found are reported to the peer through a synthetic "$/rejected" request (for requests)
// or a synthetic error response (for responses) that reuses the message's id. A request whose id
// cannot be found (and a body that is not JSON at all) becomes a "$/rejected" notification, which
// the server answers with an error whose id is null, as JSON-RPC asks: jsonrpc2.ID cannot be null,
// so that frame is written directly. Malformed responses without a usable id are dropped: the
// peer is not waiting for an answer to its answer.

// methodRejected is the synthetic method carrying a rejection to the server's handler. A peer
// request using it is itself rejected, so the handler can trust every one it sees.
const methodRejected = "$/rejected"

// verdict is what the codec decided about one body.
type verdict struct {
	msg      []byte // what to decode for jsonrpc2; nil to drop
	id       []byte // the message's id as canonical JSON, nil if none is usable
	response bool   // the message is (or looks like) a response
	// members of a valid request (nil otherwise), so a server's codec can pass its params on
	// without jsonrpc2 decoding them (see codec.envelope).
	members map[string]json.RawMessage
}

// rejection is the params of a synthetic "$/rejected" request.
type rejection struct {
	Code    int64           `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Members that jsonrpc2 decodes into struct fields, where encoding/json matches names
// case-insensitively: a differently cased duplicate would slip past a map-based check.
var (
	topFolded   = []string{"id", "method", "result", "error", "meta"}
	errorFolded = []string{"code", "message", "data"}
)

// inspect judges one body read whole. Decoding an object or an array checks that the body is
// valid JSON on the way, so json.Valid runs only to word the warning for a body that failed.
func (c codec) inspect(body []byte) verdict {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) > 0 {
		switch trimmed[0] {
		case '{':
			var m map[string]json.RawMessage
			if json.Unmarshal(body, &m) == nil {
				return c.object(body, m)
			}
		case '[':
			var elems []json.RawMessage
			if json.Unmarshal(body, &elems) == nil {
				return c.batch(body, elems)
			}
		}
	}
	if !json.Valid(body) {
		return c.reject(verdict{}, int64(len(body)), CodeParseError, "parse error: the message is not valid JSON")
	}
	return c.reject(verdict{}, int64(len(body)), CodeInvalidRequest, "invalid request: the message is not a JSON object")
}

// object judges a body holding a single JSON object, decoded into m.
func (c codec) object(body []byte, m map[string]json.RawMessage) verdict {
	vd := verdict{id: usableID(m["id"]), response: isResponse(m)}
	var problem string
	if vd.response {
		problem = checkResponse(m)
	} else {
		problem = checkRequest(m)
	}
	code := CodeInvalidRequest
	if problem == "" && !vd.response && methodOf(m) == methodRejected {
		if _, ok := m["id"]; !ok {
			// A notification to an unknown method: no answer, as for any other.
			c.log.Warn("dropped a notification for a reserved method", zap.Int("bytes", len(body)))
			return verdict{}
		}
		code, problem = CodeMethodNotFound, fmt.Sprintf("method %q is reserved", methodRejected)
	}
	if problem == "" {
		vd.msg = body
		if !vd.response {
			vd.members = m
		}
		return vd
	}
	prefix := "invalid request: "
	if vd.response {
		prefix = "malformed response from peer: "
	}
	return c.reject(vd, int64(len(body)), code, prefix+problem)
}

// reject replaces a message by a rejection addressed to its id, or, for a request without a usable
// id, by one the server answers with a null id. A response without a usable id is dropped.
func (c codec) reject(vd verdict, size int64, code int64, message string) verdict {
	fields := []zap.Field{zap.String("reason", message), zap.Int64("bytes", size), zap.Int64("code", code)}
	if vd.id == nil && vd.response {
		c.log.Warn("dropped response without a usable id", fields...)
		return verdict{}
	}
	if vd.id != nil {
		fields = append(fields, zap.ByteString("id", clipID(vd.id)))
	}
	msg, err := synthesize(vd.id, vd.response, code, message)
	if err != nil {
		c.log.Warn("dropped message", append(fields, zap.Error(err))...)
		return verdict{}
	}
	c.log.Warn("rejected message", fields...)
	vd.msg = msg
	return vd
}

// batch answers the first request of a batch that has a usable id; batches are not served.
func (c codec) batch(body []byte, elems []json.RawMessage) verdict {
	vd := verdict{}
	for _, e := range elems {
		var m map[string]json.RawMessage
		if json.Unmarshal(e, &m) != nil {
			continue
		}
		if id := usableID(m["id"]); id != nil {
			vd.id = id
			break
		}
	}
	return c.reject(vd, int64(len(body)), CodeInvalidRequest, "batches are not supported")
}

// oversize answers a body over the limit if its id can be found in the kept prefix.
func (c codec) oversize(prefix []byte, size int64) verdict {
	id, response := scanPrefix(prefix)
	kind := "message"
	if response {
		kind = "response"
	}
	vd := verdict{id: id, response: response}
	msg := fmt.Sprintf("%s of %d bytes exceeds the %d-byte limit", kind, size, c.max)
	return c.reject(vd, size, CodeInvalidRequest, msg)
}

// scanPrefix finds the top-level id of a possibly truncated object with a token scan, and whether
// the object looks like a response (has "result" or "error" but no "method").
func scanPrefix(prefix []byte) (id []byte, response bool) {
	dec := json.NewDecoder(bytes.NewReader(prefix))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var sawMethod, sawResult bool
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		key, _ := tok.(string)
		switch key {
		case "method":
			sawMethod = true
		case "result", "error":
			sawResult = true
		}
		val, err := dec.Token()
		if err != nil {
			break
		}
		if key == "id" && id == nil {
			id = idFromToken(val)
		}
		if err := skipNested(dec, val); err != nil {
			break
		}
	}
	return id, sawResult && !sawMethod
}

// skipNested consumes the rest of a value whose first token is tok.
func skipNested(dec *json.Decoder, tok json.Token) error {
	if d, ok := tok.(json.Delim); !ok || (d != '{' && d != '[') {
		return nil
	}
	for depth := 1; depth > 0; {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

func idFromToken(tok json.Token) []byte {
	switch v := tok.(type) {
	case string:
		b, err := json.Marshal(v)
		if err != nil {
			return nil
		}
		return b
	case json.Number:
		return usableID(json.RawMessage(v))
	}
	return nil
}

// usableID returns raw as canonical JSON if it is an id jsonrpc2 can answer: a string, or a
// non-negative integer written without fraction or exponent. Integers must also fit int64,
// because jsonrpc2.Request decodes numeric ids with json.Number.Int64.
func usableID(raw json.RawMessage) []byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil
		}
		b, err := json.Marshal(s)
		if err != nil {
			return nil
		}
		return b
	}
	for _, ch := range raw {
		if ch < '0' || ch > '9' {
			return nil
		}
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return nil
	}
	return strconv.AppendInt(nil, n, 10)
}

// isResponse classifies a message the way jsonrpc2 does: a non-null "method" makes it a request,
// otherwise "result" or a non-null "error" make it a response.
func isResponse(m map[string]json.RawMessage) bool {
	if present(m, "method") {
		return false
	}
	_, hasResult := m["result"]
	return hasResult || present(m, "error")
}

// present reports whether m has key with a non-null value.
func present(m map[string]json.RawMessage, key string) bool {
	raw, ok := m[key]
	return ok && !bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func methodOf(m map[string]json.RawMessage) string {
	var s string
	if json.Unmarshal(m["method"], &s) != nil {
		return ""
	}
	return s
}

// checkRequest returns what is wrong with a request, or "".
func checkRequest(m map[string]json.RawMessage) string {
	if p := checkCommon(m); p != "" {
		return p
	}
	if !isString(m["method"]) {
		if present(m, "method") {
			return `"method" must be a string`
		}
		return `the message has neither "method" nor "result" or "error"`
	}
	if raw, ok := m["id"]; ok && usableID(raw) == nil {
		return `"id" must be a string or a non-negative integer`
	}
	if raw, ok := m["params"]; ok && !isStructured(raw) {
		return `"params" must be an object, an array or null`
	}
	if _, ok := m["result"]; ok || present(m, "error") {
		return `a request must not carry "result" or "error"`
	}
	return ""
}

// checkResponse returns what is wrong with a response, or "".
func checkResponse(m map[string]json.RawMessage) string {
	if p := checkCommon(m); p != "" {
		return p
	}
	if usableID(m["id"]) == nil {
		return `"id" must be a string or a non-negative integer`
	}
	if _, ok := m["result"]; ok && present(m, "error") {
		return `a response must not carry both "result" and "error"`
	}
	if !present(m, "error") {
		return ""
	}
	var e map[string]json.RawMessage
	if json.Unmarshal(m["error"], &e) != nil {
		return `"error" must be an object`
	}
	if p := checkFolded(e, errorFolded); p != "" {
		return p
	}
	code := bytes.TrimSpace(e["code"])
	if _, err := strconv.ParseInt(string(code), 10, 64); err != nil {
		return `"error.code" must be an integer`
	}
	if !isString(e["message"]) {
		return `"error.message" must be a string`
	}
	return ""
}

// checkCommon checks what requests and responses share.
func checkCommon(m map[string]json.RawMessage) string {
	var version string
	if json.Unmarshal(m["jsonrpc"], &version) != nil || version != "2.0" {
		return `"jsonrpc" must be "2.0"`
	}
	return checkFolded(m, topFolded)
}

func checkFolded(m map[string]json.RawMessage, names []string) string {
	for key := range m {
		for _, name := range names {
			if key != name && strings.EqualFold(key, name) {
				return fmt.Sprintf("member names are case-sensitive; use %q", name)
			}
		}
	}
	return ""
}

func isString(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '"'
}

func isStructured(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && (raw[0] == '{' || raw[0] == '[' || string(raw) == "null")
}

// synthesize builds the message that carries a rejection: a "$/rejected" request that the
// server's handler answers (a notification when id is nil, answered with a null id), or, for a malformed response, an error response that completes the
// server's pending call instead of answering the peer in its own id space.
func synthesize(id []byte, response bool, code int64, message string) ([]byte, error) {
	data, err := json.Marshal(protocolData)
	if err != nil {
		return nil, fmt.Errorf("marshal rejection data: %w", err)
	}
	r := rejection{Code: code, Message: message, Data: data}
	var v any
	if response {
		v = struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      json.RawMessage `json:"id"`
			Error   rejection       `json:"error"`
		}{"2.0", id, r}
	} else {
		v = struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      json.RawMessage `json:"id,omitempty"`
			Method  string          `json:"method"`
			Params  rejection       `json:"params"`
		}{"2.0", id, methodRejected, r}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal rejection: %w", err)
	}
	return b, nil
}

func clipID(id []byte) []byte {
	if len(id) <= clip.MaxEcho {
		return id
	}
	return id[:clip.MaxEcho]
}
