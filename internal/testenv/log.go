package testenv

import (
	"context"
	"log/slog"
	"slices"
	"sync"
)

// LogRecorder is a slog.Handler that keeps every record logged through it,
// at every level, for a test to look for: slog.New(&testenv.LogRecorder{}).
type LogRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

// Enabled reports true: every level is kept.
func (r *LogRecorder) Enabled(context.Context, slog.Level) bool { return true }

// WithAttrs returns r: the attributes of a logger's With are not kept.
func (r *LogRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }

// WithGroup returns r: groups are not kept.
func (r *LogRecorder) WithGroup(string) slog.Handler { return r }

// Handle keeps a copy of rec.
func (r *LogRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec.Clone())
	return nil
}

// Records returns the records logged so far, oldest first.
func (r *LogRecorder) Records() []slog.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.records)
}
