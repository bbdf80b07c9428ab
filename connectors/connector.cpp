#include "connectors/connector.hpp"

#include <spdlog/spdlog.h>

namespace synthfeed {

void connector::log_first_failure(send_error why, std::string_view cause,
                                  std::uint64_t n) const noexcept {
    spdlog::warn("{}: first {} failure ({} message{}){}{}", name(),
                 send_error_names[static_cast<std::size_t>(why)], n, n == 1 ? "" : "s",
                 cause.empty() ? "" : ": ", cause);
}

void connector::log_first_in_doubt(std::string_view cause, std::uint64_t n) const noexcept {
    spdlog::warn("{}: first message{} in doubt ({}; possibly stored, never acknowledged){}{}",
                 name(), n == 1 ? "" : "s", n, cause.empty() ? "" : ": ", cause);
}

} // namespace synthfeed
