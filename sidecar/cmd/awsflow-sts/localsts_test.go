package main

import (
	"net"
	"strings"
	"testing"

	"awsflow-sts/sidecar/internal/localsts"
)

// TestLocalSTSPortInUse: a taken port fails at once with what to do instead.
func TestLocalSTSPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var stdout, stderr strings.Builder
	if code := localSTS([]string{"--addr", ln.Addr().String(), "--log-level", "error"}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr.String())
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	want := "port " + port + " is in use: another localsts? pass --addr 127.0.0.1:0 for any free port"
	if !strings.Contains(stderr.String(), want) || stdout.Len() != 0 {
		t.Errorf("stderr %q lacks %q (stdout %q)", stderr.String(), want, stdout.String())
	}
}

func TestLocalSTSDescribeAndEnvFlags(t *testing.T) {
	var stdout, stderr strings.Builder
	if code := localSTS([]string{"--describe"}, &stdout, &stderr); code != 0 {
		t.Fatalf("--describe: exit %d: %s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "The local STS at http://"+localsts.DefaultAddr+"\n") {
		t.Errorf("--describe does not describe the default address:\n%s", stdout.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := localSTS([]string{"--env", "--addr", "127.0.0.1:0"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "need the host:port") {
		t.Errorf("--env with a random port: exit %d, stderr %q", code, stderr.String())
	}
}
