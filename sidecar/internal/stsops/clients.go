// Package stsops runs the AWS STS operations through aws-sdk-go-v2, one file per operation, and
// turns their answers into a Result the tool formats. It also builds the STS clients: the base
// identity from the SDK's default credential chain with the user's profile, a stored session's
// credentials, or none for the unsigned operations.
package stsops

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"awsflow-sts/sidecar/internal/protocol"
)

// DefaultRegion is used when neither the settings nor the profile name one.
const DefaultRegion = "us-east-1"

// DefaultMaxAttempts is the SDK's own default: one call and two retries.
const DefaultMaxAttempts = 3

// Identity says whose credentials sign a call.
type Identity struct {
	// Credentials, when set, sign the call (a stored session's); otherwise a profile's do.
	Credentials *aws.Credentials
	// Profile names the shared-config profile whose credentials sign when Credentials is nil;
	// "" is the base identity (the profile of the settings, else the default chain).
	Profile string
	// Anonymous calls are not signed at all.
	Anonymous bool
	// Unattended calls (refreshes) never ask for an MFA code: a role profile that needs one fails.
	Unattended bool
}

// TokenPrompt asks the user for the current code of an MFA device. The SDK calls it when a
// profile that assumes a role has mfa_serial.
type TokenPrompt func(ctx context.Context, serial, reason string) (string, error)

// promptTimeout bounds an MFA prompt the SDK asks for: its callback has no context to cancel.
const promptTimeout = 5 * time.Minute

// Clients makes and caches STS clients for the current settings. It is safe for concurrent use.
type Clients struct {
	mu       sync.Mutex
	settings protocol.Settings
	configs  map[configKey]loaded // by profile; "" is the base identity
	clients  map[clientKey]*sts.Client
	prompt   TokenPrompt
	// http sends every call of the current settings, bounded by their request timeout.
	http *awshttp.BuildableClient
	// prompting counts the MFA prompts open for the SDK: the request timeout waits for the user.
	prompting atomic.Int32
}

// configKey is a loaded configuration: a profile, attended or not (each has its own credentials
// cache, so an unattended refresh never reaches a prompt through the attended one).
type configKey struct {
	profile    string
	unattended bool
}

type loaded struct {
	cfg aws.Config
	err error
}

type clientKey struct {
	region     string
	keyID      string // "" for a profile's identity
	profile    string
	anon       bool
	unattended bool
}

// NewClients returns clients for the given settings; nothing is loaded until the first call.
func NewClients(settings protocol.Settings) *Clients {
	return &Clients{settings: settings, configs: map[configKey]loaded{}, clients: map[clientKey]*sts.Client{},
		http: newHTTPClient(requestTimeout(settings.RequestTimeoutSeconds))}
}

// SetPrompt installs how MFA codes are asked for when the SDK itself assumes a profile's role.
func (c *Clients) SetPrompt(p TokenPrompt) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prompt = p
}

// Update replaces the settings; later calls load the configuration again.
func (c *Clients) Update(settings protocol.Settings) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settings = settings
	c.configs = map[configKey]loaded{}
	c.clients = map[clientKey]*sts.Client{}
	c.http = newHTTPClient(requestTimeout(settings.RequestTimeoutSeconds))
}

// Settings returns the current settings.
func (c *Clients) Settings() protocol.Settings {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.settings
}

// Region is the Region a call goes to: the one asked for, else the settings', else the profile's.
func (c *Clients) Region(ctx context.Context, asked string) string {
	if asked != "" {
		return asked
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.settings.Region != "" {
		return c.settings.Region
	}
	if cfg, err := c.load(ctx, configKey{}); err == nil && cfg.Region != "" {
		return cfg.Region
	}
	return DefaultRegion
}

// Client returns an STS client for the identity in the region ("" for the default).
func (c *Clients) Client(ctx context.Context, id Identity, region string) (*sts.Client, error) {
	region = c.Region(ctx, region)
	key := clientKey{region: region, anon: id.Anonymous}
	switch {
	case id.Anonymous:
	case id.Credentials != nil:
		key.keyID = id.Credentials.AccessKeyID
	default:
		key.profile, key.unattended = id.Profile, id.Unattended
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.clients[key]; ok {
		return cl, nil
	}
	cfg, err := c.load(ctx, configKey{key.profile, key.unattended})
	switch {
	case err == nil:
		cfg = cfg.Copy()
	case id.Anonymous || id.Credentials != nil:
		// A broken profile must not stop calls that do not use it.
		cfg = aws.Config{}
	default:
		return nil, err
	}
	cfg.Region = region
	cfg.RetryMaxAttempts = c.maxAttempts()
	if cfg.HTTPClient == nil {
		// The profile did not load: the calls that need none still get the bounded client.
		cfg.HTTPClient = c.http
		cfg.APIOptions = configOptions(requestTimeout(c.settings.RequestTimeoutSeconds))
	}
	switch {
	case id.Anonymous:
		cfg.Credentials = aws.AnonymousCredentials{}
	case id.Credentials != nil:
		cr := *id.Credentials
		cfg.Credentials = credentials.NewStaticCredentialsProvider(cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken)
	}
	cl := sts.NewFromConfig(cfg, c.stsOptions())
	c.clients[key] = cl
	return cl, nil
}

// stsOptions applies the settings' endpoint, FIPS choice and bounds to an STS client; c.mu must be
// held.
func (c *Clients) stsOptions() func(*sts.Options) {
	endpoint, fips := c.settings.EndpointURL, c.settings.UseFipsEndpoint
	attempts, bounds := c.maxAttempts(), boundOptions(requestTimeout(c.settings.RequestTimeoutSeconds), &c.prompting)
	return func(o *sts.Options) {
		o.Retryer = newRetryer(attempts)
		o.APIOptions = append(o.APIOptions, bounds...)
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		if fips {
			o.EndpointOptions.UseFIPSEndpoint = aws.FIPSEndpointStateEnabled
		}
	}
}

// assumeRoleVia sends the SDK's own AssumeRole calls (role profiles) with the settings' options
// (and, for a role over a credential_process, the supervised process's credentials).
type assumeRoleVia struct {
	stscreds.AssumeRoleAPIClient
	opts []func(*sts.Options)
}

// AssumeRole calls STS with the settings' endpoint.
func (c assumeRoleVia) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	return c.AssumeRoleAPIClient.AssumeRole(ctx, in, append(optFns, c.opts...)...)
}

// webIdentityVia sends the SDK's own AssumeRoleWithWebIdentity calls with the settings' options.
type webIdentityVia struct {
	stscreds.AssumeRoleWithWebIdentityAPIClient
	opt func(*sts.Options)
}

// AssumeRoleWithWebIdentity calls STS with the settings' endpoint.
func (c webIdentityVia) AssumeRoleWithWebIdentity(ctx context.Context, in *sts.AssumeRoleWithWebIdentityInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	return c.AssumeRoleWithWebIdentityAPIClient.AssumeRoleWithWebIdentity(ctx, in, append(optFns, c.opt)...)
}

func (c *Clients) maxAttempts() int {
	if c.settings.MaxAttempts > 0 {
		return int(c.settings.MaxAttempts)
	}
	return DefaultMaxAttempts
}

// BaseCredentials retrieves the credentials a profile's identity signs with ("" for the base
// identity), so the caller can tell long-term user keys from temporary ones.
func (c *Clients) BaseCredentials(ctx context.Context, profile string) (aws.Credentials, error) {
	c.mu.Lock()
	cfg, err := c.load(ctx, configKey{profile: profile})
	seconds := c.settings.RequestTimeoutSeconds
	c.mu.Unlock()
	if err != nil {
		return aws.Credentials{}, err
	}
	if cfg.Credentials == nil {
		return aws.Credentials{}, &CredentialsError{Profile: profile, Err: fmt.Errorf("no credentials found")}
	}
	timeout := requestTimeout(seconds)
	bounded, expired, cancel := withDeadline(ctx, timeout, &c.prompting)
	defer cancel()
	cr, err := cfg.Credentials.Retrieve(bounded)
	switch {
	case err != nil && ctx.Err() == nil && expired():
		return aws.Credentials{}, &TimeoutError{Seconds: int64(timeout / time.Second), Credentials: true, Err: &CredentialsError{Profile: profile, Err: err}}
	case err != nil:
		return aws.Credentials{}, &CredentialsError{Profile: profile, Err: err}
	}
	return cr, nil
}

// load loads the shared config for a profile ("" for the settings' profile) once per settings;
// c.mu must be held.
func (c *Clients) load(ctx context.Context, key configKey) (aws.Config, error) {
	if l, ok := c.configs[key]; ok {
		return l.cfg, l.err
	}
	name := key.profile
	if name == "" {
		name = c.settings.Profile
	}
	var opts []func(*config.LoadOptions) error
	if name != "" {
		opts = append(opts, config.WithSharedConfigProfile(name))
	}
	if c.settings.Region != "" {
		opts = append(opts, config.WithRegion(c.settings.Region))
	}
	// A role profile makes the SDK call STS itself: it asks for MFA codes through the prompt, and
	// goes to the configured STS endpoint as every other call does.
	viaSettings := c.stsOptions()
	timeout := requestTimeout(c.settings.RequestTimeoutSeconds)
	process := &supervisedProcess{}
	prompt := c.prompt
	if key.unattended {
		prompt = func(context.Context, string, string) (string, error) {
			return "", errors.New("the profile needs an MFA code, and a refresh asks no one")
		}
	}
	opts = append(opts, config.WithAssumeRoleCredentialOptions(func(o *stscreds.AssumeRoleOptions) {
		via := []func(*sts.Options){viaSettings}
		if viaProcess := process.viaProcess(o.Client); viaProcess != nil {
			via = append(via, viaProcess)
		}
		o.Client = assumeRoleVia{o.Client, via}
		if prompt != nil {
			// The SDK's callback has no context; a refresh has its own configuration (key.unattended).
			o.TokenProvider = func() (string, error) {
				ctx, cancel := context.WithTimeout(context.Background(), promptTimeout)
				defer cancel()
				c.prompting.Add(1)
				defer c.prompting.Add(-1)
				return prompt(ctx, aws.ToString(o.SerialNumber), fmt.Sprintf("Profile %q assumes %s", name, o.RoleARN))
			}
		}
	}), config.WithWebIdentityRoleCredentialOptions(func(o *stscreds.WebIdentityRoleOptions) {
		o.Client = webIdentityVia{o.Client, viaSettings}
	}), config.WithHTTPClient(c.http), config.WithAPIOptions(configOptions(requestTimeout(c.settings.RequestTimeoutSeconds))),
		config.WithProcessCredentialOptions(func(o *processcreds.Options) {
			o.Timeout = timeout
		}))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		err = &CredentialsError{Profile: name, Err: err}
	} else {
		process.supervise(&cfg, timeout)
	}
	c.configs[key] = loaded{cfg: cfg, err: err}
	return cfg, err
}

// ServiceConfig returns the configuration the sidecar's other AWS clients (IAM Identity Center's
// OIDC service and portal) are built from, for region: the shared config and environment as the
// SDK loads them (so AWS_ENDPOINT_URL_SSO_OIDC, AWS_ENDPOINT_URL_SSO and a profile's [services]
// section apply), with the settings' bounds every STS call has: the bounded HTTP client, each
// attempt's deadline and size cap, the whole operation's deadline and the retry count. Those
// services take no AWS signature, so a profile without credentials is no error; one that does not
// load at all is.
func (c *Clients) ServiceConfig(ctx context.Context, region string) (aws.Config, error) {
	c.mu.Lock()
	profile, seconds, attempts, httpClient := c.settings.Profile, c.settings.RequestTimeoutSeconds, c.maxAttempts(), c.http
	c.mu.Unlock()
	timeout := requestTimeout(seconds)
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithHTTPClient(httpClient),
		config.WithRetryMaxAttempts(attempts),
		config.WithAPIOptions(append(configOptions(timeout), func(s *middleware.Stack) error {
			if _, ok := s.Initialize.Get(deadlineID); ok {
				return nil
			}
			return s.Initialize.Add(deadline{timeout: timeout}, middleware.Before)
		})),
	}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, &CredentialsError{Profile: profile, Err: err}
	}
	return cfg, nil
}

// CredentialsError says the base identity could not be set up from the profile.
type CredentialsError struct {
	Profile string
	Err     error
}

// Error names the profile and why it could not be loaded.
func (e *CredentialsError) Error() string {
	if e.Profile == "" {
		return fmt.Sprintf("load AWS configuration: %v", e.Err)
	}
	return fmt.Sprintf("load AWS profile %q: %v", e.Profile, e.Err)
}

// Unwrap returns the SDK's error.
func (e *CredentialsError) Unwrap() error { return e.Err }
