package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/oklog/ulid/v2"
)

const webhookColumns = "id, url, secret, events, active, created_at"

func scanWebhook(row interface{ Scan(...any) error }) (*Webhook, error) {
	var (
		w      Webhook
		events []byte
	)
	if err := row.Scan(&w.ID, &w.URL, &w.Secret, &events, &w.Active, tm{&w.CreatedAt}); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(events, &w.Events); err != nil {
		return nil, fmt.Errorf("webhook %s: events %q: %w", w.ID, events, err)
	}
	if len(w.Events) == 0 {
		w.Events = nil
	}
	return &w, nil
}

// eventsJSON encodes a webhook's events as the JSON array the table holds.
func eventsJSON(events []string) string {
	if events == nil {
		events = []string{}
	}
	b, _ := json.Marshal(events) // a []string always encodes
	return string(b)
}

func (s *sqlStore) CreateWebhook(ctx context.Context, p *CreateWebhookParams) (*Webhook, error) {
	if err := validateWebhook(p.URL, p.Events); err != nil {
		return nil, fmt.Errorf("create webhook %s: %w", p.URL, err)
	}
	var w *Webhook
	err := s.write(ctx, func(tx queryer) error {
		var err error
		w, err = scanWebhook(tx.QueryRowContext(ctx, `
			INSERT INTO webhooks (id, url, secret, events, active, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+webhookColumns,
			ulid.Make().String(), p.URL, p.Secret, eventsJSON(p.Events), !p.Inactive, s.ts(s.nowUTC())))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create webhook %s: %w", p.URL, err)
	}
	return w, nil
}

func (s *sqlStore) DeleteWebhook(ctx context.Context, id string) error {
	if err := s.deleteByID(ctx, "webhooks", id); err != nil {
		return fmt.Errorf("delete webhook %s: %w", id, err)
	}
	return nil
}

func (s *sqlStore) GetWebhook(ctx context.Context, id string) (*Webhook, error) {
	w, err := scanWebhook(s.r.QueryRowContext(ctx, "SELECT "+webhookColumns+" FROM webhooks WHERE id = $1", id))
	if err != nil {
		return nil, fmt.Errorf("get webhook %s: %w", id, notFound(err))
	}
	return w, nil
}

func (s *sqlStore) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	return listRows(ctx, s.r, "list webhooks", scanWebhook, "SELECT "+webhookColumns+" FROM webhooks ORDER BY created_at, id")
}

func (s *sqlStore) UpdateWebhook(ctx context.Context, p *UpdateWebhookParams) (*Webhook, error) {
	if err := validateWebhook(p.URL, p.Events); err != nil {
		return nil, fmt.Errorf("update webhook %s: %w", p.ID, err)
	}
	var w *Webhook
	err := s.write(ctx, func(tx queryer) error {
		var err error
		w, err = scanWebhook(tx.QueryRowContext(ctx, `
			UPDATE webhooks SET url = $2, secret = $3, events = $4, active = $5
			WHERE id = $1 RETURNING `+webhookColumns,
			p.ID, p.URL, p.Secret, eventsJSON(p.Events), p.Active))
		return notFound(err)
	})
	if err != nil {
		return nil, fmt.Errorf("update webhook %s: %w", p.ID, err)
	}
	return w, nil
}
