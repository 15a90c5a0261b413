package logging

import (
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"awsflow-sts/sidecar/internal/clip"
)

// MaxLine is the most bytes one log line takes, its newline included. Fields can carry
// peer-controlled strings (a command or session name), so every line is bounded here, where no
// caller can forget it.
const MaxLine = 8 << 10

// maxField is how much of one string field, the message or the stack is kept before the line is
// measured; a line still over MaxLine is written again with smaller shares (see boundedCore.Write).
const maxField = 2 << 10

// boundedCore is a zapcore.Core that writes JSON lines of at most MaxLine bytes.
type boundedCore struct {
	zapcore.LevelEnabler
	enc  zapcore.Encoder // with the context fields added by With
	base zapcore.Encoder // without them, for the last-resort line
	out  zapcore.WriteSyncer
}

// newBoundedCore is zapcore.NewCore with every line bounded to MaxLine.
func newBoundedCore(enc zapcore.Encoder, out zapcore.WriteSyncer, lvl zapcore.LevelEnabler) zapcore.Core {
	return &boundedCore{LevelEnabler: lvl, enc: enc, base: enc.Clone(), out: out}
}

func (c *boundedCore) With(fields []zapcore.Field) zapcore.Core {
	enc := c.enc.Clone()
	for _, f := range clipFields(fields, maxField) {
		f.AddTo(enc)
	}
	return &boundedCore{LevelEnabler: c.LevelEnabler, enc: enc, base: c.base, out: c.out}
}

func (c *boundedCore) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(ent.Level) {
		return ce.AddCore(ent, c)
	}
	return ce
}

// Write encodes the entry with long strings clipped; if the line is still too long (many fields,
// or long arrays), with every string cut to an equal share of MaxLine and structured values
// replaced; and if even that is too long, as the clipped message alone.
func (c *boundedCore) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	ent.Message = clip.To(ent.Message, maxField)
	ent.Stack = clip.To(ent.Stack, maxField)
	buf, err := c.enc.EncodeEntry(ent, clipFields(fields, maxField))
	if err != nil {
		return err
	}
	if buf.Len() > MaxLine {
		buf.Free()
		share := MaxLine / (2 * (len(fields) + 2))
		ent.Message = clip.To(ent.Message, share)
		ent.Stack = clip.To(ent.Stack, share)
		if buf, err = c.enc.EncodeEntry(ent, flatten(clipFields(fields, share))); err != nil {
			return err
		}
	}
	if buf.Len() > MaxLine {
		buf.Free()
		ent.Stack = ""
		clipped := zap.Int("clipped_fields", len(fields))
		if buf, err = c.base.EncodeEntry(ent, []zapcore.Field{clipped}); err != nil {
			return err
		}
	}
	defer buf.Free()
	if _, err := c.out.Write(buf.Bytes()); err != nil {
		return err
	}
	if ent.Level > zapcore.ErrorLevel {
		// The process may be about to end (panic, fatal): flush now.
		return c.out.Sync()
	}
	return nil
}

func (c *boundedCore) Sync() error {
	return c.out.Sync()
}

// clipFields returns fields with every string value (strings, byte strings, errors) cut to n
// bytes. The caller's slice is not changed.
func clipFields(fields []zapcore.Field, n int) []zapcore.Field {
	out := make([]zapcore.Field, len(fields))
	for i, f := range fields {
		switch f.Type {
		case zapcore.StringType:
			f.String = clip.To(f.String, n)
		case zapcore.ByteStringType:
			if b, ok := f.Interface.([]byte); ok {
				f = zap.String(f.Key, clip.To(string(b), n))
			}
		case zapcore.ErrorType:
			if e, ok := f.Interface.(error); ok && e != nil {
				f = zap.String(f.Key, clip.To(e.Error(), n))
			}
		}
		out[i] = f
	}
	return out
}

// flatten replaces values of unbounded encoded size (arrays, objects, reflected values,
// stringers) by a marker, keeping the key.
func flatten(fields []zapcore.Field) []zapcore.Field {
	for i, f := range fields {
		switch f.Type {
		case zapcore.ArrayMarshalerType, zapcore.ObjectMarshalerType, zapcore.InlineMarshalerType,
			zapcore.ReflectType, zapcore.StringerType, zapcore.BinaryType:
			fields[i] = zap.String(f.Key, "[clipped]")
		}
	}
	return fields
}
