package tool

import (
	"fmt"
	"slices"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/session"
	"awsflow-sts/sidecar/internal/stsops"
)

// chainedMaxSeconds is STS's cap on a role session assumed with role credentials.
const chainedMaxSeconds = 3600

// allowedFrom lists, per session class, the commands STS accepts when signed with such credentials.
// A class missing from the map may call everything signed.
var allowedFrom = map[session.Class][]string{
	// "You cannot call GetFederationToken or GetSessionToken using credentials from AssumeRole*."
	session.ClassRole: roleAllowed,
	// IAM Identity Center's role credentials are role credentials to STS.
	session.ClassSSO: roleAllowed,
	// Session-token credentials may call only AssumeRole and GetCallerIdentity in STS.
	session.ClassSessionToken: {protocol.CmdAssumeRole, protocol.CmdGetCallerIdentity},
	// Federated-user credentials may call only GetCallerIdentity in STS.
	session.ClassFederated: {protocol.CmdGetCallerIdentity},
	// Root credentials cannot assume roles or mint session and federation tokens.
	session.ClassRoot:  {protocol.CmdDecodeAuthorizationMessage, protocol.CmdGetAccessKeyInfo, protocol.CmdGetCallerIdentity},
	session.ClassToken: {},
}

// roleAllowed are the commands STS accepts from role credentials.
var roleAllowed = []string{protocol.CmdAssumeRole, protocol.CmdAssumeRoot, protocol.CmdDecodeAuthorizationMessage,
	protocol.CmdGetAccessKeyInfo, protocol.CmdGetCallerIdentity, protocol.CmdGetDelegatedAccessToken, protocol.CmdGetWebIdentityToken}

var classNames = map[session.Class]string{
	session.ClassSSO:          "IAM Identity Center role credentials (GetRoleCredentials), which STS treats as role credentials",
	session.ClassRole:         "role credentials (from AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity or GetDelegatedAccessToken)",
	session.ClassSessionToken: "GetSessionToken credentials",
	session.ClassFederated:    "GetFederationToken (federated user) credentials",
	session.ClassRoot:         "AssumeRoot credentials",
	session.ClassToken:        protocol.TokenSessionHolds,
}

// checkRules refuses, before calling STS, what STS would refuse by its rules for the signing
// session (nil: the base identity).
func checkRules(spec *protocol.CommandSpec, src *session.Session, a stsops.Args) *Error {
	if src == nil || spec.Auth != protocol.AuthSigned {
		return nil
	}
	if allowed, ok := allowedFrom[src.Class]; ok && !slices.Contains(allowed, spec.Name) {
		return &Error{
			Code:    protocol.CodeRuleViolation,
			Command: spec.Name,
			Message: fmt.Sprintf("%s cannot be called with session %q: it holds %s, and STS refuses %s from those.",
				spec.Name, src.Name, classNames[src.Class], spec.Name),
			Hint: fmt.Sprintf("Run %s as the base identity (omit Session, or UseSession %q first), or with a session made by another command.",
				spec.Name, protocol.ReservedSessionName),
		}
	}
	if src.Class.Role() && spec.Name == protocol.CmdAssumeRole {
		if d, ok := a["DurationSeconds"].(int64); ok && d > chainedMaxSeconds {
			return &Error{
				Code:    protocol.CodeRuleViolation,
				Command: spec.Name,
				Message: fmt.Sprintf("DurationSeconds %d is over the %d-second cap for role chaining: session %q holds role credentials, so the new role session can last at most one hour.",
					d, chainedMaxSeconds, src.Name),
				Hint: fmt.Sprintf("Pass DurationSeconds of %d or less (or omit it), or assume the role from the base identity for a longer session.", chainedMaxSeconds),
			}
		}
	}
	return nil
}

// classOf is the class of credentials a minting command returns.
func classOf(command string) session.Class {
	switch command {
	case protocol.CmdGetSessionToken:
		return session.ClassSessionToken
	case protocol.CmdGetFederationToken:
		return session.ClassFederated
	case protocol.CmdAssumeRoot:
		return session.ClassRoot
	case protocol.CmdGetWebIdentityToken:
		return session.ClassToken
	}
	return session.ClassRole
}
