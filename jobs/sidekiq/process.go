package sidekiq

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/quirehq/quire/jobs/jobdriver"
)

// processInfo is the "info" field of a Sidekiq process hash (Launcher#to_data).
type processInfo struct {
	Hostname    string   `json:"hostname"`
	StartedAt   float64  `json:"started_at"`
	PID         int      `json:"pid"`
	Tag         string   `json:"tag"`
	Concurrency int      `json:"concurrency"`
	Queues      []string `json:"queues"`
	Labels      []string `json:"labels"`
	Identity    string   `json:"identity"`
	Version     string   `json:"version,omitempty"`
}

// workEntry is one busy job in IDENTITY:workers (6.x) or IDENTITY:work (7+).
type workEntry struct {
	Queue   string `json:"queue"`
	Payload string `json:"payload"`
	RunAt   int64  `json:"run_at"`
}

// ProcessHeartbeat writes what Sidekiq's launcher writes every five seconds:
// the identity in the processes set, its hash (info, busy, beat, quiet, rss,
// rtt_us) and the hash of its busy jobs, both expiring after TTL but not
// before the 60 seconds Sidekiq uses. It then takes one signal that the Web
// UI queued for the process and hands it to Config.OnSignal.
func (d *Driver) ProcessHeartbeat(ctx context.Context, p *jobdriver.ProcessHeartbeatParams) error {
	in := p.Info
	labels := []string{"quire"}
	for _, k := range slices.Sorted(maps.Keys(in.Labels)) {
		labels = append(labels, k+"="+in.Labels[k])
	}
	queues := in.Queues
	if queues == nil {
		queues = []string{}
	}
	info, err := json.Marshal(processInfo{
		Hostname: in.Host, StartedAt: unixSeconds(in.StartedAt), PID: in.PID, Tag: d.cfg.Tag,
		Concurrency: in.Concurrency, Queues: queues, Labels: labels, Identity: in.ID,
		Version: cmp.Or(in.Version, "quire"),
	})
	if err != nil {
		return fmt.Errorf("encode process %s: %w", in.ID, err)
	}
	work := make(map[string]any, len(in.Jobs))
	d.mu.Lock()
	for _, j := range in.Jobs {
		raw := d.running[j.ID]
		if raw == "" {
			continue // finished since the server looked
		}
		b, _ := json.Marshal(workEntry{Queue: j.Queue, Payload: raw, RunAt: j.StartedAt.Unix()})
		work[j.ID] = string(b)
	}
	d.mu.Unlock()
	start := time.Now()
	if err := d.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("heartbeat of process %s: %w", in.ID, err)
	}
	rtt := time.Since(start).Microseconds()
	ttl := max(p.TTL, time.Minute) // Sidekiq's expiry; ProcessRemove cleans up
	workKey := d.keyWork(in.ID)
	var signal *redis.StringCmd
	_, err = d.rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Unlink(ctx, workKey)
		if len(work) > 0 {
			pipe.HSet(ctx, workKey, work)
			pipe.Expire(ctx, workKey, ttl)
		}
		pipe.SAdd(ctx, d.key(keyProcesses), in.ID)
		pipe.HSet(ctx, d.keyProcess(in.ID), "info", string(info), "busy", in.Busy, "beat", epochSeconds(in.BeatAt),
			"quiet", strconv.FormatBool(in.Quiet), "rss", rssKB(), "rtt_us", rtt)
		pipe.Expire(ctx, d.keyProcess(in.ID), ttl)
		signal = pipe.RPop(ctx, d.keySignals(in.ID))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("heartbeat of process %s: %w", in.ID, err)
	}
	d.mu.Lock()
	onSignal := d.onSignal
	d.mu.Unlock()
	if sig, err := signal.Result(); err == nil && onSignal != nil {
		onSignal(sig)
	}
	return nil
}

// rssKB is the process's resident set in KiB, as Sidekiq reports it from
// /proc; 0 where there is no /proc.
func rssKB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// ProcessList lists the processes in the processes set whose hash has not
// expired: Quire's and Ruby's alike, each with its running jobs from its
// busy hash.
func (d *Driver) ProcessList(ctx context.Context, _ *jobdriver.ProcessListParams) ([]*jobdriver.ProcessInfo, error) {
	ids, err := d.rdb.SMembers(ctx, d.key(keyProcesses)).Result()
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	slices.Sort(ids)
	cmds := make([]*redis.SliceCmd, len(ids))
	work := make([]*redis.MapStringStringCmd, len(ids))
	if _, err := d.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = pipe.HMGet(ctx, d.keyProcess(id), "info", "busy", "beat", "quiet")
			work[i] = pipe.HGetAll(ctx, d.keyWork(id))
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var out []*jobdriver.ProcessInfo
	for i, id := range ids {
		v := cmds[i].Val()
		if len(v) != 4 || v[0] == nil {
			continue // expired: the process died
		}
		var info processInfo
		if s, ok := v[0].(string); !ok || json.Unmarshal([]byte(s), &info) != nil {
			continue
		}
		pi := &jobdriver.ProcessInfo{
			ID: id, Host: info.Hostname, PID: info.PID, Queues: info.Queues, Concurrency: info.Concurrency,
			Version: info.Version, StartedAt: secondsTime(info.StartedAt), Labels: parseLabels(info.Labels),
			Jobs: d.busyJobs(work[i].Val()),
		}
		if s, ok := v[1].(string); ok {
			pi.Busy, _ = strconv.Atoi(s)
		}
		if s, ok := v[2].(string); ok {
			f, _ := strconv.ParseFloat(s, 64)
			pi.BeatAt = secondsTime(f)
		}
		if s, ok := v[3].(string); ok {
			pi.Quiet = s == "true"
		}
		out = append(out, pi)
	}
	return out, nil
}

// parseLabels reads back the labels ProcessHeartbeat writes as "key=value";
// other labels (Quire's own "quire", Ruby's free-form ones) are kept with
// an empty value.
func parseLabels(labels []string) map[string]string {
	var out map[string]string
	for _, l := range labels {
		if l == "quire" {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(labels))
		}
		k, v, _ := strings.Cut(l, "=")
		out[k] = v
	}
	return out
}

// busyJobs reads a process's busy hash: each value holds the job's queue,
// its payload (a JSON string, or an object in some versions) and when it
// started. At most ProcessJobsMax, the longest running first.
func (d *Driver) busyJobs(work map[string]string) []jobdriver.BusyJob {
	var out []jobdriver.BusyJob
	for _, v := range work {
		var w struct {
			Queue   string          `json:"queue"`
			Payload json.RawMessage `json:"payload"`
			RunAt   int64           `json:"run_at"`
		}
		if json.Unmarshal([]byte(v), &w) != nil {
			continue
		}
		raw := string(w.Payload)
		var s string
		if json.Unmarshal(w.Payload, &s) == nil {
			raw = s
		}
		j, err := d.decodeJob(raw, w.Queue)
		if err != nil {
			continue
		}
		out = append(out, jobdriver.BusyJob{ID: j.ID, Type: j.Type, Queue: j.Queue, Attempt: j.Attempt + 1,
			StartedAt: time.Unix(w.RunAt, 0).UTC()})
	}
	slices.SortFunc(out, func(a, b jobdriver.BusyJob) int {
		return cmp.Or(a.StartedAt.Compare(b.StartedAt), strings.Compare(a.ID, b.ID))
	})
	if len(out) > jobdriver.ProcessJobsMax {
		out = out[:jobdriver.ProcessJobsMax]
	}
	return out
}

func secondsTime(f float64) time.Time {
	return time.UnixMicro(int64(f * 1e6)).UTC()
}

// ProcessRemove forgets a process that stopped, as Sidekiq's
// clear_heartbeat does, and drops its lease.
func (d *Driver) ProcessRemove(ctx context.Context, params *jobdriver.ProcessRemoveParams) error {
	id := params.ID
	_, err := d.rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.SRem(ctx, d.key(keyProcesses), id)
		pipe.Unlink(ctx, d.keyWork(id), d.keyProcess(id))
		pipe.ZRem(ctx, d.keyLeases(), id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove process %s: %w", id, err)
	}
	return nil
}
