package localsts

import "encoding/json"

// The default config's accounts.
const (
	// DemoAccount is the default config's main account (alias "demo", management account of the
	// organization).
	DemoAccount = "123456789012"
	// MemberAccount is the default config's second account, a member of the organization.
	MemberAccount = "111122223333"
)

// The default config's demo credentials. They are public by design: the local STS is for demos
// and tests, and never guards anything real. The key ids encode their account the way AWS's do.
const (
	// DemoAccessKeyID is alice's access key id (account 123456789012).
	DemoAccessKeyID = "AKIARZPUZDIKCEZA6SZI"
	// DemoSecretAccessKey is alice's secret access key.
	DemoSecretAccessKey = "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"
	// DemoMFASerial is alice's MFA device.
	DemoMFASerial = "arn:aws:iam::123456789012:mfa/alice"
	// DemoMFACode is the fixed code the local STS accepts for DemoMFASerial (a stand-in for TOTP).
	DemoMFACode = "123456"
	// DemoExternalID is the external id the Partner role requires.
	DemoExternalID = "partner-ext-1"
	// DemoOIDCClientID is the audience the built-in OIDC provider accepts.
	DemoOIDCClientID = "demo-client"
	// DemoSAMLProvider is the SAML provider whose IdP the server generates.
	DemoSAMLProvider = "arn:aws:iam::123456789012:saml-provider/DemoIdP"
	// DemoSSOAccessToken is the IAM Identity Center access token of the SSO user alice, as
	// `aws sso login` would cache it; it never expires.
	DemoSSOAccessToken = "localsts-demo-sso-token"
	// DemoSSOUser is the Identity Center user the demo token belongs to.
	DemoSSOUser = "alice"
	// DemoSSOPermissionSet is the permission set alice is assigned in MemberAccount: an SSO
	// profile's sso_role_name.
	DemoSSOPermissionSet = "Developer"
	// DemoSSORole is the role Identity Center provisioned for DemoSSOPermissionSet in
	// MemberAccount.
	DemoSSORole = "AWSReservedSSO_Developer_0123456789abcdef"
	// DemoSSOStartURL is the demo Identity Center's start URL, the sso_start_url of a profile or
	// sso-session that signs in to it. Its host is reserved (.invalid): the start URL only names
	// the instance, and every call goes to the local STS through the endpoint settings.
	DemoSSOStartURL = "https://localsts.invalid/start"
	// DemoSSOReadOnlyPermissionSet is the second permission set alice is assigned, in
	// DemoAccount.
	DemoSSOReadOnlyPermissionSet = "ReadOnly"
	// DemoSSOReadOnlyRole is the role Identity Center provisioned for
	// DemoSSOReadOnlyPermissionSet in DemoAccount.
	DemoSSOReadOnlyRole = "AWSReservedSSO_ReadOnly_a1b2c3d4e5f60718"
)

// The default config's other users' keys.
const (
	bobAccessKeyID       = "AKIARZPUZDIKDDN7OSSW"
	bobSecretAccessKey   = "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"
	carolAccessKeyID     = "AKIARTX3GSDS5NTRL72E"
	carolSecretAccessKey = "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"
)

// trust builds a trust policy document from its statements.
func trust(statements ...string) json.RawMessage {
	s := `{"Version":"2012-10-17","Statement":[`
	for i, st := range statements {
		if i > 0 {
			s += ","
		}
		s += st
	}
	return json.RawMessage(s + `]}`)
}

// DefaultConfig returns the built-in demo world:
//
//   - account 123456789012 (alias demo), the organization's management account, with users
//     alice (DemoAccessKeyID/DemoSecretAccessKey, MFA device DemoMFASerial with code
//     DemoMFACode, may decode authorization messages) and bob (may not);
//   - account 111122223333 (alias member), an organization member, with user carol (may decode);
//   - roles in 123456789012: Dev (trusts the account), Ops (trusts only role Dev: role chaining,
//     max 12 h), Admin (trusts alice only with MFA, max 12 h), Partner (trusts the account with
//     external id DemoExternalID), Locked (trusts only 111122223333: a denied AssumeRole),
//     Auditor (trusts the account, may decode messages), SamlDev (SAML provider DemoIdP, whose
//     IdP the server generates), WebDev (the built-in OIDC issuer, audience DemoOIDCClientID);
//   - trade-in tokens "localsts-demo-trade-in-1" and "-2" for Dev;
//   - IAM Identity Center at DemoSSOStartURL: the user alice signs in by the device flow and is
//     assigned permission set Developer in 111122223333 (role DemoSSORole) and ReadOnly in
//     123456789012 (role DemoSSOReadOnlyRole); both roles trust nobody, so only
//     GetRoleCredentials issues their sessions. The fixed access token DemoSSOAccessToken stands
//     for a sign-in of alice made elsewhere, assigned Developer only. The portal names the
//     accounts "Demo" and "Member".
//
// Each call returns a fresh copy the caller may change.
func DefaultConfig() *Config {
	acct := DemoAccount
	sameAccount := `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}`
	return &Config{
		Accounts: []Account{
			{ID: acct, Alias: "demo"},
			{ID: MemberAccount, Alias: "member"},
		},
		Users: []User{
			{Account: acct, Name: "alice", AccessKeys: []AccessKey{{ID: DemoAccessKeyID, Secret: DemoSecretAccessKey}},
				MFA: []MFADevice{{Serial: DemoMFASerial, Code: DemoMFACode}}, CanDecode: true, Tags: map[string]string{"team": "platform"}},
			{Account: acct, Name: "bob", AccessKeys: []AccessKey{{ID: bobAccessKeyID, Secret: bobSecretAccessKey}}},
			{Account: MemberAccount, Name: "carol", AccessKeys: []AccessKey{{ID: carolAccessKeyID, Secret: carolSecretAccessKey}}, CanDecode: true},
		},
		Roles: []Role{
			{Account: acct, Name: "Dev", Trust: trust(sameAccount)},
			{Account: acct, Name: "Ops", MaxSessionDuration: 43200, Trust: trust(
				`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:role/Dev"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}`)},
			{Account: acct, Name: "Admin", MaxSessionDuration: 43200, Trust: trust(
				`{"Sid":"AliceWithMFA","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/alice"},"Action":"sts:AssumeRole",` +
					`"Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}`)},
			{Account: acct, Name: "Partner", Trust: trust(
				`{"Effect":"Allow","Principal":{"AWS":"` + acct + `"},"Action":"sts:AssumeRole",` +
					`"Condition":{"StringEquals":{"sts:ExternalId":"` + DemoExternalID + `"}}}`)},
			{Account: acct, Name: "Locked", Trust: trust(
				`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + MemberAccount + `:root"},"Action":"sts:AssumeRole"}`)},
			{Account: acct, Name: "Auditor", Trust: trust(sameAccount)},
			{Account: acct, Name: "SamlDev", Trust: trust(
				`{"Effect":"Allow","Principal":{"Federated":"` + DemoSAMLProvider + `"},"Action":["sts:AssumeRoleWithSAML","sts:TagSession","sts:SetSourceIdentity"],` +
					`"Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}`)},
			{Account: acct, Name: "WebDev", Trust: trust(
				`{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::` + acct + `:oidc-provider/` + OIDCPlaceholder + `"},` +
					`"Action":["sts:AssumeRoleWithWebIdentity","sts:TagSession"],` +
					`"Condition":{"StringEquals":{"` + OIDCPlaceholder + `:aud":"` + DemoOIDCClientID + `"}}}`)},
			{Account: MemberAccount, Name: DemoSSORole, Trust: trust(
				`{"Sid":"OnlyIdentityCenter","Effect":"Deny","Principal":"*","Action":"sts:*"}`)},
			{Account: acct, Name: DemoSSOReadOnlyRole, Trust: trust(
				`{"Sid":"OnlyIdentityCenter","Effect":"Deny","Principal":"*","Action":"sts:*"}`)},
		},
		SAMLProviders: []SAMLProvider{{Account: acct, Name: "DemoIdP"}},
		OIDCProviders: []OIDCProvider{{Account: acct, URL: BuiltinOIDC, ClientIDs: []string{DemoOIDCClientID}}},
		TradeInTokens: []TradeInToken{
			{Token: "localsts-demo-trade-in-1", RoleArn: roleARN(acct, "Dev"), DurationSeconds: 900},
			{Token: "localsts-demo-trade-in-2", RoleArn: roleARN(acct, "Dev"), DurationSeconds: 900},
		},
		Organization: &Organization{ManagementAccount: acct, Members: []string{MemberAccount}},
		DecodeRoles:  []string{roleARN(acct, "Auditor")},
		Demo:         Demo{User: acct + "/alice", Role: roleARN(acct, "Dev")},
		SSO: &SSO{
			StartURL: DemoSSOStartURL,
			Users: []SSOUser{{Name: DemoSSOUser,
				RoleArns: []string{roleARN(MemberAccount, DemoSSORole), roleARN(acct, DemoSSOReadOnlyRole)}}},
			Accounts: []SSOAccount{
				{ID: acct, Name: "Demo", Email: "aws-demo@example.com"},
				{ID: MemberAccount, Name: "Member", Email: "aws-member@example.com"},
			},
			AccessTokens: []SSOAccessToken{{Token: DemoSSOAccessToken, User: DemoSSOUser,
				RoleArns: []string{roleARN(MemberAccount, DemoSSORole)}}},
		},
	}
}
