package store

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"
)

// Webhook is an HTTP endpoint told about documents' progress.
type Webhook struct {
	// ID is a ULID.
	ID string
	// URL receives the events, by POST.
	URL string
	// Secret signs the deliveries, so the receiver can check them. It is
	// stored as given: the store must be able to sign with it.
	Secret string
	// Events names the events to deliver ("document.done",
	// "document.failed", …); empty means every event.
	Events []string
	// Active webhooks receive deliveries; inactive ones are kept but
	// skipped.
	Active    bool
	CreatedAt time.Time
}

// Wants reports whether the webhook should receive an event.
func (w *Webhook) Wants(event string) bool {
	return w.Active && (len(w.Events) == 0 || slices.Contains(w.Events, event))
}

// CreateWebhookParams are the inputs of CreateWebhook.
type CreateWebhookParams struct {
	// URL is an http or https URL. Required.
	URL    string
	Secret string
	// Events names the events to deliver; empty means every event.
	Events []string
	// Inactive creates the webhook switched off. Webhooks are active by
	// default.
	Inactive bool
}

// UpdateWebhookParams are the inputs of UpdateWebhook: the webhook's new
// fields, all of them.
type UpdateWebhookParams struct {
	ID     string
	URL    string
	Secret string
	Events []string
	Active bool
}

func validateWebhook(rawURL string, events []string) error {
	var errs []error
	if u, err := url.Parse(rawURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("webhook URL %q is not an http or https URL", rawURL))
	}
	for _, e := range events {
		if e == "" {
			errs = append(errs, errors.New("an event name is empty"))
		}
	}
	return invalid(errs...)
}
