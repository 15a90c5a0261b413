package protocolgen

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readRoot(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// setting returns package.json's contributes.configuration.properties[key].
func setting(t *testing.T, pkg []byte, key string) map[string]any {
	t.Helper()
	var v struct {
		Contributes struct {
			Configuration struct {
				Properties map[string]map[string]any `json:"properties"`
			} `json:"configuration"`
		} `json:"contributes"`
	}
	if err := json.Unmarshal(pkg, &v); err != nil {
		t.Fatal(err)
	}
	return v.Contributes.Configuration.Properties[key]
}

// TestSettingsConstraintsReachPackageJSON: a constraint changed in the model changes package.json,
// so the sidecar and VS Code cannot check different rules.
func TestSettingsConstraintsReachPackageJSON(t *testing.T) {
	model, pkg := string(readRoot(t, ModelPath)), readRoot(t, PackageJSONPath)
	tests := []struct {
		name, from, to, key, field string
		want                       any
	}{
		{"maximum", `"minimum": 1, "maximum": 20, "default": 3`, `"minimum": 1, "maximum": 9, "default": 3`, "awsflowSts.maxAttempts", "maximum", 9.0},
		{"default", `"minimum": 1, "maximum": 20, "default": 3`, `"minimum": 1, "maximum": 20, "default": 4`, "awsflowSts.maxAttempts", "default", 4.0},
		{"pattern", `"pattern": "^https?://"`, `"pattern": "^https://"`, "awsflowSts.endpointUrl", "pattern", "^$|^https://"},
		{"timeout range", `"maximum": 300`, `"maximum": 600`, "awsflowSts.requestTimeoutSeconds", "maximum", 600.0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(model, tt.from) {
				t.Fatalf("model lacks %s", tt.from)
			}
			files, err := Files([]byte(strings.Replace(model, tt.from, tt.to, 1)), pkg)
			if err != nil {
				t.Fatal(err)
			}
			if got := setting(t, files[PackageJSONPath], tt.key)[tt.field]; got != tt.want {
				t.Errorf("%s.%s = %v, want %v", tt.key, tt.field, got, tt.want)
			}
		})
	}
}

func TestSettingsConstraintsNeedTheSetting(t *testing.T) {
	model, pkg := readRoot(t, ModelPath), string(readRoot(t, PackageJSONPath))
	renamed := strings.Replace(pkg, `"awsflowSts.requestTimeoutSeconds"`, `"awsflowSts.requestTimeout"`, 1)
	if _, err := Files(model, []byte(renamed)); err == nil || !strings.Contains(err.Error(), "awsflowSts.requestTimeoutSeconds") {
		t.Errorf("Files with the setting missing = %v, want an error naming it", err)
	}
}

func TestSettingsConstraintsChecked(t *testing.T) {
	model := string(readRoot(t, ModelPath))
	tests := []struct{ name, from, to, want string }{
		{"bad pattern", `"pattern": "^https?://"`, `"pattern": "^(https?://"`, "pattern"},
		{"half a range", `"minimum": 1, "maximum": 20, "default": 3`, `"minimum": 1, "default": 3`, "both minimum and maximum"},
		{"range on a string", `"enum": ["debug", "info", "warn", "error"]`, `"minimum": 1, "maximum": 2`, "needs type integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(model, tt.from) {
				t.Fatalf("model lacks %s", tt.from)
			}
			_, err := ParseModel([]byte(strings.Replace(model, tt.from, tt.to, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseModel = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
