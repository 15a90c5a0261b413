package sso

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"go.uber.org/zap"

	"awsflow-sts/sidecar/internal/protocol"
)

// Bounds on the portal's lists: beyond them the lists are cut, and say so.
const (
	// MaxAccounts is the most accounts sso/accounts lists.
	MaxAccounts = 1000
	// MaxRoles is the most roles it lists for one account.
	MaxRoles = 200
	// pageSize is what each page asks for.
	pageSize = 100
	// maxPages bounds the pages read of one list, however few entries they hold.
	maxPages = 50
	// rolesAtOnce bounds the ListAccountRoles calls running at once.
	rolesAtOnce = 4
)

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	roleRE    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
)

// portal is a portal client for the sign-in's Region.
func (m *Manager) portal(ctx context.Context, t target) (Portal, error) {
	awsCfg, err := m.cfg.AWSConfig(ctx, t.region)
	if err != nil {
		return nil, &Error{Code: protocol.CodeCredentialsUnavailable, SSOSession: t.name, Message: "The AWS configuration could not be loaded: " + err.Error(),
			Hint: "Fix the awsflowSts.profile setting or the shared config file."}
	}
	return m.cfg.NewPortal(awsCfg), nil
}

// portalError explains a failed portal call; an UnauthorizedException means the token was
// revoked (signed out elsewhere, or the session ended), which is reported once.
func (m *Manager) portalError(t target, token, what string, err error) error {
	if apiCode(err) == "UnauthorizedException" {
		m.lapse(t.name, "signedOut", fingerprint(token), fmt.Sprintf(
			"Your IAM Identity Center sign-in (%s) is no longer accepted by the portal (it was signed out or ended). Sign in again.", t.name))
		return signInRequired(t.name, "the portal no longer accepts its token (signed out or ended)")
	}
	return serviceError(t.name, what, err)
}

// Accounts lists the accounts and roles the signed-in user may use: every page of ListAccounts
// and of ListAccountRoles for each account, up to MaxAccounts and MaxRoles (truncated says so).
func (m *Manager) Accounts(ctx context.Context, name string) (list *protocol.SsoAccountList, truncated bool, err error) {
	t, err := m.resolve(name)
	if err != nil {
		return nil, false, err
	}
	tok, err := m.fresh(ctx, t)
	if err != nil {
		return nil, false, err
	}
	client, err := m.portal(ctx, t)
	if err != nil {
		return nil, false, err
	}
	token := tok.AccessToken
	accounts, truncated, err := m.listAccounts(ctx, client, t, token)
	if err != nil {
		return nil, false, err
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		slots    = make(chan struct{}, rolesAtOnce)
	)
	for i := range accounts {
		wg.Go(func() {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-slots }()
			roles, cut, err := m.listRoles(ctx, client, t, token, accounts[i].AccountID)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			accounts[i].Roles = roles
			truncated = truncated || cut
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, false, firstErr
	}
	if ctx.Err() != nil {
		return nil, false, cancelled(t.name)
	}
	return &protocol.SsoAccountList{SsoSession: t.name, Accounts: accounts}, truncated, nil
}

func (m *Manager) listAccounts(ctx context.Context, client Portal, t target, token string) ([]protocol.SsoAccount, bool, error) {
	out := []protocol.SsoAccount{}
	pages := sso.NewListAccountsPaginator(client, &sso.ListAccountsInput{AccessToken: aws.String(token), MaxResults: aws.Int32(pageSize)},
		func(o *sso.ListAccountsPaginatorOptions) { o.StopOnDuplicateToken = true })
	for n := 0; pages.HasMorePages(); n++ {
		if n == maxPages {
			return out, true, nil
		}
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, false, m.portalError(t, token, "Listing the accounts (ListAccounts)", err)
		}
		for _, a := range page.AccountList {
			id := aws.ToString(a.AccountId)
			if !accountRE.MatchString(id) {
				continue // not an account id: nothing the user could pick
			}
			if len(out) == MaxAccounts {
				return out, true, nil
			}
			out = append(out, protocol.SsoAccount{AccountID: id, AccountName: clipText(aws.ToString(a.AccountName)),
				EmailAddress: clipText(aws.ToString(a.EmailAddress)), Roles: []string{}})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].AccountName < out[j].AccountName })
	return out, false, nil
}

func (m *Manager) listRoles(ctx context.Context, client Portal, t target, token, account string) ([]string, bool, error) {
	roles := []string{}
	pages := sso.NewListAccountRolesPaginator(client, &sso.ListAccountRolesInput{AccessToken: aws.String(token), AccountId: aws.String(account), MaxResults: aws.Int32(pageSize)},
		func(o *sso.ListAccountRolesPaginatorOptions) { o.StopOnDuplicateToken = true })
	for n := 0; pages.HasMorePages(); n++ {
		if n == maxPages {
			return roles, true, nil
		}
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, false, m.portalError(t, token, "Listing the roles of account "+account+" (ListAccountRoles)", err)
		}
		for _, r := range page.RoleList {
			name := aws.ToString(r.RoleName)
			if !roleRE.MatchString(name) {
				continue
			}
			if len(roles) == MaxRoles {
				return roles, true, nil
			}
			roles = append(roles, name)
		}
	}
	sort.Strings(roles)
	return roles, false, nil
}

// clipText bounds a name the portal sends to 256 bytes of valid text.
func clipText(s string) string {
	if len(s) <= 256 {
		return s
	}
	s = s[:256]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// RoleCredentials are what GetRoleCredentials answered.
type RoleCredentials struct {
	Credentials aws.Credentials
	// Region is the sign-in's Region.
	Region string
}

// CheckRole refuses an account id or role name that cannot be one.
func CheckRole(account, role string) error {
	if !accountRE.MatchString(account) {
		return invalid("accountId must be 12 digits")
	}
	if !roleRE.MatchString(role) {
		return invalid("roleName must be 1 to 64 of [A-Za-z0-9_+=,.@-] (a permission set name)")
	}
	return nil
}

// RoleCredentials gets credentials for a role of an account from the sign-in (GetRoleCredentials),
// with a token refreshed first when due; it asks no one, so a session's refresh can call it.
func (m *Manager) RoleCredentials(ctx context.Context, name, account, role string) (*RoleCredentials, error) {
	if err := CheckRole(account, role); err != nil {
		return nil, err
	}
	t, err := m.resolve(name)
	if err != nil {
		return nil, err
	}
	tok, err := m.fresh(ctx, t)
	if err != nil {
		return nil, err
	}
	client, err := m.portal(ctx, t)
	if err != nil {
		return nil, err
	}
	out, err := client.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: aws.String(tok.AccessToken), AccountId: aws.String(account), RoleName: aws.String(role)})
	if err != nil {
		return nil, m.portalError(t, tok.AccessToken, fmt.Sprintf("Getting credentials for %s in %s (GetRoleCredentials)", role, account), err)
	}
	rc := out.RoleCredentials
	if rc == nil || aws.ToString(rc.AccessKeyId) == "" || aws.ToString(rc.SecretAccessKey) == "" || aws.ToString(rc.SessionToken) == "" || rc.Expiration <= 0 {
		return nil, &Error{Code: protocol.CodeEndpointUnsupported, SSOSession: name, Message: "GetRoleCredentials answered without credentials.",
			Hint: "Check AWS_ENDPOINT_URL_SSO and the sso_region: the endpoint does not answer as the IAM Identity Center portal does."}
	}
	m.cfg.Secrets.Add(aws.ToString(rc.SecretAccessKey), aws.ToString(rc.SessionToken))
	exp := time.UnixMilli(rc.Expiration).UTC()
	return &RoleCredentials{Region: t.region, Credentials: aws.Credentials{
		AccessKeyID: aws.ToString(rc.AccessKeyId), SecretAccessKey: aws.ToString(rc.SecretAccessKey), SessionToken: aws.ToString(rc.SessionToken),
		CanExpire: true, Expires: exp, Source: "awsflow-sts sso", AccountID: account,
	}}, nil
}

// LogoutResult says what Logout did.
type LogoutResult struct {
	// CacheRemoved tells whether a token cache file was removed.
	CacheRemoved bool
	// PortalError says why the portal's Logout failed, if it did ("" when it worked or there was
	// no token to sign out).
	PortalError string
}

// Logout signs out: the portal's Logout (best effort: a failure is reported, and the sign-in is
// removed locally anyway), then the token cache file is removed; the client is told once.
func (m *Manager) Logout(ctx context.Context, name string) (*LogoutResult, error) {
	t, err := m.resolve(name)
	if err != nil {
		return nil, err
	}
	l := m.lock(t.name)
	l.Lock()
	defer l.Unlock()
	res := &LogoutResult{}
	tok, rerr := ReadToken(t.cachePath())
	if rerr == nil && tok.AccessToken != "" {
		m.cfg.Secrets.Add(tok.Secrets()...)
		client, err := m.portal(ctx, t)
		if err == nil {
			_, err = client.Logout(ctx, &sso.LogoutInput{AccessToken: aws.String(tok.AccessToken)})
		}
		if err != nil && apiCode(err) != "UnauthorizedException" { // already signed out there
			res.PortalError = m.cfg.Secrets.Scrub(serviceError(t.name, "Signing out on the portal (Logout)", err).Message)
		}
	}
	removed, err := removeCache(t.cachePath())
	if err != nil {
		return nil, &Error{Code: protocol.CodeInternalError, SSOSession: t.name, Message: "The token cache could not be removed: " + err.Error(),
			Hint: "Remove the file by hand, or try again."}
	}
	res.CacheRemoved = removed
	m.signedOut(t.name)
	m.cfg.Logger.Info("signed out", zap.String("sso_session", t.name), zap.Bool("cache_removed", removed), zap.Bool("portal_failed", res.PortalError != ""))
	m.changed(protocol.SsoChangedParams{SsoSession: t.name, State: "signedOut", Message: fmt.Sprintf("Signed out of IAM Identity Center (%s).", t.name)})
	return res, nil
}
