package kserve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/quirehq/quire/ml"
)

// Limits of an inference request.
const (
	// MaxBatchDefault is the most texts one request may hold.
	MaxBatchDefault = 256
	// MaxRequestBytesDefault bounds a request's body.
	MaxRequestBytesDefault = 32 << 20
)

// PlatformQuire is the platform models report in their metadata.
const PlatformQuire = "quire"

// ModelSource provides the models to serve: an *ml.Analyzer, whose Refresh
// or Reloader keeps them current, so a new version is served without a
// restart.
type ModelSource interface {
	Models() []ml.LoadedModel
}

// ServerConfig configures a Server.
type ServerConfig struct {
	// Models are the models served, by name; each name serves the one
	// version loaded. Required.
	Models ModelSource
	// Ready reports readiness (/v2/health/ready), such as "the active
	// versions were loaded". Defaults to always ready.
	Ready func() bool
	// Version is the server's version in its metadata.
	Version string
	// MaxBatch is the most texts of one request. Defaults to
	// MaxBatchDefault.
	MaxBatch int
	// MaxRequestBytes bounds a request's body. Defaults to
	// MaxRequestBytesDefault.
	MaxRequestBytes int64
	Logger          *slog.Logger
}

// Server serves models over the Open Inference Protocol's REST API.
type Server struct {
	cfg ServerConfig
	mux *http.ServeMux
}

// NewServer returns a Server; it panics without Models, a programmer's
// mistake.
func NewServer(cfg *ServerConfig) *Server {
	c := *cfg
	if c.Models == nil {
		panic("kserve: ServerConfig.Models is required")
	}
	if c.Ready == nil {
		c.Ready = func() bool { return true }
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = MaxBatchDefault
	}
	if c.MaxRequestBytes <= 0 {
		c.MaxRequestBytes = MaxRequestBytesDefault
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	s := &Server{cfg: c, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /v2/health/live", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"live": true})
	})
	s.mux.HandleFunc("GET /v2/health/ready", func(w http.ResponseWriter, _ *http.Request) {
		ready := s.cfg.Ready()
		writeJSON(w, map[bool]int{true: http.StatusOK, false: http.StatusServiceUnavailable}[ready], map[string]bool{"ready": ready})
	})
	s.mux.HandleFunc("GET /v2", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, ServerMetadata{Name: "quire", Version: s.cfg.Version, Extensions: []string{}})
	})
	for _, prefix := range []string{"/v2/models/{name}", "/v2/models/{name}/versions/{version}"} {
		s.mux.HandleFunc("GET "+prefix, s.metadata)
		s.mux.HandleFunc("GET "+prefix+"/ready", s.modelReady)
		s.mux.HandleFunc("POST "+prefix+"/infer", s.infer)
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Errorf("no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	return s
}

// ServeHTTP implements http.Handler. A panic answers 500 and is logged,
// and the server stays up.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			s.cfg.Logger.Error("kserve: handler panicked", "path", r.URL.Path, "panic", v)
			writeError(w, http.StatusInternalServerError, errors.New("internal error"))
		}
	}()
	s.mux.ServeHTTP(w, r)
}

// model finds the model of a request's path: its name and, if given, its
// version, which must be the one loaded.
func (s *Server) model(r *http.Request) (ml.LoadedModel, int, error) {
	name, version := r.PathValue("name"), r.PathValue("version")
	for _, m := range s.cfg.Models.Models() {
		if m.Model.Name != name {
			continue
		}
		if version != "" && version != versionOf(m) {
			return m, http.StatusNotFound, fmt.Errorf("model %q has no version %q loaded (serving %q)", name, version, versionOf(m))
		}
		return m, http.StatusOK, nil
	}
	return ml.LoadedModel{}, http.StatusNotFound, fmt.Errorf("no model %q is loaded", name)
}

// versionOf is what a loaded model is served as: its store ID when it is
// registered, which is also what Quire records its predictions under.
func versionOf(m ml.LoadedModel) string {
	if m.ID != "" {
		return m.ID
	}
	return m.Model.ModelVersion()
}

func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	m, code, err := s.model(r)
	if err != nil {
		writeError(w, code, err)
		return
	}
	writeJSON(w, http.StatusOK, ModelMetadata{
		Name: m.Model.Name, Versions: []string{versionOf(m)}, Platform: PlatformQuire,
		Inputs: []TensorMetadata{{Name: InputText, Datatype: DatatypeBytes, Shape: []int64{-1}}},
		Outputs: []TensorMetadata{
			{Name: OutputLabel, Datatype: DatatypeBytes, Shape: []int64{-1}},
			{Name: OutputConfidence, Datatype: DatatypeFP64, Shape: []int64{-1}},
			{Name: OutputUnsure, Datatype: DatatypeBool, Shape: []int64{-1}},
			{Name: OutputProbabilities, Datatype: DatatypeFP64, Shape: []int64{-1, int64(len(m.Model.Labels))}},
		},
	})
}

func (s *Server) modelReady(w http.ResponseWriter, r *http.Request) {
	if _, code, err := s.model(r); err != nil {
		writeError(w, code, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ready": true})
}

func (s *Server) infer(w http.ResponseWriter, r *http.Request) {
	m, code, err := s.model(r)
	if err != nil {
		writeError(w, code, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxRequestBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("read the request: %w", err))
		return
	}
	var req InferRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("the request is not an inference request: %w", err))
		return
	}
	texts, err := s.texts(&req)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	want := map[string]bool{}
	for _, o := range req.Outputs {
		switch o.Name {
		case OutputLabel, OutputConfidence, OutputUnsure, OutputProbabilities:
			want[o.Name] = true
		default:
			writeError(w, http.StatusBadRequest, fmt.Errorf("unknown output %q: the outputs are %s, %s, %s and %s",
				o.Name, OutputLabel, OutputConfidence, OutputUnsure, OutputProbabilities))
			return
		}
	}
	n, k := len(texts), len(m.Model.Labels)
	labels := make([]string, n)
	confs := make([]float64, n)
	unsure := make([]bool, n)
	probs := make([]float64, 0, n*k)
	index := make(map[string]int, k)
	for i, l := range m.Model.Labels {
		index[l] = i
	}
	row := make([]float64, k)
	for i, text := range texts {
		if i%16 == 0 && r.Context().Err() != nil {
			return // the caller left
		}
		p := m.Model.Predict(text)
		labels[i], confs[i], unsure[i] = p.Label, p.Confidence, p.Unsure
		for _, sc := range p.Scores {
			row[index[sc.Label]] = sc.Probability
		}
		probs = append(probs, row...)
	}
	labelsJSON, _ := json.Marshal(m.Model.Labels)
	outs := []OutputTensor{
		{Name: OutputLabel, Shape: []int64{int64(n)}, Datatype: DatatypeBytes, Data: labels},
		{Name: OutputConfidence, Shape: []int64{int64(n)}, Datatype: DatatypeFP64, Data: confs},
		{Name: OutputUnsure, Shape: []int64{int64(n)}, Datatype: DatatypeBool, Data: unsure},
		{Name: OutputProbabilities, Shape: []int64{int64(n), int64(k)}, Datatype: DatatypeFP64, Data: probs,
			Parameters: map[string]any{"labels": string(labelsJSON)}},
	}
	if len(want) > 0 {
		kept := outs[:0]
		for _, o := range outs {
			if want[o.Name] {
				kept = append(kept, o)
			}
		}
		outs = kept
	}
	writeJSON(w, http.StatusOK, InferResponse{ModelName: m.Model.Name, ModelVersion: versionOf(m), ID: req.ID, Outputs: outs})
}

// texts checks the request's one input and returns its texts.
func (s *Server) texts(req *InferRequest) ([]string, error) {
	if len(req.Inputs) != 1 {
		return nil, fmt.Errorf("the request has %d inputs: a text classifier takes one, %q, of datatype %s", len(req.Inputs), InputText, DatatypeBytes)
	}
	in := req.Inputs[0]
	if in.Datatype != DatatypeBytes {
		return nil, fmt.Errorf("input %q has datatype %q: texts are %s", in.Name, in.Datatype, DatatypeBytes)
	}
	texts, err := flatStrings(in.Data)
	if err != nil {
		return nil, fmt.Errorf("input %q: %w", in.Name, err)
	}
	size := int64(1)
	for _, d := range in.Shape {
		if d < 0 {
			return nil, fmt.Errorf("input %q: shape %v has a negative dimension", in.Name, in.Shape)
		}
		size *= d
	}
	if len(in.Shape) == 0 || size != int64(len(texts)) {
		return nil, fmt.Errorf("input %q: shape %v does not match its %d elements", in.Name, in.Shape, len(texts))
	}
	if len(texts) == 0 {
		return nil, fmt.Errorf("input %q holds no text", in.Name)
	}
	if len(texts) > s.cfg.MaxBatch {
		return nil, fmt.Errorf("input %q holds %d texts: at most %d per request", in.Name, len(texts), s.cfg.MaxBatch)
	}
	return texts, nil
}

// flatStrings reads tensor data of strings, flat or nested, in row-major
// order.
func flatStrings(raw json.RawMessage) ([]string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("data is not JSON: %w", err)
	}
	var out []string
	var walk func(v any) error
	walk = func(v any) error {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, e := range x {
				if err := walk(e); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("data holds %T: texts are strings", v)
		}
		return nil
	}
	if _, ok := v.([]any); !ok {
		return nil, errors.New("data is not an array")
	}
	return out, walk(v)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, ErrorResponse{Error: err.Error()})
}
