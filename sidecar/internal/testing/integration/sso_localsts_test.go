package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	oidctypes "github.com/aws/aws-sdk-go-v2/service/ssooidc/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"awsflow-sts/sidecar/internal/localsts"
)

// TestLocalSTSIdentityCenter starts `awsflow-sts localsts` as a process and signs in to its IAM
// Identity Center with the SDK's own OIDC and portal clients, pointed where its first line says,
// approving the user code through the route it announces; the issued token then gets a role
// session whose identity STS confirms. The process's debug log must carry none of the secrets.
func TestLocalSTSIdentityCenter(t *testing.T) {
	info, line, stderr := startLocalSTSProcess(t, "--log-level", "debug")
	for _, k := range []string{"ssoStartUrl", "ssoRegion", "ssoOidcEndpoint", "ssoPortalEndpoint", "ssoApproveUrl", "ssoUser", "ssoAccountId", "ssoRoleName"} {
		if info[k] == "" {
			t.Fatalf("first line lacks %s: %s", k, line)
		}
	}
	if info["ssoOidcEndpoint"] != info["endpoint"] || info["ssoApproveUrl"] != info["endpoint"]+localsts.SSOApprovePath {
		t.Fatalf("the Identity Center endpoints are not the server's: %s", line)
	}

	ctx := context.Background()
	oidc := ssooidc.New(ssooidc.Options{Region: info["ssoRegion"], BaseEndpoint: aws.String(info["ssoOidcEndpoint"]), RetryMaxAttempts: 1})
	portal := sso.New(sso.Options{Region: info["ssoRegion"], BaseEndpoint: aws.String(info["ssoPortalEndpoint"]), RetryMaxAttempts: 1})
	reg, err := oidc.RegisterClient(ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("integration"),
		ClientType: aws.String("public"), Scopes: []string{localsts.ScopeAccountAccess}})
	if err != nil {
		t.Fatalf("RegisterClient: %v", err)
	}
	dev, err := oidc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{ClientId: reg.ClientId,
		ClientSecret: reg.ClientSecret, StartUrl: aws.String(info["ssoStartUrl"])})
	if err != nil {
		t.Fatalf("StartDeviceAuthorization: %v", err)
	}
	poll := func() (*ssooidc.CreateTokenOutput, error) {
		return oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
			GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"), DeviceCode: dev.DeviceCode})
	}
	var pending *oidctypes.AuthorizationPendingException
	if _, err := poll(); !errors.As(err, &pending) {
		t.Fatalf("first poll: %v, want AuthorizationPendingException", err)
	}
	body, _ := json.Marshal(localsts.SSOApproveRequest{UserCode: aws.ToString(dev.UserCode), User: info["ssoUser"]})
	resp, err := http.Post(info["ssoApproveUrl"], "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("approve: HTTP %d", resp.StatusCode)
	}
	tok, err := poll()
	if err != nil {
		t.Fatalf("CreateToken after approval: %v", err)
	}
	accts, err := portal.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken})
	if err != nil || len(accts.AccountList) == 0 {
		t.Fatalf("ListAccounts: %v, %v", accts, err)
	}
	rc, err := portal.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: tok.AccessToken,
		AccountId: aws.String(info["ssoAccountId"]), RoleName: aws.String(info["ssoRoleName"])})
	if err != nil {
		t.Fatalf("GetRoleCredentials: %v", err)
	}
	c := rc.RoleCredentials
	who, err := sts.New(sts.Options{Region: info["region"], BaseEndpoint: aws.String(info["endpoint"]), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)),
	}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if arn := aws.ToString(who.Arn); !strings.HasPrefix(arn, "arn:aws:sts::"+info["ssoAccountId"]+":assumed-role/AWSReservedSSO_"+info["ssoRoleName"]+"_") ||
		!strings.HasSuffix(arn, "/"+info["ssoUser"]) {
		t.Fatalf("GetCallerIdentity = %s", arn)
	}
	if _, err := portal.Logout(ctx, &sso.LogoutInput{AccessToken: tok.AccessToken}); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	var invalid *oidctypes.InvalidGrantException
	if _, err := oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
		GrantType: aws.String("refresh_token"), RefreshToken: tok.RefreshToken}); !errors.As(err, &invalid) {
		t.Fatalf("refresh after Logout: %v, want InvalidGrantException", err)
	}

	log := stderr.String()
	if !strings.Contains(log, `"action":"CreateToken"`) {
		t.Fatalf("the log has no CreateToken line:\n%s", log)
	}
	for name, secret := range map[string]string{"client secret": aws.ToString(reg.ClientSecret), "device code": aws.ToString(dev.DeviceCode),
		"access token": aws.ToString(tok.AccessToken), "refresh token": aws.ToString(tok.RefreshToken),
		"secret access key": aws.ToString(c.SecretAccessKey), "session token": aws.ToString(c.SessionToken)} {
		if secret == "" || strings.Contains(log, secret) {
			t.Errorf("the %s is empty or in the log", name)
		}
	}
}
