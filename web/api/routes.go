package api

import (
	"net/http"

	"github.com/quirehq/quire/web/auth"
)

// route is one route of the API: its pattern, the scope a token needs, its
// handler and what the OpenAPI document says of it.
type route struct {
	Method, Path string
	// Scope is what a token needs to use the route.
	Scope auth.Scope
	// ID is the OpenAPI operationId.
	ID      string
	Summary string
	// Query lists the query parameters; path parameters come from Path.
	Query []param
	// Body is the request body: a value of the JSON type, or rawBody for
	// an upload.
	Body any
	// Status is the success status; Resp a value of the JSON type of its
	// body (nil for none), or a media type string for a body that is not
	// JSON.
	Status int
	Resp   any
	// Headers lists the headers of a success answer that clients read.
	Headers []param
	handle  func(a *api, w http.ResponseWriter, r *http.Request)
}

func (rt *route) pattern() string { return rt.Method + " " + rt.Path }

// param is a query parameter.
type param struct {
	Name, Type, Description string
}

// rawBody marks an upload: multipart/form-data or the raw content.
type rawBody struct{}

// routes is every route of the API, in the order of the OpenAPI document.
func routes() []route {
	pageParams := []param{
		{"cursor", "string", "Continue a listing: the cursor of the previous page's next link."},
		{"limit", "integer", "Page size, 1 to 1000. Defaults to 50."},
	}
	return []route{
		{Method: "GET", Path: "/api/v1/documents", Scope: auth.ScopeRead, ID: "listDocuments",
			Summary: "List documents, newest first, a page at a time, with filters and full-text search.",
			Query: append([]param{
				{"state", "string", "Keep documents in this state: received, extracting, analyzing, indexed, done or failed."},
				{"q", "string", "Keep documents whose text matches this full-text query."},
				{"parent", "string", "Keep the attachments of this document."},
				{"mime_type", "string", "Keep documents of this media type."},
				{"tag", "string", "Keep documents carrying every one of these tags: comma-separated names, or the parameter repeated."},
			}, pageParams...),
			Status: http.StatusOK, Resp: List{}, handle: (*api).list},
		{Method: "POST", Path: "/api/v1/documents", Scope: auth.ScopeWrite, ID: "uploadDocument",
			Summary: "Upload a document, as a multipart form's \"file\" part or as the raw body; 201 when new, 200 when its content was stored already.",
			Query:   []param{{"name", "string", "The file name of a raw upload; else Content-Disposition's filename."}},
			Body:    rawBody{}, Status: http.StatusCreated, Resp: Document{}, handle: (*api).upload},
		{Method: "POST", Path: "/api/v1/documents/bulk", Scope: auth.ScopeWrite, ID: "bulkDocuments",
			Summary: "Tag, untag, label, reprocess or delete documents chosen by ids or by the list's filters, at most 1,000 at once; each change is on the document's audit trail.",
			Body:    BulkParams{}, Status: http.StatusOK, Resp: BulkResult{}, handle: (*api).bulk},
		{Method: "GET", Path: "/api/v1/documents/{id}", Scope: auth.ScopeRead, ID: "getDocument",
			Summary: "Get a document.", Status: http.StatusOK, Resp: Document{}, handle: (*api).get},
		{Method: "DELETE", Path: "/api/v1/documents/{id}", Scope: auth.ScopeWrite, ID: "deleteDocument",
			Summary: "Delete a document with its text, results, labels and events.", Status: http.StatusNoContent, handle: (*api).deleteDocument},
		{Method: "GET", Path: "/api/v1/documents/{id}/events", Scope: auth.ScopeRead, ID: "listDocumentEvents",
			Summary: "List a document's processing events, oldest first.", Status: http.StatusOK, Resp: EventList{}, handle: (*api).events},
		{Method: "GET", Path: "/api/v1/documents/{id}/labels", Scope: auth.ScopeRead, ID: "listDocumentLabels",
			Summary: "List a document's labels.", Status: http.StatusOK, Resp: LabelList{}, handle: (*api).listLabels},
		{Method: "POST", Path: "/api/v1/documents/{id}/labels", Scope: auth.ScopeWrite, ID: "addDocumentLabel",
			Summary: "Label a document, for training; labelling it again with the same label changes nothing.",
			Body:    LabelParams{}, Status: http.StatusCreated, Resp: Label{}, handle: (*api).addLabel},
		{Method: "DELETE", Path: "/api/v1/documents/{id}/labels/{label}", Scope: auth.ScopeWrite, ID: "deleteDocumentLabel",
			Summary: "Remove a label from a document.", Status: http.StatusNoContent, handle: (*api).deleteLabel},
		{Method: "GET", Path: "/api/v1/documents/{id}/tags", Scope: auth.ScopeRead, ID: "listDocumentTags",
			Summary: "List a document's tags with who set each.", Status: http.StatusOK, Resp: DocumentTagList{}, handle: (*api).listDocumentTags},
		{Method: "POST", Path: "/api/v1/documents/{id}/tags", Scope: auth.ScopeWrite, ID: "addDocumentTags",
			Summary: "Tag a document; tags it has already stay as they are. Answers with its tags.",
			Body:    DocumentTagParams{}, Status: http.StatusOK, Resp: DocumentTagList{}, handle: (*api).addDocumentTags},
		{Method: "DELETE", Path: "/api/v1/documents/{id}/tags/{tag}", Scope: auth.ScopeWrite, ID: "deleteDocumentTag",
			Summary: "Remove a tag from a document, whoever set it.", Status: http.StatusNoContent, handle: (*api).deleteDocumentTag},
		{Method: "GET", Path: "/api/v1/documents/{id}/original", Scope: auth.ScopeRead, ID: "downloadDocument",
			Summary: "Download the document as it was uploaded.", Status: http.StatusOK, Resp: "application/octet-stream", handle: (*api).original},
		{Method: "POST", Path: "/api/v1/documents/{id}/reprocess", Scope: auth.ScopeWrite, ID: "reprocessDocument",
			Summary: "Run a done or failed document through the pipeline again.", Status: http.StatusAccepted, Resp: Document{}, handle: (*api).reprocess},
		{Method: "GET", Path: "/api/v1/documents/{id}/results", Scope: auth.ScopeRead, ID: "getDocumentResults",
			Summary: "Get what the models found in a document: language, summary, classifications and entities.",
			Status:  http.StatusOK, Resp: Results{}, handle: (*api).results},
		{Method: "GET", Path: "/api/v1/documents/{id}/text", Scope: auth.ScopeRead, ID: "getDocumentText",
			Summary: "Get a document's extracted text.", Status: http.StatusOK, Resp: "text/plain",
			Headers: []param{{TextTruncatedHeader, "boolean", "true when the text is the document's first bytes only: " +
				"extraction stopped at the text limit (--max-text-bytes); false otherwise. The document's text_truncated says the same."}},
			handle: (*api).text},
		{Method: "GET", Path: "/api/v1/documents/{id}/thumbnail", Scope: auth.ScopeRead, ID: "getDocumentThumbnail",
			Summary: "Get a JPEG of the document's first page, at most 400 pixels on its longer side; 404 when it has none. " +
				"The ETag is its content's SHA-256 and the preview's version: send it as If-None-Match for a 304.",
			Status: http.StatusOK, Resp: "image/jpeg",
			Headers: []param{{"ETag", "string", "The preview's entity tag."}, {"Cache-Control", "string", "private, max-age=86400"}},
			handle:  (*api).thumbnail},

		{Method: "GET", Path: "/api/v1/search", Scope: auth.ScopeRead, ID: "searchDocuments",
			Summary: "Search the documents' text: hits ranked by relevance (or by date) with highlighted snippets, facet counts and cursor paging.",
			Query:   searchQueryParams(), Status: http.StatusOK, Resp: SearchResults{}, handle: (*api).search},

		{Method: "GET", Path: "/api/v1/jobs", Scope: auth.ScopeRead, ID: "listJobs",
			Summary: "List jobs in one state (ready, running, scheduled, retry or dead), a page at a time.",
			Query: []param{{"state", "string", "ready, running, scheduled, retry or dead. Required."},
				{"queue", "string", "Keep jobs of this queue."},
				{"offset", "integer", "Skip that many jobs."},
				{"limit", "integer", "Page size, 1 to 1000. Defaults to 25."}},
			Status: http.StatusOK, Resp: JobList{}, handle: (*api).listJobs},
		{Method: "GET", Path: "/api/v1/jobs/stats", Scope: auth.ScopeRead, ID: "getJobStats",
			Summary: "Get the job engine's counters, with daily and per-minute history.",
			Query: []param{{"days", "integer", "Days of daily history, 1 to 90. Defaults to 1."},
				{"minutes", "integer", "Minutes of per-minute history, the current one first, 1 to 2880 (the two days the engine keeps). Defaults to none."}},
			Status: http.StatusOK, Resp: JobStats{}, handle: (*api).jobStats},
		{Method: "DELETE", Path: "/api/v1/jobs/{id}", Scope: auth.ScopeAdmin, ID: "deleteJob",
			Summary: "Delete a ready, scheduled, retry or dead job.",
			Query:   []param{{"state", "string", "The set to look in; by default retry, dead, scheduled, then ready."}},
			Status:  http.StatusNoContent, handle: (*api).deleteJob},
		{Method: "POST", Path: "/api/v1/jobs/{id}/retry", Scope: auth.ScopeAdmin, ID: "retryJob",
			Summary: "Make a scheduled, retry or dead job ready now.",
			Query:   []param{{"state", "string", "The set to look in; by default retry, dead, then scheduled."}},
			Status:  http.StatusNoContent, handle: (*api).retryJob},
		{Method: "GET", Path: "/api/v1/models", Scope: auth.ScopeRead, ID: "listModelVersions",
			Summary: "List model versions, newest first, with their metrics.",
			Query: []param{{"kind", "string", "Keep versions of this kind (classifier, entities, language, …)."},
				{"name", "string", "Keep versions of this model name."},
				{"active", "boolean", "true keeps the active versions only."}},
			Status: http.StatusOK, Resp: ModelVersionList{}, handle: (*api).listModels},
		{Method: "GET", Path: "/api/v1/models/{id}", Scope: auth.ScopeRead, ID: "getModelVersion",
			Summary: "Get a model version with its metrics.", Status: http.StatusOK, Resp: ModelVersion{}, handle: (*api).getModel},
		{Method: "POST", Path: "/api/v1/models/{id}/activate", Scope: auth.ScopeAdmin, ID: "activateModelVersion",
			Summary: "Make a model version the active one of its kind and name.", Status: http.StatusOK, Resp: ModelVersion{}, handle: (*api).activateModel},

		{Method: "GET", Path: "/api/v1/processes", Scope: auth.ScopeRead, ID: "listProcesses",
			Summary: "List the live worker processes with their running jobs.", Status: http.StatusOK, Resp: ProcessList{}, handle: (*api).processes},
		{Method: "GET", Path: "/api/v1/queues", Scope: auth.ScopeRead, ID: "listQueues",
			Summary: "List the queues with their sizes and latencies.", Status: http.StatusOK, Resp: QueueList{}, handle: (*api).queues},
		{Method: "POST", Path: "/api/v1/queues/{name}/pause", Scope: auth.ScopeAdmin, ID: "pauseQueue",
			Summary: "Stop every worker from fetching from a queue.", Status: http.StatusNoContent, handle: (*api).pauseQueue},
		{Method: "POST", Path: "/api/v1/queues/{name}/resume", Scope: auth.ScopeAdmin, ID: "resumeQueue",
			Summary: "Let workers fetch from a paused queue again.", Status: http.StatusNoContent, handle: (*api).resumeQueue},

		{Method: "GET", Path: "/api/v1/stats", Scope: auth.ScopeRead, ID: "getStats",
			Summary: "Count documents by state.", Status: http.StatusOK, Resp: Stats{}, handle: (*api).stats},

		{Method: "GET", Path: "/api/v1/tags", Scope: auth.ScopeRead, ID: "listTags",
			Summary: "List tags by name, with their rules and document counts.", Status: http.StatusOK, Resp: TagList{}, handle: (*api).listTags},
		{Method: "POST", Path: "/api/v1/tags", Scope: auth.ScopeWrite, ID: "createTag",
			Summary: "Create a tag, with the rule that sets it as documents are processed; names are unique in any case.",
			Body:    TagParams{}, Status: http.StatusCreated, Resp: Tag{}, handle: (*api).createTag},
		{Method: "GET", Path: "/api/v1/tags/{name}", Scope: auth.ScopeRead, ID: "getTag",
			Summary: "Get a tag, named in any case.", Status: http.StatusOK, Resp: Tag{}, handle: (*api).getTag},
		{Method: "PATCH", Path: "/api/v1/tags/{name}", Scope: auth.ScopeWrite, ID: "updateTag",
			Summary: "Rename a tag or change its color or rule; fields left out stay.",
			Body:    TagParams{}, Status: http.StatusOK, Resp: Tag{}, handle: (*api).updateTag},
		{Method: "DELETE", Path: "/api/v1/tags/{name}", Scope: auth.ScopeWrite, ID: "deleteTag",
			Summary: "Delete a tag; documents lose it.", Status: http.StatusNoContent, handle: (*api).deleteTag},

		{Method: "GET", Path: "/api/v1/tokens", Scope: auth.ScopeAdmin, ID: "listTokens",
			Summary: "List API tokens, without their secrets.", Status: http.StatusOK, Resp: TokenList{}, handle: (*api).listTokens},
		{Method: "POST", Path: "/api/v1/tokens", Scope: auth.ScopeAdmin, ID: "createToken",
			Summary: "Issue an API token; the answer holds the token, shown this once only.",
			Body:    TokenParams{}, Status: http.StatusCreated, Resp: Token{}, handle: (*api).createToken},
		{Method: "DELETE", Path: "/api/v1/tokens/{id}", Scope: auth.ScopeAdmin, ID: "deleteToken",
			Summary: "Revoke an API token.", Status: http.StatusNoContent, handle: (*api).deleteToken},

		{Method: "GET", Path: "/api/v1/views", Scope: auth.ScopeRead, ID: "listViews",
			Summary: "List the caller's saved views and the shared ones, by name.",
			Query:   []param{{"dashboard", "boolean", "true keeps the views shown on the dashboard."}},
			Status:  http.StatusOK, Resp: SavedViewList{}, handle: (*api).listViews},
		{Method: "POST", Path: "/api/v1/views", Scope: auth.ScopeRead, ID: "createView",
			Summary: "Save a view of the document list: a name, a query, filters, a sort, whether the dashboard shows it and whether everyone sees it.",
			Body:    SavedViewParams{}, Status: http.StatusCreated, Resp: SavedView{}, handle: (*api).createView},
		{Method: "GET", Path: "/api/v1/views/{id}", Scope: auth.ScopeRead, ID: "getView",
			Summary: "Get a saved view: the caller's or a shared one.", Status: http.StatusOK, Resp: SavedView{}, handle: (*api).getView},
		{Method: "PATCH", Path: "/api/v1/views/{id}", Scope: auth.ScopeRead, ID: "updateView",
			Summary: "Change a saved view of the caller's; fields left out stay.",
			Body:    SavedViewParams{}, Status: http.StatusOK, Resp: SavedView{}, handle: (*api).updateView},
		{Method: "DELETE", Path: "/api/v1/views/{id}", Scope: auth.ScopeRead, ID: "deleteView",
			Summary: "Delete a saved view of the caller's.", Status: http.StatusNoContent, handle: (*api).deleteView},

		{Method: "GET", Path: "/api/v1/webhooks", Scope: auth.ScopeAdmin, ID: "listWebhooks",
			Summary: "List webhooks, oldest first, without their secrets.", Status: http.StatusOK, Resp: WebhookList{}, handle: (*api).listWebhooks},
		{Method: "POST", Path: "/api/v1/webhooks", Scope: auth.ScopeAdmin, ID: "createWebhook",
			Summary: "Register a webhook; the answer holds its signing secret, shown this once only.",
			Body:    WebhookParams{}, Status: http.StatusCreated, Resp: Webhook{}, handle: (*api).createWebhook},
		{Method: "GET", Path: "/api/v1/webhooks/{id}", Scope: auth.ScopeAdmin, ID: "getWebhook",
			Summary: "Get a webhook, without its secret.", Status: http.StatusOK, Resp: Webhook{}, handle: (*api).getWebhook},
		{Method: "PATCH", Path: "/api/v1/webhooks/{id}", Scope: auth.ScopeAdmin, ID: "updateWebhook",
			Summary: "Change a webhook's URL, secret, events or active flag; fields left out stay.",
			Body:    WebhookParams{}, Status: http.StatusOK, Resp: Webhook{}, handle: (*api).updateWebhook},
		{Method: "DELETE", Path: "/api/v1/webhooks/{id}", Scope: auth.ScopeAdmin, ID: "deleteWebhook",
			Summary: "Delete a webhook.", Status: http.StatusNoContent, handle: (*api).deleteWebhook},
	}
}

// RouteInfo describes a route of the API for those who check it from
// outside, such as a test that every route is behind authentication.
type RouteInfo struct {
	Method, Path string
	// Scope is what a token needs.
	Scope auth.Scope
}

// Routes lists every route of the API but the public OpenAPI document.
func Routes() []RouteInfo {
	rs := routes()
	out := make([]RouteInfo, len(rs))
	for i, rt := range rs {
		out[i] = RouteInfo{Method: rt.Method, Path: rt.Path, Scope: rt.Scope}
	}
	return out
}
