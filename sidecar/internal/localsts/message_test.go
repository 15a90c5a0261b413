package localsts

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"awsflow-sts/sidecar/internal/authmsg"
)

func TestDecodeAuthorizationMessage(t *testing.T) {
	e := sharedEnv(t)
	denial := DenialMessage{Account: DemoAccount, PrincipalArn: "arn:aws:iam::123456789012:user/alice", Action: "ec2:RunInstances",
		Resource: "arn:aws:ec2:us-east-1:123456789012:instance/*", ExplicitDeny: true, StatementID: "DenyRunInstances", SourcePolicy: "NoEC2",
		Context: map[string][]string{"ec2:Region": {"us-east-1"}, "aws:username": {"alice"}}}
	// The route and the method mint the same kind of message.
	var viaRoute struct {
		EncodedMessage string `json:"encodedMessage"`
	}
	if st := e.postJSON("/_localsts/encode-message", denial, &viaRoute); st != 200 {
		t.Fatalf("encode-message: %d", st)
	}
	enc := viaRoute.EncodedMessage
	if len(enc) < 100 || strings.ContainsAny(enc, "\r\n=+/") {
		t.Fatalf("encoded message %q does not look like AWS's", enc)
	}
	implicit, err := e.srv.EncodeMessage(DenialMessage{Account: DemoAccount, PrincipalArn: "arn:aws:sts::123456789012:assumed-role/Dev/s1",
		Action: "s3:GetObject", Resource: "arn:aws:s3:::bucket/key"})
	if err != nil {
		t.Fatal(err)
	}
	memberMsg, err := e.srv.EncodeMessage(DenialMessage{Account: MemberAccount, PrincipalArn: "arn:aws:iam::111122223333:user/carol", Action: "s3:PutObject", Resource: "*"})
	if err != nil {
		t.Fatal(err)
	}
	auditor := e.with(e.assume(e.bob(), &sts.AssumeRoleInput{RoleArn: aws.String(role("Auditor")), RoleSessionName: aws.String("audit")}).Credentials)
	dev := e.with(e.assume(e.alice(), &sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("dev")}).Credentials)
	aliceID := stableID(prefixUser, DemoAccount, "alice")
	tests := []struct {
		name   string
		client *sts.Client
		msg    string
		want   string // exact DecodedMessage
		code   string
		status int
		text   string
	}{
		{name: "explicit deny, allowed caller", client: e.alice(), msg: enc,
			want: `{"allowed":false,"explicitDeny":true,"matchedStatements":{"items":[{"statementId":"DenyRunInstances","effect":"DENY","sourcePolicyName":"NoEC2",` +
				`"principals":{"items":[{"value":"` + aliceID + `"}]},"principalGroups":{"items":[]},"actions":{"items":[{"value":"ec2:RunInstances"}]},` +
				`"resources":{"items":[{"value":"arn:aws:ec2:us-east-1:123456789012:instance/*"}]},"conditions":{"items":[]}}]},"failures":{"items":[]},` +
				`"context":{"principal":{"id":"` + aliceID + `","name":"alice","arn":"arn:aws:iam::123456789012:user/alice"},"action":"ec2:RunInstances",` +
				`"resource":"arn:aws:ec2:us-east-1:123456789012:instance/*","conditions":{"items":[{"key":"aws:username","values":{"items":[{"value":"alice"}]}},` +
				`{"key":"ec2:Region","values":{"items":[{"value":"us-east-1"}]}}]}}}`},
		{name: "implicit deny, decode role session", client: auditor, msg: implicit,
			want: `{"allowed":false,"explicitDeny":false,"matchedStatements":{"items":[]},"failures":{"items":[]},` +
				`"context":{"principal":{"id":"` + stableID(prefixRole, DemoAccount, "Dev") + `:s1","arn":"arn:aws:sts::123456789012:assumed-role/Dev/s1"},` +
				`"action":"s3:GetObject","resource":"arn:aws:s3:::bucket/key","conditions":{"items":[]}}}`},
		{name: "other account's caller", client: e.carol(), msg: enc, code: "InvalidAuthorizationMessageException", status: 400},
		{name: "own account's message in the other account", client: e.carol(), msg: memberMsg,
			want: `{"allowed":false,"explicitDeny":false,"matchedStatements":{"items":[]},"failures":{"items":[]},"context":{"principal":{"id":"` +
				stableID(prefixUser, MemberAccount, "carol") + `","name":"carol","arn":"arn:aws:iam::111122223333:user/carol"},"action":"s3:PutObject","resource":"*","conditions":{"items":[]}}}`},
		{name: "user without permission", client: e.bob(), msg: enc, code: "AccessDenied", status: 403,
			text: "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: sts:DecodeAuthorizationMessage"},
		{name: "role session without permission", client: dev, msg: enc, code: "AccessDenied", status: 403,
			text: "User: arn:aws:sts::123456789012:assumed-role/Dev/dev is not authorized to perform: sts:DecodeAuthorizationMessage"},
		{name: "line break", client: e.alice(), msg: enc[:50] + "\n" + enc[50:], code: "InvalidAuthorizationMessageException", status: 400},
		{name: "tampered", client: e.alice(), msg: enc[:len(enc)-3] + "AAA", code: "InvalidAuthorizationMessageException", status: 400},
		{name: "too long", client: e.alice(), msg: strings.Repeat("A", 10241), code: "ValidationError", status: 400,
			text: "Member must have length less than or equal to 10240"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.client.DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(tt.msg)})
			if tt.code != "" {
				wantAPIError(t, err, tt.code, tt.status, tt.text)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := aws.ToString(out.DecodedMessage)
			if got != tt.want {
				t.Fatalf("decoded\n%s\nwant\n%s", got, tt.want)
			}
			if _, err := authmsg.Parse(got); err != nil {
				t.Fatalf("the sidecar cannot read it: %v", err)
			}
		})
	}
	t.Run("another server's message", func(t *testing.T) {
		other, err := New(DefaultConfig(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		foreign, _ := other.EncodeMessage(DenialMessage{Account: DemoAccount, Action: "s3:GetObject"})
		_, err = e.alice().DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(foreign)})
		wantAPIError(t, err, "InvalidAuthorizationMessageException", 400, "")
	})
}

func TestEncodeMessageInput(t *testing.T) {
	e := sharedEnv(t)
	for _, tt := range []struct {
		name string
		m    DenialMessage
		ok   bool
	}{
		{"valid", DenialMessage{Account: DemoAccount, Action: "s3:GetObject"}, true},
		{"bad account", DenialMessage{Account: "12345", Action: "s3:GetObject"}, false},
		{"no action", DenialMessage{Account: DemoAccount}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.srv.EncodeMessage(tt.m)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v", err)
			}
			if st := e.postJSON("/_localsts/encode-message", tt.m, nil); (st == 200) != tt.ok {
				t.Fatalf("route status %d", st)
			}
		})
	}
	t.Run("unknown field in the route's JSON", func(t *testing.T) {
		if st := e.postJSON("/_localsts/encode-message", map[string]any{"account": DemoAccount, "action": "x:Y", "acount": 1}, nil); st != 400 {
			t.Fatalf("status %d", st)
		}
	})
}
