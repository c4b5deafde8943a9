package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The office converter reads the long tail: formats Quire has no Go reader
// for and LibreOffice imports (WordPerfect, Works, Publisher, Visio, Lotus
// 1-2-3, HWP, SYLK, DIF, dBase, StarOffice, iWork). LibreOffice converts the
// document to OpenDocument, which the ODF reader (office.go) reads through
// the document's budget like any other. Formats with a Go reader never come
// here: only the types below are registered to the converter.
//
// Why long-lived processes. A LibreOffice started for one conversion costs
// about 4.5 s of CPU (2.3 s user, 2.1 s system) and 220 MB even with a
// warm profile: docs/benchmarks.md has the numbers. Each slot therefore keeps
// one LibreOffice running, with a profile of its own and a small text
// document held open (without an open document, LibreOffice quits after
// the first conversion it is handed). A conversion runs `soffice
// --convert-to` with the slot's profile: LibreOffice's own single-instance
// pipe hands the request to the slot's process and waits for it to finish,
// so the command costs 0.06 s of CPU and the conversion itself what it
// costs. There is no UNO bridge in Go, and this needs none (no Python).
//
// Kill on hang. A slot converts one document at a time. When the
// document's time is up (Limits.Timeout) the command and the slot's
// LibreOffice are killed, each with its whole process group, and the
// slot's next document starts a new LibreOffice on the same, warm profile.
// A LibreOffice is also replaced after converterRecycle documents, so that
// what it leaks is bounded.
//
// Nothing the upload says is trusted: the file handed to LibreOffice is
// named "document" with the extension of its detected type, in a directory
// of its own (0700) under the extractor's private directory, removed after
// the conversion; the profile sets macro security to its highest and
// blocks links to remote content.

// ErrConverterUnavailable means the document needs the office converter and
// none is installed or it is turned off. It comes wrapped with
// ErrUnsupported, which names the document's type.
var ErrConverterUnavailable = errors.New("office converter not available")

// ConverterOff as Config.OfficeConverter turns the converter off.
const ConverterOff = "off"

// ConverterSlotsDefault is the default of Config.ConverterSlots: two, so
// that one document hanging until its timeout does not hold up the others,
// while the memory stays small (each slot's LibreOffice holds 150 to
// 250 MB).
const ConverterSlotsDefault = 2

// converterPackages are the Debian packages of the converter, for the
// reason a document fails when it is missing.
const converterPackages = "libreoffice-writer-nogui, libreoffice-calc-nogui, libreoffice-impress-nogui, libreoffice-draw-nogui"

const (
	// converterRecycle is how many documents a LibreOffice converts
	// before it is replaced.
	converterRecycle = 200
	// converterOutputMax bounds the OpenDocument file read back when
	// Limits.MaxDecompressed sets no bound.
	converterOutputMax = 1 << 30
)

// convertSpec is how one long-tail type is converted.
type convertSpec struct {
	// name is the type's name for people: "WordPerfect document".
	name string
	// ext is the extension of the file handed to LibreOffice, whose type
	// detection goes by it for the text formats (SYLK, DIF).
	ext string
	// outs are the OpenDocument kinds to convert to, tried in order:
	// LibreOffice exports a text document to odt only, a spreadsheet to
	// ods, and so on, and a Works or iWork file may be either.
	outs []string
}

// longTail are the types the converter reads.
var longTail = map[string]convertSpec{
	typeWordPerfect: {"WordPerfect document", ".wpd", []string{"odt"}},
	typeWorks:       {"Microsoft Works document", ".wps", []string{"odt", "ods"}},
	typePublisher:   {"Microsoft Publisher document", ".pub", []string{"odg"}},
	typeVisio:       {"Microsoft Visio drawing", ".vsd", []string{"odg"}},
	typeVSDX:        {"Microsoft Visio drawing", ".vsdx", []string{"odg"}},
	typeVSDXMain:    {"Microsoft Visio drawing", ".vsdx", []string{"odg"}},
	typeLotus123:    {"Lotus 1-2-3 worksheet", ".wk1", []string{"ods"}},
	typeHWP:         {"Hangul (HWP) document", ".hwp", []string{"odt"}},
	typeSYLK:        {"SYLK spreadsheet", ".slk", []string{"ods"}},
	typeDIF:         {"DIF spreadsheet", ".dif", []string{"ods"}},
	typeDBF:         {"dBase table", ".dbf", []string{"ods"}},
	typeStarWriter:  {"StarOffice Writer document", ".sxw", []string{"odt"}},
	typeStarCalc:    {"StarOffice Calc spreadsheet", ".sxc", []string{"ods"}},
	typeStarImpress: {"StarOffice Impress presentation", ".sxi", []string{"odp"}},
	typeStarDraw:    {"StarOffice Draw drawing", ".sxd", []string{"odg"}},
	typeKeynote:     {"Apple Keynote presentation", ".key", []string{"odp", "odt", "ods"}},
	typePages:       {"Apple Pages document", ".pages", []string{"odt", "odp", "ods"}},
	typeNumbers:     {"Apple Numbers spreadsheet", ".numbers", []string{"ods", "odt", "odp"}},
}

// odfOutputTypes are the types the ODF reader reads each output as: a
// drawing's pages are a presentation's slides.
var odfOutputTypes = map[string]string{"odt": typeODT, "ods": typeODS, "odp": typeODP, "odg": typeODP}

func init() {
	types := make([]string, 0, len(longTail))
	for t := range longTail {
		if t != typeHWP { // hwp.go's, which passes HWP 3 on
			types = append(types, t)
		}
	}
	sort.Strings(types)
	register(&format{name: "office-converter", types: types, extract: extractConverted})
}

// LookupOfficeConverter resolves Config.OfficeConverter: the command to
// run, or "" when the converter is off or, unset, not installed. A command
// that was named and is not found is an error.
func LookupOfficeConverter(setting string) (string, error) {
	switch setting {
	case ConverterOff:
		return "", nil
	case "":
		for _, name := range []string{"soffice", "libreoffice"} {
			if p, err := exec.LookPath(name); err == nil {
				return p, nil
			}
		}
		return "", nil
	}
	p, err := exec.LookPath(setting)
	if err != nil {
		return "", fmt.Errorf("office converter %q: %w", setting, err)
	}
	return p, nil
}

func extractConverted(ctx context.Context, x *Extractor, in *Input, b *budget) (*Result, error) {
	spec, ok := longTail[in.Type]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnsupported, in.Type)
	}
	var preview []byte
	switch in.Type {
	case typeKeynote, typePages, typeNumbers:
		// An iWork file may carry a PDF of itself, which the PDF reader
		// reads without starting LibreOffice.
		var err error
		if preview, err = iworkPreview(in.Data, b.lim); err != nil {
			return nil, err
		}
		if preview != nil {
			if res, err := readIWorkPreview(ctx, x, in, preview, b, spec); err == nil {
				return res, nil
			}
		}
	}
	c, err := x.converter()
	if err != nil {
		return nil, fmt.Errorf("%w: %s (%s): %w", ErrUnsupported, spec.name, in.Type, err)
	}
	odf, out, err := c.convert(ctx, spec, in.Data, b.lim)
	if errors.Is(err, ErrConverterUnavailable) {
		return nil, fmt.Errorf("%w: %s (%s): %w", ErrUnsupported, spec.name, in.Type, err)
	}
	if err != nil {
		return nil, err
	}
	in2 := &Input{Name: "document." + out, Data: odf, Type: odfOutputTypes[out]}
	res, err := extractODF(ctx, x, in2, b)
	if err != nil {
		return nil, fmt.Errorf("read LibreOffice's conversion of the %s: %w", spec.name, err)
	}
	res.Type = in.Type
	if res.Meta == nil {
		res.Meta = map[string]string{}
	}
	res.Meta["format"] = spec.name
	res.Meta["converted_by"] = "LibreOffice"
	if out == "odg" {
		// A drawing has pages, not slides.
		if n, ok := res.Meta["slides"]; ok {
			delete(res.Meta, "slides")
			res.Meta["pages"] = n
		}
	}
	return res, nil
}

// iworkPreview returns the PDF an iWork file carries of itself
// (QuickLook/Preview.pdf), nil when it has none.
func iworkPreview(data []byte, lim Limits) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, nil // LibreOffice will say what is wrong with it
	}
	for _, f := range zr.File {
		if f.Name != "QuickLook/Preview.pdf" && f.Name != "preview.pdf" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, nil
		}
		defer rc.Close()
		max := lim.MaxDecompressed
		if max < 0 {
			max = converterOutputMax
		}
		pdf, err := io.ReadAll(io.LimitReader(rc, max+1))
		if err != nil {
			return nil, nil
		}
		if int64(len(pdf)) > max {
			return nil, &LimitError{Limit: "decompressed size", Max: max}
		}
		return pdf, nil
	}
	return nil, nil
}

func readIWorkPreview(ctx context.Context, x *Extractor, in *Input, pdf []byte, b *budget, spec convertSpec) (*Result, error) {
	f := lookupFormat("application/pdf")
	if f == nil {
		return nil, ErrUnsupported
	}
	res, err := f.extract(ctx, x, &Input{Name: "Preview.pdf", Data: pdf, Type: "application/pdf"}, b)
	if err != nil {
		return nil, err
	}
	res.Type = in.Type
	if res.Meta == nil {
		res.Meta = map[string]string{}
	}
	res.Meta["format"] = spec.name
	res.Warnings = append(res.Warnings, "text read from the document's embedded preview (QuickLook/Preview.pdf)")
	return res, nil
}

// converter returns the extractor's converter, started on first use, or
// why there is none (wrapping ErrConverterUnavailable).
func (x *Extractor) converter() (*converter, error) {
	e, err := x.engine("office-converter", func() (any, func() error, error) {
		path, err := LookupOfficeConverter(x.cfg.OfficeConverter)
		if err != nil || path == "" {
			why := fmt.Errorf("%w: install LibreOffice (%s) or set --office-converter", ErrConverterUnavailable, converterPackages)
			switch {
			case err != nil:
				why = fmt.Errorf("%w: %v", ErrConverterUnavailable, err)
			case x.cfg.OfficeConverter == ConverterOff:
				why = fmt.Errorf("%w: turned off (--office-converter=off)", ErrConverterUnavailable)
			}
			return &converter{unavailable: why}, nil, nil
		}
		c, err := newConverter(path, x.cfg.ConverterSlots)
		if err != nil {
			return nil, nil, err
		}
		return c, c.Close, nil
	})
	if err != nil {
		return nil, err
	}
	c := e.(*converter)
	if c.unavailable != nil {
		return nil, c.unavailable
	}
	return c, nil
}

// converter is a pool of LibreOffice processes, one per slot.
type converter struct {
	// unavailable says why there is no converter; the other fields are
	// then unset.
	unavailable error

	path  string
	dir   string // private (0700): the slots' profiles and documents
	slots chan *converterSlot
	all   []*converterSlot
	// recycle is converterRecycle, lowered by tests.
	recycle int
	// commandCPU is the CPU time the conversion commands used (which
	// hand each document to a slot's LibreOffice), for the benchmark.
	commandCPU atomic.Int64
	// ready is set once a LibreOffice of the pool has started: until
	// then, one that exits at start is taken for a broken install, not a
	// passing fault.
	ready atomic.Bool

	closeOnce sync.Once
}

func newConverter(path string, n int) (*converter, error) {
	if n <= 0 {
		n = ConverterSlotsDefault
	}
	dir, err := os.MkdirTemp("", "quire-convert-")
	if err != nil {
		return nil, fmt.Errorf("office converter: %w", err)
	}
	c := &converter{path: path, dir: dir, slots: make(chan *converterSlot, n), recycle: converterRecycle}
	for i := range n {
		s, err := c.newSlot(i)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		c.all = append(c.all, s)
		c.slots <- s
	}
	return c, nil
}

// Close stops every slot's LibreOffice and removes the private directory.
// A conversion still running fails.
func (c *converter) Close() error {
	c.closeOnce.Do(func() {
		for _, s := range c.all {
			s.stop()
		}
		os.RemoveAll(c.dir)
	})
	return nil
}

// convert converts data, of the type spec describes, to OpenDocument: the
// file and its kind ("odt"). It waits for a free slot, as long as ctx
// allows.
func (c *converter) convert(ctx context.Context, spec convertSpec, data []byte, lim Limits) ([]byte, string, error) {
	var s *converterSlot
	select {
	case s = <-c.slots:
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
	defer func() { c.slots <- s }()
	var err error
	for _, out := range spec.outs {
		var odf []byte
		odf, err = s.convert(ctx, spec, data, out, lim)
		if errors.Is(err, errNoExportFilter) {
			continue // another application opened it: try its kind
		}
		return odf, out, err
	}
	return nil, "", fmt.Errorf("%w: LibreOffice could not convert the %s to OpenDocument", ErrCorrupt, spec.name)
}

// errNoExportFilter: LibreOffice opened the document in an application
// that cannot save the kind asked for (a spreadsheet asked for odt).
var errNoExportFilter = errors.New("no export filter")

// converterSlot is one LibreOffice and its private directory: profile/,
// the document it holds open, and one directory per conversion. A slot
// is used by one conversion at a time (it is taken from converter.slots),
// and stopped by Close from another goroutine: mu guards the process.
type converterSlot struct {
	c       *converter
	dir     string
	profile string // the profile's file URL
	keep    string // the document held open

	mu     sync.Mutex
	server *exec.Cmd     // nil when not running
	exited chan struct{} // closed when server has exited
	out    *tailBuffer   // what the server writes; it reports each conversion there
	uses   int           // documents converted by this server
}

func (c *converter) newSlot(i int) (*converterSlot, error) {
	dir := filepath.Join(c.dir, fmt.Sprintf("slot-%d", i))
	if err := os.MkdirAll(filepath.Join(dir, "profile"), 0o700); err != nil {
		return nil, fmt.Errorf("office converter: %w", err)
	}
	if err := writeProfileSettings(filepath.Join(dir, "profile")); err != nil {
		return nil, fmt.Errorf("office converter: %w", err)
	}
	keep := filepath.Join(dir, "keep.txt")
	if err := os.WriteFile(keep, []byte("Quire keeps this document open.\n"), 0o600); err != nil {
		return nil, fmt.Errorf("office converter: %w", err)
	}
	u := url.URL{Scheme: "file", Path: filepath.Join(dir, "profile")}
	return &converterSlot{c: c, dir: dir, profile: u.String(), keep: keep}, nil
}

// profileSettings harden every slot's profile: macros never run, links to
// remote content (images, data sources) are not followed, and formulas are
// not recalculated on load (a WEBSERVICE call).
const profileSettings = `<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>1</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>1</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Save/Document"><prop oor:name="GenerateThumbnail" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
`

func writeProfileSettings(profile string) error {
	user := filepath.Join(profile, "user")
	if err := os.MkdirAll(user, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(user, "registrymodifications.xcu"), []byte(profileSettings), 0o600)
}

// convert converts data to OpenDocument of kind out on this slot.
func (s *converterSlot) convert(ctx context.Context, spec convertSpec, data []byte, out string, lim Limits) ([]byte, error) {
	exited, err := s.start(ctx)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(s.dir, "work-")
	if err != nil {
		return nil, fmt.Errorf("office converter: %w", err)
	}
	defer os.RemoveAll(work)
	in := filepath.Join(work, "document"+spec.ext)
	if err := os.WriteFile(in, data, 0o600); err != nil {
		return nil, fmt.Errorf("office converter: %w", err)
	}
	outDir := filepath.Join(work, "out")
	mark := s.out.mark()
	cmd := exec.Command(s.c.path, "-env:UserInstallation="+s.profile, "--headless", "--invisible",
		"--norestore", "--nologo", "--convert-to", out, "--outdir", outDir, in)
	cmd.Dir = work
	var clientOut tailBuffer
	cmd.Stdout, cmd.Stderr = &clientOut, &clientOut
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("office converter: %w", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		// A conversion past its time: the slot's LibreOffice is the one
		// stuck in it. Kill both; the slot's next document starts a new
		// one.
		killProcessGroup(cmd)
		s.stop()
		<-done
		return nil, ctx.Err()
	}
	if ps := cmd.ProcessState; ps != nil {
		s.c.commandCPU.Add(int64(ps.UserTime() + ps.SystemTime()))
	}
	s.mu.Lock()
	s.uses++
	recycle := s.uses >= s.c.recycle
	s.mu.Unlock()
	select {
	case <-exited:
		s.stop()
		return nil, fmt.Errorf("%w: LibreOffice exited while converting the %s: %s", ErrCorrupt, spec.name, lastLines(s.out.since(mark)))
	default:
	}
	if recycle {
		defer s.stop()
	}
	odf, err := readConverted(filepath.Join(outDir, "document."+out), lim)
	if errors.Is(err, os.ErrNotExist) {
		report := s.out.since(mark) + clientOut.since(0)
		if strings.Contains(report, "no export filter") {
			return nil, errNoExportFilter
		}
		return nil, fmt.Errorf("%w: LibreOffice could not read the %s: %s", ErrCorrupt, spec.name, lastLines(report))
	}
	return odf, err
}

// readConverted reads LibreOffice's output, no larger than
// Limits.MaxDecompressed.
func readConverted(path string, lim Limits) ([]byte, error) {
	max := lim.MaxDecompressed
	if max < 0 {
		max = converterOutputMax
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > max {
		return nil, &LimitError{Limit: "decompressed size", Max: max, Got: fi.Size()}
	}
	return os.ReadFile(path)
}

// start starts the slot's LibreOffice unless it is running, and returns
// the channel closed when it exits. LibreOffice is ready for conversions
// once it holds its document open, which it marks with a lock file next
// to it.
func (s *converterSlot) start(ctx context.Context) (<-chan struct{}, error) {
	s.mu.Lock()
	if s.server != nil {
		select {
		case <-s.exited:
			s.server = nil // died between documents: start another
		default:
			exited := s.exited
			s.mu.Unlock()
			return exited, nil
		}
	}
	// A LibreOffice killed leaves its locks behind.
	lock := filepath.Join(s.dir, ".~lock.keep.txt#")
	os.Remove(lock)
	os.Remove(filepath.Join(s.dir, "profile", ".lock"))
	s.out = &tailBuffer{}
	cmd := exec.Command("/bin/sh", "-c", serverWatchdog, s.c.path, "-env:UserInstallation="+s.profile,
		"--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck", s.keep)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = s.out, s.out
	setProcessGroup(cmd)
	// The watchdog's stdin: its write end closes when this process
	// exits, however it exits.
	lifeline, err := cmd.StdinPipe()
	if err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("office converter: %w", err)
	}
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("office converter: start %s: %w", s.c.path, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		lifeline.Close()
		close(exited)
	}()
	s.server, s.exited, s.uses = cmd, exited, 0
	s.mu.Unlock()

	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(lock); err == nil {
			s.c.ready.Store(true)
			return exited, nil
		}
		select {
		case <-tick.C:
		case <-exited:
			s.stop()
			err := fmt.Errorf("office converter: %s exited at start: %s", s.c.path, lastLines(s.out.since(0)))
			if !s.c.ready.Load() {
				// No LibreOffice of this pool has ever started: retrying
				// the document would meet the same install.
				err = fmt.Errorf("%w: %w", ErrConverterUnavailable, err)
			}
			return nil, err
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		}
	}
}

// serverWatchdog runs a slot's LibreOffice ("$0" "$@") in the
// background and ends the process group (the shell, oosplash, soffice.bin)
// when either LibreOffice exits or the shell's stdin, a pipe from this
// process, reads end of file: when Quire exits, even killed, its
// LibreOffice processes go with it.
const serverWatchdog = `exec 3<&0
"$0" "$@" </dev/null 3<&- &
pid=$!
{ read -r _ <&3; kill -KILL 0; } &
wait "$pid"
kill -KILL 0`

// stop kills the slot's LibreOffice, with its process group, and waits
// for it.
func (s *converterSlot) stop() {
	s.mu.Lock()
	cmd, exited := s.server, s.exited
	s.server = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	killProcessGroup(cmd)
	<-exited
}

// lastLines returns the last few lines of a LibreOffice report, on one
// line, for a failure's reason.
func lastLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	var keep []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		// Every start warns of this, which says nothing of the document.
		if l == "" || strings.Contains(l, "javaldx") {
			continue
		}
		keep = append(keep, l)
	}
	if len(keep) > 3 {
		keep = keep[len(keep)-3:]
	}
	if len(keep) == 0 {
		return "no output"
	}
	return strings.Join(keep, "; ")
}

// tailBuffer keeps the last tailBufferMax bytes written to it, and counts
// them all, so that a reader can ask for what was written since a mark.
type tailBuffer struct {
	mu    sync.Mutex
	buf   []byte
	total int64
}

const tailBufferMax = 8 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total += int64(len(p))
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailBufferMax {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailBufferMax:]...)
	}
	return len(p), nil
}

// mark returns the count of bytes written so far.
func (t *tailBuffer) mark() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.total
}

// since returns what was written after mark, as much of it as is kept.
func (t *tailBuffer) since(mark int64) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := min(t.total-mark, int64(len(t.buf)))
	return string(t.buf[int64(len(t.buf))-n:])
}
