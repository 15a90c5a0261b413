package tool

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/stsops"
)

// result is what the tool returns before encoding: Markdown for the model and structured data.
type result struct {
	text string
	data map[string]any
}

func (r result) encode() (*protocol.InvokeResult, error) {
	data, err := json.Marshal(r.data)
	if err != nil {
		return nil, fmt.Errorf("encode result data: %w", err)
	}
	return &protocol.InvokeResult{Text: r.text, Data: data}, nil
}

// formatMinted shows a stored session: its name, masked key, ARN, expiry. Never the secrets.
func formatMinted(front Frontend, command string, info protocol.SessionInfo, r *stsops.Result, replaced bool) result {
	var b strings.Builder
	if r.ARN != "" && info.Kind != string(protocol.MintsToken) {
		fmt.Fprintf(&b, "**%s** succeeded: `%s`, stored as session `%s`.\n\n", command, r.ARN, info.Name)
	} else {
		fmt.Fprintf(&b, "**%s** succeeded, stored as session `%s`.\n\n", command, info.Name)
	}
	if info.AccessKeyID != "" {
		line(&b, "Access key", "`"+info.AccessKeyID+"`")
	}
	line(&b, "Account", code(info.Account))
	line(&b, "Expires", info.Expiration+" ("+timeLeft(time.Duration(info.SecondsLeft)*time.Second)+")")
	if r.PackedPolicySize != nil {
		line(&b, "Packed policy size", fmt.Sprintf("%d%% of the limit", *r.PackedPolicySize))
	}
	line(&b, "Source identity", code(r.SourceIdentity))
	line(&b, "Principal id", code(r.PrincipalID))
	for _, f := range r.Facts {
		line(&b, f.Label, f.Value)
	}
	source := "the base identity"
	if info.Source != protocol.ReservedSessionName {
		source = "session `" + info.Source + "`"
		if info.Chained {
			source += " (role chaining)"
		}
	}
	line(&b, "Made from", source)
	line(&b, "Renewal", renewal(info))
	if replaced {
		line(&b, "Note", "this replaced an earlier session of the same name")
	}
	for _, n := range r.Notes {
		line(&b, "Note", n)
	}
	if info.Kind == string(protocol.MintsToken) {
		b.WriteString("\nThe token stays in the awsflow-sts sidecar and is never shown here; the user can export it with an explicit command.")
	} else {
		b.WriteString("\n" + front.secretsStay())
		b.WriteString(front.actAs(info.Name))
	}
	data := map[string]any{"command": command, "session": info}
	addResultData(data, r)
	return result{text: b.String(), data: data}
}

// formatRead shows the answer of a command that mints nothing.
func formatRead(command, identity string, r *stsops.Result) result {
	var b strings.Builder
	switch command {
	case protocol.CmdGetCallerIdentity:
		kind := "caller"
		if len(r.Facts) > 0 {
			kind = r.Facts[0].Value
		}
		fmt.Fprintf(&b, "**Caller identity** of %s: %s.\n\n", identity, kind)
		line(&b, "Account", code(r.Account))
		line(&b, "ARN", code(r.ARN))
		line(&b, "User id", code(r.PrincipalID))
		for _, f := range r.Facts[min(1, len(r.Facts)):] {
			line(&b, f.Label, f.Value)
		}
	case protocol.CmdGetAccessKeyInfo:
		fmt.Fprintf(&b, "**Access key info**: the key belongs to account `%s`.\n\n", r.Account)
		for _, f := range r.Facts {
			line(&b, f.Label, f.Value)
		}
	default:
		fmt.Fprintf(&b, "**%s** (as %s)\n\n", command, identity)
		for _, f := range r.Facts {
			line(&b, f.Label, f.Value)
		}
	}
	if r.Markdown != "" {
		b.WriteString(strings.TrimSpace(r.Markdown))
		b.WriteString("\n")
	}
	for _, n := range r.Notes {
		line(&b, "Note", n)
	}
	data := map[string]any{"command": command, "identity": identity}
	if r.Account != "" {
		data["account"] = r.Account
	}
	if r.ARN != "" {
		data["arn"] = r.ARN
	}
	if r.PrincipalID != "" {
		data["userId"] = r.PrincipalID
	}
	addResultData(data, r)
	return result{text: strings.TrimRight(b.String(), "\n"), data: data}
}

func addResultData(data map[string]any, r *stsops.Result) {
	for _, f := range r.Facts {
		data[f.Key] = f.Value
	}
	for k, v := range r.Data {
		data[k] = v
	}
	if r.PackedPolicySize != nil {
		data["packedPolicySize"] = *r.PackedPolicySize
	}
	if r.SourceIdentity != "" {
		data["sourceIdentity"] = r.SourceIdentity
	}
	if len(r.Notes) > 0 {
		data["notes"] = r.Notes
	}
	if r.RequestID != "" {
		data["requestId"] = r.RequestID
	}
}

func line(b *strings.Builder, label, value string) {
	if value != "" {
		fmt.Fprintf(b, "- %s: %s\n", label, value)
	}
}

func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + s + "`"
}

// timeLeft says how long until expiry in words a person reads at a glance.
func timeLeft(d time.Duration) string {
	if d <= 0 {
		return "expired"
	}
	d = d.Round(time.Minute)
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h == 0 && m <= 1:
		return "in under a minute"
	case h == 0:
		return fmt.Sprintf("in %d min", m)
	case m == 0:
		return fmt.Sprintf("in %d h", h)
	}
	return fmt.Sprintf("in %d h %d min", h, m)
}

// renewal says how a session goes on past its expiry: by itself, or by someone running its
// command again (and what that needs).
func renewal(s protocol.SessionInfo) string {
	switch {
	case s.Expired:
		return "expired"
	case s.Refreshable && s.RefreshError != "":
		return "refresh failing, retried until it expires"
	case s.Refreshable:
		return "refreshes itself"
	case s.MfaSerial != "":
		return "needs a new MFA code"
	case s.Command == protocol.CmdAssumeRoleWithSAML:
		return "needs a new SAML assertion"
	}
	return "run " + s.Command + " again"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return "`" + s + "`"
}
