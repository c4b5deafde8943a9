// Package store is Quire's relational store: documents and their state, the
// text extracted from them, what the models found in them, the labels people
// gave them, the audit trail of their processing, registered model versions
// and webhooks.
//
// Store is made of one small interface per role (Documents, Texts,
// Analyses, Events, Labels, ModelVersions, Webhooks, and Access, which is
// APITokens, Sessions and Users) plus the store's lifecycle. A package that
// uses the store declares the roles it needs as an interface of its own;
// only the process's wiring, which opens the store and hands it out, holds
// a whole Store.
//
// Store has two backends chosen by URL in Open: PostgreSQL
// (postgres://…) for servers, where other applications read the same tables,
// and an embedded SQLite file (sqlite:///path/to/quire.db or a plain path)
// for `quire up` on one machine. Both pass the same behaviour suite,
// store/storetest. The tables are a contract: docs/schema.md describes every
// column, and a change to it is a new numbered migration in
// migrations/postgres and migrations/sqlite, applied by Migrate.
//
// The document pipeline runs its stages as jobs, at least once, so every
// write here can be repeated without changing the outcome:
//
//   - CreateDocument is keyed by the content's sha256: the same bytes
//     uploaded twice are one document.
//   - SavePages, SaveText and SaveAnalysis replace what a previous run of the
//     same stage (and, for analysis, the same model version) stored.
//   - SetState moves a document only from the states the caller expects, and
//     succeeds without change when the document is already where the caller
//     wants it, so a stage that runs twice moves it once.
//   - AddLabel and CreateModelVersion return the existing row when it is
//     already there.
//
// AddEvent is the exception on purpose: processing_events is an audit trail,
// and a stage that ran twice appears twice.
//
// A typical stage:
//
//	doc, err := st.SetState(ctx, &store.SetStateParams{
//		ID: id, From: []store.State{store.StateReceived}, To: store.StateExtracting,
//	})
//	if errors.Is(err, store.ErrStateConflict) {
//		return nil // another run moved it on; nothing left to do
//	}
//	...
//	err = st.SavePages(ctx, id, pages)
//	err = st.SaveText(ctx, &store.SaveTextParams{DocumentID: id, Text: text})
//	doc, err = st.SetState(ctx, &store.SetStateParams{
//		ID: id, From: []store.State{store.StateExtracting}, To: store.StateAnalyzing,
//	})
package store
