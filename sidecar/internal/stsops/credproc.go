package stsops

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// processWaitDelay bounds how long a finished or killed credential_process may keep its output
// open (a grandchild holding the pipe) before the sidecar stops waiting for it.
const processWaitDelay = 2 * time.Second

// processCommand builds the exec.Cmd of a profile's credential_process: the sidecar's stdin (its
// JSON-RPC stream) is not given to it, and where the OS allows the child and everything it starts
// die with the sidecar (see superviseCommand).
type processCommand struct{ command string }

// NewCommand returns the command, killed with its whole process group when ctx ends.
func (b processCommand) NewCommand(ctx context.Context) (*exec.Cmd, error) {
	if b.command == "" {
		return nil, errors.New("the profile's credential_process is empty")
	}
	args := shellArgs(b.command)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = os.Environ()
	cmd.WaitDelay = processWaitDelay
	superviseCommand(cmd)
	return cmd, nil
}

// supervisedProcess is the credential_process of a loaded configuration, run by processCommand;
// provider is nil when the configuration runs none.
type supervisedProcess struct{ provider aws.CredentialsProvider }

// isProcess tells whether p is the SDK's own credential_process provider (cached or not).
func isProcess(p aws.CredentialsProvider) bool {
	return p != nil && aws.IsCredentialsProvider(p, (*processcreds.Provider)(nil))
}

// supervise replaces the SDK's credential_process provider of a loaded configuration by one whose
// child is supervised. The SDK runs the process of the innermost profile of the chain: directly
// for that profile, or as the source of the role profiles above it (see viaProcess).
func (sp *supervisedProcess) supervise(cfg *aws.Config, timeout time.Duration) {
	command := innermostProcess(cfg.ConfigSources)
	if command == "" {
		return
	}
	sp.provider = aws.NewCredentialsCache(processcreds.NewProviderCommand(processCommand{command}, func(o *processcreds.Options) {
		o.Timeout = timeout
	}))
	if isProcess(cfg.Credentials) {
		cfg.Credentials = sp.provider
	}
}

// viaProcess returns an option making a role profile's own AssumeRole client sign with the
// supervised process when it would run the SDK's; nil when it does not run one.
func (sp *supervisedProcess) viaProcess(client any) func(*sts.Options) {
	cl, ok := client.(*sts.Client)
	if !ok || !isProcess(cl.Options().Credentials) {
		return nil
	}
	return func(o *sts.Options) {
		// Filled once the configuration is loaded, before any call.
		if sp.provider != nil {
			o.Credentials = sp.provider
		}
	}
}

// innermostProcess is the credential_process of the profile at the end of the source_profile
// chain of a loaded configuration, "" when none.
func innermostProcess(sources []any) string {
	for _, s := range sources {
		sc, ok := s.(config.SharedConfig)
		if !ok {
			continue
		}
		for sc.Source != nil {
			sc = *sc.Source
		}
		return sc.CredentialProcess
	}
	return ""
}
