package store

import (
	"context"
	"database/sql"
	"fmt"
)

func (s *sqlStore) SaveAnalysis(ctx context.Context, p *SaveAnalysisParams) error {
	if err := p.validate(); err != nil {
		return fmt.Errorf("save analysis of document %s: %w", p.DocumentID, err)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// Updating the document first locks its row on PostgreSQL, so two
		// runs of one model take turns instead of interleaving.
		if err := s.touchDocument(ctx, tx, p.DocumentID, "language = COALESCE($3, language), summary = COALESCE($4, summary)",
			nullable(p.Language), nullable(cleanText(p.Summary))); err != nil {
			return err
		}
		return s.saveAnalyses(ctx, tx, p.DocumentID, []*SaveAnalysisParams{p})
	})
	if err != nil {
		return fmt.Errorf("save analysis of document %s by %s: %w", p.DocumentID, p.ModelVersion, err)
	}
	return nil
}

// saveAnalyses replaces what each model version found in a document, in a
// transaction that holds the document's row: one statement per table for all
// the versions.
func (s *sqlStore) saveAnalyses(ctx context.Context, tx execer, documentID string, as []*SaveAnalysisParams) error {
	if len(as) == 0 {
		return nil
	}
	versions := make([]any, 0, len(as)+1)
	versions = append(versions, documentID)
	for _, a := range as {
		versions = append(versions, a.ModelVersion)
	}
	for _, table := range []string{"entities", "classifications"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE document_id = $1 AND model_version IN ("+
			params(2, len(as))+")", versions...); err != nil {
			return fmt.Errorf("delete %s: %w", table, err)
		}
	}
	var ents []Entity
	var classes []Classification
	for _, a := range as {
		for _, e := range a.Entities {
			e.ModelVersion = a.ModelVersion
			ents = append(ents, e)
		}
		for _, c := range a.Classifications {
			c.ModelVersion = a.ModelVersion
			classes = append(classes, c)
		}
	}
	err := s.insertMany(ctx, tx, "INSERT INTO entities (document_id, model_version, kind, value, start_offset, end_offset, confidence)",
		7, len(ents), func(i int) []any {
			e := ents[i]
			var start, end any
			if e.Start != 0 || e.End != 0 {
				start, end = e.Start, e.End
			}
			return []any{documentID, e.ModelVersion, e.Kind, cleanText(e.Value), start, end, e.Confidence}
		})
	if err != nil {
		return fmt.Errorf("insert entities: %w", err)
	}
	err = s.insertMany(ctx, tx, "INSERT INTO classifications (document_id, model_version, label, confidence)",
		4, len(classes), func(i int) []any {
			c := classes[i]
			return []any{documentID, c.ModelVersion, c.Label, c.Confidence}
		})
	if err != nil {
		return fmt.Errorf("insert classifications: %w", err)
	}
	return nil
}

func (s *sqlStore) GetAnalysis(ctx context.Context, documentID string) (*Analysis, error) {
	if err := s.documentExists(ctx, s.r, documentID); err != nil {
		return nil, fmt.Errorf("get analysis of document %s: %w", documentID, err)
	}
	a := &Analysis{}
	rows, err := s.r.QueryContext(ctx, `
		SELECT kind, value, start_offset, end_offset, confidence, model_version FROM entities
		WHERE document_id = $1
		ORDER BY model_version, COALESCE(start_offset, -1), kind, value, id`, documentID)
	if err != nil {
		return nil, fmt.Errorf("get entities of document %s: %w", documentID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e Entity
		if err := rows.Scan(&e.Kind, &e.Value, num{&e.Start}, num{&e.End}, &e.Confidence, &e.ModelVersion); err != nil {
			return nil, fmt.Errorf("get entities of document %s: %w", documentID, err)
		}
		a.Entities = append(a.Entities, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("get entities of document %s: %w", documentID, err)
	}
	rows, err = s.r.QueryContext(ctx, `
		SELECT label, confidence, model_version FROM classifications
		WHERE document_id = $1
		ORDER BY model_version, confidence DESC, label`, documentID)
	if err != nil {
		return nil, fmt.Errorf("get classifications of document %s: %w", documentID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c Classification
		if err := rows.Scan(&c.Label, &c.Confidence, &c.ModelVersion); err != nil {
			return nil, fmt.Errorf("get classifications of document %s: %w", documentID, err)
		}
		a.Classifications = append(a.Classifications, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("get classifications of document %s: %w", documentID, err)
	}
	return a, nil
}
