package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/ml/mlpipeline"
	"github.com/quirehq/quire/store"
)

func (a *cli) newMLRetrainCommand() *cobra.Command {
	var (
		holdout float64
		seed    uint64
		minDF   int
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "retrain [--holdout 0.2] [--json]",
		Short: "Retrain the classifiers whose labels changed, as the train job does",
		Long: `Retrain the classifiers on the labels people gave documents (a label
"name:class" teaches model name; one without a colon teaches doctype), as the
train job (ml.train on the train queue, every 10 minutes) does: a model whose
labels did not change since a version was trained on them is skipped; otherwise
a new version is trained on the documents not held out, compared with the
active version on the held-out ones, registered, and activated only if it is
not worse. Workers load an activated version without a restart.

The tag classifier ("tags") is retrained the same way on the tags people set,
for the tags whose rule is "auto".

It prints one line per model: name, what happened, the new version's ID, its
held-out accuracy and the active version's (for "tags", their micro-averaged
F1). With --json, one JSON array.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if holdout <= 0 || holdout >= 1 {
				return usagef("invalid --holdout %v: it must be between 0 and 1", holdout)
			}
			return a.WithStoreAndBlobs(cmd.Context(), func(st store.Store, blobs *blob.Store) error {
				tr, err := mlpipeline.NewTrainer(&mlpipeline.TrainerConfig{Store: st, Blobs: blobs, HoldOut: holdout,
					Seed: seed, Train: &ml.TrainOpts{MinDF: minDF}, Tags: &ml.MultiLabelTrainOpts{MinDF: minDF}, Logger: a.Log})
				if err != nil {
					return err
				}
				res, err := tr.Run(cmd.Context())
				if perr := a.printTrainResults(res, asJSON); perr != nil {
					return perr
				}
				return err
			})
		},
	}
	fs := cmd.Flags()
	fs.Float64Var(&holdout, "holdout", mlpipeline.HoldOutDefault, "share of the labelled documents the new and the active version are compared on")
	fs.Uint64Var(&seed, "seed", 1, "seed of the split and the training")
	fs.IntVar(&minDF, "min-df", ml.MinDFDefault, "drop features found in fewer training documents")
	fs.BoolVar(&asJSON, "json", false, "print the results as one JSON array")
	return cmd
}

func (a *cli) printTrainResults(res []mlpipeline.TrainResult, asJSON bool) error {
	if asJSON {
		if res == nil {
			res = []mlpipeline.TrainResult{}
		}
		b, err := json.Marshal(res)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(a.stdout, "%s\n", b)
		return err
	}
	for _, r := range res {
		what := "skipped: " + r.Skipped
		if r.Skipped == "" {
			what = "trained, not activated (worse than the active version)"
			if r.Activated {
				what = "trained and activated"
			}
		}
		score, active := r.Accuracy, r.ActiveAccuracy
		if r.Kind == mlpipeline.ModelKindTagger {
			score, active = r.MicroF1, r.ActiveMicroF1 // a multi-label model has no accuracy
		}
		if _, err := fmt.Fprintf(a.stdout, "%s\t%s\t%s\t%.4f\t%.4f\n", r.Name, what, r.VersionID, score, active); err != nil {
			return err
		}
	}
	return nil
}
