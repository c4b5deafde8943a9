package mlpipeline

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/store"
)

// The train job.
const (
	// JobTrain retrains the classifiers whose labels changed.
	JobTrain = "ml.train"
	// QueueTrain is its queue: training takes seconds to minutes, so it
	// never sits in front of a document's stages.
	QueueTrain = "train"
	// TrainSchedule is how often the scheduler enqueues JobTrain. A run
	// whose labels did not change costs one query per model and the
	// labels' list.
	TrainSchedule = "@every 10m"
)

// Defaults of TrainerConfig.
const (
	HoldOutDefault = 0.2
	// TrainTimeoutDefault bounds one run of the train job.
	TrainTimeoutDefault = 30 * time.Minute
)

// TrainerConfig configures a Trainer.
type TrainerConfig struct {
	// Store holds the labels, the documents' texts and the model
	// versions; Blobs the artifacts. Required.
	Store trainStore
	Blobs *blob.Store
	// HoldOut is the share of labelled documents kept out of training to
	// compare the new model with the active one. A document is held out
	// by a hash of its ID (ml.HeldOut), so it stays held out from one run
	// to the next and no version was trained on the documents it is
	// judged by. Defaults to 0.2.
	HoldOut float64
	// Seed seeds the split and the training. Defaults to 1.
	Seed uint64
	// Train are the training settings; Name and Version are set per
	// model. Nil means ml's defaults.
	Train *ml.TrainOpts
	// Tags are the tag classifier's training settings; Name and Version
	// are set by the Trainer. Nil means ml's defaults.
	Tags *ml.MultiLabelTrainOpts
	// Now returns the current time, which names new versions. Defaults to
	// time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// trainStore is the store's roles a Trainer uses: the labels and tags,
// the labelled documents and their texts, and the model versions.
type trainStore interface {
	store.Documents
	store.Labels
	store.ModelVersions
	store.Tags
	store.Texts
}

// Trainer retrains the classifiers on the users' labels.
//
// A label "name:class" (such as "doctype:invoice") teaches model name the
// class; a label without a colon teaches the default model, ml.NameDefault
// ("doctype"). Each model is a single-label classifier, so a document with
// two classes of one model teaches it nothing.
//
// Per model, a run computes the digest of its labels (document IDs and
// classes) and skips the model when a version was already trained on
// labels of that digest. Otherwise it trains on the documents not held
// out, evaluates the new model and the active version on the held-out
// ones, registers the new version with its figures and the digest, and
// activates it only when its accuracy is not below the active version's.
//
// The tag classifier ("tags", kind ModelKindTagger) is trained the same
// way on the tags people set (SetBy "user:…"), for the tags whose rule is
// "auto", and compared by micro-averaged F1 (see trainTags).
type Trainer struct {
	cfg TrainerConfig
}

// NewTrainer returns a Trainer. It fails when a required field is missing
// or a setting is out of range.
func NewTrainer(cfg *TrainerConfig) (*Trainer, error) {
	c := *cfg
	var errs []error
	if c.Store == nil || c.Blobs == nil {
		errs = append(errs, errors.New("TrainerConfig.Store and Blobs are required"))
	}
	if c.HoldOut < 0 || c.HoldOut >= 1 {
		errs = append(errs, fmt.Errorf("TrainerConfig.HoldOut %v is not in [0, 1)", c.HoldOut))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new trainer: %w", err)
	}
	c.HoldOut = cmp.Or(c.HoldOut, HoldOutDefault)
	c.Seed = cmp.Or(c.Seed, 1)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return &Trainer{cfg: c}, nil
}

// TrainResult is what a run did with one model.
type TrainResult struct {
	// Kind is the model's kind: ModelKindClassifier or ModelKindTagger.
	Kind string `json:"kind"`
	// Name is the model's name.
	Name string `json:"name"`
	// LabelDigest identifies the labels the run read.
	LabelDigest string `json:"label_digest"`
	// Documents is the number of labelled documents of the model, and
	// HeldOut how many of them the models were compared on.
	Documents int `json:"documents"`
	HeldOut   int `json:"held_out"`
	// Skipped says why no version was trained: "unchanged" when a version
	// was trained on the same labels, else what is missing.
	Skipped string `json:"skipped,omitempty"`
	// Version is the version trained, if any.
	Version *store.ModelVersion `json:"-"`
	// VersionID is Version's ID, or "".
	VersionID string `json:"version_id,omitempty"`
	// Activated reports that the new version became the active one.
	Activated bool `json:"activated"`
	// Accuracy is the new version's accuracy on the held-out documents;
	// ActiveAccuracy that of the version active before, when there was
	// one (ActiveID).
	Accuracy       float64 `json:"accuracy"`
	ActiveID       string  `json:"active_id,omitempty"`
	ActiveAccuracy float64 `json:"active_accuracy,omitempty"`
	// MicroF1 and ActiveMicroF1 are the tag classifier's figures in place
	// of Accuracy and ActiveAccuracy: the micro-averaged F1 of the new
	// version and of the active one on the held-out documents.
	MicroF1       float64 `json:"micro_f1,omitempty"`
	ActiveMicroF1 float64 `json:"active_micro_f1,omitempty"`
}

// SkippedUnchanged is TrainResult.Skipped for a model whose labels did not
// change.
const SkippedUnchanged = "unchanged"

// labelled is one document's class for one model.
type labelled struct {
	docID, class string
}

// Run retrains every model whose labels changed, then the tag classifier
// when the tags people set changed. A model that fails to train is
// reported in the error; the others are still trained.
func (t *Trainer) Run(ctx context.Context) ([]TrainResult, error) {
	labels, err := t.cfg.Store.ListLabels(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	byModel := map[string][]labelled{}
	for _, l := range labels {
		name, class, ok := strings.Cut(l.Label, ":")
		if !ok {
			name, class = ml.NameDefault, l.Label
		}
		if name == "" || class == "" {
			continue
		}
		byModel[name] = append(byModel[name], labelled{l.DocumentID, class})
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range byModel {
			if !yield(n) {
				return
			}
		}
	})
	var out []TrainResult
	var errs []error
	for _, name := range names {
		res, err := t.trainModel(ctx, name, byModel[name])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		level := slog.LevelInfo
		if res.Skipped == SkippedUnchanged {
			level = slog.LevelDebug // every run of an idle deployment
		}
		t.cfg.Logger.Log(ctx, level, "ml train: model done", "model", name, "skipped", res.Skipped, "version_id", res.VersionID,
			"activated", res.Activated, "accuracy", res.Accuracy, "active_accuracy", res.ActiveAccuracy, "documents", res.Documents)
		out = append(out, *res)
	}
	res, err := t.trainTags(ctx)
	switch {
	case err != nil:
		errs = append(errs, err)
	case res != nil:
		level := slog.LevelInfo
		if res.Skipped == SkippedUnchanged {
			level = slog.LevelDebug
		}
		t.cfg.Logger.Log(ctx, level, "ml train: tag model done", "skipped", res.Skipped, "version_id", res.VersionID,
			"activated", res.Activated, "micro_f1", res.MicroF1, "active_micro_f1", res.ActiveMicroF1, "documents", res.Documents)
		out = append(out, *res)
	}
	return out, errors.Join(errs...)
}

// singleClass keeps the documents with exactly one class, sorted by
// document ID.
func singleClass(ls []labelled) []labelled {
	classes := map[string][]string{}
	for _, l := range ls {
		classes[l.docID] = append(classes[l.docID], l.class)
	}
	var out []labelled
	for id, cs := range classes {
		if len(cs) == 1 {
			out = append(out, labelled{id, cs[0]})
		}
	}
	slices.SortFunc(out, func(x, y labelled) int { return strings.Compare(x.docID, y.docID) })
	return out
}

// LabelDigest is the digest of a model's labels: sha256 over the sorted
// document IDs and classes.
func labelDigest(name string, ls []labelled) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", name)
	for _, l := range ls {
		fmt.Fprintf(h, "%s\t%s\n", l.docID, l.class)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (t *Trainer) trainModel(ctx context.Context, name string, all []labelled) (*TrainResult, error) {
	ls := singleClass(all)
	res := &TrainResult{Kind: ModelKindClassifier, Name: name, LabelDigest: labelDigest(name, ls), Documents: len(ls)}
	done, err := t.cfg.Store.ListModelVersions(ctx, &store.ListModelVersionsParams{Kind: ModelKindClassifier,
		Name: name, LabelDigest: res.LabelDigest})
	if err != nil {
		return nil, fmt.Errorf("train model %s: %w", name, err)
	}
	if len(done) > 0 {
		res.Skipped = SkippedUnchanged
		return res, nil
	}

	var train, held []ml.Example
	for _, l := range ls {
		doc, err := t.cfg.Store.GetDocument(ctx, l.docID)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since its labels were read
		}
		if err != nil {
			return nil, fmt.Errorf("train model %s: %w", name, err)
		}
		text, err := t.cfg.Store.GetText(ctx, l.docID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("train model %s: %w", name, err)
		}
		e := ml.Example{Key: l.docID, Text: ml.DocumentText(doc.Title, doc.Author, text), Label: l.class}
		train, held = assign(t, l.docID, e, train, held)
	}
	res.HeldOut = len(held)

	o := t.cfg.Train.WithDefaults()
	o.Name = name
	o.Seed = t.cfg.Seed
	now := t.cfg.Now().UTC()
	o.Version = versionName(now, res.LabelDigest)
	o.Now = func() time.Time { return now }
	m, err := ml.Train(ctx, train, &o)
	if errors.Is(err, ml.ErrTooFewExamples) {
		res.Skipped = fmt.Sprintf("too few examples: %v", err)
		return res, nil
	}
	if err != nil {
		return nil, fmt.Errorf("train model %s: %w", name, err)
	}

	active, err := t.activeModel(ctx, name)
	if err != nil {
		return nil, err
	}
	activate := active == nil
	m.Metrics = &ml.Metrics{Examples: len(train), HeldOut: len(held)}
	if len(held) > 0 {
		ev := m.Evaluate(held)
		res.Accuracy, m.Metrics.Accuracy, m.Metrics.MacroF1 = ev.Accuracy, ev.Accuracy, ev.MacroF1
		m.Metrics.Labels, m.Metrics.Confusion = ev.Labels, ev.Confusion
		if active != nil {
			res.ActiveID = active.ID
			res.ActiveAccuracy = active.Model.Evaluate(held).Accuracy
			activate = res.Accuracy >= res.ActiveAccuracy
		}
	} else if active != nil {
		// Nothing to compare on: the version in use stays.
		res.ActiveID = active.ID
	}
	mv, err := Publish(ctx, t.cfg.Store, t.cfg.Blobs, &PublishParams{Model: m, Activate: activate, LabelDigest: res.LabelDigest})
	if err != nil {
		return nil, fmt.Errorf("train model %s: %w", name, err)
	}
	res.Version, res.VersionID, res.Activated = mv, mv.ID, mv.Active
	return res, nil
}

// activeModel returns the active version of a model, or nil when none is
// active. An active version whose artifact cannot be read counts as none,
// so that a broken version is replaced.
func (t *Trainer) activeModel(ctx context.Context, name string) (*ml.LoadedModel, error) {
	vs, err := t.cfg.Store.ListModelVersions(ctx, &store.ListModelVersionsParams{Kind: ModelKindClassifier,
		Name: name, ActiveOnly: true})
	if err != nil {
		return nil, fmt.Errorf("train model %s: %w", name, err)
	}
	if len(vs) == 0 {
		return nil, nil
	}
	m, err := OpenModel(ctx, t.cfg.Blobs, &vs[0])
	if err != nil {
		t.cfg.Logger.Warn("ml train: the active version cannot be read; a new one replaces it", "model", name, "error", err)
		return nil, nil
	}
	return &ml.LoadedModel{ID: vs[0].ID, Model: m}, nil
}

// Register registers the train job's handler.
func (t *Trainer) Register(hs *jobs.Handlers) {
	hs.Handle(JobTrain, func(ctx context.Context, _ *jobs.Job) error {
		_, err := t.Run(ctx)
		return err
	}, &jobs.HandlerOpts{Timeout: TrainTimeoutDefault})
}

// PeriodicJobs are the train job's schedule, for a scheduler.
func PeriodicJobs() []jobs.PeriodicJob {
	return []jobs.PeriodicJob{{Name: JobTrain, Schedule: TrainSchedule, Type: JobTrain,
		Opts: &jobs.EnqueueOpts{Queue: QueueTrain, MaxRetries: jobs.NoRetries}}}
}

// assign puts a labelled document's example with those the new version is
// trained on or with those it is judged by: held out by a hash of the
// document's ID (ml.HeldOut), so the split stays the same from one run to
// the next.
func assign[E any](t *Trainer, docID string, e E, train, held []E) ([]E, []E) {
	if ml.HeldOut(docID, t.cfg.HoldOut, t.cfg.Seed) {
		return train, append(held, e)
	}
	return append(train, e), held
}

// versionName names a version trained at now on labels of the digest:
// sortable by time, and two runs of one second told apart by their labels.
func versionName(now time.Time, labelDigest string) string {
	return now.Format("20060102T150405Z") + "-" + labelDigest[:8]
}
