package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
)

func exerciseText(t *testing.T, h Harness) {
	ctx := context.Background()

	t.Run("PagesReplace", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		doc := newDocument(t, b.st)
		pages := []store.Page{
			{Number: 1, Text: "Invoice 2026-114"},
			{Number: 2, Text: "スキャンしたページ", OCR: true},
			{Number: 3, Text: ""},
		}
		require.NoError(t, b.st.SavePages(ctx, doc.ID, pages))
		require.NoError(t, b.st.SavePages(ctx, doc.ID, pages), "a repeated run")
		got, err := b.st.ListPages(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, pages, got)
		d, err := b.st.GetDocument(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, 3, d.PageCount)

		// A later run that found fewer pages leaves no stale page behind.
		require.NoError(t, b.st.SavePages(ctx, doc.ID, pages[1:2]))
		got, err = b.st.ListPages(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, pages[1:2], got)
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM pages WHERE document_id = $1", doc.ID))
		d, err = b.st.GetDocument(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, 1, d.PageCount)

		// Many pages go in batches.
		many := make([]store.Page, 1234)
		for i := range many {
			many[i] = store.Page{Number: i + 1, Text: strings.Repeat("x", i%50)}
		}
		require.NoError(t, b.st.SavePages(ctx, doc.ID, many))
		got, err = b.st.ListPages(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, many, got)

		empty := newDocument(t, b.st)
		got, err = b.st.ListPages(ctx, empty.ID)
		require.NoError(t, err)
		require.Empty(t, got)

		require.ErrorIs(t, b.st.SavePages(ctx, doc.ID, []store.Page{{Number: 1}, {Number: 1}}), store.ErrInvalid)
		require.ErrorIs(t, b.st.SavePages(ctx, doc.ID, []store.Page{{Number: 0}}), store.ErrInvalid)
		require.ErrorIs(t, b.st.SavePages(ctx, "01J00000000000000000000000", pages), store.ErrNotFound)
		_, err = b.st.ListPages(ctx, "01J00000000000000000000000")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("TextReplace", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		doc := newDocument(t, b.st)
		text, err := b.st.GetText(ctx, doc.ID)
		require.NoError(t, err)
		require.Empty(t, text, "nothing saved yet")

		p := &store.SaveTextParams{DocumentID: doc.ID, Text: "Quarterly report: revenue grew 12%.", Title: "Q3", Author: "Zoë Ångström"}
		require.NoError(t, b.st.SaveText(ctx, p))
		require.NoError(t, b.st.SaveText(ctx, p), "a repeated run")
		text, err = b.st.GetText(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, p.Text, text)
		d, err := b.st.GetDocument(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, 5, d.WordCount)
		require.Equal(t, "Q3", d.Title)
		require.Equal(t, "Zoë Ångström", d.Author)
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM document_text WHERE document_id = $1", doc.ID))

		require.NoError(t, b.st.SaveText(ctx, &store.SaveTextParams{DocumentID: doc.ID, Text: "Second extraction"}))
		text, err = b.st.GetText(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, "Second extraction", text)
		d, err = b.st.GetDocument(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, 2, d.WordCount)
		require.Empty(t, d.Title)

		require.ErrorIs(t, b.st.SaveText(ctx, &store.SaveTextParams{DocumentID: "01J00000000000000000000000", Text: "x"}), store.ErrNotFound)
		_, err = b.st.GetText(ctx, "01J00000000000000000000000")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("Unicode", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		doc := newDocument(t, b.st)
		texts := []string{
			"Größenordnung über Straße",
			"東京都の書類 — 請求書",
			"مرحبا بالعالم",
			"Emoji 👩‍👩‍👧 family, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math",
			"Ελληνικά και Русский текст",
		}
		for _, want := range texts {
			require.NoError(t, b.st.SaveText(ctx, &store.SaveTextParams{DocumentID: doc.ID, Text: want, Title: want}))
			got, err := b.st.GetText(ctx, doc.ID)
			require.NoError(t, err)
			require.Equal(t, want, got)
		}
		// Text that neither backend could hold as is: NUL becomes a space
		// (byte offsets stay right), invalid UTF-8 the replacement
		// character.
		require.NoError(t, b.st.SaveText(ctx, &store.SaveTextParams{DocumentID: doc.ID, Text: "a\x00b \xff\xfe c"}))
		got, err := b.st.GetText(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, "a b \uFFFD c", got)
		require.NoError(t, b.st.SavePages(ctx, doc.ID, []store.Page{{Number: 1, Text: "p\x00q"}}))
		pages, err := b.st.ListPages(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, "p q", pages[0].Text)
	})
}
