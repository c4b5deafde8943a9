package ml

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Example is one labelled document for training or evaluation.
type Example struct {
	// Key identifies the document (a path, an ID); HeldOut splits on it.
	Key string
	// Text is what the classifier reads (see DocumentText).
	Text string
	// Label is the class the document belongs to.
	Label string
}

// TrainOpts are the optional settings of Train. Nil means defaults.
type TrainOpts struct {
	// Name is the model's name. Defaults to "doctype".
	Name string
	// Version is the model version's name. Defaults to the training time,
	// as 20060102T150405Z.
	Version string
	// Algorithm chooses the classifier. Defaults to
	// AlgorithmLogisticRegression.
	Algorithm Algorithm
	// Language is the tokenizer's language (ISO 639-1). Defaults to "en".
	Language string
	// NGrams is the longest word n-gram counted. Defaults to 2.
	NGrams int
	// MinDF drops features found in fewer documents. Defaults to 2.
	MinDF int
	// MaxFeatures keeps the most frequent features. Defaults to 200,000.
	MaxFeatures int
	// Epochs are the passes of logistic regression over the data.
	// Defaults to 15.
	Epochs int
	// L2 is logistic regression's regularisation strength. Defaults to
	// 1e-5.
	L2 float64
	// Alpha is Naive Bayes' additive smoothing. Defaults to 0.01.
	Alpha float64
	// ClassWeights chooses how logistic regression weighs examples.
	// Defaults to ClassWeightsBalanced.
	ClassWeights ClassWeights
	// CalibrationFraction is the part of the examples held out to fit the
	// temperature; the model is then trained again on all of them.
	// Defaults to 0.15; -1 skips calibration (temperature 1).
	CalibrationFraction float64
	// UnsureBelow is the confidence below which predictions are unsure.
	// Defaults to 0.6.
	UnsureBelow float64
	// Seed makes training repeatable. Defaults to 1.
	Seed uint64
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
}

// ClassWeights names a weighting of training examples by label.
type ClassWeights string

// The weightings Train knows.
const (
	// ClassWeightsBalanced weighs each example by the inverse of its
	// label's frequency, so that a rare label counts as much as a common
	// one. On SpamAssassin (250 hard ham of 6,046) it raised hard ham's
	// recall and the accuracy on two of three splits (docs/ml.md).
	ClassWeightsBalanced ClassWeights = "balanced"
	// ClassWeightsUniform weighs every example alike.
	ClassWeightsUniform ClassWeights = "uniform"
)

// Defaults of TrainOpts.
const (
	NameDefault                = "doctype"
	LanguageDefault            = "en"
	NGramsDefault              = 2
	MinDFDefault               = 2
	MaxFeaturesDefault         = 200_000
	EpochsDefault              = 15
	L2Default                  = 1e-5
	AlphaDefault               = 0.01
	CalibrationFractionDefault = 0.15
	UnsureBelowDefault         = 0.6
)

// WithDefaults returns a copy of o with unset fields filled in.
func (o *TrainOpts) WithDefaults() TrainOpts {
	var c TrainOpts
	if o != nil {
		c = *o
	}
	c.Name = cmp.Or(c.Name, NameDefault)
	c.Algorithm = cmp.Or(c.Algorithm, AlgorithmLogisticRegression)
	c.Language = cmp.Or(c.Language, LanguageDefault)
	c.NGrams = cmp.Or(c.NGrams, NGramsDefault)
	c.MinDF = cmp.Or(c.MinDF, MinDFDefault)
	c.MaxFeatures = cmp.Or(c.MaxFeatures, MaxFeaturesDefault)
	c.Epochs = cmp.Or(c.Epochs, EpochsDefault)
	c.L2 = cmp.Or(c.L2, L2Default)
	c.Alpha = cmp.Or(c.Alpha, AlphaDefault)
	c.ClassWeights = cmp.Or(c.ClassWeights, ClassWeightsBalanced)
	c.CalibrationFraction = cmp.Or(c.CalibrationFraction, CalibrationFractionDefault)
	c.UnsureBelow = cmp.Or(c.UnsureBelow, UnsureBelowDefault)
	c.Seed = cmp.Or(c.Seed, 1)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func (o *TrainOpts) validate() error {
	var errs []error
	switch o.Algorithm {
	case AlgorithmNaiveBayes, AlgorithmLogisticRegression:
	default:
		errs = append(errs, fmt.Errorf("Algorithm: unknown algorithm %q", o.Algorithm))
	}
	if o.ClassWeights != ClassWeightsBalanced && o.ClassWeights != ClassWeightsUniform {
		errs = append(errs, fmt.Errorf("ClassWeights: unknown weighting %q", o.ClassWeights))
	}
	if o.NGrams < 1 || o.NGrams > 3 {
		errs = append(errs, fmt.Errorf("NGrams: %d is not between 1 and 3", o.NGrams))
	}
	if o.CalibrationFraction != -1 && (o.CalibrationFraction <= 0 || o.CalibrationFraction >= 0.5) {
		errs = append(errs, fmt.Errorf("CalibrationFraction: %v is not in (0, 0.5) or -1", o.CalibrationFraction))
	}
	if o.UnsureBelow < 0 || o.UnsureBelow > 1 {
		errs = append(errs, fmt.Errorf("UnsureBelow: %v is not between 0 and 1", o.UnsureBelow))
	}
	return errors.Join(errs...)
}

// ErrTooFewExamples is returned by Train when the examples cannot train a
// classifier: fewer than two labels, or a label with a single document.
var ErrTooFewExamples = errors.New("too few examples")

// Train fits a classifier to labelled examples. With calibration on, it
// first trains on all but a held-out part, fits the temperature there, and
// then trains again on everything with that temperature.
func Train(ctx context.Context, examples []Example, opts *TrainOpts) (*Model, error) {
	o := opts.WithDefaults()
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	counts := map[string]int{}
	for _, e := range examples {
		counts[e.Label]++
	}
	if len(counts) < 2 {
		return nil, fmt.Errorf("train: %w: %d labels, need at least 2", ErrTooFewExamples, len(counts))
	}
	for l, n := range counts {
		if n < 2 {
			return nil, fmt.Errorf("train: %w: label %q has %d document", ErrTooFewExamples, l, n)
		}
	}
	tok := NewTokenizer(o.Language)
	grams := make([][]string, len(examples))
	for i, e := range examples {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("train: %w", err)
			}
		}
		grams[i] = ngrams(nil, tok.Terms(e.Text), o.NGrams)
	}

	temperature := 1.0
	if o.CalibrationFraction > 0 {
		fitIdx, calIdx := stratifiedSplit(examples, o.CalibrationFraction, o.Seed)
		if len(calIdx) > 0 {
			m, err := fit(ctx, examples, grams, fitIdx, &o)
			if err != nil {
				return nil, err
			}
			temperature = fitTemperature(m, examples, grams, calIdx)
		}
	}
	all := make([]int, len(examples))
	for i := range all {
		all[i] = i
	}
	m, err := fit(ctx, examples, grams, all, &o)
	if err != nil {
		return nil, err
	}
	m.Temperature = temperature
	m.Metrics = &Metrics{Examples: len(examples)}
	return m, nil
}

// fit trains a model on the examples at idx.
func fit(ctx context.Context, examples []Example, grams [][]string, idx []int, o *TrainOpts) (*Model, error) {
	docs := make([][]string, len(idx))
	labelSet := map[string]bool{}
	for k, i := range idx {
		docs[k] = grams[i]
		labelSet[examples[i].Label] = true
	}
	labels := make([]string, 0, len(labelSet))
	for l := range labelSet {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	terms, idf := fitVocabulary(docs, vocabularyParams{minDF: o.MinDF, maxFeatures: o.MaxFeatures})
	m := &Model{
		Name: o.Name, Version: cmp.Or(o.Version, o.Now().UTC().Format("20060102T150405Z")),
		Algorithm: o.Algorithm, CreatedAt: o.Now().UTC(), Labels: labels, Language: o.Language,
		NGrams: o.NGrams, Terms: terms, IDF: idf, Temperature: 1, UnsureBelow: o.UnsureBelow,
	}
	m.init()
	xs := make([]vector, len(idx))
	ys := make([]int, len(idx))
	for k, i := range idx {
		xs[k] = tfidf(grams[i], m.vocab, idf)
		ys[k], _ = slices.BinarySearch(labels, examples[i].Label)
	}
	switch o.Algorithm {
	case AlgorithmNaiveBayes:
		fitNaiveBayes(m, xs, ys, o.Alpha)
	case AlgorithmLogisticRegression:
		if err := fitLogistic(ctx, m, xs, ys, o); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// fitNaiveBayes sets a multinomial Naive Bayes model: the weights are the
// log probabilities of each feature given a label, estimated from the
// summed TF-IDF weights with additive smoothing, and the biases the log
// priors.
func fitNaiveBayes(m *Model, xs []vector, ys []int, alpha float64) {
	c, f := len(m.Labels), len(m.Terms)
	sums := make([]float64, f*c)
	totals := make([]float64, c)
	docs := make([]float64, c)
	for k, x := range xs {
		y := ys[k]
		docs[y]++
		for j, i := range x.idx {
			sums[int(i)*c+y] += x.val[j]
			totals[y] += x.val[j]
		}
	}
	m.Weights = make([]float64, f*c)
	for i := range f {
		for y := range c {
			m.Weights[i*c+y] = math.Log((sums[i*c+y] + alpha) / (totals[y] + alpha*float64(f)))
		}
	}
	m.Bias = make([]float64, c)
	for y := range c {
		m.Bias[y] = math.Log(docs[y] / float64(len(xs)))
	}
}

// fitLogistic trains softmax regression by stochastic gradient descent with
// a decaying learning rate. L2 shrinks only the weights of the features a
// document has, which keeps each step as sparse as the document.
func fitLogistic(ctx context.Context, m *Model, xs []vector, ys []int, o *TrainOpts) error {
	c, f := len(m.Labels), len(m.Terms)
	w := make([]float64, f*c)
	b := make([]float64, c)
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	p := make([]float64, c)
	m.Weights, m.Bias = w, b
	weight := make([]float64, c)
	for y := range weight {
		weight[y] = 1
	}
	if o.ClassWeights == ClassWeightsBalanced {
		n := make([]float64, c)
		for _, y := range ys {
			n[y]++
		}
		for y := range weight {
			weight[y] = float64(len(ys)) / (float64(c) * max(n[y], 1))
		}
	}
	const lr0 = 0.5
	step := 0
	for range o.Epochs {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("train: %w", err)
		}
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, k := range order {
			lr := lr0 / (1 + 1e-4*float64(step))
			step++
			x, y := xs[k], ys[k]
			p = softmax(m.scores(p, x), 1)
			p[y]--
			for l := range p {
				p[l] *= weight[y]
			}
			for j, i := range x.idx {
				row := w[int(i)*c : int(i)*c+c]
				for l := range row {
					row[l] -= lr * (p[l]*x.val[j] + o.L2*row[l])
				}
			}
			for l := range b {
				b[l] -= lr * p[l]
			}
		}
	}
	return nil
}

// fitTemperature finds the temperature that minimises the negative log
// likelihood of the held-out examples: temperature scaling (Guo et al.,
// 2017), which keeps the ranking of labels and fixes over- or
// under-confidence. It searches the logarithm of T by golden section.
func fitTemperature(m *Model, examples []Example, grams [][]string, idx []int) float64 {
	type scored struct {
		s []float64
		y int
	}
	data := make([]scored, len(idx))
	for k, i := range idx {
		y, found := slices.BinarySearch(m.Labels, examples[i].Label)
		if !found {
			y = -1 // a label the calibration model never saw: skip it
		}
		data[k] = scored{m.scores(nil, tfidf(grams[i], m.vocab, m.IDF)), y}
	}
	p := make([]float64, len(m.Labels))
	nll := func(logT float64) float64 {
		t := math.Exp(logT)
		var sum float64
		for _, d := range data {
			if d.y < 0 {
				continue
			}
			copy(p, d.s)
			softmax(p, t)
			sum -= math.Log(max(p[d.y], 1e-12))
		}
		return sum
	}
	lo, hi := math.Log(0.01), math.Log(100.0)
	phi := (math.Sqrt(5) - 1) / 2
	a, b := hi-phi*(hi-lo), lo+phi*(hi-lo)
	fa, fb := nll(a), nll(b)
	for range 60 {
		if fa < fb {
			hi, b, fb = b, a, fa
			a = hi - phi*(hi-lo)
			fa = nll(a)
		} else {
			lo, a, fa = a, b, fb
			b = lo + phi*(hi-lo)
			fb = nll(b)
		}
	}
	return math.Exp((lo + hi) / 2)
}

// stratifiedSplit holds out about fraction of each label's examples,
// chosen by a seeded shuffle, and returns the indexes kept and held out.
func stratifiedSplit(examples []Example, fraction float64, seed uint64) (keep, held []int) {
	byLabel := map[string][]int{}
	var labels []string
	for i, e := range examples {
		if byLabel[e.Label] == nil {
			labels = append(labels, e.Label)
		}
		byLabel[e.Label] = append(byLabel[e.Label], i)
	}
	slices.Sort(labels)
	rng := rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d))
	for _, l := range labels {
		ids := byLabel[l]
		rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		n := int(math.Round(fraction * float64(len(ids))))
		n = min(n, len(ids)-1) // every label keeps a document to learn from
		held = append(held, ids[:n]...)
		keep = append(keep, ids[n:]...)
	}
	slices.Sort(keep)
	slices.Sort(held)
	return keep, held
}

// HeldOut reports whether the example with this key belongs to the
// held-out part of a split of the given fraction: a hash of the seed and
// the key decides, so training and evaluation agree on the split without
// sharing anything but the fraction and the seed, whatever the order in
// which they read the documents.
func HeldOut(key string, fraction float64, seed uint64) bool {
	if fraction <= 0 {
		return false
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d\x00%s", seed, key)
	return float64(h.Sum64()%1_000_000) < fraction*1_000_000
}
