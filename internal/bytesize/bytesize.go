// Package bytesize reads and writes sizes in bytes the way people write
// them: "16 MiB", "1.5GiB", "900KiB", "4096". Quire's size settings
// (--max-text-bytes and the like) take them, and its messages show them.
package bytesize

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Size is a number of bytes. It is a flag value (Set, String, Type), so a
// size setting takes "16MiB" as readily as "16777216".
type Size int64

var units = []struct {
	suffix string
	mult   int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

// Parse reads a size: a number, optionally with a fraction, and a unit
// (B, KiB, MiB, GiB, TiB; KB, MB, GB, TB in powers of ten; K, M, G, T as
// binary units), case-insensitive, with or without a space between. A plain
// number is bytes; a negative one (-1) means no limit where a setting says
// so.
func Parse(s string) (Size, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	if t == "" {
		return 0, fmt.Errorf("size %q: no number", s)
	}
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		if n != 0 && (n > math.MaxInt64/mult || n < math.MinInt64/mult) {
			return 0, fmt.Errorf("size %q is too large", s)
		}
		return Size(n * mult), nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("size %q: want a number of bytes or one with a unit, such as 16MiB", s)
	}
	v := f * float64(mult)
	if v >= math.MaxInt64 || v <= math.MinInt64 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return Size(math.Round(v)), nil
}

// Format writes n bytes in the largest binary unit that keeps a whole
// number before the point: "16 MiB", "1.5 GiB", "900 KiB", "512 bytes".
func Format(n int64) string {
	if n < 0 {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	for _, u := range []struct {
		name string
		mult int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.mult {
			s := strconv.FormatFloat(float64(n)/float64(u.mult), 'f', 1, 64)
			return strings.TrimSuffix(s, ".0") + " " + u.name
		}
	}
	if n == 1 {
		return "1 byte"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// String writes the size as Format does, without the space, so that it
// reads back with Parse: "16MiB".
func (s Size) String() string {
	if s < 0 {
		return strconv.FormatInt(int64(s), 10)
	}
	for _, u := range []struct {
		name string
		mult int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if int64(s) >= u.mult && int64(s)%u.mult == 0 {
			return strconv.FormatInt(int64(s)/u.mult, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

// Set parses a flag's value.
func (s *Size) Set(v string) error {
	n, err := Parse(v)
	if err != nil {
		return err
	}
	*s = n
	return nil
}

// Type names the flag's kind in --help.
func (s *Size) Type() string { return "size" }
