package ui

import (
	"bytes"
	"cmp"
	"fmt"
	"html"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quirehq/quire/internal/bytesize"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/edge"
)

// page is what the layout shows around a page's content.
type page struct {
	Title string
	// Nav names the menu entry to mark as current.
	Nav    string
	User   *store.User
	CSRF   string
	Banner string
	// Flash is a one-line message from the previous action.
	Flash string
	// Query fills the header's search box.
	Query string
	// Views are the user's saved views and the shared ones, for the
	// navigation.
	Views []store.View
	// Data is the page's own.
	Data any
}

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"pct":       func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
		"fixed":     func(f float64) string { return fmt.Sprintf("%.3f", f) },
		"bytes":     bytesize.Format,
		"when":      func(t time.Time) string { return fmtTime(t) },
		"ago":       ago,
		"highlight": highlight,
		"kindClass": kindClass,
		"seconds":   func(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) },
		"viewURL":   viewURL,
		// batchDone counts a batch's members that reached a final state.
		"batchDone": func(b *jobs.BatchStatus) int64 { return b.Succeeded + b.Dead },
		"callbackState": func(s jobs.CallbackState) string {
			return cmp.Or(string(s), "pending")
		},
		// expiresIn is how long a limiter slot has left, in whole seconds.
		"expiresIn": func(t time.Time) string {
			return fmt.Sprintf("%ds", max(0, int(time.Until(t).Round(time.Second).Seconds())))
		},
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("ui: parse the layout: %w", err)
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFiles, n)
		if err != nil {
			return nil, fmt.Errorf("ui: parse %s: %w", base, err)
		}
		pages[strings.TrimSuffix(base, ".html")] = t
	}
	return pages, nil
}

// render writes a page, or a 500 if its template fails; it renders into a
// buffer first so that a failure does not leave half a page.
func (u *ui) render(w http.ResponseWriter, r *http.Request, status int, name string, c *reqCtx, p *page) {
	t := u.pages[name]
	if t == nil {
		panic("ui: no page " + name) // a programming error
	}
	p.Banner = u.opts.Banner
	if c != nil {
		p.User, p.CSRF = c.User, c.CSRF
		p.Views = u.navViews(r.Context(), c)
	}
	if p.Flash == "" {
		p.Flash = r.URL.Query().Get("msg")
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		u.log.Error("ui: render failed", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail answers with an error page; server errors are logged with their
// cause and shown without it.
func (u *ui) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	msg := err.Error()
	if status >= 500 {
		u.log.Error("ui: request failed", "method", r.Method, "path", r.URL.Path, "status", status, "remote", edge.ClientAddr(r), "error", err)
		msg = "the service is unavailable; try again later"
	}
	c, _ := u.current(r)
	u.render(w, r, status, "error", c, &page{Title: http.StatusText(status), Data: map[string]any{"Status": status, "Message": msg}})
}

// back redirects to a page with a message after a form's action.
func back(w http.ResponseWriter, r *http.Request, to, msg string) {
	if msg != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "msg=" + template.URLQueryEscaper(msg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func ago(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

var nonClass = regexp.MustCompile(`[^a-z0-9-]+`)

// kindClass makes an entity kind into a CSS class name.
func kindClass(kind string) string {
	return "ent-" + nonClass.ReplaceAllString(strings.ToLower(kind), "-")
}

// maxShownText bounds the text shown on a document's page; the whole text
// is a download away.
const maxShownText = 256 << 10

// highlight returns text, escaped, with the entities that have a position
// wrapped in <mark>. Entities that overlap an earlier one, or whose offsets
// are not on character boundaries of the text, are left out rather than
// cutting a character in two.
// queryMark is the kind of the spans highlight marks as matches of the
// search a document was opened from, not entities.
const queryMark = "\x00query"

func highlight(text string, ents []store.Entity) template.HTML {
	if len(text) > maxShownText {
		cut := maxShownText
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	spans := slices.Clone(ents)
	slices.SortStableFunc(spans, func(a, b store.Entity) int { return a.Start - b.Start })
	var b strings.Builder
	pos := 0
	for _, e := range spans {
		if e.End <= e.Start || e.Start < pos || e.End > len(text) ||
			!boundary(text, e.Start) || !boundary(text, e.End) {
			continue
		}
		b.WriteString(html.EscapeString(text[pos:e.Start]))
		if e.Kind == queryMark {
			fmt.Fprintf(&b, `<mark class="query" title="%s">%s</mark>`,
				html.EscapeString("matches your search: "+e.Value), html.EscapeString(text[e.Start:e.End]))
		} else {
			fmt.Fprintf(&b, `<mark class="ent %s" title="%s">%s</mark>`, kindClass(e.Kind),
				html.EscapeString(fmt.Sprintf("%s: %s (%.0f%%)", e.Kind, e.Value, e.Confidence*100)), html.EscapeString(text[e.Start:e.End]))
		}
		pos = e.End
	}
	b.WriteString(html.EscapeString(text[pos:]))
	return template.HTML(b.String()) //nolint:gosec // every piece of text above is escaped
}

func boundary(s string, i int) bool { return i == len(s) || utf8.RuneStart(s[i]) }
