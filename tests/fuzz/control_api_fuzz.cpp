// libFuzzer target: the control API's HTTP handler (make_http_handler), without sockets.
//
// Two input forms:
//  * a request: "METHOD TARGET\n" + "AUTHORIZATION\n" + body, when the input starts with an
//    HTTP method and a space (e.g. "PUT /v1/rate\nBearer secret\n{\"rate\": 5}");
//  * anything else is a body, sent with the right token both to POST /v1/anomalies and to
//    PUT /v1/rate (the seed corpus is plain JSON bodies).
//
// The handler must answer every request: an exception escaping it (http_server would turn it
// into a 500) is a finding, as are crashes and sanitizer reports; request_error from
// parse_injection is the documented refusal (a 400). Every JSON reply must parse. A deferred
// reply (an injection waiting for the engine) is polled until it completes, as the server does.
//
// An accepted injection goes through what the engine does with it: a stand-in for the
// engine's emitter thread answers the queued request (as schedule_injections does), and the
// harness then generates and encodes the targeted devices' ticks with the episode live.

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "devices/group_model.hpp"
#include "src/config/profile_loader.hpp"
#include "src/core/byte_buffer.hpp"
#include "src/encode/message_encoder.hpp"
#include "src/labels/label_encoder.hpp"
#include "src/telemetry/control_api.hpp"
#include "src/telemetry/metrics.hpp"
#include "src/telemetry/run_control.hpp"
#include "src/telemetry/run_stats.hpp"

namespace {

using namespace synthfeed;
using nlohmann::json;

constexpr const char* token = "secret";

/// A small fleet with every kind of group an injection can target (or must refuse): numeric
/// fields, a single-field group, a state machine, a cascade and a transaction feed.
constexpr std::string_view fixture_profile = R"toml(
name = "fuzz-control"
seed = 7
start = "2026-01-01T00:00:00Z"

[[group]]
name     = "reefer"
count    = 50
id       = "reefer-{index:05}"
interval = "1s"
jitter   = "50ms"
  [[group.field]]
  name       = "temp_c"
  resolution = 0.1
  min        = -40.0
  max        = 60.0
  signal = { kind = "seasonal", mean = [2.5, 5.5], amplitude = 0.8, period = "24h", peak = "14h" }
  noise  = { kind = "gaussian", stddev = 0.15 }
  [[group.field]]
  name   = "humidity_pct"
  precision = 1
  signal = { kind = "ou", mean = 85.0, reversion = 0.05, sigma = 0.4 }
  [[group.field]]
  name   = "door"
  signal = { kind = "states", states = ["closed", "open"], dwell = ["10m..1h", "1m..5m"], next = [[0, 1], [1, 0]] }
  [[group.anomaly]]
  kind     = "dropout"
  rate     = "0.2/day"
  duration = "1m..15m"

[[group]]
name     = "meter"
count    = 3
id       = "meter-{index}"
interval = "250ms"
parent   = "reefer"
  [[group.field]]
  name   = "kwh"
  type   = "int"
  signal = { kind = "counter", start = 100, rate = 0.5 }

[[group]]
name  = "cards"
count = 4
id    = "card-{index:02}"
model = "transactions"
  [group.transactions]
  rate      = "50/day"
  merchants = 10
  towns     = 2
)toml";

std::optional<std::string> no_env(const std::string&) {
    return std::nullopt;
}

struct fixture {
    profile plan = parse_profile(fixture_profile, "fuzz-control.toml", {}, no_env);
    device_directory ids{plan};
    run_stats stats;
    run_control control;
    run_metrics metrics{plan, stats, control, {}};
    http_handler handler = make_http_handler(
        control_api_context{metrics, control, stats, {}, std::string(token), plan, ids});
    sim_time start = *plan.start;
};

fixture& the_fixture() {
    static fixture* f = new fixture; // never destroyed: no exit-time races with libFuzzer
    return *f;
}

/// Plays the engine's emitter for one request: takes it off the queue and answers it the way
/// schedule_injections does. Gives up after 3 s (the deferred reply then times out: a 202).
class engine_stand_in {
  public:
    engine_stand_in(run_control& control, injection_board& board, sim_time window_start)
        : thread_([this, &control, &board, window_start] {
              const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(3);
              while (!done_.load() && std::chrono::steady_clock::now() < give_up) {
                  auto waiting = control.injections.take();
                  if (waiting.empty()) {
                      std::this_thread::yield();
                      continue;
                  }
                  for (auto& [request, answer] : waiting) {
                      injected_episode e = request.episode;
                      e.start = window_start;
                      e.end = e.start + std::max<sim_duration>(1, request.duration);
                      e.first_window = 0;
                      const auto id = board.publish(e);
                      if (!id)
                          answer.set_value({false, 0, 0, 0, "too many injected episodes"});
                      else
                          answer.set_value({true, *id, e.start, e.end, {}});
                  }
                  return;
              }
          }) {}
    ~engine_stand_in() {
        done_.store(true);
        thread_.join();
    }

  private:
    std::atomic<bool> done_{false};
    std::thread thread_;
};

/// Encodes ticks as the run's workers would, with injected episodes live.
struct sink {
    std::vector<const message_encoder*> messages;
    const label_encoder* labels;
    const episode_encoder* episodes;
    std::string_view id;
    byte_buffer out;
    timestamp_formatter ts;

    void on_tick(const tick_view& t) {
        out.clear();
        if (t.emitted)
            for (const message_encoder* m : messages) m->encode(out, t, id, ts);
        labels->encode(out, t, id, ts);
    }
    void on_episode(const episode_view& v) {
        out.clear();
        episodes->encode(out, v, id);
    }
};

/// Generates the ticks an accepted injection covers (bounded) for the devices it targets.
void apply(const fixture& f, const injection_board& board) {
    const auto published = board.published();
    if (published.empty()) return;
    const injected_episode& e = published.front();
    const group_spec& g = f.plan.groups.at(e.group);
    const message_encoder json_enc(f.plan, payload_format::json, true, &board);
    const message_encoder csv_enc(f.plan, payload_format::csv, false, &board);
    const message_encoder influx_enc(f.plan, payload_format::influx, false, &board);
    const label_encoder labels(f.plan, label_format::jsonl, &board);
    const episode_encoder episodes(f.plan, &board);
    sink out{{&json_enc, &csv_enc, &influx_enc}, &labels, &episodes, {}, {}, {}};

    const group_model model(f.plan, e.group, f.ids.first_of_group(e.group), f.start);
    std::vector<std::uint32_t> locals;
    if (e.device == injected_episode::whole_group) {
        locals = {0};
        if (g.count > 1) locals.push_back(static_cast<std::uint32_t>(g.count - 1));
    } else {
        locals = {static_cast<std::uint32_t>(e.device - f.ids.first_of_group(e.group))};
    }
    device_block block = model.make_block(locals);
    const sim_time until =
        e.start + std::min<sim_duration>(e.end - e.start, 10 * g.interval) + 2 * g.interval;
    for (std::size_t i = 0; i < locals.size(); ++i) {
        out.id = f.ids.id(f.ids.first_of_group(e.group) + locals[i]);
        model.advance(block, i, until, out, published);
    }
}

/// The reply the server would send: a deferred one is polled until it completes or its patience
/// runs out (the server looks on a timer; this harness may simply sleep).
http_reply settle(http_answer answer) {
    if (auto* reply = std::get_if<http_reply>(&answer)) return std::move(*reply);
    const http_deferred_reply& deferred = std::get<http_deferred_reply>(answer);
    const auto give_up = std::chrono::steady_clock::now() + deferred.patience;
    while (std::chrono::steady_clock::now() < give_up) {
        if (auto reply = deferred.poll()) return std::move(*reply);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return deferred.on_timeout;
}

void check_reply(const http_reply& reply) {
    if (reply.content_type != "application/json") return;
    const json parsed = json::parse(reply.body, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) __builtin_trap();
    if (reply.status >= 400 && !parsed.contains("error")) __builtin_trap();
}

void send(fixture& f, http_request_view request) {
    // Reaches the injection queue only for a valid injection: then the engine must answer.
    std::optional<injection_board> board;
    std::optional<engine_stand_in> engine;
    f.control.running.store(false);
    f.control.paused.store(false);
    const std::string path = request.target.substr(0, request.target.find('?'));
    if (path == "/v1/anomalies" && request.method == "POST" &&
        request.authorization == std::string("Bearer ") + token) {
        const json body = json::parse(request.body, nullptr, false);
        bool valid = false;
        if (!body.is_discarded()) {
            try {
                (void)parse_injection(body, f.plan, f.ids);
                valid = true;
            } catch (const request_error&) {
            }
        }
        if (valid) {
            f.control.running.store(true);
            board.emplace(4);
            engine.emplace(f.control, *board, f.start + 1500);
        }
    }
    const http_reply reply = settle(f.handler(request));
    engine.reset(); // joins the stand-in
    f.control.running.store(false);
    check_reply(reply);
    if (board && reply.status == 200) apply(f, *board);
}

bool starts_with_method(std::string_view in) {
    for (std::string_view m : {"GET ", "POST ", "PUT ", "DELETE ", "PATCH ", "HEAD "})
        if (in.starts_with(m)) return true;
    return false;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fixture& f = the_fixture();
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    if (starts_with_method(in)) {
        // "METHOD TARGET\nAUTHORIZATION\nBODY"
        const std::size_t space = in.find(' ');
        const std::size_t eol = in.find('\n');
        http_request_view r;
        r.method = std::string(in.substr(0, space));
        r.target = std::string(in.substr(space + 1, eol == in.npos ? in.npos : eol - space - 1));
        if (eol != in.npos) {
            const std::string_view rest = in.substr(eol + 1);
            const std::size_t eol2 = rest.find('\n');
            r.authorization = std::string(rest.substr(0, eol2));
            if (eol2 != rest.npos) r.body = std::string(rest.substr(eol2 + 1));
        }
        send(f, std::move(r));
        return 0;
    }
    const std::string auth = std::string("Bearer ") + token;
    send(f, {"POST", "/v1/anomalies", auth, std::string(in)});
    send(f, {"PUT", "/v1/rate", auth, std::string(in)});
    return 0;
}
