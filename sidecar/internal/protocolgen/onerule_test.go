package protocolgen

import (
	"strings"
	"testing"
)

// changedModel renders every generated file from a copy of the model with from replaced by to,
// which must occur in it once.
func changedModel(t *testing.T, model string, pkg []byte, from, to string) map[string][]byte {
	t.Helper()
	if strings.Count(model, from) != 1 {
		t.Fatalf("the model does not hold %q once", from)
	}
	files, err := Files([]byte(strings.Replace(model, from, to, 1)), pkg)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestOneRuleReachesBothLanguages changes one rule in a copy of the model (a tool parameter's
// length, pattern, secrecy or requiredness; the credentials-file profile-name rule, its default
// path; a shared text) and checks that every generated file that carries the rule changes with it:
// the sidecar's Go (which validates) and the extension's side (its TypeScript, and the manifest's
// tool schema that VS Code reads), so neither side can keep the old rule.
func TestOneRuleReachesBothLanguages(t *testing.T) {
	model, pkg := string(readRoot(t, ModelPath)), readRoot(t, PackageJSONPath)
	base, err := Files([]byte(model), pkg)
	if err != nil {
		t.Fatal(err)
	}
	const (
		goPath     = "sidecar/internal/protocol/protocol_gen.go"
		tsPath     = "extension/src/protocol.gen.ts"
		schemaPath = "protocol/tool-input-schema.json"
	)
	tests := []struct {
		name, from, to string
		// want is what each file must then hold.
		want map[string][]string
	}{
		{
			name: "length and pattern",
			from: `"AccessKeyId": {"type": "string", "minLength": 16, "maxLength": 128, "pattern": "^\\w+$"`,
			to:   `"AccessKeyId": {"type": "string", "minLength": 16, "maxLength": 20, "pattern": "^[A-Z0-9]+$"`,
			want: map[string][]string{
				goPath: {`ParamAccessKeyId = &ParamSpec{Name: "AccessKeyId", Type: TypeString, MinLength: 16, MaxLength: 20, Pattern: regexp.MustCompile("^[A-Z0-9]+$")`},
				// The schema leaves patterns to the sidecar, whose messages say how to fix a value.
				PackageJSONPath: {`"maxLength": 20`},
				schemaPath:      {`"maxLength": 20`},
			},
		},
		{
			name: "secret",
			from: `"ProviderId": {"type": "string", "minLength": 4,`,
			to:   `"ProviderId": {"type": "string", "secret": true, "minLength": 4,`,
			want: map[string][]string{
				goPath: {`ParamProviderId = &ParamSpec{Name: "ProviderId", Type: TypeString, MinLength: 4, MaxLength: 2048, Secret: true`},
				tsPath: {`{ name: "ProviderId", required: false, secret: true }`},
			},
		},
		{
			name: "profile-name max length", from: "\"maxLength\": 128,\n      \"forbidden\"", to: "\"maxLength\": 64,\n      \"forbidden\"",
			want: map[string][]string{
				RulesGoPath: {"ProfileNameMaxLength = 64", `{0,62}`, `"a profile name is 1 to 64 characters`},
				tsPath:      {"PROFILE_NAME_MAX_LENGTH = 64", `{0,62}`, `"a profile name is 1 to 64 characters`},
			},
		},
		{
			name: "profile-name forbidden characters", from: `"forbidden": "[]#;"`, to: `"forbidden": "[]#;=-"`,
			want: map[string][]string{
				RulesGoPath: {`ProfileNameForbidden = "[]#;=-"`, `#;=\\-\\p{Cc}`, `without [ ] # ; = - line breaks`},
				tsPath:      {`PROFILE_NAME_FORBIDDEN = "[]#;=-"`, `#;=\\-\\p{Cc}`, `without [ ] # ; = - line breaks`},
			},
		},
		{
			name: "credentials-file default path", from: `"defaultPath": "~/.aws/credentials"`, to: `"defaultPath": "~/.aws/creds"`,
			want: map[string][]string{
				RulesGoPath: {`CredentialsFileDefault = "~/.aws/creds"`},
				tsPath:      {`CREDENTIALS_FILE_DEFAULT = "~/.aws/creds"`},
			},
		},
		{
			name: "token-session text", from: `"text": "a web identity token, not credentials"`, to: `"text": "a JWT, not credentials"`,
			want: map[string][]string{
				RulesGoPath: {`TokenSessionHolds = "a JWT, not credentials"`, `" holds a JWT, not credentials, so it cannot "`},
				tsPath:      {`TOKEN_SESSION_HOLDS = "a JWT, not credentials"`, `" holds a JWT, not credentials, so it cannot "`},
			},
		},
		{
			name: "required",
			from: `"params": [{"name": "AccessKeyId", "required": true}]`,
			to:   `"params": [{"name": "AccessKeyId"}]`,
			want: map[string][]string{
				goPath: {"{Spec: ParamAccessKeyId},"},
				tsPath: {`{ name: "AccessKeyId", required: false, secret: false }`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := changedModel(t, model, pkg, tt.from, tt.to)
			var goSide, tsSide bool
			for path := range tt.want {
				goSide = goSide || strings.HasSuffix(path, ".go")
				tsSide = tsSide || !strings.HasSuffix(path, ".go")
			}
			if !goSide || !tsSide {
				t.Fatal("every case checks both languages")
			}
			for path, wants := range tt.want {
				got := string(files[path])
				if got == string(base[path]) {
					t.Errorf("%s did not change", path)
				}
				for _, want := range wants {
					if !strings.Contains(got, want) {
						t.Errorf("%s does not hold %q", path, want)
					}
				}
			}
		})
	}
}

// TestGeneratedGoFollowsTheModel checks that the interface, the method table and the params
// structs follow the model: a method's lane and params type, and a parameter's type.
func TestGeneratedGoFollowsTheModel(t *testing.T) {
	model, pkg := string(readRoot(t, ModelPath)), readRoot(t, PackageJSONPath)
	tests := []struct {
		name, from, to string
		path           string
		want           []string
	}{
		{
			name: "lane",
			from: `{"name": "sessions/list", "kind": "request", "lane": "local"`,
			to:   `{"name": "sessions/list", "kind": "request", "lane": "network"`,
			path: DispatchGoPath,
			want: []string{"protocol.MethodSessionsList: {Handle: func(ctx context.Context, _ json.RawMessage) (any, error) {"},
		},
		{
			name: "a method's params",
			from: `{"name": "sessions/forget", "kind": "request", "lane": "local", "params": "SessionNameParams"`,
			to:   `{"name": "sessions/forget", "kind": "request", "lane": "local", "params": "WriteProfileParams"`,
			path: MethodsGoPath,
			want: []string{"SessionsForget(ctx context.Context, params *WriteProfileParams) (*SessionList, error)"},
		},
		{
			name: "a parameter's type",
			from: `"ProviderId": {"type": "string"`,
			to:   `"ProviderId": {"type": "stringList"`,
			path: ParamsGoPath,
			want: []string{"ProviderId []string", `p.ProviderId = argStrings(args["ProviderId"])`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := changedModel(t, model, pkg, tt.from, tt.to)
			for _, want := range tt.want {
				if !strings.Contains(string(files[tt.path]), want) {
					t.Errorf("%s does not hold %q", tt.path, want)
				}
			}
		})
	}
}

// TestLaneIsChecked refuses a method the sidecar receives without a lane it knows.
func TestLaneIsChecked(t *testing.T) {
	model := string(readRoot(t, ModelPath))
	from := `{"name": "sessions/list", "kind": "request", "lane": "local"`
	bad := strings.Replace(model, from, `{"name": "sessions/list", "kind": "request", "lane": "fast"`, 1)
	if _, err := ParseModel([]byte(bad)); err == nil || !strings.Contains(err.Error(), `lane "fast"`) {
		t.Fatalf("ParseModel with an unknown lane = %v, want an error naming it", err)
	}
}
