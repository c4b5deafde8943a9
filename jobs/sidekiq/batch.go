package sidekiq

import (
	"context"

	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// Batches (issue #21) are a Sidekiq Pro feature whose Redis layout is not
// public, and a Ruby Sidekiq OSS worker would neither record a job's outcome
// in its batch nor fire a callback. The format cannot carry them: every
// batch method returns jobdriver.ErrNotImplemented.

// BatchCancel returns jobdriver.ErrNotImplemented.
func (d *Driver) BatchCancel(context.Context, *jobdriver.BatchCancelParams) (map[string]string, error) {
	return nil, jobdriver.ErrNotImplemented
}

// BatchCreate returns jobdriver.ErrNotImplemented.
func (d *Driver) BatchCreate(context.Context, *jobdriver.BatchCreateParams) error {
	return jobdriver.ErrNotImplemented
}

// BatchFiredMark returns jobdriver.ErrNotImplemented.
func (d *Driver) BatchFiredMark(context.Context, *jobdriver.BatchFiredMarkParams) error {
	return jobdriver.ErrNotImplemented
}

// BatchFiringList returns jobdriver.ErrNotImplemented.
func (d *Driver) BatchFiringList(context.Context, *jobdriver.BatchFiringListParams) ([]jobtype.BatchFire, error) {
	return nil, jobdriver.ErrNotImplemented
}

// BatchGet returns jobdriver.ErrNotImplemented.
func (d *Driver) BatchGet(context.Context, *jobdriver.BatchGetParams) (*jobtype.Batch, error) {
	return nil, jobdriver.ErrNotImplemented
}

// BatchList returns jobdriver.ErrNotImplemented.
func (d *Driver) BatchList(context.Context, *jobdriver.BatchListParams) ([]*jobtype.Batch, error) {
	return nil, jobdriver.ErrNotImplemented
}

// BatchMemberAdd returns jobdriver.ErrNotImplemented.
func (d *Driver) BatchMemberAdd(context.Context, *jobdriver.BatchMemberAddParams) error {
	return jobdriver.ErrNotImplemented
}

// BatchRecord returns jobdriver.ErrNotImplemented.
func (d *Driver) BatchRecord(context.Context, *jobdriver.BatchRecordParams) ([]jobtype.BatchFire, error) {
	return nil, jobdriver.ErrNotImplemented
}
