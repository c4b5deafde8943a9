package store

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// View is a saved view of the document list: a query, filters and a sort
// under a name. A view belongs to who saved it; a shared one is listed to
// everyone, and only its owner changes it.
type View struct {
	// ID is a ULID.
	ID string
	// Name is unique per owner.
	Name string
	// Owner is who saved it, as the API names who acts ("user:<email>",
	// "token:<name>").
	Owner string
	// Shared lists the view to everyone, not only its owner.
	Shared bool
	// Query is the full-text query; empty for none.
	Query string
	// Filters are the document list's filters by name ("state", "type",
	// "tag"), as the list's URL query carries them.
	Filters map[string]string
	// Sort is the list's order ("newest", "relevance"); empty for the
	// list's default.
	Sort string
	// Dashboard shows the view on the dashboard.
	Dashboard bool
	// CreatedAt and UpdatedAt are when it was saved first and last.
	CreatedAt, UpdatedAt time.Time
}

// ViewNameMaxLen is the longest view name, in characters.
const ViewNameMaxLen = 100

// CreateViewParams are the inputs of CreateView.
type CreateViewParams struct {
	// Name is required, unique per owner.
	Name string
	// Owner is required.
	Owner string
	// Shared, Query, Filters, Sort and Dashboard are as in View.
	Shared    bool
	Query     string
	Filters   map[string]string
	Sort      string
	Dashboard bool
}

func (p *CreateViewParams) validate() error {
	p.Name = strings.TrimSpace(p.Name)
	var errs []error
	if p.Owner == "" {
		errs = append(errs, errors.New("empty Owner"))
	}
	errs = append(errs, validateViewName(p.Name))
	return invalid(errs...)
}

// UpdateViewParams are the inputs of UpdateView: they replace everything
// but the view's owner.
type UpdateViewParams struct {
	// ID is the view's ID.
	ID string
	// Owner must be the view's owner: no one else changes a view.
	Owner string
	// Name, Shared, Query, Filters, Sort and Dashboard replace the view's.
	Name      string
	Shared    bool
	Query     string
	Filters   map[string]string
	Sort      string
	Dashboard bool
}

func (p *UpdateViewParams) validate() error {
	p.Name = strings.TrimSpace(p.Name)
	return invalid(validateViewName(p.Name))
}

func validateViewName(name string) error {
	switch {
	case name == "":
		return errors.New("empty view name")
	case utf8.RuneCountInString(name) > ViewNameMaxLen:
		return fmt.Errorf("view name is longer than %d characters", ViewNameMaxLen)
	case strings.ContainsFunc(name, unicode.IsControl):
		return fmt.Errorf("view name %q contains a control character", name)
	}
	return nil
}

// ListViewsParams filter ListViews.
type ListViewsParams struct {
	// Owner lists this owner's views and the shared ones; empty lists the
	// shared ones only.
	Owner string
	// Dashboard keeps the views shown on the dashboard.
	Dashboard bool
}
