package profiles

import (
	"io"
	"strings"
)

// SSOSession is an [sso-session NAME] section of the shared config file.
type SSOSession struct {
	// Name is the section's name.
	Name string
	// StartURL is sso_start_url.
	StartURL string
	// Region is sso_region, the Region of IAM Identity Center.
	Region string
	// Scopes is sso_registration_scopes, comma-separated as written.
	Scopes string
}

// SSOProfile is a profile that gets its credentials from IAM Identity Center.
type SSOProfile struct {
	// Name is the profile's name.
	Name string
	// Session is sso_session; "" for a legacy profile, which has its own start URL.
	Session string
	// StartURL and Region are a legacy profile's sso_start_url and sso_region.
	StartURL, Region string
	// AccountID and RoleName are sso_account_id and sso_role_name.
	AccountID, RoleName string
}

// SSOConfig is what the shared config file says about IAM Identity Center sign-ins.
type SSOConfig struct {
	// Path is the file read.
	Path string
	// Sessions are its sso-session sections, in file order.
	Sessions []SSOSession
	// Profiles are its profiles with sso_session or sso_start_url, in file order.
	Profiles []SSOProfile
}

// Session returns the sso-session section called name.
func (c SSOConfig) Session(name string) (SSOSession, bool) {
	for _, s := range c.Sessions {
		if s.Name == name {
			return s, true
		}
	}
	return SSOSession{}, false
}

// Profile returns the SSO profile called name.
func (c SSOConfig) Profile(name string) (SSOProfile, bool) {
	for _, p := range c.Profiles {
		if p.Name == name {
			return p, true
		}
	}
	return SSOProfile{}, false
}

// ReadSSO reads the sso-session sections and SSO profiles of the config file at path; a missing
// file has none.
func ReadSSO(path string) (SSOConfig, error) {
	out := SSOConfig{Path: path}
	err := readConfig(path, func(r io.Reader) error { return parseSSO(r, &out) })
	return out, err
}

// ssoSection is one section being read: a profile or an sso-session, by index into out.
type ssoSection struct {
	session bool
	index   int
}

// parseSSO reads the sso-session sections and the profiles' SSO keys. Later sections of the same
// name add to earlier ones, as the SDK merges them; profiles without SSO keys are dropped.
func parseSSO(r io.Reader, out *SSOConfig) error {
	sessions := map[string]int{}
	profileIndex := map[string]int{}
	var all []SSOProfile
	var cur *ssoSection
	err := scanINI(r, func(section string) {
		cur = nil
		if name, ok := strings.CutPrefix(section, "sso-session "); ok && strings.TrimSpace(name) != "" {
			name = strings.TrimSpace(name)
			i, seen := sessions[name]
			if !seen {
				i = len(out.Sessions)
				sessions[name] = i
				out.Sessions = append(out.Sessions, SSOSession{Name: name})
			}
			cur = &ssoSection{session: true, index: i}
			return
		}
		name, ok := sectionProfile(section)
		if !ok {
			return
		}
		i, seen := profileIndex[name]
		if !seen {
			i = len(all)
			profileIndex[name] = i
			all = append(all, SSOProfile{Name: name})
		}
		cur = &ssoSection{index: i}
	}, func(key, value string) {
		switch {
		case cur == nil:
		case cur.session:
			setSessionKey(&out.Sessions[cur.index], key, value)
		default:
			setSSOKey(&all[cur.index], key, value)
		}
	})
	for _, p := range all {
		if p.Session != "" || p.StartURL != "" {
			out.Profiles = append(out.Profiles, p)
		}
	}
	return err
}

func setSessionKey(s *SSOSession, key, value string) {
	switch key {
	case "sso_start_url":
		s.StartURL = value
	case "sso_region":
		s.Region = value
	case "sso_registration_scopes":
		s.Scopes = value
	}
}

func setSSOKey(p *SSOProfile, key, value string) {
	switch key {
	case "sso_session":
		p.Session = value
	case "sso_start_url":
		p.StartURL = value
	case "sso_region":
		p.Region = value
	case "sso_account_id":
		p.AccountID = value
	case "sso_role_name":
		p.RoleName = value
	}
}

// SSOSessionOf names the IAM Identity Center sign-in the profile called name signs in with: its
// sso_session, or the profile's own name for a legacy SSO profile; "" when it is no SSO profile
// (or the config cannot be read).
func SSOSessionOf(path, name string) string {
	cfg, err := ReadSSO(path)
	if err != nil {
		return ""
	}
	p, ok := cfg.Profile(name)
	switch {
	case !ok:
		return ""
	case p.Session != "":
		return p.Session
	}
	return p.Name
}
