package localsts

import (
	"html/template"
	"mime"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// The verification side of the device flow, which a real Identity Center serves as its sign-in
// page: here a route approves or denies a user code for a configured user, and a page shows
// the code and how to approve it.
const (
	// SSOApprovePath is the route that approves or denies a user code: POST an SSOApproveRequest
	// as JSON.
	SSOApprovePath = "/_localsts/sso/approve"
	// SSODevicePath is the verification URI StartDeviceAuthorization answers, a page that shows
	// the user code and how to approve it.
	SSODevicePath = "/_localsts/sso/device"
)

// SSOApproveRequest is the body of POST /_localsts/sso/approve.
type SSOApproveRequest struct {
	// UserCode is the code StartDeviceAuthorization gave, in any case, with or without its dash.
	UserCode string `json:"userCode"`
	// User is the sso.users name who signs in; required to approve, ignored to deny.
	User string `json:"user,omitempty"`
	// Deny refuses the sign-in instead: the client's next poll gets access_denied.
	Deny bool `json:"deny,omitempty"`
}

// handleSSOApprove decides a pending device authorization. It answers {"status": "approved" |
// "denied", "user": NAME} or {"error": ...} with 400 (bad body or unknown user), 404 (no such
// pending code, or it expired), 409 (already decided) or 415 (not JSON). It takes only
// application/json, which a web page cannot send to another origin without the browser asking
// first, so no site the user visits can approve a sign-in through the user's browser.
func (s *Server) handleSSOApprove(w http.ResponseWriter, r *http.Request) {
	if s.cfg.SSO == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "this local STS serves no IAM Identity Center: its config has no sso section"})
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "the body must be JSON, sent with Content-Type: application/json"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, ssoMaxBody)
	var req SSOApproveRequest
	if !readJSON(w, r, &req) {
		return
	}
	code := normalizeUserCode(req.UserCode)
	if code == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "userCode must be a code like BCDF-GHJK, as StartDeviceAuthorization gave it"})
		return
	}
	var user *SSOUser
	if !req.Deny {
		for i := range s.cfg.SSO.Users {
			if s.cfg.SSO.Users[i].Name == req.User {
				user = &s.cfg.SSO.Users[i]
			}
		}
		if user == nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "user must name one of the users in the config's sso.users to approve a sign-in"})
			return
		}
	}
	now := s.now()
	st := s.sso
	st.mu.Lock()
	status, msg := http.StatusOK, ""
	d := st.userCodes[code]
	switch {
	case d == nil || !now.Before(d.expires):
		status, msg = http.StatusNotFound, "no sign-in waits for this user code: it was never given or has expired"
	case d.status != devicePending:
		status, msg = http.StatusConflict, "this sign-in has already been approved or denied"
	case req.Deny:
		d.status = deviceDenied
	default:
		d.status, d.user = deviceApproved, user
	}
	st.mu.Unlock()
	if msg != "" {
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	out := map[string]string{"status": "approved", "user": req.User}
	if req.Deny {
		out = map[string]string{"status": "denied"}
	}
	s.log.Info("sso sign-in decided", zap.String("decision", out["status"]), zap.String("user", out["user"]))
	writeJSON(w, http.StatusOK, out)
}

// devicePage is the verification page: the user code and how to approve it.
var devicePage = template.Must(template.New("device").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Local IAM Identity Center sign-in</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>Local IAM Identity Center</h1>
{{if .Code}}<p>Sign-in request with the code</p><p style="font-size: 2em; font-family: monospace">{{.Code}}</p>
<p>Status: {{.Status}}.</p>{{else}}<p>Open this page with the link your tool gave (it carries the code).</p>{{end}}
<p>This local Identity Center has no password page. Approve the sign-in for one of its users with:</p>
<pre>curl -X POST -H 'Content-Type: application/json' \
  -d '{"userCode": "{{if .Code}}{{.Code}}{{else}}CODE{{end}}", "user": "{{.User}}"}' \
  {{.Approve}}</pre>
<p>or deny it with <code>"deny": true</code>.</p>
</body></html>
`))

// handleSSODevice serves the verification page.
func (s *Server) handleSSODevice(w http.ResponseWriter, r *http.Request) {
	data := struct{ Code, Status, User, Approve string }{Approve: s.base(r) + SSOApprovePath, User: "USER"}
	if s.cfg.SSO != nil && len(s.cfg.SSO.Users) > 0 {
		data.User = s.cfg.SSO.Users[0].Name
	}
	if code := normalizeUserCode(r.URL.Query().Get("user_code")); code != "" {
		data.Code, data.Status = code, s.sso.userCodeStatus(code, s.now())
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("X-Frame-Options", "DENY")
	_ = devicePage.Execute(w, data) // a failed write means the browser went away
}

// userCodeStatus describes where the sign-in of a user code stands.
func (st *ssoState) userCodeStatus(code string, now time.Time) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	d := st.userCodes[code]
	switch {
	case d == nil || !now.Before(d.expires):
		return "unknown or expired"
	case d.status == devicePending:
		return "waiting for approval"
	case d.status == deviceDenied:
		return "denied"
	default:
		return "approved"
	}
}
