package ml_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/ml"
)

// analyzeLanguage returns the language the analyzer records of a text.
func analyzeLanguage(t testing.TB, a *ml.Analyzer, text string) string {
	t.Helper()
	res, err := a.AnalyzeDocument(context.Background(), &ml.Document{Text: text})
	require.NoError(t, err)
	for _, r := range res {
		if r.ModelVersion == ml.LanguageModelVersion {
			return r.Language
		}
	}
	t.Fatalf("no language result of %q", text)
	return ""
}

func allLanguagesAnalyzer(t testing.TB) *ml.Analyzer {
	t.Helper()
	id, err := ml.NewLanguageIdentifier(nil)
	require.NoError(t, err)
	a, err := ml.NewAnalyzer(&ml.AnalyzerConfig{Language: id})
	require.NoError(t, err)
	return a
}

// TestLanguageUndetermined: files that are not prose, and texts of a word
// or two, get the language "und" instead of the likeliest of 75 languages
// for a handful of n-grams; prose keeps its language, however short,
// in any script.
func TestLanguageUndetermined(t *testing.T) {
	t.Parallel()
	a := allLanguagesAnalyzer(t)
	for name, text := range map[string]string{
		"Makefile.am": "AUTOMAKE_OPTIONS = foreign subdir-objects\nACLOCAL_AMFLAGS = -I m4\n" +
			"bin_PROGRAMS = hello\nhello_SOURCES = src/hello.c src/util.c\nhello_LDADD = $(LIBINTL)\n" +
			"SUBDIRS = po doc\nEXTRA_DIST = config.rpath m4/ChangeLog\n",
		"shortcut.url": "[InternetShortcut]\nURL=https://i18n.kde.org/teams/index.shtml\n",
		"data.csv":     "id,name,amount,date\n1,ACME Corp,1250.00,2026-03-12\n2,Globex,99.5,2026-03-13\n3,Initech,0,2026-04-01\n",
		"config.json":  `{"name": "quire", "version": "1.4.2", "dependencies": {"left-pad": "^1.3.0"}, "private": true}`,
		"go.mod": "module github.com/example/app\n\ngo 1.26\n\nrequire (\n\tgithub.com/redis/go-redis/v9 v9.23.0\n" +
			"\tgolang.org/x/text v0.31.0\n)\n",
		"nginx.conf": "server {\n  listen 80;\n  server_name example.org;\n  location / {\n    proxy_pass http://127.0.0.1:8080;\n" +
			"    proxy_set_header X-Real-IP $remote_addr;\n  }\n}\n",
		"settings.ini": "[database]\nhost=db.internal\nport=5432\nuser=app_rw\n[cache]\nttl_s=300\n",
		"two words":    "Hello world",
		"numbers":      "4711 0815 2026-12-05 +49 30 1234567",
		"empty":        "",
	} {
		require.Equal(t, ml.Undetermined, analyzeLanguage(t, a, text), name)
	}
	for want, text := range map[string]string{
		"en": "The committee met on Tuesday to discuss the budget.",
		"de": "Der Ausschuss hat am Dienstag den Haushalt beraten.",
		"fr": "Le comité s'est réuni mardi pour discuter du budget.",
		"ja": "すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。",
		"zh": "人人生而自由，在尊严和权利上一律平等。他们赋有理性和良心。",
		"ru": "Все люди рождаются свободными и равными в своем достоинстве и правах.",
	} {
		require.Equal(t, want, analyzeLanguage(t, a, text), text)
	}
}

// TestLanguageUndeterminedUDHR: the prose test leaves nearly every piece of
// 50 characters of the UDHR translations (a phrase or two) the language the
// identifier finds.
func TestLanguageUndeterminedUDHR(t *testing.T) {
	t.Parallel()
	root := corpora(t, "udhr")
	files, err := filepath.Glob(filepath.Join(root, "*.html"))
	require.NoError(t, err)
	id, err := ml.NewLanguageIdentifier(nil)
	require.NoError(t, err)
	a, err := ml.NewAnalyzer(&ml.AnalyzerConfig{Language: id})
	require.NoError(t, err)
	pieces := udhrPieces(t, files, 50)
	require.NotEmpty(t, pieces)
	und := 0
	for _, p := range pieces {
		if l, _ := id.Identify(p.text); l == "" {
			continue // the identifier cannot tell either
		}
		if analyzeLanguage(t, a, p.text) == ml.Undetermined {
			und++
			t.Logf("undetermined %s: %q", p.lang, p.text)
		}
	}
	t.Logf("%d of %d UDHR pieces of 50 characters undetermined", und, len(pieces))
	require.LessOrEqual(t, float64(und), 0.01*float64(len(pieces)))
}
