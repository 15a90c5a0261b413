package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"go.uber.org/goleak"

	"awsflow-sts/sidecar/internal/protocol"
)

// testWindow is DefaultWindow's shape: refresh 5 minutes before expiry, minus up to half of that.
var testWindow = aws.CredentialsCacheOptions{ExpiryWindow: 5 * time.Minute, ExpiryWindowJitterFrac: 0.5}

// noJitter makes the window open exactly ExpiryWindow before expiry.
func noJitter() float64 { return 0 }

const newKeyID = "ASIANEWKEY000000ABCD"

// recorder keeps what the Changed hook was told.
type recorder struct {
	mu  sync.Mutex
	got []protocol.SessionsChangedParams
}

func (r *recorder) record(p protocol.SessionsChangedParams) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, p)
}

// take returns the events since the last take, and forgets them.
func (r *recorder) take() []protocol.SessionsChangedParams {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

// keys is "reason:session" for each event, sorted (Maintain visits sessions in map order).
func keys(events []protocol.SessionsChangedParams) []string {
	out := []string{}
	for _, e := range events {
		out = append(out, e.Reason+":"+e.Session)
	}
	slices.Sort(out)
	return out
}

// remaker is a fake Remake hook: it counts calls and returns what next returns.
type remaker struct {
	calls atomic.Int32
	next  func(ctx context.Context, s *Session) (*Session, error)
}

func (r *remaker) remake(ctx context.Context, s *Session) (*Session, error) {
	r.calls.Add(1)
	return r.next(ctx, s)
}

// renewed is what a successful fake Remake returns for old at now: new credentials lasting an hour,
// the same recipe, and a wrong Name and CreatedAt the store must overwrite.
func renewed(old *Session, now time.Time) *Session {
	return &Session{
		Name: old.Name + "-renamed", Command: old.Command, Class: old.Class, Expiration: now.Add(time.Hour),
		Credentials: aws.Credentials{AccessKeyID: newKeyID, SecretAccessKey: "new-secret-" + old.Name + "-0123456789",
			SessionToken: "new-token-" + old.Name + "-0123456789"},
		ARN: old.ARN, Source: old.Source, Recipe: old.Recipe, CreatedAt: now,
	}
}

func testRecipe() *protocol.Recipe {
	return &protocol.Recipe{Command: protocol.CmdAssumeRole, Params: json.RawMessage(`{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"dev"}`),
		Source: protocol.ReservedSessionName}
}

func refreshable(name string, exp time.Time) *Session {
	s := roleSession(name, exp)
	s.Recipe = testRecipe()
	return s
}

// refreshStore is a store with an exact window (jitter 0), a recorder and a fake Remake hook
// that succeeds unless fail says otherwise.
func refreshStore(t *testing.T) (*Store, *clock, *recorder, *remaker) {
	t.Helper()
	st, c, _ := newStore()
	st.SetWindow(testWindow, noJitter)
	rec := &recorder{}
	rm := &remaker{next: func(_ context.Context, s *Session) (*Session, error) { return renewed(s, c.now()), nil }}
	st.SetHooks(Hooks{Remake: rm.remake, Changed: rec.record})
	return st, c, rec, rm
}

func TestRefreshWindow(t *testing.T) {
	tests := []struct {
		name   string
		window aws.CredentialsCacheOptions
		jitter float64
		before time.Duration // how long before expiry the window opens
		tol    time.Duration
	}{
		{"jitter 0", testWindow, 0, 5 * time.Minute, 0},
		{"jitter 0.5", testWindow, 0.5, 3*time.Minute + 45*time.Second, 0},
		{"jitter almost 1", testWindow, 0.999999, 2*time.Minute + 30*time.Second, time.Second},
		{"no window", aws.CredentialsCacheOptions{ExpiryWindowJitterFrac: 0.5}, 0.7, 0, 0},
		{"negative window", aws.CredentialsCacheOptions{ExpiryWindow: -time.Minute, ExpiryWindowJitterFrac: 0.5}, 0.7, 0, 0},
		{"negative frac is 0", aws.CredentialsCacheOptions{ExpiryWindow: 5 * time.Minute, ExpiryWindowJitterFrac: -0.5}, 0.9, 5 * time.Minute, 0},
		{"frac over 1 is 1", aws.CredentialsCacheOptions{ExpiryWindow: 5 * time.Minute, ExpiryWindowJitterFrac: 1.5}, 0.5, 2*time.Minute + 30*time.Second, 0},
		{"frac 1, jitter almost 1", aws.CredentialsCacheOptions{ExpiryWindow: 5 * time.Minute, ExpiryWindowJitterFrac: 1}, 0.999999, 0, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, c, _ := newStore()
			st.SetWindow(tt.window, func() float64 { return tt.jitter })
			exp := c.t.Add(time.Hour)
			st.Put(refreshable("dev", exp))
			got := exp.Sub(st.RefreshAt("dev"))
			if d := got - tt.before; d < -tt.tol || d > tt.tol {
				t.Fatalf("window opens %v before expiry, want %v (±%v)", got, tt.before, tt.tol)
			}
		})
	}

	t.Run("random jitters stay within the window", func(t *testing.T) {
		st, c, _ := newStore()
		r := rand.New(rand.NewPCG(1, 2))
		st.SetWindow(testWindow, r.Float64)
		exp := c.t.Add(time.Hour)
		earliest, latest := exp.Add(-5*time.Minute), exp.Add(-150*time.Second)
		lo, hi := exp, time.Time{}
		for i := range 1000 {
			st.Put(refreshable("dev", exp))
			at := st.RefreshAt("dev")
			if at.Before(earliest) || at.After(latest) {
				t.Fatalf("jitter #%d: refresh at %v, outside [%v, %v]", i, at, earliest, latest)
			}
			if at.Before(lo) {
				lo = at
			}
			if at.After(hi) {
				hi = at
			}
		}
		if spread := hi.Sub(lo); spread < 2*time.Minute {
			t.Fatalf("1000 jitters spread refreshes over only %v", spread)
		}
	})

	t.Run("NewStore uses DefaultWindow", func(t *testing.T) {
		st, c, _ := newStore()
		exp := c.t.Add(time.Hour)
		st.Put(refreshable("dev", exp))
		at := st.RefreshAt("dev")
		if at.Before(exp.Add(-DefaultWindow.ExpiryWindow)) || at.After(exp.Add(-150*time.Second)) {
			t.Fatalf("refresh at %v for expiry %v", at, exp)
		}
	})

	t.Run("no refresh time without recipe or session", func(t *testing.T) {
		st, c, _ := newStore()
		st.Put(roleSession("plain", c.t.Add(time.Hour)))
		if at := st.RefreshAt("plain"); !at.IsZero() {
			t.Fatalf("RefreshAt(plain) = %v", at)
		}
		if at := st.RefreshAt("missing"); !at.IsZero() {
			t.Fatalf("RefreshAt(missing) = %v", at)
		}
	})
}

func TestFreshRefreshesInWindow(t *testing.T) {
	tests := []struct {
		name    string
		at      time.Duration // after the session was stored; it expires an hour after
		refresh bool
	}{
		{"long before the window", time.Minute, false},
		{"a second before the window", 55*time.Minute - time.Second, false},
		{"window opens", 55 * time.Minute, true},
		{"inside the window", 58 * time.Minute, true},
		{"after expiry", 2 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, c, rec, rm := refreshStore(t)
			created := c.t
			old := refreshable("dev", created.Add(time.Hour))
			st.Put(old)
			rec.take()
			c.t = created.Add(tt.at)

			got, err := st.Fresh(context.Background(), "dev")
			if err != nil {
				t.Fatal(err)
			}
			events := rec.take()
			if !tt.refresh {
				if got != old || rm.calls.Load() != 0 || len(events) != 0 {
					t.Fatalf("before the window: same session %v, Remake calls %d, events %v", got == old, rm.calls.Load(), keys(events))
				}
				return
			}
			if n := rm.calls.Load(); n != 1 {
				t.Fatalf("Remake called %d times, want 1", n)
			}
			if got == old || got.Credentials.AccessKeyID != newKeyID {
				t.Fatalf("Fresh returned the old credentials %q", got.Credentials.AccessKeyID)
			}
			if got.Name != "dev" || !got.CreatedAt.Equal(created) || !got.RefreshedAt.Equal(c.t) {
				t.Fatalf("name %q createdAt %v refreshedAt %v; want dev, %v, %v", got.Name, got.CreatedAt, got.RefreshedAt, created, c.t)
			}
			if again, err := st.Get("dev"); err != nil || again != got {
				t.Fatalf("Get after refresh = %v, %v", again, err)
			}
			if names := st.Names(); !slices.Equal(names, []string{"dev"}) {
				t.Fatalf("names = %v", names)
			}
			if want := c.t.Add(time.Hour - 5*time.Minute); !st.RefreshAt("dev").Equal(want) {
				t.Fatalf("next refresh at %v, want %v", st.RefreshAt("dev"), want)
			}
			if len(events) != 1 || events[0].Reason != ReasonRefreshed || events[0].Session != "dev" {
				t.Fatalf("events = %v", keys(events))
			}
			e := events[0]
			if !strings.Contains(e.Message, c.t.Add(time.Hour).UTC().Format(time.RFC3339)) {
				t.Errorf("message lacks the new expiry: %q", e.Message)
			}
			if e.Info == nil || e.Info.Name != "dev" || e.Active != protocol.ReservedSessionName {
				t.Fatalf("event = %+v", e)
			}
			info := *e.Info
			if info.AccessKeyID != "ASIA…ABCD" || info.RefreshedAt != c.t.UTC().Format(time.RFC3339) || info.Expired || !info.Refreshable {
				t.Fatalf("listed after refresh: %+v", info)
			}
			if got := st.secrets.Scrub("new-secret-dev-0123456789"); got != "[redacted]" {
				t.Fatalf("new secret not registered: %q", got)
			}
		})
	}

	t.Run("no recipe: never re-made", func(t *testing.T) {
		st, c, rec, rm := refreshStore(t)
		old := roleSession("plain", c.t.Add(time.Hour))
		st.Put(old)
		rec.take()
		c.t = c.t.Add(59 * time.Minute)
		got, err := st.Fresh(context.Background(), "plain")
		if err != nil || got != old || rm.calls.Load() != 0 || len(rec.take()) != 0 {
			t.Fatalf("Fresh = %v, %v; calls %d", got, err, rm.calls.Load())
		}
	})

	t.Run("missing session", func(t *testing.T) {
		st, _, _, rm := refreshStore(t)
		if _, err := st.Fresh(context.Background(), "nope"); !errors.Is(err, ErrNotFound) || rm.calls.Load() != 0 {
			t.Fatalf("Fresh(nope) = %v; calls %d", err, rm.calls.Load())
		}
	})
}

func TestFreshConcurrentRefreshOnce(t *testing.T) {
	for _, n := range []int{2, 50} {
		t.Run(fmt.Sprintf("%d callers", n), func(t *testing.T) {
			st, c, rec, rm := refreshStore(t)
			st.Put(refreshable("dev", c.t.Add(time.Hour)))
			rec.take()
			c.t = c.t.Add(56 * time.Minute)
			now := c.t
			rm.next = func(_ context.Context, s *Session) (*Session, error) {
				time.Sleep(20 * time.Millisecond) // let the other callers pile up
				return renewed(s, now), nil
			}
			start := make(chan struct{})
			var wg sync.WaitGroup
			keyIDs := make([]string, n)
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					<-start
					s, err := st.Fresh(context.Background(), "dev")
					errs[i] = err
					if s != nil {
						keyIDs[i] = s.Credentials.AccessKeyID
					}
				})
			}
			close(start)
			wg.Wait()
			if calls := rm.calls.Load(); calls != 1 {
				t.Fatalf("Remake called %d times, want 1", calls)
			}
			for i := range n {
				if errs[i] != nil || keyIDs[i] != newKeyID {
					t.Fatalf("caller %d: key %q, err %v", i, keyIDs[i], errs[i])
				}
			}
			if events := keys(rec.take()); !slices.Equal(events, []string{"refreshed:dev"}) {
				t.Fatalf("events = %v", events)
			}
		})
	}
}

func TestFreshRemakeFailure(t *testing.T) {
	st, c, rec, rm := refreshStore(t)
	created := c.t
	exp := created.Add(time.Hour)
	old := refreshable("dev", exp)
	st.Put(old)
	rec.take()
	var failWith atomic.Pointer[string]
	rm.next = func(context.Context, *Session) (*Session, error) { return nil, errors.New(*failWith.Load()) }

	steps := []struct {
		name      string
		at        time.Duration
		err       string
		calls     int32
		failed    []string // refreshFailed messages must contain these, in order; nil: no event
		wantErr   string   // Fresh's error; "" for the old session
		listError string
	}{
		{"window opens, remake fails", 55 * time.Minute, "AccessDenied: not allowed.", 1, []string{"AccessDenied: not allowed.", exp.Format(time.RFC3339)}, "", "AccessDenied: not allowed."},
		{"no retry within a minute", 55*time.Minute + 59*time.Second, "AccessDenied: not allowed.", 1, nil, "", "AccessDenied: not allowed."},
		{"retry after a minute, same error: no new event", 56 * time.Minute, "AccessDenied: not allowed.", 2, nil, "", "AccessDenied: not allowed."},
		{"retry, another error: one new event", 57 * time.Minute, "Throttling: rate exceeded.", 3, []string{"Throttling: rate exceeded."}, "", "Throttling: rate exceeded."},
		{"same error again: no event", 58 * time.Minute, "Throttling: rate exceeded.", 4, nil, "", "Throttling: rate exceeded."},
		{"still no retry within the minute", 58*time.Minute + 30*time.Second, "Throttling: rate exceeded.", 4, nil, "", "Throttling: rate exceeded."},
		{"expired: Fresh fails", time.Hour, "Throttling: rate exceeded.", 5, nil, "expired", "Throttling: rate exceeded."},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			c.t = created.Add(step.at)
			failWith.Store(&step.err)
			got, err := st.Fresh(context.Background(), "dev")
			if step.wantErr == "" {
				if err != nil || got != old {
					t.Fatalf("Fresh = %v, %v; want the old session", got, err)
				}
			} else if !errors.Is(err, ErrExpired) || !strings.Contains(err.Error(), step.wantErr) {
				t.Fatalf("Fresh error = %v, want one saying %q", err, step.wantErr)
			}
			if n := rm.calls.Load(); n != step.calls {
				t.Fatalf("Remake called %d times in all, want %d", n, step.calls)
			}
			events := rec.take()
			if step.failed == nil {
				if len(events) != 0 {
					t.Fatalf("unexpected events %v", keys(events))
				}
			} else {
				if len(events) != 1 || events[0].Reason != ReasonRefreshFailed || events[0].Session != "dev" {
					t.Fatalf("events = %v, want one refreshFailed", keys(events))
				}
				for _, w := range step.failed {
					if !strings.Contains(events[0].Message, w) {
						t.Errorf("message %q lacks %q", events[0].Message, w)
					}
				}
				if events[0].Info.RefreshError != step.err {
					t.Errorf("event list refreshError = %q", events[0].Info.RefreshError)
				}
			}
			if re := st.List().Sessions[0].RefreshError; re != step.listError {
				t.Fatalf("listed refreshError %q, want %q", re, step.listError)
			}
		})
	}
}

func TestMaintain(t *testing.T) {
	type step struct {
		at   time.Duration // after the start; sessions are stored at the start
		want []string      // "reason:session", sorted
		msgs []string      // texts the step's messages must hold between them
	}
	denied := errors.New("AccessDenied: the role trust policy changed")
	tests := []struct {
		name     string
		sessions func(start time.Time) []*Session
		fail     error // what Remake returns; nil: it succeeds
		steps    []step
		after    func(t *testing.T, st *Store)
	}{
		{
			name: "refreshes due sessions only",
			sessions: func(start time.Time) []*Session {
				return []*Session{refreshable("a", start.Add(time.Hour)), refreshable("b", start.Add(2*time.Hour))}
			},
			steps: []step{
				{at: 50 * time.Minute, want: []string{}}, // a recipe session is not "expiring"
				{at: 55 * time.Minute, want: []string{"refreshed:a"}},
				{at: 56 * time.Minute, want: []string{}},
				// a now expires at 1h55m (refresh 1h50m), b at 2h (refresh 1h55m).
				{at: 115 * time.Minute, want: []string{"refreshed:a", "refreshed:b"}},
			},
			after: func(t *testing.T, st *Store) {
				for _, n := range []string{"a", "b"} {
					if s, err := st.Get(n); err != nil || s.Credentials.AccessKeyID != newKeyID {
						t.Errorf("%s after refresh: %v, %v", n, s, err)
					}
				}
			},
		},
		{
			name: "no recipe: expiring once, then expired once",
			sessions: func(start time.Time) []*Session {
				s := roleSession("mfa", start.Add(time.Hour))
				s.Command, s.Class, s.MFASerial = protocol.CmdGetSessionToken, ClassSessionToken, "arn:aws:iam::123456789012:mfa/alice"
				return []*Session{s}
			},
			steps: []step{
				{at: 50*time.Minute - time.Second, want: []string{}},
				{at: 50 * time.Minute, want: []string{"expiring:mfa"}, msgs: []string{"expires in 10 min", "it needs an MFA code", "run GetSessionToken again"}},
				{at: 55 * time.Minute, want: []string{}},
				{at: time.Hour - time.Second, want: []string{}},
				{at: time.Hour, want: []string{"expired:mfa"}, msgs: []string{`Session "mfa" has expired`}},
				{at: 2 * time.Hour, want: []string{}},
			},
		},
		{
			name:     "no recipe, first seen after expiry: expired only",
			sessions: func(start time.Time) []*Session { return []*Session{roleSession("dev", start.Add(time.Hour))} },
			steps: []step{
				{at: time.Hour + time.Second, want: []string{"expired:dev"}},
				{at: time.Hour + time.Minute, want: []string{}},
			},
		},
		{
			name:     "recipe whose refresh fails: expiring once, then expired once",
			sessions: func(start time.Time) []*Session { return []*Session{refreshable("dev", start.Add(time.Hour))} },
			fail:     denied,
			steps: []step{
				{at: 50 * time.Minute, want: []string{}},
				{at: 55 * time.Minute, want: []string{"expiring:dev", "refreshFailed:dev"}, msgs: []string{"its refresh failed: " + denied.Error(), "expires in 5 min"}},
				{at: 56 * time.Minute, want: []string{}},
				{at: 58 * time.Minute, want: []string{}},
				{at: time.Hour, want: []string{"expired:dev"}},
				{at: time.Hour + 5*time.Minute, want: []string{}},
			},
		},
		{
			name:     "expired recipe session is re-made, not reported",
			sessions: func(start time.Time) []*Session { return []*Session{refreshable("dev", start.Add(time.Hour))} },
			steps: []step{
				{at: 3 * time.Hour, want: []string{"refreshed:dev"}},
				{at: 3*time.Hour + time.Minute, want: []string{}},
			},
			after: func(t *testing.T, st *Store) {
				s, err := st.Get("dev")
				if err != nil || s.Credentials.AccessKeyID != newKeyID {
					t.Fatalf("Get after re-make = %v, %v", s, err)
				}
			},
		},
		{
			name:     "expired recipe session that cannot be re-made is reported once",
			sessions: func(start time.Time) []*Session { return []*Session{refreshable("dev", start.Add(time.Hour))} },
			fail:     denied,
			steps: []step{
				{at: 3 * time.Hour, want: []string{"expired:dev", "refreshFailed:dev"}},
				{at: 3*time.Hour + 2*time.Minute, want: []string{}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, c, rec, rm := refreshStore(t)
			if tt.fail != nil {
				rm.next = func(context.Context, *Session) (*Session, error) { return nil, tt.fail }
			}
			start := c.t
			for _, s := range tt.sessions(start) {
				st.Put(s)
			}
			rec.take()
			for _, s := range tt.steps {
				c.t = start.Add(s.at)
				st.Maintain(context.Background())
				events := rec.take()
				if got := keys(events); !slices.Equal(got, s.want) {
					t.Fatalf("at +%v: events %v, want %v", s.at, got, s.want)
				}
				var msgs strings.Builder
				for _, e := range events {
					msgs.WriteString(e.Message + "\n")
				}
				for _, m := range s.msgs {
					if !strings.Contains(msgs.String(), m) {
						t.Errorf("at +%v: messages lack %q:\n%s", s.at, m, msgs.String())
					}
				}
			}
			if tt.after != nil {
				tt.after(t, st)
			}
		})
	}

	t.Run("cancelled context refreshes nothing", func(t *testing.T) {
		st, c, _, rm := refreshStore(t)
		st.Put(refreshable("dev", c.t.Add(time.Hour)))
		c.t = c.t.Add(58 * time.Minute)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		st.Maintain(ctx)
		if n := rm.calls.Load(); n != 0 {
			t.Fatalf("Remake called %d times with a cancelled context", n)
		}
	})
}

func TestRefreshRacesForgetAndReplace(t *testing.T) {
	replacementKey := "ASIAREPLACEMENT00001"
	tests := []struct {
		name    string
		trigger func(st *Store)
		fail    bool // Remake fails
		during  func(st *Store, c *clock) error
		check   func(t *testing.T, st *Store)
	}{
		{
			name:    "Fresh, forgotten",
			trigger: func(st *Store) { _, _ = st.Fresh(context.Background(), "dev") },
			during:  func(st *Store, _ *clock) error { return st.Forget("dev") },
			check:   assertGone,
		},
		{
			name:    "Maintain, forgotten",
			trigger: func(st *Store) { st.Maintain(context.Background()) },
			during:  func(st *Store, _ *clock) error { return st.Forget("dev") },
			check:   assertGone,
		},
		{
			name:    "Fresh, forgotten, remake fails",
			trigger: func(st *Store) { _, _ = st.Fresh(context.Background(), "dev") },
			fail:    true,
			during:  func(st *Store, _ *clock) error { return st.Forget("dev") },
			check:   assertGone,
		},
		{
			name:    "Fresh, replaced",
			trigger: func(st *Store) { _, _ = st.Fresh(context.Background(), "dev") },
			during: func(st *Store, c *clock) error {
				s := roleSession("dev", c.t.Add(2*time.Hour))
				s.Credentials.AccessKeyID = replacementKey
				st.Put(s)
				return nil
			},
			check: func(t *testing.T, st *Store) { assertKey(t, st, replacementKey) },
		},
		{
			name:    "Maintain, replaced",
			trigger: func(st *Store) { st.Maintain(context.Background()) },
			during: func(st *Store, c *clock) error {
				s := roleSession("dev", c.t.Add(2*time.Hour))
				s.Credentials.AccessKeyID = replacementKey
				st.Put(s)
				return nil
			},
			check: func(t *testing.T, st *Store) { assertKey(t, st, replacementKey) },
		},
		{
			name:    "Fresh, replaced, remake fails",
			trigger: func(st *Store) { _, _ = st.Fresh(context.Background(), "dev") },
			fail:    true,
			during: func(st *Store, c *clock) error {
				s := roleSession("dev", c.t.Add(2*time.Hour))
				s.Credentials.AccessKeyID = replacementKey
				st.Put(s)
				return nil
			},
			check: func(t *testing.T, st *Store) {
				assertKey(t, st, replacementKey)
				if re := st.List().Sessions[0].RefreshError; re != "" {
					t.Fatalf("the replacement carries the old session's refresh error %q", re)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, c, rec, rm := refreshStore(t)
			st.Put(refreshable("dev", c.t.Add(time.Hour)))
			c.t = c.t.Add(57 * time.Minute)
			entered, release := make(chan struct{}), make(chan struct{})
			now := c.t
			rm.next = func(_ context.Context, s *Session) (*Session, error) {
				close(entered)
				<-release
				if tt.fail {
					return nil, errors.New("AccessDenied")
				}
				return renewed(s, now), nil
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				tt.trigger(st)
			}()
			select {
			case <-entered:
			case <-time.After(5 * time.Second):
				t.Fatal("Remake was not called")
			}
			if err := tt.during(st, c); err != nil {
				t.Fatal(err)
			}
			rec.take()
			close(release)
			<-done
			if events := keys(rec.take()); len(events) != 0 {
				t.Fatalf("events after the session changed under the refresh: %v", events)
			}
			tt.check(t, st)
		})
	}
}

func assertGone(t *testing.T, st *Store) {
	t.Helper()
	if names := st.Names(); len(names) != 0 {
		t.Fatalf("forgotten session came back: %v", names)
	}
	if _, err := st.Get("dev"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(dev) = %v", err)
	}
}

func assertKey(t *testing.T, st *Store, keyID string) {
	t.Helper()
	s, err := st.Get("dev")
	if err != nil {
		t.Fatal(err)
	}
	if s.Credentials.AccessKeyID != keyID {
		t.Fatalf("stored key %q, want %q", s.Credentials.AccessKeyID, keyID)
	}
}

func TestRunStopsWithContext(t *testing.T) {
	defer goleak.VerifyNone(t)
	tests := []struct {
		name      string
		minPasses int32
		cancelled bool // the context is cancelled before Run starts
	}{
		{"runs passes until cancelled", 3, false},
		{"already cancelled", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, c, _, rm := refreshStore(t)
			now := c.t
			// Every re-made session is due again at once, so each pass calls Remake.
			rm.next = func(_ context.Context, s *Session) (*Session, error) {
				fresh := renewed(s, now)
				fresh.Expiration = now
				return fresh, nil
			}
			st.Put(refreshable("dev", now.Add(time.Minute)))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancelled {
				cancel()
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				st.Run(ctx, 5*time.Millisecond)
			}()
			deadline := time.Now().Add(5 * time.Second)
			for rm.calls.Load() < tt.minPasses {
				if time.Now().After(deadline) {
					t.Fatalf("only %d passes in 5 s", rm.calls.Load())
				}
				time.Sleep(time.Millisecond)
			}
			cancel()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return after its context was cancelled")
			}
			calls := rm.calls.Load()
			time.Sleep(30 * time.Millisecond)
			if later := rm.calls.Load(); later != calls {
				t.Fatalf("Maintain kept running after Run returned: %d then %d passes", calls, later)
			}
			if tt.cancelled && calls != 0 {
				t.Fatalf("a cancelled Run made %d passes", calls)
			}
		})
	}
}

func TestRefreshErrorScrubsSecrets(t *testing.T) {
	const secret, token = "secret-dev-0123456789", "token-dev-0123456789"
	tests := []struct {
		name string
		err  string
	}{
		{"secret key", "signature by " + secret + " does not match"},
		{"session token", "token " + token + " is expired."},
		{"both", secret + ":" + token},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, c, rec, rm := refreshStore(t)
			rm.next = func(context.Context, *Session) (*Session, error) { return nil, errors.New(tt.err) }
			st.Put(refreshable("dev", c.t.Add(time.Hour)))
			rec.take()
			c.t = c.t.Add(56 * time.Minute)
			if _, err := st.Fresh(context.Background(), "dev"); err != nil {
				t.Fatal(err)
			}
			st.Maintain(context.Background()) // says "expiring", with the reason
			events := rec.take()
			if got := keys(events); !slices.Equal(got, []string{"expiring:dev", "refreshFailed:dev"}) {
				t.Fatalf("events = %v", got)
			}
			texts := []string{st.List().Sessions[0].RefreshError}
			for _, e := range events {
				texts = append(texts, e.Message, e.Info.RefreshError)
			}
			for _, text := range texts {
				if strings.Contains(text, secret) || strings.Contains(text, token) {
					t.Fatalf("secret in %q", text)
				}
				if !strings.Contains(text, "[redacted]") {
					t.Fatalf("no placeholder in %q", text)
				}
			}
		})
	}
}
