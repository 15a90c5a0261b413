package tool

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"awsflow-sts/sidecar/internal/protocol"
)

// MaxListed is how many sessions ListSessions shows the model at most: a model's context is no
// place for thousands of rows, and sessions/list still gives a client every one.
const MaxListed = 50

// listing is the part of the session list the model is shown, and what it is not shown.
type listing struct {
	shown    []protocol.SessionInfo
	total    int // sessions stored
	matching int // of those, the ones the filter matches
	// Counts of the matching sessions not shown.
	hiddenCredentials, hiddenTokens, hiddenExpired int
}

// selectSessions keeps the sessions that contain filter (case-insensitively, in their name, ARN,
// account, command or source) and, past MaxListed, the most relevant of them: the default first,
// then those soonest to expire, expired ones last. A list that fits keeps its order (by name).
func selectSessions(all []protocol.SessionInfo, filter string) listing {
	l := listing{total: len(all), shown: all}
	if filter != "" {
		needle := strings.ToLower(filter)
		l.shown = nil
		for _, s := range all {
			if matches(&s, needle) {
				l.shown = append(l.shown, s)
			}
		}
	}
	l.matching = len(l.shown)
	if len(l.shown) <= MaxListed {
		return l
	}
	// Rank pointers, not the (large) infos themselves.
	ranked := make([]*protocol.SessionInfo, len(l.shown))
	for i := range l.shown {
		ranked[i] = &l.shown[i]
	}
	slices.SortStableFunc(ranked, func(a, b *protocol.SessionInfo) int {
		if a.Active != b.Active {
			return boolFirst(a.Active)
		}
		if a.Expired != b.Expired {
			return boolFirst(!a.Expired)
		}
		return cmp.Compare(a.Expiration, b.Expiration) // RFC 3339 in UTC sorts as time does
	})
	for _, s := range ranked[MaxListed:] {
		if s.Kind == string(protocol.MintsToken) {
			l.hiddenTokens++
		} else {
			l.hiddenCredentials++
		}
		if s.Expired {
			l.hiddenExpired++
		}
	}
	shown := make([]protocol.SessionInfo, MaxListed)
	for i, s := range ranked[:MaxListed] {
		shown[i] = *s
	}
	l.shown = shown
	return l
}

func boolFirst(first bool) int {
	if first {
		return -1
	}
	return 1
}

func matches(s *protocol.SessionInfo, needle string) bool {
	for _, field := range [...]string{s.Name, s.ARN, s.Account, s.Command, s.Source} {
		if containsFold(field, needle) {
			return true
		}
	}
	return false
}

// containsFold tells whether s contains the lower-case needle, ignoring ASCII case (Filter's
// pattern admits only ASCII), without allocating: it runs once per session per field.
func containsFold(s, needle string) bool {
	for i := 0; i+len(needle) <= len(s); i++ {
		j := 0
		for j < len(needle) && lowerASCII(s[i+j]) == needle[j] {
			j++
		}
		if j == len(needle) {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// formatSessions lists the sessions for the model: at most MaxListed of those filter matches,
// with counts of the rest.
func formatSessions(list protocol.SessionList, filter, headline string) result {
	l := selectSessions(list.Sessions, filter)
	var b strings.Builder
	if headline != "" {
		b.WriteString(headline + "\n\n")
	}
	if list.Active == protocol.ReservedSessionName {
		b.WriteString("Default identity: the base identity (the configured profile).\n")
	} else {
		fmt.Fprintf(&b, "Default identity: session `%s`.\n", list.Active)
	}
	switch {
	case l.total == 0:
		b.WriteString("\nNo sessions are stored. Commands that mint credentials (AssumeRole, GetSessionToken, …) store one.")
	case l.matching == 0:
		fmt.Fprintf(&b, "\nNo session of the %d stored matches `%s`.", l.total, filter)
	default:
		if filter != "" {
			fmt.Fprintf(&b, "\nSessions matching `%s`: %d of %d.\n", filter, l.matching, l.total)
		}
		b.WriteString("\n| Session | Kind | ARN | Key | Expires | Made by | Renewal |\n|---|---|---|---|---|---|---|\n")
		for _, s := range l.shown {
			name := "`" + s.Name + "`"
			if s.Active {
				name += " (default)"
			}
			left := timeLeft(time.Duration(s.SecondsLeft) * time.Second)
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s (%s) | %s | %s |\n", name, s.Kind, orDash(s.ARN), orDash(s.AccessKeyID), s.Expiration, left, s.Command, renewal(s))
		}
		if hidden := l.matching - len(l.shown); hidden > 0 {
			fmt.Fprintf(&b, "\nShown: the %d most relevant of %d (the default, then the soonest to expire). Not shown: %d (%d credentials, %d tokens; %d expired). Pass Filter (part of a name, ARN, account or command) to list others.",
				len(l.shown), l.matching, hidden, l.hiddenCredentials, l.hiddenTokens, l.hiddenExpired)
		}
	}
	data := map[string]any{"sessions": l.shown, "active": list.Active}
	if filter != "" || l.matching > len(l.shown) {
		data["total"] = l.total
		data["matching"] = l.matching
		data["notShown"] = map[string]int{"credentials": l.hiddenCredentials, "tokens": l.hiddenTokens, "expired": l.hiddenExpired}
		if filter != "" {
			data["filter"] = filter
		}
	}
	return result{text: strings.TrimRight(b.String(), "\n"), data: data}
}
