package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRedactAddresses(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`deliver webhook 01J: Post "https://hooks.example.com/quire?key=s3cr3t": dial tcp 203.0.113.7:443: connect: connection refused`,
			`deliver webhook 01J: Post "[url]": dial tcp [address]: connect: connection refused`},
		{`receiver answered 500 at http://10.0.0.5:8080/in`, `receiver answered 500 at [url]`},
		{`dial tcp [2001:db8::1]:443: i/o timeout`, `dial tcp [address]: i/o timeout`},
		{`lookup hooks.internal.example:8443 failed`, `lookup [address] failed`},
		{`extract 01J: document is encrypted`, `extract 01J: document is encrypted`},
		{`took 1.5s at attempt 3 of 25`, `took 1.5s at attempt 3 of 25`},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, RedactAddresses(tt.in))
	}
	require.True(t, SeesAddresses(ScopeAdmin))
	require.False(t, SeesAddresses(ScopeWrite))
	require.False(t, SeesAddresses(ScopeRead))
}

func TestLogEmail(t *testing.T) {
	t.Parallel()
	got := LogEmail("ada@example.org")
	require.Contains(t, got, `"ada@example.org"`)
	require.Regexp(t, `sha256:[0-9a-f]{12}\)$`, got)

	long := LogEmail(strings.Repeat("a", 100) + "@example.org")
	require.Contains(t, long, strings.Repeat("a", 64)+"…")
	require.NotContains(t, long, "example.org")

	// Not an address: a password typed in the wrong box, or a forged
	// log line, shows only its length.
	for _, raw := range []string{"correct horse battery staple", "x\nlevel=INFO msg=\"admin signed in\"", "hunter2"} {
		got := LogEmail(raw)
		require.NotContains(t, got, raw)
		require.Contains(t, got, "not an address")
		require.NotContains(t, got, "\n")
	}
	require.NotEqual(t, LogEmail("hunter2"), LogEmail("hunter3"), "the hash tells attempts apart")
}
