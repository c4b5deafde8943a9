package ml

// Document is what the Analyzer reads of a document: its text, and the
// title and author that the classifiers read before it, as they did in
// training (DocumentText).
type Document struct {
	// Title and Author are the document's, as extraction found them.
	// Optional.
	Title, Author string
	// Text is the document's extracted text.
	Text string
}

// Result is what one model version found in a document. The Analyzer
// returns one per model version; package mlpipeline saves each as the
// store's analysis of that version.
type Result struct {
	// ModelVersion identifies the model: a LoadedModel's ID for a
	// classifier, the version a RemoteClassifier gave, or one of
	// LanguageModelVersion and TextModelVersion.
	ModelVersion string
	// Entities found, keywords (EntityKeyword) last.
	Entities []Entity
	// Classifications given.
	Classifications []Classification
	// Language is the document's language (an ISO 639-1 code) when this is
	// the result of language identification, or "".
	Language string
	// Summary is the document's extractive summary when this is the
	// result of the text analyses, or "".
	Summary string
}

// Entity is something found in a document's text: a person, a place, a
// date, a keyword.
type Entity struct {
	// Kind says what it is: one of the Entity… kinds (EntityDate,
	// EntityKeyword, …).
	Kind string
	// Value is the text found, or its normalised form.
	Value string
	// Start and End are the byte offsets of the match in the text (Start
	// inclusive, End exclusive). Both are 0 when the entity has no single
	// position, as keywords have.
	Start, End int
	// Confidence is the model's confidence, from 0 to 1.
	Confidence float64
}

// Classification is a label a model gave a document, prefixed with the
// model's name ("doctype:invoice", "language:en").
type Classification struct {
	Label string
	// Confidence is the model's confidence, from 0 to 1.
	Confidence float64
}
