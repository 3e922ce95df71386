package transport

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
)

// LeveledLogger adapts a *slog.Logger to go-retryablehttp's LeveledLogger
// and redacts every value on the way. A nil logger discards everything;
// retryablehttp's own default would write to stderr.
type LeveledLogger struct {
	l *slog.Logger
	r *Redactor
}

// NewLeveledLogger returns an adapter logging to l through r.
func NewLeveledLogger(l *slog.Logger, r *Redactor) *LeveledLogger {
	return &LeveledLogger{l: l, r: r}
}

// Error logs at error level.
func (a *LeveledLogger) Error(msg string, kv ...any) { a.log(slog.LevelError, msg, kv) }

// Warn logs at warn level.
func (a *LeveledLogger) Warn(msg string, kv ...any) { a.log(slog.LevelWarn, msg, kv) }

// Info logs at info level.
func (a *LeveledLogger) Info(msg string, kv ...any) { a.log(slog.LevelInfo, msg, kv) }

// Debug logs at debug level.
func (a *LeveledLogger) Debug(msg string, kv ...any) { a.log(slog.LevelDebug, msg, kv) }

func (a *LeveledLogger) log(level slog.Level, msg string, kv []any) {
	if a == nil || a.l == nil || !a.l.Enabled(context.Background(), level) {
		return
	}
	out := make([]any, len(kv))
	for i, v := range kv {
		out[i] = a.redact(v)
	}
	a.l.Log(context.Background(), level, a.r.String(msg), out...)
}

func (a *LeveledLogger) redact(v any) any {
	switch v := v.(type) {
	case nil, bool, int, int64, float64:
		return v
	case slog.Attr:
		if v.Value.Kind() == slog.KindString {
			v.Value = slog.StringValue(a.r.String(v.Value.String()))
		}
		return v
	case Secret, slog.LogValuer:
		return v
	case string:
		return a.r.String(v)
	case error:
		return a.r.String(v.Error())
	case *url.URL:
		return a.r.URL(v)
	case http.Header:
		return a.r.Header(v)
	case *http.Request:
		return a.r.String(v.Method + " " + v.URL.Redacted())
	case fmt.Stringer:
		return a.r.String(v.String())
	default:
		return a.r.String(fmt.Sprint(v))
	}
}
