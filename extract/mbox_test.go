package extract

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMbox(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "formats", "mbox", "quire-list.mbox"))
	require.NoError(t, err)
	x := New(Config{})
	t.Cleanup(func() { _ = x.Close() })

	res, err := x.Extract(context.Background(), &Input{Name: "list", Data: data})
	require.NoError(t, err)
	require.Equal(t, typeMbox, res.Type, "by content, without a name to go by")
	require.Len(t, res.Children, 3)
	require.Equal(t, strings.Join([]string{
		"Mon, 3 Mar 2025 09:00:00 +0000 · Ada Lovelace <ada@quire.example> · Legacy Word documents read natively",
		"Tue, 4 Mar 2025 10:30:00 +0000 · Grace Hopper <grace@quire.example> · Café and the archive formats",
		"Wed, 5 Mar 2025 16:45:00 +0000 · Alan Turing <alan@quire.example> · Mailboxes as containers",
	}, "\n"), res.Text)

	// Each message is an email of its own, its attachment a child of it.
	second, err := x.Extract(context.Background(), &Input{Name: res.Children[1].Name, Data: res.Children[1].Data})
	require.NoError(t, err)
	require.Equal(t, typeEmail, second.Type)
	require.Equal(t, "Café and the archive formats", second.Title)
	require.Len(t, second.Children, 1)
	require.Equal(t, "archive-notes.txt", second.Children[0].Name)
	first, err := x.Extract(context.Background(), &Input{Name: res.Children[0].Name, Data: res.Children[0].Data})
	require.NoError(t, err)
	require.Contains(t, first.Text, ">From the next release on", "an escaped From line is the body's, not a message")

	// Past the children limit, the messages are listed and counted.
	few := New(Config{Limits: Limits{MaxChildren: 2}})
	t.Cleanup(func() { _ = few.Close() })
	res, err = few.Extract(context.Background(), &Input{Name: "list.mbox", Data: data})
	require.NoError(t, err)
	require.Len(t, res.Children, 2)
	require.Equal(t, "1", res.Meta["messages_left_out"])
	require.Contains(t, res.Text, "Mailboxes as containers")
}

func TestIsMbox(t *testing.T) {
	t.Parallel()
	one := "From ada@quire.example Mon Mar  3 09:00:00 2025\nFrom: Ada <ada@quire.example>\nSubject: One\n\nA single saved message.\n\nFrom the start it was one.\n"
	for _, tt := range []struct {
		name string
		data string
		want bool
	}{
		{"one message saved with its From line is an email", one, false},
		{"two messages", one + "\nFrom grace@quire.example Tue Mar  4 10:30:00 2025\nFrom: Grace <grace@quire.example>\n\nTwo.\n", true},
		{"CRLF", strings.ReplaceAll(one+"\nFrom b@x Tue Mar  4 10:30:00 2025\nSubject: b\n\nb\n", "\n", "\r\n"), true},
		{"prose that starts with From", "From the desk of Ada.\nDear all,\n", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, isMbox([]byte(tt.data)))
			if !tt.want {
				require.NotEqual(t, typeMbox, Detect("x", []byte(tt.data)))
			}
		})
	}
}

func FuzzMbox(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "formats", "mbox", "quire-list.mbox"))
	if err == nil {
		f.Add(data)
	}
	f.Add([]byte("From a\nX: y\n\nFrom b\nX: y\n\n"))
	f.Add(bytes.Repeat([]byte("From a\nA: b\n\n"), 50))
	x := New(Config{Limits: Limits{MaxText: 4 << 10, MaxChildren: 10}})
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := x.Extract(context.Background(), &Input{Data: data, Type: typeMbox})
		if err != nil {
			return
		}
		if len(res.Text) > 4<<10 {
			t.Fatalf("text of %d bytes past the 4 KiB limit", len(res.Text))
		}
		if len(res.Children) > 10 {
			t.Fatalf("%d children past the limit of 10", len(res.Children))
		}
	})
}
