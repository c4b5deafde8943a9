package api

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/quirehq/quire/store"
)

// Webhook is a webhook as the API shows it: never with its secret, except in
// the answer that created it or set a new one.
type Webhook struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	// Secret signs deliveries (see pipeline.Sign). Only the answer that
	// set it holds it.
	Secret string `json:"secret,omitempty"`
}

// WebhookList lists webhooks, oldest first.
type WebhookList struct {
	Webhooks []Webhook `json:"webhooks"`
}

// WebhookParams are the body of a new webhook or a change to one. Fields left
// out keep their value in a change; in a new webhook, the secret is made at
// random, events default to every event and active to true.
type WebhookParams struct {
	URL    *string   `json:"url"`
	Secret *string   `json:"secret"`
	Events *[]string `json:"events"`
	Active *bool     `json:"active"`
}

func viewWebhook(h *store.Webhook) Webhook {
	events := h.Events
	if events == nil {
		events = []string{}
	}
	return Webhook{ID: h.ID, URL: h.URL, Events: events, Active: h.Active, CreatedAt: h.CreatedAt}
}

// newSecret makes a webhook's signing secret: 256 random bits.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

func (a *api) listWebhooks(w http.ResponseWriter, r *http.Request) {
	hs, err := a.st.ListWebhooks(r.Context())
	if a.storeError(w, r, err) {
		return
	}
	out := WebhookList{Webhooks: make([]Webhook, len(hs))}
	for i := range hs {
		out.Webhooks[i] = viewWebhook(&hs[i])
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) createWebhook(w http.ResponseWriter, r *http.Request) {
	var p WebhookParams
	if !a.decode(w, r, &p) {
		return
	}
	cp := &store.CreateWebhookParams{Secret: newSecret()}
	if p.URL != nil {
		cp.URL = *p.URL
	}
	if p.Secret != nil && *p.Secret != "" {
		cp.Secret = *p.Secret
	}
	if p.Events != nil {
		cp.Events = *p.Events
	}
	cp.Inactive = p.Active != nil && !*p.Active
	if !a.checkWebhookURL(w, r, cp.URL) {
		return
	}
	h, err := a.st.CreateWebhook(r.Context(), cp)
	if a.storeError(w, r, err) {
		return
	}
	v := viewWebhook(h)
	v.Secret = h.Secret
	w.Header().Set("Location", "/api/v1/webhooks/"+h.ID)
	writeJSON(w, http.StatusCreated, v)
}

// checkWebhookURL answers 400 for a URL the pipeline will not call (not
// http or https, or a private address it is not allowed to reach) and
// reports whether the URL is fine.
func (a *api) checkWebhookURL(w http.ResponseWriter, r *http.Request, rawURL string) bool {
	if err := a.p.CheckWebhookURL(r.Context(), rawURL); err != nil {
		a.problem(w, r, http.StatusBadRequest, err)
		return false
	}
	return true
}

func (a *api) getWebhook(w http.ResponseWriter, r *http.Request) {
	h, err := a.st.GetWebhook(r.Context(), r.PathValue("id"))
	if a.storeError(w, r, err) {
		return
	}
	writeJSON(w, http.StatusOK, viewWebhook(h))
}

func (a *api) updateWebhook(w http.ResponseWriter, r *http.Request) {
	var p WebhookParams
	if !a.decode(w, r, &p) {
		return
	}
	h, err := a.st.GetWebhook(r.Context(), r.PathValue("id"))
	if a.storeError(w, r, err) {
		return
	}
	up := &store.UpdateWebhookParams{ID: h.ID, URL: h.URL, Secret: h.Secret, Events: h.Events, Active: h.Active}
	if p.URL != nil {
		up.URL = *p.URL
		if !a.checkWebhookURL(w, r, up.URL) {
			return
		}
	}
	if p.Secret != nil {
		up.Secret = *p.Secret
	}
	if p.Events != nil {
		up.Events = *p.Events
	}
	if p.Active != nil {
		up.Active = *p.Active
	}
	h, err = a.st.UpdateWebhook(r.Context(), up)
	if a.storeError(w, r, err) {
		return
	}
	v := viewWebhook(h)
	if p.Secret != nil {
		v.Secret = h.Secret // the caller set it: showing it back leaks nothing
	}
	writeJSON(w, http.StatusOK, v)
}

func (a *api) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	if a.storeError(w, r, a.st.DeleteWebhook(r.Context(), r.PathValue("id"))) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
