package store

import (
	"context"
	"fmt"
)

const previewColumns = "document_id, blob_key, mime_type, version, width, height, size, created_at"

func scanPreview(row interface{ Scan(...any) error }) (*Preview, error) {
	var p Preview
	if err := row.Scan(&p.DocumentID, &p.BlobKey, &p.MIMEType, &p.Version, &p.Width, &p.Height, &p.Size, tm{&p.CreatedAt}); err != nil {
		return nil, err
	}
	return &p, nil
}

func (s *sqlStore) GetPreview(ctx context.Context, documentID string) (*Preview, error) {
	p, err := scanPreview(s.r.QueryRowContext(ctx, "SELECT "+previewColumns+" FROM document_previews WHERE document_id = $1", documentID))
	if err != nil {
		return nil, fmt.Errorf("get preview of document %s: %w", documentID, notFound(err))
	}
	return p, nil
}

func (s *sqlStore) ListPreviews(ctx context.Context, documentIDs []string) (map[string]Preview, error) {
	out := make(map[string]Preview, len(documentIDs))
	if len(documentIDs) == 0 {
		return out, nil
	}
	if len(documentIDs) > ListLimitMax {
		return nil, fmt.Errorf("list previews: %w", invalid(fmt.Errorf("%d documents, more than %d", len(documentIDs), ListLimitMax)))
	}
	args := make([]any, len(documentIDs))
	for i, id := range documentIDs {
		args[i] = id
	}
	ps, err := listRows(ctx, s.r, "list previews", scanPreview,
		"SELECT "+previewColumns+" FROM document_previews WHERE document_id IN ("+params(1, len(args))+")", args...)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		out[p.DocumentID] = p
	}
	return out, nil
}

func (s *sqlStore) SavePreview(ctx context.Context, p *SavePreviewParams) (*Preview, error) {
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("save preview of document %s: %w", p.DocumentID, err)
	}
	var saved *Preview
	err := s.write(ctx, func(q queryer) error {
		var err error
		saved, err = scanPreview(q.QueryRowContext(ctx, `
			INSERT INTO document_previews (`+previewColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (document_id) DO UPDATE SET blob_key = excluded.blob_key, mime_type = excluded.mime_type,
				version = excluded.version, width = excluded.width, height = excluded.height,
				size = excluded.size, created_at = excluded.created_at
			RETURNING `+previewColumns,
			p.DocumentID, p.BlobKey, p.MIMEType, p.Version, p.Width, p.Height, p.Size, s.ts(s.nowUTC())))
		return err
	})
	if isForeignKeyViolation(err) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("save preview of document %s: %w", p.DocumentID, err)
	}
	return saved, nil
}
