package app

import (
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
)

func TestPreviewSettings(t *testing.T) {
	t.Parallel()
	parse := func(args ...string) *Config {
		var g Config
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		g.AddFlags(fs)
		require.NoError(t, fs.Parse(args))
		return &g
	}
	require.False(t, parse().Previews.pipelineConfig().Disabled, "previews are made by default")
	require.True(t, parse("--previews=false").Previews.pipelineConfig().Disabled)

	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	(&Config{}).AddFlags(fs)
	require.Equal(t, []string{"QUIRE_PREVIEWS"}, fs.Lookup("previews").Annotations[EnvAnnotation])
}
