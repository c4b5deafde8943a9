package sidekiq

import (
	"context"
	"fmt"

	"github.com/quirehq/quire/jobs/jobdriver"
)

// Limiters are refused: a Ruby Sidekiq process sharing the queues would run
// limited jobs without asking the limiter (Sidekiq OSS has none), so a limit
// could not hold. See jobstest.CapabilityLimit.

// LimitAcquire returns jobdriver.ErrNotImplemented.
func (d *Driver) LimitAcquire(context.Context, *jobdriver.LimitAcquireParams) (bool, error) {
	return false, fmt.Errorf("sidekiq: limiters: %w", jobdriver.ErrNotImplemented)
}

// LimitExtend returns jobdriver.ErrNotImplemented.
func (d *Driver) LimitExtend(context.Context, *jobdriver.LimitExtendParams) error {
	return fmt.Errorf("sidekiq: limiters: %w", jobdriver.ErrNotImplemented)
}

// LimitRelease returns jobdriver.ErrNotImplemented.
func (d *Driver) LimitRelease(context.Context, *jobdriver.LimitReleaseParams) error {
	return fmt.Errorf("sidekiq: limiters: %w", jobdriver.ErrNotImplemented)
}

// LimitStatus returns jobdriver.ErrNotImplemented.
func (d *Driver) LimitStatus(context.Context, *jobdriver.LimitStatusParams) (*jobdriver.LimitStatus, error) {
	return nil, fmt.Errorf("sidekiq: limiters: %w", jobdriver.ErrNotImplemented)
}

// LimitList returns jobdriver.ErrNotImplemented.
func (d *Driver) LimitList(context.Context, *jobdriver.LimitListParams) ([]*jobdriver.LimitInfo, error) {
	return nil, fmt.Errorf("sidekiq: limiters: %w", jobdriver.ErrNotImplemented)
}
