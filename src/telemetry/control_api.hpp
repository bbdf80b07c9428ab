#pragma once
/// Routes of the HTTP listener: /metrics, /livez, /readyz, and the token-protected control API
/// (pause, resume, rate, anomaly injection, status) when SYNTHFEED_CONTROL_TOKEN is set.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "connectors/connector.hpp"
#include "devices/group_model.hpp"
#include "src/core/errors.hpp"
#include "src/telemetry/http_server.hpp"
#include "src/telemetry/metrics.hpp"

namespace synthfeed {

/// What the routes read and steer; every reference outlives the listener.
struct control_api_context {
    const run_metrics& metrics;
    run_control& control;
    const run_stats& stats;
    std::vector<const connector*> sinks; ///< readiness: every one must be healthy
    std::optional<std::string> token;    ///< control API off when empty
    const profile& plan;
    const device_directory& ids;
};

/// The routes, answered on the listener's I/O thread without waiting on the engine. POST
/// /v1/anomalies is a deferred reply: 200 (or 409) once the engine has scheduled (or refused)
/// the episode, 202 {"status": "queued"} when it has not within 2 s.
http_handler make_http_handler(control_api_context context);

/// Resolves a POST /v1/anomalies body against the profile. Throws request_error (HTTP 400) with
/// a message for the client when the body is not a valid request.
injection_request parse_injection(const nlohmann::json& body, const profile& p,
                                  const device_directory& ids);

} // namespace synthfeed
