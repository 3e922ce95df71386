package transport

import (
	"log/slog"
	"time"
)

const (
	slogDebug = slog.LevelDebug
	slogWarn  = slog.LevelWarn
)

func attr(k, v string) slog.Attr                  { return slog.String(k, v) }
func attrInt(k string, v int) slog.Attr           { return slog.Int(k, v) }
func attrDur(k string, v time.Duration) slog.Attr { return slog.Duration(k, v) }
