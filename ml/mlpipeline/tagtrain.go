package mlpipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/store"
)

// ModelKindTagger is the store's Kind of the tag classifier's versions
// (ml.MultiLabelModel): a kind of their own, so that Refresh never loads
// one into the Analyzer as a single-label classifier, and a label
// "tags:…" of the single-label path never mixes with them.
const ModelKindTagger = "tagger"

// SetByUserPrefix starts the SetBy of the tags people set ("user:<who>"),
// the only ones the tag classifier learns from: learning from the rules'
// or its own assignments would teach it what it already does.
const SetByUserPrefix = "user:"

// tagPageSize is how many tag assignments one query reads.
const tagPageSize = 1000

// taggedDocument is one document a person tagged, with its auto tags.
type taggedDocument struct {
	docID string
	tags  []string // the "auto" tags among them, sorted
}

// userTaggedDocuments returns the documents people tagged, sorted by ID,
// each with the tags among its people's tags whose rule is "auto" (named
// as the tag is now). A document whose tags people set are none of them
// "auto" is kept with no tag: a person looked at it, so it teaches every
// auto tag what it is not, as every document does in paperless-ngx.
func (t *Trainer) userTaggedDocuments(ctx context.Context, auto map[string]string) ([]taggedDocument, error) {
	byDoc := map[string][]string{}
	for offset := 0; ; offset += tagPageSize {
		page, err := t.cfg.Store.ListDocumentTags(ctx, &store.ListDocumentTagsParams{SetBy: SetByUserPrefix,
			Limit: tagPageSize, Offset: offset})
		if err != nil {
			return nil, fmt.Errorf("train tags: %w", err)
		}
		for _, dt := range page {
			tags := byDoc[dt.DocumentID]
			if name, ok := auto[strings.ToLower(dt.Tag)]; ok && !slices.Contains(tags, name) {
				tags = append(tags, name)
			}
			byDoc[dt.DocumentID] = tags
		}
		if len(page) < tagPageSize {
			break
		}
	}
	out := make([]taggedDocument, 0, len(byDoc))
	for id, tags := range byDoc {
		slices.Sort(tags)
		out = append(out, taggedDocument{docID: id, tags: tags})
	}
	slices.SortFunc(out, func(x, y taggedDocument) int { return strings.Compare(x.docID, y.docID) })
	return out, nil
}

// tagDigest is the digest of the tag model's labels: sha256 over the
// sorted document IDs and their auto tags.
func tagDigest(docs []taggedDocument) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", ml.TagsModelName)
	for _, d := range docs {
		fmt.Fprintf(h, "%s\t%s\n", d.docID, strings.Join(d.tags, "\x1f"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// trainTags retrains the tag classifier when the tags people set changed,
// the same way trainModel retrains a single-label classifier: a digest
// skips unchanged runs, documents are held out by ml.HeldOut on their ID,
// and the new version is activated only when its micro-averaged F1 on the
// held-out documents is not below the active version's. It returns nil
// when no tag's rule is "auto".
func (t *Trainer) trainTags(ctx context.Context) (*TrainResult, error) {
	tags, err := t.cfg.Store.ListTags(ctx)
	if err != nil {
		return nil, fmt.Errorf("train tags: %w", err)
	}
	auto := map[string]string{}
	for _, tag := range tags {
		if tag.Match == store.MatchAuto {
			auto[strings.ToLower(tag.Name)] = tag.Name
		}
	}
	if len(auto) == 0 {
		return nil, nil
	}
	docs, err := t.userTaggedDocuments(ctx, auto)
	if err != nil {
		return nil, err
	}
	name := ml.TagsModelName
	res := &TrainResult{Kind: ModelKindTagger, Name: name, LabelDigest: tagDigest(docs), Documents: len(docs)}
	done, err := t.cfg.Store.ListModelVersions(ctx, &store.ListModelVersionsParams{Kind: ModelKindTagger,
		Name: name, LabelDigest: res.LabelDigest})
	if err != nil {
		return nil, fmt.Errorf("train tags: %w", err)
	}
	if len(done) > 0 {
		res.Skipped = SkippedUnchanged
		return res, nil
	}

	var train, held []ml.MultiLabelExample
	for _, d := range docs {
		// The text alone, without the title: it is what the pipeline
		// gives TagSuggester.SuggestTags.
		text, err := t.cfg.Store.GetText(ctx, d.docID)
		if errors.Is(err, store.ErrNotFound) {
			continue // no text (yet), or deleted since its tags were read
		}
		if err != nil {
			return nil, fmt.Errorf("train tags: %w", err)
		}
		e := ml.MultiLabelExample{Key: d.docID, Text: text, Labels: d.tags}
		train, held = assign(t, d.docID, e, train, held)
	}
	res.HeldOut = len(held)

	o := t.cfg.Tags.WithDefaults()
	o.Name = name
	o.Seed = t.cfg.Seed
	now := t.cfg.Now().UTC()
	o.Version = versionName(now, res.LabelDigest)
	o.Now = func() time.Time { return now }
	m, err := ml.TrainMultiLabel(ctx, train, &o)
	if errors.Is(err, ml.ErrTooFewExamples) {
		res.Skipped = fmt.Sprintf("too few examples: %v", err)
		return res, nil
	}
	if err != nil {
		return nil, fmt.Errorf("train tags: %w", err)
	}

	active, activeID, err := t.activeTagModel(ctx)
	if err != nil {
		return nil, err
	}
	activate := active == nil
	m.Metrics = &ml.Metrics{Examples: len(train), HeldOut: len(held)}
	if len(held) > 0 {
		ev := m.Evaluate(held)
		res.MicroF1, m.Metrics.MicroF1, m.Metrics.MacroF1 = ev.MicroF1, ev.MicroF1, ev.MacroF1
		if active != nil {
			res.ActiveID = activeID
			res.ActiveMicroF1 = active.Evaluate(held).MicroF1
			activate = res.MicroF1 >= res.ActiveMicroF1
		}
	} else if active != nil {
		// Nothing to compare on: the version in use stays.
		res.ActiveID = activeID
	}
	art, err := ml.MarshalMultiLabel(m)
	if err != nil {
		return nil, fmt.Errorf("train tags: %w", err)
	}
	mv, err := publishArtifact(ctx, t.cfg.Store, t.cfg.Blobs, &artifactVersion{kind: ModelKindTagger, name: name,
		version: m.Version, algorithm: ml.AlgorithmLogisticRegression, metrics: m.Metrics, artifact: art,
		activate: activate, labelDigest: res.LabelDigest})
	if err != nil {
		return nil, fmt.Errorf("train tags: %w", err)
	}
	res.Version, res.VersionID, res.Activated = mv, mv.ID, mv.Active
	return res, nil
}

// activeTagModel returns the active version of the tag classifier and its
// ID, or nil when none is active. An active version whose artifact cannot
// be read counts as none, so that a broken version is replaced.
func (t *Trainer) activeTagModel(ctx context.Context) (*ml.MultiLabelModel, string, error) {
	vs, err := t.cfg.Store.ListModelVersions(ctx, &store.ListModelVersionsParams{Kind: ModelKindTagger,
		Name: ml.TagsModelName, ActiveOnly: true})
	if err != nil {
		return nil, "", fmt.Errorf("train tags: %w", err)
	}
	if len(vs) == 0 {
		return nil, "", nil
	}
	m, err := OpenTagModel(ctx, t.cfg.Blobs, &vs[0])
	if err != nil {
		t.cfg.Logger.Warn("ml train: the active tag model cannot be read; a new one replaces it", "error", err)
		return nil, "", nil
	}
	return m, vs[0].ID, nil
}
