package cli

import (
	"fmt"

	"github.com/quirehq/quire/internal/app"

	"github.com/spf13/cobra"
)

func (a *cli) newMigrateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Bring the relational store's schema up to this version of Quire",
		Long: `Bring the relational store's schema up to this version of Quire: the
PostgreSQL database of --postgres-url, or the embedded database in --data-dir.
It is safe to run again and from several processes at once. In Kubernetes it
runs as a Job before a rollout; quire up runs it at every start.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := app.OpenStore(cmd.Context(), &a.Config)
			if err != nil {
				return err
			}
			defer st.Close()
			_, err = fmt.Fprintf(a.stdout, "%s store is up to date\n", st.Backend())
			return err
		},
	}
}
