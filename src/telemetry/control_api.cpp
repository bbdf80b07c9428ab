#include "src/telemetry/control_api.hpp"

#include "src/config/profile_loader.hpp"
#include "src/core/errors.hpp"

#include <algorithm>
#include <chrono>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace synthfeed {
namespace {

using nlohmann::json;

/// Compares secrets in time independent of where they differ.
bool same_secret(const std::string& a, const std::string& b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i)
        diff |= static_cast<unsigned char>((i < a.size() ? a[i] : 0) ^ (i < b.size() ? b[i] : 0));
    return diff == 0;
}

http_reply text_reply(unsigned status, std::string body) {
    return {status, "text/plain; charset=utf-8", std::move(body)};
}

http_reply json_reply(unsigned status, const json& body) {
    return {status, "application/json", body.dump() + "\n"};
}

http_reply json_error(unsigned status, const std::string& message) {
    return json_reply(status, {{"error", message}});
}

std::string text_member(const json& body, const char* key) {
    if (!body[key].is_string()) throw request_error(std::string(key) + " must be a string");
    return body[key].get<std::string>();
}

std::uint32_t find_group(const profile& p, const std::string& name) {
    for (std::uint32_t g = 0; g < p.groups.size(); ++g)
        if (p.groups[g].name == name) return g;
    throw request_error("no group \"" + name + "\" in profile " + p.name);
}

/// The (group, global index) of a device id; a linear scan, fine for a rare request.
std::pair<std::uint32_t, std::uint64_t> find_device(const profile& p, const device_directory& ids,
                                                    const std::string& id) {
    for (std::uint32_t g = 0; g < p.groups.size(); ++g)
        for (std::uint64_t i = 0; i < p.groups[g].count; ++i)
            if (ids.id(ids.first_of_group(g) + i) == id) return {g, ids.first_of_group(g) + i};
    throw request_error("no device \"" + id + "\" in profile " + p.name);
}

int find_field(const group_spec& g, const json& body, const anomaly_kind_row& kind) {
    if (kind.target == episode_target::message) {
        if (body.contains("field"))
            throw request_error("a " + std::string(kind.name) +
                                " affects the whole device; it takes no field");
        return -1;
    }
    if (!body.contains("field")) {
        if (g.fields.size() == 1) return 0;
        throw request_error("field is required: group \"" + g.name + "\" has several fields");
    }
    const std::string name = text_member(body, "field");
    for (std::size_t f = 0; f < g.fields.size(); ++f)
        if (g.fields[f].name == name) return static_cast<int>(f);
    throw request_error("no field \"" + name + "\" in group \"" + g.name + "\"");
}

} // namespace

injection_request parse_injection(const json& body, const profile& p, const device_directory& ids) {
    if (!body.is_object()) throw request_error("expected a JSON object");
    for (const auto& [key, value] : body.items())
        if (key != "kind" && key != "device" && key != "group" && key != "field" &&
            key != "magnitude" && key != "duration")
            throw request_error("unknown key \"" + key +
                                "\" (kind, device or group, field, magnitude, duration)");
    if (!body.contains("kind")) throw request_error("kind is required");
    const auto kind = parse_anomaly_kind(text_member(body, "kind"));
    if (!kind || class_of(*kind) != anomaly_class::value)
        throw request_error("unknown kind; one of " +
                            names_where(anomaly_kinds,
                                        [](const anomaly_kind_row& r) {
                                            return r.label_class == anomaly_class::value;
                                        }) +
                            " (value anomalies)");
    const anomaly_kind_row& row = anomaly_kinds[*kind];
    if (body.contains("device") == body.contains("group"))
        throw request_error("give exactly one of device or group");

    injection_request r;
    injected_episode& e = r.episode;
    e.kind = *kind;
    if (body.contains("device")) {
        std::tie(e.group, e.device) = find_device(p, ids, text_member(body, "device"));
    } else {
        e.group = find_group(p, text_member(body, "group"));
        e.device = injected_episode::whole_group;
    }
    const group_spec& g = p.groups[e.group];
    if (g.transactions)
        throw request_error("group \"" + g.name +
                            "\" is a transaction feed: value anomalies apply to sensors");
    e.field = find_field(g, body, row);
    if (e.field >= 0 &&
        g.fields[static_cast<std::size_t>(e.field)].format != field_format::number &&
        !row.on_states)
        throw request_error(
            "field \"" + g.fields[static_cast<std::size_t>(e.field)].name +
            "\" is a state machine: only " +
            names_where(anomaly_kinds, [](const anomaly_kind_row& r) { return r.on_states; }) +
            " applies to it");

    // Defaults as for profile anomalies.
    e.magnitude = default_magnitude(e.kind);
    if (body.contains("magnitude")) {
        if (!body["magnitude"].is_number()) throw request_error("magnitude must be a number");
        e.magnitude = body["magnitude"].get<double>();
    }
    if (const std::string problem = magnitude_problem(e.kind, e.magnitude); !problem.empty())
        throw request_error("magnitude " + problem);

    if (row.zero_length) {
        if (body.contains("duration"))
            throw request_error("a " + std::string(row.name) +
                                " lasts one tick; it takes no duration");
    } else {
        if (!body.contains("duration")) throw request_error("duration is required");
        const auto d = parse_duration(text_member(body, "duration"));
        if (!d || *d <= 0)
            throw request_error("duration must be a positive duration such as \"15m\"");
        r.duration = *d;
    }
    return r;
}

namespace {

/// How long POST /v1/anomalies waits for the engine before answering 202 (queued). The engine
/// schedules an injection at its next window boundary: milliseconds away when paced, never
/// while paused.
constexpr std::chrono::seconds injection_patience{2};

/// The reply once the engine has scheduled the injection (200) or refused it (409).
http_reply injection_reply(const injection_request& request, const injection_outcome& o,
                           const profile& plan, const device_directory& ids) {
    if (!o.accepted) return json_error(409, o.error);
    const injected_episode& e = request.episode;
    const std::string suffix = ":injected:" + std::to_string(o.id);
    return json_reply(200,
                      {{"id", o.id},
                       {"kind", to_string(e.kind)},
                       {"group", plan.groups[e.group].name},
                       {"device", e.device == injected_episode::whole_group
                                      ? json(nullptr)
                                      : json(std::string(ids.id(e.device)))},
                       {"episode", e.device == injected_episode::whole_group
                                       ? "<device_id>" + suffix
                                       : std::string(ids.id(e.device)) + suffix},
                       {"start", format_timestamp(o.start)},
                       {"end", anomaly_kinds[e.kind].zero_length ? json(nullptr)
                                                                 : json(format_timestamp(o.end))}});
}

/// POST /v1/anomalies: queues the request for the engine and answers once the engine has
/// scheduled it, without holding the I/O thread meanwhile.
http_answer inject(const control_api_context& c, const std::string& text) {
    const auto body = json::parse(text, nullptr, false);
    if (body.is_discarded()) return json_error(400, "the body is not valid JSON");
    injection_request request;
    try {
        request = parse_injection(body, c.plan, c.ids);
    } catch (const request_error& e) {
        return json_error(e.status(), e.what());
    }
    if (!c.control.running.load() || c.control.draining.load())
        return json_error(409, "generation is not running");
    const std::shared_future<injection_outcome> outcome =
        c.control.injections.submit(request).share();
    // The profile and the directory outlive the listener, hence every deferred reply.
    return http_deferred_reply{
        [outcome, request, &plan = c.plan, &ids = c.ids]() -> std::optional<http_reply> {
            if (outcome.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
                return std::nullopt;
            return injection_reply(request, outcome.get(), plan, ids);
        },
        injection_patience, json_reply(202, {{"status", "queued"}})};
}

} // namespace

http_handler make_http_handler(control_api_context c) {
    return [c = std::move(c)](const http_request_view& r) -> http_answer {
        const std::string path = r.target.substr(0, r.target.find('?'));
        if (path == "/metrics" && r.method == "GET")
            return http_reply{200, "text/plain; version=0.0.4; charset=utf-8", c.metrics.text()};
        if (path == "/livez" && r.method == "GET") return text_reply(200, "ok\n");
        if (path == "/readyz" && r.method == "GET") {
            if (!c.control.running.load() || c.control.draining.load())
                return text_reply(503, c.control.draining.load() ? "draining\n" : "starting\n");
            for (const connector* sink : c.sinks)
                if (sink && !sink->check().ok) return text_reply(503, sink->check().detail + "\n");
            return text_reply(200, "ready\n");
        }
        if (!path.starts_with("/v1/")) return text_reply(404, "not found\n");
        if (!c.token)
            return json_error(404,
                              "the control API is off; set SYNTHFEED_CONTROL_TOKEN to enable it");
        if (!same_secret(r.authorization, "Bearer " + *c.token))
            return json_error(401, "missing or wrong bearer token");
        if (path == "/v1/status" && r.method == "GET")
            return json_reply(200, {{"running", c.control.running.load()},
                                    {"paused", c.control.paused.load()},
                                    {"draining", c.control.draining.load()},
                                    {"target_rate", c.control.target_rate.load()},
                                    {"messages_generated", c.stats.generated.load()}});
        if (path == "/v1/pause" && r.method == "POST") {
            c.control.paused.store(true);
            return json_reply(200, {{"paused", true}});
        }
        if (path == "/v1/resume" && r.method == "POST") {
            c.control.paused.store(false);
            return json_reply(200, {{"paused", false}});
        }
        if (path == "/v1/rate" && r.method == "PUT") {
            const auto body = json::parse(r.body, nullptr, false);
            if (body.is_discarded() || !body.is_object() || !body.contains("rate") ||
                !body["rate"].is_number() || !(body["rate"].get<double>() > 0))
                return json_error(
                    400, "expected a JSON body {\"rate\": N} with N > 0 messages per second");
            c.control.requested_rate.store(body["rate"].get<double>());
            return json_reply(200, {{"target_rate", body["rate"]}});
        }
        if (path == "/v1/anomalies" && r.method == "POST") return inject(c, r.body);
        return json_error(404, "unknown endpoint or method");
    };
}

} // namespace synthfeed
