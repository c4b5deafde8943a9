package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/oklog/ulid/v2"
)

const viewColumns = "id, name, owner, shared, query, filters, sort, dashboard, created_at, updated_at"

func scanView(row interface{ Scan(...any) error }) (*View, error) {
	var v View
	if err := row.Scan(&v.ID, &v.Name, &v.Owner, &v.Shared, &v.Query, jsonMap{&v.Filters}, &v.Sort, &v.Dashboard,
		tm{&v.CreatedAt}, tm{&v.UpdatedAt}); err != nil {
		return nil, err
	}
	return &v, nil
}

// filtersJSON encodes a view's filters as the JSON object the table holds.
func filtersJSON(f map[string]string) string {
	if f == nil {
		f = map[string]string{}
	}
	b, _ := json.Marshal(f) // a map of strings always encodes
	return string(b)
}

func (s *sqlStore) CreateView(ctx context.Context, p *CreateViewParams) (*View, error) {
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("create view %q: %w", p.Name, err)
	}
	var v *View
	err := s.write(ctx, func(q queryer) error {
		now := s.ts(s.nowUTC())
		var err error
		v, err = scanView(q.QueryRowContext(ctx, `
			INSERT INTO views (id, name, owner, shared, query, filters, sort, dashboard, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING `+viewColumns,
			ulid.Make().String(), p.Name, p.Owner, p.Shared, p.Query, filtersJSON(p.Filters), p.Sort, p.Dashboard, now))
		if isUniqueViolation(err) {
			return fmt.Errorf("%w: a view named %q is saved already", ErrExists, p.Name)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create view %q: %w", p.Name, err)
	}
	return v, nil
}

func (s *sqlStore) DeleteView(ctx context.Context, id, owner string) error {
	err := s.write(ctx, func(q queryer) error {
		return execRow(ctx, q, "DELETE FROM views WHERE id = $1 AND owner = $2", id, owner)
	})
	if err != nil {
		return fmt.Errorf("delete view %s: %w", id, err)
	}
	return nil
}

func (s *sqlStore) GetView(ctx context.Context, id string) (*View, error) {
	v, err := scanView(s.r.QueryRowContext(ctx, "SELECT "+viewColumns+" FROM views WHERE id = $1", id))
	if err != nil {
		return nil, fmt.Errorf("get view %s: %w", id, notFound(err))
	}
	return v, nil
}

func (s *sqlStore) ListViews(ctx context.Context, p *ListViewsParams) ([]View, error) {
	if p == nil {
		p = &ListViewsParams{}
	}
	query := "SELECT " + viewColumns + " FROM views WHERE (shared OR owner = $1)"
	if p.Dashboard {
		query += " AND dashboard"
	}
	return listRows(ctx, s.r, "list views", scanView, query+" ORDER BY lower(name), id", p.Owner)
}

func (s *sqlStore) UpdateView(ctx context.Context, p *UpdateViewParams) (*View, error) {
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("update view %s: %w", p.ID, err)
	}
	var v *View
	err := s.write(ctx, func(q queryer) error {
		var err error
		v, err = scanView(q.QueryRowContext(ctx, `
			UPDATE views SET name = $3, shared = $4, query = $5, filters = $6, sort = $7, dashboard = $8, updated_at = $9
			WHERE id = $1 AND owner = $2 RETURNING `+viewColumns,
			p.ID, p.Owner, p.Name, p.Shared, p.Query, filtersJSON(p.Filters), p.Sort, p.Dashboard, s.ts(s.nowUTC())))
		if isUniqueViolation(err) {
			return fmt.Errorf("%w: a view named %q is saved already", ErrExists, p.Name)
		}
		return notFound(err)
	})
	if err != nil {
		return nil, fmt.Errorf("update view %s: %w", p.ID, err)
	}
	return v, nil
}
