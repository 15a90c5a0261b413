package profiles

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"awsflow-sts/sidecar/internal/protocol"
)

func TestList(t *testing.T) {
	config := `# the user's config
[default]
region = us-east-1
aws_access_key_id = AKIASHOULDNOTBEHERE0

[profile dev]
role_arn = arn:aws:iam::123456789012:role/Dev
source_profile = default
mfa_serial = arn:aws:iam::123456789012:mfa/alice
  external_id=ext-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start

[profile sso]
sso_start_url = https://corp.awsapps.com/start
; a comment
[profile dev]
region = eu-west-1
[services local]
sts =
  endpoint_url = http://127.0.0.1:4566
`
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := List(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []protocol.ProfileInfo{
		{Name: "default", Region: "us-east-1"},
		{Name: "dev", RoleARN: "arn:aws:iam::123456789012:role/Dev", SourceProfile: "default", MfaSerial: "arn:aws:iam::123456789012:mfa/alice", ExternalID: "ext-1", Region: "eu-west-1"},
		{Name: "sso", SsoStartURL: "https://corp.awsapps.com/start"},
	}
	if !reflect.DeepEqual(got.Profiles, want) {
		t.Fatalf("got %+v\nwant %+v", got.Profiles, want)
	}
}

func TestListMissingFile(t *testing.T) {
	got, err := List(filepath.Join(t.TempDir(), "nope"))
	if err != nil || len(got.Profiles) != 0 || got.Profiles == nil {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestListEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte("# nothing yet\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := List(path)
	if err != nil || got.Profiles == nil || len(got.Profiles) != 0 {
		t.Fatalf("got %+v, %v; want an empty, non-null list", got, err)
	}
}
