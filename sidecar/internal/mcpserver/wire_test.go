package mcpserver

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// rawClient speaks to the harness's server line by line, as a hostile or old client would.
type rawClient struct {
	t     *testing.T
	h     *harness
	lines chan string
}

func (h *harness) raw() *rawClient {
	c := &rawClient{t: h.t, h: h, lines: make(chan string, 64)}
	go func() {
		sc := bufio.NewScanner(h.fromServer)
		sc.Buffer(make([]byte, 1<<20), 4<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	return c
}

func (c *rawClient) send(line string) {
	c.t.Helper()
	if _, err := c.h.toServer.Write([]byte(line + "\n")); err != nil {
		c.t.Fatal(err)
	}
}

// reply is one message the server sent.
type reply struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int64  `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// next returns the next response (skipping notifications).
func (c *rawClient) next() reply {
	c.t.Helper()
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				c.t.Fatal("the server closed the connection")
			}
			var r reply
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				c.t.Fatalf("not JSON: %q", line)
			}
			if r.Method != "" {
				continue
			}
			return r
		case <-time.After(10 * time.Second):
			c.t.Fatal("no answer")
		}
	}
}

func (c *rawClient) expectError(id string, code int64) reply {
	c.t.Helper()
	r := c.next()
	if string(r.ID) != id || r.Error == nil || r.Error.Code != code {
		c.t.Fatalf("got id %s error %+v, want id %s code %d", r.ID, r.Error, id, code)
	}
	return r
}

func initialize(id int, version string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"initialize","params":{"protocolVersion":%q,"capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`, id, version)
}

func TestNegotiation(t *testing.T) {
	cases := map[string]string{
		"2025-06-18": "2025-06-18", // what clients in use send
		"2025-11-25": "2025-11-25",
		"2024-11-05": "2024-11-05", // old, still supported
		"2099-01-01": "2025-11-25", // unknown: the newest the initialize handshake can give
		"garbage":    "2025-11-25",
	}
	for sent, want := range cases {
		t.Run(sent, func(t *testing.T) {
			h := newHarness(t, options{})
			c := h.raw()
			c.send(initialize(1, sent))
			r := c.next()
			var res struct {
				ProtocolVersion string `json:"protocolVersion"`
				ServerInfo      struct{ Name, Version string }
			}
			if err := json.Unmarshal(r.Result, &res); err != nil || r.Error != nil {
				t.Fatalf("initialize: %s %+v", r.Result, r.Error)
			}
			if res.ProtocolVersion != want || res.ServerInfo.Name != "awsflow-sts" || res.ServerInfo.Version != "1.2.3-test" {
				t.Errorf("%+v, want protocol %s", res, want)
			}
		})
	}
	t.Run("the SDK's newest, over server/discover", func(t *testing.T) {
		h := newHarness(t, options{})
		cs := h.connect(clientOptions{})
		if got := cs.InitializeResult().ProtocolVersion; got != "2026-07-28" {
			t.Errorf("negotiated %s", got)
		}
	})
}

func TestHostileLines(t *testing.T) {
	h := newHarness(t, options{})
	c := h.raw()
	// Before initialize: refused, and initialize still works afterwards.
	c.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	if r := c.next(); string(r.ID) != "1" || r.Error == nil {
		t.Fatalf("tools/list before initialize: %+v", r)
	}
	c.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"STSTool","arguments":{"command":"GetCallerIdentity"}}}`)
	if r := c.next(); string(r.ID) != "2" || r.Error == nil {
		t.Fatalf("tools/call before initialize: %+v", r)
	}
	if n := len(h.fake.Requests()); n != 0 {
		t.Errorf("STS was called before initialize")
	}
	c.send(initialize(3, "2025-06-18"))
	if r := c.next(); string(r.ID) != "3" || r.Error != nil {
		t.Fatalf("initialize: %+v", r)
	}
	c.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)

	c.send(`this is not json`)
	c.expectError("null", -32700)
	c.send(`{"jsonrpc":"2.0","id":4,"method":`)
	c.expectError("null", -32700)
	c.send(`[1, 2, 3]`)
	c.expectError("null", -32600)
	c.send(`{"jsonrpc":"1.0","id":5,"method":"ping"}`)
	c.expectError("5", -32600)
	c.send(`"just a string"`)
	c.expectError("null", -32600)
	c.send(`{"jsonrpc":"2.0","id":6,"method":"no/such/method"}`)
	c.expectError("6", -32601)
	c.send(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"NoSuchTool","arguments":{}}}`)
	c.expectError("7", -32602)
	c.send(`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":"not an object"}`)
	c.expectError("8", -32602)

	// A line over 1 MiB is refused without reading it as a message, and the next one is served.
	huge := `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"STSTool","arguments":{"command":"GetCallerIdentity","params":{"Policy":"` +
		strings.Repeat("A", MaxLine+10) + `"}}}}`
	c.send(huge)
	r := c.expectError("null", -32600)
	if !strings.Contains(r.Error.Message, "1 MiB") {
		t.Errorf("message %q", r.Error.Message)
	}
	// Just under the limit is a message like any other (the runner refuses the Policy).
	under := `{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"STSTool","arguments":{"command":"GetCallerIdentity","params":{"Policy":"` +
		strings.Repeat("A", MaxLine-200) + `"}}}}`
	c.send(under)
	r = c.next()
	if string(r.ID) != "10" || r.Error != nil || !strings.Contains(string(r.Result), `"isError":true`) {
		t.Errorf("a line under 1 MiB: id %s error %+v", r.ID, r.Error)
	}
	c.send(`{"jsonrpc":"2.0","id":11,"method":"ping"}`)
	if r := c.next(); string(r.ID) != "11" || r.Error != nil {
		t.Fatalf("ping after hostile lines: %+v", r)
	}
	c.send(`{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"STSTool","arguments":{"command":"GetCallerIdentity"}}}`)
	r = c.next()
	if string(r.ID) != "12" || r.Error != nil || !strings.Contains(string(r.Result), "Caller identity") {
		t.Fatalf("GetCallerIdentity after hostile lines: %s %+v", r.Result, r.Error)
	}
}
