package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Store is the relational store: every role below, and the store's
// lifecycle. Every method is safe for concurrent use. Methods that take a
// document ID return an error matching ErrNotFound when there is no such
// document.
//
// Only what needs the whole store (the process's wiring that opens,
// migrates and hands it out; the conformance suite) takes a Store. Everything else declares
// the roles it uses, as an interface of its own made of the roles here:
// the pipeline's stages do not see users, nor the web's sign-in documents.
type Store interface {
	Documents
	Texts
	Analyses
	Events
	Labels
	ModelVersions
	Tags
	Views
	Webhooks
	Access
	Previews

	// Backend names the backend: "postgres" or "sqlite".
	Backend() string
	// Close releases the store's connections.
	Close() error
	// Migrate brings the schema up to this version of Quire. It is safe to
	// run again, and from several processes at once: they take turns, and
	// each migration is applied once, in a transaction with its record in
	// schema_migrations.
	Migrate(ctx context.Context) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
}

// Documents is the store's role of documents: recording them, reading them
// and moving them through the pipeline's state machine.
type Documents interface {
	// CreateDocument records a newly received document in StateReceived. It
	// is idempotent on the content: when a document with the same SHA256
	// exists, it returns that document and created false, and stores
	// nothing.
	CreateDocument(ctx context.Context, p *CreateDocumentParams) (doc *Document, created bool, err error)
	// CreateDocuments is CreateDocument for many documents at once: their
	// records are written together, with one commit, which is what a
	// client uploading many small files waits for. Each has its own
	// outcome, in the order of ps; identical content among ps is recorded
	// once, the later ones finding the earlier. The error is for the call
	// as a whole (its context ended): then nothing is known of any.
	CreateDocuments(ctx context.Context, ps []*CreateDocumentParams) ([]CreateDocumentResult, error)
	// DeleteDocument deletes a document with its pages, text, analysis,
	// labels and events. Its attachments stay, without a parent. The blob is
	// the caller's to delete.
	DeleteDocument(ctx context.Context, id string) error
	// GetDocument returns the document with the given ID.
	GetDocument(ctx context.Context, id string) (*Document, error)
	// GetDocumentBySHA returns the document whose content has the given
	// SHA-256 (64 lowercase hex digits).
	GetDocumentBySHA(ctx context.Context, sha256 string) (*Document, error)
	// ListDocuments lists documents newest first, a page at a time.
	ListDocuments(ctx context.Context, p *ListDocumentsParams) (*DocumentList, error)
	// SetState moves a document through the pipeline's state machine; see
	// SetStateParams.
	SetState(ctx context.Context, p *SetStateParams) (*Document, error)
	// Stats counts documents per state.
	Stats(ctx context.Context) (*Stats, error)
}

// Texts is the store's role of what extraction found: a document's pages
// and text, and the full-text search over the texts.
type Texts interface {
	// GetText returns a document's extracted text, or "" when none was
	// saved.
	GetText(ctx context.Context, documentID string) (string, error)
	// ListPages returns a document's pages in order.
	ListPages(ctx context.Context, documentID string) ([]Page, error)
	// SavePages replaces a document's pages and sets its page count.
	SavePages(ctx context.Context, documentID string, pages []Page) error
	// SaveText replaces a document's text, which full-text search indexes,
	// and sets its word count, title and author.
	SaveText(ctx context.Context, p *SaveTextParams) error
	// Search finds documents whose text matches a query, best match first
	// (or by date), a page at a time, each with a snippet of its text around
	// the match, and counts the matches by facet; see SearchParams.
	Search(ctx context.Context, p *SearchParams) (*SearchResult, error)
}

// Analyses is the store's role of what the models found in documents.
type Analyses interface {
	// GetAnalysis returns what every model version found in a document.
	GetAnalysis(ctx context.Context, documentID string) (*Analysis, error)
	// SaveAnalysis replaces the entities and classifications one model
	// version found in a document, and sets the document's language and
	// summary when given.
	SaveAnalysis(ctx context.Context, p *SaveAnalysisParams) error
}

// Events is the store's role of the documents' processing audit trail.
type Events interface {
	// AddEvent appends to a document's processing audit trail.
	AddEvent(ctx context.Context, p *AddEventParams) (*Event, error)
	// ListEvents returns a document's processing events, oldest first.
	ListEvents(ctx context.Context, documentID string) ([]Event, error)
}

// Labels is the store's role of the labels people give documents, which
// the classifiers are trained on.
type Labels interface {
	// AddLabel labels a document for training. Labelling a document again
	// with the same label returns the existing label unchanged.
	AddLabel(ctx context.Context, p *AddLabelParams) (*Label, error)
	// DeleteLabel removes a label from a document. Removing a label the
	// document does not have is not an error.
	DeleteLabel(ctx context.Context, documentID, label string) error
	// ListLabels lists labels, oldest first, optionally of one document or
	// one label.
	ListLabels(ctx context.Context, p *ListLabelsParams) ([]Label, error)
}

// Tags is the store's role of tags: the tags themselves with their
// matching rules, and which documents carry them. Tags are named in any
// case: "Invoice" and "invoice" are one tag.
type Tags interface {
	// CreateTag creates a tag; a name that is taken (in any case) fails
	// with ErrExists, a rule that can never match (a bad regular
	// expression) with ErrInvalid.
	CreateTag(ctx context.Context, p *CreateTagParams) (*Tag, error)
	// DeleteTag deletes a tag and its assignments.
	DeleteTag(ctx context.Context, name string) error
	// DocumentTagNames returns the names of the tags of each of the given
	// documents, sorted, in one query: what a page of documents shows.
	// Documents without tags are absent from the map.
	DocumentTagNames(ctx context.Context, documentIDs []string) (map[string][]string, error)
	// GetTag returns a tag with its document count.
	GetTag(ctx context.Context, name string) (*Tag, error)
	// ListDocumentTags lists tag assignments, oldest first.
	ListDocumentTags(ctx context.Context, p *ListDocumentTagsParams) ([]DocumentTag, error)
	// ListTagRules lists the tags that have a rule (Match is not
	// MatchNone), by name, without their document counts: what the
	// pipeline reads for its documents, cheaply.
	ListTagRules(ctx context.Context) ([]Tag, error)
	// ListTags lists every tag by name, with its document count.
	ListTags(ctx context.Context) ([]Tag, error)
	// ListTagNames lists every tag's name, in the order of ListTags,
	// without counting documents: what a page suggesting tags needs, at
	// the cost of reading the tags alone.
	ListTagNames(ctx context.Context) ([]string, error)
	// TagDocuments sets tags on documents. It is idempotent: an
	// assignment that exists stays as it is (with its SetBy). It returns
	// how many assignments are new. An unknown tag or document fails with
	// ErrNotFound, and nothing is set.
	TagDocuments(ctx context.Context, p *TagDocumentsParams) (int, error)
	// UntagDocuments removes tags from documents, whoever set them, and
	// returns how many assignments it removed. An unknown tag fails with
	// ErrNotFound.
	UntagDocuments(ctx context.Context, p *UntagDocumentsParams) (int, error)
	// UpdateTag replaces a tag's color and rule, and renames it.
	UpdateTag(ctx context.Context, p *UpdateTagParams) (*Tag, error)
}

// Views is the store's role of the saved views of the document list.
type Views interface {
	// CreateView saves a view; a name its owner used already fails with
	// ErrExists.
	CreateView(ctx context.Context, p *CreateViewParams) (*View, error)
	// DeleteView deletes a view of the owner's; another's is ErrNotFound.
	DeleteView(ctx context.Context, id, owner string) error
	// GetView returns a view.
	GetView(ctx context.Context, id string) (*View, error)
	// ListViews lists an owner's views and the shared ones, by name.
	ListViews(ctx context.Context, p *ListViewsParams) ([]View, error)
	// UpdateView replaces a view of the owner's; another's is
	// ErrNotFound.
	UpdateView(ctx context.Context, p *UpdateViewParams) (*View, error)
}

// ModelVersions is the store's role of the registry of trained models.
type ModelVersions interface {
	// ActivateModelVersion makes a model version the active one of its kind
	// and name, and every other version of them inactive.
	ActivateModelVersion(ctx context.Context, id string) (*ModelVersion, error)
	// CreateModelVersion registers a trained model. It is idempotent on
	// (kind, name, version): registering the same version again returns the
	// existing one unchanged.
	CreateModelVersion(ctx context.Context, p *CreateModelVersionParams) (*ModelVersion, error)
	// DeleteModelVersion deletes a model version. The predictions it made
	// stay, naming it.
	DeleteModelVersion(ctx context.Context, id string) error
	// GetModelVersion returns a model version.
	GetModelVersion(ctx context.Context, id string) (*ModelVersion, error)
	// ListModelVersions lists model versions, newest first.
	ListModelVersions(ctx context.Context, p *ListModelVersionsParams) ([]ModelVersion, error)
}

// Webhooks is the store's role of the registered webhooks.
type Webhooks interface {
	// CreateWebhook registers a webhook.
	CreateWebhook(ctx context.Context, p *CreateWebhookParams) (*Webhook, error)
	// DeleteWebhook deletes a webhook.
	DeleteWebhook(ctx context.Context, id string) error
	// GetWebhook returns a webhook.
	GetWebhook(ctx context.Context, id string) (*Webhook, error)
	// ListWebhooks lists every webhook, oldest first.
	ListWebhooks(ctx context.Context) ([]Webhook, error)
	// UpdateWebhook replaces a webhook's URL, secret, events and active flag.
	UpdateWebhook(ctx context.Context, p *UpdateWebhookParams) (*Webhook, error)
}

// Access is the store's roles of who may use Quire: API tokens, the web
// UI's users and their sessions.
type Access interface {
	APITokens
	Sessions
	Users
}

// APITokens is the store's role of the API tokens.
type APITokens interface {
	// CreateAPIToken stores a new API token; an ID that is taken fails with
	// ErrInvalid.
	CreateAPIToken(ctx context.Context, t *APIToken) error
	// DeleteAPIToken deletes (revokes) an API token.
	DeleteAPIToken(ctx context.Context, id string) error
	// GetAPIToken returns an API token.
	GetAPIToken(ctx context.Context, id string) (*APIToken, error)
	// ListAPITokens lists every API token, oldest first.
	ListAPITokens(ctx context.Context) ([]APIToken, error)
	// TouchAPIToken records when a token was last used.
	TouchAPIToken(ctx context.Context, id string, at time.Time) error
}

// Sessions is the store's role of the web UI's sessions.
type Sessions interface {
	// CreateSession stores a new web session; a missing user fails with
	// ErrNotFound.
	CreateSession(ctx context.Context, s *Session) error
	// DeleteExpiredSessions deletes the sessions expired at now and
	// returns how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
	// DeleteSession ends a session; ending one that does not exist is not
	// an error.
	DeleteSession(ctx context.Context, idHash []byte) error
	// GetSession returns the session whose id has the given SHA-256.
	GetSession(ctx context.Context, idHash []byte) (*Session, error)
	// TouchSession records a session's latest request.
	TouchSession(ctx context.Context, idHash []byte, at time.Time) error
}

// Users is the store's role of the web UI's users.
type Users interface {
	// CreateUser adds a user of the web UI; an email that is taken fails
	// with ErrInvalid.
	CreateUser(ctx context.Context, p *CreateUserParams) (*User, error)
	// GetUser returns a user.
	GetUser(ctx context.Context, id string) (*User, error)
	// GetUserByEmail returns the user of a login, in any case.
	GetUserByEmail(ctx context.Context, email string) (*User, error)
	// ListUsers lists every user, oldest first.
	ListUsers(ctx context.Context) ([]User, error)
	// SetUserPassword replaces a user's password hash and ends the user's
	// sessions.
	SetUserPassword(ctx context.Context, id, passwordHash string) error
}

// ErrNotFound is returned (wrapped) when a document, model version or webhook
// does not exist.
var ErrNotFound = errors.New("not found")

// ErrInvalid is returned (wrapped) for parameters that can never succeed,
// such as an unknown state or a confidence above 1.
var ErrInvalid = errors.New("invalid")

// Open opens the store at rawURL:
//
//   - postgres://user:password@host:5432/db?sslmode=disable (or
//     postgresql://…): PostgreSQL through a pgx connection pool. The pool
//     settings pgxpool reads from the URL apply: pool_max_conns is
//     max(4, number of CPUs) by default, which a worker running many stages
//     at once should raise (commits wait on the disk, not on the CPU), within
//     the server's max_connections.
//   - sqlite:///abs/path/quire.db, sqlite://./relative/quire.db, or a plain
//     file path: an embedded SQLite database, created with its directory
//     when missing. The query may set busy_timeout (a duration, 10s by
//     default) and synchronous (FULL by default, or NORMAL).
//
// Open checks that the database answers but does not change it: call
// Migrate before first use. Errors name the URL with its password masked.
func Open(ctx context.Context, rawURL string) (Store, error) {
	scheme, _, hasScheme := strings.Cut(rawURL, "://")
	if !hasScheme {
		scheme, _, _ = strings.Cut(rawURL, ":")
		if scheme != "sqlite" {
			scheme = "" // a plain path, which may hold a colon
		}
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		return openPostgres(ctx, rawURL)
	case "sqlite", "":
		if scheme == "" && strings.Contains(rawURL, "host=") {
			// A libpq "host=… dbname=…" string would otherwise become a
			// file of that name.
			return nil, fmt.Errorf("store: open %s: keyword/value connection strings are not supported: use a postgres:// URL", Redact(rawURL))
		}
		return openSQLite(ctx, rawURL)
	default:
		return nil, fmt.Errorf("store: open %s: %w: unsupported scheme %q: use postgres://… or sqlite:///path/to/quire.db", Redact(rawURL), ErrInvalid, scheme)
	}
}

// Redact returns rawURL with its password, in the user part or in a
// password parameter, replaced by "xxxxx", for messages and logs.
func Redact(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		rawURL = u.Redacted()
	} else if err != nil && strings.Contains(rawURL, "@") {
		return "(unparseable URL)" // it may hold a password
	}
	return passwordParam.ReplaceAllString(rawURL, "${1}xxxxx")
}

// passwordParam finds a password given as a URL query parameter or in a
// keyword/value connection string.
var passwordParam = regexp.MustCompile(`(?i)(\bpassword=)[^&\s]*`)
