# Drives Ruby Sidekiq's own client and API for the Go tests: each command
# prints JSON, so the tests check what Sidekiq itself reads from Redis.
# REDIS_URL selects the database.
require "json"
require "sidekiq"
require "sidekiq/api"

def entries(set)
  set.map { |e|
    out = {"score" => e.score, "item" => e.item}
    # Decoded as the Web UI decodes it (Base64, zlib, JSON).
    out["backtrace"] = e.error_backtrace if e.item["error_backtrace"]
    out
  }
end

cmd = ARGV.shift
case cmd
when "push_bulk" # CLASS QUEUE COUNT: args [i] for i in 0...COUNT
  klass, queue, count = ARGV[0], ARGV[1], Integer(ARGV[2])
  jids = count.times.each_slice(1000).flat_map { |slice|
    Sidekiq::Client.push_bulk("class" => klass, "queue" => queue, "args" => slice.map { |i| [i] })
  }
  puts JSON.generate(jids)
when "push" # CLASS QUEUE ARGS_JSON [RETRY_JSON [MORE_OPTIONS_JSON]]
  item = {"class" => ARGV[0], "queue" => ARGV[1], "args" => JSON.parse(ARGV[2])}
  item["retry"] = JSON.parse(ARGV[3]) if ARGV[3]
  item.merge!(JSON.parse(ARGV[4])) if ARGV[4]
  puts JSON.generate(Sidekiq::Client.push(item))
when "retries"
  puts JSON.generate(entries(Sidekiq::RetrySet.new))
when "dead"
  puts JSON.generate(entries(Sidekiq::DeadSet.new))
when "retry_all" # loops until the set is empty
  Sidekiq::RetrySet.new.retry_all
  puts "[]"
when "retry_each" # retries the entries there now, once each (SortedEntry#retry)
  Sidekiq::RetrySet.new.to_a.each(&:retry)
  puts "[]"
when "processes"
  keys = %w[identity hostname pid tag concurrency queues labels busy beat quiet rss started_at]
  puts JSON.generate(Sidekiq::ProcessSet.new.map { |p| keys.to_h { |k| [k, p[k]] } })
when "workers"
  puts JSON.generate(Sidekiq::Workers.new.map { |process, thread, work|
    {"process" => process, "thread" => thread, "queue" => work["queue"], "run_at" => work["run_at"],
     "class" => work["payload"]["class"], "jid" => work["payload"]["jid"], "args" => work["payload"]["args"]}
  })
when "quiet" # IDENTITY: the Web UI's Quiet button (Process#quiet!)
  Sidekiq::ProcessSet.new.each { |p| p.quiet! if p.identity == ARGV[0] }
  puts "[]"
when "stats"
  s = Sidekiq::Stats.new
  puts JSON.generate("processed" => s.processed, "failed" => s.failed, "processes_size" => s.processes_size,
    "workers_size" => s.workers_size, "retry_size" => s.retry_size, "dead_size" => s.dead_size,
    "enqueued" => s.enqueued, "today" => Sidekiq::Stats::History.new(1).processed.values.first)
when "web" # PATH: renders a Web UI page as a browser would get it
  require "sidekiq/web"
  require "rack/mock"
  env = Rack::MockRequest.env_for(ARGV[0])
  env["rack.session"] = {}
  status, _, body = Sidekiq::Web.new.call(env)
  html = +""
  body.each { |part| html << part }
  puts JSON.generate("status" => status, "body" => html)
else
  abort "unknown command #{cmd.inspect}"
end
