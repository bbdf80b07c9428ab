#include "src/engine/window_merge.hpp"

namespace synthfeed::engine_detail {

window_merge::window_merge(std::span<window_batch* const> batches) : batches_(batches) {
    heads_.reserve(batches.size());
    for (window_batch* b : batches) heads_.push_back(b->messages.data());
}

} // namespace synthfeed::engine_detail
