package pipeline

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/store"
)

// The events webhooks receive.
const (
	EventDocumentDone   = "document.done"
	EventDocumentFailed = "document.failed"
)

// Headers of a webhook delivery. The signature is the hex HMAC-SHA256, keyed
// by the webhook's secret, of the timestamp, a dot and the body, as Stripe
// does: a receiver recomputes it and rejects old timestamps to stop replays.
const (
	HeaderEvent     = "Quire-Event"
	HeaderTimestamp = "Quire-Timestamp"
	HeaderSignature = "Quire-Signature"
	HeaderDelivery  = "Quire-Delivery"
)

// Sign returns the signature of a delivery.
func Sign(secret string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// WebhookPayload is the JSON body of a delivery.
type WebhookPayload struct {
	Event    string          `json:"event"`
	Document WebhookDocument `json:"document"`
}

// WebhookDocument is the document as a delivery describes it.
type WebhookDocument struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	SHA256        string `json:"sha256"`
	MIMEType      string `json:"mime_type"`
	State         string `json:"state"`
	FailureReason string `json:"failure_reason,omitempty"`
	PageCount     int    `json:"page_count"`
	WordCount     int    `json:"word_count"`
	Language      string `json:"language,omitempty"`
	// Tags are the names of the document's tags at delivery.
	Tags      []string  `json:"tags"`
	UpdatedAt time.Time `json:"updated_at"`
}

type webhookArgs struct {
	WebhookID  string `json:"webhook_id"`
	DocumentID string `json:"document_id"`
	Event      string `json:"event"`
}

// webhookMaxRetries: a receiver that is down for a day still gets the event
// (the engine's backoff reaches about a day at the 15th retry).
const webhookMaxRetries = 15

// enqueueWebhooks enqueues one delivery job per webhook that wants the event,
// so that a slow or failing receiver never holds up the others. A delivery
// is unique on (webhook, document, event, the move that made the event), so
// a repeated run of the stage that made it does not tell twice, and the next
// run of a reprocessed document is told even while the last delivery's job
// still holds its key.
func (p *Pipeline) enqueueWebhooks(ctx context.Context, doc *store.Document, event string) error {
	hooks, err := p.webhooks(ctx)
	if err != nil {
		return fmt.Errorf("list webhooks: %w", err)
	}
	var params []jobs.EnqueueParams
	for _, h := range hooks {
		if !h.Wants(event) {
			continue
		}
		params = append(params, jobs.EnqueueParams{Type: JobWebhook,
			Args: webhookArgs{WebhookID: h.ID, DocumentID: doc.ID, Event: event},
			Opts: &jobs.EnqueueOpts{Queue: QueueNotify, MaxRetries: webhookMaxRetries,
				Unique: &jobs.UniqueOpts{Key: fmt.Sprintf("webhook:%s:%s:%s:%d", h.ID, doc.ID, event, doc.UpdatedAt.UnixMicro())}}})
	}
	if len(params) == 0 {
		return nil
	}
	// Deliveries join no batch the stage's job is in: a receiver that is
	// down is retried for hours, and a batch tracking documents (quire
	// process) must not wait for it.
	if _, err := p.cfg.Jobs.EnqueueMany(jobs.WithBatch(ctx, ""), params); err != nil {
		return fmt.Errorf("enqueue %d webhook deliveries: %w", len(params), err)
	}
	return nil
}

// webhooksTTL is how long the pipeline reuses the list of webhooks: a
// webhook added, changed or removed takes effect within it. Reading the
// list for every document cost a round trip to the store per document.
const webhooksTTL = time.Second

// webhookList is the list of webhooks as last read.
type webhookList struct {
	hooks []store.Webhook
	at    time.Time
}

// webhooks returns the webhooks, read from the store at most once per
// webhooksTTL.
func (p *Pipeline) webhooks(ctx context.Context) ([]store.Webhook, error) {
	if l := p.hooks.Load(); l != nil && time.Since(l.at) < webhooksTTL {
		return l.hooks, nil
	}
	hooks, err := p.cfg.Store.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	p.hooks.Store(&webhookList{hooks: hooks, at: time.Now()})
	return hooks, nil
}

// deliverWebhook posts one event to one webhook. A failure retries with the
// engine's backoff; the delivery is dead after the last retry, visible and
// retryable from the dead set.
func (p *Pipeline) deliverWebhook(ctx context.Context, j *jobs.Job, a webhookArgs) error {
	h, err := p.cfg.Store.GetWebhook(ctx, a.WebhookID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return fmt.Errorf("load webhook %s: %w", a.WebhookID, err)
	}
	if !h.Wants(a.Event) {
		return nil
	}
	doc, err := p.cfg.Store.GetDocument(ctx, a.DocumentID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load document %s: %w", a.DocumentID, err)
	}
	tags, err := p.cfg.Store.DocumentTagNames(ctx, []string{doc.ID})
	if err != nil {
		return fmt.Errorf("load tags of document %s: %w", doc.ID, err)
	}
	body, err := json.Marshal(WebhookPayload{Event: a.Event, Document: WebhookDocument{
		ID: doc.ID, Name: doc.Name, SHA256: doc.SHA256, MIMEType: doc.MIMEType, State: string(doc.State),
		FailureReason: doc.FailureReason, PageCount: doc.PageCount, WordCount: doc.WordCount,
		Language: doc.Language, Tags: append([]string{}, tags[doc.ID]...), UpdatedAt: doc.UpdatedAt,
	}})
	if err != nil {
		return jobs.Discard(fmt.Errorf("encode webhook payload: %w", err))
	}
	// The URL was checked at registration; check it again, since the
	// setting or the name's addresses may have changed since.
	if err := p.CheckWebhookURL(ctx, h.URL); err != nil {
		return jobs.Discard(fmt.Errorf("webhook %s: %w", h.ID, err))
	}
	l, err := p.webhookLimiter(h.ID)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", h.ID, err)
	}
	if l == nil {
		return p.postWebhook(ctx, j, h, a.Event, body)
	}
	return l.Do(ctx, func(ctx context.Context) error { return p.postWebhook(ctx, j, h, a.Event, body) })
}

// webhookLimiter returns the limiter of webhook id's deliveries, nil when
// they are not limited.
func (p *Pipeline) webhookLimiter(id string) (*jobs.Limiter, error) {
	if p.cfg.WebhookConcurrency <= 0 {
		return nil, nil
	}
	if l, ok := p.webhookLimiters.Load(id); ok {
		return l.(*jobs.Limiter), nil
	}
	l, err := jobs.NewConcurrencyLimiter(p.cfg.Broker, "webhook:"+id, p.cfg.WebhookConcurrency, &jobs.LimiterOpts{Logger: p.log})
	if err != nil {
		return nil, err
	}
	got, _ := p.webhookLimiters.LoadOrStore(id, l)
	return got.(*jobs.Limiter), nil
}

// postWebhook posts one signed event to h.
func (p *Pipeline) postWebhook(ctx context.Context, j *jobs.Job, h *store.Webhook, event string, body []byte) error {
	ts := time.Now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return jobs.Discard(fmt.Errorf("webhook %s: %w", h.ID, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Quire-Webhook/1")
	req.Header.Set(HeaderEvent, event)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderDelivery, j.ID)
	req.Header.Set(HeaderSignature, Sign(h.Secret, ts, body))
	resp, err := p.cfg.HTTPClient.Do(req)
	err = redactWebhookErr(err)
	if errors.Is(err, ErrWebhookTarget) {
		// Retrying cannot help while the setting refuses the address.
		return jobs.Discard(fmt.Errorf("deliver %s to webhook %s: %w", event, h.ID, err))
	}
	if err != nil {
		return fmt.Errorf("deliver %s to webhook %s: %w", event, h.ID, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("deliver %s to webhook %s: %s answered %s", event, h.ID, webhookOrigin(h.URL), resp.Status)
	}
	return nil
}

// webhookOrigin is the part of a webhook's URL that errors and logs may
// show: its scheme and host. Receivers often put a secret in the rest (a
// token in the path or the query, a password before the host).
func webhookOrigin(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "the receiver"
	}
	return u.Scheme + "://" + u.Host
}

// redactWebhookErr cuts the URL an HTTP client's error quotes down to its
// origin; see webhookOrigin.
func redactWebhookErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = webhookOrigin(ue.URL)
	}
	return err
}
