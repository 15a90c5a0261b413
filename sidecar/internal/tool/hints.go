package tool

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"awsflow-sts/sidecar/internal/authmsg"
	"awsflow-sts/sidecar/internal/localsts"
	"awsflow-sts/sidecar/internal/profiles"
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
	front    Frontend // who reads the texts: they name its settings or flags
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
	var ee *stsops.EndpointError
	if errors.As(err, &ee) {
		op := ee.Operation // a role profile's own AssumeRole, when that is what failed
		if op == "" {
			op = cc.command
		}
		return explainEndpoint(cc, op, fmt.Sprintf("%s (%s)", ee.Reason, httpStatus(ee.Status)))
	}
	// Before cancellation: the request timeout ends a call by cancelling it.
	var timeout *stsops.TimeoutError
	if errors.As(err, &timeout) {
		return explainTimeout(cc, timeout)
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
		return &Error{
			Code:    protocol.CodeNetworkError,
			Command: cc.command,
			Message: fmt.Sprintf("%s failed: %s could not be reached (%s).", cc.command, cc.where(), stsops.Brief(err)),
			Hint:    "Check the network, proxy and " + cc.front.setting("endpointUrl") + ", then try again; other Regions' endpoints can be used with the Region parameter.",
		}
	}
	return &Error{Code: protocol.CodeInternalError, Command: cc.command, Message: fmt.Sprintf("%s failed: %v", cc.command, err)}
}

// where names the endpoint a call goes to: the awsflowSts.endpointUrl setting (or --endpoint-url),
// else the Region's.
func (cc callContext) where() string {
	if cc.endpoint != "" {
		return cc.endpoint + " (" + cc.front.setting("endpointUrl") + ")"
	}
	return "the AWS STS endpoint for " + cc.region
}

// unsigned tells whether the command is sent without credentials.
func (cc callContext) unsigned() bool {
	spec, ok := protocol.Command(cc.command)
	return ok && spec.Auth == protocol.AuthAnonymous
}

func httpStatus(status int) string {
	if status == 0 {
		return "no HTTP status"
	}
	return fmt.Sprintf("HTTP %d", status)
}

// explainEndpoint says the endpoint answered op (the command, or the SDK's own call for a role
// profile), but not as STS: it is not STS, or lacks the operation.
func explainEndpoint(cc callContext, op, why string) *Error {
	e := &Error{
		Code:    protocol.CodeEndpointUnsupported,
		Command: cc.command,
		Message: fmt.Sprintf("%s failed: %s is not STS or does not implement %s: %s.", cc.command, cc.where(), op, why),
		Hint: fmt.Sprintf("Check %s: the endpoint is not STS or does not implement %s. "+
			"Point it at an STS endpoint that has %s, or clear it to use AWS's own endpoint for the Region; retrying the same endpoint will not help.", cc.front.setting("endpointUrl"), op, op),
	}
	if cc.endpoint == "" {
		e.Hint = fmt.Sprintf("The endpoint is not STS or does not implement %s. %s is empty, so either STS in Region %s lacks the operation (pass Region us-east-1) "+
			"or something between this machine and AWS (a proxy, a captive portal) answered instead: check the network and proxy settings.", op, capitalize(cc.front.setting("endpointUrl")), cc.region)
	}
	return e
}

// explainTimeout says the call got no answer within the request timeout.
func explainTimeout(cc callContext, te *stsops.TimeoutError) *Error {
	e := &Error{
		Code:    protocol.CodeNetworkError,
		Command: cc.command,
		Message: fmt.Sprintf("%s failed: %s did not answer within %d s (%s).", cc.command, cc.where(), te.Seconds, cc.front.setting("requestTimeoutSeconds")),
		Hint:    "Check the network, proxy and " + cc.front.setting("endpointUrl") + ", then try again" + cc.front.raiseTimeout("the endpoint is only slow") + ".",
	}
	if te.Credentials {
		e.Message = fmt.Sprintf("%s failed: the credentials of %s were not ready within %d s (%s): their source (SSO, a credential_process, a role profile) did not answer in time.",
			cc.command, cc.identity, te.Seconds, cc.front.setting("requestTimeoutSeconds"))
		e.Hint = "Check the profile's credential source (run its credential_process in a terminal, or `aws sso login`), then try again" + cc.front.raiseTimeout("it is only slow") + "."
	}
	return e
}

// explainCredentials says why the signing profile has no credentials, after where they come from.
func explainCredentials(cc callContext, err error) *Error {
	if e := signInRequired(cc, err, profiles.ConfigPath()); e != nil {
		return e
	}
	full := err.Error()
	profile := cc.profile
	if profile == "" {
		profile = "default"
	}
	e := &Error{
		Code:    protocol.CodeCredentialsUnavailable,
		Command: cc.command,
		Message: fmt.Sprintf("%s was not run: no AWS credentials could be found for %s (%s).", cc.command, cc.identity, stsops.Brief(err)),
		Hint: "Set " + cc.front.setting("profile") + " to a profile in ~/.aws/config that has credentials, " +
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
	if stsops.IsUnsupportedCode(code) {
		e := explainEndpoint(cc, cc.command, fmt.Sprintf("it answered %s: %s", code, msg))
		e.AWSCode, e.RequestID = code, requestID
		return e
	}
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

// sigV4Messages are the texts of signature failures, which some endpoints send under other codes
// (AccessDenied): the secret key does not match, or the key id (or session token) is unknown.
var sigV4Messages = []string{"signature we calculated", "the security token included in the request is invalid"}

// isSigV4Failure tells whether STS refused the call's signature rather than the caller.
func isSigV4Failure(code, msg string) bool {
	switch code {
	case "SignatureDoesNotMatch", "InvalidClientTokenId", "IncompleteSignature":
		return true
	}
	lower := strings.ToLower(msg)
	for _, m := range sigV4Messages {
		if strings.Contains(lower, m) {
			return true
		}
	}
	return false
}

// sigV4Hint says which key of the signing identity to check: STS rejected the signature before
// looking at any permission.
func sigV4Hint(cc callContext, code, msg string) string {
	who := cc.identity
	fix := "the profile's aws_access_key_id and aws_secret_access_key"
	if cc.profile == "" && !strings.HasPrefix(who, "the base identity") {
		fix = "the session's keys: re-create the session with the command that made it"
	}
	const before = " STS rejected the signature before looking at any permission."
	switch {
	case code == "IncompleteSignature":
		return fmt.Sprintf("The request was not signed properly: check the secret key / key id of %s (%s; a session needs its session token too).", who, fix) + before
	case code == "InvalidClientTokenId" || strings.Contains(strings.ToLower(msg), sigV4Messages[1]):
		return fmt.Sprintf("STS does not know the access key of %s: check the secret key / key id of %s (%s). The key may be deleted or deactivated, belong to another partition, or STS may not be active in Region %s.",
			who, who, fix, cc.region) + before
	}
	return fmt.Sprintf("The secret key of %s does not match its access key id (or the clock is far off): check the secret key / key id of %s (%s) and the system time.", who, who, fix) + before
}

func hintFor(cc callContext, code, msg string) string {
	who := cc.identity
	if isSigV4Failure(code, msg) {
		return sigV4Hint(cc, code, msg)
	}
	if stsops.IsUnsupportedCode(code) {
		return explainEndpoint(cc, cc.command, code).Hint
	}
	switch code {
	case "AccessDenied", "AccessDeniedException":
		if strings.Contains(msg, "--"+localsts.AllowRemoteDemoFlag) {
			// Not a policy decision: the local STS keeps its published demo identity to loopback.
			return fmt.Sprintf("The local STS at %s refuses its published demo identity to other hosts; no policy was checked. Run the sidecar on the same host as the local STS, start the local STS with --%s, or give it a config of your own.",
				cmp.Or(cc.endpoint, "the endpoint"), localsts.AllowRemoteDemoFlag)
		}
		if cc.unsigned() {
			role := cc.roleArn
			if role == "" {
				role = "the role"
			}
			return fmt.Sprintf("The call is unsigned, so no AWS principal's permissions were checked: %s's trust policy and the identity provider decide. "+
				"Check that the trust policy allows %s for the identity provider (its Federated principal) and that its conditions (aud, sub, amr; SAML:aud) hold for this token or assertion.", role, "sts:"+cc.command)
		}
		if cc.roleArn != "" {
			return fmt.Sprintf("%s is not allowed to assume %s. Check that the role's trust policy names this caller as a principal and that its conditions hold (sts:ExternalId needs ExternalId; aws:MultiFactorAuthPresent needs SerialNumber and TokenCode), "+
				"and that the caller's own policies allow sts:AssumeRole on the role. Run GetCallerIdentity to see exactly who is calling.", who, cc.roleArn)
		}
		return fmt.Sprintf("%s lacks permission for sts:%s. Run GetCallerIdentity to see who is calling, then add an Allow for sts:%s to its policies (or use another session).", who, cc.command, cc.command)
	case "ExpiredToken", "ExpiredTokenException":
		return fmt.Sprintf("The credentials of %s have expired. Re-create the session with the command that made it, or refresh the base profile (for SSO: `aws sso login`).", who)
	case "MissingAuthenticationToken":
		if cc.unsigned() {
			return fmt.Sprintf("The endpoint wants %s signed, but STS takes it unsigned: check %s.", cc.command, cc.front.setting("endpointUrl"))
		}
		return fmt.Sprintf("The request reached STS without a signature: check that %s has both an access key id and a secret key.", who)
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
		if cc.front.CLI {
			return "STS is throttling this account's calls. Wait a few seconds and try again."
		}
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
