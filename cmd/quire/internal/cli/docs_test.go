package cli

import (
	"bytes"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
)

// otherProgramsFlags are flags docs/operations.md names that belong to
// other programs.
var otherProgramsFlags = map[string]string{
	"enable-gateway-api": "cert-manager's",
	"maxmemory":          "redis-server's",
}

var (
	// docFlag is a flag named in the operations guide: `--name` or
	// `--name=value`.
	docFlag = regexp.MustCompile("`--([a-z0-9-]+)[ =`]")
	// docSetting is a row of one of the guide's settings tables:
	// | `--name` / `QUIRE_NAME` | `default` | ...
	docSetting = regexp.MustCompile("(?m)^\\| `--([a-z0-9-]+)` / `(QUIRE_[A-Z0-9_]+)` \\| ([^|]*) \\|")
	// helpDefault is a flag's line in --help: "--name type   usage (default X)".
	helpLine = regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z0-9-]+)(?: \w+)?\s+.*$`)
)

// TestOperationsGuideMatchesBinary reads docs/operations.md and the flags of
// every command: each flag the guide names exists; each row of its
// settings tables names the flag's environment variable and the default the
// binary has, and `--help` of the commands that take it shows that default.
func TestOperationsGuideMatchesBinary(t *testing.T) {
	t.Parallel()
	guide, err := os.ReadFile("../../../../docs/operations.md")
	require.NoError(t, err)
	a := &app{deps: &deps{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, lookupEnv: func(string) (string, bool) { return "", false }}}
	root := a.newRootCommand()

	// Every flag of every command, by name, with the commands that take it.
	flags := map[string]*pflag.Flag{}
	takers := map[string][]*cobra.Command{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.InheritedFlags().VisitAll(func(f *pflag.Flag) { flags[f.Name] = f; takers[f.Name] = append(takers[f.Name], c) })
		c.LocalFlags().VisitAll(func(f *pflag.Flag) { flags[f.Name] = f; takers[f.Name] = append(takers[f.Name], c) })
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)

	named := map[string]bool{}
	for _, m := range docFlag.FindAllStringSubmatch(string(guide), -1) {
		named[m[1]] = true
	}
	require.NotEmpty(t, named)
	for name := range named {
		if otherProgramsFlags[name] != "" {
			continue
		}
		require.Contains(t, flags, name, "docs/operations.md names --%s, which no quire command has", name)
	}

	rows := docSetting.FindAllStringSubmatch(string(guide), -1)
	require.GreaterOrEqual(t, len(rows), 9, "the settings tables of docs/operations.md")
	for _, row := range rows {
		name, env, cell := row[1], row[2], strings.TrimSpace(row[3])
		f, ok := flags[name]
		require.True(t, ok, "docs/operations.md documents --%s, which no quire command has", name)
		require.Equal(t, envName(name), env, "--%s", name)
		// A default in code is the flag's; one in words ("any", "none")
		// stands for a flag without one.
		def, inCode := strings.CutPrefix(cell, "`")
		if inCode {
			def, _, _ = strings.Cut(def, "`")
			require.Equal(t, f.DefValue, def, "docs/operations.md gives --%s the default %q; the binary's is %q", name, def, f.DefValue)
		} else {
			def = ""
			require.Contains(t, []string{"", "[]"}, f.DefValue, "docs/operations.md gives --%s no default in code (%q); the binary's is %q", name, cell, f.DefValue)
		}
		// --help of a command that takes it says the same.
		c := takers[name][0]
		var help bytes.Buffer
		c.SetOut(&help)
		require.NoError(t, c.Help())
		line := ""
		for _, m := range helpLine.FindAllStringSubmatch(help.String(), -1) {
			if m[1] == name {
				line = m[0]
			}
		}
		require.NotEmpty(t, line, "%s --help lists no --%s", c.CommandPath(), name)
		if def != "" && def != "false" && def != "0" && def != "[]" {
			require.Contains(t, line, "(default "+def+")", "%s --help", c.CommandPath())
		}
	}
}
