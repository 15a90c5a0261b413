package rpc

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"go.uber.org/zap"
)

// Limits on peer-controlled strings copied into logs and error messages, so that a 1 MiB method
// name or id cannot bloat them.
const (
	maxLoggedMethod = 128
	maxLoggedID     = 128
	maxLoggedDetail = 512
)

// clip shortens s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// printfLogger routes jsonrpc2's own messages (stream errors, responses nobody waits for) to zap
// instead of stderr. They carry ids and error texts only, never bodies.
type printfLogger struct{ log *zap.Logger }

func (p printfLogger) Printf(format string, args ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, args...))
	p.log.Warn("jsonrpc2", zap.String("detail", clip(msg, maxLoggedDetail)))
}
