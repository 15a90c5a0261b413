package federation

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	provider  = "arn:aws:iam::123456789012:saml-provider/Okta"
	provider2 = "arn:aws:iam::210987654321:saml-provider/Okta"
	roleDev   = "arn:aws:iam::123456789012:role/Dev"
	roleOps   = "arn:aws:iam::123456789012:role/Ops"
	roleAudit = "arn:aws:iam::210987654321:role/Audit"
)

// samlDoc builds a realistic signed-looking samlp:Response. roleValues become
// AttributeValue elements of the Role attribute; extraAttrs is raw XML placed
// in the same AttributeStatement.
func samlDoc(prefix string, roleValues []string, extraAttrs string) string {
	var vals strings.Builder
	for _, v := range roleValues {
		fmt.Fprintf(&vals, "\n        <%[1]s:AttributeValue xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"xs:string\">%[2]s</%[1]s:AttributeValue>", prefix, v)
	}
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" Destination="https://signin.aws.amazon.com/saml" ID="id1" IssueInstant="2024-05-01T10:00:00.000Z" Version="2.0">
  <%[1]s:Issuer xmlns:%[1]s="urn:oasis:names:tc:SAML:2.0:assertion">http://www.okta.com/exk1</%[1]s:Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  <%[1]s:Assertion xmlns:%[1]s="urn:oasis:names:tc:SAML:2.0:assertion" ID="id2" IssueInstant="2024-05-01T10:00:00.000Z" Version="2.0">
    <%[1]s:Issuer>http://www.okta.com/exk1</%[1]s:Issuer>
    <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:Reference URI="#id2"><ds:DigestValue>c2lnbmF0dXJl</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>QUJDREVG</ds:SignatureValue></ds:Signature>
    <%[1]s:Subject>
      <%[1]s:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">alice@example.com</%[1]s:NameID>
      <%[1]s:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <%[1]s:SubjectConfirmationData NotOnOrAfter="2024-05-01T10:05:00.000Z" Recipient="https://signin.aws.amazon.com/saml"/>
      </%[1]s:SubjectConfirmation>
    </%[1]s:Subject>
    <%[1]s:Conditions NotBefore="2024-05-01T09:55:00.000Z" NotOnOrAfter="2024-05-01T10:10:00.000Z">
      <%[1]s:AudienceRestriction>
        <%[1]s:Audience>https://signin.aws.amazon.com/saml</%[1]s:Audience>
      </%[1]s:AudienceRestriction>
    </%[1]s:Conditions>
    <%[1]s:AttributeStatement>
      <%[1]s:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">%[2]s
      </%[1]s:Attribute>
      <%[1]s:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">
        <%[1]s:AttributeValue>alice@example.com</%[1]s:AttributeValue>
      </%[1]s:Attribute>%[3]s
    </%[1]s:AttributeStatement>
  </%[1]s:Assertion>
</samlp:Response>`, prefix, vals.String(), extraAttrs)
}

// wrap76 line-wraps base64 the way many IdPs and tools do.
func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	return b.String() + s
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseSAML(t *testing.T) {
	wantNotOnOrAfter := time.Date(2024, 5, 1, 10, 10, 0, 0, time.UTC)
	one := []string{roleDev + "," + provider}
	three := []string{roleDev + "," + provider, provider + "," + roleOps, " " + roleAudit + " , " + provider2 + " "}
	threePairs := []RolePair{{roleDev, provider}, {roleOps, provider}, {roleAudit, provider2}}
	duration := `
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/SessionDuration"><saml:AttributeValue>3600</saml:AttributeValue></saml:Attribute>`

	tests := []struct {
		name         string
		in           string
		wantRoles    []RolePair
		wantDuration int
	}{
		{"one role, base64", b64(samlDoc("saml", one, "")), []RolePair{{roleDev, provider}}, 0},
		{"three roles, both orders, base64", b64(samlDoc("saml", three, "")), threePairs, 0},
		{"three roles, raw XML", samlDoc("saml", three, ""), threePairs, 0},
		{"three roles, saml2 prefix", b64(samlDoc("saml2", three, "")), threePairs, 0},
		{"line-wrapped base64", "\n" + wrap76(b64(samlDoc("saml", three, duration))) + "\n", threePairs, 3600},
		{"URL-encoded base64 from a form post", strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(b64(samlDoc("saml", one, duration))), []RolePair{{roleDev, provider}}, 3600},
		{"unpadded base64", strings.TrimRight(b64(samlDoc("saml", one, "")+" "), "="), []RolePair{{roleDev, provider}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := ParseSAML(tt.in)
			if err != nil {
				t.Fatalf("ParseSAML: %v", err)
			}
			if info.Issuer != "http://www.okta.com/exk1" {
				t.Errorf("Issuer = %q", info.Issuer)
			}
			if info.Subject != "alice@example.com" {
				t.Errorf("Subject = %q", info.Subject)
			}
			if info.Audience != "https://signin.aws.amazon.com/saml" {
				t.Errorf("Audience = %q", info.Audience)
			}
			if !info.NotOnOrAfter.Equal(wantNotOnOrAfter) {
				t.Errorf("NotOnOrAfter = %v, want %v", info.NotOnOrAfter, wantNotOnOrAfter)
			}
			if info.RoleSessionName != "alice@example.com" {
				t.Errorf("RoleSessionName = %q", info.RoleSessionName)
			}
			if info.SessionDuration != tt.wantDuration {
				t.Errorf("SessionDuration = %d, want %d", info.SessionDuration, tt.wantDuration)
			}
			if !reflect.DeepEqual(info.Roles, tt.wantRoles) {
				t.Errorf("Roles = %#v, want %#v", info.Roles, tt.wantRoles)
			}
		})
	}
}

func TestParseSAMLVariants(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want SAMLInfo
	}{
		{
			name: "bare assertion without prefix, confirmation deadline only",
			in: `<Assertion xmlns="urn:oasis:names:tc:SAML:2.0:assertion"><Issuer>idp</Issuer><Subject><NameID>bob</NameID>` +
				`<SubjectConfirmation><SubjectConfirmationData NotOnOrAfter="2030-01-01T00:10:00Z"/></SubjectConfirmation>` +
				`<SubjectConfirmation><SubjectConfirmationData NotOnOrAfter="2030-01-01T00:05:00.5Z"/></SubjectConfirmation></Subject>` +
				`<AttributeStatement><Attribute Name="https://aws.amazon.com/SAML/Attributes/Role"><AttributeValue>` + provider + `,` + roleOps + `</AttributeValue></Attribute></AttributeStatement></Assertion>`,
			want: SAMLInfo{Issuer: "idp", Subject: "bob", NotOnOrAfter: time.Date(2030, 1, 1, 0, 5, 0, 5e8, time.UTC), Roles: []RolePair{{roleOps, provider}}},
		},
		{
			name: "issuer only on response, two audiences, latin-1 document",
			in: "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><p:Response xmlns:p=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:a=\"urn:oasis:names:tc:SAML:2.0:assertion\"><a:Issuer>idp</a:Issuer><a:Assertion>" +
				"<a:Subject><a:NameID>J\xfcrgen</a:NameID></a:Subject><a:Conditions><a:AudienceRestriction><a:Audience>urn:amazon:webservices</a:Audience><a:Audience>https://signin.aws.amazon.com/saml</a:Audience></a:AudienceRestriction></a:Conditions></a:Assertion></p:Response>",
			want: SAMLInfo{Issuer: "idp", Subject: "Jürgen", Audience: "urn:amazon:webservices, https://signin.aws.amazon.com/saml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := ParseSAML(tt.in)
			if err != nil {
				t.Fatalf("ParseSAML: %v", err)
			}
			if !reflect.DeepEqual(*info, tt.want) {
				t.Errorf("ParseSAML = %#v, want %#v", *info, tt.want)
			}
		})
	}
}

func TestParseSAMLErrors(t *testing.T) {
	tests := []struct {
		name, in, wantSub string
	}{
		{"empty", "  ", "empty"},
		{"not base64", "this is not base64!", "neither XML nor valid base64"},
		{"base64 of non-XML", b64("hello world"), "does not decode to XML"},
		{"malformed XML", "<samlp:Response><saml:Assertion></samlp:Response>", "not well-formed XML (line 1)"},
		{"wrong root", "<html><body/></html>", "neither a SAML Response nor an Assertion"},
		{"no assertion", `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`, "no Assertion element"},
		{"encrypted assertion", `<samlp:Response xmlns:samlp="p"><saml:EncryptedAssertion xmlns:saml="a"><x/></saml:EncryptedAssertion></samlp:Response>`, "encrypted"},
		{"role value without comma", samlDoc("saml", []string{roleDev}, ""), `value 1 is not a "roleArn,principalArn" pair`},
		{"role pair without provider", samlDoc("saml", []string{roleDev + "," + provider, roleDev + "," + roleOps}, ""), "value 2 does not pair one role ARN with one SAML provider ARN"},
		{"bad session duration", samlDoc("saml", nil, `<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/SessionDuration"><saml:AttributeValue>1h</saml:AttributeValue></saml:Attribute>`), "SessionDuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := ParseSAML(tt.in)
			if err == nil {
				t.Fatalf("ParseSAML = %#v, want error", info)
			}
			if !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("error %q does not contain %q", err, tt.wantSub)
			}
		})
	}
}

func TestPickRole(t *testing.T) {
	three := &SAMLInfo{Roles: []RolePair{{roleDev, provider}, {roleOps, provider}, {roleAudit, provider2}}}
	single := &SAMLInfo{Roles: []RolePair{{roleDev, provider}}}
	dupRole := &SAMLInfo{Roles: []RolePair{{roleDev, provider}, {roleDev, provider2}}}
	none := &SAMLInfo{}
	tests := []struct {
		name            string
		info            *SAMLInfo
		role, principal string
		want            RolePair
		wantErr         []string
	}{
		{name: "both given and present", info: three, role: roleOps, principal: provider, want: RolePair{roleOps, provider}},
		{name: "both given, pair absent", info: three, role: roleOps, principal: provider2, wantErr: []string{"does not offer role " + roleOps, "3 roles: " + roleDev + ", " + roleOps + ", " + roleAudit}},
		{name: "both given, no Role attribute", info: none, role: roleOps, principal: provider, want: RolePair{roleOps, provider}},
		{name: "role only", info: three, role: " " + roleAudit + " ", want: RolePair{roleAudit, provider2}},
		{name: "role only, unknown", info: single, role: roleOps, wantErr: []string{"does not offer role " + roleOps, "1 role: " + roleDev}},
		{name: "role only, no Role attribute", info: none, role: roleOps, wantErr: []string{"pass PrincipalArn"}},
		{name: "role only, through two providers", info: dupRole, role: roleDev, wantErr: []string{"2 SAML providers", "pass PrincipalArn"}},
		{name: "principal only, unique", info: three, principal: provider2, want: RolePair{roleAudit, provider2}},
		{name: "principal only, ambiguous", info: three, principal: provider, wantErr: []string{"2 roles through principal", "pass RoleArn"}},
		{name: "none given, one pair", info: single, want: RolePair{roleDev, provider}},
		{name: "none given, several pairs", info: three, wantErr: []string{"the assertion offers 3 roles: " + roleDev + ", " + roleOps + ", " + roleAudit + "; pass RoleArn"}},
		{name: "none given, no pairs", info: none, wantErr: []string{"offers no roles"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.info.PickRole(tt.role, tt.principal)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("PickRole = %#v, want error", got)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("PickRole: %v", err)
			}
			if got != tt.want {
				t.Errorf("PickRole = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func ExampleParseSAML() {
	xml := `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">
  <saml:Assertion>
    <saml:Issuer>https://idp.example.com</saml:Issuer>
    <saml:Subject><saml:NameID>alice</saml:NameID></saml:Subject>
    <saml:Conditions NotOnOrAfter="2024-05-01T10:10:00Z"/>
    <saml:AttributeStatement>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role">
        <saml:AttributeValue>arn:aws:iam::123456789012:saml-provider/IdP,arn:aws:iam::123456789012:role/Dev</saml:AttributeValue>
      </saml:Attribute>
    </saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>`
	info, err := ParseSAML(base64.StdEncoding.EncodeToString([]byte(xml)))
	if err != nil {
		fmt.Println(err)
		return
	}
	pair, _ := info.PickRole("", "")
	fmt.Println(info.Issuer, info.Subject, info.NotOnOrAfter.Format(time.RFC3339))
	fmt.Println(pair.RoleArn)
	fmt.Println(pair.PrincipalArn)
	// Output:
	// https://idp.example.com alice 2024-05-01T10:10:00Z
	// arn:aws:iam::123456789012:role/Dev
	// arn:aws:iam::123456789012:saml-provider/IdP
}
