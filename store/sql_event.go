package store

import (
	"context"
	"fmt"
)

func (s *sqlStore) AddEvent(ctx context.Context, p *AddEventParams) (*Event, error) {
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("add event to document %s: %w", p.DocumentID, err)
	}
	e := &Event{
		DocumentID: p.DocumentID, Stage: p.Stage, Type: p.Type, Message: cleanText(p.Message),
		Attempt: max(p.Attempt, 1), At: s.nowUTC(),
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
