package tool

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/stsops"
)

// scrubAnswer removes secrets from what STS said before it is stored in a session, logged or
// shown: an endpoint may quote its input in any field, and a session name made from the ARN would
// carry it into sessions/list and the log. The answer's own secrets are registered first.
func (r *Runner) scrubAnswer(out *stsops.Result) {
	if out.Credentials != nil {
		r.Secrets.Add(out.Credentials.SecretAccessKey, out.Credentials.SessionToken)
	}
	r.Secrets.Add(out.Token)
	s := r.Secrets.Scrub
	out.ARN, out.Account, out.PrincipalID = s(out.ARN), s(out.Account), s(out.PrincipalID)
	out.SourceIdentity, out.RequestID, out.Markdown = s(out.SourceIdentity), s(out.RequestID), s(out.Markdown)
	for i := range out.Facts {
		out.Facts[i].Value = s(out.Facts[i].Value)
	}
	for i := range out.Notes {
		out.Notes[i] = s(out.Notes[i])
	}
	if out.Data != nil {
		out.Data = r.scrubValue(out.Data).(map[string]any)
	}
}

// scrubResult removes secrets from a result's text and from every string of its data. The data
// is scrubbed value by value, not as JSON text, so that numbers stay numbers and the JSON stays
// valid.
func (r *Runner) scrubResult(res *protocol.InvokeResult) (*protocol.InvokeResult, error) {
	out := &protocol.InvokeResult{Text: r.Secrets.Scrub(res.Text), Data: res.Data}
	if len(res.Data) == 0 {
		return out, nil
	}
	d := json.NewDecoder(bytes.NewReader(res.Data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("scrub result data: %w", err)
	}
	data, err := json.Marshal(r.scrubValue(v))
	if err != nil {
		return nil, fmt.Errorf("scrub result data: %w", err)
	}
	out.Data = data
	return out, nil
}

func (r *Runner) scrubValue(v any) any {
	switch x := v.(type) {
	case string:
		return r.Secrets.Scrub(x)
	case []any:
		for i, e := range x {
			x[i] = r.scrubValue(e)
		}
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[r.Secrets.Scrub(k)] = r.scrubValue(e)
		}
		return m
	}
	return v
}

// scrubError removes secrets from what a command's error says.
func (r *Runner) scrubError(err error) error {
	var te *Error
	if !errors.As(err, &te) {
		return err
	}
	te.Message = r.Secrets.Scrub(te.Message)
	te.Hint = r.Secrets.Scrub(te.Hint)
	te.AWSCode = r.Secrets.Scrub(te.AWSCode)
	te.RequestID = r.Secrets.Scrub(te.RequestID)
	return err
}
