package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/auth"
)

func (a *cli) newAdminCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Manage who may use Quire: web UI users and API tokens",
		Long: `Manage who may use Quire's web UI and REST API. Users and tokens are kept in
the relational store (--postgres-url, or quire.db in --data-dir), so every
web server of a deployment sees them at once.`,
	}
	cmd.AddCommand(a.newAdminCreateCommand(), a.newAdminTokenCommand())
	return cmd
}

func (a *cli) newAdminCreateCommand() *cobra.Command {
	var (
		email, scope  string
		passwordStdin bool
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Add a user of the web UI",
		Long: `Add a user of the web UI. The password is read from stdin with
--password-stdin (at least 12 characters), else a random one is made and
printed, this once. Only the password's bcrypt hash is kept.`,
		Example: `  quire admin create --email ada@example.org
  printf '%s' "$PASSWORD" | quire admin create --email ops@example.org --password-stdin --scope write`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			password, generated := "", false
			if passwordStdin {
				line, err := bufio.NewReader(a.stdin).ReadString('\n')
				if err != nil && !errors.Is(err, io.EOF) {
					return fmt.Errorf("read the password from stdin: %w", err)
				}
				password = strings.TrimRight(line, "\r\n")
			} else {
				password, generated = auth.NewPassword(), true
			}
			return a.WithStore(cmd.Context(), func(st store.Store) error {
				u, err := auth.CreateUser(cmd.Context(), st, &auth.CreateUserParams{Email: email, Password: password, Scope: auth.Scope(scope)})
				if errors.Is(err, auth.ErrInvalid) {
					return usagef("%w", err)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "created user %s (%s)\n", u.Email, u.Scope)
				if generated {
					fmt.Fprintf(a.stdout, "password: %s\n(shown this once: keep it in a password manager)\n", password)
				}
				return nil
			})
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&email, "email", "", "the user's email, their login (required)")
	fs.StringVar(&scope, "scope", "admin", "what the user may do: read, write or admin")
	fs.BoolVar(&passwordStdin, "password-stdin", false, "read the password from stdin instead of making one")
	_ = cmd.MarkFlagRequired("email")
	return cmd
}

func (a *cli) newAdminTokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Issue, list and revoke API tokens",
	}
	var (
		name, scope string
		ttl         time.Duration
	)
	create := &cobra.Command{
		Use:   "create",
		Short: "Issue an API token and print it, this once",
		Long: `Issue an API token and print it, this once: only its SHA-256 is kept. Send it
as "Authorization: Bearer <token>". A read token reads documents and
statistics; write also uploads, labels, reprocesses and deletes; admin also
manages tokens, webhooks, models and jobs.`,
		Example: `  TOKEN=$(quire admin token create --name ci --scope write)
  curl -H "Authorization: Bearer $TOKEN" -F file=@report.pdf http://127.0.0.1:8080/api/v1/documents`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.WithStore(cmd.Context(), func(st store.Store) error {
				raw, _, err := auth.Issue(cmd.Context(), &auth.StoreTokens{Store: st}, &auth.IssueParams{Name: name, Scope: auth.Scope(scope), TTL: ttl})
				if errors.Is(err, auth.ErrInvalid) {
					return usagef("%w", err)
				}
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(a.stdout, raw)
				return err
			})
		},
	}
	fs := create.Flags()
	fs.StringVar(&name, "name", "", "what the token is for (required)")
	fs.StringVar(&scope, "scope", "read", "what the token may do: read, write or admin")
	fs.DurationVar(&ttl, "ttl", 0, "how long the token works; 0 means until revoked")
	_ = create.MarkFlagRequired("name")

	list := &cobra.Command{
		Use:   "list",
		Short: "List API tokens, without their secrets",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.WithStore(cmd.Context(), func(st store.Store) error {
				toks, err := st.ListAPITokens(cmd.Context())
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tSCOPE\tCREATED\tEXPIRES\tLAST USED")
				for _, t := range toks {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Scope, t.CreatedAt.Format(time.RFC3339),
						orNever(t.ExpiresAt), orNever(t.LastUsedAt))
				}
				return tw.Flush()
			})
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API token",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.WithStore(cmd.Context(), func(st store.Store) error {
				if err := st.DeleteAPIToken(cmd.Context(), args[0]); err != nil {
					return err
				}
				_, err := fmt.Fprintf(a.stdout, "revoked token %s\n", args[0])
				return err
			})
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func orNever(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format(time.RFC3339)
}
