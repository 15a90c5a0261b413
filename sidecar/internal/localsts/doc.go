// Package localsts is an embedded, STS-compatible HTTP server: the AWS Security Token Service
// Query API (version 2011-06-15) with SigV4 verification, STS's XML success and error shapes,
// and the session rules of the real service, backed by a small JSON world of accounts, users,
// roles, trust policies and identity providers (see Config).
//
// It exists so that `make demo`, the extension's tests and offline users can run every STS
// operation without an AWS account, and so that the AWS CLI and aws-sdk-go-v2 cannot tell it
// from STS on what it implements. It listens wherever its caller serves Handler (HTTPServer adds
// read timeouts and size caps); the demo binds it to loopback only, because the default config's
// keys are public. Requests from other hosts that use those public secrets are refused unless
// Options.AllowRemoteDemo is set.
//
// What it models, and what it deliberately does not:
//
//   - Every principal is assumed to hold the IAM permissions to call STS; only the role's trust
//     policy, the credential class (long-term, session token, role, federated user, root task)
//     and STS's own limits decide. Identity policies, permission boundaries and SCPs are not
//     evaluated, and session policies are validated and sized but not enforced.
//   - MFA devices have a fixed six-digit code in the config instead of a TOTP secret: a demo
//     stand-in, accepted every time, so scripts can pass MFA without a phone.
//   - Beside STS at "/", the server answers a few non-AWS routes under "/_localsts/": a health
//     check, a way to mint encoded authorization failure messages, and the demo identity
//     providers (a SAML IdP and an OIDC issuer) that feed AssumeRoleWithSAML and
//     AssumeRoleWithWebIdentity.
//   - IAM Identity Center (see SSO): its OIDC service's device sign-in and refresh, and its portal's
//     accounts, roles and role credentials. A real Identity Center's sign-in page is replaced by a
//     route that approves or denies a user code for a configured user.
//
// No secret (secret key, session token, assertion, token, client secret, device code, MFA code)
// is ever logged.
package localsts
