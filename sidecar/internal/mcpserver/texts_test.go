package mcpserver

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// textsFile holds the cases the extension's invocation.ts is checked against too
// (extension/test/texts.test.ts): both renderers must produce exactly these texts.
const textsFile = "../../../protocol/testdata/texts/cases.json"

type textCase struct {
	Command      string `json:"command"`
	Params       Params `json:"params"`
	Invocation   string `json:"invocation"`
	Confirmation *struct {
		Title   string `json:"title"`
		Message string `json:"message"`
	} `json:"confirmation"`
}

func TestTextsMatchTheExtension(t *testing.T) {
	raw, err := os.ReadFile(textsFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []textCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) < 30 {
		t.Fatalf("only %d cases in %s", len(doc.Cases), textsFile)
	}
	confirmed := 0
	for _, c := range doc.Cases {
		if got := Invocation(c.Command, c.Params); got != c.Invocation {
			t.Errorf("Invocation(%q, %v):\n got %q\nwant %q", c.Command, c.Params, got, c.Invocation)
		}
		title, message, ok := Confirmation(c.Command, c.Params)
		switch {
		case c.Confirmation == nil && ok:
			t.Errorf("Confirmation(%q, %v) = %q, want none", c.Command, c.Params, title)
		case c.Confirmation != nil && !ok:
			t.Errorf("Confirmation(%q, %v): none, want %q", c.Command, c.Params, c.Confirmation.Title)
		case c.Confirmation != nil:
			confirmed++
			if title != c.Confirmation.Title || message != c.Confirmation.Message {
				t.Errorf("Confirmation(%q, %v):\n got %q / %q\nwant %q / %q", c.Command, c.Params, title, message, c.Confirmation.Title, c.Confirmation.Message)
			}
		}
	}
	if confirmed < 10 {
		t.Errorf("only %d cases have a confirmation", confirmed)
	}
}

func TestWriteProfileTexts(t *testing.T) {
	p := Params{"SessionName": "dev", "Profile": "dev-profile", "Path": "~/.aws/other"}
	if got, want := Invocation("WriteProfile", p), "Writing session dev to profile dev-profile in ~/.aws/other"; got != want {
		t.Errorf("Invocation = %q, want %q", got, want)
	}
	title, message, ok := Confirmation("WriteProfile", Params{"SessionName": "dev", "Profile": "dev-profile"})
	if !ok || title != "Write AWS credentials to a file?" ||
		!strings.HasPrefix(message, "Write the credentials of session `dev` as profile `dev-profile` of the shared credentials file.") {
		t.Errorf("Confirmation = %v %q %q", ok, title, message)
	}
}
