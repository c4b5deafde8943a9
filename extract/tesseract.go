package extract

// A tesseract run on a small image spends most of its time loading the
// language models: 70-130 ms of CPU for eng+deu, where reading a mail's
// screenshot takes a few (docs/benchmarks.md, "OCR in running
// processes"). So single images are read by processes kept running, each
// taking file names on its stdin (tesseract's stream_filelist) and
// writing their text to stdout, one process per image at a time. Multi-page
// TIFFs still get a run of their own: a file list reads the first page of
// each file only.
//
// tesseract writes its page separator (a form feed) before every page but
// the first, not after, so a page's text is known to be complete only once
// the next page begins. Each image is therefore followed by a blank one
// whose separator ends the image's text; reading it costs tesseract well
// under a millisecond.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ocrIdle is how long a tesseract process waits for another image before
// it is stopped, giving back the memory its models hold (60 MB for
// eng+deu).
const ocrIdle = 30 * time.Second

// ocrStartTimeout bounds how long a new process may take to load its
// models and read a blank page (chi_sim's take a second).
const ocrStartTimeout = 30 * time.Second

// ocrProcessPages is how many images a process reads before it is
// replaced, so that whatever tesseract keeps between pages cannot grow
// without bound.
const ocrProcessPages = 1000

// ocrBlankPage is a white 16×16 PGM: the page after each image whose
// separator tells that the image's text is complete.
var ocrBlankPage = append([]byte("P5\n16 16\n255\n"), bytes.Repeat([]byte{0xff}, 16*16)...)

// errOCRFiles reports that the images could not be written for a running
// process to read: the image is then read by a run of its own, from stdin.
var errOCRFiles = errors.New("ocr: no temporary file")

// ocrKey is what a process is started with: the languages it reads and the
// resolution it is told, 0 for tesseract to estimate it.
type ocrKey struct {
	langs string
	dpi   int
}

// ocrProcess is a running tesseract reading a stream of file names.
type ocrProcess struct {
	key    ocrKey
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Reader
	stderr *ocrStderrTail
	// images counts the images read.
	images int
	idle   *time.Timer
}

// ocrPool holds the processes waiting for an image, the least recently
// used first.
type ocrPool struct {
	mu     sync.Mutex
	idle   []*ocrProcess
	closed bool
	// off is set when tesseract turned out not to stream.
	off atomic.Bool
	// idleFor is how long a process waits for an image: ocrIdle.
	idleFor time.Duration
}

// readStreamed reads img, a single-page image, in a running process of
// key, starting one when none is idle. A process that fails is stopped;
// one that had read images before may have failed of something else (it
// was killed while idle), so the image gets a fresh process before it is
// called unreadable.
func (o *ocrEngine) readStreamed(ctx context.Context, img []byte, key ocrKey) (string, error) {
	for fresh := false; ; fresh = true {
		p, err := o.process(ctx, key, fresh)
		if err != nil {
			return "", err
		}
		used := p.images > 0
		text, err := p.read(ctx, img)
		if err == nil {
			o.putBack(p)
			return text, nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if !used || fresh || errors.Is(err, errOCRFiles) {
			return "", err
		}
	}
}

// process returns an idle process of key, or a new one when none is idle
// or fresh is set. A new process first reads two blank pages, which
// proves that it streams; a tesseract that does not (older than 3.04, or
// a wrapper that reads its stdin whole) turns streaming off for the
// engine, and images are read by runs of their own (errOCRFiles).
func (o *ocrEngine) process(ctx context.Context, key ocrKey, fresh bool) (*ocrProcess, error) {
	if o.pool.off.Load() {
		return nil, fmt.Errorf("%w: tesseract does not stream", errOCRFiles)
	}
	if !fresh {
		o.pool.mu.Lock()
		for i := len(o.pool.idle) - 1; i >= 0; i-- {
			if p := o.pool.idle[i]; p.key == key && p.idle.Stop() {
				o.pool.idle = append(o.pool.idle[:i], o.pool.idle[i+1:]...)
				o.pool.mu.Unlock()
				return p, nil
			}
		}
		o.pool.mu.Unlock()
	}
	// The separator is named although it is tesseract's default: the
	// framing depends on it, whatever a config file of tessdata says.
	args := []string{"-", "-", "-l", key.langs, "-c", "stream_filelist=true", "-c", "page_separator=\f"}
	if key.dpi > 0 {
		args = append(args, "--dpi", strconv.Itoa(key.dpi))
	}
	// Not tied to the caller's context: the process outlives the image.
	cmd := exec.Command(o.path, args...)
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	p := &ocrProcess{key: key, cmd: cmd, stderr: &ocrStderrTail{max: ocrStderrMax}}
	cmd.Stderr = p.stderr
	cmd.WaitDelay = time.Second
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("start tesseract: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start tesseract: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start tesseract: %w", err)
	}
	p.out = bufio.NewReader(stdout)
	if err := p.check(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !errors.Is(err, errOCRFiles) {
			o.pool.off.Store(true)
			slog.Warn("tesseract does not read a stream of images; each image is read by a run of its own", "tesseract", o.path, "err", err)
			err = fmt.Errorf("%w: %w", errOCRFiles, err)
		}
		return nil, err
	}
	return p, nil
}

// check has a new process read two blank pages, within ocrStartTimeout:
// the first page's text is complete when the second begins.
func (p *ocrProcess) check(ctx context.Context) error {
	blank, err := ocrTempFile("quire-ocr-*.pgm", ocrBlankPage)
	if err != nil {
		p.stop()
		return err
	}
	defer os.Remove(blank)
	ctx, cancel := context.WithTimeout(ctx, ocrStartTimeout)
	defer cancel()
	kill := context.AfterFunc(ctx, func() { _ = p.cmd.Process.Kill() })
	defer kill()
	if _, err := io.WriteString(p.stdin, blank+"\n"+blank+"\n"); err != nil {
		return p.failed(err)
	}
	if _, err := p.out.ReadString('\f'); err != nil {
		return p.failed(err)
	}
	return nil
}

// putBack makes p idle, stopping it when it has read its share of images
// or the engine is closed. At most as many processes wait as there are
// slots to run them in, the least recently used going first: an idle
// process holds its models' memory.
func (o *ocrEngine) putBack(p *ocrProcess) {
	if p.images >= ocrProcessPages {
		p.stop()
		return
	}
	o.pool.mu.Lock()
	if o.pool.closed {
		o.pool.mu.Unlock()
		p.stop()
		return
	}
	var evicted *ocrProcess
	if len(o.pool.idle) >= cap(o.slots) {
		if first := o.pool.idle[0]; first.idle.Stop() {
			evicted = first
			o.pool.idle = o.pool.idle[1:]
		}
	}
	p.idle = time.AfterFunc(o.pool.idleFor, func() { o.expire(p) })
	o.pool.idle = append(o.pool.idle, p)
	o.pool.mu.Unlock()
	if evicted != nil {
		evicted.stop()
	}
}

// expire stops p when it has waited idleFor for an image.
func (o *ocrEngine) expire(p *ocrProcess) {
	o.pool.mu.Lock()
	for i, q := range o.pool.idle {
		if q == p {
			o.pool.idle = append(o.pool.idle[:i], o.pool.idle[i+1:]...)
			break
		}
	}
	o.pool.mu.Unlock()
	p.stop()
}

// close stops the idle processes; those reading an image are stopped when
// they are done.
func (o *ocrEngine) close() error {
	o.pool.mu.Lock()
	o.pool.closed = true
	var idle []*ocrProcess
	for _, p := range o.pool.idle {
		if p.idle.Stop() {
			idle = append(idle, p)
		}
	}
	o.pool.idle = nil
	o.pool.mu.Unlock()
	for _, p := range idle {
		p.stop()
	}
	return nil
}

// read has p read img and returns its text. The image and the blank page
// after it are written to files of their own, removed once read.
func (p *ocrProcess) read(ctx context.Context, img []byte) (string, error) {
	page, err := ocrTempFile("quire-ocr-*.img", img)
	if err != nil {
		p.stop()
		return "", err
	}
	defer os.Remove(page)
	blank, err := ocrTempFile("quire-ocr-*.pgm", ocrBlankPage)
	if err != nil {
		p.stop()
		return "", err
	}
	defer os.Remove(blank)
	if strings.ContainsAny(page+blank, "\r\n") {
		p.stop()
		return "", fmt.Errorf("%w: the directory's name %q holds a line break", errOCRFiles, os.TempDir())
	}
	kill := context.AfterFunc(ctx, func() { _ = p.cmd.Process.Kill() })
	defer kill()
	p.stderr.reset()
	if _, err := io.WriteString(p.stdin, page+"\n"+blank+"\n"); err != nil {
		return "", p.failed(err)
	}
	// What comes first is the text of the blank page before, then the
	// separator before this image.
	if _, err := p.out.ReadString('\f'); err != nil {
		return "", p.failed(err)
	}
	text, err := p.out.ReadString('\f')
	if err != nil {
		return "", p.failed(err)
	}
	p.images++
	return strings.TrimSuffix(text, "\f"), nil
}

// failed stops p after a read failed with err and returns the error with
// the cause tesseract gave.
func (p *ocrProcess) failed(err error) error {
	if werr := p.end(); werr != nil {
		err = werr
	}
	return fmt.Errorf("%w: tesseract: %v: %s", ErrCorrupt, err, ocrCause(p.stderr.String()))
}

// stop ends p, which has nothing to tell: a process read to its end, or
// one that failed and is replaced.
func (p *ocrProcess) stop() { _ = p.end() }

// end ends p: a process whose stdin closes finishes its list and exits.
// It returns the error the process ended with, if any.
func (p *ocrProcess) end() error {
	_ = p.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Second):
		_ = p.cmd.Process.Kill()
		return <-done
	}
}

// ocrStaleAfter is the age past which an image file left in the temporary
// directory is taken for one a killed process could not remove: a read
// lasts a document's time limit at most (Limits.Timeout, 2 minutes by
// default).
const ocrStaleAfter = time.Hour

// removeStaleOCRFiles removes the image files that processes killed while
// reading (kill -9, out of memory) left behind, so that a container whose
// process restarts does not fill its temporary volume.
func removeStaleOCRFiles() {
	for _, pattern := range []string{"quire-ocr-*.img", "quire-ocr-*.pgm"} {
		names, _ := filepath.Glob(filepath.Join(os.TempDir(), pattern))
		for _, name := range names {
			if fi, err := os.Lstat(name); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > ocrStaleAfter {
				_ = os.Remove(name)
			}
		}
	}
}

// ocrTempFile writes data to a new temporary file and returns its name.
func ocrTempFile(pattern string, data []byte) (string, error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errOCRFiles, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("%w: %w", errOCRFiles, err)
	}
	return f.Name(), nil
}

// ocrStderrTail keeps the last max bytes a process writes to stderr (a
// running one's since the image it reads now): the cause of a failure
// comes last, and a process that floods stderr cannot balloon this one.
type ocrStderrTail struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (b *ocrStderrTail) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *ocrStderrTail) reset() {
	b.mu.Lock()
	b.buf = b.buf[:0]
	b.mu.Unlock()
}

func (b *ocrStderrTail) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
