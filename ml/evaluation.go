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

// MultiLabelEvaluation is how a multi-label model did on labelled
// documents. Every (document, label) pair is one yes-or-no decision:
// micro-averaged figures pool the decisions of all labels, so common
// labels weigh most; macro-averaged F1 is the mean of the labels' own F1,
// so a rare label weighs as much as a common one.
type MultiLabelEvaluation struct {
	// Labels are the rows of PerLabel: the model's labels, then any label
	// found only in the data (which the model can only miss).
	Labels []string
	// Examples is the number of documents evaluated.
	Examples int
	// MicroPrecision, MicroRecall and MicroF1 pool every label's
	// decisions.
	MicroPrecision, MicroRecall, MicroF1 float64
	// MacroF1 is the mean of the F1 of the labels present in the data or
	// predicted.
	MacroF1 float64
	// SubsetAccuracy is the share of documents whose labels were all
	// found, and no other.
	SubsetAccuracy float64
	// PerLabel holds each label's precision, recall and F1, in Labels
	// order; Support is the number of documents carrying it.
	PerLabel []LabelMetrics
}

// Evaluate predicts every example and compares its labels with the
// document's.
func (m *MultiLabelModel) Evaluate(examples []MultiLabelExample) *MultiLabelEvaluation {
	truth := make([][]string, len(examples))
	predicted := make([][]string, len(examples))
	for i, e := range examples {
		truth[i] = e.Labels
		for _, s := range m.Predict(e.Text) {
			predicted[i] = append(predicted[i], s.Label)
		}
	}
	return EvaluateMultiLabel(m.Labels, truth, predicted)
}

// EvaluateMultiLabel compares the predicted labels of documents with
// their true ones (truth[i] and predicted[i] are document i's). Labels are
// the model's; a label of the data or the predictions not among them is
// added after them.
func EvaluateMultiLabel(labels []string, truth, predicted [][]string) *MultiLabelEvaluation {
	ev := &MultiLabelEvaluation{Labels: slices.Clone(labels), Examples: len(truth)}
	index := make(map[string]int, len(labels))
	for i, l := range ev.Labels {
		index[l] = i
	}
	at := func(l string) int {
		i, ok := index[l]
		if !ok {
			i = len(ev.Labels)
			index[l] = i
			ev.Labels = append(ev.Labels, l)
		}
		return i
	}
	var tp, fp, fn []int
	grow := func() {
		for len(tp) < len(ev.Labels) {
			tp, fp, fn = append(tp, 0), append(fp, 0), append(fn, 0)
		}
	}
	exact := 0
	for d := range truth {
		t := uniqueLabels(truth[d])
		var p []string
		if d < len(predicted) {
			p = uniqueLabels(predicted[d])
		}
		for _, l := range t {
			at(l)
		}
		for _, l := range p {
			at(l)
		}
		grow()
		same := len(t) == len(p)
		for _, l := range p {
			if slices.Contains(t, l) {
				tp[index[l]]++
			} else {
				fp[index[l]]++
				same = false
			}
		}
		for _, l := range t {
			if !slices.Contains(p, l) {
				fn[index[l]]++
			}
		}
		if same {
			exact++
		}
	}
	grow()
	var sumTP, sumFP, sumFN int
	var f1s float64
	counted := 0
	for i, l := range ev.Labels {
		lm := LabelMetrics{Label: l, Support: tp[i] + fn[i]}
		if tp[i]+fp[i] > 0 {
			lm.Precision = float64(tp[i]) / float64(tp[i]+fp[i])
		}
		if lm.Support > 0 {
			lm.Recall = float64(tp[i]) / float64(lm.Support)
		}
		if tp[i] > 0 {
			lm.F1 = 2 * float64(tp[i]) / float64(2*tp[i]+fp[i]+fn[i])
		}
		ev.PerLabel = append(ev.PerLabel, lm)
		sumTP, sumFP, sumFN = sumTP+tp[i], sumFP+fp[i], sumFN+fn[i]
		// A label neither present nor predicted says nothing of the model.
		if tp[i]+fp[i]+fn[i] > 0 {
			f1s += lm.F1
			counted++
		}
	}
	if sumTP+sumFP > 0 {
		ev.MicroPrecision = float64(sumTP) / float64(sumTP+sumFP)
	}
	if sumTP+sumFN > 0 {
		ev.MicroRecall = float64(sumTP) / float64(sumTP+sumFN)
	}
	if sumTP > 0 {
		ev.MicroF1 = 2 * float64(sumTP) / float64(2*sumTP+sumFP+sumFN)
	}
	if counted > 0 {
		ev.MacroF1 = f1s / float64(counted)
	}
	if ev.Examples > 0 {
		ev.SubsetAccuracy = float64(exact) / float64(ev.Examples)
	}
	return ev
}

// WriteText writes the evaluation for a person: the figures, then the
// per-label table.
func (ev *MultiLabelEvaluation) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "documents\t%d\n", ev.Examples)
	fmt.Fprintf(tw, "micro-F1\t%.4f (precision %.4f, recall %.4f)\n", ev.MicroF1, ev.MicroPrecision, ev.MicroRecall)
	fmt.Fprintf(tw, "macro-F1\t%.4f\n", ev.MacroF1)
	fmt.Fprintf(tw, "subset accuracy\t%.4f\n\n", ev.SubsetAccuracy)
	fmt.Fprintf(tw, "label\tprecision\trecall\tF1\tdocuments\n")
	for _, l := range ev.PerLabel {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%d\n", l.Label, l.Precision, l.Recall, l.F1, l.Support)
	}
	return tw.Flush()
}
