package credserver

import "crypto/subtle"

// authorized is true when the request carries exactly one Authorization header and it is the
// token, verbatim (as the SDKs send AWS_CONTAINER_AUTHORIZATION_TOKEN). The comparison takes the
// same time whatever the header holds, so its timing tells nothing of the token.
func authorized(values []string, token string) bool {
	if len(values) != 1 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(values[0]), []byte(token)) == 1
}
