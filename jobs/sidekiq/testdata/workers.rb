# A Ruby Sidekiq worker for the Go tests: `sidekiq -r workers.rb` runs the
# jobs Quire's client pushes, and each run is appended to OUT_DIR/ruby.log.
require "json"
require "sidekiq"

class RubyEcho
  include Sidekiq::Worker

  def perform(n, word)
    File.open(File.join(ENV.fetch("OUT_DIR"), "ruby.log"), "a") do |f|
      f.puts(JSON.generate("jid" => jid, "n" => n, "word" => word))
    end
  end
end
