package ml

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// MultiLabelExample is one document with every label it carries, for
// training or evaluating a MultiLabelModel. A document with no label
// teaches every label what it is not.
type MultiLabelExample struct {
	// Key identifies the document (a path, an ID); the validation split
	// is made on it (HeldOut).
	Key string
	// Text is what the classifier reads (see DocumentText).
	Text string
	// Labels are the document's labels, in any order.
	Labels []string
}

// MultiLabelTrainOpts are the optional settings of TrainMultiLabel. Nil
// means defaults.
type MultiLabelTrainOpts struct {
	// Name is the model's name. Defaults to TagsModelName ("tags").
	Name string
	// Version is the model version's name. Defaults to the training time,
	// as 20060102T150405Z.
	Version string
	// Language is the tokenizer's language (ISO 639-1). Defaults to "en".
	Language string
	// NGrams is the longest word n-gram counted. Defaults to 2.
	NGrams int
	// MinDF drops features found in fewer documents. Defaults to 2.
	MinDF int
	// MaxFeatures keeps the most frequent features. Defaults to 200,000.
	MaxFeatures int
	// Epochs are the passes of stochastic gradient descent over the data.
	// Defaults to 15.
	Epochs int
	// L2 is the regularisation strength. Defaults to 1e-5.
	L2 float64
	// MinLabelDocuments drops labels carried by fewer documents: a label
	// seen once cannot be told from its document's other words. Defaults
	// to 2.
	MinLabelDocuments int
	// ValidationFraction is the part of the examples held out (by
	// HeldOut on their Key) to choose the thresholds; the model is then
	// trained again on all of them. Defaults to 0.2; -1 skips validation,
	// and every threshold is then ThresholdDefault.
	ValidationFraction float64
	// MaxLabels is the most labels the model gives a document. Defaults
	// to MaxLabelsDefault (5).
	MaxLabels int
	// Seed makes training repeatable. Defaults to 1.
	Seed uint64
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
}

// Defaults of MultiLabelTrainOpts, and the rule of the thresholds.
const (
	// MaxLabelsDefault caps the labels of a document: a person reads
	// every suggested tag, and more than five is a list to undo rather
	// than a suggestion.
	MaxLabelsDefault          = 5
	MinLabelDocumentsDefault  = 2
	ValidationFractionDefault = 0.2
	// ThresholdDefault is the threshold of every label of a model trained
	// without validation.
	ThresholdDefault = 0.5
	// MinValidationPositives is how many validation documents must carry
	// a label for it to get a threshold of its own; a rarer label takes
	// the one threshold that gives the best micro-averaged F1 over all
	// labels, since a threshold fitted to one or two documents is chance.
	MinValidationPositives = 3
	// Thresholds are kept within [thresholdMin, thresholdMax], so that
	// neither a label given to every document nor one never given comes
	// out of a small validation split.
	thresholdMin = 0.02
	thresholdMax = 0.95
)

// WithDefaults returns a copy of o with unset fields filled in.
func (o *MultiLabelTrainOpts) WithDefaults() MultiLabelTrainOpts {
	var c MultiLabelTrainOpts
	if o != nil {
		c = *o
	}
	c.Name = cmp.Or(c.Name, TagsModelName)
	c.Language = cmp.Or(c.Language, LanguageDefault)
	c.NGrams = cmp.Or(c.NGrams, NGramsDefault)
	c.MinDF = cmp.Or(c.MinDF, MinDFDefault)
	c.MaxFeatures = cmp.Or(c.MaxFeatures, MaxFeaturesDefault)
	c.Epochs = cmp.Or(c.Epochs, EpochsDefault)
	c.L2 = cmp.Or(c.L2, L2Default)
	c.MinLabelDocuments = cmp.Or(c.MinLabelDocuments, MinLabelDocumentsDefault)
	c.ValidationFraction = cmp.Or(c.ValidationFraction, ValidationFractionDefault)
	c.MaxLabels = cmp.Or(c.MaxLabels, MaxLabelsDefault)
	c.Seed = cmp.Or(c.Seed, 1)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func (o *MultiLabelTrainOpts) validate() error {
	var errs []error
	if o.NGrams < 1 || o.NGrams > 3 {
		errs = append(errs, fmt.Errorf("NGrams: %d is not between 1 and 3", o.NGrams))
	}
	if o.ValidationFraction != -1 && (o.ValidationFraction <= 0 || o.ValidationFraction >= 0.5) {
		errs = append(errs, fmt.Errorf("ValidationFraction: %v is not in (0, 0.5) or -1", o.ValidationFraction))
	}
	if o.MaxLabels < 1 {
		errs = append(errs, fmt.Errorf("MaxLabels: %d is less than 1", o.MaxLabels))
	}
	if o.MinLabelDocuments < 1 {
		errs = append(errs, fmt.Errorf("MinLabelDocuments: %d is less than 1", o.MinLabelDocuments))
	}
	if o.Epochs < 1 {
		errs = append(errs, fmt.Errorf("Epochs: %d is less than 1", o.Epochs))
	}
	return errors.Join(errs...)
}

// TrainMultiLabel fits a multi-label classifier to examples. The labels
// are those carried by at least MinLabelDocuments examples. With
// validation on, it first trains on the examples not held out, chooses
// each label's threshold on the held-out ones (the probability that gives
// the label's best F1 there; see MinValidationPositives for rare labels),
// and then trains again on all the examples, keeping those thresholds.
// It returns ErrTooFewExamples when no label is carried by enough
// documents, or when fewer than two documents are given.
func TrainMultiLabel(ctx context.Context, examples []MultiLabelExample, opts *MultiLabelTrainOpts) (*MultiLabelModel, error) {
	o := opts.WithDefaults()
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("train multi-label: %w", err)
	}
	if len(examples) < 2 {
		return nil, fmt.Errorf("train multi-label: %w: %d documents, need at least 2", ErrTooFewExamples, len(examples))
	}
	counts := map[string]int{}
	for _, e := range examples {
		for _, l := range uniqueLabels(e.Labels) {
			counts[l]++
		}
	}
	var labels []string
	for l, n := range counts {
		if n >= o.MinLabelDocuments {
			labels = append(labels, l)
		}
	}
	if len(labels) == 0 {
		return nil, fmt.Errorf("train multi-label: %w: no label is carried by %d documents", ErrTooFewExamples, o.MinLabelDocuments)
	}
	slices.Sort(labels)

	tok := NewTokenizer(o.Language)
	grams := make([][]string, len(examples))
	ys := make([][]int32, len(examples))
	for i, e := range examples {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("train multi-label: %w", err)
			}
		}
		grams[i] = ngrams(nil, tok.Terms(e.Text), o.NGrams)
		for _, l := range uniqueLabels(e.Labels) {
			if k, ok := slices.BinarySearch(labels, l); ok {
				ys[i] = append(ys[i], int32(k))
			}
		}
	}

	var thresholds []float64
	if o.ValidationFraction > 0 {
		var fitIdx, valIdx []int
		for i, e := range examples {
			if HeldOut(e.Key, o.ValidationFraction, o.Seed) {
				valIdx = append(valIdx, i)
			} else {
				fitIdx = append(fitIdx, i)
			}
		}
		if len(fitIdx) > 0 && len(valIdx) > 0 {
			m, err := fitMultiLabel(ctx, labels, grams, ys, fitIdx, &o)
			if err != nil {
				return nil, err
			}
			thresholds = chooseThresholds(m, grams, ys, valIdx)
		}
	}
	all := make([]int, len(examples))
	for i := range all {
		all[i] = i
	}
	m, err := fitMultiLabel(ctx, labels, grams, ys, all, &o)
	if err != nil {
		return nil, err
	}
	if thresholds != nil {
		m.Thresholds = thresholds
	}
	m.Metrics = &Metrics{Examples: len(examples)}
	return m, nil
}

// uniqueLabels returns labels without repeats or empty strings.
func uniqueLabels(labels []string) []string {
	out := make([]string, 0, len(labels))
	for _, l := range labels {
		if l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// fitMultiLabel trains one binary logistic regression per label on the
// examples at idx, all at once: each step reads a document's vector once
// and updates every label's weights of the features it has. L2 shrinks
// only those weights, which keeps each step as sparse as the document.
func fitMultiLabel(ctx context.Context, labels []string, grams [][]string, ys [][]int32, idx []int, o *MultiLabelTrainOpts) (*MultiLabelModel, error) {
	docs := make([][]string, len(idx))
	for k, i := range idx {
		docs[k] = grams[i]
	}
	terms, idf := fitVocabulary(docs, vocabularyParams{minDF: o.MinDF, maxFeatures: o.MaxFeatures})
	c := len(labels)
	thresholds := make([]float64, c)
	for l := range thresholds {
		thresholds[l] = ThresholdDefault
	}
	now := o.Now().UTC()
	m := &MultiLabelModel{
		Name: o.Name, Version: cmp.Or(o.Version, now.Format("20060102T150405Z")), CreatedAt: now,
		Labels: labels, Language: o.Language, NGrams: o.NGrams, Terms: terms, IDF: idf,
		Weights: make([]float64, len(terms)*c), Bias: make([]float64, c),
		Thresholds: thresholds, MaxLabels: o.MaxLabels,
	}
	m.init()
	xs := make([]vector, len(idx))
	for k, i := range idx {
		xs[k] = tfidf(grams[i], m.vocab, idf)
	}
	order := make([]int, len(idx))
	for k := range order {
		order[k] = k
	}
	// A label carried by few documents would learn little from steps that
	// are nearly all negative: its positives weigh more, by the square
	// root of its negatives per positive, at most posWeightMax times.
	pos := make([]float64, c)
	for _, i := range idx {
		for _, y := range ys[i] {
			pos[y]++
		}
	}
	posWeight := make([]float64, c)
	for l, n := range pos {
		posWeight[l] = min(max(math.Sqrt((float64(len(idx))-n)/max(n, 1)), 1), posWeightMax)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	w, b := m.Weights, m.Bias
	g := make([]float64, c)
	const lr0 = 0.5
	step := 0
	for range o.Epochs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("train multi-label: %w", err)
		}
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, k := range order {
			lr := lr0 / (1 + 1e-4*float64(step))
			step++
			x := xs[k]
			g = m.probabilities(g, x)
			for _, y := range ys[idx[k]] {
				g[y] = (g[y] - 1) * posWeight[y]
			}
			for j, f := range x.idx {
				row := w[int(f)*c : int(f)*c+c]
				xv := x.val[j]
				for l := range row {
					row[l] -= lr * (g[l]*xv + o.L2*row[l])
				}
			}
			for l := range b {
				b[l] -= lr * g[l]
			}
		}
	}
	return m, nil
}

// posWeightMax bounds the weight of a label's positive examples.
const posWeightMax = 10

// scoredLabel is one label's probability for one validation document and
// whether the document carries the label.
type scoredLabel struct {
	p   float64
	pos bool
}

// chooseThresholds picks each label's threshold on the validation
// examples at idx: the one that maximises the label's F1 there, for a
// label carried by at least MinValidationPositives of them; for the others
// the one threshold that maximises the F1 of all labels' decisions pooled
// (micro-averaged). A threshold lies halfway between the probability it
// was chosen at and the next lower one seen, so that it does not sit on
// one document's edge.
func chooseThresholds(m *MultiLabelModel, grams [][]string, ys [][]int32, idx []int) []float64 {
	c := len(m.Labels)
	byLabel := make([][]scoredLabel, c)
	pooled := make([]scoredLabel, 0, c*len(idx))
	p := make([]float64, c)
	for _, i := range idx {
		p = m.probabilities(p, tfidf(grams[i], m.vocab, m.IDF))
		for l, v := range p {
			s := scoredLabel{p: v, pos: slices.Contains(ys[i], int32(l))}
			byLabel[l] = append(byLabel[l], s)
			pooled = append(pooled, s)
		}
	}
	global := bestThreshold(pooled)
	out := make([]float64, c)
	for l, ss := range byLabel {
		positives := 0
		for _, s := range ss {
			if s.pos {
				positives++
			}
		}
		if positives >= MinValidationPositives {
			out[l] = bestThreshold(ss)
		} else {
			out[l] = global
		}
	}
	return out
}

// bestThreshold returns the threshold that maximises F1 over ss, within
// [thresholdMin, thresholdMax]; ThresholdDefault when ss has no positive.
// It sorts ss.
func bestThreshold(ss []scoredLabel) float64 {
	positives := 0
	for _, s := range ss {
		if s.pos {
			positives++
		}
	}
	if positives == 0 {
		return ThresholdDefault
	}
	slices.SortFunc(ss, func(a, b scoredLabel) int { return cmp.Compare(b.p, a.p) })
	best, bestF1 := ThresholdDefault, -1.0
	tp, fp := 0, 0
	for k, s := range ss {
		if s.pos {
			tp++
		} else {
			fp++
		}
		// Only where the next probability differs can a threshold split
		// here.
		if k+1 < len(ss) && ss[k+1].p == s.p {
			continue
		}
		f1 := 2 * float64(tp) / float64(2*tp+fp+(positives-tp))
		if f1 > bestF1 {
			bestF1 = f1
			next := 0.0
			if k+1 < len(ss) {
				next = ss[k+1].p
			}
			best = (s.p + next) / 2
		}
	}
	return min(max(best, thresholdMin), thresholdMax)
}
