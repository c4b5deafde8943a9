package auth

import (
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
