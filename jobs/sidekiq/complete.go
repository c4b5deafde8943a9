package sidekiq

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/quirehq/quire/jobs/jobdriver"
)

// completeScript records outcomes. A job's entry is removed from its
// in-progress list first; an entry that is no longer there was rescued from a
// process whose lease passed, and its outcome is ignored (fencing).
//
// KEYS[1] dead, KEYS[2] stat:processed, KEYS[3] stat:failed,
// KEYS[4] stat:processed:YYYY-MM-DD, KEYS[5] stat:failed:YYYY-MM-DD.
// ARGV[1] stats TTL (s), ARGV[2] dead cutoff score, ARGV[3] dead max jobs;
// then 8 per job: in-progress list, payload, target kind ("", "list",
// "zset"), target key, score, payload to write, processed (0/1), failed
// (0/1). Targets: "list" RPUSHes to the front of a queue, "zset" ZADDs with
// the score. Returns {applied, stale}.
var completeScript = redis.NewScript(`
local applied, stale, processed, failed, dead = 0, 0, 0, 0, false
for i = 4, #ARGV, 8 do
  if redis.call('LREM', ARGV[i], 1, ARGV[i+1]) == 1 then
    applied = applied + 1
    local kind, key = ARGV[i+2], ARGV[i+3]
    if kind == 'list' then
      redis.call('RPUSH', key, ARGV[i+5])
    elseif kind == 'zset' then
      redis.call('ZADD', key, ARGV[i+4], ARGV[i+5])
      if key == KEYS[1] then dead = true end
    end
    processed = processed + tonumber(ARGV[i+6])
    failed = failed + tonumber(ARGV[i+7])
  else
    stale = stale + 1
  end
end
if processed > 0 then
  redis.call('INCRBY', KEYS[2], processed)
  redis.call('INCRBY', KEYS[4], processed)
  redis.call('EXPIRE', KEYS[4], ARGV[1])
end
if failed > 0 then
  redis.call('INCRBY', KEYS[3], failed)
  redis.call('INCRBY', KEYS[5], failed)
  redis.call('EXPIRE', KEYS[5], ARGV[1])
end
if dead then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -tonumber(ARGV[3]) - 1)
end
return {applied, stale}
`)

// JobCompleteMany writes outcomes in Sidekiq's format:
//   - done: the job leaves; stat:processed counts it;
//   - retry: retry_count, error_message, error_class, failed_at (first
//     failure) or retried_at are set as Sidekiq 6.4 sets them and the job
//     waits in the retry set, scored by its next run; the queue becomes
//     retry_queue when the job has one;
//   - dead: the same fields, then the dead set; a job whose retry is false
//     or whose dead is false is dropped instead, as Sidekiq does;
//   - snooze: the job waits in the schedule set, unchanged, uncounted;
//   - requeue: the job returns to the front of its queue, unchanged.
//
// Failed executions count in stat:processed and stat:failed, as in Sidekiq.
func (d *Driver) JobCompleteMany(ctx context.Context, p *jobdriver.JobCompleteManyParams) (*jobdriver.JobCompleteManyResult, error) {
	if len(p.Completions) == 0 {
		return &jobdriver.JobCompleteManyResult{}, nil
	}
	now := p.Now.UTC()
	day := now.Format("2006-01-02")
	keys := []string{d.key(keyDead), d.keyStat("processed"), d.keyStat("failed"),
		d.keyStat("processed:" + day), d.keyStat("failed:" + day)}
	args := make([]any, 0, 3+8*len(p.Completions))
	args = append(args, int64(statsTTL.Seconds()),
		strconv.FormatFloat(unixSeconds(now.Add(-d.cfg.DeadMaxAge)), 'f', -1, 64), d.cfg.DeadMaxJobs)
	for _, c := range p.Completions {
		owner, raw, err := parseLease(c.Job.Lease)
		if err != nil {
			return nil, err
		}
		d.mu.Lock()
		fl := d.failures[c.Job.Lease]
		d.mu.Unlock()
		kind, key, score, out, processed, failed := "", "", "0", "", 1, 0
		switch c.Outcome {
		case jobdriver.OutcomeDone:
		case jobdriver.OutcomeRequeue:
			kind, key, out, processed = "list", d.keyQueue(c.Job.Queue), raw, 0
		case jobdriver.OutcomeSnooze:
			// Not an execution to count: the job runs later, as if it
			// had been scheduled then.
			kind, key, out, processed = "zset", d.key(keySchedule), raw, 0
			score = strconv.FormatFloat(unixSeconds(c.Updated.ScheduledAt), 'f', -1, 64)
		case jobdriver.OutcomeRetry, jobdriver.OutcomeDead:
			failed = 1
			f, err := d.failed(raw, c, fl)
			if err != nil {
				// It was read at fetch, so this does not happen; if it
				// did, failing the batch would fail it forever.
				kind, key, out = "zset", d.key(keyDead), raw
				score = strconv.FormatFloat(unixSeconds(now), 'f', -1, 64)
				break
			}
			rp := d.parseRetry(f["retry"])
			switch {
			case !rp.enabled:
				// retry: false drops the job; it is only counted.
			case c.Outcome == jobdriver.OutcomeRetry:
				kind, key = "zset", d.key(keyRetry)
				score = strconv.FormatFloat(unixSeconds(c.Updated.ScheduledAt), 'f', -1, 64)
			case string(f["dead"]) != "false":
				kind, key = "zset", d.key(keyDead)
				score = strconv.FormatFloat(unixSeconds(now), 'f', -1, 64)
			}
			if kind != "" {
				if out, err = f.encode(); err != nil {
					return nil, err
				}
			}
		default:
			return nil, fmt.Errorf("sidekiq: unknown outcome %d of job %s", c.Outcome, c.Job.ID)
		}
		args = append(args, d.keyInProgress(c.Job.Queue, owner), raw, kind, key, score, out, processed, failed)
	}
	res, err := completeScript.Run(ctx, d.rdb, keys, args...).Int64Slice()
	if err != nil {
		// The server tries again with the same completions.
		return nil, fmt.Errorf("record the outcomes of %d jobs: %w", len(p.Completions), err)
	}
	d.mu.Lock()
	for _, c := range p.Completions {
		_, raw, _ := parseLease(c.Job.Lease) // parsed above
		d.release(raw)
		delete(d.failures, c.Job.Lease)
		delete(d.running, c.Job.ID)
	}
	d.mu.Unlock()
	return &jobdriver.JobCompleteManyResult{Applied: int(res[0]), Stale: int(res[1])}, nil
}

// failed returns the job with the fields Sidekiq 6.4's JobRetry sets on a
// failure (attempt_retry).
func (d *Driver) failed(raw string, c jobdriver.Completion, fl failure) (fields, error) {
	f, err := parseFields(raw)
	if err != nil {
		return nil, err
	}
	queue := c.Job.Queue
	if rq := f.str("retry_queue"); rq != "" {
		queue = rq
	}
	f.setString("queue", queue)
	msg := c.Updated.Error
	if fl.message != "" {
		msg = fl.message
	}
	if !utf8.ValidString(msg) {
		msg = strings.ToValidUTF8(msg, "\uFFFD")
	}
	if n := utf8.RuneCountInString(msg); n > errorMessageMax {
		msg = string([]rune(msg)[:errorMessageMax])
	}
	f.setString("error_message", msg)
	class := fl.class
	if class == "" {
		class = "StandardError"
	}
	f.setString("error_class", class)
	if bt, ok := f["backtrace"]; ok && len(fl.backtrace) > 0 {
		// backtrace: true keeps every line, an integer that many, as Sidekiq.
		lines := fl.backtrace
		if n, err := strconv.Atoi(string(bt)); err == nil && n >= 0 && n < len(lines) {
			lines = lines[:n]
		}
		if string(bt) != "false" && string(bt) != "null" {
			enc, err := compressBacktrace(lines)
			if err != nil {
				return nil, err
			}
			f.setString("error_backtrace", enc)
		}
	}
	failedAt := c.Updated.FailedAt
	if rc, ok := f["retry_count"]; ok && string(rc) != "null" {
		var n int
		if err := json.Unmarshal(rc, &n); err != nil {
			return nil, fmt.Errorf("retry_count %s is not an integer", rc)
		}
		f["retried_at"] = d.formatTime(failedAt)
		f["retry_count"] = json.RawMessage(strconv.Itoa(n + 1))
	} else {
		f["failed_at"] = d.formatTime(failedAt)
		f["retry_count"] = json.RawMessage("0")
	}
	return f, nil
}

// compressBacktrace encodes lines as Sidekiq's error_backtrace:
// Base64(zlib(JSON array)), which the Web UI and JobRecord#error_backtrace
// decode.
func compressBacktrace(lines []string) (string, error) {
	js, err := json.Marshal(lines)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	if _, err := zw.Write(js); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}
