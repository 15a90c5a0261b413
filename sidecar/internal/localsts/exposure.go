package localsts

import (
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// AllowRemoteDemoFlag is the name of the command-line flag that sets Options.AllowRemoteDemo;
// refusals name it so the user knows how to lift them.
const AllowRemoteDemoFlag = "allow-remote-demo"

// DefaultReadTimeout is how long a request, headers and body, may take to arrive when
// Options.ReadTimeout is zero. STS requests are small, so a client still sending after this is
// stuck or hostile.
const DefaultReadTimeout = 10 * time.Second

// Bounds of HTTPServer besides the read timeout.
const (
	// idleTimeout ends a kept-alive connection that sends no next request.
	idleTimeout = 60 * time.Second
	// maxHeaderBytes bounds a request's headers: SigV4 needs a few hundred bytes of them.
	maxHeaderBytes = 64 << 10
)

// HTTPServer returns an http.Server for Handler with the bounds a listener reachable by other
// programs needs: requests (headers and body) must arrive within Options.ReadTimeout, idle
// connections close after a minute, and headers are capped at 64 KiB. Bodies are capped by the
// handler itself.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.readTimeout,
		ReadTimeout:       s.readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// publishedSecrets are the default config's secrets: they are in this package's source, so
// anyone may hold them.
type publishedSecrets struct {
	keys      map[string]string // access key id → secret access key
	ssoTokens map[string]bool
}

var published = sync.OnceValue(func() publishedSecrets {
	cfg := DefaultConfig()
	p := publishedSecrets{keys: map[string]string{}, ssoTokens: map[string]bool{}}
	for _, a := range cfg.Accounts {
		for _, k := range a.Root.AccessKeys {
			p.keys[k.ID] = k.Secret
		}
	}
	for _, u := range cfg.Users {
		for _, k := range u.AccessKeys {
			p.keys[k.ID] = k.Secret
		}
	}
	for _, t := range cfg.SSO.AccessTokens {
		p.ssoTokens[t.Token] = true
	}
	return p
})

// isPublishedKey reports whether the long-term key id with secret is one of the default
// config's; a config that reuses an id with a secret of its own is not.
func isPublishedKey(id, secret string) bool {
	s, ok := published().keys[id]
	return ok && s == secret
}

// isPublishedSSOToken reports whether token is one of the default config's SSO access tokens.
func isPublishedSSOToken(token string) bool { return published().ssoTokens[token] }

// isLoopbackPeer reports whether remoteAddr, an http.Request's "host:port" RemoteAddr, is a
// loopback address. Anything that does not parse is treated as another host.
func isLoopbackPeer(remoteAddr string) bool {
	ap, err := netip.ParseAddrPort(remoteAddr)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// demoAllowed decides whether a request from remoteAddr may use the demo identity: always from
// this host, and from others only when the server was started to allow it.
func demoAllowed(remoteAddr string, allowRemote bool) bool {
	return allowRemote || isLoopbackPeer(remoteAddr)
}

// remoteDemoRefusal is the message refusing what (a description of the demo secret in use, never
// the secret) to the request's peer, or "" when the request may go on.
func (s *Server) remoteDemoRefusal(r *http.Request, what string) string {
	if demoAllowed(r.RemoteAddr, s.allowRemoteDemo) {
		return ""
	}
	return "The local STS refuses " + what + " from another host (" + peerHost(r.RemoteAddr) + "): " +
		"the demo identity is published, so anyone could use it. Start the local STS with --" + AllowRemoteDemoFlag +
		" to serve it to other hosts, or give it a config of your own with --config."
}

// peerHost is the address part of a RemoteAddr, cut short so that a strange one cannot fill a
// message.
func peerHost(remoteAddr string) string {
	if ap, err := netip.ParseAddrPort(remoteAddr); err == nil {
		return ap.Addr().String()
	}
	if len(remoteAddr) > 64 {
		return remoteAddr[:64] + "…"
	}
	return remoteAddr
}

// localOnly guards a route that hands out demo identity (the demo IdPs sign an assertion or a
// token for anyone who asks) with the same rule as the demo keys.
func (s *Server) localOnly(what string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if msg := s.remoteDemoRefusal(r, what); msg != "" {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": msg})
			return
		}
		h(w, r)
	}
}
