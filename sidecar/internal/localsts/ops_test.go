package localsts

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"awsflow-sts/sidecar/internal/keyid"
)

// near reports whether got is within a few seconds of want.
func near(got *time.Time, want time.Time) bool {
	return got != nil && got.Sub(want).Abs() < 5*time.Second
}

func TestGetCallerIdentity(t *testing.T) {
	e := sharedEnv(t)
	dev := e.assume(e.alice(), &sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("dev-session")})
	fed, err := e.alice().GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("fedname")})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := e.bob().GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	root, err := e.alice().AssumeRoot(ctx, &sts.AssumeRootInput{TargetPrincipal: aws.String(MemberAccount),
		TaskPolicyArn: &types.PolicyDescriptorType{Arn: aws.String(rootTaskPolicies[0])}})
	if err != nil {
		t.Fatal(err)
	}
	devRoleID := stableID(prefixRole, DemoAccount, "Dev")
	tests := []struct {
		name                 string
		client               *sts.Client
		arn, userID, account string
	}{
		{"user", e.alice(), "arn:aws:iam::123456789012:user/alice", stableID(prefixUser, DemoAccount, "alice"), DemoAccount},
		{"user in other account", e.carol(), "arn:aws:iam::111122223333:user/carol", stableID(prefixUser, MemberAccount, "carol"), MemberAccount},
		{"assumed role", e.with(dev.Credentials), "arn:aws:sts::123456789012:assumed-role/Dev/dev-session", devRoleID + ":dev-session", DemoAccount},
		{"federated user", e.with(fed.Credentials), "arn:aws:sts::123456789012:federated-user/fedname", "123456789012:fedname", DemoAccount},
		{"session token acts as the user", e.with(sess.Credentials), "arn:aws:iam::123456789012:user/bob", stableID(prefixUser, DemoAccount, "bob"), DemoAccount},
		{"root of a member account", e.with(root.Credentials), "arn:aws:iam::111122223333:root", MemberAccount, MemberAccount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := whoami(t, tt.client)
			if aws.ToString(out.Arn) != tt.arn || aws.ToString(out.UserId) != tt.userID || aws.ToString(out.Account) != tt.account {
				t.Fatalf("got %s %s %s, want %s %s %s", aws.ToString(out.Arn), aws.ToString(out.UserId), aws.ToString(out.Account), tt.arn, tt.userID, tt.account)
			}
		})
	}
	t.Run("unique ids look like IAM's", func(t *testing.T) {
		for _, id := range []string{stableID(prefixUser, DemoAccount, "alice"), devRoleID} {
			if len(id) != 21 {
				t.Errorf("%s: length %d, want 21", id, len(id))
			}
			if acct, ok := keyid.AccountOffline(id); !ok || acct != DemoAccount {
				t.Errorf("%s decodes to %q", id, acct)
			}
		}
	})
}

func TestGetAccessKeyInfo(t *testing.T) {
	e := sharedEnv(t)
	dev := e.assume(e.alice(), &sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("s1")})
	tests := []struct {
		name, key, account, code string
	}{
		{"configured key", DemoAccessKeyID, DemoAccount, ""},
		{"key of another account", carolAccessKeyID, MemberAccount, ""},
		{"issued temporary key", aws.ToString(dev.Credentials.AccessKeyId), DemoAccount, ""},
		{"unknown key decodes offline", "ASIAY34FZKBOKMUTVV7A", "609629065308", ""},
		{"too short", "AKIA123", "", "ValidationError"},
		{"bad characters", "AKIA-0000000000000000", "", "ValidationError"},
		{"unknown prefix", "ZZZZ1111111111111111", "", "InvalidParameterValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := e.bob().GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(tt.key)})
			if tt.code != "" {
				wantAPIError(t, err, tt.code, 400, "")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.Account) != tt.account {
				t.Fatalf("account = %s, want %s", aws.ToString(out.Account), tt.account)
			}
		})
	}
}

func TestGetSessionToken(t *testing.T) {
	e := sharedEnv(t)
	now := time.Now()
	dev := e.assume(e.alice(), &sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("s1")})
	plain, err := e.alice().GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		client *sts.Client
		in     sts.GetSessionTokenInput
		expiry time.Duration
		code   string
		status int
		msg    string
	}{
		{name: "default 12 hours", client: e.alice(), expiry: 43200 * time.Second},
		{name: "shortest", client: e.alice(), in: sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)}, expiry: 900 * time.Second},
		{name: "longest", client: e.alice(), in: sts.GetSessionTokenInput{DurationSeconds: aws.Int32(129600)}, expiry: 129600 * time.Second},
		{name: "too short", client: e.alice(), in: sts.GetSessionTokenInput{DurationSeconds: aws.Int32(899)}, code: "ValidationError", status: 400,
			msg: "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
		{name: "too long", client: e.alice(), in: sts.GetSessionTokenInput{DurationSeconds: aws.Int32(129601)}, code: "ValidationError", status: 400,
			msg: "Member must have value less than or equal to 129600"},
		{name: "with MFA", client: e.alice(), in: sts.GetSessionTokenInput{SerialNumber: aws.String(DemoMFASerial), TokenCode: aws.String(DemoMFACode)}, expiry: 43200 * time.Second},
		{name: "wrong MFA code", client: e.alice(), in: sts.GetSessionTokenInput{SerialNumber: aws.String(DemoMFASerial), TokenCode: aws.String("654321")},
			code: "AccessDenied", status: 403, msg: "MultiFactorAuthentication failed with invalid MFA one time pass code."},
		{name: "someone else's MFA device", client: e.bob(), in: sts.GetSessionTokenInput{SerialNumber: aws.String(DemoMFASerial), TokenCode: aws.String(DemoMFACode)},
			code: "AccessDenied", status: 403, msg: "MultiFactorAuthentication failed"},
		{name: "serial without code", client: e.alice(), in: sts.GetSessionTokenInput{SerialNumber: aws.String(DemoMFASerial)},
			code: "AccessDenied", status: 403, msg: "must provide both MFA serial number and one time pass code"},
		{name: "code not six digits", client: e.alice(), in: sts.GetSessionTokenInput{SerialNumber: aws.String(DemoMFASerial), TokenCode: aws.String("12345")},
			code: "ValidationError", status: 400, msg: "Value at 'tokenCode' failed to satisfy constraint: Member must have length greater than or equal to 6"},
		{name: "role credentials refused", client: e.with(dev.Credentials), code: "AccessDenied", status: 403, msg: "Cannot call GetSessionToken with session credentials"},
		{name: "session credentials refused", client: e.with(plain.Credentials), code: "AccessDenied", status: 403, msg: "Cannot call GetSessionToken with session credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.client.GetSessionToken(ctx, &tt.in)
			if tt.code != "" {
				wantAPIError(t, err, tt.code, tt.status, tt.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := out.Credentials
			if !strings.HasPrefix(aws.ToString(c.AccessKeyId), "ASIA") || len(aws.ToString(c.SecretAccessKey)) != 40 || len(aws.ToString(c.SessionToken)) < 400 {
				t.Errorf("credentials do not look like STS's: %s, secret %d chars, token %d chars", aws.ToString(c.AccessKeyId), len(aws.ToString(c.SecretAccessKey)), len(aws.ToString(c.SessionToken)))
			}
			if !near(c.Expiration, now.Add(tt.expiry)) {
				t.Errorf("expiration %v, want about %v", c.Expiration, now.Add(tt.expiry))
			}
			if acct, _ := keyid.AccountOffline(aws.ToString(c.AccessKeyId)); acct != DemoAccount {
				t.Errorf("issued key decodes offline to %s", acct)
			}
		})
	}
}

// rootConfig is the default config with root access keys for the demo account.
func rootConfig() *Config {
	cfg := DefaultConfig()
	cfg.Accounts[0].Root.AccessKeys = []AccessKey{{ID: "AKIARZPUZDIKAAAAAAAA", Secret: "rootsecretrootsecretrootsecret0000000000"}}
	return cfg
}

func TestRootCredentials(t *testing.T) {
	e := newEnv(t, rootConfig())
	root := e.client("AKIARZPUZDIKAAAAAAAA", "rootsecretrootsecretrootsecret0000000000", "")
	t.Run("caller identity", func(t *testing.T) {
		out := whoami(t, root)
		if aws.ToString(out.Arn) != "arn:aws:iam::123456789012:root" || aws.ToString(out.UserId) != DemoAccount {
			t.Fatalf("got %s %s", aws.ToString(out.Arn), aws.ToString(out.UserId))
		}
	})
	for _, tt := range []struct {
		name string
		call func() (*types.Credentials, error)
	}{
		{"GetSessionToken capped at an hour", func() (*types.Credentials, error) {
			out, err := root.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(7200)})
			if err != nil {
				return nil, err
			}
			return out.Credentials, nil
		}},
		{"GetFederationToken capped at an hour", func() (*types.Credentials, error) {
			out, err := root.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("n1"), DurationSeconds: aws.Int32(7200)})
			if err != nil {
				return nil, err
			}
			return out.Credentials, nil
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.call()
			if err != nil {
				t.Fatal(err)
			}
			if !near(c.Expiration, time.Now().Add(time.Hour)) {
				t.Fatalf("expiration %v, want an hour from now", c.Expiration)
			}
		})
	}
	t.Run("root may decode its account's messages", func(t *testing.T) {
		enc, _ := e.srv.EncodeMessage(DenialMessage{Account: DemoAccount, PrincipalArn: userARN(DemoAccount, "bob"), Action: "s3:GetObject", Resource: "*"})
		if _, err := root.DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(enc)}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("root may not assume roles", func(t *testing.T) {
		_, err := root.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("r1")})
		wantAPIError(t, err, "AccessDenied", 403, "Roles may not be assumed by root accounts.")
	})
}

func TestGetFederationToken(t *testing.T) {
	e := sharedEnv(t)
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	dev := e.assume(e.alice(), &sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("s1")})
	t.Run("federated user", func(t *testing.T) {
		out, err := e.alice().GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("Bob"), Policy: aws.String(policy),
			Tags: []types.Tag{{Key: aws.String("project"), Value: aws.String("x")}}})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.FederatedUser.Arn) != "arn:aws:sts::123456789012:federated-user/Bob" || aws.ToString(out.FederatedUser.FederatedUserId) != "123456789012:Bob" {
			t.Fatalf("federated user %+v", out.FederatedUser)
		}
		if out.PackedPolicySize == nil || *out.PackedPolicySize < 1 || *out.PackedPolicySize > 100 {
			t.Fatalf("PackedPolicySize = %v", out.PackedPolicySize)
		}
		if !near(out.Credentials.Expiration, time.Now().Add(12*time.Hour)) {
			t.Fatalf("default expiration %v, want 12 h", out.Credentials.Expiration)
		}
		fed := e.with(out.Credentials)
		_, err = fed.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("s1")})
		wantAPIError(t, err, "AccessDenied", 403,
			"User: arn:aws:sts::123456789012:federated-user/Bob is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Dev")
		_, err = fed.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("again")})
		wantAPIError(t, err, "AccessDenied", 403, "Cannot call GetFederationToken with session credentials")
		_, err = fed.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(DemoAccessKeyID)})
		wantAPIError(t, err, "AccessDenied", 403, "is not authorized to perform: sts:GetAccessKeyInfo")
	})
	for _, tt := range []struct {
		name   string
		client *sts.Client
		in     sts.GetFederationTokenInput
		code   string
		status int
		msg    string
	}{
		{"name too short", e.alice(), sts.GetFederationTokenInput{Name: aws.String("B")}, "ValidationError", 400,
			"Value 'B' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 2"},
		{"name too long", e.alice(), sts.GetFederationTokenInput{Name: aws.String(strings.Repeat("n", 33))}, "ValidationError", 400,
			"Member must have length less than or equal to 32"},
		{"duration too long", e.alice(), sts.GetFederationTokenInput{Name: aws.String("Bob"), DurationSeconds: aws.Int32(129601)}, "ValidationError", 400, ""},
		{"role credentials refused", e.with(dev.Credentials), sts.GetFederationTokenInput{Name: aws.String("Bob")}, "AccessDenied", 403,
			"Cannot call GetFederationToken with session credentials"},
		{"policy is not JSON", e.alice(), sts.GetFederationTokenInput{Name: aws.String("Bob"), Policy: aws.String("{not json")}, "MalformedPolicyDocument", 400, ""},
		{"policy too long", e.alice(), sts.GetFederationTokenInput{Name: aws.String("Bob"), Policy: aws.String(strings.Repeat(" ", 2049))}, "ValidationError", 400,
			"Member must have length less than or equal to 2048"},
		{"too many policy ARNs", e.alice(), sts.GetFederationTokenInput{Name: aws.String("Bob"), PolicyArns: policyArns(11)}, "ValidationError", 400,
			"at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to 10"},
		{"packed policy too large", e.alice(), sts.GetFederationTokenInput{Name: aws.String("Bob"), Tags: bigTags(50)}, "PackedPolicyTooLarge", 400, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.GetFederationToken(ctx, &tt.in)
			wantAPIError(t, err, tt.code, tt.status, tt.msg)
		})
	}
}

func policyArns(n int) []types.PolicyDescriptorType {
	var out []types.PolicyDescriptorType
	for i := 0; i < n; i++ {
		out = append(out, types.PolicyDescriptorType{Arn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess" + strings.Repeat("x", i))})
	}
	return out
}

// bigTags are n maximal tags of incompressible text, which cannot fit in a session token.
func bigTags(n int) []types.Tag {
	var out []types.Tag
	for i := 0; i < n; i++ {
		k := newSecret() + newSecret() + newSecret()
		v := strings.NewReplacer("+", "", "/", "").Replace(newSecret() + newSecret() + newSecret() + newSecret() + newSecret() + newSecret())
		out = append(out, types.Tag{Key: aws.String(strings.NewReplacer("+", "", "/", "").Replace(k)), Value: aws.String(v)})
	}
	return out
}

func TestAssumeRole(t *testing.T) {
	e := sharedEnv(t)
	devCreds := e.assume(e.alice(), &sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("dev")}).Credentials
	dev := e.with(devCreds)
	mfaSession, err := e.alice().GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(DemoMFASerial), TokenCode: aws.String(DemoMFACode)})
	if err != nil {
		t.Fatal(err)
	}
	plainSession, err := e.alice().GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	in := func(name string, mod ...func(*sts.AssumeRoleInput)) sts.AssumeRoleInput {
		x := sts.AssumeRoleInput{RoleArn: aws.String(role(name)), RoleSessionName: aws.String("session-1")}
		for _, m := range mod {
			m(&x)
		}
		return x
	}
	dur := func(n int32) func(*sts.AssumeRoleInput) {
		return func(x *sts.AssumeRoleInput) { x.DurationSeconds = aws.Int32(n) }
	}
	ext := func(s string) func(*sts.AssumeRoleInput) {
		return func(x *sts.AssumeRoleInput) { x.ExternalId = aws.String(s) }
	}
	mfa := func(code string) func(*sts.AssumeRoleInput) {
		return func(x *sts.AssumeRoleInput) {
			x.SerialNumber, x.TokenCode = aws.String(DemoMFASerial), aws.String(code)
		}
	}
	tags := func(kv ...string) func(*sts.AssumeRoleInput) {
		return func(x *sts.AssumeRoleInput) {
			for i := 0; i+1 < len(kv); i += 2 {
				x.Tags = append(x.Tags, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
			}
		}
	}
	tests := []struct {
		name   string
		client *sts.Client
		in     sts.AssumeRoleInput
		expiry time.Duration // checked on success
		code   string
		status int
		msg    string
	}{
		{name: "default one hour", client: e.alice(), in: in("Dev"), expiry: time.Hour},
		{name: "shortest", client: e.alice(), in: in("Dev", dur(900)), expiry: 900 * time.Second},
		{name: "below 900", client: e.alice(), in: in("Dev", dur(899)), code: "ValidationError", status: 400, msg: "Member must have value greater than or equal to 900"},
		{name: "above 43200", client: e.alice(), in: in("Dev", dur(43201)), code: "ValidationError", status: 400, msg: "Member must have value less than or equal to 43200"},
		{name: "above the role's maximum", client: e.alice(), in: in("Dev", dur(7200)), code: "ValidationError", status: 400, msg: msgRoleMax},
		{name: "up to a longer role maximum", client: e.alice(), in: in("Admin", dur(43200), mfa(DemoMFACode)), expiry: 12 * time.Hour},
		{name: "chained within an hour", client: dev, in: in("Ops", dur(3600)), expiry: time.Hour},
		{name: "chained over an hour", client: dev, in: in("Ops", dur(3601)), code: "ValidationError", status: 400, msg: msgChained},
		{name: "role trusting only Dev refuses alice", client: e.alice(), in: in("Ops"), code: "AccessDenied", status: 403,
			msg: "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Ops"},
		{name: "untrusted principal", client: e.bob(), in: in("Locked"), code: "AccessDenied", status: 403,
			msg: "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Locked"},
		{name: "no such role", client: e.alice(), in: in("Nope"), code: "AccessDenied", status: 403, msg: "on resource: arn:aws:iam::123456789012:role/Nope"},
		{name: "external id right", client: e.bob(), in: in("Partner", ext(DemoExternalID)), expiry: time.Hour},
		{name: "external id wrong", client: e.bob(), in: in("Partner", ext("partner-ext-2")), code: "AccessDenied", status: 403, msg: "role/Partner"},
		{name: "external id missing", client: e.bob(), in: in("Partner"), code: "AccessDenied", status: 403, msg: "role/Partner"},
		{name: "external id too short", client: e.bob(), in: in("Partner", ext("x")), code: "ValidationError", status: 400, msg: "at 'externalId'"},
		{name: "MFA condition without MFA", client: e.alice(), in: in("Admin"), code: "AccessDenied", status: 403, msg: "role/Admin"},
		{name: "MFA condition with the right code", client: e.alice(), in: in("Admin", mfa(DemoMFACode)), expiry: time.Hour},
		{name: "MFA condition with a wrong code", client: e.alice(), in: in("Admin", mfa("000000")), code: "AccessDenied", status: 403,
			msg: "MultiFactorAuthentication failed with invalid MFA one time pass code."},
		{name: "MFA condition via an MFA session", client: e.with(mfaSession.Credentials), in: in("Admin"), expiry: time.Hour},
		{name: "MFA condition via a session without MFA", client: e.with(plainSession.Credentials), in: in("Admin"), code: "AccessDenied", status: 403, msg: "role/Admin"},
		{name: "MFA condition is only for alice", client: e.bob(), in: in("Admin"), code: "AccessDenied", status: 403, msg: "user/bob"},
		{name: "session name too short", client: e.alice(), in: sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("x")},
			code: "ValidationError", status: 400,
			msg: "1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2"},
		{name: "session name bad characters", client: e.alice(), in: sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("a b")},
			code: "ValidationError", status: 400, msg: `Member must satisfy regular expression pattern: [\w+=,.@-]*`},
		{name: "two violations reported together", client: e.alice(), in: sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("x"), DurationSeconds: aws.Int32(1)},
			code: "ValidationError", status: 400, msg: "2 validation errors detected: "},
		{name: "session tags", client: e.alice(), in: in("Dev", tags("project", "demo", "cost", "1")), expiry: time.Hour},
		{name: "tags need sts:TagSession in the trust policy", client: e.bob(), in: in("Partner", ext(DemoExternalID), tags("project", "demo")),
			code: "AccessDenied", status: 403, msg: "role/Partner"},
		{name: "duplicate tag keys ignoring case", client: e.alice(), in: in("Dev", tags("Project", "a", "project", "b")), code: "InvalidParameterValue", status: 400,
			msg: "Tag keys are case insensitive"},
		{name: "transitive key not among the tags", client: e.alice(), in: in("Dev", tags("project", "a"), func(x *sts.AssumeRoleInput) { x.TransitiveTagKeys = []string{"other"} }),
			code: "InvalidParameterValue", status: 400, msg: "transitive tag key"},
		{name: "too many tags", client: e.alice(), in: in("Dev", func(x *sts.AssumeRoleInput) { x.Tags = bigTags(51) }), code: "ValidationError", status: 400,
			msg: "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"},
		{name: "packed policy too large", client: e.alice(), in: in("Dev", func(x *sts.AssumeRoleInput) { x.Tags = bigTags(40) }), code: "PackedPolicyTooLarge", status: 400},
		{name: "session policy is not JSON", client: e.alice(), in: in("Dev", func(x *sts.AssumeRoleInput) { x.Policy = aws.String(`{"Statement": [`) }),
			code: "MalformedPolicyDocument", status: 400, msg: "Syntax errors in policy."},
		{name: "too many policy ARNs", client: e.alice(), in: in("Dev", func(x *sts.AssumeRoleInput) { x.PolicyArns = policyArns(11) }), code: "ValidationError", status: 400,
			msg: "Member must have length less than or equal to 10"},
		{name: "ten policy ARNs", client: e.alice(), in: in("Dev", func(x *sts.AssumeRoleInput) { x.PolicyArns = policyArns(10) }), expiry: time.Hour},
		{name: "minimum session token size", client: e.alice(), in: in("Dev", func(x *sts.AssumeRoleInput) { x.MinimumSessionTokenSize = aws.Int32(4096) }), expiry: time.Hour},
		{name: "minimum session token size too large", client: e.alice(), in: in("Dev", func(x *sts.AssumeRoleInput) { x.MinimumSessionTokenSize = aws.Int32(4097) }),
			code: "ValidationError", status: 400, msg: "minimumSessionTokenSize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			out, err := tt.client.AssumeRole(ctx, &tt.in)
			if tt.code != "" {
				wantAPIError(t, err, tt.code, tt.status, tt.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			roleName := aws.ToString(tt.in.RoleArn)[strings.LastIndex(aws.ToString(tt.in.RoleArn), "/")+1:]
			wantArn := "arn:aws:sts::123456789012:assumed-role/" + roleName + "/session-1"
			if aws.ToString(out.AssumedRoleUser.Arn) != wantArn ||
				aws.ToString(out.AssumedRoleUser.AssumedRoleId) != stableID(prefixRole, DemoAccount, roleName)+":session-1" {
				t.Fatalf("assumed role user %s %s", aws.ToString(out.AssumedRoleUser.Arn), aws.ToString(out.AssumedRoleUser.AssumedRoleId))
			}
			if !near(out.Credentials.Expiration, start.Add(tt.expiry)) {
				t.Fatalf("expiration %v, want %v", out.Credentials.Expiration, start.Add(tt.expiry))
			}
			if aws.ToInt32(out.SessionTokenSize) != int32(len(aws.ToString(out.Credentials.SessionToken))) {
				t.Fatalf("SessionTokenSize %d for a %d-character token", aws.ToInt32(out.SessionTokenSize), len(aws.ToString(out.Credentials.SessionToken)))
			}
			if n := aws.ToInt32(tt.in.MinimumSessionTokenSize); len(aws.ToString(out.Credentials.SessionToken)) < int(n) {
				t.Fatalf("session token %d characters, want at least %d", len(aws.ToString(out.Credentials.SessionToken)), n)
			}
			if (len(tt.in.Tags) > 0 || len(tt.in.PolicyArns) > 0) != (out.PackedPolicySize != nil) {
				t.Fatalf("PackedPolicySize = %v with tags %d, policy ARNs %d", out.PackedPolicySize, len(tt.in.Tags), len(tt.in.PolicyArns))
			}
			if got := aws.ToString(whoami(t, e.with(out.Credentials)).Arn); got != wantArn {
				t.Fatalf("issued credentials sign as %s, want %s", got, wantArn)
			}
		})
	}
}

func TestRoleChaining(t *testing.T) {
	e := sharedEnv(t)
	first := e.assume(e.alice(), &sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("first"),
		SourceIdentity:    aws.String("alice-src"),
		Tags:              []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}, {Key: aws.String("tmp"), Value: aws.String("x")}},
		TransitiveTagKeys: []string{"team"}})
	if aws.ToString(first.SourceIdentity) != "alice-src" {
		t.Fatalf("SourceIdentity = %q", aws.ToString(first.SourceIdentity))
	}
	second := e.assume(e.with(first.Credentials), &sts.AssumeRoleInput{RoleArn: aws.String(role("Ops")), RoleSessionName: aws.String("second")})
	t.Run("second hop signs as the second role", func(t *testing.T) {
		if got := aws.ToString(whoami(t, e.with(second.Credentials)).Arn); got != "arn:aws:sts::123456789012:assumed-role/Ops/second" {
			t.Fatal(got)
		}
	})
	t.Run("source identity follows the chain", func(t *testing.T) {
		if aws.ToString(second.SourceIdentity) != "alice-src" {
			t.Fatalf("SourceIdentity = %q", aws.ToString(second.SourceIdentity))
		}
		_, err := e.with(first.Credentials).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role("Ops")), RoleSessionName: aws.String("x2"),
			SourceIdentity: aws.String("someone-else")})
		wantAPIError(t, err, "AccessDenied", 403, "cannot be changed")
	})
	t.Run("transitive tags follow the chain, others do not", func(t *testing.T) {
		key := aws.ToString(second.Credentials.AccessKeyId)
		cr := e.srv.lookupKey(key)
		if cr.p.tags["team"].Value != "blue" || !cr.p.transitive["team"] {
			t.Fatalf("transitive tag lost: %+v", cr.p.tags)
		}
		if _, ok := cr.p.tags["tmp"]; ok {
			t.Fatalf("non-transitive tag followed the chain: %+v", cr.p.tags)
		}
		if second.PackedPolicySize == nil {
			t.Fatal("inherited session tags count toward PackedPolicySize")
		}
	})
	t.Run("source identity reaches AssumeRoot", func(t *testing.T) {
		out, err := e.with(second.Credentials).AssumeRoot(ctx, &sts.AssumeRootInput{TargetPrincipal: aws.String(MemberAccount),
			TaskPolicyArn: &types.PolicyDescriptorType{Arn: aws.String(rootTaskPolicies[1])}})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.SourceIdentity) != "alice-src" {
			t.Fatalf("SourceIdentity = %q", aws.ToString(out.SourceIdentity))
		}
	})
	t.Run("MFA given to AssumeRole marks the session", func(t *testing.T) {
		out := e.assume(e.alice(), &sts.AssumeRoleInput{RoleArn: aws.String(role("Admin")), RoleSessionName: aws.String("m1"),
			SerialNumber: aws.String(DemoMFASerial), TokenCode: aws.String(DemoMFACode)})
		if cr := e.srv.lookupKey(aws.ToString(out.Credentials.AccessKeyId)); !cr.mfa {
			t.Fatal("the session forgot its MFA")
		}
		plain := e.assume(e.alice(), &sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("m2")})
		if cr := e.srv.lookupKey(aws.ToString(plain.Credentials.AccessKeyId)); cr.mfa {
			t.Fatal("a session without MFA claims MFA")
		}
	})
	t.Run("a third hop", func(t *testing.T) {
		third := e.assume(e.with(second.Credentials), &sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("third")})
		if got := aws.ToString(whoami(t, e.with(third.Credentials)).Arn); got != "arn:aws:sts::123456789012:assumed-role/Dev/third" {
			t.Fatal(got)
		}
	})
	t.Run("session-token credentials may assume roles without the chain cap", func(t *testing.T) {
		st, err := e.alice().GetSessionToken(ctx, &sts.GetSessionTokenInput{})
		if err != nil {
			t.Fatal(err)
		}
		out := e.assume(e.with(st.Credentials), &sts.AssumeRoleInput{RoleArn: aws.String(role("Admin")), RoleSessionName: aws.String("x1"),
			SerialNumber: aws.String(DemoMFASerial), TokenCode: aws.String(DemoMFACode), DurationSeconds: aws.Int32(7200)})
		if !near(out.Credentials.Expiration, time.Now().Add(2*time.Hour)) {
			t.Fatalf("expiration %v", out.Credentials.Expiration)
		}
	})
}

func TestAssumeRoot(t *testing.T) {
	e := sharedEnv(t)
	task := func(arn string) *types.PolicyDescriptorType { return &types.PolicyDescriptorType{Arn: aws.String(arn)} }
	for _, tt := range []struct {
		name   string
		client *sts.Client
		in     sts.AssumeRootInput
		code   string
		status int
		msg    string
	}{
		{name: "member account id", client: e.alice(), in: sts.AssumeRootInput{TargetPrincipal: aws.String(MemberAccount), TaskPolicyArn: task(rootTaskPolicies[0])}},
		{name: "member root ARN", client: e.alice(), in: sts.AssumeRootInput{TargetPrincipal: aws.String("arn:aws:iam::111122223333:root"), TaskPolicyArn: task(rootTaskPolicies[4]), DurationSeconds: aws.Int32(300)}},
		{name: "caller outside the management account", client: e.carol(), in: sts.AssumeRootInput{TargetPrincipal: aws.String(MemberAccount), TaskPolicyArn: task(rootTaskPolicies[0])},
			code: "AccessDenied", status: 403, msg: "User: arn:aws:iam::111122223333:user/carol is not authorized to perform: sts:AssumeRoot on resource: arn:aws:iam::111122223333:root"},
		{name: "target not a member", client: e.alice(), in: sts.AssumeRootInput{TargetPrincipal: aws.String("999988887777"), TaskPolicyArn: task(rootTaskPolicies[0])},
			code: "AccessDenied", status: 403, msg: "sts:AssumeRoot"},
		{name: "not a root task policy", client: e.alice(), in: sts.AssumeRootInput{TargetPrincipal: aws.String(MemberAccount), TaskPolicyArn: task("arn:aws:iam::aws:policy/AdministratorAccess")},
			code: "ValidationError", status: 400, msg: "root task policy"},
		{name: "duration over 900", client: e.alice(), in: sts.AssumeRootInput{TargetPrincipal: aws.String(MemberAccount), TaskPolicyArn: task(rootTaskPolicies[0]), DurationSeconds: aws.Int32(901)},
			code: "ValidationError", status: 400, msg: "Member must have value less than or equal to 900"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.client.AssumeRoot(ctx, &tt.in)
			if tt.code != "" {
				wantAPIError(t, err, tt.code, tt.status, tt.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := time.Duration(aws.ToInt32(tt.in.DurationSeconds)) * time.Second
			if want == 0 {
				want = 900 * time.Second
			}
			if !near(out.Credentials.Expiration, time.Now().Add(want)) {
				t.Fatalf("expiration %v, want %v from now", out.Credentials.Expiration, want)
			}
			rootClient := e.with(out.Credentials)
			if got := aws.ToString(whoami(t, rootClient).Arn); got != "arn:aws:iam::111122223333:root" {
				t.Fatalf("root task credentials sign as %s", got)
			}
			if acct, _ := keyid.AccountOffline(aws.ToString(out.Credentials.AccessKeyId)); acct != MemberAccount {
				t.Fatalf("key decodes to %s", acct)
			}
			_, err = rootClient.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("r1")})
			wantAPIError(t, err, "AccessDenied", 403, "")
		})
	}
}

func TestGetDelegatedAccessToken(t *testing.T) {
	e := newEnv(t, nil)
	token := aws.String("localsts-demo-trade-in-1")
	out, err := e.bob().GetDelegatedAccessToken(ctx, &sts.GetDelegatedAccessTokenInput{TradeInToken: token})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("credentials act as the principal", func(t *testing.T) {
		p := aws.ToString(out.AssumedPrincipal)
		if !strings.HasPrefix(p, "arn:aws:sts::123456789012:assumed-role/Dev/delegated-") {
			t.Fatalf("AssumedPrincipal = %s", p)
		}
		if got := aws.ToString(whoami(t, e.with(out.Credentials)).Arn); got != p {
			t.Fatalf("signs as %s, want %s", got, p)
		}
		if !near(out.Credentials.Expiration, time.Now().Add(900*time.Second)) {
			t.Fatalf("expiration %v", out.Credentials.Expiration)
		}
	})
	t.Run("single use", func(t *testing.T) {
		_, err := e.alice().GetDelegatedAccessToken(ctx, &sts.GetDelegatedAccessTokenInput{TradeInToken: token})
		wantAPIError(t, err, "ExpiredTradeInTokenException", 400, "")
	})
	t.Run("unknown token", func(t *testing.T) {
		_, err := e.alice().GetDelegatedAccessToken(ctx, &sts.GetDelegatedAccessTokenInput{TradeInToken: aws.String("no-such-token")})
		wantAPIError(t, err, "InvalidParameterValue", 400, "")
	})
}

func TestExpiredCredentials(t *testing.T) {
	e := newEnv(t, nil)
	out := e.assume(e.alice(), &sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(900)})
	c := e.with(out.Credentials)
	whoami(t, c)
	e.clock.Advance(901 * time.Second)
	_, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	// STS answers ExpiredToken with HTTP 403 (see aws/aws-sdk-java-v2#1649).
	wantAPIError(t, err, "ExpiredToken", 403, "The security token included in the request is expired")
	t.Run("long-term keys do not expire", func(t *testing.T) { whoami(t, e.alice()) })
	t.Run("forgotten a day later", func(t *testing.T) {
		e.clock.Advance(issuedKeyGrace + 2*time.Hour)
		// Issuing prunes long-expired keys; the old key is then unknown, as at AWS.
		e.assume(e.alice(), &sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("s2")})
		_, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		wantAPIError(t, err, "InvalidClientTokenId", 403, "")
	})
}

func TestMFAAge(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Roles = append(cfg.Roles, Role{Account: DemoAccount, Name: "Recent", Trust: trust(
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"sts:AssumeRole",` +
			`"Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"},"Bool":{"aws:MultiFactorAuthPresent":"true"}}}`)})
	e := newEnv(t, cfg)
	st, err := e.alice().GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(DemoMFASerial), TokenCode: aws.String(DemoMFACode)})
	if err != nil {
		t.Fatal(err)
	}
	in := &sts.AssumeRoleInput{RoleArn: aws.String(role("Recent")), RoleSessionName: aws.String("r1")}
	for _, tt := range []struct {
		name    string
		advance time.Duration
		ok      bool
	}{
		{"MFA a moment ago", 0, true},
		{"MFA two hours ago", 2 * time.Hour, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Advance(tt.advance)
			_, err := e.with(st.Credentials).AssumeRole(ctx, in)
			if tt.ok && err != nil {
				t.Fatal(err)
			}
			if !tt.ok {
				wantAPIError(t, err, "AccessDenied", 403, "role/Recent")
			}
		})
	}
}

func TestRegionDisabled(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Accounts[0].DisabledRegions = []string{"eu-west-3"}
	e := newEnv(t, cfg)
	c := sts.New(sts.Options{Region: "eu-west-3", BaseEndpoint: aws.String(e.url), RetryMaxAttempts: 1,
		Credentials: e.alice().Options().Credentials})
	_, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "RegionDisabledException", 403, "STS is not activated in this region for account:123456789012")
	t.Run("other regions still work", func(t *testing.T) { whoami(t, e.alice()) })
	t.Run("other accounts still work", func(t *testing.T) {
		c := sts.New(sts.Options{Region: "eu-west-3", BaseEndpoint: aws.String(e.url), RetryMaxAttempts: 1, Credentials: e.carol().Options().Credentials})
		whoami(t, c)
	})
}
