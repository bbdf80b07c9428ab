#pragma once
/// Window pipeline: one thread per producer (worker) generates windows ahead of the emitter,
/// up to `pipeline_depth` of them, each into a slot of its own. Windows are numbered from 0;
/// window w covers simulated time [start + w·window, min(end, start + (w+1)·window)) in ms.
///
/// Concurrency: the emitter thread calls request() and wait(); the pipeline's threads call
/// the producers' generate(), each producer from its own thread only. A slot handed out by
/// wait(w) stays untouched until the emitter requests window w + pipeline_depth: it must be
/// done with the batches of w by then. The destructor stops and joins the threads (a window
/// being generated is finished first). No errors beyond std::system_error from starting a
/// thread (set-up time).

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "src/core/time.hpp"
#include "src/engine/window_batch.hpp"

namespace synthfeed::engine_detail {

/// What the pipeline runs on its threads: a worker, or a fake in tests.
class window_producer {
  public:
    virtual ~window_producer() = default;
    /// Fills `out` (clearing it first) with the messages emitted in [from, until) of window
    /// number `window`, sorted and ended as window_batch says; `last` in the run's last window.
    virtual void generate(std::int64_t window, sim_time from, sim_time until, bool last,
                          window_batch& out) = 0;
};

/// Windows a producer may fill ahead of the emitter. Two is enough: four did not help the
/// Kafka path measurably and cost 10 % on the null sink (cache).
inline constexpr std::size_t pipeline_depth = 2;

class pipeline {
  public:
    /// Starts one thread per producer; nothing is generated before the first request().
    pipeline(std::span<window_producer* const> producers, sim_time start, sim_duration window,
             sim_time end);
    ~pipeline();
    pipeline(const pipeline&) = delete;
    pipeline& operator=(const pipeline&) = delete;

    sim_time window_start(std::int64_t w) const noexcept { return start_ + w * window_; }
    sim_time window_end(std::int64_t w) const noexcept {
        return std::min(end_, start_ + (w + 1) * window_);
    }
    bool past_end(std::int64_t w) const noexcept { return start_ + w * window_ >= end_; }

    /// Lets the producers generate every window up to and including w.
    void request(std::int64_t w);

    /// Waits up to `timeout` for every producer to finish window w (requested before); true
    /// once they have.
    bool ready(std::int64_t w, std::chrono::milliseconds timeout);

    /// Waits until every producer has generated window w (requested before); returns their
    /// batches, in producer order.
    std::vector<window_batch*> wait(std::int64_t w);

  private:
    void work(std::size_t id);
    bool done(std::int64_t w) const noexcept {
        return std::all_of(done_.begin(), done_.end(), [&](std::int64_t d) { return d >= w; });
    }
    window_batch& slot(std::size_t producer, std::int64_t w) noexcept {
        return slots_[producer * pipeline_depth + static_cast<std::size_t>(w) % pipeline_depth];
    }

    std::vector<window_producer*> producers_;
    sim_time start_;
    sim_duration window_;
    sim_time end_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::int64_t requested_ = -1;
    bool quit_ = false;
    std::vector<std::int64_t> done_; ///< the last window each producer finished
    std::vector<window_batch> slots_;
    std::vector<std::thread> threads_;
};

} // namespace synthfeed::engine_detail
