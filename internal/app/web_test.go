package app

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEdgeAllowedHosts: up --demo answers only requests that name a
// loopback name or its own address, unless --allowed-hosts says otherwise;
// without --demo any Host is allowed unless --allowed-hosts names some.
func TestEdgeAllowedHosts(t *testing.T) {
	t.Parallel()
	loopback := []string{"localhost", "127.0.0.1", "::1"}
	tests := []struct {
		name    string
		demo    bool
		addr    string
		allowed []string
		want    []string
	}{
		{name: "serve: any", addr: ":8080"},
		{name: "serve: named", addr: ":8080", allowed: []string{"quire.example.com"}, want: []string{"quire.example.com"}},
		{name: "demo", demo: true, addr: "127.0.0.1:8080", want: loopback},
		{name: "demo on another loopback address", demo: true, addr: "127.0.0.2:8080", want: append(slices.Clone(loopback), "127.0.0.2")},
		{name: "demo on IPv6", demo: true, addr: "[::1]:8080", want: loopback},
		{name: "demo with hosts named", demo: true, addr: "127.0.0.1:8080", allowed: []string{"quire.test"}, want: []string{"quire.test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wc := &WebConfig{AllowedHosts: tt.allowed}
			ec, err := wc.edge(tt.demo, tt.addr)
			require.NoError(t, err)
			require.Equal(t, tt.want, ec.AllowedHosts)
		})
	}
}
