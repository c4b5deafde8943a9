package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/ml/mldata"
	"github.com/quirehq/quire/ml/mlpipeline"
	"github.com/quirehq/quire/store"
)

// mlConfig holds the flags of the ml commands.
type mlConfig struct {
	data      string
	out       string
	model     string
	name      string
	version   string
	algorithm string
	weights   string
	language  string
	holdout   float64
	minDF     int
	seed      uint64
	unsure    float64
	json      bool
}

func (a *cli) newMLCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ml",
		Short: "Train, evaluate and run document classifiers",
		Long: `Train, evaluate and run document classifiers. Training data is a folder
holding one folder per label, each of documents of that label (text, HTML,
email, PDF or any other format quire extracts).`,
	}
	cmd.AddCommand(a.newMLActivateCommand(), a.newMLEvalCommand(), a.newMLPredictCommand(),
		a.newMLPublishCommand(), a.newMLRetrainCommand(), a.newMLTrainCommand(), a.newMLVersionsCommand())
	return cmd
}

func (a *cli) newMLPublishCommand() *cobra.Command {
	var c mlConfig
	var activate bool
	cmd := &cobra.Command{
		Use:   "publish --model MODEL [--activate]",
		Short: "Register a trained model as a version in the store",
		Long: `Register the model in MODEL as a version of its name: its artifact goes to
blob storage and the version to the store (of --data-dir, or --postgres-url
and --blob-url), with its held-out figures. With --activate it becomes the
active version, which workers load without a restart.`,
		Example: `  quire ml publish --model mail.qml --activate`,
		Args:    exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if c.model == "" {
				return usagef("ml publish: --model is required")
			}
			m, err := readModel(c.model)
			if err != nil {
				return err
			}
			return a.WithStoreAndBlobs(cmd.Context(), func(st store.Store, blobs *blob.Store) error {
				mv, err := mlpipeline.Publish(cmd.Context(), st, blobs, &mlpipeline.PublishParams{Model: m, Activate: activate})
				if err != nil {
					return err
				}
				return a.printModelVersions([]store.ModelVersion{*mv})
			})
		},
	}
	cmd.Flags().StringVar(&c.model, "model", "", "model file (required)")
	cmd.Flags().BoolVar(&activate, "activate", false, "make it the active version of its name")
	return cmd
}

func (a *cli) newMLActivateCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "activate ID",
		Short:   "Make a registered model version the active one of its name",
		Example: `  quire ml activate 01JD3Z8Q4X5M6N7P8R9S0T1V2W`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.WithStoreAndBlobs(cmd.Context(), func(st store.Store, _ *blob.Store) error {
				mv, err := st.ActivateModelVersion(cmd.Context(), args[0])
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("model version %s not found", args[0])
				}
				if err != nil {
					return fmt.Errorf("activate model version %s: %w", args[0], err)
				}
				return a.printModelVersions([]store.ModelVersion{*mv})
			})
		},
	}
}

func (a *cli) newMLVersionsCommand() *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "versions [--name NAME]",
		Short: "List the registered classifier versions, newest first",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.WithStoreAndBlobs(cmd.Context(), func(st store.Store, _ *blob.Store) error {
				vs, err := st.ListModelVersions(cmd.Context(), &store.ListModelVersionsParams{Kind: mlpipeline.ModelKindClassifier, Name: name})
				if err != nil {
					return fmt.Errorf("list model versions: %w", err)
				}
				return a.printModelVersions(vs)
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "only the versions of this model")
	return cmd
}

// printModelVersions writes one line per version: ID, name@version, active
// or not, creation time, and the held-out accuracy when known.
func (a *cli) printModelVersions(vs []store.ModelVersion) error {
	for _, v := range vs {
		state := "inactive"
		if v.Active {
			state = "active"
		}
		acc := "-"
		var m struct {
			Accuracy float64 `json:"accuracy"`
		}
		if json.Unmarshal(v.Metrics, &m) == nil && m.Accuracy > 0 {
			acc = fmt.Sprintf("%.4f", m.Accuracy)
		}
		if _, err := fmt.Fprintf(a.stdout, "%s\t%s@%s\t%s\t%s\t%s\n", v.ID, v.Name, v.Version, state,
			v.CreatedAt.UTC().Format(time.RFC3339), acc); err != nil {
			return err
		}
	}
	return nil
}

func (a *cli) newMLTrainCommand() *cobra.Command {
	var c mlConfig
	cmd := &cobra.Command{
		Use:   "train --data DIR --out MODEL",
		Short: "Train a classifier on a folder of labelled documents",
		Long: `Train a classifier on DIR, which holds one folder per label, and write the
model artifact to MODEL. With --holdout, that share of the documents (chosen
by a hash of their path and --seed) is left out of training and the model is
evaluated on it; quire ml eval with the same --holdout and --seed evaluates
the same documents.`,
		Example: `  quire ml train --data mail --out mail.qml --holdout 0.2`,
		Args:    exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runMLTrain(cmd.Context(), &c)
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.data, "data", "", "folder of labelled documents, one folder per label (required)")
	f.StringVar(&c.out, "out", "", "file to write the model to (required)")
	f.StringVar(&c.name, "name", ml.NameDefault, "model name")
	f.StringVar(&c.version, "version", "", "model version (default: the training time)")
	f.StringVar(&c.algorithm, "algorithm", string(ml.AlgorithmLogisticRegression), "logistic_regression or naive_bayes")
	f.StringVar(&c.weights, "class-weights", string(ml.ClassWeightsBalanced), "balanced (rare labels count as much as common ones) or uniform; logistic regression only")
	f.StringVar(&c.language, "lang", ml.LanguageDefault, "language of the documents (ISO 639-1), for stop words and stemming")
	f.Float64Var(&c.holdout, "holdout", 0, "share of documents held out for evaluation (0 to 0.9)")
	f.IntVar(&c.minDF, "min-df", ml.MinDFDefault, "drop words and phrases found in fewer documents")
	f.Uint64Var(&c.seed, "seed", 1, "seed of the held-out split and of training")
	f.Float64Var(&c.unsure, "unsure-below", ml.UnsureBelowDefault, "confidence below which predictions are unsure")
	f.BoolVar(&c.json, "json", false, "end with one JSON object of the held-out figures")
	return cmd
}

func (a *cli) newMLEvalCommand() *cobra.Command {
	var c mlConfig
	cmd := &cobra.Command{
		Use:   "eval --model MODEL --data DIR",
		Short: "Evaluate a classifier on a folder of labelled documents",
		Long: `Evaluate the model in MODEL on DIR, which holds one folder per label: print
accuracy, macro-F1, per-label figures and the confusion matrix. With --json,
the last line is one JSON object with accuracy and macro_f1. With --holdout,
only the documents training held out (same --holdout and --seed) count.`,
		Example: `  quire ml eval --model mail.qml --data mail --holdout 0.2 --json`,
		Args:    exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runMLEval(cmd.Context(), &c)
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.data, "data", "", "folder of labelled documents, one folder per label (required)")
	f.StringVar(&c.model, "model", "", "model file (required)")
	f.Float64Var(&c.holdout, "holdout", 0, "evaluate only the share of documents training held out")
	f.Uint64Var(&c.seed, "seed", 1, "seed of the held-out split")
	f.BoolVar(&c.json, "json", false, "end with one JSON object of the figures")
	return cmd
}

func (a *cli) newMLPredictCommand() *cobra.Command {
	var c mlConfig
	cmd := &cobra.Command{
		Use:     "predict --model MODEL FILE...",
		Short:   "Classify documents with a trained model",
		Example: `  quire ml predict --model mail.qml message.eml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("%s: give at least one file", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, files []string) error {
			return a.runMLPredict(cmd.Context(), &c, files)
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.model, "model", "", "model file (required)")
	f.BoolVar(&c.json, "json", false, "print one JSON object per file")
	return cmd
}

func (a *cli) runMLTrain(ctx context.Context, c *mlConfig) error {
	if c.data == "" || c.out == "" {
		return usagef("ml train: --data and --out are required")
	}
	if c.holdout < 0 || c.holdout > 0.9 {
		return usagef("ml train: --holdout %v is not between 0 and 0.9", c.holdout)
	}
	alg := ml.Algorithm(c.algorithm)
	if alg != ml.AlgorithmLogisticRegression && alg != ml.AlgorithmNaiveBayes {
		return usagef("ml train: --algorithm %q is not logistic_regression or naive_bayes", c.algorithm)
	}
	cw := ml.ClassWeights(c.weights)
	if cw != ml.ClassWeightsBalanced && cw != ml.ClassWeightsUniform {
		return usagef("ml train: --class-weights %q is not balanced or uniform", c.weights)
	}
	examples, err := a.loadExamples(ctx, c.data)
	if err != nil {
		return err
	}
	var train, test []ml.Example
	for _, e := range examples {
		if ml.HeldOut(e.Key, c.holdout, c.seed) {
			test = append(test, e)
		} else {
			train = append(train, e)
		}
	}
	a.Log.Info("ml: training", "documents", len(train), "held_out", len(test), "algorithm", alg)
	m, err := ml.Train(ctx, train, &ml.TrainOpts{Name: c.name, Version: c.version, Algorithm: alg,
		ClassWeights: cw, Language: c.language, MinDF: c.minDF, Seed: c.seed, UnsureBelow: c.unsure})
	if err != nil {
		return err
	}
	var ev *ml.Evaluation
	if len(test) > 0 {
		ev = m.Evaluate(test)
		m.Metrics.HeldOut, m.Metrics.Accuracy, m.Metrics.MacroF1 = ev.Examples, ev.Accuracy, ev.MacroF1
		m.Metrics.Labels, m.Metrics.Confusion = ev.Labels, ev.Confusion
	}
	if err := ml.WriteFile(c.out, m); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "model %s: %s, %d labels, %d features, trained on %d documents, temperature %.3f\n",
		m.ModelVersion(), m.Algorithm, len(m.Labels), len(m.Terms), len(train), m.Temperature)
	fmt.Fprintf(a.stdout, "wrote %s\n", c.out)
	if ev == nil {
		return nil
	}
	fmt.Fprintf(a.stdout, "\nheld out (%.0f%%, seed %d):\n", c.holdout*100, c.seed)
	return a.printEvaluation(ev, c.json)
}

func (a *cli) runMLEval(ctx context.Context, c *mlConfig) error {
	if c.data == "" || c.model == "" {
		return usagef("ml eval: --model and --data are required")
	}
	m, err := readModel(c.model)
	if err != nil {
		return err
	}
	examples, err := a.loadExamples(ctx, c.data)
	if err != nil {
		return err
	}
	if c.holdout > 0 {
		examples = slices.DeleteFunc(examples, func(e ml.Example) bool { return !ml.HeldOut(e.Key, c.holdout, c.seed) })
		if len(examples) == 0 {
			return fmt.Errorf("ml eval: no document of %s is in the held-out %.0f%%", c.data, c.holdout*100)
		}
	}
	fmt.Fprintf(a.stdout, "model %s on %s\n", m.ModelVersion(), c.data)
	return a.printEvaluation(m.Evaluate(examples), c.json)
}

func (a *cli) printEvaluation(ev *ml.Evaluation, asJSON bool) error {
	if err := ev.WriteText(a.stdout); err != nil {
		return err
	}
	if !asJSON {
		return nil
	}
	b, err := json.Marshal(map[string]any{"accuracy": ev.Accuracy, "macro_f1": ev.MacroF1,
		"documents": ev.Examples, "unsure": ev.Unsure, "labels": ev.Labels, "confusion": ev.Confusion})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.stdout, "%s\n", b)
	return err
}

func (a *cli) runMLPredict(ctx context.Context, c *mlConfig, files []string) error {
	if c.model == "" {
		return usagef("ml predict: --model is required")
	}
	m, err := readModel(c.model)
	if err != nil {
		return err
	}
	x, err := a.Config.Limits.NewExtractor(0)
	if err != nil {
		return err
	}
	defer x.Close()
	var errs []error
	for _, f := range files {
		text, err := mldata.DocumentText(ctx, x, f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p := m.Predict(text)
		if c.json {
			b, err := json.Marshal(map[string]any{"file": f, "label": p.Label, "confidence": p.Confidence,
				"unsure": p.Unsure, "model_version": m.ModelVersion()})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s\n", b)
			continue
		}
		label := p.Label
		if p.Unsure {
			label += " (unsure)"
		}
		fmt.Fprintf(a.stdout, "%s\t%s\t%.4f\n", f, label, p.Confidence)
	}
	return errors.Join(errs...)
}

// loadExamples reads the labelled documents of --data (ml/mldata).
func (a *cli) loadExamples(ctx context.Context, dir string) ([]ml.Example, error) {
	x, err := a.Config.Limits.NewExtractor(0)
	if err != nil {
		return nil, err
	}
	defer x.Close()
	examples, err := mldata.Load(ctx, dir, &mldata.LoadOpts{Extractor: x, Logger: a.Log})
	if errors.Is(err, mldata.ErrNoData) {
		return nil, usagef("ml: --data %w", err)
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, usagef("ml: --data: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("ml: %w", err)
	}
	return examples, nil
}

func readModel(path string) (*ml.Model, error) {
	m, err := ml.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usagef("ml: --model: %w", err)
	}
	return m, err
}
