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

	t.Run("Truncated", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		from := func(s ...store.State) []store.State { return s }
		truncated := func(t *testing.T, id string) bool {
			t.Helper()
			d, err := b.st.GetDocument(ctx, id)
			require.NoError(t, err)
			return d.TextTruncated
		}

		t.Run("SaveText", func(t *testing.T) {
			t.Parallel()
			doc := newDocument(t, b.st)
			require.False(t, doc.TextTruncated, "a new document")
			p := &store.SaveTextParams{DocumentID: doc.ID, Text: "The opening chapters", Truncated: true}
			require.NoError(t, b.st.SaveText(ctx, p))
			require.True(t, truncated(t, doc.ID))
			require.NoError(t, b.st.SaveText(ctx, p), "a repeated run")
			require.True(t, truncated(t, doc.ID))

			// Every read of the document carries it.
			list, err := b.st.ListDocuments(ctx, &store.ListDocumentsParams{Query: "chapters"})
			require.NoError(t, err)
			require.Len(t, list.Documents, 1)
			require.True(t, list.Documents[0].TextTruncated)
			res, err := b.st.Search(ctx, &store.SearchParams{Query: "chapters"})
			require.NoError(t, err)
			hits := res.Hits
			require.Len(t, hits, 1)
			require.True(t, hits[0].Document.TextTruncated)
			bySHA, err := b.st.GetDocumentBySHA(ctx, doc.SHA256)
			require.NoError(t, err)
			require.True(t, bySHA.TextTruncated)
			require.Equal(t, 1, b.count(t, "SELECT count(*) FROM documents WHERE id = $1 AND text_truncated", doc.ID),
				"another application reads the column")

			// Saved again whole, say with a higher limit: no longer truncated.
			require.NoError(t, b.st.SaveText(ctx, &store.SaveTextParams{DocumentID: doc.ID, Text: "The whole text"}))
			require.False(t, truncated(t, doc.ID))
			require.Zero(t, b.count(t, "SELECT count(*) FROM documents WHERE id = $1 AND text_truncated", doc.ID))

			// Pages saved on their own leave the mark alone.
			require.NoError(t, b.st.SaveText(ctx, p))
			require.NoError(t, b.st.SavePages(ctx, doc.ID, []store.Page{{Number: 1, Text: "The first"}}))
			require.True(t, truncated(t, doc.ID))
		})

		t.Run("SetState", func(t *testing.T) {
			t.Parallel()
			doc := moveTo(t, b.st, newDocument(t, b.st).ID, store.StateExtracting)
			got, err := b.st.SetState(ctx, &store.SetStateParams{
				ID: doc.ID, From: from(store.StateExtracting), To: store.StateAnalyzing,
				Text: &store.SaveTextParams{Text: "The first megabytes", Truncated: true},
			})
			require.NoError(t, err)
			require.True(t, got.TextTruncated, "the move returns the document as saved")
			require.True(t, truncated(t, doc.ID))

			// A move without text leaves the mark alone, reprocessing too:
			// the text saved is still the cut one until extracted again.
			moveTo(t, b.st, doc.ID, store.StateDone)
			_, err = b.st.SetState(ctx, &store.SetStateParams{ID: doc.ID, From: from(store.StateDone), To: store.StateReceived})
			require.NoError(t, err)
			require.True(t, truncated(t, doc.ID))

			// Extracted again, whole, in one commit to done (a small
			// document), and unsynced (a stage that can run again).
			got, err = b.st.SetState(ctx, &store.SetStateParams{
				ID: doc.ID, From: from(store.StateReceived), To: store.StateDone, Unsynced: true,
				Text:   &store.SaveTextParams{Text: "The whole text"},
				Events: []store.AddEventParams{{Stage: "extract", Type: store.EventDone}},
			})
			require.NoError(t, err)
			require.False(t, got.TextTruncated)
			require.False(t, truncated(t, doc.ID))

			// A small document cut short in its one commit.
			small := newDocument(t, b.st)
			got, err = b.st.SetState(ctx, &store.SetStateParams{
				ID: small.ID, From: from(store.StateReceived), To: store.StateDone,
				Text: &store.SaveTextParams{Text: "Short", Truncated: true},
			})
			require.NoError(t, err)
			require.True(t, got.TextTruncated)
			require.True(t, truncated(t, small.ID))
		})
	})

	t.Run("Metadata", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		from := func(s ...store.State) []store.State { return s }
		meta := map[string]string{"created": "1998-12-10T12:00:00Z", "sheets": "Numbers\nÜnïcödé – 世界", "empty": ""}
		want := map[string]string{"created": "1998-12-10T12:00:00Z", "sheets": "Numbers\nÜnïcödé – 世界"}

		doc := newDocument(t, b.st)
		require.Nil(t, doc.Metadata, "a new document")
		require.NoError(t, b.st.SaveText(ctx, &store.SaveTextParams{DocumentID: doc.ID, Text: "Cells", Metadata: meta}))
		got, err := b.st.GetDocument(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, want, got.Metadata, "empty fields are left out")
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM documents WHERE id = $1 AND metadata IS NOT NULL", doc.ID),
			"another application reads the column")
		list, err := b.st.ListDocuments(ctx, &store.ListDocumentsParams{Query: "cells"})
		require.NoError(t, err)
		require.Len(t, list.Documents, 1)
		require.Equal(t, want, list.Documents[0].Metadata)
		require.NoError(t, b.st.SaveText(ctx, &store.SaveTextParams{DocumentID: doc.ID, Text: "Cells"}))
		got, err = b.st.GetDocument(ctx, doc.ID)
		require.NoError(t, err)
		require.Nil(t, got.Metadata, "text saved without metadata clears it")

		// A move saves them with the text, and the type detected from the
		// whole content, on success or failure.
		moved := moveTo(t, b.st, newDocument(t, b.st, func(p *store.CreateDocumentParams) { p.MIMEType = "application/zip" }).ID, store.StateExtracting)
		got, err = b.st.SetState(ctx, &store.SetStateParams{ID: moved.ID, From: from(store.StateExtracting), To: store.StateAnalyzing,
			MIMEType: "application/epub+zip", Text: &store.SaveTextParams{Text: "Chapters", Metadata: meta}})
		require.NoError(t, err)
		require.Equal(t, "application/epub+zip", got.MIMEType)
		require.Equal(t, want, got.Metadata)
		failed := newDocument(t, b.st, func(p *store.CreateDocumentParams) { p.MIMEType = "application/x-ole-storage" })
		got, err = b.st.SetState(ctx, &store.SetStateParams{ID: failed.ID, From: from(store.StateReceived), To: store.StateFailed,
			Reason: "unsupported document type: application/vnd.visio", MIMEType: "application/vnd.visio"})
		require.NoError(t, err)
		require.Equal(t, "application/vnd.visio", got.MIMEType)
		got, err = b.st.GetDocument(ctx, failed.ID)
		require.NoError(t, err)
		require.Equal(t, "application/vnd.visio", got.MIMEType)
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
