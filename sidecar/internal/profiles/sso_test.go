package profiles

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadSSO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	conf := "\ufeff[default]\nregion = us-east-1\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n" +
		"sso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n\n[profile dev]\nsso_session = corp\n" +
		"sso_account_id = 111122223333\nsso_role_name = Dev\n[profile old]\nsso_start_url = https://old.awsapps.com/start\n" +
		"sso_region = us-east-1\n[profile plain]\nrole_arn = arn:aws:iam::1:role/x\n[sso-session corp]\nsso_region = us-west-2\n"
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := ReadSSO(path)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := cfg.Session("corp")
	if !ok || s.StartURL != "https://corp.awsapps.com/start" || s.Region != "us-west-2" || s.Scopes != "sso:account:access" || len(cfg.Sessions) != 1 {
		t.Errorf("session %+v (%d sessions)", s, len(cfg.Sessions))
	}
	if len(cfg.Profiles) != 2 {
		t.Fatalf("profiles %+v, want dev and old", cfg.Profiles)
	}
	if p, _ := cfg.Profile("dev"); p.Session != "corp" || p.AccountID != "111122223333" || p.RoleName != "Dev" {
		t.Errorf("dev %+v", p)
	}
	if SSOSessionOf(path, "dev") != "corp" || SSOSessionOf(path, "old") != "old" || SSOSessionOf(path, "plain") != "" || SSOSessionOf(path, "none") != "" {
		t.Error("SSOSessionOf names the wrong sign-in")
	}
	if cfg, err := ReadSSO(filepath.Join(t.TempDir(), "missing")); err != nil || len(cfg.Sessions)+len(cfg.Profiles) != 0 {
		t.Errorf("a missing file: %+v %v", cfg, err)
	}
}
