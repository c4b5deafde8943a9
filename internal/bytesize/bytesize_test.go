package bytesize

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Size
		wantErr bool
	}{
		{in: "0", want: 0},
		{in: "4096", want: 4096},
		{in: "-1", want: -1},
		{in: "16MiB", want: 16 << 20},
		{in: "16 MiB", want: 16 << 20},
		{in: "16mib", want: 16 << 20},
		{in: "16M", want: 16 << 20},
		{in: "1.5GiB", want: 3 << 29},
		{in: "900KiB", want: 900 << 10},
		{in: "2MB", want: 2_000_000},
		{in: "10B", want: 10},
		{in: "", wantErr: true},
		{in: "MiB", wantErr: true},
		{in: "ten", wantErr: true},
		{in: "16 parsecs", wantErr: true},
		{in: "99999999999TiB", wantErr: true},
		{in: "NaN", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tt.in)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			// What String writes, Parse reads back.
			back, err := Parse(got.String())
			require.NoError(t, err)
			require.Equal(t, got, back)
		})
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0 bytes"},
		{1, "1 byte"},
		{512, "512 bytes"},
		{16 << 20, "16 MiB"},
		{3 << 29, "1.5 GiB"},
		{900 << 10, "900 KiB"},
		{268435456, "256 MiB"},
		{-1, "-1 bytes"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Format(tt.in), "Format(%d)", tt.in)
	}
}

func TestSizeFlag(t *testing.T) {
	t.Parallel()
	var s Size
	require.NoError(t, s.Set("16MiB"))
	require.Equal(t, Size(16<<20), s)
	require.Equal(t, "16MiB", s.String())
	require.Equal(t, "size", s.Type())
	require.Error(t, s.Set("lots"))
}
