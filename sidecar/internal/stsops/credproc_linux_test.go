package stsops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/testing/ststest"
)

// processProfiles writes a credential_process script and the profiles using it: `proc` runs it,
// `role` assumes a role with `proc` as its source. The script records its process group in
// dir/pgid, then sleeps (recording the sleep's pid in dir/sleep.pid) when dir/hang exists, else
// prints the fake's base key.
func processProfiles(t *testing.T) (dir string) {
	t.Helper()
	ststest.UseProfile(t, "default", ststest.BaseKeyID, "unused")
	dir = t.TempDir()
	script := filepath.Join(dir, "creds.sh")
	body := fmt.Sprintf(`#!/bin/sh
read -r _ _ _ _ pgid _ < /proc/$$/stat
echo "$pgid" > %[1]s/pgid
if [ -e %[1]s/hang ]; then
	sleep 300 &
	echo $! > %[1]s/sleep.pid
	wait
fi
echo '{"Version":1,"AccessKeyId":"%[2]s","SecretAccessKey":"processSecret"}'
`, dir, ststest.BaseKeyID)
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(os.Getenv("AWS_CONFIG_FILE"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fmt.Fprintf(f, "\n[profile proc]\ncredential_process = %s\n\n[profile role]\nrole_arn = arn:aws:iam::%s:role/Ops\nsource_profile = proc\n", script, ststest.Account)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// ranSupervised fails the test unless the script ran in a process group of its own.
func ranSupervised(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "pgid"))
	if err != nil {
		t.Fatalf("the credential_process did not run: %v", err)
	}
	pgid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if pgid == syscall.Getpgrp() {
		t.Errorf("the credential_process ran in the sidecar's process group %d: not supervised", pgid)
	}
}

// TestCredentialProcessSupervised: a profile's credential_process, run directly or as the source of
// a role profile, runs in a process group of its own, and is killed whole when it outlives the
// request timeout.
func TestCredentialProcessSupervised(t *testing.T) {
	t.Run("direct", func(t *testing.T) {
		dir := processProfiles(t)
		c := NewClients(protocol.Settings{Region: "us-east-1"})
		cr, err := c.BaseCredentials(context.Background(), "proc")
		if err != nil || cr.AccessKeyID != ststest.BaseKeyID {
			t.Fatalf("BaseCredentials = %v, %v; want the process's key", cr.AccessKeyID, err)
		}
		ranSupervised(t, dir)
	})
	t.Run("source of a role profile", func(t *testing.T) {
		dir := processProfiles(t)
		fake := ststest.New()
		defer fake.Close()
		c := NewClients(protocol.Settings{Region: "us-east-1", EndpointURL: fake.URL, MaxAttempts: 1})
		ctx := context.Background()
		cl, err := c.Client(ctx, Identity{Profile: "role"}, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := GetCallerIdentity(ctx, Call[protocol.GetCallerIdentityParams]{Client: func(context.Context) (*sts.Client, error) { return cl, nil }}); err != nil {
			t.Fatalf("GetCallerIdentity through the role profile: %v", err)
		}
		ranSupervised(t, dir)
		if reqs := fake.Requests(); len(reqs) == 0 || reqs[0].Action != "AssumeRole" || reqs[0].KeyID != ststest.BaseKeyID {
			t.Errorf("requests %+v; want AssumeRole signed by the process's key first", reqs)
		}
	})
	t.Run("outlives the timeout", func(t *testing.T) {
		dir := processProfiles(t)
		if err := os.WriteFile(filepath.Join(dir, "hang"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		c := NewClients(protocol.Settings{Region: "us-east-1", RequestTimeoutSeconds: 1})
		ctx, cancel := context.WithTimeout(context.Background(), callBound)
		defer cancel()
		_, err := c.BaseCredentials(ctx, "proc")
		if ctx.Err() != nil {
			t.Fatalf("BaseCredentials was not answered within %v", callBound)
		}
		var te *TimeoutError
		if !errors.As(err, &te) && !strings.Contains(fmt.Sprint(err), "timed out") {
			t.Fatalf("err = %v, want a timeout", err)
		}
		b, rerr := os.ReadFile(filepath.Join(dir, "sleep.pid"))
		pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
		if rerr != nil || perr != nil {
			t.Fatalf("the process did not record its child: %v %v", rerr, perr)
		}
		for deadline := time.Now().Add(callBound); alive(pid); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				t.Fatalf("the credential_process's child %d still runs after the timeout", pid)
			}
		}
	})
}

// alive tells whether pid is a running process (not a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z' && b[i+2] != 'X'
}
