package extract

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gabriel-vasile/mimetype"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
)

// requireConverter skips a test without LibreOffice, or fails it when
// QUIRE_TEST_REQUIRE_SERVICES=1 (as in CI).
func requireConverter(t testing.TB) {
	t.Helper()
	path, err := LookupOfficeConverter("")
	if err == nil && path == "" {
		err = errors.New("soffice not found on PATH")
	}
	testenv.RequireService(t, "LibreOffice (apt-get install "+strings.ReplaceAll(converterPackages, ",", "")+")", err)
}

// longTailExtractor is one extractor with the converter on, shared by the
// corpus test's files so that they share its LibreOffice processes.
var longTailExtractor = sync.OnceValue(func() *Extractor {
	return New(Config{ConverterSlots: 2})
})

// TestLongTailCorpus converts every file of testdata/formats/longtail
// with LibreOffice and finds passages of its text.
func TestLongTailCorpus(t *testing.T) {
	t.Parallel()
	requireConverter(t)
	x := longTailExtractor()
	tests := []struct {
		file     string
		typ      string
		passages []string
		meta     map[string]string
		title    string
	}{
		{
			file: "hoover.wpd", typ: typeWordPerfect,
			passages: []string{"In accord with my constitutional duty", "Our country is at peace.", "Education and science have made further advances."},
			meta:     map[string]string{"format": "WordPerfect document", "converted_by": "LibreOffice"},
		},
		{
			file: "hoover.sxw", typ: typeStarWriter,
			passages: []string{"State of the Union, 1932", "Our country is at peace."},
			title:    "Hoover's 1932 address",
		},
		{
			file: "sotu.wk1", typ: typeLotus123,
			passages: []string{"George Washington", "1790", "1401", "Thomas Jefferson", "Democratic-Republican"},
			meta:     map[string]string{"format": "Lotus 1-2-3 worksheet", "sheets": "1"},
		},
		{
			file: "sotu.slk", typ: typeSYLK,
			passages: []string{"president", "John Adams", "1797", "James Madison"},
		},
		{
			file: "sotu.dif", typ: typeDIF,
			passages: []string{"George Washington", "Federalist", "James Madison"},
		},
		{
			file: "sotu.dbf", typ: typeDBF,
			passages: []string{"George Washington", "Federalist", "James Monroe"},
		},
		{
			file: "hoover.hwp", typ: typeHWP,
			passages: []string{"In accord with my constitutional duty", "Our country is at peace.", "The public health is to-day at its highest known level."},
			meta:     map[string]string{"format": "Hangul (HWP) document", "converted_by": "LibreOffice"},
			title:    "Hoover, 1932",
		},
		{
			file: "hoover.wps", typ: typeWorks,
			passages: []string{"In accord with my constitutional duty", "high devotion to public interest", "Reconstruction Finance Corporation"},
			meta:     map[string]string{"format": "Microsoft Works document", "converted_by": "LibreOffice"},
		},
		{
			file: "hoover.vsd", typ: typeVisio,
			passages: []string{"In accord with my constitutional duty", "maintained at a high state of effectiveness.", "Education and science have made further advances."},
			meta:     map[string]string{"format": "Microsoft Visio drawing", "converted_by": "LibreOffice", "pages": "1"},
		},
		{
			file: "hoover.pub", typ: typePublisher,
			passages: []string{"In accord with my constitutional duty", "high devotion to public interest", "The public health is to-day at its highest known level."},
			meta:     map[string]string{"format": "Microsoft Publisher document", "converted_by": "LibreOffice", "pages": "1"},
		},
		{
			// No preview: LibreOffice (libetonyek) reads it.
			file: "hoover.pages", typ: typePages,
			passages: []string{"In accord with my constitutional duty", "high devotion to public interest", "The public health is to-day at its highest known level."},
			meta:     map[string]string{"format": "Apple Pages document", "converted_by": "LibreOffice"},
		},
		{
			// No preview: LibreOffice (libetonyek) reads it.
			file: "hoover.key", typ: typeKeynote,
			passages: []string{"In accord with my constitutional duty", "Education and science have made further advances."},
			meta:     map[string]string{"format": "Apple Keynote presentation", "converted_by": "LibreOffice", "slides": "2"},
		},
		{
			// Read from its embedded PDF, without LibreOffice.
			file: "preview.pages", typ: typePages,
			passages: []string{"In accord with my constitutional duty", "Our country is at peace."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("..", "testdata", "formats", "longtail", tt.file))
			require.NoError(t, err)
			// The upload's name says nothing true: content decides.
			require.Equal(t, tt.typ, Detect("upload.bin", data))
			res, err := x.Extract(t.Context(), &Input{Name: "upload.bin", Data: data})
			require.NoError(t, err)
			require.Equal(t, tt.typ, res.Type)
			text := strings.Join(strings.Fields(res.Text), " ")
			for _, p := range tt.passages {
				require.Contains(t, text, p)
			}
			for k, v := range tt.meta {
				require.Equal(t, v, res.Meta[k], k)
			}
			if tt.title != "" {
				require.Equal(t, tt.title, res.Title)
			}
		})
	}
}

// TestLongTailWithoutConverter: with the converter off, every long-tail
// file but one carrying a preview fails naming its real type, which
// detection found from its content alone.
func TestLongTailWithoutConverter(t *testing.T) {
	t.Parallel()
	x := New(Config{OfficeConverter: ConverterOff})
	t.Cleanup(func() { _ = x.Close() })
	dir := filepath.Join("..", "testdata", "formats", "longtail")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Name() == "README.md" || e.Name() == "gen.go" || e.Name() == "preview.pages" {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			require.NoError(t, err)
			typ := Detect("upload.bin", data)
			spec, ok := longTail[typ]
			require.True(t, ok, "%s detected as %q", e.Name(), typ)
			_, err = x.Extract(t.Context(), &Input{Name: "upload.bin", Data: data})
			require.ErrorIs(t, err, ErrConverterUnavailable)
			require.Contains(t, err.Error(), spec.name+" ("+typ+")")
		})
	}
}

// TestConverterUnavailable: without the converter a long-tail document
// fails as unsupported, naming its type and what to install.
func TestConverterUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setting string
		want    []string
	}{
		{"off", ConverterOff, []string{"WordPerfect document (application/vnd.wordperfect)", "turned off", "--office-converter"}},
		{"missing", "/nonexistent/soffice", []string{"WordPerfect document (application/vnd.wordperfect)", "/nonexistent/soffice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x := New(Config{OfficeConverter: tt.setting})
			t.Cleanup(func() { _ = x.Close() })
			_, err := x.Extract(t.Context(), &Input{Data: wordPerfectDoc("Hello")})
			require.ErrorIs(t, err, ErrUnsupported)
			require.ErrorIs(t, err, ErrConverterUnavailable)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
	// Not installed, the reason says what to install.
	x := New(Config{})
	x.cfg.OfficeConverter = "" // as if PATH had none
	c := &converter{unavailable: fmt.Errorf("%w: install LibreOffice (%s) or set --office-converter", ErrConverterUnavailable, converterPackages)}
	x.state["office-converter"] = c
	_, err := x.Extract(t.Context(), &Input{Data: wordPerfectDoc("Hello")})
	require.ErrorContains(t, err, "install LibreOffice (libreoffice-writer-nogui")
	require.ErrorContains(t, err, "or set --office-converter")
}

// TestConverterBroken: a LibreOffice that exits as it starts is a broken
// install, which the reason names, and the document fails at once rather
// than being tried again against the same install. Once one of the pool's
// has started, an exit at start is a passing fault.
func TestConverterBroken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := filepath.Join(dir, "soffice")
	writeScript(t, script, []byte("#!/bin/sh\necho 'soffice.bin: error while loading shared libraries: libuno_sal.so.3' >&2\nexit 127\n"))
	x := New(Config{OfficeConverter: script, ConverterSlots: 1})
	t.Cleanup(func() { _ = x.Close() })
	_, err := x.Extract(t.Context(), &Input{Data: wordPerfectDoc("Hello")})
	require.ErrorIs(t, err, ErrUnsupported)
	require.ErrorIs(t, err, ErrConverterUnavailable)
	require.ErrorContains(t, err, "WordPerfect document (application/vnd.wordperfect)")
	require.ErrorContains(t, err, "exited at start: soffice.bin: error while loading shared libraries")

	c, err := x.converter()
	require.NoError(t, err)
	c.ready.Store(true)
	_, err = x.Extract(t.Context(), &Input{Data: wordPerfectDoc("Hello")})
	require.ErrorContains(t, err, "exited at start")
	require.NotErrorIs(t, err, ErrConverterUnavailable)
}

// TestConverterNotForNativeFormats: a format with a Go reader never
// reaches the converter.
func TestConverterNotForNativeFormats(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{typeDOC, typeXLS, typePPT, typeDOCX, typeXLSX, typePPTX, typeODT, typeODS, typeODP, typeRTF, "application/pdf", typeText} {
		f := lookupFormat(typ)
		require.NotNil(t, f, typ)
		require.NotEqual(t, "office-converter", f.name, typ)
	}
	for typ := range longTail {
		want := "office-converter"
		if typ == typeHWP {
			want = "hwp" // HWP 5 read natively, HWP 3 passed on (TestHWP)
		}
		require.Equal(t, want, lookupFormat(typ).name, typ)
	}
}

// fakeSoffice is a stand-in for soffice that plays both of its parts: run
// with a document to hold open, it marks it locked and waits; run with
// --convert-to, it copies its input (an ODT) to the output, or hangs when
// the input says HANG (odtOf stores it uncompressed). Every process it starts writes its pid to dir.
const fakeSoffice = `#!/bin/sh
dir=%q
echo $$ >> "$dir/pids"
conv=
for a in "$@"; do
  case "$a" in --convert-to) conv=1 ;; esac
  last="$a"
done
if [ -z "$conv" ]; then
  touch "$(dirname "$last")/.~lock.$(basename "$last")#"
  sleep 600 &
  echo $! >> "$dir/pids"
  wait
  exit 0
fi
while [ $# -gt 0 ]; do
  case "$1" in
    --outdir) out="$2"; shift ;;
    --convert-to) kind="$2"; shift ;;
  esac
  shift
done
if grep -q HANG "$last"; then
  sleep 600 &
  echo $! >> "$dir/pids"
  wait
fi
mkdir -p "$out"
cp "$last" "$out/document.$kind"
`

// TestConverterHang: a conversion that hangs is killed at the document's
// time limit, with every process LibreOffice started, and the document
// fails naming the limit; the next document converts on a new process.
func TestConverterHang(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := filepath.Join(dir, "soffice")
	writeScript(t, script, fmt.Appendf(nil, fakeSoffice, dir))
	x := New(Config{OfficeConverter: script, ConverterSlots: 1, Limits: Limits{Timeout: 2 * time.Second}})
	t.Cleanup(func() { _ = x.Close() })

	ok := &Input{Data: odtOf("Converted after the hang."), Type: typeWordPerfect}
	res, err := x.Extract(t.Context(), ok)
	require.NoError(t, err)
	require.Contains(t, res.Text, "Converted after the hang.")

	start := time.Now()
	_, err = x.Extract(t.Context(), &Input{Data: odtOf("HANG"), Type: typeWordPerfect})
	var limit *LimitError
	require.ErrorAs(t, err, &limit)
	require.Equal(t, "time", limit.Limit)
	require.ErrorContains(t, err, "document exceeds the time limit of 2s")
	require.Less(t, time.Since(start), 10*time.Second)

	// The slot is free again once the hung processes are gone, and all of
	// them go: the server, the command and what each started.
	res, err = x.Extract(t.Context(), ok)
	require.NoError(t, err)
	require.Contains(t, res.Text, "Converted after the hang.")
	pids, err := os.ReadFile(filepath.Join(dir, "pids"))
	require.NoError(t, err)
	fields := strings.Fields(string(pids))
	require.GreaterOrEqual(t, len(fields), 8, "two servers, three commands and their sleeps")
	c, err := x.converter()
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.Eventually(t, func() bool {
		for _, f := range fields {
			pid, _ := strconv.Atoi(f)
			if syscall.Kill(pid, 0) == nil && !isZombie(pid) {
				return false
			}
		}
		return true
	}, 5*time.Second, 20*time.Millisecond, "a converter process outlived its kill")
	_, err = os.Stat(c.dir)
	require.ErrorIs(t, err, os.ErrNotExist, "the private directory is removed")
}

// isZombie reports whether pid has exited and waits for its parent.
func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, rest, _ := bytes.Cut(b, []byte(") "))
	return len(rest) > 0 && rest[0] == 'Z'
}

// TestConverterRecycle: a LibreOffice is replaced after its share of
// documents, and a slot's LibreOffice that died is started again.
func TestConverterRecycle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := filepath.Join(dir, "soffice")
	writeScript(t, script, fmt.Appendf(nil, fakeSoffice, dir))
	x := New(Config{OfficeConverter: script, ConverterSlots: 1})
	t.Cleanup(func() { _ = x.Close() })
	c, err := x.converter()
	require.NoError(t, err)
	c.recycle = 2
	in := &Input{Data: odtOf("Recycled."), Type: typeWordPerfect}
	servers := func() int {
		n := 0
		for _, s := range c.all {
			s.mu.Lock()
			if s.server != nil {
				n++
			}
			s.mu.Unlock()
		}
		return n
	}
	for i := range 5 {
		res, err := x.Extract(t.Context(), in)
		require.NoError(t, err, "document %d", i)
		require.Contains(t, res.Text, "Recycled.")
		require.Equal(t, (i+1)%2, servers(), "after document %d", i)
	}
	// Killed from outside between two documents.
	c.recycle = converterRecycle
	_, err = x.Extract(t.Context(), in)
	require.NoError(t, err)
	s := c.all[0]
	s.mu.Lock()
	killProcessGroup(s.server)
	exited := s.exited
	s.mu.Unlock()
	<-exited
	res, err := x.Extract(t.Context(), in)
	require.NoError(t, err)
	require.Contains(t, res.Text, "Recycled.")
}

// TestConverterFailure: a document LibreOffice cannot read fails as
// corrupt, with what LibreOffice said.
func TestConverterFailure(t *testing.T) {
	t.Parallel()
	requireConverter(t)
	x := longTailExtractor()
	junk := append([]byte("\xFFWPC\x10\x00\x00\x00\x01\x0a\x02\x00\x00\x00\x00\x00"), bytes.Repeat([]byte{0xFE, 0x01}, 200)...)
	res, err := x.Extract(t.Context(), &Input{Data: junk, Type: typeWordPerfect})
	if err == nil {
		// LibreOffice reads some junk as an empty document; that is a
		// fine outcome too, as long as it is not an error of ours.
		require.Equal(t, typeWordPerfect, res.Type)
		return
	}
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "WordPerfect document")
}

// TestDetectLongTail names each format by its content, and nothing else.
func TestDetectLongTail(t *testing.T) {
	t.Parallel()
	zipOf := func(entries ...string) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		for i := 0; i < len(entries); i += 2 {
			w, err := zw.Create(entries[i])
			require.NoError(t, err)
			_, err = w.Write([]byte(entries[i+1]))
			require.NoError(t, err)
		}
		require.NoError(t, zw.Close())
		return b.Bytes()
	}
	tests := []struct {
		name string
		file string
		data []byte
		want string
	}{
		{"WordPerfect", "", wordPerfectDoc("x"), typeWordPerfect},
		{"WordPerfect graphic", "", []byte("\xFFWPC\x10\x00\x00\x00\x01\x16\x01\x00\x00\x00\x00\x00"), ""},
		{"Lotus WK1", "", []byte{0, 0, 2, 0, 6, 4, 6, 0, 8, 0}, typeLotus123},
		{"Lotus WKS", "", []byte{0, 0, 2, 0, 4, 4, 6, 0, 8, 0}, typeLotus123},
		{"Lotus WK4", "", append([]byte{0, 0, 0x1A, 0, 2, 0x10, 4, 0}, make([]byte, 24)...), typeLotus123},
		{"not Lotus", "", []byte{0, 0, 2, 0, 9, 9, 6, 0}, ""},
		{"SYLK", "", []byte("ID;PWXL;N;E\r\nC;Y1;X1;K\"a\"\r\nE\r\n"), typeSYLK},
		{"DIF", "", []byte("TABLE\r\n0,1\r\n\"\"\r\n"), typeDIF},
		{"DIF LF", "", []byte("TABLE\n0,1\n\"\"\n"), typeDIF},
		{"HWP 3", "", []byte("HWP Document File V3.00 \x1a\x01\x02\x03\x04\x05"), typeHWP},
		{"prose", "", []byte("ID;P is how SYLK starts, and TABLE\n0,1 is DIF's."), ""},
		{"StarOffice Writer", "", zipOf("mimetype", typeStarWriter, "content.xml", "<x/>"), typeStarWriter},
		{"StarOffice Impress", "", zipOf("mimetype", typeStarImpress), typeStarImpress},
		{"VSDX", "", zipOf("[Content_Types].xml", "<x/>", "visio/document.xml", "<x/>"), typeVSDX},
		{"Keynote '09", "", zipOf("index.apxl", "<x/>"), typeKeynote},
		{"Pages '09", "", zipOf("index.xml", "<x/>"), typePages},
		{"Numbers by name", "budget.numbers", zipOf("Index/Document.iwa", "x"), typeNumbers},
		{"Numbers by content", "", zipOf("Index/Document.iwa", "x", "Index/CalculationEngine.iwa", "x"), typeNumbers},
		{"Keynote by content", "", zipOf("Index/Document.iwa", "x", "Index/Slide-1.iwa", "x"), typeKeynote},
		{"ODT", "", zipOf("mimetype", typeODT), ""},
		{"plain ZIP", "", zipOf("a.txt", "a"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, DetectLongTail(tt.file, tt.data, mimetype.Detect(tt.data).String()))
		})
	}
}

// FuzzDetectLongTail: detection never panics, and what it names is a type
// the converter reads.
func FuzzDetectLongTail(f *testing.F) {
	f.Add([]byte("ID;PWXL\r\n"))
	f.Add([]byte("TABLE\r\n0,1\r\n"))
	f.Add(wordPerfectDoc("x"))
	f.Add([]byte{0, 0, 2, 0, 6, 4, 6, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		typ := DetectLongTail("", data, mimetype.Detect(data).String())
		if typ != "" && longTail[typ].name == "" {
			t.Fatalf("DetectLongTail named %q, which the converter does not read", typ)
		}
	})
}

// BenchmarkConverter converts a small WordPerfect document, through the
// extractor (long-lived LibreOffice processes, one per slot), and as one
// LibreOffice started per document for comparison. Each b.Run reports
// documents/s.
func BenchmarkConverter(b *testing.B) {
	requireConverter(b)
	data, err := os.ReadFile(filepath.Join("..", "testdata", "formats", "longtail", "hoover.wpd"))
	require.NoError(b, err)
	for _, slots := range []int{1, 2} {
		b.Run(fmt.Sprintf("pool/slots=%d", slots), func(b *testing.B) {
			x := New(Config{ConverterSlots: slots})
			defer x.Close()
			in := &Input{Data: data, Type: typeWordPerfect}
			// Start the slots' processes outside the timing.
			for range 2 * slots {
				_, err := x.Extract(context.Background(), in)
				require.NoError(b, err)
			}
			c, err := x.converter()
			require.NoError(b, err)
			cpu0, cmd0 := converterCPU(c), c.commandCPU.Load()
			b.ReportAllocs()
			b.ResetTimer()
			b.SetParallelism(slots) // with GOMAXPROCS 2: 2×slots goroutines
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := x.Extract(context.Background(), in); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
			if cpu0 >= 0 {
				b.ReportMetric((converterCPU(c)-cpu0).Seconds()*1000/float64(b.N), "LibreOffice-cpu-ms/doc")
			}
			b.ReportMetric(float64(c.commandCPU.Load()-cmd0)/1e6/float64(b.N), "command-cpu-ms/doc")
		})
	}
	b.Run("process-per-document", func(b *testing.B) {
		path, _ := LookupOfficeConverter("")
		dir := b.TempDir()
		profile := "file://" + filepath.Join(dir, "profile")
		in := filepath.Join(dir, "document.wpd")
		require.NoError(b, os.WriteFile(in, data, 0o600))
		var cpu time.Duration
		run := func() {
			cmd := exec.Command(path, "-env:UserInstallation="+profile, "--headless", "--norestore", "--nologo",
				"--convert-to", "odt", "--outdir", filepath.Join(dir, "out"), in)
			out, err := cmd.CombinedOutput()
			require.NoError(b, err, "%s", out)
			// oosplash waits for soffice.bin: its usage counts both.
			cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		run() // the warm profile
		cpu = 0
		b.ResetTimer()
		for range b.N {
			run()
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
		b.ReportMetric(cpu.Seconds()*1000/float64(b.N), "LibreOffice-cpu-ms/doc")
	})
}

// wordPerfectDoc is a WordPerfect 5.1 document of one paragraph.
func wordPerfectDoc(text string) []byte {
	return append([]byte("\xFFWPC\x10\x00\x00\x00\x01\x0a\x00\x01\x00\x00\x00\x00"), text+"\n"...)
}

// odtOf is an OpenDocument text of one paragraph.
func odtOf(text string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("mimetype")
	_, _ = w.Write([]byte(typeODT))
	w, _ = zw.CreateHeader(&zip.FileHeader{Name: "content.xml", Method: zip.Store})
	_, _ = fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">
<office:body><office:text><text:p>%s</text:p></office:text></office:body></office:document-content>`, text)
	_ = zw.Close()
	return b.Bytes()
}

// TestConverterOrphans: when the process that started them dies, even
// killed, its LibreOffice processes die too.
func TestConverterOrphans(t *testing.T) {
	if dir := os.Getenv("QUIRE_TEST_CONVERTER_CHILD"); dir != "" {
		x := New(Config{OfficeConverter: filepath.Join(dir, "soffice"), ConverterSlots: 1})
		if _, err := x.Extract(context.Background(), &Input{Data: odtOf("Orphan."), Type: typeWordPerfect}); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("ready")
		select {}
	}
	t.Parallel()
	dir := t.TempDir()
	writeScript(t, filepath.Join(dir, "soffice"), fmt.Appendf(nil, fakeSoffice, dir))
	cmd := exec.Command(os.Args[0], "-test.run=^TestConverterOrphans$")
	cmd.Env = append(os.Environ(), "QUIRE_TEST_CONVERTER_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	pids, err := os.ReadFile(filepath.Join(dir, "pids"))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		for _, f := range strings.Fields(string(pids)) {
			pid, _ := strconv.Atoi(f)
			if syscall.Kill(pid, 0) == nil && !isZombie(pid) {
				return false
			}
		}
		return true
	}, 5*time.Second, 20*time.Millisecond, "a converter process outlived Quire")
}

// converterCPU is the CPU time the converter's LibreOffice processes have
// used (every process of the slots' process groups), from /proc; -1
// without it.
func converterCPU(c *converter) time.Duration {
	groups := map[int]bool{}
	for _, s := range c.all {
		s.mu.Lock()
		if s.server != nil {
			groups[s.server.Process.Pid] = true
		}
		s.mu.Unlock()
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return -1
	}
	var ticks int64
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		_, rest, ok := bytes.Cut(b, []byte(") "))
		f := strings.Fields(string(rest))
		if !ok || len(f) < 13 {
			continue
		}
		// After the command: state, ppid, pgrp, …, utime (14th field of
		// the line, 12th here), stime.
		pgrp, _ := strconv.Atoi(f[2])
		if !groups[pgrp] {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + s
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}
