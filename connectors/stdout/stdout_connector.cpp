#include "connectors/stdout/stdout_connector.hpp"

#include <unistd.h>

namespace synthfeed {

stdout_connector::stdout_connector() : stream_writer(STDOUT_FILENO, false, "stdout") {}

} // namespace synthfeed
