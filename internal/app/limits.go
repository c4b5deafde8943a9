package app

import (
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/quirehq/quire/extract"
	"github.com/quirehq/quire/internal/bytesize"
)

// LimitSettings are the global per-document limits of every process that
// takes documents in or extracts them (up, process, serve --role web and
// worker, bench pipeline, ml train and predict), and the languages its OCR
// reads. Together with the job concurrency the limits bound a worker's
// memory: docs/operations.md ("Memory budget") adds them up.
type LimitSettings struct {
	// PDFWorkers is how many PDF engines the extractor keeps; 0, the
	// default. Only the pipeline benchmark sets it (--pdf-workers).
	PDFWorkers int
	// MaxDocumentBytes is the largest document accepted. Defaults to
	// extract.MaxBytesDefault (100 MiB).
	MaxDocumentBytes bytesize.Size
	// MaxTextBytes is the most text kept of one document; past it the
	// document is done, its text truncated. Defaults to
	// extract.MaxTextDefault (16 MiB); -1 keeps every byte.
	MaxTextBytes bytesize.Size
	// MaxPDFMemory is the memory one PDF engine instance may use. Defaults
	// to extract.MaxPDFMemoryDefault (192 MiB).
	MaxPDFMemory bytesize.Size
	// OfficeConverter is LibreOffice's soffice, which converts the formats
	// without a Go reader (extract/convert.go). Defaults to soffice or
	// libreoffice on PATH when installed; "off" turns it off.
	OfficeConverter string
	// OfficeConverterSlots is how many LibreOffice processes convert side
	// by side. Defaults to extract.ConverterSlotsDefault (2).
	OfficeConverterSlots int
	// OCRLanguages are the tesseract languages OCR chooses from, joined by
	// "+": "eng+deu+fra". Each must be installed, or the process stops at
	// start. Defaults to every language installed.
	OCRLanguages string
}

// Bounds of the limit settings: below them nothing real could be read.
const (
	maxDocumentBytesMin = 1 << 10
	maxTextBytesMin     = 1 << 10
	maxPDFMemoryMin     = 32 << 20
	maxPDFMemoryMax     = 4 << 30 // WebAssembly's own
	// officeConverterSlotsMax bounds the LibreOffice processes: 64 of
	// them already hold 10 to 16 GB.
	officeConverterSlotsMax = 64
)

// AddFlags adds the per-document limits to fs, each with its environment
// variable.
func (s *LimitSettings) AddFlags(fs *pflag.FlagSet) {
	s.MaxDocumentBytes = extract.MaxBytesDefault
	s.MaxTextBytes = extract.MaxTextDefault
	s.MaxPDFMemory = extract.MaxPDFMemoryDefault
	fs.Var(&s.MaxDocumentBytes, "max-document-bytes", "largest document accepted (uploads, submits, files fed to process): a number of bytes or 100MiB, 1GiB…")
	fs.Var(&s.MaxTextBytes, "max-text-bytes", "most text kept of one document; past it the document is done with its text truncated, and reading stops there (-1: no limit)")
	fs.Var(&s.MaxPDFMemory, "max-pdf-memory", "memory one PDF engine instance may use; a PDF that needs more fails on this limit")
	fs.StringVar(&s.OfficeConverter, "office-converter", "", "LibreOffice's soffice, which reads WordPerfect, Works, Publisher, Visio, Lotus 1-2-3, HWP 3 and other formats without a Go reader (default: soffice or libreoffice on PATH; off: none)")
	fs.IntVar(&s.OfficeConverterSlots, "office-converter-slots", extract.ConverterSlotsDefault, "LibreOffice processes kept running to convert documents side by side, 150 to 250 MB each once used")
	WithEnv(fs, "office-converter")
	WithEnv(fs, "office-converter-slots")
	fs.StringVar(&s.OCRLanguages, "ocr-languages", "", "tesseract languages OCR chooses from, per document, by the language of its text: eng+deu+fra… (default: every language installed)")
	for _, name := range []string{"max-document-bytes", "max-text-bytes", "max-pdf-memory", "ocr-languages"} {
		WithEnv(fs, name)
	}
}

func (s *LimitSettings) validate() error {
	if s.MaxDocumentBytes < maxDocumentBytesMin {
		return Usagef("invalid %s %s: it must be at least %s", Setting("max-document-bytes"), s.MaxDocumentBytes, bytesize.Format(maxDocumentBytesMin))
	}
	if s.MaxTextBytes != -1 && s.MaxTextBytes < maxTextBytesMin {
		return Usagef("invalid %s %s: it must be at least %s, or -1 for no limit", Setting("max-text-bytes"), s.MaxTextBytes, bytesize.Format(maxTextBytesMin))
	}
	if s.MaxPDFMemory < maxPDFMemoryMin || s.MaxPDFMemory > maxPDFMemoryMax {
		return Usagef("invalid %s %s: it must be between %s and %s", Setting("max-pdf-memory"), s.MaxPDFMemory,
			bytesize.Format(maxPDFMemoryMin), bytesize.Format(maxPDFMemoryMax))
	}
	if s.OCRLanguages != "" && slices.Contains(strings.Split(s.OCRLanguages, "+"), "") {
		return Usagef("invalid %s %q: name languages joined by +, as in eng+deu", Setting("ocr-languages"), s.OCRLanguages)
	}
	if _, err := extract.LookupOfficeConverter(s.OfficeConverter); err != nil {
		return Usagef("invalid %s %q: it is not a command; name LibreOffice's soffice, or off", Setting("office-converter"), s.OfficeConverter)
	}
	if s.OfficeConverterSlots < 1 || s.OfficeConverterSlots > officeConverterSlotsMax {
		return Usagef("invalid %s %d: it must be between 1 and %d", Setting("office-converter-slots"), s.OfficeConverterSlots, officeConverterSlotsMax)
	}
	return nil
}

// extractConfig is the extractor's configuration under these settings.
func (s *LimitSettings) extractConfig(pdfWorkers int) extract.Config {
	return extract.Config{PDFWorkers: pdfWorkers, OCRLanguages: s.OCRLanguages, Limits: extract.Limits{
		MaxBytes:     int64(s.MaxDocumentBytes),
		MaxText:      int64(s.MaxTextBytes),
		MaxPDFMemory: int64(s.MaxPDFMemory),
	}, OfficeConverter: s.OfficeConverter, ConverterSlots: s.OfficeConverterSlots}
}

// NewExtractor returns an extractor under these settings. Languages named
// by --ocr-languages must be installed: a worker that would fail every
// document needing OCR stops at start instead, naming the package to
// install. Without the setting OCR is looked for on first use, and its
// absence fails only the documents that need it.
func (s *LimitSettings) NewExtractor(pdfWorkers int) (*extract.Extractor, error) {
	x := extract.New(s.extractConfig(pdfWorkers))
	if s.OCRLanguages == "" {
		return x, nil
	}
	if _, err := x.OCRLanguages(); err != nil {
		_ = x.Close()
		return nil, Usagef("invalid %s %q: %w", Setting("ocr-languages"), s.OCRLanguages, err)
	}
	return x, nil
}
