package stsops

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"

	"github.com/aws/smithy-go"
)

// InputError is a parameter problem found by reading the input (an assertion offering other roles,
// an expired token) before calling STS.
type InputError struct {
	// Msg says what is wrong and how to fix it; it never quotes a secret.
	Msg string
}

// Error returns the message.
func (e *InputError) Error() string { return e.Msg }

// IsUnreachable tells whether err means STS could not be asked at all: no credentials to sign with,
// or no network path to the endpoint.
func IsUnreachable(err error) bool {
	var ce *CredentialsError
	if errors.As(err, &ce) || IsCredentialsError(err) {
		return true
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return false
	}
	var ne net.Error
	var ue *url.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &ue) || errors.As(err, &oe)
}

// IsCredentialsError tells whether the SDK failed to find or refresh the signing credentials.
func IsCredentialsError(err error) bool {
	var ce *CredentialsError
	if errors.As(err, &ce) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return credentialsText(err)
}

// credentialsText tells whether err's text is the SDK's for a credential source that failed.
func credentialsText(err error) bool {
	var ce *CredentialsError
	if errors.As(err, &ce) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "get credentials:") || strings.Contains(s, "failed to retrieve credentials") ||
		strings.Contains(s, "failed to refresh cached credentials")
}

// Brief is the innermost message of an error chain, for a short note.
func Brief(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
