#pragma once
/// `file:PATH` (or a bare path) writes one message per line to PATH, truncating it first.

#include <string>

#include "connectors/stream_writer.hpp"

namespace synthfeed {

class file_connector final : public stream_writer {
  public:
    /// Throws config_error naming `origin` when the file cannot be created.
    file_connector(const std::string& path, const std::string& origin);
    std::string_view name() const noexcept override { return "file"; }
};

} // namespace synthfeed
