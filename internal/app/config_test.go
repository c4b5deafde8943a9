package app

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseQueues(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		in      string
		want    map[string]int
		wantErr string
	}{
		{name: "Weights", in: "default=1,critical=3", want: map[string]int{"default": 1, "critical": 3}},
		{name: "NoWeight", in: "default, low", want: map[string]int{"default": 1, "low": 1}},
		{name: "Duplicate", in: "a=1,a=2", wantErr: `queue "a" is listed twice`},
		{name: "ZeroWeight", in: "a=0", wantErr: `weight "0" of queue "a"`},
		{name: "Empty", in: "", wantErr: "empty queue entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseQueues(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseQueueLimits(t *testing.T) {
	t.Parallel()
	got, err := ParseQueueLimits(" ocr=2, analyze=8")
	require.NoError(t, err)
	require.Equal(t, map[string]int{"ocr": 2, "analyze": 8}, got)
	got, err = ParseQueueLimits("")
	require.NoError(t, err)
	require.Nil(t, got, "no caps")
	_, err = ParseQueueLimits("ocr")
	require.ErrorContains(t, err, `queue "ocr" has no limit: use name=limit`)
	_, err = ParseQueueLimits("ocr=0")
	require.ErrorContains(t, err, `limit "0" of queue "ocr" must be a whole number of at least 1`)
	_, err = ParseQueueLimits("ocr=1,,a=2")
	require.ErrorContains(t, err, "empty queue entry: use name=limit")
}

func TestWorkerPoolSize(t *testing.T) {
	t.Parallel()
	require.Equal(t, "postgres://u:p@h:5432/db?pool_max_conns=32&sslmode=disable",
		withPoolSize("postgres://u:p@h:5432/db?sslmode=disable"))
	require.Equal(t, "postgres://h/db?pool_max_conns=8", withPoolSize("postgres://h/db?pool_max_conns=8"))
	require.Equal(t, "mysql://h/db", withPoolSize("mysql://h/db"))
}
