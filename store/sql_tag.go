package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/oklog/ulid/v2"
)

// tagColumns are the columns scanTag reads, then the document count.
const tagColumns = "t.id, t.name, t.color, t.match, t.match_text, t.case_sensitive, t.created_at, " +
	"(SELECT count(*) FROM document_tags dt WHERE dt.tag_id = t.id)"

func scanTag(row interface{ Scan(...any) error }) (*Tag, error) {
	var t Tag
	if err := row.Scan(&t.ID, &t.Name, &t.Color, &t.Match, &t.MatchText, &t.CaseSensitive, tm{&t.CreatedAt}, &t.Documents); err != nil {
		return nil, err
	}
	return &t, nil
}

// tagIDChunk bounds the IDs of one IN list, far below both backends'
// parameter limits.
const tagIDChunk = 500

func (s *sqlStore) CreateTag(ctx context.Context, p *CreateTagParams) (*Tag, error) {
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("create tag %q: %w", p.Name, err)
	}
	var t *Tag
	err := s.write(ctx, func(q queryer) error {
		id := ulid.Make().String()
		_, err := q.ExecContext(ctx, `
			INSERT INTO tags (id, name, name_key, color, match, match_text, case_sensitive, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			id, p.Name, tagKey(p.Name), p.Color, p.Match, p.MatchText, p.CaseSensitive, s.ts(s.nowUTC()))
		if isUniqueViolation(err) {
			return fmt.Errorf("%w: a tag named %q exists", ErrExists, p.Name)
		}
		if err != nil {
			return err
		}
		t, err = scanTag(q.QueryRowContext(ctx, "SELECT "+tagColumns+" FROM tags t WHERE t.id = $1", id))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create tag %q: %w", p.Name, err)
	}
	return t, nil
}

func (s *sqlStore) DeleteTag(ctx context.Context, name string) error {
	err := s.write(ctx, func(q queryer) error {
		return execRow(ctx, q, "DELETE FROM tags WHERE name_key = $1", tagKey(name))
	})
	if err != nil {
		return fmt.Errorf("delete tag %q: %w", name, err)
	}
	return nil
}

func (s *sqlStore) DocumentTagNames(ctx context.Context, documentIDs []string) (map[string][]string, error) {
	names := make(map[string][]string)
	for chunk := range slices.Chunk(documentIDs, tagIDChunk) {
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := s.r.QueryContext(ctx, `
			SELECT dt.document_id, t.name FROM document_tags dt JOIN tags t ON t.id = dt.tag_id
			WHERE dt.document_id IN (`+params(1, len(chunk))+`) ORDER BY dt.document_id, t.name_key`, args...)
		if err != nil {
			return nil, fmt.Errorf("read tags of %d documents: %w", len(documentIDs), err)
		}
		for rows.Next() {
			var id, name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read tags of %d documents: %w", len(documentIDs), err)
			}
			names[id] = append(names[id], name)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read tags of %d documents: %w", len(documentIDs), err)
		}
	}
	return names, nil
}

func (s *sqlStore) GetTag(ctx context.Context, name string) (*Tag, error) {
	t, err := scanTag(s.r.QueryRowContext(ctx, "SELECT "+tagColumns+" FROM tags t WHERE t.name_key = $1", tagKey(name)))
	if err != nil {
		return nil, fmt.Errorf("get tag %q: %w", name, notFound(err))
	}
	return t, nil
}

func (s *sqlStore) ListDocumentTags(ctx context.Context, p *ListDocumentTagsParams) ([]DocumentTag, error) {
	if p == nil {
		p = &ListDocumentTagsParams{}
	}
	limit, err := listLimit(p.Limit)
	if err != nil {
		return nil, fmt.Errorf("list document tags: %w", err)
	}
	if p.Offset < 0 {
		return nil, fmt.Errorf("list document tags: %w", invalid(fmt.Errorf("negative offset %d", p.Offset)))
	}
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if p.DocumentID != "" {
		where = append(where, "dt.document_id = "+arg(p.DocumentID))
	}
	if p.Tag != "" {
		where = append(where, "t.name_key = "+arg(tagKey(p.Tag)))
	}
	if p.SetBy != "" {
		// A prefix, compared as such: LIKE would read "_" and "%" in it.
		where = append(where, "substr(dt.set_by, 1, "+arg(len(p.SetBy))+") = "+arg(p.SetBy))
	}
	query := "SELECT dt.document_id, t.name, dt.set_by, dt.created_at FROM document_tags dt JOIN tags t ON t.id = dt.tag_id"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY dt.created_at, dt.document_id, t.name_key LIMIT " + arg(limit) + " OFFSET " + arg(p.Offset)
	list, err := listRows(ctx, s.r, "list document tags", func(row interface{ Scan(...any) error }) (*DocumentTag, error) {
		var dt DocumentTag
		return &dt, row.Scan(&dt.DocumentID, &dt.Tag, &dt.SetBy, tm{&dt.CreatedAt})
	}, query, args...)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 && p.Offset == 0 {
		// Nothing found: say so when what was asked about does not exist.
		if p.DocumentID != "" {
			if err := s.documentExists(ctx, s.r, p.DocumentID); err != nil {
				return nil, fmt.Errorf("list tags of document %s: %w", p.DocumentID, err)
			}
		}
		if p.Tag != "" {
			if _, err := s.GetTag(ctx, p.Tag); err != nil {
				return nil, fmt.Errorf("list document tags: %w", err)
			}
		}
	}
	return list, nil
}

func (s *sqlStore) ListTagRules(ctx context.Context) ([]Tag, error) {
	return listRows(ctx, s.r, "list tag rules", scanTag,
		"SELECT t.id, t.name, t.color, t.match, t.match_text, t.case_sensitive, t.created_at, 0 FROM tags t WHERE t.match <> $1 ORDER BY t.name_key",
		MatchNone)
}

func (s *sqlStore) ListTags(ctx context.Context) ([]Tag, error) {
	return listRows(ctx, s.r, "list tags", scanTag, "SELECT "+tagColumns+" FROM tags t ORDER BY t.name_key")
}

func (s *sqlStore) ListTagNames(ctx context.Context) ([]string, error) {
	return listRows(ctx, s.r, "list tag names", func(row interface{ Scan(...any) error }) (*string, error) {
		var name string
		return &name, row.Scan(&name)
	}, "SELECT name FROM tags ORDER BY name_key")
}

// tagIDs resolves tag names to IDs, failing with ErrNotFound on the first
// unknown one.
func tagIDs(ctx context.Context, q queryer, names []string) ([]string, error) {
	keys := make([]any, 0, len(names))
	for _, n := range names {
		if k := tagKey(n); !slices.Contains(keys, any(k)) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	rows, err := q.QueryContext(ctx, "SELECT id, name_key FROM tags WHERE name_key IN ("+params(1, len(keys))+")", keys...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := make(map[string]string, len(keys))
	for rows.Next() {
		var id, key string
		if err := rows.Scan(&id, &key); err != nil {
			return nil, err
		}
		found[key] = id
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		id, ok := found[k.(string)]
		if !ok {
			return nil, fmt.Errorf("tag %q: %w", k, ErrNotFound)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (s *sqlStore) TagDocuments(ctx context.Context, p *TagDocumentsParams) (int, error) {
	if err := p.validate(); err != nil {
		return 0, fmt.Errorf("tag documents: %w", err)
	}
	docs := uniq(p.DocumentIDs)
	if len(docs) == 0 {
		return 0, nil
	}
	mark := params
	if !s.pg() {
		mark = anonymousParams
	}
	added := 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		ids, err := tagIDs(ctx, tx, p.Tags)
		if err != nil {
			return err
		}
		now := s.ts(s.nowUTC())
		type pair struct{ doc, tag string }
		pairs := make([]pair, 0, len(docs)*len(ids))
		for _, d := range docs {
			for _, t := range ids {
				pairs = append(pairs, pair{d, t})
			}
		}
		// 200 rows of 4 parameters a statement, as insertMany.
		for chunk := range slices.Chunk(pairs, 200) {
			var b strings.Builder
			b.WriteString("INSERT INTO document_tags (document_id, tag_id, set_by, created_at) VALUES ")
			args := make([]any, 0, 4*len(chunk))
			for i, pr := range chunk {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(" + mark(len(args)+1, 4) + ")")
				args = append(args, pr.doc, pr.tag, p.SetBy, now)
			}
			b.WriteString(" ON CONFLICT (document_id, tag_id) DO NOTHING")
			res, err := tx.ExecContext(ctx, b.String(), args...)
			if isForeignKeyViolation(err) {
				return fmt.Errorf("one of the documents: %w", ErrNotFound)
			}
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			added += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("tag %d documents with %q: %w", len(docs), p.Tags, err)
	}
	return added, nil
}

func (s *sqlStore) UntagDocuments(ctx context.Context, p *UntagDocumentsParams) (int, error) {
	docs := uniq(p.DocumentIDs)
	if len(docs) == 0 || len(p.Tags) == 0 {
		return 0, nil
	}
	removed := 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		ids, err := tagIDs(ctx, tx, p.Tags)
		if err != nil {
			return err
		}
		for chunk := range slices.Chunk(docs, tagIDChunk) {
			args := make([]any, 0, len(ids)+len(chunk))
			for _, id := range ids {
				args = append(args, id)
			}
			for _, d := range chunk {
				args = append(args, d)
			}
			res, err := tx.ExecContext(ctx, "DELETE FROM document_tags WHERE tag_id IN ("+params(1, len(ids))+
				") AND document_id IN ("+params(len(ids)+1, len(chunk))+")", args...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			removed += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("untag %d documents of %q: %w", len(docs), p.Tags, err)
	}
	return removed, nil
}

func (s *sqlStore) UpdateTag(ctx context.Context, p *UpdateTagParams) (*Tag, error) {
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("update tag %q: %w", p.Name, err)
	}
	var t *Tag
	err := s.write(ctx, func(q queryer) error {
		var id string
		err := q.QueryRowContext(ctx, `
			UPDATE tags SET name = COALESCE($2, name), name_key = COALESCE($3, name_key),
				color = $4, match = $5, match_text = $6, case_sensitive = $7
			WHERE name_key = $1 RETURNING id`,
			tagKey(p.Name), nullable(p.NewName), nullable(tagKey(p.NewName)), p.Color, p.Match, p.MatchText, p.CaseSensitive).Scan(&id)
		if isUniqueViolation(err) {
			return fmt.Errorf("%w: a tag named %q exists", ErrExists, p.NewName)
		}
		if err != nil {
			return notFound(err)
		}
		t, err = scanTag(q.QueryRowContext(ctx, "SELECT "+tagColumns+" FROM tags t WHERE t.id = $1", id))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update tag %q: %w", p.Name, err)
	}
	return t, nil
}

// replaceMachineTags sets the tags a pipeline stage found, in its move's
// transaction (SetStateParams.Tags).
func (s *sqlStore) replaceMachineTags(ctx context.Context, tx execer, documentID string, tags []TagAssignment) error {
	keys := make([]any, 0, len(tags))
	for _, t := range tags {
		keys = append(keys, tagKey(t.Tag))
	}
	del := "DELETE FROM document_tags WHERE document_id = $1 AND (set_by = $2 OR substr(set_by, 1, $3) = $4)"
	args := []any{documentID, SetByRule, len(SetByClassifierPrefix), SetByClassifierPrefix}
	if len(keys) > 0 {
		del += " AND tag_id NOT IN (SELECT id FROM tags WHERE name_key IN (" + params(len(args)+1, len(keys)) + "))"
		args = append(args, keys...)
	}
	if _, err := tx.ExecContext(ctx, del, args...); err != nil {
		return fmt.Errorf("replace the pipeline's tags: %w", err)
	}
	now := s.ts(s.nowUTC())
	for _, t := range tags {
		// An unknown tag selects no row: it was deleted since the stage
		// read the rules.
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO document_tags (document_id, tag_id, set_by, created_at)
			SELECT $1, id, $2, $3 FROM tags WHERE name_key = $4
			ON CONFLICT (document_id, tag_id) DO NOTHING`,
			documentID, t.SetBy, now, tagKey(t.Tag)); err != nil {
			return fmt.Errorf("tag %q: %w", t.Tag, err)
		}
	}
	return nil
}

// uniq returns the distinct non-empty strings of ss, in their first order.
func uniq(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
