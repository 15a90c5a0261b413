// Package integration runs the real awsflow-sts binary as child processes and checks it from the
// outside: the framed JSON-RPC test client (package rpctest) on a `serve` process's stdio, the
// `call` subcommand, moto's STS for the operations moto implements, the in-process fake STS
// (package ststest) reached over loopback for the rest, cancellation, robustness against bad
// input, and above all that no secret the sidecar handles ever leaves it except through
// sessions/export.
//
// The binary is $AWSFLOW_STS_BIN when set (make test builds it), else it is built once in TestMain.
// Tests that need moto or the AWS CLI skip where they are missing, or fail with
// AWSFLOW_REQUIRE_PEERS=1.
package integration
