package federation

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func seg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func jwt(header, payload string) string { return seg(header) + "." + seg(payload) + ".c2lnbmF0dXJl" }

const rs256 = `{"alg":"RS256","kid":"key-1","typ":"JWT"}`

func TestParseJWT(t *testing.T) {
	tests := []struct {
		name  string
		token string
		want  JWTInfo
	}{
		{
			name:  "string aud",
			token: jwt(rs256, `{"iss":"https://token.actions.githubusercontent.com","sub":"repo:o/r:ref:refs/heads/main","aud":"sts.amazonaws.com","exp":1714557600,"iat":1714554000,"nbf":1714553940,"extra":{"x":[1,2]}}`),
			want: JWTInfo{Issuer: "https://token.actions.githubusercontent.com", Subject: "repo:o/r:ref:refs/heads/main", Audience: []string{"sts.amazonaws.com"},
				ExpiresAt: time.Unix(1714557600, 0).UTC(), IssuedAt: time.Unix(1714554000, 0).UTC(), NotBefore: time.Unix(1714553940, 0).UTC(), Algorithm: "RS256", KeyID: "key-1"},
		},
		{
			name:  "array aud, float times, whitespace and Bearer prefix",
			token: "  Bearer " + jwt(`{"alg":"ES256"}`, `{"iss":"https://oidc.eks.amazonaws.com/id/ABC","aud":["sts.amazonaws.com","other"],"exp":1714557600.25,"iat":1.7145540e9}`) + "\n",
			want: JWTInfo{Issuer: "https://oidc.eks.amazonaws.com/id/ABC", Audience: []string{"sts.amazonaws.com", "other"},
				ExpiresAt: time.Unix(1714557600, 25e7).UTC(), IssuedAt: time.Unix(1714554000, 0).UTC(), Algorithm: "ES256"},
		},
		{
			name:  "missing exp and aud",
			token: jwt(rs256, `{"iss":"https://accounts.google.com","sub":"1234"}`),
			want:  JWTInfo{Issuer: "https://accounts.google.com", Subject: "1234", Algorithm: "RS256", KeyID: "key-1"},
		},
		{
			name:  "padded segments and unsecured token",
			token: base64.URLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + base64.URLEncoding.EncodeToString([]byte(`{"sub":"x"}`)) + ".",
			want:  JWTInfo{Subject: "x", Algorithm: "none"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseJWT(tt.token)
			if err != nil {
				t.Fatalf("ParseJWT: %v", err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("ParseJWT = %#v, want %#v", *got, tt.want)
			}
		})
	}
}

func TestParseJWTErrors(t *testing.T) {
	tests := []struct {
		name, token, wantSub string
	}{
		{"empty", " ", "empty"},
		{"two parts", seg(rs256) + "." + seg(`{"sub":"x"}`), "2 dot-separated part(s)"},
		{"JWE", "a.b.c.d.e", "encrypted JWE"},
		{"bad base64 header", "@@@." + seg(`{}`) + ".sig", "header is not base64url"},
		{"bad base64 payload", seg(rs256) + ".pay!oad.sig", "payload is not base64url"},
		{"bad JSON header", jwt(`{"alg":`, `{}`), "header is not a JSON object"},
		{"bad JSON payload", jwt(rs256, `not json`), "payload is not a JSON object"},
		{"payload is an array", jwt(rs256, `[1]`), "payload is not a JSON object"},
		{"numeric aud", jwt(rs256, `{"aud":5}`), "aud claim is neither"},
		{"string exp", jwt(rs256, `{"exp":"1714557600"}`), "exp claim is not a number"},
		{"huge nbf", jwt(rs256, `{"nbf":1e300}`), "nbf claim is out of range"},
		{"numeric iss", jwt(rs256, `{"iss":1}`), "iss claim is not a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseJWT(tt.token)
			if err == nil {
				t.Fatalf("ParseJWT = %#v, want error", got)
			}
			if !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("error %q does not contain %q", err, tt.wantSub)
			}
		})
	}
}

func TestExpired(t *testing.T) {
	exp := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		info JWTInfo
		now  time.Time
		want bool
	}{
		{"before exp", JWTInfo{ExpiresAt: exp}, exp.Add(-time.Second), false},
		{"at exp", JWTInfo{ExpiresAt: exp}, exp, true},
		{"after exp", JWTInfo{ExpiresAt: exp}, exp.Add(time.Hour), true},
		{"no exp", JWTInfo{}, exp.Add(100 * 365 * 24 * time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.info.Expired(tt.now); got != tt.want {
				t.Errorf("Expired(%v) = %v, want %v", tt.now, got, tt.want)
			}
		})
	}
}

func ExampleParseJWT() {
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"k1"}`))
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://token.actions.githubusercontent.com","aud":"sts.amazonaws.com","exp":1714557600}`))
	info, err := ParseJWT(header + "." + payload + ".signature")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(info.Issuer, info.Audience, info.Algorithm, info.KeyID)
	fmt.Println(info.ExpiresAt.Format(time.RFC3339), info.Expired(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)))
	// Output:
	// https://token.actions.githubusercontent.com [sts.amazonaws.com] RS256 k1
	// 2024-05-01T10:00:00Z false
}
