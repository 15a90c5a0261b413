// Package logging builds the sidecar's zap logger: JSON lines to stderr (stdout carries the
// protocol) and optionally to a file, at a level that can change while running. Callers log
// method, id, command, duration, AWS error code and request id; never a request or result body.
// Every line is at most MaxLine bytes, whatever its fields hold.
package logging

import (
	"fmt"
	"io"
	"os"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Logger is a zap logger with its adjustable level and the file it may hold open.
type Logger struct {
	*zap.Logger
	// Level changes what is logged from now on.
	Level zap.AtomicLevel
	file  *os.File
}

// New logs to w (and to file, when not empty) at level.
func New(w io.Writer, file, level string) (*Logger, error) {
	lvl := zap.NewAtomicLevel()
	if err := SetLevel(lvl, level); err != nil {
		return nil, err
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	enc.TimeKey = "time"
	sinks := []zapcore.WriteSyncer{zapcore.AddSync(w)}
	var f *os.File
	if file != "" {
		var err error
		f, err = os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open log file: %w", err)
		}
		sinks = append(sinks, f)
	}
	core := newBoundedCore(zapcore.NewJSONEncoder(enc), zapcore.NewMultiWriteSyncer(sinks...), lvl)
	return &Logger{Logger: zap.New(core), Level: lvl, file: f}, nil
}

// SetLevel sets lvl from a name: debug, info, warn or error ("" leaves it at info).
func SetLevel(lvl zap.AtomicLevel, name string) error {
	if name == "" {
		name = "info"
	}
	var l zapcore.Level
	if err := l.UnmarshalText([]byte(strings.ToLower(name))); err != nil {
		return fmt.Errorf("log level %q: use debug, info, warn or error", name)
	}
	lvl.SetLevel(l)
	return nil
}

// Close flushes the logger and closes its file.
func (l *Logger) Close() error {
	_ = l.Sync() // stderr may not support fsync; nothing useful to do about it
	if l.file != nil {
		return l.file.Close()
	}
	return nil
}
