// Package mldata reads training data for Quire's classifiers from the file
// system: a folder with one subfolder per label, each holding documents of
// any format Quire extracts. quire ml train and eval read their --data
// through it, so that what a classifier learns from is what the pipeline's
// analyzer will see of a document: its title and author, then its text.
package mldata

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/quirehq/quire/extract"
	"github.com/quirehq/quire/ml"
)

// ErrNoData is returned by Load for a folder without a label folder that
// holds a document.
var ErrNoData = errors.New("holds no label folder with documents")

// LoadOpts are Load's settings.
type LoadOpts struct {
	// Extractor reads the documents. Required.
	Extractor *extract.Extractor
	// Logger reports the documents left out. Defaults to slog.Default().
	Logger *slog.Logger
	// Workers is how many documents are read at once. Defaults to
	// GOMAXPROCS.
	Workers int
}

// Load reads the documents of dir, each labelled by the top folder it is
// in (dir/spam/2024/a.eml is labelled spam, keyed "spam/2024/a.eml").
// Names starting with a dot are skipped; a symlink is followed, so that a
// data folder may link to a corpus rather than copy it. A document that
// cannot be read is logged and left out: one must not stop training on
// thousands.
func Load(ctx context.Context, dir string, opts *LoadOpts) ([]ml.Example, error) {
	if opts == nil || opts.Extractor == nil {
		return nil, errors.New("mldata: LoadOpts.Extractor is required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	files, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	examples := make([]ml.Example, len(files))
	ok := make([]bool, len(files))
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		skipped int
	)
	next := make(chan int)
	workers := opts.Workers
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	for range workers {
		wg.Go(func() {
			for i := range next {
				text, err := DocumentText(ctx, opts.Extractor, files[i].path)
				if err != nil {
					log.Warn("ml: document left out", "file", files[i].path, "err", err)
					mu.Lock()
					skipped++
					mu.Unlock()
					continue
				}
				examples[i] = ml.Example{Key: files[i].key, Text: text, Label: files[i].label}
				ok[i] = true
			}
		})
	}
	for i := range files {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := examples[:0]
	for i, e := range examples {
		if ok[i] {
			out = append(out, e)
		}
	}
	log.Info("ml: documents read", "dir", dir, "documents", len(out), "left_out", skipped)
	return out, nil
}

type file struct{ path, key, label string }

// listFiles lists the documents of dir's label folders.
func listFiles(dir string) ([]file, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []file
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		root := filepath.Join(dir, e.Name())
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") && path != root {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0 {
				rel, _ := filepath.Rel(dir, path)
				files = append(files, file{path, filepath.ToSlash(rel), e.Name()})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", root, err)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s %w", dir, ErrNoData)
	}
	return files, nil
}

// DocumentText returns the text a classifier reads of a file: its title and
// author, then its text, as the pipeline's analyzer sees a document.
func DocumentText(ctx context.Context, x *extract.Extractor, path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	res, err := x.Extract(ctx, &extract.Input{Name: filepath.Base(path), Data: data})
	if err != nil {
		return "", fmt.Errorf("extract %s: %w", path, err)
	}
	return ml.DocumentText(res.Title, res.Author, res.Text), nil
}
