package awspath

import (
	"path/filepath"
	"testing"
)

func TestExpandHome(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	tests := []struct{ in, want string }{
		{"~", home},
		{"~/.aws/credentials", filepath.Join(home, ".aws", "credentials")},
		{"~bob/x", "~bob/x"},
		{"/abs/~/x", "/abs/~/x"},
		{"rel/x", "rel/x"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ExpandHome(tt.in); got != tt.want {
				t.Errorf("ExpandHome(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSharedFile(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("AWS_CONFIG_FILE", "")
	if got, want := SharedFile("AWS_CONFIG_FILE", "config"), filepath.Join(home, ".aws", "config"); got != want {
		t.Errorf("unset: %q, want %q", got, want)
	}
	t.Setenv("AWS_CONFIG_FILE", "~/conf")
	if got, want := SharedFile("AWS_CONFIG_FILE", "config"), filepath.Join(home, "conf"); got != want {
		t.Errorf("~/conf: %q, want %q", got, want)
	}
}
