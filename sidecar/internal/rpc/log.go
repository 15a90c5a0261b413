package rpc

import (
	"fmt"
	"strings"

	"awsflow-sts/sidecar/internal/clip"

	"go.uber.org/zap"
)

// maxLoggedDetail bounds how much of one of jsonrpc2's own messages is logged; method names and
// ids, in logs and errors alike, are cut with clip.Echo.
const maxLoggedDetail = 512

// printfLogger routes jsonrpc2's own messages (stream errors, responses nobody waits for) to zap
// instead of stderr. They carry ids and error texts only, never bodies.
type printfLogger struct{ log *zap.Logger }

func (p printfLogger) Printf(format string, args ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, args...))
	p.log.Warn("jsonrpc2", zap.String("detail", clip.To(msg, maxLoggedDetail)))
}
