package cli

import (
	"bytes"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/quirehq/quire/internal/app"

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
	// | `--name` / `QUIRE_NAME` | default | what it does |, the variable
	// left out for a flag that has none.
	docSetting = regexp.MustCompile("(?m)^\\| `--([a-z0-9-]+)`(?: / `(QUIRE_[A-Z0-9_]+)`)? \\| ([^|]*) \\|")
	// docVariable is a QUIRE_ variable the guide names; QUIRE_MAX_* stands
	// for several.
	docVariable = regexp.MustCompile(`QUIRE_[A-Z0-9_]*[A-Z0-9](_?\*)?`)
	// docDefaultFor is a part of a default cell that names its command:
	// "up: `127.0.0.1:8080`".
	docDefaultFor = regexp.MustCompile("^([a-z]+): (.*)$")
	// fenced is a fenced code block; codeSpan an inline one.
	fenced   = regexp.MustCompile("(?s)```[a-z]*\n(.*?)```")
	codeSpan = regexp.MustCompile("`([^`]+)`")
	// helpLine is a flag's line in --help: "--name type   usage (default X)".
	helpLine = regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z0-9-]+)(?: \w+)?\s+.*$`)
)

// TestOperationsGuideMatchesBinary reads docs/operations.md and the flags of
// every command, walking the command tree, and checks that:
//
//   - every flag the guide names is a flag of some command, and every
//     `quire …` command line it shows (code blocks and inline code) names
//     only flags its command has;
//   - every QUIRE_ variable it names is a flag's;
//   - every row of its settings tables names a real flag, with the flag's
//     variable, and states the default `serve` and `up` have (or, for a
//     flag neither takes, every command that takes it), and --help says the
//     same;
//   - every setting of `serve` and `up` has a row.
func TestOperationsGuideMatchesBinary(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../../../docs/operations.md")
	require.NoError(t, err)
	guide := string(data)
	a := newCLI(&deps{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, lookupEnv: func(string) (string, bool) { return "", false }})
	root := a.newRootCommand()

	// Every flag of every command, with the commands that take it.
	takers := map[string][]*cobra.Command{}
	envs := map[string]string{} // QUIRE_ variable -> flag
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		visit := func(f *pflag.Flag) {
			takers[f.Name] = append(takers[f.Name], c)
			if env := f.Annotations[app.EnvAnnotation]; len(env) > 0 {
				envs[env[0]] = f.Name
			}
		}
		c.InheritedFlags().VisitAll(visit)
		c.LocalFlags().VisitAll(visit)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	flagOf := func(c *cobra.Command, name string) *pflag.Flag {
		if f := c.LocalFlags().Lookup(name); f != nil {
			return f
		}
		return c.InheritedFlags().Lookup(name)
	}

	t.Run("flags named", func(t *testing.T) {
		t.Parallel()
		named := 0
		for _, m := range docFlag.FindAllStringSubmatch(guide, -1) {
			named++
			if otherProgramsFlags[m[1]] == "" {
				require.Contains(t, takers, m[1], "docs/operations.md names --%s, which no quire command has", m[1])
			}
		}
		require.NotZero(t, named)
	})

	t.Run("command lines", func(t *testing.T) {
		t.Parallel()
		var snippets []string
		for _, m := range fenced.FindAllStringSubmatch(guide, -1) {
			snippets = append(snippets, strings.Split(m[1], "\n")...)
		}
		for _, m := range codeSpan.FindAllStringSubmatch(fenced.ReplaceAllString(guide, ""), -1) {
			snippets = append(snippets, m[1])
		}
		ran := 0
		for _, s := range snippets {
			words := strings.Fields(s)
			for i, w := range words {
				if w != "quire" {
					continue
				}
				var args []string
				for _, arg := range words[i+1:] {
					if slices.Contains([]string{"|", "&&", ";", "#", ">", "2>&1"}, arg) {
						break
					}
					args = append(args, strings.TrimRight(arg, ")"))
				}
				c, _, err := root.Find(args)
				if err != nil || c == root {
					continue // not quire's command line: kubectl -n quire …
				}
				ran++
				for _, arg := range args {
					name, ok := strings.CutPrefix(arg, "--")
					if !ok {
						continue
					}
					if name == "" {
						break
					}
					name, _, _ = strings.Cut(name, "=")
					require.NotNil(t, flagOf(c, name), "docs/operations.md runs `%s`: %s has no --%s", s, c.CommandPath(), name)
				}
			}
		}
		require.Greater(t, ran, 10, "the guide's quire command lines")
	})

	t.Run("variables", func(t *testing.T) {
		t.Parallel()
		for _, m := range docVariable.FindAllStringSubmatch(guide, -1) {
			if m[1] == "" {
				require.Contains(t, envs, m[0], "docs/operations.md names %s, which sets no flag", m[0])
			}
		}
	})

	rows := map[string][]string{} // flag -> its rows' cells: variable, default
	for _, row := range docSetting.FindAllStringSubmatch(guide, -1) {
		rows[row[1]] = row[2:]
	}
	require.GreaterOrEqual(t, len(rows), 30, "the settings tables of docs/operations.md")

	t.Run("settings", func(t *testing.T) {
		t.Parallel()
		for name, cells := range rows {
			env, cell := cells[0], strings.TrimSpace(cells[1])
			require.Contains(t, takers, name, "docs/operations.md documents --%s, which no quire command has", name)
			cmds := slices.DeleteFunc(slices.Clone(takers[name]), func(c *cobra.Command) bool { return c.Name() != "serve" && c.Name() != "up" })
			if len(cmds) == 0 {
				cmds = takers[name]
			}
			for _, c := range cmds {
				f := flagOf(c, name)
				want := ""
				if e := f.Annotations[app.EnvAnnotation]; len(e) > 0 {
					want = e[0]
				}
				require.Equal(t, want, env, "docs/operations.md gives --%s the variable %q; %s's is %q", name, env, c.CommandPath(), want)
				def := docDefault(cell, c.Name())
				if def == "" {
					// A default in words ("none", "any", "off") stands
					// for a flag without one.
					require.Contains(t, []string{"", "[]"}, f.DefValue, "docs/operations.md gives --%s no default in code (%q); %s's is %q", name, cell, c.CommandPath(), f.DefValue)
					continue
				}
				require.Equal(t, f.DefValue, def, "docs/operations.md gives --%s the default %q; %s's is %q", name, def, c.CommandPath(), f.DefValue)
				if def == "false" || def == "0" {
					continue // --help states no zero default
				}
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
				require.True(t, strings.Contains(line, "(default "+def+")") || strings.Contains(line, `(default "`+def+`")`),
					"%s --help: %s", c.CommandPath(), line)
			}
		}
	})

	t.Run("serve and up", func(t *testing.T) {
		t.Parallel()
		for _, path := range [][]string{{"serve"}, {"up"}} {
			c, _, err := root.Find(path)
			require.NoError(t, err)
			visit := func(f *pflag.Flag) {
				if f.Hidden || f.Name == "help" {
					return
				}
				require.Contains(t, rows, f.Name, "docs/operations.md has no settings row for --%s of %s", f.Name, c.CommandPath())
			}
			c.LocalFlags().VisitAll(visit)
			c.InheritedFlags().VisitAll(visit)
		}
	})
}

// docDefault returns the default a settings row's cell states for command:
// its part that names the command ("up: `127.0.0.1:8080`"), or else the
// part that names none; the default is that part's leading code span, or
// "" for words.
func docDefault(cell, command string) string {
	var general, own string
	for _, part := range strings.Split(cell, ";") {
		part = strings.TrimSpace(part)
		if m := docDefaultFor.FindStringSubmatch(part); m != nil && !strings.HasPrefix(part, "`") {
			if m[1] == command {
				own = m[2]
			}
			continue
		}
		if general == "" {
			general = part
		}
	}
	part := general
	if own != "" {
		part = own
	}
	if v, ok := strings.CutPrefix(part, "`"); ok {
		v, _, _ = strings.Cut(v, "`")
		return v
	}
	return ""
}
