package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/quirehq/quire/store"
)

// ModelVersion is one trained version of a model.
type ModelVersion struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Name      string    `json:"name"`
	Version   string    `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	// Metrics are the evaluation figures, a JSON object, when recorded.
	Metrics json.RawMessage `json:"metrics,omitempty"`
	Active  bool            `json:"active"`
}

// ModelVersionList lists model versions, newest first.
type ModelVersionList struct {
	Models []ModelVersion `json:"models"`
}

func viewModel(m *store.ModelVersion) ModelVersion {
	return ModelVersion{ID: m.ID, Kind: m.Kind, Name: m.Name, Version: m.Version, CreatedAt: m.CreatedAt,
		Metrics: m.Metrics, Active: m.Active}
}

func (a *api) listModels(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	active := false
	if v := q.Get("active"); v != "" {
		var err error
		if active, err = strconv.ParseBool(v); err != nil {
			a.problem(w, r, http.StatusBadRequest, fmt.Errorf("active %q is not true or false", v))
			return
		}
	}
	ms, err := a.st.ListModelVersions(r.Context(), &store.ListModelVersionsParams{Kind: q.Get("kind"), Name: q.Get("name"),
		ActiveOnly: active})
	if a.storeError(w, r, err) {
		return
	}
	out := ModelVersionList{Models: make([]ModelVersion, len(ms))}
	for i := range ms {
		out.Models[i] = viewModel(&ms[i])
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) getModel(w http.ResponseWriter, r *http.Request) {
	m, err := a.st.GetModelVersion(r.Context(), r.PathValue("id"))
	if a.storeError(w, r, err) {
		return
	}
	writeJSON(w, http.StatusOK, viewModel(m))
}

// activateModel makes a version the active one of its kind and name, as
// `quire ml activate` does.
func (a *api) activateModel(w http.ResponseWriter, r *http.Request) {
	m, err := a.st.ActivateModelVersion(r.Context(), r.PathValue("id"))
	if a.storeError(w, r, err) {
		return
	}
	a.log.Info("api: model version activated", "model_version", m.ID, "kind", m.Kind, "name", m.Name, "version", m.Version, "by", setBy(r))
	writeJSON(w, http.StatusOK, viewModel(m))
}
