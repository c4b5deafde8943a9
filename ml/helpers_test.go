package ml_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/extract"
	"github.com/quirehq/quire/ml"
)

// topics are the vocabularies of generated documents: each label has words
// of its own, and every document also draws from shared words and from
// the other labels' words, so that classes overlap as real ones do.
var topics = map[string][]string{
	"invoice":  strings.Fields("invoice amount due payment total tax billing paid balance remittance account charges"),
	"contract": strings.Fields("agreement party parties clause term termination obligations liability signed contract governing law"),
	"letter":   strings.Fields("dear regards sincerely thank hope family weekend news visit wishes friend letter"),
}

var shared = strings.Fields("the date please company office number information service time year report note")

// generate returns n documents per label, seeded, with noise: the share of
// each document's words drawn from another label's vocabulary.
func generate(seed uint64, n int, noise float64, labels ...string) []ml.Example {
	rng := rand.New(rand.NewPCG(seed, 7))
	var out []ml.Example
	for _, l := range labels {
		for i := range n {
			var words []string
			for range 20 + rng.IntN(30) {
				switch r := rng.Float64(); {
				case r < noise:
					other := labels[rng.IntN(len(labels))]
					words = append(words, topics[other][rng.IntN(len(topics[other]))])
				case r < noise+0.4:
					words = append(words, shared[rng.IntN(len(shared))])
				default:
					words = append(words, topics[l][rng.IntN(len(topics[l]))])
				}
			}
			out = append(out, ml.Example{Key: fmt.Sprintf("%s/%d", l, i), Text: strings.Join(words, " "), Label: l})
		}
	}
	return out
}

// committedSpamAssassin reads testdata/ml/spamassassin, one folder per
// label, through the extractor as quire ml train does.
func committedSpamAssassin(t testing.TB) []ml.Example {
	t.Helper()
	return readLabelled(t, filepath.Join("..", "testdata", "ml", "spamassassin"))
}

// readLabelled extracts the documents of dir, labelled by their folder.
func readLabelled(t testing.TB, dir string) []ml.Example {
	t.Helper()
	x := extract.New(extract.Config{})
	t.Cleanup(func() { x.Close() })
	labels, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []ml.Example
	for _, l := range labels {
		if !l.IsDir() {
			continue
		}
		files, err := filepath.Glob(filepath.Join(dir, l.Name(), "*"))
		require.NoError(t, err)
		for _, f := range files {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			res, err := x.Extract(context.Background(), &extract.Input{Name: filepath.Base(f), Data: data})
			require.NoError(t, err, f)
			out = append(out, ml.Example{Key: l.Name() + "/" + filepath.Base(f),
				Text: ml.DocumentText(res.Title, res.Author, res.Text), Label: l.Name()})
		}
	}
	require.NotEmpty(t, out)
	return out
}

// split divides examples by ml.HeldOut.
func split(examples []ml.Example, fraction float64, seed uint64) (train, test []ml.Example) {
	for _, e := range examples {
		if ml.HeldOut(e.Key, fraction, seed) {
			test = append(test, e)
		} else {
			train = append(train, e)
		}
	}
	return train, test
}

// majorityShare is the accuracy of always predicting the commonest label.
func majorityShare(examples []ml.Example) float64 {
	counts := map[string]int{}
	best := 0
	for _, e := range examples {
		counts[e.Label]++
		best = max(best, counts[e.Label])
	}
	return float64(best) / float64(len(examples))
}
