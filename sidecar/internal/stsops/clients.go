// Package stsops runs the AWS STS operations through aws-sdk-go-v2, one file per operation, and
// turns their answers into a Result the tool formats. It also builds the STS clients: the base
// identity from the SDK's default credential chain with the user's profile, a stored session's
// credentials, or none for the unsigned operations.
package stsops

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"awsflow-sts/sidecar/internal/protocol"
)

// DefaultRegion is used when neither the settings nor the profile name one.
const DefaultRegion = "us-east-1"

// DefaultMaxAttempts is the SDK's own default: one call and two retries.
const DefaultMaxAttempts = 3

// Identity says whose credentials sign a call.
type Identity struct {
	// Credentials, when set, sign the call (a stored session's); otherwise the base identity does.
	Credentials *aws.Credentials
	// Anonymous calls are not signed at all.
	Anonymous bool
}

// Clients makes and caches STS clients for the current settings. It is safe for concurrent use.
type Clients struct {
	mu       sync.Mutex
	settings protocol.Settings
	base     *aws.Config
	baseErr  error
	clients  map[clientKey]*sts.Client
}

type clientKey struct {
	region string
	keyID  string // "" for the base identity
	anon   bool
}

// NewClients returns clients for the given settings; nothing is loaded until the first call.
func NewClients(settings protocol.Settings) *Clients {
	return &Clients{settings: settings, clients: map[clientKey]*sts.Client{}}
}

// Update replaces the settings; later calls load the configuration again.
func (c *Clients) Update(settings protocol.Settings) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settings = settings
	c.base, c.baseErr = nil, nil
	c.clients = map[clientKey]*sts.Client{}
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
	if cfg, err := c.loadBase(ctx); err == nil && cfg.Region != "" {
		return cfg.Region
	}
	return DefaultRegion
}

// Client returns an STS client for the identity in the region ("" for the default).
func (c *Clients) Client(ctx context.Context, id Identity, region string) (*sts.Client, error) {
	region = c.Region(ctx, region)
	key := clientKey{region: region, anon: id.Anonymous}
	if id.Credentials != nil && !id.Anonymous {
		key.keyID = id.Credentials.AccessKeyID
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.clients[key]; ok {
		return cl, nil
	}
	cfg, err := c.loadBase(ctx)
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
	switch {
	case id.Anonymous:
		cfg.Credentials = aws.AnonymousCredentials{}
	case id.Credentials != nil:
		cr := *id.Credentials
		cfg.Credentials = credentials.NewStaticCredentialsProvider(cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken)
	}
	endpoint, fips := c.settings.EndpointURL, c.settings.UseFipsEndpoint
	cl := sts.NewFromConfig(cfg, func(o *sts.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		if fips {
			o.EndpointOptions.UseFIPSEndpoint = aws.FIPSEndpointStateEnabled
		}
	})
	c.clients[key] = cl
	return cl, nil
}

func (c *Clients) maxAttempts() int {
	if c.settings.MaxAttempts > 0 {
		return int(c.settings.MaxAttempts)
	}
	return DefaultMaxAttempts
}

// loadBase loads the shared config once per settings; c.mu must be held.
func (c *Clients) loadBase(ctx context.Context) (aws.Config, error) {
	if c.base != nil || c.baseErr != nil {
		if c.baseErr != nil {
			return aws.Config{}, c.baseErr
		}
		return *c.base, nil
	}
	var opts []func(*config.LoadOptions) error
	if c.settings.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.settings.Profile))
	}
	if c.settings.Region != "" {
		opts = append(opts, config.WithRegion(c.settings.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		c.baseErr = &CredentialsError{Profile: c.settings.Profile, Err: err}
		return aws.Config{}, c.baseErr
	}
	c.base = &cfg
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
