package client_test

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/web/api/client"
)

// The uploads themselves are tested end to end through quire submit
// against quire up (cmd/quire/internal/cli/submit_test.go).

func TestNewRefusesWhatIsNotAServer(t *testing.T) {
	t.Parallel()
	for _, server := range []string{"", "localhost:8080", "ftp://example.test", "http://"} {
		_, err := client.New(server, "", nil)
		require.Error(t, err, server)
	}
	_, err := client.New("http://127.0.0.1:8080/", "", nil)
	require.NoError(t, err)
}

func TestUploadToNothingIsUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	c, err := client.New("http://"+addr, "", nil)
	require.NoError(t, err)
	_, err = c.Upload(t.Context(), "a.txt", strings.NewReader("hello"))
	require.True(t, errors.Is(err, client.ErrUnreachable), "got %v", err)
}
