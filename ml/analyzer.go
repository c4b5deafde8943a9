package ml

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// Model versions of the analyses that come with Quire rather than from
// training. Classifiers record under their own version (LoadedModel.ID).
const (
	// LanguageModelVersion names language identification: Quire's n-gram
	// identifier (ml/internal/langid). Bump it when its model or rules
	// change, so that stored results say which one found them.
	LanguageModelVersion = "quire-langid@2"
	// TextModelVersion names the entity extractors, keywords and summary.
	// Bump it when their output changes, so that stored results say which
	// rules found them.
	TextModelVersion = "quire-text@2"
)

// Label prefixes of classifications that are not a classifier's.
const (
	// LanguageLabelPrefix starts the classification that holds the
	// language's confidence: "language:en".
	LanguageLabelPrefix = "language:"
)

// AnalyzerConfig configures an Analyzer.
type AnalyzerConfig struct {
	// Language identifies languages. Defaults to NewLanguageIdentifier(nil):
	// all 75 languages, the model read on first use.
	Language LanguageIdentifier
	// Keywords is how many keywords are recorded. Defaults to 10.
	Keywords int
	// SummarySentences is the most sentences of a summary. Defaults to 3.
	SummarySentences int
	// SummaryMaxBytes bounds a summary. Defaults to 600.
	SummaryMaxBytes int
	// MaxTextBytes is how much of a text is analysed: the first part of a
	// thousand-page document says what it is, and the work stays bounded.
	// Every analysis reads only that part (language identification reads
	// less of it), once: the text is split into words once, and entities,
	// keywords, summary and the classifiers of its language share them, so
	// the work is linear in it (under 0.1 s of CPU for 1 MiB of prose,
	// classifiers aside). Defaults to 1 MiB.
	MaxTextBytes int
	// MaxEntities bounds the entities recorded of a document, keywords
	// aside: the first ones in its text. A mail-merge export or a list of
	// addresses holds thousands, and each is a row that the store's one
	// writer must insert before any other document's writes. Defaults to
	// 1,000: of the 6,986 documents of the mixed test corpus (SpamAssassin,
	// UDHR, State of the Union, with attachments) one has more, 3,296, and
	// the 99th percentile is 129, keywords included.
	MaxEntities int
	// Remote are classifiers served elsewhere (a KServe v2 endpoint, see
	// package kserve) that every document is sent to after the loaded
	// models. Optional.
	Remote []RemoteClassifier
	// RemoteGate, when set, runs each call to a Remote classifier: a
	// limiter's Do (jobs.Limiter) that keeps the calls of every worker to
	// a few at once, so a burst of documents does not swamp the inference
	// server. Its error, such as a refusal, fails the analysis as the
	// call's would. Optional.
	RemoteGate func(ctx context.Context, call func(ctx context.Context) error) error
	// Logger logs model loading. Defaults to slog.Default().
	Logger *slog.Logger
}

// RemoteClassifier is a classifier the Analyzer calls rather than runs: a
// team's own model behind an inference server.
type RemoteClassifier interface {
	// Name is the model's name, the prefix of its labels ("doctype").
	Name() string
	// Classify classifies a text (DocumentText). It returns the prediction
	// and the model version to record it under. An error fails the
	// document's analysis, which the pipeline retries later: a document is
	// never recorded without the remote model's answer.
	Classify(ctx context.Context, text string) (p *Prediction, modelVersion string, err error)
}

// MaxTextBytesDefault is the default of AnalyzerConfig.MaxTextBytes.
const MaxTextBytesDefault = 1 << 20

// MaxEntitiesDefault is the default of AnalyzerConfig.MaxEntities.
const MaxEntitiesDefault = 1000

// WithDefaults returns a copy of c with unset fields filled in.
func (c *AnalyzerConfig) WithDefaults() (AnalyzerConfig, error) {
	var o AnalyzerConfig
	if c != nil {
		o = *c
	}
	if o.Language == nil {
		l, err := NewLanguageIdentifier(nil)
		if err != nil {
			return o, err
		}
		o.Language = l
	}
	o.Keywords = cmp.Or(o.Keywords, KeywordsMaxDefault)
	o.SummarySentences = cmp.Or(o.SummarySentences, SummarySentencesDefault)
	o.SummaryMaxBytes = cmp.Or(o.SummaryMaxBytes, SummaryMaxBytesDefault)
	o.MaxTextBytes = cmp.Or(o.MaxTextBytes, MaxTextBytesDefault)
	o.MaxEntities = cmp.Or(o.MaxEntities, MaxEntitiesDefault)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// LoadedModel is a classifier the Analyzer runs.
type LoadedModel struct {
	// ID is the model version its predictions are recorded under: the
	// registry's version ID for a registered model (mlpipeline.Refresh).
	// Defaults to the model's name@version.
	ID    string
	Model *Model
}

func (l LoadedModel) id() string { return cmp.Or(l.ID, l.Model.ModelVersion()) }

// Analyzer finds a document's language, entities, keywords and summary,
// and classifies it with the loaded models. It is safe for concurrent use:
// Load swaps the whole set of models at once, and each Analyze call uses
// the set it started with, so a new model version goes live without a
// restart and without a document seeing half of two versions.
type Analyzer struct {
	cfg    AnalyzerConfig
	models atomic.Pointer[[]LoadedModel]
	toks   sync.Map // language -> *Tokenizer
}

// NewAnalyzer returns an Analyzer with no classifier loaded.
func NewAnalyzer(cfg *AnalyzerConfig) (*Analyzer, error) {
	c, err := cfg.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("new analyzer: %w", err)
	}
	a := &Analyzer{cfg: c}
	a.models.Store(&[]LoadedModel{})
	return a, nil
}

// Load makes models the classifiers of the analyses that start from now
// on, replacing those loaded before. Two models of one name are refused:
// a document gets one label of each kind.
func (a *Analyzer) Load(models ...LoadedModel) error {
	names := map[string]string{}
	set := make([]LoadedModel, 0, len(models))
	for _, m := range models {
		if m.Model == nil {
			return fmt.Errorf("load models: %s has no model", m.ID)
		}
		if err := m.Model.validate(); err != nil {
			return fmt.Errorf("load model %s: %w", m.id(), err)
		}
		if prev, dup := names[m.Model.Name]; dup {
			return fmt.Errorf("load models: %s and %s are both named %q", prev, m.id(), m.Model.Name)
		}
		names[m.Model.Name] = m.id()
		m.Model.init()
		set = append(set, m)
	}
	slices.SortFunc(set, func(x, y LoadedModel) int { return strings.Compare(x.Model.Name, y.Model.Name) })
	old := a.models.Swap(&set)
	ids := make([]string, len(set))
	for i, m := range set {
		ids[i] = m.id()
	}
	a.cfg.Logger.Info("ml: models loaded", "models", ids, "replaced", len(*old))
	return nil
}

// Models returns the loaded classifiers, by name.
func (a *Analyzer) Models() []LoadedModel { return slices.Clone(*a.models.Load()) }

// AnalyzeDocument analyses a document's text, its first MaxTextBytes. It
// returns one result per model version: language, then text (entities,
// keywords, summary), then one per classifier. The classifiers read the
// document's title and author before its text, as they did in training
// (DocumentText).
func (a *Analyzer) AnalyzeDocument(ctx context.Context, doc *Document) ([]*Result, error) {
	models := *a.models.Load() // one set for the whole document
	text := truncate(doc.Text, a.cfg.MaxTextBytes)
	var out []*Result

	lang, conf := Undetermined, 0.0
	if prose(sample(text, MaxCharsDefault)) {
		if l, c := a.cfg.Language.Identify(text); l != "" {
			lang, conf = l, c
		}
	}
	out = append(out, &Result{
		ModelVersion:    LanguageModelVersion,
		Language:        lang,
		Classifications: []Classification{{Label: LanguageLabelPrefix + lang, Confidence: clamp01(conf)}},
	})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}

	tok := a.tokenizer(lang)
	words := tok.split(text)
	ents := entities(text, words)
	ents = ents[:min(len(ents), a.cfg.MaxEntities)]
	res := &Result{ModelVersion: TextModelVersion, Entities: ents}
	for _, k := range keywords(words, a.cfg.Keywords) {
		res.Entities = append(res.Entities, Entity{Kind: EntityKeyword, Value: k.Text, Confidence: clamp01(k.Score)})
	}
	res.Summary = summary(text, words, a.cfg.SummarySentences, a.cfg.SummaryMaxBytes)
	out = append(out, res)

	title, author := doc.Title, doc.Author
	// A classifier of the document's language reads the terms of its
	// tokens: UAX #29 always breaks words at the line ends DocumentText
	// puts between title, author and text, so they are the terms of
	// DocumentText, without splitting the text a third time. Others read
	// the text.
	var input string
	var terms []string
	for _, m := range models {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("analyze: %w", err)
		}
		var p *Prediction
		if m.Model.Language == tok.Language() {
			if terms == nil {
				terms = documentTerms(tok, title, author, words)
			}
			p = m.Model.predictTerms(terms)
		} else {
			if input == "" {
				input = DocumentText(title, author, text)
			}
			p = m.Model.Predict(input)
		}
		label := p.Label
		if p.Unsure {
			label = UnsureLabel
		}
		out = append(out, &Result{
			ModelVersion:    m.id(),
			Classifications: []Classification{{Label: m.Model.Name + ":" + label, Confidence: clamp01(p.Confidence)}},
		})
	}
	if len(a.cfg.Remote) > 0 && input == "" {
		input = DocumentText(title, author, text)
	}
	for _, rc := range a.cfg.Remote {
		var p *Prediction
		var version string
		var err error
		if a.cfg.RemoteGate == nil {
			p, version, err = rc.Classify(ctx, input)
		} else {
			err = a.cfg.RemoteGate(ctx, func(ctx context.Context) error {
				var err error
				p, version, err = rc.Classify(ctx, input)
				return err
			})
		}
		if err != nil {
			return nil, fmt.Errorf("analyze: remote model %s: %w", rc.Name(), err)
		}
		label := p.Label
		if p.Unsure {
			label = UnsureLabel
		}
		out = append(out, &Result{
			ModelVersion:    version,
			Classifications: []Classification{{Label: rc.Name() + ":" + label, Confidence: clamp01(p.Confidence)}},
		})
	}
	return out, nil
}

// documentTerms returns tok.Terms(DocumentText(title, author, text)) from
// the words split of text.
func documentTerms(tok *Tokenizer, title, author string, tw *textWords) []string {
	terms := make([]string, 0, len(tw.words))
	terms = append(terms, tok.Terms(title)...)
	terms = append(terms, tok.Terms(author)...)
	for _, w := range tw.words {
		if f := &tw.forms[w.form]; !f.stop {
			terms = append(terms, tw.terms[f.term])
		}
	}
	return terms
}

// tokenizer returns the tokenizer of a language, made once.
func (a *Analyzer) tokenizer(lang string) *Tokenizer {
	if t, ok := a.toks.Load(lang); ok {
		return t.(*Tokenizer)
	}
	t, _ := a.toks.LoadOrStore(lang, NewTokenizer(lang))
	return t.(*Tokenizer)
}

func truncate(s string, n int) string {
	if n <= 0 || len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// clamp01 keeps rounding from pushing a probability past 1, which the
// store refuses.
func clamp01(v float64) float64 { return min(max(v, 0), 1) }
