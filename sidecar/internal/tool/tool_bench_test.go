package tool

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/stsops"
)

// Validation and formatting run on every tool/invoke, before and after the STS call.

func benchSpec(b *testing.B, command string) *protocol.CommandSpec {
	b.Helper()
	spec, ok := protocol.Command(command)
	if !ok {
		b.Fatalf("no command %s", command)
	}
	return spec
}

func BenchmarkValidate(b *testing.B) {
	cases := []struct {
		name, command, params string
		wantErr               bool
	}{
		{"GetCallerIdentity", protocol.CmdGetCallerIdentity, `{}`, false},
		{"AssumeRole", protocol.CmdAssumeRole, `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"dev","DurationSeconds":3600,` +
			`"ExternalId":"partner-ext-1","Tags":[{"Key":"team","Value":"platform"},{"Key":"env","Value":"dev"}],"TransitiveTagKeys":["team"],` +
			`"Policy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}}`, false},
		{"AssumeRole-misspelt", protocol.CmdAssumeRole, `{"RoleArm":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"dev","DurationSeconds":99999}`, true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			spec := benchSpec(b, c.command)
			raw := json.RawMessage(c.params)
			b.ReportAllocs()
			for b.Loop() {
				_, err := Validate(spec, raw)
				if (err != nil) != c.wantErr {
					b.Fatalf("Validate: %v", err)
				}
			}
		})
	}
}

func BenchmarkFormat(b *testing.B) {
	exp := time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)
	caller := &stsops.Result{
		ARN: "arn:aws:iam::123456789012:user/alice", Account: "123456789012", PrincipalID: "AIDARZPUZDIKCEZA6SZIX",
		RequestID: "4f0e7a4c-1d2b-4a8e-9b1c-3d5e6f708192",
		Facts:     []stsops.Fact{{Label: "Principal", Key: "principalKind", Value: "IAM user"}, {Label: "Name", Key: "name", Value: "alice"}},
	}
	info := protocol.SessionInfo{
		Name: "dev", Kind: "credentials", Command: protocol.CmdAssumeRole, AccessKeyID: "ASIA…WXYZ",
		ARN: "arn:aws:sts::123456789012:assumed-role/Dev/dev", Account: "123456789012", Source: protocol.ReservedSessionName,
		Expiration: exp.Format(time.RFC3339), SecondsLeft: 3540, Refreshable: true,
	}
	minted := &stsops.Result{ARN: info.ARN, Account: info.Account, PrincipalID: "AROARZPUZDIKCEZA6SZIX:dev", RequestID: caller.RequestID, Expiration: exp}
	list := protocol.SessionList{Active: "dev"}
	for i := range 5 {
		s := info
		s.Name = fmt.Sprintf("session-%d", i)
		s.Active = i == 0
		list.Sessions = append(list.Sessions, s)
	}
	many := protocol.SessionList{Active: "dev"}
	for i := range 10000 {
		s := info
		s.Name = fmt.Sprintf("session-%05d", i)
		s.Expiration = exp.Add(time.Duration(i%977) * time.Second).Format(time.RFC3339)
		many.Sessions = append(many.Sessions, s)
	}
	cases := []struct {
		name string
		f    func() result
	}{
		{"GetCallerIdentity", func() result { return formatRead(protocol.CmdGetCallerIdentity, "the base identity", caller) }},
		{"AssumeRole", func() result { return formatMinted(Frontend{}, protocol.CmdAssumeRole, info, minted, false) }},
		{"ListSessions-5", func() result { return formatSessions(list, "", "") }},
		{"ListSessions-10000", func() result { return formatSessions(many, "", "") }},
		{"ListSessions-10000-filtered", func() result { return formatSessions(many, "session-0999", "") }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.f().encode(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
