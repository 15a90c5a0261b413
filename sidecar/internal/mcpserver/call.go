package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/tool"
)

// promptTimeout bounds how long a call waits for the user to answer a question.
const promptTimeout = 5 * time.Minute

// newProtocol is the first revision in which a server may not send elicitation requests of its
// own: a tool call returns its questions as input requests and is called again with the answers.
const newProtocol = "2026-07-28"

// call is one tools/call being served: its request, and the user's answers so far.
type call struct {
	srv *Server
	req *mcp.CallToolRequest
	ss  *mcp.ServerSession
	in  toolInput
	// answers are the user's answers by question key: from earlier rounds of this call (kept by
	// the server under the request state) and from this round's input responses.
	answers map[string]*mcp.ElicitResult
	// need is the question this round stopped at, in the rounds of the newer protocol.
	need *needInput
}

// callKey finds the call in a context the runner passes to the MFA prompt.
type callKey struct{}

// needInput is the question a call must have answered before it can go on, in the newer
// protocol's rounds.
type needInput struct {
	key    string
	params *mcp.ElicitParams
}

func (n *needInput) Error() string { return "the user must answer " + n.key + " first" }

// run validates the call, asks the user what it needs to, and runs the command.
func (c *call) run(ctx context.Context) (*protocol.InvokeResult, error) {
	c.loadAnswers()
	params := c.in.Params
	spec, known := protocol.Command(c.in.Command)
	if known {
		if _, err := tool.Validate(spec, params); err != nil {
			return nil, err
		}
		if needsConsent(spec) {
			if err := c.consent(ctx, spec); err != nil {
				return nil, err
			}
		}
		if c.canElicit() {
			// The user is asked for MFA codes; one the model passed is not used (nor shown).
			release := c.srv.secrets.AddInput(tokenCodeOf(params))
			defer release()
			params = withoutTokenCode(params)
		}
	}
	var shown Params
	_ = json.Unmarshal(params, &shown) // only for the progress line; the runner reports bad params
	c.progress(ctx, 0, Invocation(c.in.Command, shown))
	res, err := c.srv.runner.Invoke(context.WithValue(ctx, callKey{}, c), protocol.InvokeParams{Command: c.in.Command, Params: params})
	if c.need != nil {
		return nil, c.need
	}
	c.progress(ctx, 1, "done")
	return res, err
}

// needsConsent reports whether the user confirms the command before it runs: every command that
// mints credentials or a token, and WriteProfile, which puts a session's secret in a file.
func needsConsent(spec *protocol.CommandSpec) bool {
	return spec.Mints != "" || spec.Name == protocol.CmdWriteProfile
}

// canElicit reports whether the client can ask its user questions.
func (c *call) canElicit() bool {
	ip := c.ss.InitializeParams()
	return ip != nil && ip.Capabilities != nil && ip.Capabilities.Elicitation != nil
}

// newerProtocol reports whether the call follows the revision in which questions are input
// requests of the tool's result.
func (c *call) newerProtocol() bool {
	ip := c.ss.InitializeParams()
	return ip != nil && ip.ProtocolVersion >= newProtocol
}

// consent asks the user to confirm the command with the extension's confirmation card.
func (c *call) consent(ctx context.Context, spec *protocol.CommandSpec) error {
	if c.srv.cfg.AllowCredentialCommands {
		return nil
	}
	if !c.canElicit() {
		return &tool.Error{
			Code:    protocol.CodeRuleViolation,
			Command: spec.Name,
			Message: fmt.Sprintf("%s was not run: it %s, which needs the user's confirmation, and this MCP client cannot ask for it (it does not support elicitation).", spec.Name, consentReason(spec)),
			Hint: "Tell the user that this client cannot confirm it. They can use a client that supports MCP elicitation, or start the server with " +
				"`awsflow-sts mcp --allow-credential-commands` to run such commands without asking.",
		}
	}
	var p map[string]any
	_ = json.Unmarshal(c.in.Params, &p)             // validated above: an object or nothing
	title, message, _ := Confirmation(spec.Name, p) // every command that needs consent has a card
	res, err := c.ask(ctx, "confirm", &mcp.ElicitParams{
		Mode:    "form",
		Message: title + "\n\n" + message,
		RequestedSchema: map[string]any{
			"type": "object",
			"properties": map[string]any{
				"confirm": map[string]any{"type": "boolean", "title": title, "description": "Run " + spec.Name + "?"},
			},
			"required": []string{"confirm"},
		},
	})
	if err != nil {
		return c.askError(spec.Name, "its confirmation", err)
	}
	if res.Action != "accept" || res.Content["confirm"] != true {
		return &tool.Error{
			Code:    protocol.CodeRequestCancelled,
			Command: spec.Name,
			Message: fmt.Sprintf("the user declined to run %s: nothing was called and nothing was stored.", spec.Name),
			Hint:    "Do not run it again unless the user asks for it.",
		}
	}
	return nil
}

func consentReason(spec *protocol.CommandSpec) string {
	switch spec.Mints {
	case protocol.MintsToken:
		return "has STS issue a token"
	case protocol.MintsCredentials:
		return "mints credentials"
	}
	return "writes a session's credentials into a file"
}

// askError is a command's error for a question the user was not asked or did not answer.
func (c *call) askError(command, what string, err error) error {
	var need *needInput
	if errors.Is(err, context.Canceled) || errors.As(err, &need) {
		return err
	}
	return &tool.Error{
		Code:    protocol.CodeRequestCancelled,
		Command: command,
		Message: fmt.Sprintf("%s was not run: the user could not be asked for %s (%s).", command, what, c.srv.secrets.Scrub(err.Error())),
		Hint:    "Run it again when the user can answer.",
	}
}

// askTokenCode is the runner's MFA prompt: the user is asked for the code through elicitation.
func (s *Server) askTokenCode(ctx context.Context, p protocol.MfaTokenCodeParams) (string, error) {
	c, _ := ctx.Value(callKey{}).(*call)
	if c == nil || !c.canElicit() {
		return "", tool.ErrCannotPrompt
	}
	res, err := c.ask(ctx, "mfa:"+p.SerialNumber, &mcp.ElicitParams{
		Mode:    "form",
		Message: fmt.Sprintf("%s. Enter the current 6-digit code of MFA device %s.", p.Reason, p.SerialNumber),
		RequestedSchema: map[string]any{
			"type": "object",
			"properties": map[string]any{
				"code": map[string]any{"type": "string", "title": "MFA code", "description": "The 6-digit code the MFA device shows now.",
					"minLength": 6, "maxLength": 6, "pattern": "^[0-9]{6}$"},
			},
			"required": []string{"code"},
		},
	})
	if err != nil {
		return "", err
	}
	if res.Action != "accept" {
		return "", fmt.Errorf("the user %s the MFA code prompt", declinedWord(res.Action))
	}
	code, _ := res.Content["code"].(string)
	s.secrets.Add(code)
	return code, nil
}

func declinedWord(action string) string {
	if action == "cancel" {
		return "cancelled"
	}
	return "declined"
}

// ask puts a question to the user: as an elicitation request, or in the newer protocol as an
// input request of the tool's result, answered in the next round (need is set and the runner
// stops).
func (c *call) ask(ctx context.Context, key string, p *mcp.ElicitParams) (*mcp.ElicitResult, error) {
	if res, ok := c.answers[key]; ok {
		return res, nil
	}
	if c.newerProtocol() {
		c.need = &needInput{key: key, params: p}
		return nil, c.need
	}
	ctx, cancel := context.WithTimeout(ctx, promptTimeout)
	defer cancel()
	res, err := c.ss.Elicit(ctx, p)
	if err != nil {
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("no answer within %s", promptTimeout)
		}
		return nil, err
	}
	c.answers[key] = res
	return res, nil
}

// progress tells the client how the call is going, when it asked to be told.
func (c *call) progress(ctx context.Context, done float64, message string) {
	token := c.req.Params.GetProgressToken()
	if token == nil {
		return
	}
	_ = c.ss.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: token, Progress: done, Total: 1, Message: message})
}

// tokenCodeOf is the TokenCode the model passed, if any.
func tokenCodeOf(params json.RawMessage) string {
	var p struct {
		TokenCode string `json:"TokenCode"`
	}
	_ = json.Unmarshal(params, &p)
	return p.TokenCode
}

// withoutTokenCode is params without TokenCode.
func withoutTokenCode(params json.RawMessage) json.RawMessage {
	var p map[string]json.RawMessage
	if json.Unmarshal(params, &p) != nil || p["TokenCode"] == nil {
		return params
	}
	delete(p, "TokenCode")
	out, err := json.Marshal(p)
	if err != nil {
		return params
	}
	return out
}
