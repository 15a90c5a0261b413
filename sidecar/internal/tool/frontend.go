package tool

import "fmt"

// Frontend is who reads a runner's texts: the same hint facts name VS Code's settings for the
// extension and the MCP server, and the command-line flags for the call subcommand.
type Frontend struct {
	// CLI is set for the call subcommand: hints name its flags (--profile, --endpoint-url,
	// --region), not the awsflowSts.* settings.
	CLI bool
	// Keychain, in CLI mode, says the sessions a call makes are kept in the OS keychain for the
	// next call; without it they end with the process.
	Keychain bool
}

// cliFlags maps a setting to the call subcommand's flag for it; settings without a flag have no entry.
var cliFlags = map[string]string{
	"profile":     "--profile",
	"endpointUrl": "--endpoint-url",
	"region":      "--region",
}

// setting names where a value is set: "the awsflowSts.endpointUrl setting", or in CLI mode "the
// --endpoint-url flag" (or, for a setting the CLI has no flag for, its default).
func (f Frontend) setting(name string) string {
	if !f.CLI {
		return "the awsflowSts." + name + " setting"
	}
	if flag, ok := cliFlags[name]; ok {
		return "the " + flag + " flag"
	}
	return "the call subcommand's fixed " + name
}

// actAs says how to act as a new session named name in a later call.
func (f Frontend) actAs(name string) string {
	switch {
	case !f.CLI:
		return fmt.Sprintf("To act as this session pass `\"Session\": %q` (for example with GetCallerIdentity), or run UseSession to make it the default.", name)
	case f.Keychain:
		return fmt.Sprintf("The session is kept in the OS keychain until it expires: act as it in a later call with `--params '{\"Session\":%q}'` (for example with GetCallerIdentity), or run UseSession to make it the default.", name)
	default:
		return "No OS keychain is available here, so this session ends with this command."
	}
}

// raiseTimeout is the clause, after "try again", that says how to allow a slow source more time:
// the awsflowSts.requestTimeoutSeconds setting, which the call subcommand has no flag for.
func (f Frontend) raiseTimeout(when string) string {
	if f.CLI {
		return ""
	}
	return "; raise the awsflowSts.requestTimeoutSeconds setting (up to 300) if " + when
}

// capitalize upper-cases the first letter of an ASCII phrase.
func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// secretsStay says where a minted session's secrets are, before actAs.
func (f Frontend) secretsStay() string {
	if f.CLI {
		return "The secret key and session token are never shown here. "
	}
	return "The secret key and session token stay in the awsflow-sts sidecar and are never shown here. "
}
