package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// Where the inbox moves the files it took.
const (
	inboxDoneDir   = ".done"
	inboxFailedDir = ".failed"
)

// inboxPoll is how often the inbox folder is looked at.
var inboxPoll = time.Second

// checkInbox fails the start of up when the inbox folder is unusable.
func checkInbox(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return Usagef("invalid --inbox %q: %w", dir, errors.Unwrap(err))
	}
	if !info.IsDir() {
		return Usagef("invalid --inbox %q: it is not a folder", dir)
	}
	// The documents moved there are read by the inbox's owner, as Quire's
	// data directory is.
	for _, sub := range []string{inboxDoneDir, inboxFailedDir} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return fmt.Errorf("inbox %q: %w", dir, err)
		}
	}
	return nil
}

// runInbox ingests the files dropped in dir until ctx is done. It looks every
// second; a regular file whose size and modification time did not change
// since the last look is complete: it is ingested with Source inbox, then
// moved to dir/.done/, or to dir/.failed/ with NAME.error.txt beside it
// when ingestion failed. Hidden files are left alone.
func runInbox(ctx context.Context, dir string, p *pipeline.Pipeline, log *slog.Logger) {
	type seen struct {
		size int64
		mod  time.Time
	}
	last := map[string]seen{}
	tick := time.NewTicker(inboxPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			log.Warn("inbox: cannot read the folder", "dir", dir, "error", err)
			continue
		}
		now := map[string]seen{}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
				continue
			}
			info, err := e.Info()
			if err != nil {
				continue
			}
			cur := seen{info.Size(), info.ModTime()}
			if prev, ok := last[e.Name()]; !ok || prev != cur {
				now[e.Name()] = cur // still being written, or new: next look
				continue
			}
			if ctx.Err() != nil {
				return
			}
			inboxTake(ctx, dir, e.Name(), p, log)
		}
		last = now
	}
}

// inboxTake ingests one file of the inbox and moves it out of the way.
func inboxTake(ctx context.Context, dir, name string, p *pipeline.Pipeline, log *slog.Logger) {
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if err != nil {
		log.Warn("inbox: cannot read a file", "path", path, "error", err)
		return
	}
	doc, created, err := p.Ingest(ctx, &pipeline.IngestParams{Name: name, Body: f, Source: store.SourceInbox})
	f.Close()
	if err != nil {
		if ctx.Err() != nil {
			return // stopping: the file stays, and is taken at the next start
		}
		log.Warn("inbox: file not ingested", "path", path, "error", err)
		dst := inboxDest(dir, inboxFailedDir, name)
		if merr := os.Rename(path, dst); merr != nil {
			log.Error("inbox: cannot move a failed file", "path", path, "error", merr)
			return
		}
		if werr := os.WriteFile(dst+".error.txt", []byte(err.Error()+"\n"), 0o600); werr != nil {
			log.Error("inbox: cannot write the error beside a failed file", "path", dst, "error", werr)
		}
		return
	}
	log.Info("inbox: file ingested", "path", path, "document_id", doc.ID, "duplicate", !created)
	if err := os.Rename(path, inboxDest(dir, inboxDoneDir, name)); err != nil {
		log.Error("inbox: cannot move an ingested file", "path", path, "error", err)
	}
}

// inboxDest names where a file goes, not overwriting an earlier one of the
// same name.
func inboxDest(dir, sub, name string) string {
	dst := filepath.Join(dir, sub, name)
	ext := filepath.Ext(name)
	for i := 1; ; i++ {
		if _, err := os.Lstat(dst); errors.Is(err, os.ErrNotExist) {
			return dst
		}
		dst = filepath.Join(dir, sub, fmt.Sprintf("%s.%d%s", strings.TrimSuffix(name, ext), i, ext))
	}
}
