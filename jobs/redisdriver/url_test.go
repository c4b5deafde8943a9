package redisdriver_test

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs/redisdriver"
)

func TestOpenURL(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		url     string
		cluster bool
		check   func(t *testing.T, c redis.UniversalClient)
		wantErr string
	}{
		{name: "URL", url: "redis://user:pw@h:6380/3?dial_timeout=2s", check: func(t *testing.T, c redis.UniversalClient) {
			o := c.(*redis.Client).Options()
			require.Equal(t, "h:6380", o.Addr)
			require.Equal(t, 3, o.DB)
			require.Equal(t, "user", o.Username)
			require.Equal(t, "pw", o.Password)
			require.Equal(t, 2*time.Second, o.DialTimeout)
		}},
		{name: "TLS", url: "rediss://h:6380", check: func(t *testing.T, c redis.UniversalClient) {
			require.NotNil(t, c.(*redis.Client).Options().TLSConfig)
		}},
		{name: "HostPort", url: "h:6379", check: func(t *testing.T, c redis.UniversalClient) {
			require.Equal(t, "h:6379", c.(*redis.Client).Options().Addr)
		}},
		{name: "List", url: "h1:7000, h2:7001", cluster: true, check: func(t *testing.T, c redis.UniversalClient) {
			require.Equal(t, []string{"h1:7000", "h2:7001"}, c.(*redis.ClusterClient).Options().Addrs)
		}},
		{name: "Cluster", url: "redis+cluster://u:p@h1:7000,h2:7001,h3:7002/?dial_timeout=3s", cluster: true, check: func(t *testing.T, c redis.UniversalClient) {
			o := c.(*redis.ClusterClient).Options()
			require.Equal(t, []string{"h1:7000", "h2:7001", "h3:7002"}, o.Addrs)
			require.Equal(t, "u", o.Username)
			require.Equal(t, "p", o.Password)
			require.Equal(t, 3*time.Second, o.DialTimeout)
		}},
		{name: "ClusterOneSeedTLS", url: "rediss+cluster://h1:7000", cluster: true, check: func(t *testing.T, c redis.UniversalClient) {
			o := c.(*redis.ClusterClient).Options()
			require.Equal(t, []string{"h1:7000"}, o.Addrs)
			require.IsType(t, &tls.Config{}, o.TLSConfig)
		}},
		{name: "Word", url: "foo", wantErr: `"foo" is not host:port`},
		{name: "Scheme", url: "http://h:1", wantErr: `unknown scheme "http"`},
		{name: "Port", url: "h1:1,h2:x", wantErr: `port of "h2:x"`},
		{name: "ClusterDB", url: "redis+cluster://h1:1/2", wantErr: "a cluster has no database number"},
		{name: "Option", url: "redis://h:1?bogus=1", wantErr: "unexpected option: bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := redisdriver.OpenURL(tt.url)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })
			_, isCluster := c.(*redis.ClusterClient)
			require.Equal(t, tt.cluster, isCluster)
			tt.check(t, c)
		})
	}
}
