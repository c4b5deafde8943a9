// Package blob keeps documents' bytes, content-addressed: a blob's key is
// made from the SHA-256 of its content, so identical uploads are stored once
// and a key always names the same bytes.
//
// Storage goes through gocloud.dev/blob, chosen by URL in Open: a local or
// shared (RWX) directory (file:///dir), Amazon S3 or a compatible service
// (s3://bucket?region=…), Google Cloud Storage (gs://bucket), or memory
// (mem://, for tests). Keys are laid out as sha256/ab/cd/abcd…, two levels
// of 256 directories, so no directory of a file store grows too large.
//
// Put streams content to a temporary spool while hashing it, and only then
// writes it under its key: a blob under a key is always whole and always
// matches the key, and is on the disk when Put returns, in a directory
// store too. Callers bound what they accept with PutOpts.MaxBytes.
package blob

import (
	"bytes"
	"cmp"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	gcblob "gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file://
	_ "gocloud.dev/blob/memblob"  // mem://
	_ "gocloud.dev/blob/s3blob"   // s3://
	"gocloud.dev/gcerrors"
)

// ErrNotFound is returned (wrapped) for a key that holds no blob.
var ErrNotFound = errors.New("blob not found")

// ErrInvalidKey is returned (wrapped) for a key that is not of the form Key
// makes.
var ErrInvalidKey = errors.New("invalid blob key")

// TooLargeError is returned by Put when the content is longer than
// PutOpts.MaxBytes. Nothing is stored.
type TooLargeError struct {
	MaxBytes int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("content is larger than the limit of %d bytes", e.MaxBytes)
}

// Store is a content-addressed blob store. It is safe for concurrent use.
type Store struct {
	bucket *gcblob.Bucket
	url    string // for messages
	// dir is a directory store's root, whose writes Put flushes to the
	// disk; empty for object storage, durable when a write returns.
	dir string
	// flush, for a directory store on Linux, flushes its file system for
	// every Put waiting at once; closeFlush releases it.
	flush      *groupFlush
	closeFlush func() error
	// remote stores (S3, GCS) get the content's MD5 with it, to check what
	// crossed the network; a directory or memory has nothing to check.
	remote bool
}

// SpoolMemoryMax is how much content Put holds in memory before spooling
// to a temporary file in os.TempDir() ($TMPDIR): most documents are
// smaller, and need no file.
const SpoolMemoryMax = 1 << 20

// Schemes lists the URL schemes Open accepts.
var Schemes = []string{"file", "s3", "gs", "mem"}

// Open opens the blob store at rawURL:
//
//   - file:///abs/dir or file://./rel/dir: a directory, local or a shared
//     RWX volume, created if missing. Temporary files are written next to
//     their final place (so the rename that publishes them never crosses
//     file systems) and no metadata sidecar files are written, unless the
//     URL sets fileblob's create_dir, no_tmp_dir or metadata itself. The
//     directories it creates are its owner's alone (0700) unless the URL
//     sets dir_file_mode, and so are the blobs (0600): they are the
//     documents.
//   - s3://bucket?region=eu-west-1: Amazon S3, or any S3-compatible
//     service with endpoint=…&use_path_style=true; credentials come from
//     the usual AWS environment variables, files or instance role.
//   - gs://bucket: Google Cloud Storage with Application Default
//     Credentials (gs://bucket?anonymous=true: none), through its JSON API
//     (gcs.go). endpoint=http://host:port sends it to an emulator such as
//     fake-gcs-server instead, as STORAGE_EMULATOR_HOST=host:port does
//     without credentials.
//   - mem://: memory, gone when the process ends; for tests.
//
// Open does not contact object storage; Ping does.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", redact(rawURL), err)
	}
	fail := func(err error) (*Store, error) {
		return nil, fmt.Errorf("blob: open %s: %w", redact(rawURL), err)
	}
	switch u.Scheme {
	case "file":
		q := u.Query()
		for key, def := range map[string]string{"create_dir": "true", "no_tmp_dir": "true", "metadata": "skip", "dir_file_mode": "0700"} {
			if !q.Has(key) {
				q.Set(key, def)
			}
		}
		u.RawQuery = q.Encode()
		if u.Host != "" && u.Host != "." && u.Host != "localhost" {
			return fail(fmt.Errorf("file URLs take no host: use file:///absolute/dir or file://./relative/dir"))
		}
	case "s3", "gs":
		if u.Host == "" {
			return fail(fmt.Errorf("no bucket: use %s://BUCKET", u.Scheme))
		}
	case "mem":
	default:
		return fail(fmt.Errorf("unsupported scheme %q: use one of %s", u.Scheme, strings.Join(Schemes, ", ")))
	}
	var dir string
	if u.Scheme == "file" {
		// As fileblob reads it: a host of "." makes the path relative.
		dir = u.Path
		if u.Host == "." {
			dir = strings.TrimPrefix(dir, "/")
		}
	}
	var bucket *gcblob.Bucket
	if u.Scheme == "gs" {
		bucket, err = openGCS(ctx, u)
	} else {
		bucket, err = gcblob.OpenBucket(ctx, u.String())
	}
	if err != nil {
		return fail(scrub(err, u))
	}
	st := &Store{bucket: bucket, url: redact(rawURL), remote: u.Scheme == "s3" || u.Scheme == "gs", dir: dir}
	if dir != "" {
		// fileblob has made the directory (create_dir) or refused it.
		if st.flush, st.closeFlush, err = newDirFlush(dir); err != nil {
			_ = bucket.Close()
			return fail(err)
		}
	}
	return st, nil
}

// secretParam reports whether a URL query parameter holds a secret.
func secretParam(key string) bool {
	k := strings.ToLower(key)
	return strings.Contains(k, "secret") || strings.Contains(k, "password") || strings.Contains(k, "token") || k == "sig"
}

// redact hides a URL's password and secret parameters, for messages.
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparseable URL)"
	}
	q := u.Query()
	for key := range q {
		if secretParam(key) {
			q.Set(key, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.Redacted()
}

// scrub hides the secrets of u wherever err's message repeats them: gocloud
// quotes the whole URL in its errors.
func scrub(err error, u *url.URL) error {
	msg := err.Error()
	var secrets []string
	if p, ok := u.User.Password(); ok && p != "" {
		secrets = append(secrets, p, url.QueryEscape(p))
	}
	for key, vals := range u.Query() {
		if secretParam(key) {
			for _, v := range vals {
				if v != "" {
					secrets = append(secrets, v, url.QueryEscape(v))
				}
			}
		}
	}
	if len(secrets) == 0 {
		return err
	}
	for _, v := range secrets {
		msg = strings.ReplaceAll(msg, v, "xxxxx")
	}
	return &scrubbedError{msg: msg, err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// Close releases the store.
func (s *Store) Close() error {
	err := s.bucket.Close()
	if s.closeFlush != nil {
		err = errors.Join(err, s.closeFlush())
	}
	return err
}

// String returns the store's URL, without secrets.
func (s *Store) String() string { return s.url }

// Ping checks that the store is reachable and the bucket or directory
// exists.
func (s *Store) Ping(ctx context.Context) error {
	ok, err := s.bucket.IsAccessible(ctx)
	if err == nil && !ok {
		err = errors.New("the bucket or directory does not exist")
	}
	if err != nil {
		return fmt.Errorf("blob: ping %s: %w", s.url, err)
	}
	return nil
}

// Key returns the key of content whose SHA-256 is sum (64 lowercase hex
// digits): "sha256/ab/cd/abcd…". It panics on a sum shorter than 4
// characters, a programming error; other invalid sums make keys that every
// method rejects.
func Key(sum string) string {
	return "sha256/" + sum[:2] + "/" + sum[2:4] + "/" + sum
}

// ParseKey returns the SHA-256 a key names, or an error matching
// ErrInvalidKey. Keys come back from the database and URLs, so every method
// checks them: a key can name nothing outside the store's layout.
func ParseKey(key string) (sum string, err error) {
	parts := strings.Split(key, "/")
	if len(parts) != 4 || parts[0] != "sha256" || !validSum(parts[3]) || parts[1] != parts[3][:2] || parts[2] != parts[3][2:4] {
		return "", fmt.Errorf("%w: %q is not sha256/ab/cd/<64 hex digits>", ErrInvalidKey, key)
	}
	return parts[3], nil
}

func validSum(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// PutOpts are optional settings of Put.
type PutOpts struct {
	// MaxBytes bounds the content's length: Put reads at most one byte
	// more, and fails with a *TooLargeError if it gets it. 0 means no
	// limit.
	MaxBytes int64
	// ContentType is stored with the blob where the backend keeps it (S3,
	// GCS). Defaults to application/octet-stream.
	ContentType string
}

// PutResult describes a stored blob.
type PutResult struct {
	// Key is the blob's key.
	Key string
	// SHA256 is the content's SHA-256 in lowercase hex.
	SHA256 string
	// Size is the content's length in bytes.
	Size int64
	// Existed reports that identical content was already stored, and was
	// not written again.
	Existed bool
}

// Put stores the content r yields and returns its key. It reads r to the end
// (or to the limit), spooling the content in memory or, past
// SpoolMemoryMax, in a temporary file while hashing it, then writes it under
// its key unless that key already holds it.
func (s *Store) Put(ctx context.Context, r io.Reader, opts *PutOpts) (*PutResult, error) {
	if opts == nil {
		opts = &PutOpts{}
	}
	sp, err := s.spool(r, opts.MaxBytes)
	if err != nil {
		return nil, fmt.Errorf("blob: put into %s: %w", s.url, err)
	}
	defer sp.close()
	res := &PutResult{SHA256: hex.EncodeToString(sp.sha.Sum(nil)), Size: sp.size}
	res.Key = Key(res.SHA256)
	fail := func(err error) (*PutResult, error) {
		return nil, fmt.Errorf("blob: put %s into %s: %w", res.Key, s.url, err)
	}
	exists, err := s.bucket.Exists(ctx, res.Key)
	if err != nil {
		return fail(err)
	}
	if exists {
		res.Existed = true
		return res, nil
	}
	content, err := sp.reader()
	if err != nil {
		return fail(err)
	}
	// Cancelling the writer's context before Close abandons the write, so a
	// failed copy never publishes a partial blob.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wopts := &gcblob.WriterOptions{ContentType: cmp.Or(opts.ContentType, "application/octet-stream")}
	if sp.md5 != nil {
		// The service checks what it received against the hash of what
		// was spooled.
		wopts.ContentMD5 = sp.md5.Sum(nil)
	}
	// A file of a local directory is its owner's alone, whatever the
	// umask: fileblob creates it 0666.
	var file *os.File
	wopts.BeforeWrite = func(as func(any) bool) error {
		if as(&file) {
			return file.Chmod(0o600)
		}
		return nil
	}
	// The directories the key's directory would add, when it is new:
	// their entries reach the disk with the blob's.
	keyDir := ""
	var newDirs []string
	if s.dir != "" && s.flush == nil {
		keyDir = filepath.Join(s.dir, filepath.FromSlash(path.Dir(res.Key)))
		for d := keyDir; d != filepath.Dir(s.dir); d = filepath.Dir(d) {
			if _, err := os.Stat(d); err == nil {
				break
			}
			newDirs = append(newDirs, filepath.Dir(d))
		}
	}
	w, err := s.bucket.NewWriter(wctx, res.Key, wopts)
	if err != nil {
		return fail(err)
	}
	if _, err := io.Copy(w, content); err != nil {
		cancel()
		_ = w.Close()
		return fail(err)
	}
	// A directory store flushes the content before the rename that
	// publishes it and the directory entries after, so that a blob the
	// caller records as stored (and a client was told was accepted)
	// survives a crash of the machine, not only of the process: without
	// it the rename could reach the disk before the content, leaving an
	// empty file under the key, which Exists would then take for the
	// blob. On Linux both are flushes of the file system shared by every
	// Put in flight (groupFlush).
	switch {
	case s.flush != nil:
		if err := s.flush.wait(); err != nil {
			cancel()
			_ = w.Close()
			return fail(fmt.Errorf("flush the content: %w", err))
		}
	case file != nil:
		if err := syncFile(file); err != nil {
			cancel()
			_ = w.Close()
			return fail(fmt.Errorf("flush the content: %w", err))
		}
	}
	if err := w.Close(); err != nil {
		return fail(err)
	}
	if s.flush != nil {
		if err := s.flush.wait(); err != nil {
			return fail(fmt.Errorf("flush the directory entries: %w", err))
		}
	}
	if keyDir != "" {
		for _, d := range append([]string{keyDir}, newDirs...) {
			if err := syncDir(d); err != nil {
				return fail(fmt.Errorf("flush the directory %s: %w", d, err))
			}
		}
	}
	return res, nil
}

// syncFile and syncDir flush a file and a directory's entries to the disk.
// Variables, so that a test can make them fail, as a disk can.
var (
	syncFile = (*os.File).Sync
	syncDir  = func(dir string) error {
		d, err := os.Open(dir)
		if err != nil {
			return err
		}
		defer d.Close()
		return d.Sync()
	}
)

// spool holds content read by Put: in buf, or in file past SpoolMemoryMax.
type spool struct {
	buf  bytes.Buffer
	file *os.File
	size int64
	sha  hash.Hash
	md5  hash.Hash // nil unless the store checks it
}

func (s *Store) spool(r io.Reader, maxBytes int64) (_ *spool, err error) {
	sp := &spool{sha: sha256.New()}
	var hashes io.Writer = sp.sha
	if s.remote {
		sp.md5 = md5.New()
		hashes = io.MultiWriter(sp.sha, sp.md5)
	}
	defer func() {
		if err != nil {
			sp.close()
		}
	}()
	if maxBytes > 0 {
		r = io.LimitReader(r, maxBytes+1)
	}
	hashed := io.TeeReader(r, hashes)
	n, err := io.Copy(&sp.buf, io.LimitReader(hashed, SpoolMemoryMax+1))
	if err != nil {
		return nil, fmt.Errorf("read content: %w", err)
	}
	sp.size = n
	if n > SpoolMemoryMax {
		if sp.file, err = os.CreateTemp("", "quire-blob-*"); err != nil {
			return nil, fmt.Errorf("spool content: %w", err)
		}
		if _, err := sp.buf.WriteTo(sp.file); err != nil {
			return nil, fmt.Errorf("spool content: %w", err)
		}
		n, err := io.Copy(sp.file, hashed)
		if err != nil {
			return nil, fmt.Errorf("read content: %w", err)
		}
		sp.size += n
	}
	if maxBytes > 0 && sp.size > maxBytes {
		return nil, &TooLargeError{MaxBytes: maxBytes}
	}
	return sp, nil
}

// reader returns the spooled content from its start.
func (sp *spool) reader() (io.Reader, error) {
	if sp.file == nil {
		return &sp.buf, nil
	}
	if _, err := sp.file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return sp.file, nil
}

func (sp *spool) close() {
	if sp.file != nil {
		sp.file.Close()
		os.Remove(sp.file.Name())
	}
}

// Reader reads one blob. Close it when done.
type Reader struct {
	r   *gcblob.Reader
	s   *Store
	ctx context.Context
	key string
}

// Open opens the blob under key for reading.
func (s *Store) Open(ctx context.Context, key string) (*Reader, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("blob: open %s in %s: %w", key, s.url, err)
	}
	r, err := s.bucket.NewReader(ctx, key, nil)
	if err != nil {
		return nil, fmt.Errorf("blob: open %s in %s: %w", key, s.url, s.mapErr(err))
	}
	return &Reader{r: r, s: s, ctx: ctx, key: key}, nil
}

// Read reads from the blob.
func (r *Reader) Read(p []byte) (int, error) { return r.r.Read(p) }

// Seek moves the read position, as io.Seeker.
func (r *Reader) Seek(offset int64, whence int) (int64, error) { return r.r.Seek(offset, whence) }

// ReadAt reads len(p) bytes at off, as io.ReaderAt, so parsers of formats
// read from the end (ZIP-based DOCX and XLSX) can use the blob in place.
// Each call is a ranged read of its own: on object storage that is one
// request per call, so a parser that makes many small ones is better fed a
// local copy.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.Size() {
		return 0, io.EOF
	}
	rr, err := r.s.bucket.NewRangeReader(r.ctx, r.key, off, int64(len(p)), nil)
	if err != nil {
		return 0, fmt.Errorf("blob: read %s at %d: %w", r.key, off, r.s.mapErr(err))
	}
	defer rr.Close()
	n, err := io.ReadFull(rr, p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return n, err
}

// Size returns the blob's length in bytes.
func (r *Reader) Size() int64 { return r.r.Size() }

// Close releases the reader.
func (r *Reader) Close() error { return r.r.Close() }

// Exists reports whether a blob is stored under key.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, fmt.Errorf("blob: look up %s in %s: %w", key, s.url, err)
	}
	ok, err := s.bucket.Exists(ctx, key)
	if err != nil {
		return false, fmt.Errorf("blob: look up %s in %s: %w", key, s.url, err)
	}
	return ok, nil
}

// Delete deletes the blob under key. Deleting a blob that is not there is
// not an error, so a cleanup that runs twice succeeds.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("blob: delete %s in %s: %w", key, s.url, err)
	}
	if err := s.bucket.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("blob: delete %s in %s: %w", key, s.url, err)
	}
	return nil
}

// mapErr makes gocloud's not-found errors match ErrNotFound.
func (s *Store) mapErr(err error) error {
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}
