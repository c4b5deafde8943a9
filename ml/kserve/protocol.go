// Package kserve speaks the Open Inference Protocol (KServe v2, REST and
// JSON): Server serves Quire's classifiers at /v2/models/..., and Client
// calls such an endpoint as a classifier of the analyze stage, so that a
// team's own model (served by KServe, Triton, MLServer or Quire itself)
// plugs into the pipeline.
//
// A text classifier speaks it this way: the request has one input tensor
// of datatype BYTES and shape [N], whose data are N texts; the response has
// the outputs "label" (BYTES, [N]: the most likely label), "confidence"
// (FP64, [N]: its probability), "unsure" (BOOL, [N]) and "probabilities"
// (FP64, [N, K]: every label's probability, in the order that the output's
// parameter "labels", a JSON array, gives). A client needs only "label";
// "confidence" makes its predictions comparable with Quire's own.
//
// The protocol: https://kserve.github.io/website/docs/concepts/architecture/data-plane/v2-protocol
package kserve

import "encoding/json"

// The names of the tensors of a text classifier.
const (
	InputText           = "text"
	OutputLabel         = "label"
	OutputConfidence    = "confidence"
	OutputUnsure        = "unsure"
	OutputProbabilities = "probabilities"
)

// Tensor datatypes of the protocol that Quire uses.
const (
	DatatypeBytes = "BYTES"
	DatatypeFP64  = "FP64"
	DatatypeBool  = "BOOL"
)

// InferRequest is the body of POST /v2/models/{name}[/versions/{v}]/infer.
type InferRequest struct {
	ID         string            `json:"id,omitempty"`
	Parameters map[string]any    `json:"parameters,omitempty"`
	Inputs     []RequestInput    `json:"inputs"`
	Outputs    []RequestedOutput `json:"outputs,omitempty"`
}

// RequestInput is an input tensor.
type RequestInput struct {
	Name       string          `json:"name"`
	Shape      []int64         `json:"shape"`
	Datatype   string          `json:"datatype"`
	Parameters map[string]any  `json:"parameters,omitempty"`
	Data       json.RawMessage `json:"data"`
}

// RequestedOutput names an output the caller wants; none means all.
type RequestedOutput struct {
	Name       string         `json:"name"`
	Parameters map[string]any `json:"parameters,omitempty"`
}

// InferResponse is the answer of an inference request.
type InferResponse struct {
	ModelName    string         `json:"model_name"`
	ModelVersion string         `json:"model_version,omitempty"`
	ID           string         `json:"id,omitempty"`
	Parameters   map[string]any `json:"parameters,omitempty"`
	Outputs      []OutputTensor `json:"outputs"`
}

// OutputTensor is an output tensor. Data is flat, in row-major order.
type OutputTensor struct {
	Name       string         `json:"name"`
	Shape      []int64        `json:"shape"`
	Datatype   string         `json:"datatype"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Data       any            `json:"data"`
}

// ModelMetadata is the answer of GET /v2/models/{name}[/versions/{v}].
type ModelMetadata struct {
	Name     string           `json:"name"`
	Versions []string         `json:"versions,omitempty"`
	Platform string           `json:"platform"`
	Inputs   []TensorMetadata `json:"inputs"`
	Outputs  []TensorMetadata `json:"outputs"`
}

// TensorMetadata describes a tensor; -1 in a shape is any length.
type TensorMetadata struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

// ServerMetadata is the answer of GET /v2.
type ServerMetadata struct {
	Name       string   `json:"name"`
	Version    string   `json:"version"`
	Extensions []string `json:"extensions"`
}

// ErrorResponse is the body of every error answer.
type ErrorResponse struct {
	Error string `json:"error"`
}
