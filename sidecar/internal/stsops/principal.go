package stsops

import "strings"

// Principal describes the kind of identity an ARN names, as GetCallerIdentity reports it.
type Principal struct {
	// Kind is "IAM user", "assumed role", "federated user", "root user" or "unknown principal".
	Kind string
	// Name is the user, role or federated user name ("" for root).
	Name string
	// SessionName is the role session name of an assumed role.
	SessionName string
}

// PrincipalOf reads the principal kind from an ARN.
func PrincipalOf(arn string) Principal {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return Principal{Kind: "unknown principal"}
	}
	service, resource := parts[2], parts[5]
	switch {
	case resource == "root":
		return Principal{Kind: "root user"}
	case service == "iam" && strings.HasPrefix(resource, "user/"):
		return Principal{Kind: "IAM user", Name: lastSegment(resource)}
	case service == "sts" && strings.HasPrefix(resource, "assumed-role/"):
		seg := strings.Split(resource, "/")
		p := Principal{Kind: "assumed role", Name: seg[1]}
		if len(seg) > 2 {
			p.SessionName = seg[len(seg)-1]
		}
		return p
	case service == "sts" && strings.HasPrefix(resource, "federated-user/"):
		return Principal{Kind: "federated user", Name: lastSegment(resource)}
	case service == "iam" && strings.HasPrefix(resource, "role/"):
		return Principal{Kind: "IAM role", Name: lastSegment(resource)}
	}
	return Principal{Kind: "unknown principal"}
}

func lastSegment(s string) string {
	return s[strings.LastIndex(s, "/")+1:]
}
