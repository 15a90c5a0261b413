package protocolgen

import (
	"encoding/json"
	"strings"
	"testing"
)

// realDocs renders the repository's README and user page from the repository's model and
// package.json.
func realDocs(t *testing.T, model, pkg []byte) map[string][]byte {
	t.Helper()
	files, err := Files(model, pkg)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := DocFiles(model, files[PackageJSONPath], map[string][]byte{
		ReadmePath:   readRoot(t, ReadmePath),
		UserPagePath: readRoot(t, UserPagePath),
	})
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

// block returns the body of the generated block name in text.
func block(t *testing.T, text, name string) string {
	t.Helper()
	begin := strings.Index(text, "<!-- protogen:"+name+" begin")
	end := strings.Index(text, "<!-- protogen:"+name+" end -->")
	if begin < 0 || end < begin {
		t.Fatalf("no %s block", name)
	}
	return text[begin:end]
}

// TestDocTablesListEverything: every awsflowSts.* setting of package.json (the hand-kept ones
// too) is a row of both pages' settings tables, every model method a row of the README's method
// list with its direction, and every palette command a row of the user page.
func TestDocTablesListEverything(t *testing.T) {
	model, pkg := readRoot(t, ModelPath), readRoot(t, PackageJSONPath)
	pages := realDocs(t, model, pkg)
	readme, user := string(pages[ReadmePath]), string(pages[UserPagePath])

	var p struct {
		Contributes struct {
			Commands []struct {
				Command string `json:"command"`
			} `json:"commands"`
			Configuration struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"configuration"`
		} `json:"contributes"`
	}
	if err := json.Unmarshal(pkg, &p); err != nil {
		t.Fatal(err)
	}
	settings := 0
	for key := range p.Contributes.Configuration.Properties {
		if !strings.HasPrefix(key, SettingPrefix) {
			continue
		}
		settings++
		for path, text := range map[string]string{ReadmePath: readme, UserPagePath: user} {
			if !strings.Contains(block(t, text, BlockSettings), "| `"+key+"` |") {
				t.Errorf("%s: settings table lacks %s", path, key)
			}
		}
	}
	for _, must := range []string{"awsflowSts.persistSessions", "awsflowSts.terminalCredentials"} {
		if _, ok := p.Contributes.Configuration.Properties[must]; !ok {
			t.Errorf("package.json lacks %s", must)
		}
	}
	if settings < 10 {
		t.Errorf("only %d settings in package.json", settings)
	}
	for _, c := range p.Contributes.Commands {
		if !strings.Contains(block(t, user, BlockCommands), "| `"+c.Command+"` |") {
			t.Errorf("%s: command table lacks %s", UserPagePath, c.Command)
		}
	}

	m, err := ParseModel(model)
	if err != nil {
		t.Fatal(err)
	}
	methods := block(t, readme, BlockMethods)
	for _, meth := range m.Methods {
		from := "extension → sidecar"
		if meth.Direction == "serverToClient" {
			from = "sidecar → extension"
		}
		if row := "| `" + meth.Name + "` | " + from + " | " + meth.Kind + " |"; !strings.Contains(methods, row) {
			t.Errorf("README method list lacks %q", row)
		}
	}
	for _, must := range []string{"profiles/list", "sessions/import", "sessions/writeProfile", "sso/authorize"} {
		if !strings.Contains(methods, "| `"+must+"` |") {
			t.Errorf("README method list lacks %s", must)
		}
	}
	if strings.Contains(block(t, readme, BlockSettings), settingSuffix) {
		t.Errorf("settings rows repeat %q", settingSuffix)
	}
}

// TestDocTablesFollowTheSources: a method added to the model, or a setting added to package.json,
// reaches the pages, text outside the blocks is kept, and rendering twice changes nothing.
func TestDocTablesFollowTheSources(t *testing.T) {
	model, pkg := string(readRoot(t, ModelPath)), string(readRoot(t, PackageJSONPath))
	const anchor = `"methods": [`
	if !strings.Contains(model, anchor) {
		t.Fatalf("model lacks %s", anchor)
	}
	model = strings.Replace(model, anchor, anchor+`
    {"name": "zz/probe", "kind": "notification", "direction": "serverToClient", "params": "CancelParams", "description": "A probe | with a pipe."},`, 1)
	const settingAnchor = `"awsflowSts.profile": {`
	if !strings.Contains(pkg, settingAnchor) {
		t.Fatalf("package.json lacks %s", settingAnchor)
	}
	pkg = strings.Replace(pkg, settingAnchor, `"awsflowSts.zzProbe": {"type": "integer", "default": 7, "minimum": 2, "maximum": 9, "markdownDescription": "A probe\nsetting."},
        `+settingAnchor, 1)
	pages := realDocs(t, []byte(model), []byte(pkg))
	readme, user := string(pages[ReadmePath]), string(pages[UserPagePath])
	if want := "| `zz/probe` | sidecar → extension | notification | A probe \\| with a pipe. |"; !strings.Contains(readme, want) {
		t.Errorf("README lacks %q", want)
	}
	want := "| `awsflowSts.zzProbe` | `7` | A probe setting. From 2 to 9. |"
	for path, text := range map[string]string{ReadmePath: readme, UserPagePath: user} {
		if !strings.Contains(text, want) {
			t.Errorf("%s lacks %q", path, want)
		}
	}
	for _, keep := range []string{"## Layout", "### How a call flows"} {
		if !strings.Contains(readme, keep) {
			t.Errorf("README lost %q", keep)
		}
	}
	if !strings.Contains(user, "## Troubleshooting") {
		t.Errorf("user page lost its troubleshooting section")
	}
	again, err := DocFiles([]byte(model), mustFiles(t, []byte(model), []byte(pkg))[PackageJSONPath], pages)
	if err != nil {
		t.Fatal(err)
	}
	for path := range pages {
		if string(again[path]) != string(pages[path]) {
			t.Errorf("%s changes when rendered twice", path)
		}
	}
}

func mustFiles(t *testing.T, model, pkg []byte) map[string][]byte {
	t.Helper()
	files, err := Files(model, pkg)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestDocBlocksChecked: a page without a block it must carry, an unknown block, or an unclosed
// or stray marker fails generation instead of writing a page without its table.
func TestDocBlocksChecked(t *testing.T) {
	model, pkg := readRoot(t, ModelPath), readRoot(t, PackageJSONPath)
	good := map[string]string{
		ReadmePath:   "# R\n<!-- protogen:settings begin -->\n<!-- protogen:settings end -->\n<!-- protogen:methods begin -->\nold\n<!-- protogen:methods end -->\n",
		UserPagePath: "# U\n<!-- protogen:commands begin -->\n<!-- protogen:commands end -->\n<!-- protogen:settings begin -->\n<!-- protogen:settings end -->\n",
	}
	docs := func(readme string) map[string][]byte {
		return map[string][]byte{ReadmePath: []byte(readme), UserPagePath: []byte(good[UserPagePath])}
	}
	out, err := DocFiles(model, pkg, docs(good[ReadmePath]))
	if err != nil {
		t.Fatalf("good pages: %v", err)
	}
	if r := string(out[ReadmePath]); strings.Contains(r, "\nold\n") || !strings.Contains(r, "| `initialize` |") {
		t.Errorf("methods block not replaced:\n%s", r)
	}
	tests := map[string]string{
		"no methods block": "# R\n<!-- protogen:settings begin -->\n<!-- protogen:settings end -->\n",
		"unknown block":    good[ReadmePath] + "<!-- protogen:bogus begin -->\n<!-- protogen:bogus end -->\n",
		"unclosed":         good[ReadmePath] + "<!-- protogen:commands begin -->\n",
		"stray end":        good[ReadmePath] + "<!-- protogen:commands end -->\n",
		"twice":            good[ReadmePath] + "<!-- protogen:methods begin -->\n<!-- protogen:methods end -->\n",
		"nested":           strings.Replace(good[ReadmePath], "old", "<!-- protogen:commands begin -->", 1),
	}
	for name, readme := range tests {
		if _, err := DocFiles(model, pkg, docs(readme)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := DocFiles(model, pkg, map[string][]byte{ReadmePath: []byte(good[ReadmePath])}); err == nil {
		t.Errorf("a missing user page: no error")
	}
}
