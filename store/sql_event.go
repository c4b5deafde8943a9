package store

import (
	"context"
	"fmt"
	"time"
)

func (s *sqlStore) AddEvent(ctx context.Context, p *AddEventParams) (*Event, error) {
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("add event to document %s: %w", p.DocumentID, err)
	}
	e := &Event{
		DocumentID: p.DocumentID, Stage: p.Stage, Type: p.Type, Message: cleanText(p.Message),
		Attempt: max(p.Attempt, 1), At: s.eventTime(p.At),
	}
	err := s.write(ctx, func(tx queryer) error {
		return tx.QueryRowContext(ctx, `
			INSERT INTO processing_events (document_id, stage, event, message, attempt, at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			e.DocumentID, e.Stage, e.Type, e.Message, e.Attempt, s.ts(e.At)).Scan(&e.ID)
	})
	if isForeignKeyViolation(err) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("add %s %s event to document %s: %w", p.Stage, p.Type, p.DocumentID, err)
	}
	return e, nil
}

// eventTime is an event's time as stored: at, or now when at is zero.
func (s *sqlStore) eventTime(at time.Time) time.Time {
	if at.IsZero() {
		return s.nowUTC()
	}
	return at.UTC().Truncate(time.Microsecond)
}

// insertEvents appends validated events of one document in one statement.
func (s *sqlStore) insertEvents(ctx context.Context, tx execer, documentID string, events []AddEventParams) error {
	err := s.insertMany(ctx, tx, "INSERT INTO processing_events (document_id, stage, event, message, attempt, at)",
		6, len(events), func(i int) []any {
			e := events[i]
			return []any{documentID, e.Stage, e.Type, cleanText(e.Message), max(e.Attempt, 1), s.ts(s.eventTime(e.At))}
		})
	if err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	return nil
}

func (s *sqlStore) ListEvents(ctx context.Context, documentID string) ([]Event, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT id, document_id, stage, event, message, attempt, at FROM processing_events
		WHERE document_id = $1 ORDER BY id`, documentID)
	if err != nil {
		return nil, fmt.Errorf("list events of document %s: %w", documentID, err)
	}
	defer rows.Close()
	var events []Event
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.ID, &e.DocumentID, &e.Stage, &e.Type, &e.Message, &e.Attempt, tm{&e.At}); err != nil {
			return nil, fmt.Errorf("list events of document %s: %w", documentID, err)
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events of document %s: %w", documentID, err)
	}
	if len(events) == 0 {
		if err := s.documentExists(ctx, s.r, documentID); err != nil {
			return nil, fmt.Errorf("list events of document %s: %w", documentID, err)
		}
	}
	return events, nil
}
