package protocolgen

import (
	"strings"
	"testing"
)

// TestRenderLikeJSONStringify checks the layout against what JSON.stringify(v, null, 2) prints
// for the same value (taken from Node).
func TestRenderLikeJSONStringify(t *testing.T) {
	in := `{"b":1,"a":{"z":[],"y":{},"x":["s\"q",2.5,true,null]},"u":"é\u2028\t<&>/"}`
	want := "{\n  \"b\": 1,\n  \"a\": {\n    \"z\": [],\n    \"y\": {},\n    \"x\": [\n      \"s\\\"q\",\n      2.5,\n      true,\n      null\n    ]\n  },\n  \"u\": \"é\u2028\\t<&>/\"\n}"
	n, err := parseOrdered([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	n.render(&b, "")
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestPackageJSONKeepsTheRest(t *testing.T) {
	m, err := ParseModel([]byte(`{"protocolVersion":1,"tool":{"name":"T","toolReferenceName":"t"},"commonParams":[],"commands":[],"params":{},"errors":[],"methods":[],"types":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.packageJSON([]byte(`{"name":"x","contributes":{"commands":[{"command":"a"}],"languageModelTools":[{"old":true}]},"z":2}`))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if !strings.Contains(s, `"command": "a"`) || strings.Contains(s, `"old"`) || !strings.Contains(s, `"name": "T"`) || !strings.HasSuffix(s, "  \"z\": 2\n}\n") {
		t.Fatalf("got\n%s", s)
	}
}
