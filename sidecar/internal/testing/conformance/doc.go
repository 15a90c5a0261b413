// Package conformance holds the tests that keep the local STS honest against real peers: the AWS
// CLI runs every `aws sts` subcommand against it, and moto answers the same requests side by side.
package conformance
