package storetest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
)

func exerciseDocuments(t *testing.T, h Harness) {
	ctx := context.Background()

	t.Run("CreateAndGet", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		before := time.Now().Add(-time.Second)
		sum, key := content()
		doc, created, err := b.st.CreateDocument(ctx, &store.CreateDocumentParams{
			SHA256: sum, Name: "Überweisung – März 2026 📄.pdf", MIMEType: "application/pdf",
			Size: 98765, Source: store.SourceInbox, BlobKey: key,
		})
		require.NoError(t, err)
		require.True(t, created)
		require.Len(t, doc.ID, 26, "a ULID")
		require.Equal(t, store.StateReceived, doc.State)
		require.Equal(t, "Überweisung – März 2026 📄.pdf", doc.Name)
		require.Equal(t, int64(98765), doc.Size)
		require.Equal(t, store.SourceInbox, doc.Source)
		require.Equal(t, key, doc.BlobKey)
		require.WithinRange(t, doc.CreatedAt, before, time.Now().Add(time.Second))
		require.Equal(t, time.UTC, doc.CreatedAt.Location())
		require.Equal(t, doc.CreatedAt, doc.UpdatedAt)
		require.True(t, doc.DoneAt.IsZero())
		require.Zero(t, doc.PageCount)

		got, err := b.st.GetDocument(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, doc, got)
		got, err = b.st.GetDocumentBySHA(ctx, sum)
		require.NoError(t, err)
		require.Equal(t, doc, got)

		_, err = b.st.GetDocument(ctx, "01J00000000000000000000000")
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.st.GetDocumentBySHA(ctx, strings.Repeat("0", 64))
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("DedupeBySHA", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		first := newDocument(t, b.st)
		again, created, err := b.st.CreateDocument(ctx, &store.CreateDocumentParams{
			SHA256: first.SHA256, Name: "copy of report.pdf", Source: store.SourceSubmit, BlobKey: first.BlobKey,
		})
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, first, again, "the existing document, unchanged")

		// Many uploads of the same new content at once make one document.
		sum, key := content()
		const n = 16
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			ids     = map[string]bool{}
			creates int
		)
		for range n {
			wg.Go(func() {
				doc, created, err := b.st.CreateDocument(ctx, &store.CreateDocumentParams{
					SHA256: sum, Name: "same.txt", Source: store.SourceUpload, BlobKey: key,
					Events: []store.AddEventParams{{Stage: "ingest", Type: store.EventDone, Message: "same.txt"}},
				})
				if !assertNoError(t, err) {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				ids[doc.ID] = true
				if created {
					creates++
				}
			})
		}
		wg.Wait()
		require.Len(t, ids, 1)
		require.Equal(t, 1, creates)
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM documents WHERE sha256 = $1", sum))
		// Its first events are written with it, once.
		var id string
		for id = range ids {
		}
		events, err := b.st.ListEvents(ctx, id)
		require.NoError(t, err)
		require.Len(t, events, 1)
		require.Equal(t, "same.txt", events[0].Message)

		// A new document's events must be valid like any other's.
		sum2, key2 := content()
		_, _, err = b.st.CreateDocument(ctx, &store.CreateDocumentParams{SHA256: sum2, Name: "x.txt", Source: store.SourceUpload,
			BlobKey: key2, Events: []store.AddEventParams{{Stage: "ingest", Type: "finished"}}})
		require.ErrorIs(t, err, store.ErrInvalid)
		require.Zero(t, b.count(t, "SELECT count(*) FROM documents WHERE sha256 = $1", sum2))

		// The parent must exist, events or not.
		sum3, key3 := content()
		_, _, err = b.st.CreateDocument(ctx, &store.CreateDocumentParams{SHA256: sum3, Name: "a.txt", Source: store.SourceInbox,
			BlobKey: key3, ParentID: "01J00000000000000000000000", Events: []store.AddEventParams{{Stage: "ingest", Type: store.EventDone}}})
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("CreateMany", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		first := newDocument(t, b.st)
		ev := func(name string) []store.AddEventParams {
			return []store.AddEventParams{{Stage: "ingest", Type: store.EventDone, Message: name}}
		}
		sumA, keyA := content()
		sumB, keyB := content()
		ps := []*store.CreateDocumentParams{
			{SHA256: sumA, Name: "a.txt", Source: store.SourceProcess, BlobKey: keyA, Events: ev("a.txt")},
			{SHA256: first.SHA256, Name: "again.pdf", Source: store.SourceProcess, BlobKey: first.BlobKey, Events: ev("again.pdf")},
			{SHA256: sumA, Name: "a-copy.txt", Source: store.SourceProcess, BlobKey: keyA, Events: ev("a-copy.txt")},
			{SHA256: sumB, Name: "b.txt", Source: store.SourceProcess, BlobKey: keyB, Events: ev("b.txt")},
		}
		res, err := b.st.CreateDocuments(ctx, ps)
		require.NoError(t, err)
		require.Len(t, res, len(ps))
		for i, r := range res {
			require.NoError(t, r.Err, ps[i].Name)
		}
		require.True(t, res[0].Created)
		require.True(t, res[3].Created)
		require.False(t, res[1].Created)
		require.Equal(t, first, res[1].Document, "the existing document, unchanged")
		require.False(t, res[2].Created, "the same content twice in one call is one document")
		require.Equal(t, res[0].Document.ID, res[2].Document.ID)
		require.Equal(t, "b.txt", res[3].Document.Name)
		require.Equal(t, 3, b.count(t, "SELECT count(*) FROM documents"))
		for _, i := range []int{0, 3} {
			events, err := b.st.ListEvents(ctx, res[i].Document.ID)
			require.NoError(t, err)
			require.Len(t, events, 1, "its first events are written with it, once")
			require.Equal(t, ps[i].Name, events[0].Message)
		}

		// A document the store refuses has its own error; the others of
		// the call are recorded all the same.
		sumC, keyC := content()
		sumD, keyD := content()
		sumE, keyE := content()
		sumF, keyF := content()
		ps = []*store.CreateDocumentParams{
			{SHA256: sumC, Name: "c.txt", Source: store.SourceProcess, BlobKey: keyC, Events: ev("c.txt")},
			{SHA256: sumD, Name: "orphan.txt", Source: store.SourceInbox, BlobKey: keyD,
				ParentID: "01J00000000000000000000000", Events: ev("orphan.txt")},
			{SHA256: sumE, Source: store.SourceProcess, BlobKey: keyE},
			{SHA256: sumF, Name: "bad-event.txt", Source: store.SourceProcess, BlobKey: keyF,
				Events: []store.AddEventParams{{Stage: "ingest", Type: "finished"}}},
			{SHA256: sumB, Name: "b-again.txt", Source: store.SourceProcess, BlobKey: keyB},
		}
		res, err = b.st.CreateDocuments(ctx, ps)
		require.NoError(t, err)
		require.NoError(t, res[0].Err)
		require.True(t, res[0].Created)
		require.ErrorIs(t, res[1].Err, store.ErrNotFound, "a parent that does not exist")
		require.ErrorIs(t, res[2].Err, store.ErrInvalid, "no name")
		require.ErrorIs(t, res[3].Err, store.ErrInvalid, "an invalid event")
		require.NoError(t, res[4].Err)
		require.False(t, res[4].Created)
		require.Equal(t, 4, b.count(t, "SELECT count(*) FROM documents"))
		events, err := b.st.ListEvents(ctx, res[0].Document.ID)
		require.NoError(t, err)
		require.Len(t, events, 1, "written once, though its first transaction was undone")
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		sum, key := content()
		tests := []struct {
			name string
			p    store.CreateDocumentParams
		}{
			{"UppercaseSHA", store.CreateDocumentParams{SHA256: strings.ToUpper(sum), Name: "a", Source: store.SourceUpload, BlobKey: key}},
			{"ShortSHA", store.CreateDocumentParams{SHA256: sum[:10], Name: "a", Source: store.SourceUpload, BlobKey: key}},
			{"NoName", store.CreateDocumentParams{SHA256: sum, Source: store.SourceUpload, BlobKey: key}},
			{"UnknownSource", store.CreateDocumentParams{SHA256: sum, Name: "a", Source: "ftp", BlobKey: key}},
			{"NoBlobKey", store.CreateDocumentParams{SHA256: sum, Name: "a", Source: store.SourceUpload}},
			{"NegativeSize", store.CreateDocumentParams{SHA256: sum, Name: "a", Size: -1, Source: store.SourceUpload, BlobKey: key}},
		}
		for _, tt := range tests {
			_, _, err := b.st.CreateDocument(ctx, &tt.p)
			require.ErrorIs(t, err, store.ErrInvalid, tt.name)
		}
		_, _, err := b.st.CreateDocument(ctx, &store.CreateDocumentParams{
			SHA256: sum, Name: "a", Source: store.SourceInbox, BlobKey: key, ParentID: "01J00000000000000000000000",
		})
		require.ErrorIs(t, err, store.ErrNotFound, "a parent that does not exist")
		require.Zero(t, b.count(t, "SELECT count(*) FROM documents"))
	})

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		email := newDocument(t, b.st, func(p *store.CreateDocumentParams) {
			p.Name, p.MIMEType, p.Source = "mail.eml", "message/rfc822", store.SourceInbox
		})
		var docs []*store.Document
		for i := range 7 {
			docs = append(docs, newDocument(t, b.st, func(p *store.CreateDocumentParams) {
				p.Name = name(i)
				if i%2 == 0 {
					p.MIMEType = "text/plain"
				}
				if i < 3 {
					p.ParentID, p.Source = email.ID, store.SourceInbox
				}
			}))
		}
		moveTo(t, b.st, docs[5].ID, store.StateExtracting)
		moveTo(t, b.st, docs[6].ID, store.StateExtracting)

		all, err := b.st.ListDocuments(ctx, nil)
		require.NoError(t, err)
		require.Equal(t, []string{name(6), name(5), name(4), name(3), name(2), name(1), name(0), "mail.eml"}, names(all.Documents), "newest first")
		require.Empty(t, all.Next)

		// Pages of three, following the cursor.
		var paged []string
		p := &store.ListDocumentsParams{Limit: 3}
		for {
			page, err := b.st.ListDocuments(ctx, p)
			require.NoError(t, err)
			require.LessOrEqual(t, len(page.Documents), 3)
			paged = append(paged, names(page.Documents)...)
			if page.Next == "" {
				break
			}
			p.Cursor = page.Next
		}
		require.Equal(t, names(all.Documents), paged)

		tests := []struct {
			name string
			p    store.ListDocumentsParams
			want []string
		}{
			{"State", store.ListDocumentsParams{State: store.StateExtracting}, []string{name(6), name(5)}},
			{"MIMEType", store.ListDocumentsParams{MIMEType: "text/plain"}, []string{name(6), name(4), name(2), name(0)}},
			{"Parent", store.ListDocumentsParams{ParentID: email.ID}, []string{name(2), name(1), name(0)}},
			{"Combined", store.ListDocumentsParams{ParentID: email.ID, MIMEType: "text/plain"}, []string{name(2), name(0)}},
			{"None", store.ListDocumentsParams{State: store.StateDone}, nil},
		}
		for _, tt := range tests {
			got, err := b.st.ListDocuments(ctx, &tt.p)
			require.NoError(t, err, tt.name)
			require.Equal(t, tt.want, names(got.Documents), tt.name)
		}
		_, err = b.st.ListDocuments(ctx, &store.ListDocumentsParams{State: "lost"})
		require.ErrorIs(t, err, store.ErrInvalid)
		_, err = b.st.ListDocuments(ctx, &store.ListDocumentsParams{Limit: store.ListLimitMax + 1})
		require.ErrorIs(t, err, store.ErrInvalid)
	})

	t.Run("Stats", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		st, err := b.st.Stats(ctx)
		require.NoError(t, err)
		require.Zero(t, st.Documents)
		require.Len(t, st.ByState, len(store.States))
		for range 3 {
			newDocument(t, b.st)
		}
		moveTo(t, b.st, newDocument(t, b.st).ID, store.StateDone)
		d := newDocument(t, b.st)
		_, err = b.st.SetState(ctx, &store.SetStateParams{ID: d.ID, From: []store.State{store.StateReceived}, To: store.StateFailed, Reason: "unreadable"})
		require.NoError(t, err)
		st, err = b.st.Stats(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(5), st.Documents)
		require.Equal(t, map[store.State]int64{
			store.StateReceived: 3, store.StateExtracting: 0, store.StateAnalyzing: 0,
			store.StateIndexed: 0, store.StateDone: 1, store.StateFailed: 1,
		}, st.ByState)
	})
}

func names(docs []store.Document) []string {
	var out []string
	for _, d := range docs {
		out = append(out, d.Name)
	}
	return out
}

// assertNoError reports err from any goroutine; require would stop the
// wrong one.
func assertNoError(t testing.TB, err error) bool {
	t.Helper()
	if err != nil {
		t.Errorf("unexpected error: %v", err)
		return false
	}
	return true
}
