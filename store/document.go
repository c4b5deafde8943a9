package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// State is where a document is in the pipeline.
//
//	received ─► extracting ─► analyzing ─► indexed ─► done
//	    │            │             │           │
//	    └────────────┴──────┬──────┴───────────┘
//	                        ▼
//	                      failed
//
// done and failed go back to received when the document is reprocessed.
type State string

// The states of a document.
const (
	// StateReceived: stored and waiting for extraction.
	StateReceived State = "received"
	// StateExtracting: text is being extracted (OCR included).
	StateExtracting State = "extracting"
	// StateAnalyzing: the models are running on the text.
	StateAnalyzing State = "analyzing"
	// StateIndexed: text and analysis are saved and searchable; the last
	// steps (notifications) are pending.
	StateIndexed State = "indexed"
	// StateDone: processing finished.
	StateDone State = "done"
	// StateFailed: processing stopped; FailureReason says why.
	StateFailed State = "failed"
)

// States lists every state in pipeline order.
var States = []State{StateReceived, StateExtracting, StateAnalyzing, StateIndexed, StateDone, StateFailed}

// transitions holds the legal moves of the state machine.
var transitions = map[State][]State{
	// A small document skips the states a reader would hardly see: one job
	// extracts and analyses it, and one commit saves it all (received →
	// done); a small file with a long text is analysed by a job of its own
	// (received → analyzing).
	StateReceived:   {StateExtracting, StateAnalyzing, StateDone, StateFailed},
	StateExtracting: {StateAnalyzing, StateDone, StateFailed},
	StateAnalyzing:  {StateIndexed, StateFailed},
	StateIndexed:    {StateDone, StateFailed},
	StateDone:       {StateReceived},
	StateFailed:     {StateReceived},
}

// Valid reports whether s is one of the states.
func (s State) Valid() bool { return slices.Contains(States, s) }

// CanTransition reports whether the state machine allows a document to move
// from one state to another.
func CanTransition(from, to State) bool { return slices.Contains(transitions[from], to) }

// Source says how a document came in.
type Source string

// The sources of a document.
const (
	SourceUpload  Source = "upload"  // uploaded in the web UI
	SourceSubmit  Source = "submit"  // submitted through the JSON API
	SourceInbox   Source = "inbox"   // received by email, or an attachment of such
	SourceProcess Source = "process" // fed by `quire process`
)

// Sources lists every source.
var Sources = []Source{SourceUpload, SourceSubmit, SourceInbox, SourceProcess}

// Valid reports whether s is one of the sources.
func (s Source) Valid() bool { return slices.Contains(Sources, s) }

// Document is one stored document: a unique piece of content and what Quire
// learnt about it.
type Document struct {
	// ID is a ULID, so IDs sort by creation time.
	ID string
	// SHA256 is the content's SHA-256 in lowercase hex, unique.
	SHA256 string
	// Name is the file name it was received under.
	Name string
	// MIMEType is the detected media type.
	MIMEType string
	// Size is the content's length in bytes.
	Size int64
	// State is where the document is in the pipeline.
	State State
	// FailureReason says, for a person, why processing failed and what to
	// do about it. Empty unless State is StateFailed.
	FailureReason string
	// FailedStage is the stage that failed. Empty unless State is
	// StateFailed.
	FailedStage string
	// PageCount is the number of pages found; 0 until extracted.
	PageCount int
	// WordCount is the number of words in the text; 0 until extracted.
	WordCount int
	// Language is the detected language (ISO 639-1 where it has one); empty
	// until analysed.
	Language string
	// Title and Author come from the document's own metadata, when it has
	// any.
	Title, Author string
	// Summary is a short summary made by a model; empty until analysed.
	Summary string
	// Metadata is what else the document says of itself, by field:
	// "created", "modified" (RFC 3339), "pages", "sheets", "slides",
	// "duration", an email's "from" and "to", a recording's "artist"...
	// Which fields a document has depends on its format; nil until
	// extracted.
	Metadata map[string]string
	// TextTruncated reports that the saved text is the document's first
	// bytes only: extraction stopped at the text limit (--max-text-bytes),
	// so the text, its word count and the analyses miss the rest.
	TextTruncated bool
	// ParentID is the document (an email) this one was attached to; empty
	// for a document received on its own.
	ParentID string
	// Source says how the document came in.
	Source Source
	// BlobKey is the content's key in blob storage.
	BlobKey string
	// CreatedAt is when the document was first received; UpdatedAt when its
	// row last changed; DoneAt when it last reached StateDone, zero unless
	// State is StateDone.
	CreatedAt, UpdatedAt, DoneAt time.Time
}

// CreateDocumentParams are the inputs of CreateDocument.
type CreateDocumentParams struct {
	// SHA256 is the content's SHA-256 in lowercase hex. Required.
	SHA256 string
	// Name is the file name. Required.
	Name string
	// MIMEType is the detected media type. Defaults to
	// application/octet-stream.
	MIMEType string
	// Size is the content's length in bytes.
	Size int64
	// ParentID is the email this document was attached to, if any.
	ParentID string
	// Source says how the document came in. Required.
	Source Source
	// BlobKey is the content's key in blob storage. Required.
	BlobKey string
	// Events are the new document's first audit-trail entries, written
	// with it; nothing is written when the content was stored already.
	// Their DocumentID is ignored.
	Events []AddEventParams
}

// CreateDocumentResult is the outcome of one document of CreateDocuments:
// what CreateDocument would have returned for it.
type CreateDocumentResult struct {
	Document *Document
	Created  bool
	Err      error
}

func (p *CreateDocumentParams) validate() error {
	var errs []error
	if !validSHA256(p.SHA256) {
		errs = append(errs, fmt.Errorf("sha256 %q is not 64 lowercase hex digits", p.SHA256))
	}
	if p.Name == "" {
		errs = append(errs, errors.New("empty Name"))
	}
	if p.Size < 0 {
		errs = append(errs, fmt.Errorf("negative Size %d", p.Size))
	}
	if !p.Source.Valid() {
		errs = append(errs, fmt.Errorf("unknown Source %q: use one of %v", p.Source, Sources))
	}
	if p.BlobKey == "" {
		errs = append(errs, errors.New("empty BlobKey"))
	}
	for i := range p.Events {
		if err := p.Events[i].check(); err != nil {
			errs = append(errs, fmt.Errorf("event %d: %w", i, err))
		}
	}
	return invalid(errs...)
}

// ListDocumentsParams filter and page ListDocuments. Every filter is optional
// and they combine with AND.
type ListDocumentsParams struct {
	// State keeps documents in this state.
	State State
	// MIMEType keeps documents of this media type.
	MIMEType string
	// Query keeps documents whose text matches this full-text query (the
	// syntax of Search).
	Query string
	// ParentID keeps the attachments of this document.
	ParentID string
	// Tags keeps the documents carrying every one of these tags, named in
	// any case.
	Tags []string
	// Cursor continues a listing: pass the previous page's Next.
	Cursor string
	// Limit is the page size. Defaults to 50; at most 1,000.
	Limit int
}

// Limits of ListDocumentsParams.Limit and SearchParams.Limit.
const (
	ListLimitDefault = 50
	ListLimitMax     = 1000
)

// DocumentList is a page of ListDocuments.
type DocumentList struct {
	// Documents are the page's documents, newest first.
	Documents []Document
	// Next is the cursor of the next page; empty on the last page.
	Next string
}

// SetStateParams are the inputs of SetState.
//
// The move is checked twice. First against the state machine: every From
// state must be allowed to move to To (CanTransition), else the call is a
// programming error and fails with ErrIllegalTransition. Then, atomically,
// against the document: it moves only if it is in one of the From states.
// If it is already in To, nothing changes and SetState succeeds, so a stage
// that runs twice is harmless. Otherwise it fails with a *StateConflictError
// (errors.Is ErrStateConflict) naming the state it found.
type SetStateParams struct {
	// ID is the document's ID.
	ID string
	// From are the states the caller expects the document to be in.
	From []State
	// To is the state to move to.
	To State
	// Reason says why processing failed, in words a person can act on
	// ("the PDF is encrypted: upload it without a password"). Required
	// when To is StateFailed, ignored otherwise.
	Reason string
	// Stage is the pipeline stage that failed ("extract", "ocr", …). Used
	// when To is StateFailed; defaults to the state the document was in.
	Stage string

	// What the stage that moves the document produced. It is saved in the
	// same transaction as the move, and only if the document moves: a
	// stage's results and the state that announces them are never seen
	// apart, and a repeated run that finds the document already moved
	// writes nothing twice. One transaction instead of one per result is
	// also what lets the pipeline keep up with a high document rate.

	// Pages, when not nil, replace the document's pages, as SavePages does.
	Pages []Page
	// Text, when not nil, replaces the document's text, as SaveText does;
	// its DocumentID is ignored.
	Text *SaveTextParams
	// Analyses are saved as SaveAnalysis saves each; their DocumentID is
	// ignored.
	Analyses []*SaveAnalysisParams
	// Events are appended to the audit trail; their DocumentID is
	// ignored.
	Events []AddEventParams
	// Tags, when not nil, replace the tags the pipeline set on the
	// document (MachineSetBy): each is assigned unless the document has
	// it already, by whoever, and the pipeline's assignments not among
	// them are removed. Tags people set stay.
	Tags []TagAssignment
	// MIMEType, when not empty, replaces the document's media type: the
	// extract stage detects it again from the whole content, where ingest
	// saw only the first bytes (a ZIP's central directory, a CFB
	// container's directory, tell what the container is).
	MIMEType string

	// Unsynced lets a move with results return before its commit reaches
	// the disk (PostgreSQL's synchronous_commit off, SQLite's synchronous
	// NORMAL): a crash of the database's machine may undo it, whole, never
	// in part; a crash of a process cannot. It is for moves that can be
	// made again: the pipeline's next stage finds such a document in its
	// earlier state and runs the lost stage again. The next synced commit
	// makes it durable too. A disk flush per stage would otherwise bound
	// the pipeline's rate.
	Unsynced bool
}

func (p *SetStateParams) validate() error {
	if p.ID == "" {
		return invalid(errors.New("empty ID"))
	}
	if !p.To.Valid() {
		return invalid(fmt.Errorf("state %q is not one of %v", p.To, States))
	}
	if len(p.From) == 0 {
		return invalid(errors.New("empty From: name the states the document may move from"))
	}
	for _, f := range p.From {
		if !CanTransition(f, p.To) {
			return fmt.Errorf("%w: %s → %s", ErrIllegalTransition, f, p.To)
		}
	}
	if p.To == StateFailed && strings.TrimSpace(p.Reason) == "" {
		return invalid(errors.New("a document that fails needs a Reason"))
	}
	var errs []error
	if p.Pages != nil {
		errs = append(errs, validatePages(p.Pages))
	}
	seen := make(map[string]bool, len(p.Analyses))
	for _, a := range p.Analyses {
		a.DocumentID = p.ID
		errs = append(errs, a.validate())
		if seen[a.ModelVersion] {
			errs = append(errs, invalid(fmt.Errorf("model version %q analysed twice", a.ModelVersion)))
		}
		seen[a.ModelVersion] = true
	}
	for i := range p.Events {
		p.Events[i].DocumentID = p.ID
		errs = append(errs, p.Events[i].validate())
	}
	for _, t := range p.Tags {
		if t.Tag == "" || !MachineSetBy(t.SetBy) {
			errs = append(errs, invalid(fmt.Errorf("tag %q set by %q: the pipeline sets named tags, as %q or %q…", t.Tag, t.SetBy, SetByRule, SetByClassifierPrefix)))
		}
	}
	return errors.Join(errs...)
}

// hasResults reports whether the move carries a stage's results.
func (p *SetStateParams) hasResults() bool {
	return p.Pages != nil || p.Text != nil || len(p.Analyses) > 0 || len(p.Events) > 0 || p.Tags != nil
}

// ErrIllegalTransition is returned (wrapped) by SetState for a move the state
// machine does not allow, such as received → done.
var ErrIllegalTransition = errors.New("illegal state transition")

// ErrStateConflict matches a *StateConflictError.
var ErrStateConflict = errors.New("state conflict")

// StateConflictError is returned by SetState when the document is in none of
// the states the caller expected: another run of the pipeline moved it, or it
// was reprocessed.
type StateConflictError struct {
	ID      string
	Current State   // the state the document is in
	From    []State // the states the caller expected
	To      State
}

func (e *StateConflictError) Error() string {
	return fmt.Sprintf("document %s is %s, not %s: cannot move it to %s", e.ID, e.Current, joinStates(e.From), e.To)
}

// Is makes errors.Is(err, ErrStateConflict) true.
func (e *StateConflictError) Is(target error) bool { return target == ErrStateConflict }

func joinStates(ss []State) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, " or ")
}

// Stats are counts of documents.
type Stats struct {
	// Documents is the number of documents.
	Documents int64
	// ByState counts documents per state; every state is present.
	ByState map[State]int64
}

func validSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// invalid joins errs and marks them ErrInvalid; nil when there are none.
func invalid(errs ...error) error {
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}
