package tool

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/protocol"
)

// sessionsFor returns n credentials sessions expiring one minute apart in reverse name order, so
// that name order and expiry order differ.
func sessionsFor(n int, active string) protocol.SessionList {
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	list := protocol.SessionList{Active: active}
	for i := range n {
		name := fmt.Sprintf("s-%04d", i)
		list.Sessions = append(list.Sessions, protocol.SessionInfo{
			Name: name, Kind: "credentials", Command: "AssumeRole", Account: "123456789012",
			ARN:        fmt.Sprintf("arn:aws:sts::123456789012:assumed-role/Role%d/%s", i%3, name),
			Expiration: base.Add(time.Duration(n-i) * time.Minute).Format(time.RFC3339), SecondsLeft: int64(n-i) * 60,
			Active: name == active,
		})
	}
	return list
}

func shownNames(t *testing.T, r result) []string {
	t.Helper()
	var names []string
	for _, s := range r.data["sessions"].([]protocol.SessionInfo) {
		names = append(names, s.Name)
	}
	return names
}

func TestListSessionsBounded(t *testing.T) {
	t.Run("a list that fits is shown whole, in name order, with nothing added", func(t *testing.T) {
		r := formatSessions(sessionsFor(MaxListed, "base"), "", "")
		if names := shownNames(t, r); len(names) != MaxListed || !slices.IsSorted(names) {
			t.Fatalf("shown %d, sorted %v", len(names), slices.IsSorted(names))
		}
		if len(r.data) != 2 || strings.Contains(r.text, "Not shown") {
			t.Fatalf("data keys %v, text %q", r.data, r.text[len(r.text)-80:])
		}
	})
	t.Run("past the bound: the default, then the soonest to expire, expired last, with counts", func(t *testing.T) {
		list := sessionsFor(130, "s-0003")
		list.Sessions[129].Expired, list.Sessions[129].SecondsLeft = true, 0 // would sort first by expiry
		list.Sessions[128].Kind = string(protocol.MintsToken)
		r := formatSessions(list, "", "")
		names := shownNames(t, r)
		if len(names) != MaxListed || names[0] != "s-0003" || names[1] != "s-0128" || names[2] != "s-0127" {
			t.Fatalf("shown = %v", names[:3])
		}
		if slices.Contains(names, "s-0129") {
			t.Fatal("an expired session was shown before live ones")
		}
		if got := r.data["notShown"].(map[string]int); got["credentials"] != 80 || got["tokens"] != 0 || got["expired"] != 1 || r.data["total"] != 130 {
			t.Fatalf("counts = %v, total %v", got, r.data["total"])
		}
		if !strings.Contains(r.text, "Not shown: 80 (80 credentials, 0 tokens; 1 expired). Pass Filter") {
			t.Fatalf("text lacks the counts: %q", r.text[len(r.text)-200:])
		}
	})
	t.Run("the filter matches name, ARN, account, command or source, ignoring case", func(t *testing.T) {
		r := formatSessions(sessionsFor(300, "base"), "ROLE1/", "")
		names := shownNames(t, r)
		if len(names) != MaxListed || r.data["matching"] != 100 || r.data["filter"] != "ROLE1/" {
			t.Fatalf("shown %d, matching %v, filter %v", len(names), r.data["matching"], r.data["filter"])
		}
		for _, n := range names {
			var i int
			fmt.Sscanf(n, "s-%d", &i)
			if i%3 != 1 {
				t.Fatalf("%s does not match", n)
			}
		}
		if !strings.Contains(r.text, "Sessions matching `ROLE1/`: 100 of 300.") {
			t.Fatalf("text = %q", r.text[:200])
		}
	})
	t.Run("no match says so and how many are stored", func(t *testing.T) {
		r := formatSessions(sessionsFor(7, "base"), "nothing-like-it", "")
		if !strings.Contains(r.text, "No session of the 7 stored matches `nothing-like-it`.") || len(shownNames(t, r)) != 0 {
			t.Fatalf("text = %q", r.text)
		}
	})
	t.Run("10,000 sessions give the model at most the bound", func(t *testing.T) {
		r := formatSessions(sessionsFor(10000, "base"), "", "")
		enc, err := r.encode()
		if err != nil {
			t.Fatal(err)
		}
		if n := len(enc.Text) + len(enc.Data); n > 40_000 {
			t.Fatalf("ListSessions of 10,000 gives %d characters", n)
		}
	})
}

func TestFilterRefusesMarkup(t *testing.T) {
	for _, bad := range []string{"`x`", "a|b", "<img>", "x\ny", "*"} {
		if protocol.Params["Filter"].Pattern.MatchString(bad) {
			t.Errorf("Filter %q accepted", bad)
		}
	}
}
