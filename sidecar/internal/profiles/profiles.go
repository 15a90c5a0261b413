// Package profiles lists the profiles of the shared AWS config file for the palette's role picker:
// names, the roles they assume and how, never a key (keys live in the credentials file, which it
// does not read).
package profiles

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"awsflow-sts/sidecar/internal/awspath"
	"awsflow-sts/sidecar/internal/protocol"
)

// ConfigPath is the shared config file the SDK reads: $AWS_CONFIG_FILE, else ~/.aws/config.
func ConfigPath() string { return awspath.SharedFile("AWS_CONFIG_FILE", "config") }

// List reads the profiles of the config file at path; a missing file is an empty list.
func List(path string) (protocol.ProfileList, error) {
	out := protocol.ProfileList{Profiles: []protocol.ProfileInfo{}, ConfigFile: path}
	err := readConfig(path, func(r io.Reader) error {
		var err error
		out.Profiles, err = parse(r)
		return err
	})
	return out, err
}

// readConfig opens the config file at path for read; a missing file (or no path) reads as
// nothing, and errors name the file.
func readConfig(path string, read func(io.Reader) error) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) || path == "" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read AWS config: %w", err)
	}
	defer f.Close()
	if err := read(f); err != nil {
		return fmt.Errorf("read AWS config %s: %w", path, err)
	}
	return nil
}

// scanINI walks the sections and keys of a shared config file, as the SDK reads it: comments and
// blank lines skipped, a byte-order mark ignored, keys lower-cased, values trimmed. section is
// called with each section header's name; key with each key of the current section.
func scanINI(r io.Reader, section func(name string), key func(key, value string)) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case line[0] == '[' && strings.HasSuffix(line, "]"):
			section(strings.TrimSpace(line[1 : len(line)-1]))
		default:
			k, v, ok := strings.Cut(line, "=")
			if ok {
				key(strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v))
			}
		}
	}
	return sc.Err()
}

// parse reads INI sections [default] and [profile NAME]; other sections (sso-session, services)
// are skipped. Later sections of the same name add to earlier ones, as the SDK merges them.
func parse(r io.Reader) ([]protocol.ProfileInfo, error) {
	list := []protocol.ProfileInfo{} // an empty file is an empty list, never null
	index := map[string]int{}
	cur := -1
	err := scanINI(r, func(section string) {
		cur = -1
		name, ok := sectionProfile(section)
		if !ok {
			return
		}
		i, seen := index[name]
		if !seen {
			i = len(list)
			index[name] = i
			list = append(list, protocol.ProfileInfo{Name: name})
		}
		cur = i
	}, func(key, value string) {
		if cur >= 0 {
			setKey(&list[cur], key, value)
		}
	})
	return list, err
}

func sectionProfile(section string) (string, bool) {
	if section == "default" {
		return "default", true
	}
	name, ok := strings.CutPrefix(section, "profile ")
	name = strings.TrimSpace(name)
	return name, ok && name != ""
}

func setKey(p *protocol.ProfileInfo, key, value string) {
	switch key {
	case "role_arn":
		p.RoleARN = value
	case "source_profile":
		p.SourceProfile = value
	case "mfa_serial":
		p.MfaSerial = value
	case "external_id":
		p.ExternalID = value
	case "region":
		p.Region = value
	case "sso_start_url":
		p.SsoStartURL = value
	}
}
