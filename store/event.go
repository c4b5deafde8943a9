package store

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// EventType says what happened to a stage.
type EventType string

// The event types.
const (
	EventStarted EventType = "started"
	EventDone    EventType = "done"
	EventFailed  EventType = "failed"
	EventRetried EventType = "retried"
)

// EventTypes lists every event type.
var EventTypes = []EventType{EventStarted, EventDone, EventFailed, EventRetried}

// Event is one entry of a document's processing audit trail.
type Event struct {
	// ID increases with every event appended.
	ID         int64
	DocumentID string
	// Stage is the pipeline stage ("ingest", "extract", "ocr", "analyze",
	// "notify", …).
	Stage string
	Type  EventType
	// Message adds detail: the error of a failure, the delay of a retry.
	Message string
	// Attempt is the job attempt, from 1.
	Attempt int
	At      time.Time
}

// AddEventParams are the inputs of AddEvent.
type AddEventParams struct {
	DocumentID string
	Stage      string
	Type       EventType
	Message    string
	// Attempt is the job attempt. Defaults to 1.
	Attempt int
	// At is when it happened. Defaults to now; a stage that records its
	// start together with its end passes the start time here.
	At time.Time
}

func (p *AddEventParams) validate() error {
	if p.DocumentID == "" {
		return invalid(errors.New("empty DocumentID"), p.check())
	}
	return invalid(p.check())
}

// check validates what an event says, whichever document it is of.
func (p *AddEventParams) check() error {
	var errs []error
	if p.Stage == "" {
		errs = append(errs, errors.New("empty Stage"))
	}
	if !slices.Contains(EventTypes, p.Type) {
		errs = append(errs, fmt.Errorf("event type %q is not one of %v", p.Type, EventTypes))
	}
	if p.Attempt < 0 {
		errs = append(errs, fmt.Errorf("negative Attempt %d", p.Attempt))
	}
	return errors.Join(errs...)
}
