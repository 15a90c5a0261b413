package tool

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/config"

	"awsflow-sts/sidecar/internal/credfile"
	"awsflow-sts/sidecar/internal/profiles"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/stsops"
)

// roleProfile is what AssumeRole's Profile resolved to.
type roleProfile struct {
	// name is the role profile.
	name string
	// source is the profile whose credentials sign the AssumeRole (its source_profile).
	source string
}

// applyProfile fills AssumeRole's parameters from the Profile it names, as the AWS CLI and SDKs
// read a role profile: role_arn, source_profile, external_id, mfa_serial, duration_seconds,
// role_session_name and region. Parameters the caller gave win over the profile's.
func applyProfile(ctx context.Context, command string, a stsops.Args) (*roleProfile, error) {
	name := a.Str("Profile")
	if name == "" {
		return nil, nil
	}
	sc, err := config.LoadSharedConfigProfile(ctx, name, func(o *config.LoadSharedConfigOptions) {
		o.ConfigFiles = []string{profiles.ConfigPath()}
		o.CredentialsFiles = []string{credfile.DefaultPath()}
	})
	if err != nil {
		var missing config.SharedConfigProfileNotExistError
		if errors.As(err, &missing) {
			return nil, &Error{Code: protocol.CodeInvalidParams, Command: command,
				Message: fmt.Sprintf("%s was not run: there is no profile %q in %s.", command, name, profiles.ConfigPath()),
				Hint:    "Use a profile name from the shared config file (the palette's Assume Role lists them), or pass RoleArn instead."}
		}
		return nil, &Error{Code: protocol.CodeCredentialsUnavailable, Command: command,
			Message: fmt.Sprintf("%s was not run: profile %q could not be read: %v", command, name, err),
			Hint:    "Fix the profile in the shared config file (AWS_CONFIG_FILE or ~/.aws/config)."}
	}
	if sc.RoleARN == "" {
		return nil, &Error{Code: protocol.CodeInvalidParams, Command: command,
			Message: fmt.Sprintf("%s was not run: profile %q does not assume a role (it has no role_arn).", command, name),
			Hint:    "To act as that profile, set it as the awsflow-sts profile setting (the base identity); to assume a role, name a profile with role_arn or pass RoleArn."}
	}
	source := sc.SourceProfileName
	if source == "" {
		if sc.CredentialSource != "" {
			return nil, &Error{Code: protocol.CodeCredentialsUnavailable, Command: command,
				Message: fmt.Sprintf("%s was not run: profile %q takes its credentials from credential_source %s, which only the SDK's own role chain supports.", command, name, sc.CredentialSource),
				Hint:    fmt.Sprintf("Set the awsflow-sts profile setting to %q (the SDK then assumes the role itself), or give the profile a source_profile.", name)}
		}
		return nil, &Error{Code: protocol.CodeInvalidParams, Command: command,
			Message: fmt.Sprintf("%s was not run: profile %q has role_arn but no source_profile, so nothing can sign the AssumeRole.", command, name),
			Hint:    "Add source_profile = <a profile with credentials> to it."}
	}
	set := func(param, value string) {
		if _, given := a[param]; !given && value != "" {
			a[param] = value
		}
	}
	set("RoleArn", sc.RoleARN)
	set("ExternalId", sc.ExternalID)
	set("SerialNumber", sc.MFASerial)
	set("Region", sc.Region)
	sessionName := sc.RoleSessionName
	if sessionName == "" {
		sessionName = "awsflow-sts-" + unsafeName.ReplaceAllString(name, "-")
		if len(sessionName) > 64 {
			sessionName = sessionName[:64]
		}
	}
	set("RoleSessionName", sessionName)
	if _, given := a["DurationSeconds"]; !given && sc.RoleDurationSeconds != nil {
		a["DurationSeconds"] = int64(sc.RoleDurationSeconds.Seconds())
	}
	return &roleProfile{name: name, source: source}, nil
}
