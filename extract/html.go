package extract

import (
	"context"
	"io"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
)

func init() {
	register(&format{
		name:    "html",
		types:   []string{typeHTML, typeXHTML},
		extract: extractHTML,
	})
}

func extractHTML(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	// The charset a document declares in its first 1024 bytes (BOM, meta
	// tag) is the one browsers use; an undeclared one is guessed.
	_, declared, certain := charset.DetermineEncoding(head(in.Data, 1024), "")
	if !certain {
		declared = ""
	}
	s, cs, err := decodeText(in.Data, declared)
	if err != nil {
		return nil, err
	}
	h, err := htmlText(ctx, s, b)
	if err != nil {
		return nil, err
	}
	res := &Result{Text: h.text, Title: h.title, Meta: map[string]string{}}
	if h.lang != "" {
		res.Meta["lang"] = h.lang
	}
	if cs != "utf-8" {
		res.Meta["charset"] = cs
	}
	return res, nil
}

type htmlDoc struct {
	text, title, lang string
}

// blockElements break lines: what a browser lays out as a block, a list
// item or a table row.
var blockElements = map[atom.Atom]bool{
	atom.Address: true, atom.Article: true, atom.Aside: true, atom.Blockquote: true,
	atom.Body: true, atom.Br: true, atom.Caption: true, atom.Center: true, atom.Dd: true,
	atom.Details: true, atom.Dialog: true, atom.Dir: true, atom.Div: true, atom.Dl: true,
	atom.Dt: true, atom.Fieldset: true, atom.Figcaption: true, atom.Figure: true,
	atom.Footer: true, atom.Form: true, atom.Frameset: true, atom.H1: true, atom.H2: true,
	atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true, atom.Header: true,
	atom.Hgroup: true, atom.Hr: true, atom.Legend: true, atom.Li: true, atom.Main: true,
	atom.Menu: true, atom.Nav: true, atom.Ol: true, atom.P: true, atom.Pre: true,
	atom.Section: true, atom.Summary: true, atom.Table: true, atom.Tbody: true,
	atom.Tfoot: true, atom.Thead: true, atom.Tr: true, atom.Ul: true, atom.Option: true,
	atom.Html: true, atom.Head: true,
}

// hiddenElements hold no visible text. The tokenizer already reads script,
// style and noscript as raw text; template content is markup and nests.
var hiddenElements = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Noframes: true, atom.Noembed: true, atom.Iframe: true, atom.Object: true,
}

// htmlText returns the visible text of an HTML document, one line per
// block. It runs the tokenizer, not the tree builder: the tokenizer is
// linear in its input, while the tree builder's scope checks grow with the
// depth of open elements, which hostile markup makes as deep as it likes.
// The text is written within b; the document ends where b runs out.
func htmlText(ctx context.Context, s string, b *budget) (htmlDoc, error) {
	var doc htmlDoc
	z := html.NewTokenizer(strings.NewReader(s))
	w := textWriter{b: textSink{bud: b}}
	hidden := 0 // depth inside hidden elements
	pre := 0    // depth inside pre and its kin, where white space counts
	inTitle := false
	var title strings.Builder
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return doc, ctx.Err()
		}
		tt := z.Next()
		if tt != html.ErrorToken && b.full() {
			tt = html.ErrorToken // the text limit is reached: the document ends here
		}
		switch tt {
		case html.ErrorToken:
			if z.Err() == io.EOF || b.full() {
				doc.text = w.String()
				doc.title = collapseSpace(title.String())
				return doc, nil
			}
			return doc, z.Err()
		case html.TextToken:
			if hidden > 0 {
				continue
			}
			if inTitle {
				if doc.title == "" && title.Len() < metaFieldMax {
					title.Write(z.Text())
				}
				continue
			}
			if pre > 0 {
				w.pre(string(z.Text()))
			} else {
				w.text(string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			start := tt != html.EndTagToken
			if a == atom.Html && start && doc.lang == "" && hasAttr {
				doc.lang = langAttr(z)
			}
			if hiddenElements[a] {
				if tt == html.StartTagToken {
					hidden++
				} else if tt == html.EndTagToken && hidden > 0 {
					hidden--
				}
				continue
			}
			switch a {
			case atom.Title:
				// Only the first title counts; a title in an SVG is a
				// tooltip.
				inTitle = tt == html.StartTagToken && title.Len() == 0
				if tt == html.EndTagToken && title.Len() > 0 {
					doc.title = collapseSpace(title.String())
				}
				continue
			case atom.Pre, atom.Textarea, atom.Listing, atom.Plaintext, atom.Xmp:
				if tt == html.StartTagToken {
					pre++
				} else if tt == html.EndTagToken && pre > 0 {
					pre--
				}
			case atom.Td, atom.Th:
				if start {
					w.cell()
				}
				continue
			}
			if blockElements[a] {
				w.newline()
			}
		}
	}
}

func langAttr(z *html.Tokenizer) string {
	lang := ""
	for {
		k, v, more := z.TagAttr()
		switch string(k) {
		case "lang":
			lang = string(v)
		case "xml:lang":
			if lang == "" {
				lang = string(v)
			}
		}
		if !more {
			return strings.TrimSpace(lang)
		}
	}
}

// collapseSpace folds runs of white space into one space, as HTML renders
// them.
func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// textWriter lays out text as a browser would in plain text: white space
// collapsed, each block on a line of its own, table cells separated by
// tabs.
type textWriter struct {
	b textSink
	// pending is the separator owed before the next text: 0 none, ' ',
	// '\t' or '\n'.
	pending byte
	// lineStart reports that nothing has been written on the current line.
	lineStart bool
	started   bool
}

func (w *textWriter) text(s string) {
	if s == "" {
		return
	}
	lead := isSpace(s[0])
	trail := isSpace(s[len(s)-1])
	fields := strings.Fields(s)
	if len(fields) == 0 {
		if w.pending == 0 && !w.lineStart && w.started {
			w.pending = ' '
		}
		return
	}
	if lead && w.pending == 0 && !w.lineStart && w.started {
		w.pending = ' '
	}
	for i, f := range fields {
		if i > 0 {
			w.pending = ' '
		}
		w.flush()
		w.b.writeString(f)
		w.lineStart = false
	}
	if trail {
		w.pending = ' '
	}
}

func (w *textWriter) pre(s string) {
	if s == "" {
		return
	}
	w.flush()
	w.b.writeString(s)
	w.lineStart = strings.HasSuffix(s, "\n")
}

func (w *textWriter) flush() {
	if !w.started {
		w.pending = 0
		w.started = true
		return
	}
	switch w.pending {
	case ' ':
		if !w.lineStart {
			w.b.writeByte(' ')
		}
	case '\t':
		w.b.writeByte('\t')
	case '\n':
		w.b.writeByte('\n')
		w.lineStart = true
	}
	w.pending = 0
}

func (w *textWriter) newline() {
	if w.started {
		w.pending = '\n'
	}
}

func (w *textWriter) cell() {
	if w.started && !w.lineStart && w.pending != '\n' {
		w.pending = '\t'
	}
}

func (w *textWriter) String() string {
	return strings.TrimSpace(w.b.String())
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}
