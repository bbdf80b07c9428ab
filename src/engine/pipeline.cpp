#include "src/engine/pipeline.hpp"

#include <algorithm>

namespace synthfeed::engine_detail {

pipeline::pipeline(std::span<window_producer* const> producers, sim_time start, sim_duration window,
                   sim_time end)
    : producers_(producers.begin(), producers.end()), start_(start), window_(window), end_(end),
      done_(producers.size(), -1), slots_(producers.size() * pipeline_depth) {
    for (std::size_t p = 0; p < producers_.size(); ++p)
        threads_.emplace_back([this, p] { work(p); });
}

pipeline::~pipeline() {
    {
        std::lock_guard lock(mutex_);
        quit_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
}

void pipeline::request(std::int64_t w) {
    {
        std::lock_guard lock(mutex_);
        requested_ = std::max(requested_, w);
    }
    cv_.notify_all();
}

bool pipeline::ready(std::int64_t w, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return done(w); });
}

std::vector<window_batch*> pipeline::wait(std::int64_t w) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return done(w); });
    std::vector<window_batch*> out;
    for (std::size_t p = 0; p < producers_.size(); ++p) out.push_back(&slot(p, w));
    return out;
}

void pipeline::work(std::size_t id) {
    std::int64_t next = 0;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [&] { return quit_ || requested_ >= next; });
            if (quit_) return;
        }
        producers_[id]->generate(next, window_start(next), window_end(next),
                                 window_end(next) >= end_, slot(id, next));
        {
            std::lock_guard lock(mutex_);
            done_[id] = next;
        }
        cv_.notify_all();
        ++next;
    }
}

} // namespace synthfeed::engine_detail
