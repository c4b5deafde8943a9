package app

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
)

func TestBuiltinSleep(t *testing.T) {
	t.Parallel()
	ms := func(n int64) *int64 { return &n }

	tests := []struct {
		name    string
		args    sleepArgs
		cancel  bool
		wantErr error
		discard bool
	}{
		{name: "Duration", args: sleepArgs{Duration: "5ms"}},
		{name: "MS", args: sleepArgs{MS: ms(5)}},
		{name: "Cancelled", args: sleepArgs{Duration: "1h"}, cancel: true, wantErr: context.Canceled},
		{name: "Both", args: sleepArgs{Duration: "1ms", MS: ms(1)}, discard: true},
		{name: "Neither", discard: true},
		{name: "BadDuration", args: sleepArgs{Duration: "soon"}, discard: true},
		{name: "NegativeMS", args: sleepArgs{MS: ms(-1)}, discard: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			if tt.cancel {
				cancel()
			}
			defer cancel()
			err := runSleep(ctx, &jobs.Job{ID: "J1"}, tt.args)
			var discard *jobs.DiscardError
			switch {
			case tt.discard:
				require.True(t, errors.As(err, &discard), "got %v", err)
			case tt.wantErr != nil:
				require.ErrorIs(t, err, tt.wantErr)
			default:
				require.NoError(t, err)
			}
		})
	}
	require.ElementsMatch(t, []string{"noop", "sleep"}, BuiltinHandlers().Types())
}
