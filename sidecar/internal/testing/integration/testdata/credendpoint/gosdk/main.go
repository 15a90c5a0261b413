// Command gosdk is a peer of the credentials endpoint test: it asks STS who it is with
// aws-sdk-go-v2, whose default credential chain finds its credentials where the environment
// says (AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN). It prints two
// lines: the caller's ARN and the name of the provider the credentials came from.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	endpoint := flag.String("endpoint", "", "STS endpoint URL (the local STS)")
	region := flag.String("region", "us-east-1", "AWS Region")
	flag.Parse()
	if err := run(*endpoint, *region); err != nil {
		fmt.Fprintln(os.Stderr, "gosdk:", err)
		os.Exit(1)
	}
}

func run(endpoint, region string) error {
	if endpoint == "" {
		return fmt.Errorf("-endpoint is required")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region), config.WithRetryMaxAttempts(1))
	if err != nil {
		return err
	}
	cr, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return err
	}
	out, err := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(endpoint) }).
		GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return err
	}
	fmt.Println(aws.ToString(out.Arn))
	fmt.Println(cr.Source)
	return nil
}
