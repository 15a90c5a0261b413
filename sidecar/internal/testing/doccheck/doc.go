// Package doccheck holds a test that every package and exported name of the sidecar has a doc
// comment, the way gopls keeps its own.
package doccheck
