#pragma once
/// Reading a stream as it grows, from its beginning, for as long as the caller wants
/// (`synthfeed score --follow`). A connector that can follow offers one through the registry
/// (connector_kind::follow).

#include <chrono>
#include <cstddef>

#include "connectors/connector_context.hpp"

namespace synthfeed {

/// One stream being followed. Not thread-safe: one thread polls it.
class stream_follower {
  public:
    virtual ~stream_follower() = default;

    /// Hands the records that arrive within `timeout` (and those already waiting) to `visit`
    /// in the stream's order per partition; returns how many. A stream that does not exist yet
    /// reads as empty until it does. Transient trouble (a broker restarting) is logged and
    /// retried; run_error only when the stream cannot be read at all (a broker never reached).
    virtual std::size_t poll(std::chrono::milliseconds timeout, const record_visitor& visit) = 0;
};

} // namespace synthfeed
