package sso

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // the cache's file name is the SHA-1 the AWS CLI and SDKs use, not a security measure
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"awsflow-sts/sidecar/internal/awspath"
	"awsflow-sts/sidecar/internal/credfile"
)

// maxCacheBytes bounds a token cache file read: the AWS CLI's are well under a kilobyte or two.
const maxCacheBytes = 64 << 10

// CachePath is the token cache file of a sign-in, where the AWS CLI v2 and the SDKs look for it:
// ~/.aws/sso/cache/<SHA-1 hex of key>.json, key being the sso-session name, or the start URL for a
// legacy profile. It is "" when the home directory is unknown.
func CachePath(key string) string {
	home := awspath.ExpandHome("~")
	if home == "~" {
		return ""
	}
	sum := sha1.Sum([]byte(key)) //nolint:gosec // see the import
	return filepath.Join(home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json")
}

// Token is one token cache file: the fields the AWS CLI v2 writes, and any others it holds, which
// are written back unchanged. AccessToken, RefreshToken and ClientSecret are secrets.
type Token struct {
	StartURL              string
	Region                string
	AccessToken           string
	ExpiresAt             time.Time
	ClientID              string
	ClientSecret          string
	RegistrationExpiresAt time.Time
	RefreshToken          string

	other map[string]json.RawMessage // fields of other tools, kept as they were
}

// The fields of the cache file this package reads and writes.
var tokenFields = []string{"startUrl", "region", "accessToken", "expiresAt", "clientId", "clientSecret", "registrationExpiresAt", "refreshToken"}

// Valid tells whether the access token is there and unexpired at now.
func (t *Token) Valid(now time.Time) bool { return t.AccessToken != "" && now.Before(t.ExpiresAt) }

// Refreshable tells whether the cache holds what a refresh needs: a refresh token and a client
// registration that has not expired.
func (t *Token) Refreshable(now time.Time) bool {
	return t.RefreshToken != "" && t.ClientID != "" && t.ClientSecret != "" &&
		(t.RegistrationExpiresAt.IsZero() || now.Before(t.RegistrationExpiresAt))
}

// HasRegistration tells whether the cached client registration can still be used at now, with
// margin to spare (a device authorization lasts minutes).
func (t *Token) HasRegistration(now time.Time, margin time.Duration) bool {
	return t.ClientID != "" && t.ClientSecret != "" && now.Add(margin).Before(t.RegistrationExpiresAt)
}

// Secrets are the token's secret values, for the scrubber.
func (t *Token) Secrets() []string { return []string{t.AccessToken, t.RefreshToken, t.ClientSecret} }

// errNoCache is ReadToken's error for a sign-in with no cache file.
var errNoCache = errors.New("no cached sign-in")

// ReadToken reads the token cache file at path, as the AWS CLI v2, botocore and the SDKs write it
// (times in RFC 3339, or the "…UTC" form older CLIs wrote). A missing file wraps errNoCache.
func ReadToken(path string) (*Token, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", errNoCache, path)
	}
	if err != nil {
		return nil, fmt.Errorf("read the token cache: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCacheBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the token cache: %w", err)
	}
	if len(data) > maxCacheBytes {
		return nil, fmt.Errorf("the token cache %s is larger than %d bytes", path, maxCacheBytes)
	}
	t, err := parseToken(data)
	if err != nil {
		return nil, fmt.Errorf("the token cache %s is not a token cache file: %w", path, err)
	}
	return t, nil
}

// parseToken reads a token cache file's content; its errors never quote it.
func parseToken(data []byte) (*Token, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, errors.New("it is not a JSON object")
	}
	t := &Token{other: map[string]json.RawMessage{}}
	str := func(name string, into *string) error {
		v, ok := raw[name]
		if !ok || string(v) == "null" {
			return nil
		}
		if err := json.Unmarshal(v, into); err != nil {
			return fmt.Errorf("%s is not a string", name)
		}
		return nil
	}
	when := func(name string, into *time.Time) error {
		var s string
		if err := str(name, &s); err != nil || s == "" {
			return err
		}
		tm, err := parseTime(s)
		if err != nil {
			return fmt.Errorf("%s is not a time", name)
		}
		*into = tm
		return nil
	}
	errs := []error{
		str("startUrl", &t.StartURL), str("region", &t.Region), str("accessToken", &t.AccessToken),
		when("expiresAt", &t.ExpiresAt), str("clientId", &t.ClientID), str("clientSecret", &t.ClientSecret),
		when("registrationExpiresAt", &t.RegistrationExpiresAt), str("refreshToken", &t.RefreshToken),
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for k, v := range raw {
		if !isTokenField(k) {
			t.other[k] = v
		}
	}
	return t, nil
}

func isTokenField(k string) bool {
	for _, f := range tokenFields {
		if f == k {
			return true
		}
	}
	return false
}

// parseTime reads a cache file's time: RFC 3339, or without a zone (UTC), or with "UTC" for the
// zone as older AWS CLIs wrote it.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05UTC", "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("not a time")
}

// marshal is the cache file's content: the known fields that are set, in the AWS CLI's order,
// times in RFC 3339 UTC, then the fields of other tools.
func (t *Token) marshal() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	put := func(k string, v any) error {
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		key, _ := json.Marshal(k)
		b.Write(key)
		b.WriteByte(':')
		b.Write(raw)
		return nil
	}
	fields := []struct {
		name  string
		value string
	}{
		{"startUrl", t.StartURL}, {"region", t.Region}, {"accessToken", t.AccessToken},
		{"expiresAt", formatTime(t.ExpiresAt)}, {"clientId", t.ClientID}, {"clientSecret", t.ClientSecret},
		{"registrationExpiresAt", formatTime(t.RegistrationExpiresAt)}, {"refreshToken", t.RefreshToken},
	}
	for _, f := range fields {
		if f.value == "" {
			continue
		}
		if err := put(f.name, f.value); err != nil {
			return nil, err
		}
	}
	for k, v := range t.other {
		if err := put(k, v); err != nil {
			return nil, err
		}
	}
	b.WriteString("}\n")
	return b.Bytes(), nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// WriteToken writes t as the token cache file at path: atomically, mode 0600, under the file's
// lock (package credfile's writer), its directory made mode 0700 if missing.
func WriteToken(path string, t *Token) error {
	data, err := t.marshal()
	if err != nil {
		return fmt.Errorf("encode the token cache: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write the token cache: %w", err)
	}
	if err := credfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("write the token cache %s: %w", path, err)
	}
	return nil
}

// fingerprint identifies a secret without holding it (the scrubbed logs and the state of which
// refresh token was refused).
func fingerprint(secret string) string {
	if secret == "" {
		return ""
	}
	sum := sha1.Sum([]byte("awsflow-sts:" + secret)) //nolint:gosec // an identity, not a protection
	return strings.ToLower(hex.EncodeToString(sum[:8]))
}

// removeCache removes a token cache file under its lock, and reports whether it existed.
func removeCache(path string) (bool, error) {
	return credfile.RemoveFile(path)
}
