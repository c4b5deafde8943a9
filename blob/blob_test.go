package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/blob"
)

// backends are the stores every behaviour test runs on: a directory and
// memory, plus QUIRE_TEST_BLOB_URL when set (an S3 bucket on a local MinIO,
// say). S3 and GCS themselves cannot be reached from the test machines.
func backends(t *testing.T) map[string]func(t *testing.T) *blob.Store {
	b := map[string]func(t *testing.T) *blob.Store{
		"File": func(t *testing.T) *blob.Store { return open(t, "file://"+t.TempDir()) },
		"Mem":  func(t *testing.T) *blob.Store { return open(t, "mem://") },
	}
	if u := os.Getenv("QUIRE_TEST_BLOB_URL"); u != "" {
		b["Env"] = func(t *testing.T) *blob.Store { return open(t, u) }
	}
	return b
}

func open(t testing.TB, url string) *blob.Store {
	t.Helper()
	s, err := blob.Open(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestStore(t *testing.T) {
	t.Parallel()
	for name, newStore := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			exercise(t, newStore)
		})
	}
}

func exercise(t *testing.T, newStore func(t *testing.T) *blob.Store) {
	ctx := context.Background()

	t.Run("PutAndRead", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.Ping(ctx))
		for _, content := range [][]byte{
			[]byte("hello, Quire"),
			{},
			random(blob.SpoolMemoryMax), // fits the memory spool exactly
			random(3*blob.SpoolMemoryMax + 17),
		} {
			res, err := s.Put(ctx, bytes.NewReader(content), &blob.PutOpts{ContentType: "text/plain"})
			require.NoError(t, err)
			require.Equal(t, sum(content), res.SHA256)
			require.Equal(t, "sha256/"+res.SHA256[:2]+"/"+res.SHA256[2:4]+"/"+res.SHA256, res.Key)
			require.Equal(t, blob.Key(res.SHA256), res.Key)
			require.Equal(t, int64(len(content)), res.Size)
			require.False(t, res.Existed)

			ok, err := s.Exists(ctx, res.Key)
			require.NoError(t, err)
			require.True(t, ok)
			r, err := s.Open(ctx, res.Key)
			require.NoError(t, err)
			require.Equal(t, int64(len(content)), r.Size())
			got, err := io.ReadAll(r)
			require.NoError(t, err)
			require.Equal(t, content, got)
			require.NoError(t, r.Close())
		}
	})

	t.Run("IdenticalContentStoredOnce", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		content := random(2 * blob.SpoolMemoryMax)
		first, err := s.Put(ctx, bytes.NewReader(content), nil)
		require.NoError(t, err)
		again, err := s.Put(ctx, bytes.NewReader(content), nil)
		require.NoError(t, err)
		require.True(t, again.Existed)
		require.Equal(t, first.Key, again.Key)

		// Uploads of one new content racing each other all succeed.
		other := random(5000)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				res, err := s.Put(ctx, bytes.NewReader(other), nil)
				if err != nil || res.SHA256 != sum(other) {
					t.Errorf("concurrent put: %v, %+v", err, res)
				}
			})
		}
		wg.Wait()
		r, err := s.Open(ctx, blob.Key(sum(other)))
		require.NoError(t, err)
		defer r.Close()
		got, err := io.ReadAll(r)
		require.NoError(t, err)
		require.Equal(t, other, got)
	})

	t.Run("SizeLimit", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, limit := range []int64{100, 2 * blob.SpoolMemoryMax} {
			exact := random(int(limit))
			res, err := s.Put(ctx, bytes.NewReader(exact), &blob.PutOpts{MaxBytes: limit})
			require.NoError(t, err, "exactly the limit is allowed")
			require.Equal(t, limit, res.Size)

			over := random(int(limit) + 1)
			_, err = s.Put(ctx, bytes.NewReader(over), &blob.PutOpts{MaxBytes: limit})
			var tooLarge *blob.TooLargeError
			require.ErrorAs(t, err, &tooLarge)
			require.Equal(t, limit, tooLarge.MaxBytes)
			ok, err := s.Exists(ctx, blob.Key(sum(over)))
			require.NoError(t, err)
			require.False(t, ok, "nothing stored")
		}
		// The limit stops reading: an endless stream ends in an error,
		// not in running out of disk.
		_, err := s.Put(ctx, endless{}, &blob.PutOpts{MaxBytes: 1 << 16})
		var tooLarge *blob.TooLargeError
		require.ErrorAs(t, err, &tooLarge)
	})

	t.Run("BrokenReader", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, n := range []int{10, 2 * blob.SpoolMemoryMax} {
			_, err := s.Put(ctx, io.MultiReader(bytes.NewReader(random(n)), failing{}), nil)
			require.ErrorContains(t, err, "connection reset")
		}
	})

	t.Run("ReadAtAndSeek", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		content := []byte("0123456789abcdefghij")
		res, err := s.Put(ctx, bytes.NewReader(content), nil)
		require.NoError(t, err)
		r, err := s.Open(ctx, res.Key)
		require.NoError(t, err)
		defer r.Close()
		p := make([]byte, 5)
		n, err := r.ReadAt(p, 10)
		require.NoError(t, err)
		require.Equal(t, "abcde", string(p[:n]))
		n, err = r.ReadAt(p, 17)
		require.ErrorIs(t, err, io.EOF)
		require.Equal(t, "hij", string(p[:n]))
		_, err = r.ReadAt(p, 20)
		require.ErrorIs(t, err, io.EOF)
		_, err = r.Seek(15, io.SeekStart)
		require.NoError(t, err)
		rest, err := io.ReadAll(r)
		require.NoError(t, err)
		require.Equal(t, "fghij", string(rest))
	})

	t.Run("DeleteAndMissing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		res, err := s.Put(ctx, strings.NewReader("short-lived"), nil)
		require.NoError(t, err)
		require.NoError(t, s.Delete(ctx, res.Key))
		require.NoError(t, s.Delete(ctx, res.Key), "deleting twice is fine")
		ok, err := s.Exists(ctx, res.Key)
		require.NoError(t, err)
		require.False(t, ok)
		_, err = s.Open(ctx, res.Key)
		require.ErrorIs(t, err, blob.ErrNotFound)
	})

	t.Run("InvalidKeys", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		good := sum([]byte("x"))
		for _, key := range []string{
			"",
			good,
			"sha256/" + good,
			"sha256/../../" + good,
			"sha256/00/00/" + good,
			"sha256/" + good[:2] + "/" + good[2:4] + "/" + strings.ToUpper(good),
			"md5/" + good[:2] + "/" + good[2:4] + "/" + good,
			"sha256/" + good[:2] + "/" + good[2:4] + "/" + good + "/x",
			"../../etc/passwd",
		} {
			_, err := s.Open(ctx, key)
			require.ErrorIs(t, err, blob.ErrInvalidKey, key)
			_, err = s.Exists(ctx, key)
			require.ErrorIs(t, err, blob.ErrInvalidKey, key)
			require.ErrorIs(t, s.Delete(ctx, key), blob.ErrInvalidKey, key)
		}
		parsed, err := blob.ParseKey(blob.Key(good))
		require.NoError(t, err)
		require.Equal(t, good, parsed)
	})
}

type endless struct{}

func (endless) Read(p []byte) (int, error) { return len(p), nil }

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

// TestFileLayout checks what a person (or a backup tool) sees in the
// directory: blobs under sha256/ab/cd/, nothing else left behind, and large
// content spooled through $TMPDIR and cleaned up.
func TestFileLayout(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "blobs", "not-yet-there")
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	s := open(t, "file://"+dir)
	small, large := []byte("small"), random(3*blob.SpoolMemoryMax)
	var keys []string
	for _, c := range [][]byte{small, large, small} {
		res, err := s.Put(ctx, bytes.NewReader(c), nil)
		require.NoError(t, err)
		keys = append(keys, res.Key)
	}
	var files []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// The documents are their owner's alone, whatever the umask
		// (the test's is usually 022).
		fi, err := d.Info()
		require.NoError(t, err)
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		require.Equal(t, want, fi.Mode().Perm(), path)
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	}))
	require.ElementsMatch(t, []string{keys[0], keys[1]}, files, "no sidecar or temporary files")
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	require.Empty(t, left, "the spool file is removed")

	// Another process on the same (shared) directory sees the same blobs.
	other := open(t, "file://"+dir)
	ok, err := other.Exists(ctx, keys[1])
	require.NoError(t, err)
	require.True(t, ok)
}

// TestOpenURLs checks how URLs are read. S3 and GCS cannot be reached from
// here, so only opening is tested for them, and nothing is sent: Open does
// not contact object storage.
func TestOpenURLs(t *testing.T) {
	// Keep the AWS SDK away from the instance metadata address should
	// anything ask it for credentials.
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	// A credentials file that is not there makes Google's lookup stop at
	// once, before it would ask the metadata server.
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "missing-key.json"))
	ctx := context.Background()
	t.Chdir(t.TempDir())
	good := []string{
		"file://" + t.TempDir(),
		"file://./relative/blobs",
		"file://" + t.TempDir() + "?metadata=skip&no_tmp_dir=true",
		"mem://",
		"s3://quire-documents?region=eu-west-1",
		"s3://quire-documents?region=us-east-1&endpoint=http://127.0.0.1:9000&use_path_style=true",
		"gs://quire-documents?anonymous=true",
	}
	for _, u := range good {
		s, err := blob.Open(ctx, u)
		require.NoError(t, err, u)
		require.NoError(t, s.Close())
	}
	require.DirExists(t, "relative/blobs")
	tests := []struct {
		url  string
		want string
	}{
		{"ftp://example.test/x", `unsupported scheme "ftp"`},
		{"/just/a/path", `unsupported scheme ""`},
		{"s3://", "no bucket"},
		{"s3:///path-only", "no bucket"},
		{"gs://", "no bucket"},
		{"s3://bucket?region=eu-west-1&colour=blue", "colour"},
		{"gs://bucket?anonymous=true&colour=blue", "colour"},
		{"gs://bucket", "no Google Cloud credentials: set GOOGLE_APPLICATION_CREDENTIALS"},
		{"file://host/dir", "take no host"},
		{"s3://bucket?region=x&awssecretkey=hunter2&colour=blue", "xxxxx"},
	}
	for _, tt := range tests {
		_, err := blob.Open(ctx, tt.url)
		require.ErrorContains(t, err, tt.want, tt.url)
		require.NotContains(t, err.Error(), "hunter2")
	}
}

// BenchmarkPutFile stores distinct 4 KiB documents, the size of a typical
// email, in a new directory store under $TMPDIR: a fresh store, where most
// puts also create their shard directories. What it measures is mostly the
// file system's cost of creating files and directories (see
// docs/benchmarks.md: on an ext4 without a journal, right after many files
// were deleted, it is many times what it is on a journaled volume); point
// TMPDIR at the volume to measure.
func BenchmarkPutFile(b *testing.B) {
	s := open(b, "file://"+b.TempDir())
	ctx := context.Background()
	content := random(4 << 10)
	b.SetBytes(int64(len(content)))
	b.ReportAllocs()
	var n uint64
	for b.Loop() {
		n++
		// The first 8 bytes count the puts: every content is new.
		binary.LittleEndian.PutUint64(content, n)
		if _, err := s.Put(ctx, bytes.NewReader(content), nil); err != nil {
			b.Fatal(err)
		}
	}
}
