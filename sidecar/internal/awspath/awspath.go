// Package awspath resolves the paths the AWS CLI and SDKs use for their shared files, and the
// "~" a user (or a model) may start a path with, the way those tools do.
package awspath

import (
	"os"
	"path/filepath"
	"strings"
)

// ExpandHome replaces a leading ~ or ~/ with the home directory, and leaves p alone when the home
// directory is unknown or p names another user's home (~bob/...).
func ExpandHome(p string) string {
	rest, ok := strings.CutPrefix(p, "~")
	if !ok || (rest != "" && rest[0] != '/' && rest[0] != filepath.Separator) {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, rest)
}

// SharedFile is the shared file the AWS tools read: $envVar (with a leading ~ expanded) when set,
// else ~/.aws/name. It is "" when the variable is unset and the home directory is unknown.
func SharedFile(envVar, name string) string {
	if p := os.Getenv(envVar); p != "" {
		return ExpandHome(p)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".aws", name)
}
