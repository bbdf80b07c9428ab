#pragma once
// Window batches for the engine's unit tests, built by hand as a worker would leave them.

#include <utility>
#include <vector>

#include "src/engine/window_batch.hpp"

namespace synthfeed::testing {

/// Ends a sorted batch with the sentinel every batch carries.
inline void end_batch(engine_detail::window_batch& b) {
    engine_detail::message_entry sentinel{};
    sentinel.order = engine_detail::end_of_batch;
    b.messages.push_back(sentinel);
}

/// Batches in a vector (they move: their buffers cannot be copied).
template <class... Batches>
std::vector<engine_detail::window_batch> batches_of(Batches&&... b) {
    std::vector<engine_detail::window_batch> out;
    (out.push_back(std::move(b)), ...);
    return out;
}

} // namespace synthfeed::testing
