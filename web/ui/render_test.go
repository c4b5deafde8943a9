package ui

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
)

// TestHighlight: entities are marked, the text around them and in them is
// escaped, and spans that overlap, overrun the text or cut a character are
// left out.
func TestHighlight(t *testing.T) {
	t.Parallel()
	text := "Ada <b>Lovelace</b> met Café Babbage."
	ents := []store.Entity{
		{Kind: "Person", Value: "Ada", Start: 0, End: 3, Confidence: 0.9},
		{Kind: "person", Value: "<b>Lovelace</b>", Start: 4, End: 19, Confidence: 0.8},
		{Kind: "org", Value: "overlap", Start: 2, End: 6},
		{Kind: "place", Value: "cut", Start: 24, End: 28}, // inside "é"
		{Kind: "x", Value: "past the end", Start: 30, End: 99},
		{Kind: "evil\"><script>", Value: "Babbage", Start: 30, End: 37},
	}
	got := string(highlight(text, ents))
	require.Equal(t, `<mark class="ent ent-person" title="Person: Ada (90%)">Ada</mark> `+
		`<mark class="ent ent-person" title="person: &lt;b&gt;Lovelace&lt;/b&gt; (80%)">&lt;b&gt;Lovelace&lt;/b&gt;</mark> met Café `+
		`<mark class="ent ent-evil-script-" title="evil&#34;&gt;&lt;script&gt;: Babbage (0%)">Babbage</mark>.`, got)
}
