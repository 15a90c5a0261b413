package localsts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"awsflow-sts/sidecar/internal/localsts/idp"
)

// jwksCache fetches and caches OIDC providers' key sets, as STS does for providers whose keys
// are not pinned.
type jwksCache struct {
	client  *http.Client
	mu      sync.Mutex
	entries map[string]jwksEntry
}

// jwksEntry is one issuer's key set and when it was fetched, for jwksTTL.
type jwksEntry struct {
	keys    idp.JWKS
	fetched time.Time
}

// jwksTTL is how long a fetched key set is reused.
const jwksTTL = 5 * time.Minute

// newJWKSCache returns an empty cache whose fetches time out, so a slow provider cannot hold
// up the AssumeRoleWithWebIdentity call for long.
func newJWKSCache() *jwksCache {
	return &jwksCache{client: &http.Client{Timeout: 5 * time.Second}, entries: map[string]jwksEntry{}}
}

// get returns the issuer's key set, fetched through its discovery document unless a fresh copy
// is cached.
func (j *jwksCache) get(ctx context.Context, issuer string) (idp.JWKS, error) {
	j.mu.Lock()
	e, ok := j.entries[issuer]
	j.mu.Unlock()
	if ok && time.Since(e.fetched) < jwksTTL {
		return e.keys, nil
	}
	var disc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := j.fetchJSON(ctx, strings.TrimRight(issuer, "/")+"/.well-known/openid-configuration", &disc); err != nil {
		return idp.JWKS{}, err
	}
	if disc.JWKSURI == "" {
		return idp.JWKS{}, errors.New("discovery document has no jwks_uri")
	}
	var keys idp.JWKS
	if err := j.fetchJSON(ctx, disc.JWKSURI, &keys); err != nil {
		return idp.JWKS{}, err
	}
	j.mu.Lock()
	j.entries[issuer] = jwksEntry{keys: keys, fetched: time.Now()}
	j.mu.Unlock()
	return keys, nil
}

// fetchJSON decodes a 200 answer to GET url into v, reading at most maxBody bytes.
func (j *jwksCache) fetchJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := j.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(v)
}
