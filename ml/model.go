package ml

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Algorithm names how a Model was trained.
type Algorithm string

// The algorithms Train knows.
const (
	// AlgorithmNaiveBayes is multinomial Naive Bayes over TF-IDF weights:
	// fast to train, the baseline.
	AlgorithmNaiveBayes Algorithm = "naive_bayes"
	// AlgorithmLogisticRegression is multinomial (softmax) logistic
	// regression with L2 regularisation, trained by stochastic gradient
	// descent.
	AlgorithmLogisticRegression Algorithm = "logistic_regression"
)

// UnsureLabel is what the Analyzer records, after the model's name, for a
// document the model is unsure of ("doctype:unsure").
const UnsureLabel = "unsure"

// Model is a trained text classifier. Both algorithms share one linear
// form: a label's score is its bias plus the sum of the document's TF-IDF
// weights times the label's feature weights; the confidences are the
// softmax of the scores divided by Temperature.
//
// A Model is safe for concurrent use once trained or decoded; its exported
// fields must not change after that.
type Model struct {
	// Name tells models apart ("doctype", "tags", "spam").
	Name string
	// Version is this version's own name, unique for the model's Name.
	Version string
	// Algorithm is how it was trained.
	Algorithm Algorithm
	// CreatedAt is when it was trained.
	CreatedAt time.Time
	// Labels are the classes, sorted.
	Labels []string
	// Language is the tokenizer's language (ISO 639-1).
	Language string
	// NGrams is the longest word n-gram counted.
	NGrams int
	// Terms are the features (n-grams of stemmed terms), sorted; IDF holds
	// their inverse document frequencies.
	Terms []string
	IDF   []float64
	// Weights holds one weight per feature and label, feature-major:
	// Weights[f*len(Labels)+c].
	Weights []float64
	// Bias holds one value per label.
	Bias []float64
	// Temperature divides the scores before the softmax; it was fitted on
	// held-out training data so that confidences match accuracy.
	Temperature float64
	// UnsureBelow is the confidence below which a prediction is reported
	// as unsure.
	UnsureBelow float64
	// Metrics are figures measured when the model was trained, if any.
	Metrics *Metrics

	once  sync.Once
	vocab map[string]int32
	tok   *Tokenizer
}

// Metrics are evaluation figures kept with a model.
type Metrics struct {
	// Examples is the number of documents the model was trained on.
	Examples int `json:"examples"`
	// HeldOut is the number of documents of the evaluation; zero when none
	// was held out.
	HeldOut int `json:"held_out,omitempty"`
	// Accuracy and MacroF1 are measured on the held-out documents;
	// MicroF1 too, for a multi-label model (which has no accuracy).
	Accuracy float64 `json:"accuracy,omitempty"`
	MacroF1  float64 `json:"macro_f1,omitempty"`
	MicroF1  float64 `json:"micro_f1,omitempty"`
	// Labels and Confusion are the held-out evaluation's confusion matrix
	// (Evaluation.Labels, Evaluation.Confusion), for people judging the
	// model: the web UI's models page shows it.
	Labels    []string `json:"labels,omitempty"`
	Confusion [][]int  `json:"confusion,omitempty"`
}

// Prediction is what a model says of one document.
type Prediction struct {
	// Label is the most likely label.
	Label string
	// Confidence is Label's calibrated probability.
	Confidence float64
	// Unsure reports a Confidence below the model's UnsureBelow.
	Unsure bool
	// Scores holds every label's probability, best first.
	Scores []LabelScore
}

// LabelScore is one label's probability.
type LabelScore struct {
	Label       string
	Probability float64
}

// ModelVersion names the model for the predictions it makes when it is not
// registered in a store: "name@version".
func (m *Model) ModelVersion() string { return m.Name + "@" + m.Version }

// DocumentText is the text classifiers read: the title and author of a
// document, when it has them, before its text. Training and prediction
// must build their inputs the same way, so both call this.
func DocumentText(title, author, text string) string {
	var b strings.Builder
	b.Grow(len(title) + len(author) + len(text) + 2)
	if title != "" {
		b.WriteString(title)
		b.WriteByte('\n')
	}
	if author != "" {
		b.WriteString(author)
		b.WriteByte('\n')
	}
	b.WriteString(text)
	return b.String()
}

// validate checks that the model's parts fit together, so that a damaged
// artifact is refused when loaded rather than failing at prediction.
func (m *Model) validate() error {
	var errs []error
	if m.Name == "" || m.Version == "" {
		errs = append(errs, errors.New("model has no name or version"))
	}
	switch m.Algorithm {
	case AlgorithmNaiveBayes, AlgorithmLogisticRegression:
	default:
		errs = append(errs, fmt.Errorf("unknown algorithm %q", m.Algorithm))
	}
	if len(m.Labels) < 2 {
		errs = append(errs, fmt.Errorf("model has %d labels; it needs at least 2", len(m.Labels)))
	}
	if len(m.IDF) != len(m.Terms) {
		errs = append(errs, fmt.Errorf("%d IDF values for %d terms", len(m.IDF), len(m.Terms)))
	}
	if len(m.Weights) != len(m.Terms)*len(m.Labels) {
		errs = append(errs, fmt.Errorf("%d weights for %d terms and %d labels", len(m.Weights), len(m.Terms), len(m.Labels)))
	}
	if len(m.Bias) != len(m.Labels) {
		errs = append(errs, fmt.Errorf("%d biases for %d labels", len(m.Bias), len(m.Labels)))
	}
	if !(m.Temperature > 0) || math.IsInf(m.Temperature, 0) {
		errs = append(errs, fmt.Errorf("temperature %v is not positive", m.Temperature))
	}
	if m.NGrams < 1 {
		errs = append(errs, fmt.Errorf("ngrams %d is less than 1", m.NGrams))
	}
	return errors.Join(errs...)
}

// init builds what prediction needs beyond the exported fields.
func (m *Model) init() {
	m.once.Do(func() {
		m.vocab = make(map[string]int32, len(m.Terms))
		for i, t := range m.Terms {
			m.vocab[t] = int32(i)
		}
		m.tok = NewTokenizer(m.Language)
	})
}

// features turns a text into the model's feature vector.
func (m *Model) features(text string) vector {
	m.init()
	return tfidfTerms(m.tok.Terms(text), m.NGrams, m.vocab, m.IDF)
}

// scores returns each label's raw score for a feature vector, into dst.
func (m *Model) scores(dst []float64, v vector) []float64 {
	return linearScores(dst, m.Bias, m.Weights, v)
}

// linearScores returns, into dst, each label's bias plus the dot product
// of v with the label's weights (feature-major, len(bias) per feature):
// the one form of every model's scores, single- or multi-label.
func linearScores(dst, bias, weights []float64, v vector) []float64 {
	c := len(bias)
	dst = append(dst[:0], bias...)
	for k, f := range v.idx {
		x := v.val[k]
		w := weights[int(f)*c : int(f)*c+c]
		for j := range dst {
			dst[j] += x * w[j]
		}
	}
	return dst
}

// Predict classifies a text (build it with DocumentText). A text with none
// of the model's features gets the same probability for every label: the
// model knows nothing of it, and the biases alone, sharpened by a small
// temperature, would pass a guess off as a certainty.
func (m *Model) Predict(text string) *Prediction {
	return m.predictVector(m.features(text))
}

// predictTerms is Predict of a text's terms, as the model's tokenizer
// (Tokenizer.Terms of its Language) makes them.
func (m *Model) predictTerms(terms []string) *Prediction {
	m.init()
	return m.predictVector(tfidfTerms(terms, m.NGrams, m.vocab, m.IDF))
}

func (m *Model) predictVector(v vector) *Prediction {
	if len(v.idx) == 0 {
		p := make([]float64, len(m.Labels))
		for i := range p {
			p[i] = 1 / float64(len(p))
		}
		return m.prediction(p)
	}
	return m.prediction(softmax(m.scores(nil, v), m.Temperature))
}

func (m *Model) prediction(p []float64) *Prediction {
	pred := &Prediction{Scores: make([]LabelScore, len(p))}
	for i, v := range p {
		pred.Scores[i] = LabelScore{Label: m.Labels[i], Probability: v}
	}
	slices.SortStableFunc(pred.Scores, func(a, b LabelScore) int {
		switch {
		case a.Probability > b.Probability:
			return -1
		case a.Probability < b.Probability:
			return 1
		}
		return 0
	})
	pred.Label, pred.Confidence = pred.Scores[0].Label, pred.Scores[0].Probability
	pred.Unsure = pred.Confidence < m.UnsureBelow
	return pred
}

// softmax turns scores into probabilities, in place, after dividing them
// by the temperature t.
func softmax(s []float64, t float64) []float64 {
	hi := math.Inf(-1)
	for _, v := range s {
		hi = max(hi, v/t)
	}
	var sum float64
	for i, v := range s {
		s[i] = math.Exp(v/t - hi)
		sum += s[i]
	}
	for i := range s {
		s[i] /= sum
	}
	return s
}
