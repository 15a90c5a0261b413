//go:build !unix

package tool

// openFlags: a non-blocking open is a Unix notion; the checks before the open keep FIFOs, pipes
// and devices out.
const openFlags = 0

// systemDirs hold what is never a token or an assertion: the device namespace (\\.\pipe\…,
// \\.\PhysicalDrive0).
var systemDirs = []string{`\\.`}
