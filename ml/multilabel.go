package ml

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// TagsModelName is the name of the model that suggests a document's tags.
const TagsModelName = "tags"

// MultiLabelModel gives a document any number of labels, such as tags:
// one binary logistic regression per label (one-vs-rest), all of them
// reading one TF-IDF vector of the document, built once by the same
// tokenizer and vectorizer as Model's. A label is given when its
// probability reaches the label's threshold, chosen on a validation split
// when the model was trained (see TrainMultiLabel); at most MaxLabels
// labels are given, the most probable.
//
// A MultiLabelModel is safe for concurrent use once trained or decoded;
// its exported fields must not change after that.
type MultiLabelModel struct {
	// Name tells models apart ("tags").
	Name string
	// Version is this version's own name, unique for the model's Name.
	Version string
	// CreatedAt is when it was trained.
	CreatedAt time.Time
	// Labels are the labels it can give, sorted.
	Labels []string
	// Language is the tokenizer's language (ISO 639-1).
	Language string
	// NGrams is the longest word n-gram counted.
	NGrams int
	// Terms are the features, sorted; IDF holds their inverse document
	// frequencies.
	Terms []string
	IDF   []float64
	// Weights holds one weight per feature and label, feature-major:
	// Weights[f*len(Labels)+l].
	Weights []float64
	// Bias holds one value per label.
	Bias []float64
	// Thresholds holds, per label, the probability at or above which the
	// label is given.
	Thresholds []float64
	// MaxLabels is the most labels given to one document.
	MaxLabels int
	// Metrics are figures measured when the model was trained, if any.
	Metrics *Metrics

	once  sync.Once
	vocab map[string]int32
	tok   *Tokenizer
	// scratch holds *multiLabelScratch: the buffers of one prediction,
	// reused so that predicting allocates little more than its result.
	scratch sync.Pool
}

// multiLabelScratch is the working memory of one prediction.
type multiLabelScratch struct {
	v      vector
	buf    []byte
	scores []float64
}

// ModelVersion names the model for the predictions it makes when it is not
// registered in a store: "name@version".
func (m *MultiLabelModel) ModelVersion() string { return m.Name + "@" + m.Version }

// validate checks that the model's parts fit together, so that a damaged
// artifact is refused when loaded rather than failing at prediction.
func (m *MultiLabelModel) validate() error {
	var errs []error
	if m.Name == "" || m.Version == "" {
		errs = append(errs, errors.New("model has no name or version"))
	}
	if len(m.Labels) < 1 {
		errs = append(errs, errors.New("multi-label model has no labels"))
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
	if len(m.Thresholds) != len(m.Labels) {
		errs = append(errs, fmt.Errorf("%d thresholds for %d labels", len(m.Thresholds), len(m.Labels)))
	}
	for i, t := range m.Thresholds {
		if !(t > 0 && t < 1) {
			errs = append(errs, fmt.Errorf("threshold %v of label %q is not in (0, 1)", t, m.Labels[min(i, len(m.Labels)-1)]))
			break
		}
	}
	if m.MaxLabels < 1 {
		errs = append(errs, fmt.Errorf("max labels %d is less than 1", m.MaxLabels))
	}
	if m.NGrams < 1 {
		errs = append(errs, fmt.Errorf("ngrams %d is less than 1", m.NGrams))
	}
	return errors.Join(errs...)
}

// init builds what prediction needs beyond the exported fields.
func (m *MultiLabelModel) init() {
	m.once.Do(func() {
		m.vocab = make(map[string]int32, len(m.Terms))
		for i, t := range m.Terms {
			m.vocab[t] = int32(i)
		}
		m.tok = NewTokenizer(m.Language)
	})
}

// Predict returns the labels of a text (build it with DocumentText): those
// whose probability reaches their threshold, most probable first, at most
// MaxLabels of them. A text with none of the model's features gets no
// label: the model knows nothing of it.
func (m *MultiLabelModel) Predict(text string) []LabelScore {
	m.init()
	return m.PredictTerms(m.tok.Terms(text))
}

// PredictTerms is Predict of a text's terms, as the model's tokenizer
// (Tokenizer.Terms of its Language) makes them, for a caller that has
// them already.
func (m *MultiLabelModel) PredictTerms(terms []string) []LabelScore {
	m.init()
	s, _ := m.scratch.Get().(*multiLabelScratch)
	if s == nil {
		s = &multiLabelScratch{}
	}
	defer m.scratch.Put(s)
	s.v, s.buf = appendTFIDFTerms(s.v, s.buf, terms, m.NGrams, m.vocab, m.IDF)
	if len(s.v.idx) == 0 {
		return nil
	}
	s.scores = m.probabilities(s.scores, s.v)
	var out []LabelScore
	for l, p := range s.scores {
		if p < m.Thresholds[l] {
			continue
		}
		if out == nil {
			out = make([]LabelScore, 0, m.MaxLabels)
		}
		// Insertion into a list of at most MaxLabels, best first: the
		// labels given are few, and this needs no sort's allocations.
		if len(out) == m.MaxLabels && p <= out[len(out)-1].Probability {
			continue
		}
		if len(out) < m.MaxLabels {
			out = append(out, LabelScore{})
		}
		i := len(out) - 1
		for i > 0 && out[i-1].Probability < p {
			out[i] = out[i-1]
			i--
		}
		out[i] = LabelScore{Label: m.Labels[l], Probability: p}
	}
	return out
}

// probabilities returns each label's probability for a feature vector,
// into dst.
func (m *MultiLabelModel) probabilities(dst []float64, v vector) []float64 {
	dst = linearScores(dst, m.Bias, m.Weights, v)
	for l, s := range dst {
		dst[l] = sigmoid(s)
	}
	return dst
}

// sigmoid is the logistic function, 1 / (1 + e^-x).
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x) // no overflow for a large negative x
	return e / (1 + e)
}
