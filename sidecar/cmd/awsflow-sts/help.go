package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// subcommand is one of the binary's subcommands, as help lists it.
type subcommand struct {
	name     string
	synopsis string // the usage line after "awsflow-sts "
	summary  string // one line for `awsflow-sts help`
	// flags prints the subcommand's flags to out (nil when it has none): the subcommand's own
	// flag set, asked for its usage with -h, so that help lists exactly the flags it parses.
	flags func(out io.Writer)
}

// subcommands lists every subcommand in the order help shows them.
var subcommands = []subcommand{
	{name: "serve", synopsis: "serve [flags]", summary: "serve the extension: JSON-RPC 2.0 over stdin/stdout",
		flags: func(out io.Writer) { serve([]string{"-h"}, strings.NewReader(""), out, out) }},
	{name: "mcp", synopsis: "mcp [flags]", summary: "serve STSTool to MCP clients (Claude Code, Cursor, VS Code, Claude Desktop) on stdin/stdout",
		flags: func(out io.Writer) { serveMCP([]string{"-h"}, strings.NewReader(""), out, out) }},
	{name: "call", synopsis: "call COMMAND [flags]", summary: "run one STSTool command from a terminal; sessions are kept in the OS keychain between calls",
		flags: func(out io.Writer) { call([]string{"-h"}, strings.NewReader(""), out, out) }},
	{name: "localsts", synopsis: "localsts [flags]", summary: "serve the embedded local STS, for trying everything offline",
		flags: func(out io.Writer) { localSTS([]string{"-h"}, out, out) }},
	{name: "version", synopsis: "version", summary: "print the version and the protocol version"},
	{name: "help", synopsis: "help [SUBCOMMAND]", summary: "list the subcommands, or show one's usage and flags"},
}

// subcommandNamed returns the subcommand called name, or nil.
func subcommandNamed(name string) *subcommand {
	for i := range subcommands {
		if subcommands[i].name == name {
			return &subcommands[i]
		}
	}
	return nil
}

// isHelpFlag tells whether arg asks for help.
func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// wantsHelp tells whether a subcommand's args ask for help before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if isHelpFlag(a) {
			return true
		}
	}
	return false
}

// subcommandHelp prints sub's usage and every flag it takes to out; asking for help succeeds.
func subcommandHelp(sub subcommand, out io.Writer) int {
	fmt.Fprintf(out, "Usage: awsflow-sts %s\n\n%s.\n", sub.synopsis, upperFirst(sub.summary))
	if sub.name == "call" {
		fmt.Fprintf(out, "\nCOMMAND is one of: %s.\n", commandList())
	}
	if sub.flags != nil {
		fmt.Fprintln(out)
		sub.flags(out)
	}
	return 0
}

// printSubcommands lists the subcommands with a line each.
func printSubcommands(out io.Writer) {
	fmt.Fprintln(out, "awsflow-sts: the AWS STS sidecar of the awsflow-sts extension")
	fmt.Fprintln(out, "\nSubcommands:")
	for _, sub := range subcommands {
		fmt.Fprintf(out, "  %-9s %s\n", sub.name, sub.summary)
	}
}

// newFlagSet returns a flag set that reports errors and prints its flags to output.
func newFlagSet(name string, output io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(output)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Flags:")
		fs.PrintDefaults()
	}
	return fs
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
