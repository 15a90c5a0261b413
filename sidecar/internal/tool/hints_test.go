package tool

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/stsops"
)

// The identities the hints name, as Runner.identity spells them.
const (
	baseWho     = "the base identity (profile `dev`)"
	sessionWho  = "session `ops`"
	unsignedWho = "no AWS credentials (the call is unsigned)"
	opsRole     = "arn:aws:iam::123456789012:role/Ops"
)

// Real STS message texts.
const (
	msgSignature     = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgInvalidToken  = "The security token included in the request is invalid."
	msgExpiredToken  = "The security token included in the request is expired"
	msgNotAuthorized = "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Ops"
)

// TestHintFor covers every case of hintFor with the messages STS really sends: each hint must name
// the cause the code and message point at, and must not send the user after another one.
func TestHintFor(t *testing.T) {
	signed := func(command, role string) callContext {
		return callContext{command: command, identity: baseWho, profile: "dev", roleArn: role, region: "eu-west-1"}
	}
	unsigned := func(command string) callContext {
		return callContext{command: command, identity: unsignedWho, roleArn: opsRole, region: "eu-west-1"}
	}
	trust := "trust policy"
	keys := "check the secret key / key id of "
	tests := []struct {
		name      string
		cc        callContext
		code, msg string
		must      []string
		mustNot   []string
	}{
		{"AccessDenied assuming a role", signed("AssumeRole", opsRole), "AccessDenied", msgNotAuthorized,
			[]string{baseWho + " is not allowed to assume " + opsRole, trust, "GetCallerIdentity"}, []string{"secret key", "unsigned"}},
		{"AccessDenied without a role", signed("GetFederationToken", ""), "AccessDenied",
			"User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:GetFederationToken on resource: arn:aws:sts::123456789012:federated-user/bob",
			[]string{baseWho + " lacks permission for sts:GetFederationToken"}, []string{trust, "secret key"}},
		{"AccessDenied of the local STS's demo identity from another host", signed("AssumeRole", opsRole), "AccessDenied",
			"The local STS refuses the published demo access key AKIA… from another host (192.0.2.7): the demo identity is published, so anyone could use it. Start the local STS with --allow-remote-demo to serve it to other hosts, or give it a config of your own with --config.",
			[]string{"refuses its published demo identity", "--allow-remote-demo"}, []string{trust, "not allowed to assume", "lacks permission"}},
		{"AccessDeniedException", signed("GetDelegatedAccessToken", ""), "AccessDeniedException", "Not authorized to perform sts:GetDelegatedAccessToken",
			[]string{"lacks permission for sts:GetDelegatedAccessToken"}, []string{trust}},
		{"AccessDenied carrying a signature failure", signed("AssumeRole", opsRole), "AccessDenied", msgSignature,
			[]string{keys + baseWho, "system time"}, []string{trust, "not allowed to assume", "lacks permission"}},
		{"AccessDenied carrying an unknown key id", signed("AssumeRole", opsRole), "AccessDenied", msgInvalidToken,
			[]string{keys + baseWho, "deactivated"}, []string{trust, "not allowed to assume", "lacks permission"}},
		{"SignatureDoesNotMatch", signed("GetSessionToken", ""), "SignatureDoesNotMatch", msgSignature,
			[]string{keys + baseWho, "aws_secret_access_key", "system time"}, []string{trust}},
		{"SignatureDoesNotMatch of a session", callContext{command: "AssumeRole", identity: sessionWho, roleArn: opsRole, region: "us-east-1"}, "SignatureDoesNotMatch", msgSignature,
			[]string{keys + sessionWho, "re-create the session"}, []string{trust, "the profile's"}},
		{"InvalidClientTokenId", signed("AssumeRole", opsRole), "InvalidClientTokenId", msgInvalidToken,
			[]string{keys + baseWho, "eu-west-1", "aws_access_key_id"}, []string{trust, "not allowed to assume"}},
		{"IncompleteSignature", signed("GetCallerIdentity", ""), "IncompleteSignature",
			"Request must contain a signature that conforms to AWS standards",
			[]string{keys + baseWho, "aws_secret_access_key"}, []string{trust}},
		{"MissingAuthenticationToken", signed("GetCallerIdentity", ""), "MissingAuthenticationToken", "Request is missing Authentication Token",
			[]string{"without a signature", baseWho}, []string{trust}},
		{"MissingAuthenticationToken unsigned", unsigned("AssumeRoleWithSAML"), "MissingAuthenticationToken", "Request is missing Authentication Token",
			[]string{"awsflowSts.endpointUrl", "unsigned"}, []string{unsignedWho}},
		{"AccessDenied of an unsigned web identity call", unsigned("AssumeRoleWithWebIdentity"), "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity",
			[]string{"unsigned", opsRole + "'s trust policy", "identity provider", "aud"}, []string{unsignedWho, "lacks permission", "GetCallerIdentity", "secret key"}},
		{"AccessDenied of an unsigned SAML call", unsigned("AssumeRoleWithSAML"), "AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML",
			[]string{"unsigned", trust, "SAML:aud"}, []string{unsignedWho, "lacks permission", "secret key"}},
		{"ExpiredToken", callContext{command: "GetCallerIdentity", identity: sessionWho, region: "us-east-1"}, "ExpiredToken", msgExpiredToken,
			[]string{"credentials of " + sessionWho + " have expired"}, []string{"secret key", trust}},
		{"ExpiredTokenException", signed("GetCallerIdentity", ""), "ExpiredTokenException", msgExpiredToken,
			[]string{"have expired", "aws sso login"}, []string{"secret key"}},
		{"RegionDisabledException", signed("GetCallerIdentity", ""), "RegionDisabledException",
			"STS is not activated in this region for account:123456789012. Your account administrator can activate STS in this region using the IAM Console.",
			[]string{"not activated in Region eu-west-1", "Region us-east-1"}, []string{trust}},
		{"MalformedPolicyDocument", signed("AssumeRole", opsRole), "MalformedPolicyDocument", "The policy is not in the valid JSON format.",
			[]string{"not a valid IAM policy"}, []string{trust}},
		{"PackedPolicyTooLarge", signed("AssumeRole", opsRole), "PackedPolicyTooLarge",
			"Packed policy consumes 152% of allotted space, please use smaller policy for session.",
			[]string{"too large once packed"}, []string{trust}},
		{"IDPRejectedClaim", unsigned("AssumeRoleWithWebIdentity"), "IDPRejectedClaim", "Incorrect token audience",
			[]string{"rejected the token", "audience"}, []string{unsignedWho, "secret key"}},
		{"InvalidIdentityToken", unsigned("AssumeRoleWithWebIdentity"), "InvalidIdentityToken",
			"Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
			[]string{"not valid for STS", "OIDC provider"}, []string{unsignedWho}},
		{"IDPCommunicationError", unsigned("AssumeRoleWithWebIdentity"), "IDPCommunicationError", "Couldn't contact the identity provider.",
			[]string{"could not reach the identity provider", "try again"}, []string{trust}},
		{"InvalidAuthorizationMessageException", signed("DecodeAuthorizationMessage", ""), "InvalidAuthorizationMessageException",
			"Failed to decode message due to invalid characters",
			[]string{"The encoded message is damaged"}, []string{trust}},
		{"Throttling", signed("GetCallerIdentity", ""), "Throttling", "Rate exceeded",
			[]string{"throttling", "awsflowSts.maxAttempts"}, []string{trust}},
		{"ValidationError role chaining", signed("AssumeRole", opsRole), "ValidationError",
			"The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
			[]string{"role chaining", fmt.Sprint(chainedMaxSeconds)}, []string{trust}},
		{"ValidationError MaxSessionDuration", signed("AssumeRole", opsRole), "ValidationError",
			"The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
			[]string{"MaxSessionDuration"}, []string{"role chaining"}},
		{"ValidationError of a parameter", signed("AssumeRole", opsRole), "ValidationError",
			"1 validation error detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
			[]string{"fix the one the message names"}, []string{"MaxSessionDuration", trust}},
		{"InvalidAction", signed("DecodeAuthorizationMessage", ""), "InvalidAction",
			"Could not find operation DecodeAuthorizationMessage for version 2011-06-15",
			[]string{"awsflowSts.endpointUrl", "does not implement DecodeAuthorizationMessage"}, []string{trust, "lacks permission"}},
		{"unknown code", signed("GetCallerIdentity", ""), "SomethingNew", "Something new happened.",
			[]string{"GetCallerIdentity shows who is calling"}, []string{trust, "secret key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hint := hintFor(tt.cc, tt.code, tt.msg)
			for _, w := range tt.must {
				if !strings.Contains(hint, w) {
					t.Errorf("hint lacks %q:\n%s", w, hint)
				}
			}
			for _, w := range tt.mustNot {
				if strings.Contains(hint, w) {
					t.Errorf("hint says %q, which sends the user the wrong way:\n%s", w, hint)
				}
			}
		})
	}
}

// TestExplainEndpointAndTimeout: answers that are not STS, unknown operations and calls that ran
// out of time each get their own kind, naming the endpoint and the setting to check.
func TestExplainEndpointAndTimeout(t *testing.T) {
	custom := callContext{command: "DecodeAuthorizationMessage", identity: baseWho, region: "us-east-1", endpoint: "http://127.0.0.1:5000"}
	aws := callContext{command: "GetCallerIdentity", identity: baseWho, region: "eu-west-1"}
	tests := []struct {
		name string
		cc   callContext
		err  error
		code int64
		must []string
	}{
		{"HTML page", custom, fmt.Errorf("operation error: %w", &stsops.EndpointError{Endpoint: "http://127.0.0.1:5000", Operation: "DecodeAuthorizationMessage", Status: 500, Reason: "the answer is an HTML page, not STS XML"}),
			protocol.CodeEndpointUnsupported, []string{"http://127.0.0.1:5000", "HTML page", "HTTP 500", "awsflowSts.endpointUrl", "does not implement DecodeAuthorizationMessage"}},
		{"unknown action", custom, &smithy.GenericAPIError{Code: "InvalidAction", Message: "Could not find operation DecodeAuthorizationMessage for version 2011-06-15"},
			protocol.CodeEndpointUnsupported, []string{"InvalidAction", "awsflowSts.endpointUrl"}},
		{"AWS endpoint answering HTML", aws, &stsops.EndpointError{Endpoint: "https://sts.eu-west-1.amazonaws.com", Operation: "GetCallerIdentity", Status: 200, Reason: "the answer is an HTML page, not STS XML"},
			protocol.CodeEndpointUnsupported, []string{"AWS STS endpoint for eu-west-1", "proxy"}},
		{"timeout", custom, &stsops.TimeoutError{Seconds: 7, Err: context.DeadlineExceeded},
			protocol.CodeNetworkError, []string{"http://127.0.0.1:5000", "did not answer within 7 s", "awsflowSts.requestTimeoutSeconds"}},
		{"timeout ending the call by cancelling it", aws, fmt.Errorf("get caller identity: %w", &stsops.TimeoutError{Seconds: 30, Err: context.Canceled}),
			protocol.CodeNetworkError, []string{"AWS STS endpoint for eu-west-1 did not answer within 30 s"}},
		{"timeout fetching credentials", aws, &stsops.TimeoutError{Seconds: 7, Credentials: true, Err: errors.New("get credentials: context deadline exceeded")},
			protocol.CodeNetworkError, []string{"credentials of " + baseWho + " were not ready within 7 s", "credential_process", "awsflowSts.requestTimeoutSeconds"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := explain(tt.cc, tt.err)
			if e.Code != tt.code {
				t.Fatalf("code %d (%s), want %d: %v", e.Code, e.Kind(), tt.code, e)
			}
			for _, w := range tt.must {
				if !strings.Contains(e.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, e)
				}
			}
		})
	}
}
