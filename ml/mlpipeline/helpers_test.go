package mlpipeline_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/ml"
)

// newAnalyzer returns an analyzer that identifies English and German only, with no
// classifier loaded.
func newAnalyzer(t testing.TB) *ml.Analyzer {
	t.Helper()
	lang, err := ml.NewLanguageIdentifier(&ml.LanguageOpts{Languages: []string{"en", "de"}})
	require.NoError(t, err)
	a, err := ml.NewAnalyzer(&ml.AnalyzerConfig{Language: lang})
	require.NoError(t, err)
	return a
}

// trainSmall trains a small "doctype" model of the given version on
// generated documents of three classes.
func trainSmall(t testing.TB, version string) *ml.Model {
	t.Helper()
	topics := map[string][]string{
		"contract": strings.Fields("agreement party parties clause term termination obligations liability signed"),
		"invoice":  strings.Fields("invoice amount due payment total tax billing paid balance"),
		"letter":   strings.Fields("dear regards sincerely thank hope family weekend news visit"),
	}
	var examples []ml.Example
	for label, words := range topics {
		for i := range 40 {
			var text []string
			for j := range 12 {
				text = append(text, words[(i*7+j*3)%len(words)])
			}
			examples = append(examples, ml.Example{Key: fmt.Sprintf("%s/%d", label, i), Text: strings.Join(text, " "), Label: label})
		}
	}
	slices.SortFunc(examples, func(x, y ml.Example) int { return strings.Compare(x.Key, y.Key) })
	m, err := ml.Train(context.Background(), examples, &ml.TrainOpts{
		Version: version, Now: func() time.Time { return time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC) }})
	require.NoError(t, err)
	return m
}
