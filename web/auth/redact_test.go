package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/pipeline"
)

func TestRedactJobError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		in          string
		reachesHost bool
		want        string
	}{
		{name: "URL and address", in: `deliver webhook 01J: Post "https://hooks.example.com/quire?key=s3cr3t": dial tcp 203.0.113.7:443: connect: connection refused`,
			want: `deliver webhook 01J: Post "[url]": dial tcp [address]: connect: connection refused`},
		{name: "URL with an address", in: `receiver answered 500 at http://10.0.0.5:8080/in`, want: `receiver answered 500 at [url]`},
		{name: "IPv6", in: `dial tcp [2001:db8::1]:443: i/o timeout`, want: `dial tcp [address]: i/o timeout`},
		{name: "host and port", in: `lookup hooks.internal.example:8443 failed`, want: `lookup [address] failed`},
		{name: "a URL's host named again", in: `Post "https://hooks.example.com": tls: failed to verify certificate: x509: certificate is valid for a.example.net, not hooks.example.com`,
			want: `Post "[url]": tls: failed to verify certificate: x509: certificate is valid for a.example.net, not [host]`},
		{name: "a failed lookup", in: `Post "https://hooks.example.com": dial tcp: lookup hooks.example.com on 10.0.0.53:53: no such host`,
			want: `Post "[url]": dial tcp: lookup [host] on [address]: no such host`},
		{name: "a lookup without its URL", in: `dial tcp: lookup hooks.example.com: no such host`, want: `dial tcp: lookup [host]: no such host`},
		{name: "other jobs keep their file names", in: `extract 01J (report.pdf): document is encrypted`, want: `extract 01J (report.pdf): document is encrypted`},
		{name: "numbers stay", in: `took 1.5s at attempt 3 of 25`, want: `took 1.5s at attempt 3 of 25`},
		{name: "a webhook's bare host", reachesHost: true,
			in:   `webhook 01J: webhook target refused: hooks.example.com resolves to 10.0.0.5, a private address; set WebhookAllowPrivate (--webhook-allow-private) to allow it`,
			want: `webhook 01J: webhook target refused: [host] resolves to [address], a private address; set WebhookAllowPrivate (--webhook-allow-private) to allow it`},
		{name: "a webhook's certificate names", reachesHost: true, in: `x509: certificate is valid for a.example.net, not b.example.org`,
			want: `x509: certificate is valid for [host], not [host]`},
		{name: "a webhook's durations stay", reachesHost: true, in: `deliver document.done to webhook 01J after 1.5s: 503`,
			want: `deliver document.done to webhook 01J after 1.5s: 503`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			jobType := "extract"
			if tt.reachesHost {
				jobType = pipeline.JobWebhook
			}
			require.Equal(t, tt.want, RedactJobError(jobType, tt.in))
		})
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
