package mcpserver

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// The server's log lines also go to the client as notifications/message, at or above the level
// the client set with logging/setLevel (none before it does), scrubbed of every secret the server
// has seen. The sidecar never logs a body, so neither do these.

// notesQueued bounds the log lines waiting to be sent; more are dropped, so that logging never
// waits on a client that does not read.
const notesQueued = 256

// noteTimeout bounds the sending of one log notification.
const noteTimeout = time.Second

// notifier sends log lines to the client.
type notifier struct {
	scrub func(string) string
	queue chan *mcp.LoggingMessageParams
}

func newNotifier(scrub func(string) string) *notifier {
	return &notifier{scrub: scrub, queue: make(chan *mcp.LoggingMessageParams, notesQueued)}
}

// add queues a log line; it never blocks.
func (n *notifier) add(ent zapcore.Entry, fields []zapcore.Field) {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fields {
		f.AddTo(enc)
	}
	data := map[string]any{"message": ent.Message}
	for k, v := range enc.Fields {
		data[k] = v
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return
	}
	var scrubbed any
	if json.Unmarshal([]byte(n.scrub(string(raw))), &scrubbed) != nil {
		scrubbed = n.scrub(ent.Message)
	}
	select {
	case n.queue <- &mcp.LoggingMessageParams{Level: mcpLevel(ent.Level), Logger: "awsflow-sts", Data: scrubbed}:
	default:
	}
}

// run sends queued log lines to the session until ctx ends.
func (n *notifier) run(ctx context.Context, ss *mcp.ServerSession) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-n.queue:
			sctx, cancel := context.WithTimeout(ctx, noteTimeout)
			_ = ss.Log(sctx, p) // a client that went away gets no more
			cancel()
		}
	}
}

// mcpLevel is the MCP level of a zap level.
func mcpLevel(l zapcore.Level) mcp.LoggingLevel {
	switch {
	case l <= zapcore.DebugLevel:
		return "debug"
	case l == zapcore.InfoLevel:
		return "info"
	case l == zapcore.WarnLevel:
		return "warning"
	case l == zapcore.ErrorLevel:
		return "error"
	}
	return "critical"
}

// noteCore passes every log line at debug or above to the notifier; the client's level filters.
type noteCore struct {
	n      *notifier
	fields []zapcore.Field
}

func (c *noteCore) Enabled(zapcore.Level) bool { return true }

func (c *noteCore) With(fields []zapcore.Field) zapcore.Core {
	return &noteCore{n: c.n, fields: append(append([]zapcore.Field(nil), c.fields...), fields...)}
}

func (c *noteCore) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	return ce.AddCore(ent, c)
}

func (c *noteCore) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	c.n.add(ent, append(append([]zapcore.Field(nil), c.fields...), fields...))
	return nil
}

func (c *noteCore) Sync() error { return nil }

// teeCore logs to the sidecar's own log and to the client.
func teeCore(own zapcore.Core, n *notifier) zapcore.Core {
	return zapcore.NewTee(own, &noteCore{n: n})
}

// sdkLogger is the SDK's own logging (malformed input, protocol faults) into the server's log,
// at info and above.
func sdkLogger(log *zap.Logger) *slog.Logger {
	return slog.New(&slogHandler{log: log.Named("mcp")})
}

// slogHandler writes slog records to a zap logger.
type slogHandler struct {
	log   *zap.Logger
	attrs []zap.Field
}

func (h *slogHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *slogHandler) Handle(_ context.Context, r slog.Record) error {
	fields := append([]zap.Field(nil), h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		fields = append(fields, zap.Any(a.Key, a.Value.Any()))
		return true
	})
	switch {
	case r.Level >= slog.LevelError:
		h.log.Error(r.Message, fields...)
	case r.Level >= slog.LevelWarn:
		h.log.Warn(r.Message, fields...)
	default:
		h.log.Info(r.Message, fields...)
	}
	return nil
}

func (h *slogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	fields := append([]zap.Field(nil), h.attrs...)
	for _, a := range attrs {
		fields = append(fields, zap.Any(a.Key, a.Value.Any()))
	}
	return &slogHandler{log: h.log, attrs: fields}
}

func (h *slogHandler) WithGroup(name string) slog.Handler {
	return &slogHandler{log: h.log.Named(name), attrs: h.attrs}
}
