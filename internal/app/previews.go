package app

import (
	"github.com/spf13/pflag"

	"github.com/quirehq/quire/pipeline"
)

// PreviewSettings are the settings of the documents' previews (thumbnails
// of their first pages, made by the extract stage).
type PreviewSettings struct {
	// Enabled makes a preview of each document that can have one.
	// Defaults to true.
	Enabled bool
}

// AddFlags adds the preview settings to fs, each with its environment
// variable.
func (s *PreviewSettings) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&s.Enabled, "previews", true, "make a thumbnail of each document's first page (PDFs, images, office documents that carry a picture of themselves) while extracting it; false: none are made, those made before are still shown")
	WithEnv(fs, "previews")
}

// pipelineConfig is the pipeline's preview configuration under these
// settings.
func (s *PreviewSettings) pipelineConfig() pipeline.PreviewConfig {
	return pipeline.PreviewConfig{Disabled: !s.Enabled}
}
