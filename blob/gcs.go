package blob

// The gs:// driver: gocloud's blob driver interface over Google Cloud
// Storage's JSON API, through the generated google.golang.org/api/storage/v1
// client. gocloud's own gcsblob goes through cloud.google.com/go/storage,
// which links its gRPC client, the xDS resolver for direct path and an
// OpenTelemetry metrics exporter whatever the transport used: about 18 MB of
// the binary and 14 MiB of every process's resident memory (docs/benchmarks.md,
// "Binary size and resident memory"), for the five calls a content-addressed
// store makes.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	gcblob "gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/gcerrors"
	"golang.org/x/oauth2/google"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	gstorage "google.golang.org/api/storage/v1"
)

// gcsEmulatorEnv names an emulator (fake-gcs-server) to use instead of
// Google Cloud Storage, without credentials, as cloud.google.com/go/storage
// reads it: host:port or a URL. A URL's endpoint parameter comes first.
const gcsEmulatorEnv = "STORAGE_EMULATOR_HOST"

// openGCS opens a gs:// bucket. Credentials are looked for here, not on
// first use, so that a missing credential is an error at start that says
// what to set.
func openGCS(ctx context.Context, u *url.URL) (*gcblob.Bucket, error) {
	q := u.Query()
	for key := range q {
		if key != "anonymous" && key != "endpoint" {
			return nil, fmt.Errorf("unknown query parameter %q: gs:// URLs take only anonymous and endpoint", key)
		}
	}
	anon := false
	if v := q.Get("anonymous"); v != "" {
		var err error
		if anon, err = strconv.ParseBool(v); err != nil {
			return nil, fmt.Errorf("anonymous=%q: %w", v, err)
		}
	}
	opts := []option.ClientOption{option.WithScopes(gstorage.DevstorageReadWriteScope)}
	endpoint := q.Get("endpoint")
	if host := os.Getenv(gcsEmulatorEnv); endpoint == "" && host != "" {
		if !strings.Contains(host, "://") {
			host = "http://" + host
		}
		endpoint, anon = host, true
	}
	if endpoint != "" {
		opts = append(opts, option.WithEndpoint(strings.TrimSuffix(endpoint, "/")+"/storage/v1/"))
	}
	if anon {
		opts = append(opts, option.WithoutAuthentication())
	} else {
		creds, err := google.FindDefaultCredentials(ctx, gstorage.DevstorageReadWriteScope)
		if err != nil {
			return nil, fmt.Errorf("no Google Cloud credentials: set GOOGLE_APPLICATION_CREDENTIALS, or run with Workload Identity: %w", err)
		}
		opts = append(opts, option.WithTokenSource(creds.TokenSource))
	}
	svc, err := gstorage.NewService(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return gcblob.NewBucket(&gcsBucket{svc: svc, name: u.Host}), nil
}

// gcsBucket implements driver.Bucket for one bucket.
type gcsBucket struct {
	svc  *gstorage.Service
	name string
}

var errGCSUnimplemented = errors.New("not implemented by Quire's gs:// driver")

func (b *gcsBucket) ErrorCode(err error) gcerrors.ErrorCode {
	var gerr *googleapi.Error
	switch {
	case errors.Is(err, errGCSUnimplemented):
		return gcerrors.Unimplemented
	case errors.Is(err, context.Canceled):
		return gcerrors.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return gcerrors.DeadlineExceeded
	case !errors.As(err, &gerr):
		return gcerrors.Unknown
	}
	switch gerr.Code {
	case http.StatusNotFound:
		return gcerrors.NotFound
	case http.StatusPreconditionFailed:
		return gcerrors.FailedPrecondition
	case http.StatusBadRequest:
		return gcerrors.InvalidArgument
	case http.StatusUnauthorized, http.StatusForbidden:
		return gcerrors.PermissionDenied
	case http.StatusConflict:
		return gcerrors.AlreadyExists
	case http.StatusTooManyRequests:
		return gcerrors.ResourceExhausted
	case http.StatusNotImplemented:
		return gcerrors.Unimplemented
	}
	return gcerrors.Unknown
}

func (b *gcsBucket) As(i any) bool {
	p, ok := i.(**gstorage.Service)
	if ok {
		*p = b.svc
	}
	return ok
}

func (b *gcsBucket) ErrorAs(err error, i any) bool {
	return errors.As(err, i)
}

func noAs(any) bool { return false }

func (b *gcsBucket) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	obj, err := b.svc.Objects.Get(b.name, key).Context(ctx).Do()
	if err != nil {
		return nil, err
	}
	md5, _ := base64.StdEncoding.DecodeString(obj.Md5Hash)
	created, _ := time.Parse(time.RFC3339, obj.TimeCreated)
	updated, _ := time.Parse(time.RFC3339, obj.Updated)
	return &driver.Attributes{
		CacheControl:       obj.CacheControl,
		ContentDisposition: obj.ContentDisposition,
		ContentEncoding:    obj.ContentEncoding,
		ContentLanguage:    obj.ContentLanguage,
		ContentType:        obj.ContentType,
		Metadata:           obj.Metadata,
		CreateTime:         created,
		ModTime:            updated,
		Size:               int64(obj.Size),
		MD5:                md5,
		ETag:               obj.Etag,
		AsFunc:             noAs,
	}, nil
}

func (b *gcsBucket) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	call := b.svc.Objects.List(b.name).Context(ctx).Prefix(opts.Prefix).Delimiter(opts.Delimiter).PageToken(string(opts.PageToken))
	if opts.PageSize > 0 {
		call.MaxResults(int64(opts.PageSize))
	}
	if opts.BeforeList != nil {
		if err := opts.BeforeList(noAs); err != nil {
			return nil, err
		}
	}
	res, err := call.Do()
	if err != nil {
		return nil, err
	}
	page := &driver.ListPage{NextPageToken: []byte(res.NextPageToken)}
	for _, obj := range res.Items {
		md5, _ := base64.StdEncoding.DecodeString(obj.Md5Hash)
		updated, _ := time.Parse(time.RFC3339, obj.Updated)
		page.Objects = append(page.Objects, &driver.ListObject{Key: obj.Name, ModTime: updated, Size: int64(obj.Size), MD5: md5, AsFunc: noAs})
	}
	for _, p := range res.Prefixes {
		page.Objects = append(page.Objects, &driver.ListObject{Key: p, IsDir: true, AsFunc: noAs})
	}
	return page, nil
}

func (b *gcsBucket) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *driver.ReaderOptions) (driver.Reader, error) {
	if opts.BeforeRead != nil {
		if err := opts.BeforeRead(noAs); err != nil {
			return nil, err
		}
	}
	// A range of nothing, or from the end, reads no content: its
	// attributes tell whether the blob is there and its size.
	empty := func() (driver.Reader, error) {
		a, err := b.Attributes(ctx, key)
		if err != nil {
			return nil, err
		}
		return &gcsReader{body: http.NoBody, attrs: driver.ReaderAttributes{ContentType: a.ContentType, ModTime: a.ModTime, Size: a.Size}}, nil
	}
	if length == 0 {
		return empty()
	}
	call := b.svc.Objects.Get(b.name, key).Context(ctx)
	switch {
	case length > 0:
		call.Header().Set("Range", fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
	case offset > 0:
		call.Header().Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	resp, err := call.Download()
	var gerr *googleapi.Error
	if errors.As(err, &gerr) && gerr.Code == http.StatusRequestedRangeNotSatisfiable {
		return empty()
	}
	if err != nil {
		return nil, err
	}
	size := resp.ContentLength
	if s := resp.Header.Get("X-Goog-Stored-Content-Length"); s != "" {
		size, _ = strconv.ParseInt(s, 10, 64)
	}
	// A range's response gives the whole length after the slash of
	// Content-Range: "bytes 0-9/1234".
	if cr := resp.Header.Get("Content-Range"); cr != "" {
		if i := strings.LastIndexByte(cr, '/'); i >= 0 {
			if n, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil {
				size = n
			}
		}
	}
	mod, _ := http.ParseTime(resp.Header.Get("Last-Modified"))
	return &gcsReader{body: resp.Body, attrs: driver.ReaderAttributes{ContentType: resp.Header.Get("Content-Type"), ModTime: mod, Size: size}}, nil
}

type gcsReader struct {
	body  io.ReadCloser
	attrs driver.ReaderAttributes
}

func (r *gcsReader) Read(p []byte) (int, error)           { return r.body.Read(p) }
func (r *gcsReader) Close() error                         { return r.body.Close() }
func (r *gcsReader) Attributes() *driver.ReaderAttributes { return &r.attrs }
func (r *gcsReader) As(any) bool                          { return false }
func (b *gcsBucket) Close() error                         { return nil }
func (b *gcsBucket) Copy(context.Context, string, string, *driver.CopyOptions) error {
	return errGCSUnimplemented
}

func (b *gcsBucket) SignedURL(context.Context, string, *driver.SignedURLOptions) (string, error) {
	return "", errGCSUnimplemented
}

func (b *gcsBucket) Delete(ctx context.Context, key string, opts *driver.DeleteOptions) error {
	if opts.BeforeDelete != nil {
		if err := opts.BeforeDelete(noAs); err != nil {
			return err
		}
	}
	return b.svc.Objects.Delete(b.name, key).Context(ctx).Do()
}

// NewTypedWriter uploads what is written in one request, or in chunks of
// opts.BufferSize (16 MiB by default) past that, each held in memory, as
// cloud.google.com/go/storage does. Cancelling ctx before Close abandons
// the upload: nothing is stored.
func (b *gcsBucket) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	obj := &gstorage.Object{
		Name:               key,
		ContentType:        contentType,
		CacheControl:       opts.CacheControl,
		ContentDisposition: opts.ContentDisposition,
		ContentEncoding:    opts.ContentEncoding,
		ContentLanguage:    opts.ContentLanguage,
		Metadata:           opts.Metadata,
	}
	if len(opts.ContentMD5) > 0 {
		// The service checks the content against it.
		obj.Md5Hash = base64.StdEncoding.EncodeToString(opts.ContentMD5)
	}
	if opts.BeforeWrite != nil {
		if err := opts.BeforeWrite(noAs); err != nil {
			return nil, err
		}
	}
	media := []googleapi.MediaOption{googleapi.ContentType(contentType)}
	if opts.BufferSize > 0 {
		media = append(media, googleapi.ChunkSize(opts.BufferSize))
	}
	pr, pw := io.Pipe()
	w := &gcsWriter{ctx: ctx, pw: pw, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		// Media reads the first chunk of what is written, so it runs here,
		// beside the writes. Content-addressed blobs make a retried upload
		// harmless.
		call := b.svc.Objects.Insert(b.name, obj).Media(pr, media...).Context(ctx).WithRetry(nil, nil)
		if opts.IfNotExist {
			call.IfGenerationMatch(0)
		}
		_, w.err = call.Do()
		pr.CloseWithError(cmpErr(w.err, io.ErrClosedPipe))
	}()
	return w, nil
}

func cmpErr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

type gcsWriter struct {
	ctx  context.Context
	pw   *io.PipeWriter
	done chan struct{}
	err  error // the upload's, set before done is closed
}

func (w *gcsWriter) Write(p []byte) (int, error) { return w.pw.Write(p) }

func (w *gcsWriter) Close() error {
	if err := w.ctx.Err(); err != nil {
		w.pw.CloseWithError(err)
		<-w.done
		return err
	}
	w.pw.Close()
	<-w.done
	return w.err
}

var _ driver.Bucket = (*gcsBucket)(nil)
