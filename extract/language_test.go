package extract

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
)

// deuPNGWords are words of testdata/ocr/deu.png (testdata/ocr/gen.go draws
// it) that English OCR cannot spell.
var deuPNGWords = []string{"Größe", "Übersetzung", "geprüft", "Straßen", "Brücken", "Bäume"}

// requireTesseractGerman is requireTesseract for tesseract's German data as
// well: the test skips without it, and fails under
// QUIRE_TEST_REQUIRE_SERVICES=1.
func requireTesseractGerman(t testing.TB) {
	t.Helper()
	requireTesseract(t)
	testenv.RequireService(t, "tesseract's German data (apt-get install tesseract-ocr-deu)", newOCREngine("", "deu").err)
}

func TestGuessLanguage(t *testing.T) {
	t.Parallel()
	const (
		english = "The committee approved the budget for the next year, and the board is satisfied with the results that were presented."
		german  = "Die Zahlen sind gut, und das Team ist mit dem Ergebnis zufrieden. Der Vorstand wird die Arbeit auf der Sitzung vorstellen."
		french  = "Le conseil a approuvé le budget de l'année et les résultats sont présentés dans le rapport qui est sur la table."
		spanish = "El consejo aprobó el presupuesto del año y los resultados se presentan en el informe que está en la mesa, como siempre."
		russian = "Совет утвердил бюджет на следующий год, и это решение было принято на заседании, как и все решения по плану."
		greek   = "Το συμβούλιο ενέκρινε τον προϋπολογισμό για το επόμενο έτος."
	)
	all := []string{"eng", "deu", "fra", "spa", "rus", "ell"}
	tests := []struct {
		name  string
		text  string
		among []string
		want  string
	}{
		{"english", english, all, "eng"},
		{"german", german, all, "deu"},
		{"french", french, all, "fra"},
		{"spanish", spanish, all, "spa"},
		{"russian", russian, all, "rus"},
		{"greek by its script", greek, all, "ell"},
		{"german among others", german, []string{"eng", "fra"}, ""},
		{"too short", "Die Größe", all, ""},
		{"no text", "", all, ""},
		{"numbers", "4711 0815 2024-01-15 12:30", all, ""},
		{"nothing to choose from", english, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, guessLanguage(tt.text, tt.among))
		})
	}
}

// TestOCRGerman reads testdata/ocr/deu.png in German, in the languages
// installed (English and German at least), and in English only: only the
// first two spell its umlauts and ß.
func TestOCRGerman(t *testing.T) {
	t.Parallel()
	requireTesseractGerman(t)
	data := testdataFile(t, "ocr/deu.png")

	for _, langs := range []string{"deu", ""} {
		res, err := extractImageData(New(Config{OCRLanguages: langs}), "image/png", data)
		require.NoError(t, err, "languages %q", langs)
		for _, w := range deuPNGWords {
			require.Contains(t, res.Text, w, "languages %q", langs)
		}
	}

	res, err := extractImageData(New(Config{OCRLanguages: "eng"}), "image/png", data)
	require.NoError(t, err)
	require.Equal(t, "eng", res.Meta[ocrLanguagesMeta])
	require.Contains(t, res.Text, "Quire liest", "English reads the letters English has")
	for _, w := range []string{"Größe", "Übersetzung", "Straßen"} {
		require.NotContains(t, res.Text, w)
	}
}

// TestOCRLanguageOfParent reads testdata/ocr/deu.png as the attachment of
// a German text (Input.Language "deu", as TextLanguage tells it): in German
// alone; as one of an English text, in English alone; with a language OCR
// does not read, in every language installed.
func TestOCRLanguageOfParent(t *testing.T) {
	t.Parallel()
	requireTesseractGerman(t)
	x := New(Config{OCRLanguages: "eng+deu"})
	data := testdataFile(t, "ocr/deu.png")
	german := "Die Zahlen sind gut, und das Team ist mit dem Ergebnis zufrieden. Der Vorstand wird die Arbeit auf der Sitzung vorstellen."
	english := "The committee approved the budget for the next year, and the board is satisfied with the results that were presented."
	require.Equal(t, "deu", x.TextLanguage(german))
	require.Equal(t, "eng", x.TextLanguage(english))
	require.Empty(t, x.TextLanguage("Die Größe"), "too short to tell")
	require.Empty(t, New(Config{OCRLanguages: "eng"}).TextLanguage(german), "nothing to choose from")

	for _, tt := range []struct{ lang, read string }{
		{x.TextLanguage(german), "deu"},
		{x.TextLanguage(english), "eng"},
		{"fra", "eng+deu"}, // not among the extractor's languages
		{"", "eng+deu"},
	} {
		res, err := x.Extract(context.Background(), &Input{Data: data, Type: "image/png", Language: tt.lang})
		require.NoError(t, err, tt.lang)
		require.Equal(t, tt.read, res.Meta[ocrLanguagesMeta], tt.lang)
		if tt.read == "eng" {
			require.NotContains(t, res.Text, "Größe")
			continue
		}
		for _, w := range deuPNGWords {
			require.Contains(t, res.Text, w, tt.lang)
		}
	}
}

// TestOCRLanguageFromText reads PDFs with a text page and a scanned page:
// the text page's language, when it tells one, is the one the scan is read
// in.
func TestOCRLanguageFromText(t *testing.T) {
	t.Parallel()
	requireTesseractGerman(t)
	x := pdfTestExtractorWith(t, Config{})

	res, err := x.Extract(context.Background(), &Input{Data: testdataFile(t, "ocr/deu-mixed.pdf")})
	require.NoError(t, err)
	require.Len(t, res.Pages, 2)
	require.True(t, res.Pages[1].OCR)
	require.Equal(t, "deu", res.Meta[ocrLanguagesMeta])
	for _, w := range deuPNGWords {
		require.Contains(t, res.Pages[1].Text, w)
	}

	// Two lines are too few to tell a language by: the scan is read in
	// the languages installed.
	res, err = extractPDFFile(t, x, "mixed.pdf")
	require.NoError(t, err)
	require.Contains(t, res.Meta[ocrLanguagesMeta], "eng+deu")
	require.Contains(t, res.Pages[1].Text, "Signed copy of the contract.")
}

// fakeTesseract writes a tesseract that lists langs as installed and
// prints, for each -l it is given, out[-l] (or "?"), logging its -l
// arguments to the returned file, once for each image read. It reads
// images as tesseract does: from stdin, or as a stream of file names
// (stream_filelist), writing a form feed before every page but the first;
// the blank pages Quire sends after each image (*.pgm) are read as empty.
func fakeTesseract(t *testing.T, langs []string, out map[string]string) (path, log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "runs")
	var script strings.Builder
	script.WriteString("#!/bin/sh\nif [ \"$1\" = --list-langs ]; then\n")
	script.WriteString("  echo 'List of available languages in \"/fake/\" (" + "n):'\n")
	for _, l := range langs {
		script.WriteString("  echo " + l + "\n")
	}
	script.WriteString("  exit 0\nfi\nread_image() {\n  echo \"$1\" >>" + log + "\n  case \"$1\" in\n")
	for l, text := range out {
		script.WriteString("    " + l + ") echo '" + text + "' ;;\n")
	}
	script.WriteString("    *) echo '?' ;;\n  esac\n}\n")
	script.WriteString("if [ \"$1\" = stdin ]; then\n  cat >/dev/null\n  read_image \"$4\"\n  exit 0\nfi\n")
	script.WriteString("sep=\nwhile IFS= read -r page; do\n  printf \"$sep\"\n  sep='\\f'\n")
	script.WriteString("  case \"$page\" in *.pgm) ;; *) read_image \"$4\" ;; esac\ndone\n")
	path = filepath.Join(dir, "tesseract")
	writeScript(t, path, []byte(script.String()))
	return path, log
}

// writeScript writes an executable script for a test to run. Another
// process writes it: a child another test forks while this process holds
// the file open for writing inherits the descriptor until it execs, and
// running the script meanwhile fails with "text file busy" (ETXTBSY).
func writeScript(t testing.TB, path string, content []byte) {
	t.Helper()
	src := path + ".src"
	require.NoError(t, os.WriteFile(src, content, 0o600))
	out, err := exec.Command("install", "-m", "0700", src, path).CombinedOutput()
	require.NoError(t, err, "install %s: %s", path, out)
	require.NoError(t, os.Remove(src))
}

func TestOCRLanguagesInstalled(t *testing.T) {
	t.Parallel()
	const spanish = "El consejo aprobó el presupuesto del año y los resultados se presentan en el informe que está en la mesa."
	installed := []string{"chi_sim", "deu", "eng", "fra", "osd", "rus", "spa"}
	img := testdataFile(t, "images/text.png")

	t.Run("bounded", func(t *testing.T) {
		t.Parallel()
		// More languages than an image without text is read in at once:
		// the first three preferred, then the one its text is in.
		path, runs := fakeTesseract(t, installed, map[string]string{"eng+deu+fra": spanish, "spa": "leído en español"})
		x := New(Config{TesseractPath: path})
		langs, err := x.OCRLanguages()
		require.NoError(t, err)
		require.Equal(t, []string{"eng", "deu", "fra", "spa", "rus", "chi_sim"}, langs)
		res, err := extractImageData(x, "image/png", img)
		require.NoError(t, err)
		require.Equal(t, "leído en español", res.Text)
		require.Equal(t, "spa", res.Meta[ocrLanguagesMeta])
		log, err := os.ReadFile(runs)
		require.NoError(t, err)
		require.Equal(t, "eng+deu+fra\nspa\n", string(log))
	})

	t.Run("one pass when the text is in the set", func(t *testing.T) {
		t.Parallel()
		path, runs := fakeTesseract(t, installed, map[string]string{"eng+deu+fra": "The committee approved the budget for the year, and the board is satisfied with it."})
		res, err := extractImageData(New(Config{TesseractPath: path}), "image/png", img)
		require.NoError(t, err)
		require.Equal(t, "eng+deu+fra", res.Meta[ocrLanguagesMeta])
		log, err := os.ReadFile(runs)
		require.NoError(t, err)
		require.Equal(t, "eng+deu+fra\n", string(log))
	})

	t.Run("named", func(t *testing.T) {
		t.Parallel()
		// Languages named are read together, however many.
		path, _ := fakeTesseract(t, installed, map[string]string{"spa+eng+rus+deu": spanish})
		x := New(Config{TesseractPath: path, OCRLanguages: "spa+eng+rus+deu"})
		langs, err := x.OCRLanguages()
		require.NoError(t, err)
		require.Equal(t, []string{"spa", "eng", "rus", "deu"}, langs)
		res, err := extractImageData(x, "image/png", img)
		require.NoError(t, err)
		require.Equal(t, spanish, res.Text)
	})

	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		path, _ := fakeTesseract(t, installed, nil)
		_, err := New(Config{TesseractPath: path, OCRLanguages: "eng+chi_tra"}).OCRLanguages()
		require.ErrorIs(t, err, ErrOCRUnavailable)
		require.ErrorContains(t, err, `"chi_tra"`)
		require.ErrorContains(t, err, "tesseract-ocr-chi-tra")
	})

	t.Run("none installed", func(t *testing.T) {
		t.Parallel()
		path, _ := fakeTesseract(t, []string{"osd"}, nil)
		_, err := New(Config{TesseractPath: path}).OCRLanguages()
		require.ErrorIs(t, err, ErrOCRUnavailable)
		require.ErrorContains(t, err, "tesseract-ocr-eng")
	})
}
