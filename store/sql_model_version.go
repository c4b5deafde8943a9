package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/oklog/ulid/v2"
)

const modelVersionColumns = "id, kind, name, version, created_at, metrics, active, artifact_key, label_digest"

func scanModelVersion(row interface{ Scan(...any) error }) (*ModelVersion, error) {
	var (
		m       ModelVersion
		metrics []byte
	)
	if err := row.Scan(&m.ID, &m.Kind, &m.Name, &m.Version, tm{&m.CreatedAt}, &metrics, &m.Active, &m.ArtifactKey, &m.LabelDigest); err != nil {
		return nil, err
	}
	if len(metrics) > 0 {
		m.Metrics = metrics
	}
	return &m, nil
}

func (s *sqlStore) CreateModelVersion(ctx context.Context, p *CreateModelVersionParams) (*ModelVersion, error) {
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("create model version %s/%s@%s: %w", p.Kind, p.Name, p.Version, err)
	}
	var m *ModelVersion
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var metrics any
		if p.Metrics != nil {
			metrics = string(p.Metrics)
		}
		var err error
		m, err = scanModelVersion(tx.QueryRowContext(ctx, `
			INSERT INTO model_versions (id, kind, name, version, created_at, metrics, active, artifact_key, label_digest)
			VALUES ($1, $2, $3, $4, $5, $6, false, $7, $8)
			ON CONFLICT (kind, name, version) DO NOTHING
			RETURNING `+modelVersionColumns,
			ulid.Make().String(), p.Kind, p.Name, p.Version, s.ts(s.nowUTC()), metrics, p.ArtifactKey, p.LabelDigest))
		if errors.Is(err, sql.ErrNoRows) {
			m, err = scanModelVersion(tx.QueryRowContext(ctx,
				"SELECT "+modelVersionColumns+" FROM model_versions WHERE kind = $1 AND name = $2 AND version = $3",
				p.Kind, p.Name, p.Version))
		}
		if err != nil || !p.Active {
			return err
		}
		// Activated even when it existed: a training run that registered
		// the version and died before activating it is finished by the
		// next run.
		m, err = s.activate(ctx, tx, m.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create model version %s/%s@%s: %w", p.Kind, p.Name, p.Version, err)
	}
	return m, nil
}

func (s *sqlStore) ActivateModelVersion(ctx context.Context, id string) (*ModelVersion, error) {
	var m *ModelVersion
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		m, err = s.activate(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("activate model version %s: %w", id, err)
	}
	return m, nil
}

func (s *sqlStore) activate(ctx context.Context, tx *sql.Tx, id string) (*ModelVersion, error) {
	var kind, name string
	if err := tx.QueryRowContext(ctx, "SELECT kind, name FROM model_versions WHERE id = $1", id).Scan(&kind, &name); err != nil {
		return nil, notFound(err)
	}
	if err := s.lockModel(ctx, tx, kind, name); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE model_versions SET active = false WHERE kind = $1 AND name = $2 AND active AND id <> $3",
		kind, name, id); err != nil {
		return nil, err
	}
	return scanModelVersion(tx.QueryRowContext(ctx, "UPDATE model_versions SET active = true WHERE id = $1 RETURNING "+modelVersionColumns, id))
}

func (s *sqlStore) DeleteModelVersion(ctx context.Context, id string) error {
	if err := s.deleteByID(ctx, "model_versions", id); err != nil {
		return fmt.Errorf("delete model version %s: %w", id, err)
	}
	return nil
}

func (s *sqlStore) GetModelVersion(ctx context.Context, id string) (*ModelVersion, error) {
	m, err := scanModelVersion(s.r.QueryRowContext(ctx, "SELECT "+modelVersionColumns+" FROM model_versions WHERE id = $1", id))
	if err != nil {
		return nil, fmt.Errorf("get model version %s: %w", id, notFound(err))
	}
	return m, nil
}

func (s *sqlStore) ListModelVersions(ctx context.Context, p *ListModelVersionsParams) ([]ModelVersion, error) {
	if p == nil {
		p = &ListModelVersionsParams{}
	}
	var (
		where []string
		args  []any
	)
	if p.Kind != "" {
		args = append(args, p.Kind)
		where = append(where, fmt.Sprintf("kind = $%d", len(args)))
	}
	if p.Name != "" {
		args = append(args, p.Name)
		where = append(where, fmt.Sprintf("name = $%d", len(args)))
	}
	if p.LabelDigest != "" {
		args = append(args, p.LabelDigest)
		where = append(where, fmt.Sprintf("label_digest = $%d", len(args)))
	}
	if p.ActiveOnly {
		where = append(where, "active")
	}
	query := "SELECT " + modelVersionColumns + " FROM model_versions"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	return listRows(ctx, s.r, "list model versions", scanModelVersion, query+" ORDER BY created_at DESC, id DESC", args...)
}
