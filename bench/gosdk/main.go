// Command gosdk is the Go baseline of `make bench`: GetCallerIdentity from aws-sdk-go-v2 in-process
// against the local STS, timed inside this process. The harness drives it over stdin, one line per
// request, so its calls can be interleaved with the extension's own:
//
//	call      one GetCallerIdentity; answers "ok <nanoseconds>" or "err <message>"
//	warm N    N calls, untimed; answers "ok 0"
//	quit      exit
//
// Credentials and the Region come from the SDK's default chain, which the harness points at a
// scratch AWS config holding the local STS's demo user (never the developer's own ~/.aws).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	endpoint := flag.String("endpoint", "", "STS endpoint URL (the local STS)")
	region := flag.String("region", "us-east-1", "AWS Region")
	flag.Parse()
	if *endpoint == "" {
		fmt.Fprintln(os.Stderr, "gosdk: -endpoint is required")
		os.Exit(2)
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(*region))
	if err != nil {
		fmt.Fprintln(os.Stderr, "gosdk:", err)
		os.Exit(1)
	}
	client := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(*endpoint) })
	call := func() error {
		_, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	}

	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	answer := func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
		_ = out.Flush() // a harness that has gone away needs no answer
	}
	answer("ready")
	for in.Scan() {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(in.Text()), " ")
		switch cmd {
		case "call":
			start := time.Now()
			err := call()
			elapsed := time.Since(start)
			if err != nil {
				answer("err %s", strings.ReplaceAll(err.Error(), "\n", " "))
				continue
			}
			answer("ok %d", elapsed.Nanoseconds())
		case "warm":
			n, _ := strconv.Atoi(arg)
			var failed error
			for range n {
				if err := call(); err != nil {
					failed = err
					break
				}
			}
			if failed != nil {
				answer("err %s", strings.ReplaceAll(failed.Error(), "\n", " "))
				continue
			}
			answer("ok 0")
		case "quit":
			return
		default:
			answer("err unknown command %q", cmd)
		}
	}
}
