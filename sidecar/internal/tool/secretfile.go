package tool

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"awsflow-sts/sidecar/internal/awspath"
	"awsflow-sts/sidecar/internal/clip"
	"awsflow-sts/sidecar/internal/federation"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/stsops"
)

// fileSlack is room for the line ends and spaces around a token in its file, beyond the longest
// token STS takes.
const fileSlack = 64

// fileHints say where the right file is, for each file parameter.
var fileHints = map[string]string{
	"WebIdentityTokenFile": "Point WebIdentityTokenFile at the token file your identity provider writes (the file AWS_WEB_IDENTITY_TOKEN_FILE names), or ask the user for its path. Nothing was sent to STS.",
	"SAMLAssertionFile":    "Point SAMLAssertionFile at a file holding the base64 SAMLResponse your identity provider posts at sign-in, or ask the user for its path. Nothing was sent to STS.",
}

// fileError is a file parameter that cannot be used. Its message names the parameter and the
// path the model gave, never anything read from the file.
func fileError(command, param, format string, args ...any) *Error {
	return &Error{
		Code:    protocol.CodeInvalidParams,
		Command: command,
		Message: fmt.Sprintf("%s was not run: ", command) + fmt.Sprintf(format, args...),
		Hint:    fileHints[param],
	}
}

// readSecretFile reads the file at path for param without ever blocking: "~/" is the home
// directory; relative paths, anything under systemDirs (also through a symlink) and anything but a
// regular file are refused before it is opened; and no more than limit characters are taken.
func readSecretFile(command, param, path string, limit int) (string, error) {
	shown := clip.Echo(path)
	path = awspath.ExpandHome(path)
	if !filepath.IsAbs(path) {
		return "", fileError(command, param, "%s must be an absolute path or start with ~/ (got %q).", param, shown)
	}
	path = filepath.Clean(path)
	if dir, ok := inSystemDir(path); ok {
		return "", fileError(command, param, "%s %q is in %s, which holds devices and process state, never a token or an assertion.", param, shown, dir)
	}
	info, err := os.Stat(path)
	if err != nil {
		return "", fileError(command, param, "cannot read %s: %s.", param, describeOpenError(shown, err))
	}
	if err := regular(param, shown, info); err != nil {
		return "", fileError(command, param, "%v", err)
	}
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fileError(command, param, "cannot read %s: %s.", param, describeOpenError(shown, err))
	}
	if dir, ok := inSystemDir(resolved); ok {
		return "", fileError(command, param, "%s %q leads (through a symbolic link) into %s, which holds devices and process state, never a token or an assertion.", param, shown, dir)
	}
	f, err := os.OpenFile(resolved, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return "", fileError(command, param, "cannot read %s: %s.", param, describeOpenError(shown, err))
	}
	defer f.Close()
	// The path may have been swapped between the checks and the open: check what was opened.
	if info, err = f.Stat(); err != nil {
		return "", fileError(command, param, "cannot read %s: %s.", param, describeOpenError(shown, err))
	}
	if err := regular(param, shown, info); err != nil {
		return "", fileError(command, param, "%v", err)
	}
	tooLarge := fileError(command, param, "%s %q is larger than STS takes for %s (at most %d characters).", param, shown, secretName(param), limit)
	if info.Size() > int64(limit+fileSlack) {
		return "", tooLarge
	}
	data, err := io.ReadAll(io.LimitReader(f, int64(limit+fileSlack+1)))
	if err != nil {
		return "", fileError(command, param, "cannot read %s: %s.", param, describeOpenError(shown, err))
	}
	content := strings.TrimSpace(string(data))
	if len(data) > limit+fileSlack || len(content) > limit {
		return "", tooLarge
	}
	if content == "" {
		return "", fileError(command, param, "%s %q is empty.", param, shown)
	}
	return content, nil
}

// inSystemDir returns the system directory path is in, if it is in one.
func inSystemDir(path string) (string, bool) {
	for _, d := range systemDirs {
		if path == d || strings.HasPrefix(path, d+string(filepath.Separator)) {
			return d, true
		}
	}
	return "", false
}

// regular refuses what is not a regular file, saying what it is.
func regular(param, shown string, info fs.FileInfo) error {
	m := info.Mode()
	what := "not a regular file"
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		what = "a directory, not a file"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO), not a regular file"
	case m&fs.ModeSocket != 0:
		what = "a socket, not a regular file"
	case m&fs.ModeDevice != 0:
		what = "a device, not a regular file"
	}
	return fmt.Errorf("%s %q is %s; only a regular file holding %s is read", param, shown, what, secretName(param))
}

// describeOpenError says why a path could not be read without repeating the OS's own text, which
// quotes the resolved path.
func describeOpenError(shown string, err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("there is no file at %q", shown)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("%q is not readable by the sidecar (permission denied)", shown)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%q: %v", shown, pe.Err)
	}
	return fmt.Sprintf("%q: %v", shown, err)
}

// secretName is what the secret parameter behind a file parameter holds, for messages.
func secretName(param string) string {
	if param == "SAMLAssertionFile" {
		return "a SAML assertion"
	}
	return "a web identity token"
}

// checkSecretShape makes sure a file holds what its parameter stands for before it is sent to
// STS: a JWT (or, with ProviderId, an OAuth 2.0 access token) or a base64 SAML Response. The
// error says what was expected, never what was found.
func checkSecretShape(command, param, content string, a stsops.Args) error {
	switch {
	case param == "SAMLAssertionFile":
		if !federation.IsSAMLResponse(content) {
			return fileError(command, param, "%s does not hold a SAML response (base64 of an XML document whose root is samlp:Response).", param)
		}
	case a.Str("ProviderId") != "":
		if !federation.IsOpaqueToken(content) {
			return fileError(command, param, "%s does not hold an OAuth 2.0 access token (one word of printable characters without spaces).", param)
		}
	default:
		if !federation.IsJWT(content) {
			return fileError(command, param, "%s does not hold a JWT (three base64url parts with a JSON header); only OpenID Connect ID tokens are taken without ProviderId.", param)
		}
	}
	return nil
}
