package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/quirehq/quire/internal/app"
	"github.com/quirehq/quire/web/api/client"
)

// SubmitServerDefault is where submit finds quire up by default.
const SubmitServerDefault = "http://127.0.0.1:8080"

// submitConfig holds the settings of the submit command.
type submitConfig struct {
	Server string
	// Token is the API token, of write scope at least.
	Token    string
	Parallel int
	JSON     bool
}

func (a *cli) newSubmitCommand() *cobra.Command {
	cfg := &submitConfig{}
	cmd := &cobra.Command{
		Use:   "submit PATH...",
		Short: "Upload files and folders to a running quire up",
		Long: `Upload every file under the given paths (folders recursively; hidden files
and folders skipped) to the REST API of a running quire up (or serve with
the API), several at once, and print the ID of each document. A document
whose content the server already has is reported as a duplicate. A
progress bar is drawn on stderr when it is a terminal.

The exit status is 1 when any upload failed.`,
		Example: `  quire up &
  export QUIRE_TOKEN=$(quire admin token create --name submit --scope write)
  quire submit ~/scans reports/q3.pdf
  quire submit --server http://quire.internal:8080 --json inbox/ | tail -1`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("%s: give at least one file or folder", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runSubmit(cmd.Context(), cfg, args)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&cfg.Server, "server", SubmitServerDefault, "URL of the running quire up")
	app.WithEnv(fs, "server")
	fs.StringVar(&cfg.Token, "token", "", "API token of write scope (quire admin token create --scope write); quire up --demo needs none")
	app.WithEnv(fs, "token")
	fs.IntVar(&cfg.Parallel, "parallel", 8, "uploads at once")
	fs.BoolVar(&cfg.JSON, "json", false, "print the summary as one JSON object on the last line")
	return cmd
}

// submitSummary is what submit prints at the end with --json.
type submitSummary struct {
	Total      int      `json:"total"`
	Created    int      `json:"created"`
	Duplicates int      `json:"duplicates"`
	Failed     int      `json:"failed"`
	Errors     []string `json:"errors"`
	IDs        []string `json:"ids"`
}

func (a *cli) runSubmit(ctx context.Context, cfg *submitConfig, paths []string) error {
	if cfg.Parallel < 1 {
		return usagef("invalid --parallel %d: it must be at least 1", cfg.Parallel)
	}
	c, err := client.New(cfg.Server, cfg.Token, &http.Client{Timeout: 10 * time.Minute})
	if err != nil {
		return usagef("invalid %s %q: give an http:// or https:// URL", app.Setting("server"), cfg.Server)
	}
	files, err := collectFiles(paths)
	if err != nil {
		return &usageError{Err: err}
	}

	sum := &submitSummary{Total: len(files), Errors: []string{}, IDs: []string{}}
	var mu sync.Mutex
	bar := newProgressBar(a.stderr, "files")
	defer bar.finish()
	finished := 0
	sem := make(chan struct{}, cfg.Parallel)
	var wg sync.WaitGroup
	for _, path := range files {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			doc, err := upload(ctx, c, path)
			mu.Lock()
			defer mu.Unlock()
			finished++
			switch {
			case err != nil:
				sum.Failed++
				msg := fmt.Sprintf("%s: %v", path, describeUploadError(err, cfg.Server))
				sum.Errors = append(sum.Errors, msg)
				if !cfg.JSON {
					bar.clear()
					fmt.Fprintf(a.stderr, "quire: %s\n", msg)
				}
			case doc.Duplicate:
				sum.Duplicates++
				sum.IDs = append(sum.IDs, doc.ID)
				if !cfg.JSON {
					bar.clear()
					fmt.Fprintf(a.stdout, "%s\t%s\tduplicate\n", doc.ID, path)
				}
			default:
				sum.Created++
				sum.IDs = append(sum.IDs, doc.ID)
				if !cfg.JSON {
					bar.clear()
					fmt.Fprintf(a.stdout, "%s\t%s\n", doc.ID, path)
				}
			}
			bar.set(finished, len(files), true)
		})
	}
	wg.Wait()
	bar.finish()
	if cfg.JSON {
		line, err := json.Marshal(sum)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s\n", line)
	} else {
		fmt.Fprintf(a.stdout, "%d files: %d created, %d duplicates, %d failed\n", sum.Total, sum.Created, sum.Duplicates, sum.Failed)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %d of %d files submitted", sum.Created+sum.Duplicates, sum.Total)
	}
	if sum.Failed > 0 {
		if sum.Failed == sum.Total && len(sum.Errors) > 0 {
			return errors.New(strings.TrimPrefix(sum.Errors[0], files[0]+": "))
		}
		return fmt.Errorf("%d of %d uploads failed", sum.Failed, sum.Total)
	}
	return nil
}

func describeUploadError(err error, server string) string {
	var he *client.Error
	switch {
	case errors.Is(err, client.ErrUnreachable):
		return fmt.Sprintf("cannot reach quire at %s (%v); is it running? start it with `quire up`, or point --server / QUIRE_SERVER at it", server, errors.Unwrap(err))
	case errors.As(err, &he) && he.StatusCode == http.StatusRequestEntityTooLarge:
		return "too large for the server: " + he.Error()
	case errors.As(err, &he) && (he.StatusCode == http.StatusUnauthorized || he.StatusCode == http.StatusForbidden):
		return he.Error() + "; give a token of write scope with --token / QUIRE_TOKEN (quire admin token create --name submit --scope write)"
	}
	return err.Error()
}

// upload posts one file, streaming it.
func upload(ctx context.Context, c *client.Client, path string) (*client.Uploaded, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return c.Upload(ctx, filepath.Base(path), f)
}
