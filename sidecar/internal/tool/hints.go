package tool

import (
	"context"
	"errors"
	"fmt"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"awsflow-sts/sidecar/internal/authmsg"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/stsops"
)

// callContext is what an error explanation may name: the command, the identity that signed, the
// role asked for, the endpoint.
type callContext struct {
	command  string
	identity string // "the base identity (profile dev)" or "session \"x\""
	profile  string // the profile whose credentials sign, when no session does
	roleArn  string
	region   string
	endpoint string
}

// explain turns a failed operation into an Error the model can act on.
func explain(cc callContext, err error) *Error {
	var te *Error
	if errors.As(err, &te) {
		return te
	}
	var ie *stsops.InputError
	if errors.As(err, &ie) {
		return &Error{Code: protocol.CodeInvalidParams, Command: cc.command, Message: cc.command + " was not run: " + ie.Msg}
	}
	if errors.Is(err, context.Canceled) {
		return &Error{Code: protocol.CodeRequestCancelled, Command: cc.command, Message: cc.command + " was cancelled."}
	}
	// Before API errors: a credential provider's own service (SSO) answers with API errors too.
	if stsops.IsCredentialsError(err) {
		return explainCredentials(cc, err)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return explainAPI(cc, apiErr, requestIDOf(err))
	}
	if errors.Is(err, context.DeadlineExceeded) || stsops.IsUnreachable(err) {
		where := "the STS endpoint for " + cc.region
		if cc.endpoint != "" {
			where = cc.endpoint
		}
		return &Error{
			Code:    protocol.CodeNetworkError,
			Command: cc.command,
			Message: fmt.Sprintf("%s failed: %s could not be reached (%s).", cc.command, where, stsops.Brief(err)),
			Hint:    "Check the network, proxy and the awsflowSts.endpointUrl setting, then try again; other Regions' endpoints can be used with the Region parameter.",
		}
	}
	return &Error{Code: protocol.CodeInternalError, Command: cc.command, Message: fmt.Sprintf("%s failed: %v", cc.command, err)}
}

// explainCredentials says why the signing profile has no credentials, after where they come from.
func explainCredentials(cc callContext, err error) *Error {
	full := err.Error()
	profile := cc.profile
	if profile == "" {
		profile = "default"
	}
	e := &Error{
		Code:    protocol.CodeCredentialsUnavailable,
		Command: cc.command,
		Message: fmt.Sprintf("%s was not run: no AWS credentials could be found for %s (%s).", cc.command, cc.identity, stsops.Brief(err)),
		Hint: "Set the awsflowSts.profile setting to a profile in ~/.aws/config that has credentials, " +
			"or provide credentials through the environment. AssumeRoleWithSAML and AssumeRoleWithWebIdentity need no credentials.",
	}
	var apiErr smithy.APIError
	hasAPI := errors.As(err, &apiErr)
	switch {
	case strings.Contains(full, "credential_process"):
		e.Message = fmt.Sprintf("%s was not run: the credential_process of profile `%s` failed (%s).", cc.command, profile, stsops.Brief(err))
		e.Hint = "Run the profile's credential_process command in a terminal to see its error output; it must print {\"Version\":1,\"AccessKeyId\":…} and exit 0."
	case hasAPI && apiErr.ErrorCode() == "ForbiddenException":
		e.Message = fmt.Sprintf("%s was not run: IAM Identity Center refused the role of profile `%s` (%s).", cc.command, profile, apiErr.ErrorMessage())
		e.Hint = "Check the profile's sso_account_id and sso_role_name: the signed-in user must be assigned that permission set in that account."
	case hasAPI && apiErr.ErrorCode() == "UnauthorizedException", strings.Contains(full, "SSO"), strings.Contains(full, "sso"):
		e.Hint = fmt.Sprintf("Sign in again with `aws sso login --profile %s`, then retry; the sidecar picks up the new sign-in without a restart.", profile)
	}
	return e
}

func requestIDOf(err error) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.ServiceRequestID()
	}
	return ""
}

func explainAPI(cc callContext, apiErr smithy.APIError, requestID string) *Error {
	code, msg := apiErr.ErrorCode(), apiErr.ErrorMessage()
	e := &Error{
		Code:      protocol.CodeAWSError,
		Command:   cc.command,
		AWSCode:   code,
		RequestID: requestID,
		Message:   fmt.Sprintf("STS refused %s with %s: %s", cc.command, code, msg),
	}
	if requestID != "" {
		e.Message += " (request id " + requestID + ")"
	}
	e.Hint = hintFor(cc, code, msg)
	if token, ok := authmsg.ExtractEncoded(msg); ok {
		e.Hint += fmt.Sprintf(" The error carries an encoded authorization message: call DecodeAuthorizationMessage with EncodedMessage %q to see which statement decided it.", token)
	}
	return e
}

func hintFor(cc callContext, code, msg string) string {
	who := cc.identity
	switch code {
	case "AccessDenied", "AccessDeniedException":
		if cc.roleArn != "" {
			return fmt.Sprintf("%s is not allowed to assume %s. Check that the role's trust policy names this caller as a principal and that its conditions hold (sts:ExternalId needs ExternalId; aws:MultiFactorAuthPresent needs SerialNumber and TokenCode), "+
				"and that the caller's own policies allow sts:AssumeRole on the role. Run GetCallerIdentity to see exactly who is calling.", who, cc.roleArn)
		}
		return fmt.Sprintf("%s lacks permission for sts:%s. Run GetCallerIdentity to see who is calling, then add an Allow for sts:%s to its policies (or use another session).", who, cc.command, cc.command)
	case "ExpiredToken", "ExpiredTokenException":
		return fmt.Sprintf("The credentials of %s have expired. Re-create the session with the command that made it, or refresh the base profile (for SSO: `aws sso login`).", who)
	case "InvalidClientTokenId":
		return fmt.Sprintf("STS does not know the access key of %s: the key was deleted or deactivated, belongs to another partition, or STS is not active in Region %s. Check the profile's keys, or re-create the session.", who, cc.region)
	case "SignatureDoesNotMatch":
		return fmt.Sprintf("The secret key of %s does not match its access key id (or the clock is far off). Check the profile's aws_secret_access_key and the system time.", who)
	case "IncompleteSignature", "MissingAuthenticationToken":
		return "The request was not signed properly; check that the profile has both an access key id and a secret key."
	case "RegionDisabledException":
		return fmt.Sprintf("STS is not activated in Region %s for this account. An administrator can activate it under IAM > Account settings > Security Token Service; meanwhile pass Region us-east-1 (or another active Region).", cc.region)
	case "MalformedPolicyDocument", "MalformedPolicyDocumentException":
		return "The session policy is not a valid IAM policy. Check its JSON, that each Statement has Effect, Action and Resource, and that the actions and ARNs are spelt right."
	case "PackedPolicyTooLarge", "PackedPolicyTooLargeException":
		return "The session policy, policy ARNs and session tags together are too large once packed. Shorten Policy, pass fewer PolicyArns or Tags, or put the permissions in the role's own policy."
	case "IDPRejectedClaim", "IDPRejectedClaimException":
		return "The identity provider configured in IAM rejected the token or assertion: check that its issuer and audience match the IAM identity provider, and that the role's trust policy conditions (aud, sub, SAML:aud) hold for it."
	case "InvalidIdentityToken", "InvalidIdentityTokenException":
		return "The web identity token is not valid for STS: it may be expired, signed by keys STS cannot fetch, or meant for another audience. Get a fresh token from the identity provider and check that IAM has an OIDC provider for its issuer."
	case "IDPCommunicationError", "IDPCommunicationErrorException":
		return "STS could not reach the identity provider to verify the token's signature; it is usually transient, so try again."
	case "InvalidAuthorizationMessageException":
		return "The encoded message is damaged: pass the whole text after 'Encoded authorization failure message:' on one line, with no line breaks or quotes."
	case "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException":
		return "STS is throttling this account's calls. Wait a few seconds and try again; the awsflowSts.maxAttempts setting adds automatic retries."
	case "ValidationError":
		if strings.Contains(strings.ToLower(msg), "chaining") || strings.Contains(msg, "1 hour") {
			return fmt.Sprintf("The caller holds role credentials (role chaining), so DurationSeconds can be at most %d. Call again with DurationSeconds %d or less.", chainedMaxSeconds, chainedMaxSeconds)
		}
		if strings.Contains(msg, "DurationSeconds") {
			return "DurationSeconds exceeds what the role allows (its MaxSessionDuration); call again with a shorter duration or omit it."
		}
		return "STS refused one of the parameters; fix the one the message names and call again."
	}
	return "See the message above; GetCallerIdentity shows who is calling, and the Session and Region parameters choose another identity or Region."
}
