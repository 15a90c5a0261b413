package mcpserver

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"maps"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// In the newer protocol a tool call that needs the user's answer returns its question as an input
// request and is called again with the answer; the answers of earlier rounds are kept here, under
// a random request state the client echoes, bound to the call's arguments.

// roundsKept bounds the calls waiting for an answer; the oldest is dropped beyond it.
const roundsKept = 64

// roundTTL is how long a call waits for its next round.
const roundTTL = promptTimeout

// pendingInputs are the answers of calls waiting for their next round.
type pendingInputs struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*pendingCall
}

type pendingCall struct {
	args    []byte
	asked   string
	answers map[string]*mcp.ElicitResult
	expires time.Time
}

func newPendingInputs(now func() time.Time) *pendingInputs {
	return &pendingInputs{now: now, m: map[string]*pendingCall{}}
}

// put keeps answers for the next round of the call with these arguments, which answers the
// question asked, and returns its state.
func (p *pendingInputs) put(args []byte, asked string, answers map[string]*mcp.ElicitResult) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails
	state := hex.EncodeToString(b[:])
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	var oldest string
	for k, v := range p.m {
		if now.After(v.expires) {
			delete(p.m, k)
			continue
		}
		if oldest == "" || v.expires.Before(p.m[oldest].expires) {
			oldest = k
		}
	}
	if len(p.m) >= roundsKept && oldest != "" {
		delete(p.m, oldest)
	}
	p.m[state] = &pendingCall{args: bytes.Clone(args), asked: asked, answers: maps.Clone(answers), expires: now.Add(roundTTL)}
	return state
}

// take returns and forgets the answers kept under state and the question asked, if the call's
// arguments are the same.
func (p *pendingInputs) take(state string, args []byte) (string, map[string]*mcp.ElicitResult) {
	if state == "" {
		return "", nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pc, ok := p.m[state]
	if !ok {
		return "", nil
	}
	delete(p.m, state)
	if p.now().After(pc.expires) || !bytes.Equal(pc.args, args) {
		return "", nil
	}
	return pc.asked, pc.answers
}

// loadAnswers gathers the answers of earlier rounds and the answer to the question the last round
// asked; an answer to a question that was not asked is not taken.
func (c *call) loadAnswers() {
	c.answers = map[string]*mcp.ElicitResult{}
	if !c.newerProtocol() {
		return
	}
	asked, answers := c.srv.pending.take(c.req.Params.RequestState, c.req.Params.Arguments)
	maps.Copy(c.answers, answers)
	for k, v := range c.req.Params.InputResponses {
		if code, ok := elicitContent(v)["code"].(string); ok {
			c.srv.secrets.Add(code) // an MFA code, whether it is taken or not
		}
		if r, ok := v.(*mcp.ElicitResult); ok && r != nil && k == asked {
			c.answers[k] = r
		}
	}
}

// elicitContent is the content of an elicitation answer (nil for anything else).
func elicitContent(v mcp.InputResponse) map[string]any {
	if r, ok := v.(*mcp.ElicitResult); ok && r != nil {
		return r.Content
	}
	return nil
}

// inputRequired is the result that asks the client for the user's answer to need.
func (c *call) inputRequired(need *needInput) *mcp.CallToolResult {
	state := c.srv.pending.put(c.req.Params.Arguments, need.key, c.answers)
	return &mcp.CallToolResult{
		InputRequests: mcp.InputRequestMap{need.key: need.params},
		RequestState:  state,
	}
}
