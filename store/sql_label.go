package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

func (s *sqlStore) AddLabel(ctx context.Context, p *AddLabelParams) (*Label, error) {
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("label document %s: %w", p.DocumentID, err)
	}
	var l Label
	err := s.write(ctx, func(tx queryer) error {
		err := tx.QueryRowContext(ctx, `
			INSERT INTO labels (document_id, label, set_by, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (document_id, label) DO NOTHING
			RETURNING document_id, label, set_by, created_at`,
			p.DocumentID, p.Label, p.SetBy, s.ts(s.nowUTC())).Scan(&l.DocumentID, &l.Label, &l.SetBy, tm{&l.CreatedAt})
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return tx.QueryRowContext(ctx, "SELECT document_id, label, set_by, created_at FROM labels WHERE document_id = $1 AND label = $2",
				p.DocumentID, p.Label).Scan(&l.DocumentID, &l.Label, &l.SetBy, tm{&l.CreatedAt})
		case isForeignKeyViolation(err):
			return ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("label document %s %q: %w", p.DocumentID, p.Label, err)
	}
	return &l, nil
}

func (s *sqlStore) DeleteLabel(ctx context.Context, documentID, label string) error {
	err := s.write(ctx, func(tx queryer) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM labels WHERE document_id = $1 AND label = $2", documentID, label)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove label %q from document %s: %w", label, documentID, err)
	}
	return nil
}

func (s *sqlStore) ListLabels(ctx context.Context, p *ListLabelsParams) ([]Label, error) {
	if p == nil {
		p = &ListLabelsParams{}
	}
	var (
		where []string
		args  []any
	)
	if p.DocumentID != "" {
		args = append(args, p.DocumentID)
		where = append(where, fmt.Sprintf("document_id = $%d", len(args)))
	}
	if p.Label != "" {
		args = append(args, p.Label)
		where = append(where, fmt.Sprintf("label = $%d", len(args)))
	}
	query := "SELECT document_id, label, set_by, created_at FROM labels"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.r.QueryContext(ctx, query+" ORDER BY created_at, document_id, label", args...)
	if err != nil {
		return nil, fmt.Errorf("list labels: %w", err)
	}
	defer rows.Close()
	var labels []Label
	for rows.Next() {
		var l Label
		if err := rows.Scan(&l.DocumentID, &l.Label, &l.SetBy, tm{&l.CreatedAt}); err != nil {
			return nil, fmt.Errorf("list labels: %w", err)
		}
		labels = append(labels, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list labels: %w", err)
	}
	return labels, nil
}
