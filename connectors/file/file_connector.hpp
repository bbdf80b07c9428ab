#pragma once
/// `file:PATH` (or a bare path) writes one message per line to PATH, truncating it first.

#include <cstdint>
#include <string>

#include "connectors/connector_context.hpp"
#include "connectors/stream_writer.hpp"

namespace synthfeed {

class file_connector final : public stream_writer {
  public:
    /// Throws config_error naming `origin` when the file cannot be created.
    file_connector(const std::string& path, const std::string& origin);
    std::string_view name() const noexcept override { return "file"; }
};

/// Feeds every line of the file at `path` to `visit` (partition 0), a CSV header excepted
/// (for `synthfeed verify`); returns how many. Throws config_error naming `origin` when the
/// file cannot be opened.
std::uint64_t read_file_records(const std::string& path, const std::string& origin,
                                const record_visitor& visit);

} // namespace synthfeed
