package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/ml/kserve"
	"github.com/quirehq/quire/ml/mlpipeline"
	"github.com/quirehq/quire/pipeline"
)

// MLSettings are the global settings of the machine-learning analyses that
// the analyze stage runs in workers, up and process.
type MLSettings struct {
	// Enabled runs ml.Analyzer (language, entities, keywords, summary, the
	// active classifiers) in the analyze stage; off, the stage records only
	// the document's kind. Defaults to true.
	Enabled bool
	// ReloadInterval is how often a worker looks for newly activated model
	// versions. Defaults to mlpipeline.ReloaderIntervalDefault (30 s).
	ReloadInterval time.Duration
	// RemoteURL is an inference server (KServe v2 REST) whose model
	// RemoteModel classifies every document besides Quire's own models.
	// Empty calls none.
	RemoteURL   string
	RemoteModel string
	// RemoteTimeout bounds one request to it. Defaults to 5 seconds.
	RemoteTimeout time.Duration
	// RemoteConcurrency is how many requests to RemoteURL may be in
	// flight at once across every worker sharing the job engine (a
	// concurrency limiter named "ml-remote:" and the model): an analysis
	// that finds the slots taken is snoozed without using a retry. 0 sends
	// without a limit. Defaults to RemoteConcurrencyDefault.
	RemoteConcurrency int
}

// RemoteConcurrencyDefault keeps a few requests per worker's core in
// flight to a shared inference server: enough to hide its latency, not so
// many that a burst of documents queues hundreds on it.
const RemoteConcurrencyDefault = 16

// AddFlags adds the ML settings to fs, each with its environment variable.
func (s *MLSettings) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&s.Enabled, "ml", true, "run the machine-learning analyses (language, entities, keywords, summary, trained classifiers) in the analyze stage; --ml=false records only the document's kind")
	fs.DurationVar(&s.ReloadInterval, "ml-reload-interval", mlpipeline.ReloaderIntervalDefault, "how often a worker looks for newly activated model versions")
	fs.StringVar(&s.RemoteURL, "ml-remote-url", "", "base URL of an inference server (KServe v2 REST) whose model --ml-remote-model classifies every document too: http://models:8080")
	fs.StringVar(&s.RemoteModel, "ml-remote-model", ml.NameDefault, "name of the model at --ml-remote-url, also the prefix of its labels")
	fs.DurationVar(&s.RemoteTimeout, "ml-remote-timeout", kserve.TimeoutDefault, "timeout of one request to --ml-remote-url; failures are retried twice, and a circuit breaker stops calling after 5 in a row for 30s")
	fs.IntVar(&s.RemoteConcurrency, "ml-remote-concurrency", RemoteConcurrencyDefault, "requests in flight to --ml-remote-url at once, across every worker sharing the job engine; 0: no limit")
	for _, name := range []string{"ml", "ml-reload-interval", "ml-remote-url", "ml-remote-model", "ml-remote-timeout", "ml-remote-concurrency"} {
		WithEnv(fs, name)
	}
}

// Validate reports an ML setting that cannot work.
func (s *MLSettings) Validate() error {
	if s.ReloadInterval <= 0 {
		return Usagef("invalid %s %s: it must be positive", Setting("ml-reload-interval"), s.ReloadInterval)
	}
	if s.RemoteTimeout <= 0 {
		return Usagef("invalid %s %s: it must be positive", Setting("ml-remote-timeout"), s.RemoteTimeout)
	}
	if s.RemoteConcurrency < 0 {
		return Usagef("invalid %s %d: use 0 for no limit", Setting("ml-remote-concurrency"), s.RemoteConcurrency)
	}
	return nil
}

// newMLAnalyzer returns the analyze stage's plug-in the settings ask for:
// nil (the pipeline's basic analyzer) when machine learning is off. Nothing
// heavy happens here: the language model is read on first use, and
// the classifiers are loaded by startML, so a web process that opens the
// documents but never analyses pays for neither.
//
// Calls to the remote model go through a concurrency limiter on broker,
// shared by every worker, when RemoteConcurrency is set.
func newMLAnalyzer(s *MLSettings, broker jobs.Driver, log *slog.Logger) (*ml.Analyzer, pipeline.Analyzer, error) {
	if !s.Enabled {
		return nil, nil, nil
	}
	if err := s.Validate(); err != nil {
		return nil, nil, err
	}
	var remote []ml.RemoteClassifier
	var gate func(context.Context, func(context.Context) error) error
	if s.RemoteURL != "" && s.RemoteConcurrency > 0 {
		l, err := jobs.NewConcurrencyLimiter(broker, "ml-remote:"+s.RemoteModel, s.RemoteConcurrency, &jobs.LimiterOpts{Logger: log})
		if err != nil {
			return nil, nil, Usagef("invalid %s: %w", Setting("ml-remote-model"), err)
		}
		gate = l.Do
	}
	if s.RemoteURL != "" {
		c, err := kserve.NewClient(&kserve.ClientConfig{URL: s.RemoteURL, Model: s.RemoteModel, Timeout: s.RemoteTimeout, Logger: log})
		if err != nil {
			return nil, nil, Usagef("invalid %s or %s: %w", Setting("ml-remote-url"), Setting("ml-remote-model"), err)
		}
		remote = append(remote, c)
	}
	a, err := ml.NewAnalyzer(&ml.AnalyzerConfig{Remote: remote, RemoteGate: gate, Logger: log})
	if err != nil {
		return nil, nil, fmt.Errorf("machine learning (%s): %w", Setting("ml"), err)
	}
	return a, mlpipeline.New(a), nil
}

// mlRuntime keeps a worker's classifiers in step with the store's active
// versions.
type mlRuntime struct {
	stop context.CancelFunc
	wg   sync.WaitGroup
}

// StartML loads the active classifier versions and starts the reloader
// that swaps in versions activated later, without a restart. Processes that
// run the analyze stage call it; it does nothing when machine learning is
// off. A version that cannot be loaded is logged, not fatal: documents are
// still analysed, with the models that could be loaded.
func (d *Documents) StartML(ctx context.Context, s *MLSettings, log *slog.Logger) error {
	if d.Analyzer == nil || d.ml != nil {
		return nil
	}
	r, err := mlpipeline.NewReloader(&mlpipeline.ReloaderConfig{Analyzer: d.Analyzer, Tags: d.Tags, Store: d.Store,
		Blobs: d.Blobs, Interval: s.ReloadInterval, Logger: log})
	if err != nil {
		return err
	}
	if err := mlpipeline.Refresh(ctx, d.Analyzer, d.Store, d.Blobs); err != nil {
		log.Error("ml: active model versions not loaded", "error", err)
	}
	if d.Tags != nil {
		if err := d.Tags.Refresh(ctx); err != nil {
			log.Error("ml: active tag model not loaded", "error", err)
		}
	}
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	d.ml = &mlRuntime{stop: stop}
	d.ml.wg.Go(func() { _ = r.Run(rctx) })
	return nil
}

// stopML stops the reloader startML started.
func (d *Documents) stopML() {
	if d.ml != nil {
		d.ml.stop()
		d.ml.wg.Wait()
	}
}

// registerTrain registers the train job, which retrains the classifiers
// when the users' labels changed (mlpipeline.Trainer).
func (d *Documents) registerTrain(hs *jobs.Handlers, log *slog.Logger) error {
	tr, err := mlpipeline.NewTrainer(&mlpipeline.TrainerConfig{Store: d.Store, Blobs: d.Blobs, Logger: log})
	if err != nil {
		return err
	}
	tr.Register(hs)
	return nil
}

// mlQueues adds the train queue, weight 1, to a worker's queues.
func mlQueues(queues map[string]int) map[string]int {
	queues[mlpipeline.QueueTrain] = 1
	return queues
}
