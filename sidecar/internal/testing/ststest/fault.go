package ststest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Fault is a way for the fake to misbehave, as a broken or hostile endpoint does.
type Fault int

// The faults the fake can inject.
const (
	// NoFault answers normally.
	NoFault Fault = iota
	// Hang accepts the request and never answers (until the client goes away).
	Hang
	// Drip answers 200 with a valid-looking start, then one byte a second, forever.
	Drip
	// Huge answers 200 with a 200 MB body.
	Huge
	// Garbage answers 200 with a body that is not XML.
	Garbage
	// Truncated answers 200 with XML cut off in the middle.
	Truncated
	// HTML500 answers 500 with an HTML page, as moto does for an operation it lacks.
	HTML500
	// Echo answers 400 with an AWS error whose message quotes the whole request back: its form,
	// upper-cased too, and its URL-encoded body.
	Echo
	// EchoSuccess answers a well-formed success whose identity fields quote the request's
	// parameters.
	EchoSuccess
)

// HugeBytes is how much a Huge fault sends.
const HugeBytes = 200 << 20

// Inject makes action (or every action, for "*") misbehave with f until cleared with NoFault.
func (s *Server) Inject(action string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults == nil {
		s.faults = map[string]Fault{}
	}
	if f == NoFault {
		delete(s.faults, action)
		return
	}
	s.faults[action] = f
}

func (s *Server) faultFor(action string) Fault {
	if f, ok := s.faults[action]; ok {
		return f
	}
	return s.faults["*"]
}

// misbehave answers with fault f; it reports false for NoFault.
func (s *Server) misbehave(w http.ResponseWriter, r *http.Request, f Fault, action string, n int) bool {
	switch f {
	case Hang:
		<-r.Context().Done()
	case Drip:
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<%sResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">`, action)
		flush(w)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-r.Context().Done():
				return true
			case <-t.C:
				if _, err := w.Write([]byte(" ")); err != nil {
					return true
				}
				flush(w)
			}
		}
	case Huge:
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("Content-Length", fmt.Sprint(HugeBytes))
		chunk := []byte(strings.Repeat("<a>x</a>", 8192))
		for sent := 0; sent < HugeBytes; sent += len(chunk) {
			if sent+len(chunk) > HugeBytes {
				chunk = chunk[:HugeBytes-sent]
			}
			if _, err := w.Write(chunk); err != nil {
				return true
			}
		}
	case Garbage:
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte("\x00\x01 this is not XML at all }{"))
	case Truncated:
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<%sResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><%sResult><Credentials><AccessKeyId>ASIA`, action, action)
	case HTML500:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1><p>The server encountered an internal error and was unable to complete your request.</p></body></html>"))
	case Echo:
		quoted := r.Form.Encode()
		var b strings.Builder
		for k, vs := range r.Form {
			for _, v := range vs {
				fmt.Fprintf(&b, " %s=%s (%s)", k, v, strings.ToUpper(v))
			}
		}
		writeError(w, Failure{Status: 400, Code: "ValidationError", Message: "Request was:" + b.String() + " raw: " + quoted}, n)
	case EchoSuccess:
		var b strings.Builder
		for k, vs := range r.Form {
			for _, v := range vs {
				fmt.Fprintf(&b, "%s=%s;", k, v)
			}
		}
		quoted := xmlEscape(b.String())
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<%sResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><%sResult>`+
			`<Credentials><AccessKeyId>ASIAECHOEXAMPLE00001</AccessKeyId><SecretAccessKey>echoSecretKeyEXAMPLE0000000000000000000</SecretAccessKey><SessionToken>echoSessionTokenEXAMPLE000000000000000000000000</SessionToken><Expiration>%s</Expiration></Credentials>`+
			`<AssumedRoleUser><Arn>arn:aws:sts::%s:assumed-role/Echo/%s</Arn><AssumedRoleId>AROAECHO:%s</AssumedRoleId></AssumedRoleUser>`+
			`<SubjectFromWebIdentityToken>%s</SubjectFromWebIdentityToken><Subject>%s</Subject><Audience>%s</Audience><Provider>%s</Provider><SourceIdentity>%s</SourceIdentity>`+
			`<Arn>arn:aws:iam::%s:user/%s</Arn><UserId>%s</UserId><Account>%s</Account>`+
			`</%sResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`,
			action, action, Expiration.Format(time.RFC3339), Account, quoted, quoted, quoted, quoted, quoted, quoted, Account, quoted, quoted, quoted, Account, action, requestID(n), action)
	default:
		return false
	}
	return true
}

func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}
