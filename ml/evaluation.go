package ml

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// Evaluation is how a model did on labelled documents.
type Evaluation struct {
	// Labels are the rows and columns of Confusion: the model's labels,
	// then any label found only in the data.
	Labels []string
	// Confusion counts documents by true label (row) and predicted label
	// (column).
	Confusion [][]int
	// Examples is the number of documents evaluated.
	Examples int
	// Accuracy is the share of documents predicted right.
	Accuracy float64
	// MacroF1 is the mean of the labels' F1 scores.
	MacroF1 float64
	// PerLabel holds each label's precision, recall and F1, in Labels
	// order.
	PerLabel []LabelMetrics
	// Unsure counts predictions below the model's UnsureBelow (still
	// counted with their best label above); UnsureAccuracy is the accuracy
	// of the sure ones.
	Unsure         int
	UnsureAccuracy float64
}

// LabelMetrics are one label's figures.
type LabelMetrics struct {
	Label                 string
	Precision, Recall, F1 float64
	Support               int
}

// Evaluate predicts every example and compares with its label.
func (m *Model) Evaluate(examples []Example) *Evaluation {
	labels := slices.Clone(m.Labels)
	for _, e := range examples {
		if !slices.Contains(labels, e.Label) {
			labels = append(labels, e.Label)
		}
	}
	ev := &Evaluation{Labels: labels, Examples: len(examples), Confusion: make([][]int, len(labels))}
	for i := range ev.Confusion {
		ev.Confusion[i] = make([]int, len(labels))
	}
	correct, sure, sureCorrect := 0, 0, 0
	for _, e := range examples {
		p := m.Predict(e.Text)
		t, q := slices.Index(labels, e.Label), slices.Index(labels, p.Label)
		ev.Confusion[t][q]++
		if t == q {
			correct++
		}
		if p.Unsure {
			ev.Unsure++
		} else {
			sure++
			if t == q {
				sureCorrect++
			}
		}
	}
	if len(examples) > 0 {
		ev.Accuracy = float64(correct) / float64(len(examples))
	}
	if sure > 0 {
		ev.UnsureAccuracy = float64(sureCorrect) / float64(sure)
	}
	var f1s float64
	counted := 0
	for i, l := range labels {
		tp, predicted, actual := ev.Confusion[i][i], 0, 0
		for j := range labels {
			predicted += ev.Confusion[j][i]
			actual += ev.Confusion[i][j]
		}
		lm := LabelMetrics{Label: l, Support: actual}
		if predicted > 0 {
			lm.Precision = float64(tp) / float64(predicted)
		}
		if actual > 0 {
			lm.Recall = float64(tp) / float64(actual)
		}
		if lm.Precision+lm.Recall > 0 {
			lm.F1 = 2 * lm.Precision * lm.Recall / (lm.Precision + lm.Recall)
		}
		ev.PerLabel = append(ev.PerLabel, lm)
		// A label neither present nor predicted says nothing of the model.
		if actual > 0 || predicted > 0 {
			f1s += lm.F1
			counted++
		}
	}
	if counted > 0 {
		ev.MacroF1 = f1s / float64(counted)
	}
	return ev
}

// WriteText writes the evaluation for a person: the figures, then the
// per-label table, then the confusion matrix.
func (ev *Evaluation) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "documents\t%d\n", ev.Examples)
	fmt.Fprintf(tw, "accuracy\t%.4f\n", ev.Accuracy)
	fmt.Fprintf(tw, "macro-F1\t%.4f\n", ev.MacroF1)
	fmt.Fprintf(tw, "unsure\t%d (accuracy of the rest %.4f)\n\n", ev.Unsure, ev.UnsureAccuracy)
	fmt.Fprintf(tw, "label\tprecision\trecall\tF1\tdocuments\n")
	for _, l := range ev.PerLabel {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%d\n", l.Label, l.Precision, l.Recall, l.F1, l.Support)
	}
	fmt.Fprintf(tw, "\nconfusion (rows: true, columns: predicted)\n")
	fmt.Fprintf(tw, "\t%s\n", strings.Join(ev.Labels, "\t"))
	for i, l := range ev.Labels {
		row := make([]string, len(ev.Labels))
		for j, n := range ev.Confusion[i] {
			row[j] = fmt.Sprint(n)
		}
		fmt.Fprintf(tw, "%s\t%s\n", l, strings.Join(row, "\t"))
	}
	return tw.Flush()
}
