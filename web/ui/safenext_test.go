package ui

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSafeNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		next string
		want string
	}{
		{next: "/", want: "/"},
		{next: "/documents", want: "/documents"},
		{next: "/documents?state=failed&q=a+b", want: "/documents?state=failed&q=a+b"},
		{next: "/documents/01J/original", want: "/documents/01J/original"},
		{next: "/jobs?tab=dead#top", want: "/jobs?tab=dead#top"},
		{next: "/%2Fevil.example", want: "/%2Fevil.example"}, // an escaped slash is a name, not a separator
		{next: "", want: "/"},
		{next: "documents", want: "/"},
		{next: "https://evil.example/", want: "/"},
		{next: "//evil.example", want: "/"},
		{next: "///evil.example", want: "/"},
		{next: `/\evil.example`, want: "/"},
		{next: `\\evil.example`, want: "/"},
		{next: "/\t/evil.example", want: "/"}, // browsers drop the tab: //evil.example
		{next: "/\n/evil.example", want: "/"},
		{next: "/\r/evil.example", want: "/"},
		{next: "/ /evil.example", want: "/"},
		{next: "/?x", want: "/"},
		{next: "/#x", want: "/"},
		{next: "/documents\x00", want: "/"},
		{next: "/documents\\..\\", want: "/"},
		{next: "javascript:alert(1)", want: "/"},
	}
	for _, tt := range tests {
		t.Run(url.QueryEscape(tt.next), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, safeNext(tt.next))
		})
	}
	// As a browser sends it: ?next=/%09/evil.example decodes to a tab.
	q, err := url.ParseQuery("next=/%09/evil.example")
	require.NoError(t, err)
	require.Equal(t, "/", safeNext(q.Get("next")))
}
