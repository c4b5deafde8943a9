// Package ml is Quire's embedded machine learning: it reads a document's
// text and finds its language, entities (emails, URLs, phone numbers,
// dates, money amounts, IBANs, people and places), keywords and a short
// extractive summary, and classifies it with models trained on the users'
// own labels.
//
// The parts, from the bottom up:
//
//   - Tokenizer splits text into words at Unicode (UAX #29) word
//     boundaries, drops stop words and stems with Snowball, per language.
//   - Vectorizer turns tokens into word n-gram features weighted by
//     TF-IDF.
//   - Train fits a Model: multinomial Naive Bayes (the baseline) or
//     logistic regression, whose confidence is calibrated by temperature
//     scaling on a held-out part of the training data; predictions below
//     the model's UnsureBelow are reported as unsure.
//   - Encode and Decode write and read a model as a versioned artifact:
//     bytes the caller keeps in blob storage. Package mlpipeline registers
//     them as model versions in the store (Publish) and loads the active
//     ones (Refresh, Reloader).
//   - Analyzer finds all of the above in a document and returns it as
//     Results, one per model version. It is safe for concurrent use and
//     swaps in new model versions without a restart. Package mlpipeline
//     makes it the pipeline's analyzer, and maps its Results to the
//     store's analyses.
//
// Package ml imports nothing of store, pipeline, jobs or web: the models
// know nothing of where their results are kept nor of who runs them.
//
// Language identification (NgramIdentifier) decides a language written in
// a script of its own by the script, and the others by the n-grams of
// their words, with a model of 850 KB built from lingua-go's n-gram
// frequencies (ml/internal/langid).
package ml
