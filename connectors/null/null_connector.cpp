// null_connector is header-only; this unit keeps the one-folder-per-connector shape.
#include "connectors/null/null_connector.hpp"
