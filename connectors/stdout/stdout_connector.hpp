#pragma once
/// `stdout:` writes one message per line to standard output (data only; logs go to stderr).

#include <memory>

#include "connectors/connector.hpp"
#include "connectors/stream_writer.hpp"

namespace synthfeed {

class stdout_connector final : public stream_writer {
  public:
    stdout_connector();
    std::string_view name() const noexcept override { return "stdout"; }
};

} // namespace synthfeed
