package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/quirehq/quire/internal/app"
)

// applyEnv sets every flag of cmd that was not given from its environment
// variable. Empty variables count as unset.
func applyEnv(cmd *cobra.Command, lookupEnv func(string) (string, bool)) error {
	var errs []error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		env := f.Annotations[app.EnvAnnotation]
		if len(env) == 0 || f.Changed {
			return
		}
		v, ok := lookupEnv(env[0])
		if !ok || v == "" {
			return
		}
		if err := f.Value.Set(v); err != nil {
			errs = append(errs, fmt.Errorf("invalid --%s / %s %q: %w", f.Name, env[0], v, err))
		}
	})
	if err := errors.Join(errs...); err != nil {
		return &usageError{Err: err}
	}
	return nil
}
