package tool

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"awsflow-sts/sidecar/internal/clip"
	"awsflow-sts/sidecar/internal/protocol"
)

// CheckSettings checks st against the protocol's rules for each setting (protocol.SettingRules,
// which package.json's settings carry too) and the endpoint URL's parts. Values are not quoted
// back: an endpoint URL may hold a password, and the user knows what they typed.
func CheckSettings(st protocol.Settings) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("marshal settings: %w", err)
	}
	// Zero values are omitted, so only values that are set (not the default) are checked.
	var values map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&values); err != nil {
		return fmt.Errorf("decode settings: %w", err)
	}
	for _, r := range protocol.SettingRules {
		switch v := values[r.Name].(type) {
		case string:
			if r.Pattern != nil && !r.Pattern.MatchString(v) {
				return InvalidSetting(r.Name, "must match "+r.Pattern.String())
			}
			if len(r.Enum) > 0 && !slices.ContainsFunc(r.Enum, func(e string) bool { return strings.EqualFold(e, v) }) {
				return InvalidSetting(r.Name, "must be one of "+strings.Join(r.Enum, ", "))
			}
		case json.Number:
			n, err := v.Int64()
			if r.HasRange && (err != nil || n < r.Minimum || n > r.Maximum) {
				return InvalidSetting(r.Name, fmt.Sprintf("is %s; use %d to %d (0 for the default)", clip.Echo(v.String()), r.Minimum, r.Maximum))
			}
		}
	}
	if st.EndpointURL != "" {
		if problem := endpointProblem(st.EndpointURL); problem != "" {
			return InvalidSetting("endpointUrl", problem)
		}
	}
	return nil
}

// endpointProblem says what is wrong with an endpoint URL, or "": calls are signed and sent to
// it, so it must be a plain http or https URL of a host.
func endpointProblem(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "is not a URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "must start with http:// or https://"
	case u.Opaque != "" || u.Hostname() == "":
		return "must name a host, as in https://sts.example.com"
	case u.User != nil:
		return "must not carry a user name or password"
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(raw, "?#"):
		return "must not carry a query or a fragment"
	}
	return ""
}
