package mlpipeline

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/store"
)

// ReloaderConfig configures a Reloader.
type ReloaderConfig struct {
	// Analyzer is the analyzer whose classifiers are kept current.
	// Required.
	Analyzer *ml.Analyzer
	// Tags, when set, is the tag classifier kept current beside the
	// analyzer's classifiers. Optional.
	Tags *TagSuggester
	// Store and Blobs are where versions are registered and their
	// artifacts kept. Required.
	Store store.ModelVersions
	Blobs *blob.Store
	// Interval is the time between two looks at the store. Defaults to 30
	// seconds: a version activated by a person goes live within it, and
	// the look is one small query.
	Interval time.Duration
	// Logger reports versions that could not be loaded. Defaults to
	// slog.Default().
	Logger *slog.Logger
	// TickFunc, when set, replaces the interval's ticker: each value
	// received triggers a refresh. Tests use it to refresh on demand.
	TickFunc func() <-chan time.Time
}

// ReloaderIntervalDefault is the default of ReloaderConfig.Interval.
const ReloaderIntervalDefault = 30 * time.Second

// Reloader keeps an Analyzer's classifiers in step with the store's active
// versions, so that a worker picks up a newly activated version without a
// restart.
type Reloader struct {
	cfg ReloaderConfig
}

// NewReloader returns a Reloader. It fails when a required field is
// missing.
func NewReloader(cfg *ReloaderConfig) (*Reloader, error) {
	c := *cfg
	var errs []error
	if c.Analyzer == nil {
		errs = append(errs, errors.New("ReloaderConfig.Analyzer is required"))
	}
	if c.Store == nil || c.Blobs == nil {
		errs = append(errs, errors.New("ReloaderConfig.Store and Blobs are required"))
	}
	if c.Interval < 0 {
		errs = append(errs, errors.New("ReloaderConfig.Interval is negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c.Interval = cmp.Or(c.Interval, ReloaderIntervalDefault)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return &Reloader{cfg: c}, nil
}

// Run refreshes the analyzer at once, then at every tick, until ctx is
// done; it returns ctx's error. A failed refresh is logged and leaves the
// models loaded before in place: the next tick tries again.
func (r *Reloader) Run(ctx context.Context) error {
	ticks := r.ticks(ctx)
	for {
		r.runOnce(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticks:
		}
	}
}

func (r *Reloader) ticks(ctx context.Context) <-chan time.Time {
	if r.cfg.TickFunc != nil {
		return r.cfg.TickFunc()
	}
	t := time.NewTicker(r.cfg.Interval)
	context.AfterFunc(ctx, t.Stop)
	return t.C
}

func (r *Reloader) runOnce(ctx context.Context) {
	if err := Refresh(ctx, r.cfg.Analyzer, r.cfg.Store, r.cfg.Blobs); err != nil && ctx.Err() == nil {
		r.cfg.Logger.Error("ml reloader: refresh failed", "err", err)
	}
	if r.cfg.Tags == nil {
		return
	}
	if err := r.cfg.Tags.Refresh(ctx); err != nil && ctx.Err() == nil {
		r.cfg.Logger.Error("ml reloader: tag model refresh failed", "err", err)
	}
}
