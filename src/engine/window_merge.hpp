#pragma once
/// K-way merge of the workers' sorted batches of one window into canonical order (event time,
/// then device index; see window_batch.hpp). Each batch's messages must be sorted by `order`
/// and end with an `end_of_batch` entry; an empty batch is just that entry. Equal keys come
/// from the lower-numbered batch first (a stable merge). No errors, no allocation per message.
///
/// Concurrency: one thread; the batches must not change while a merge reads them.

#include <cstddef>
#include <span>
#include <vector>

#include "src/engine/window_batch.hpp"

namespace synthfeed::engine_detail {

class window_merge {
  public:
    /// At least one batch; `batches` must outlive the merge.
    explicit window_merge(std::span<window_batch* const> batches);

    /// The next entry, and in `from` the batch holding its bytes; null after the last, and on
    /// every call after that. Inline: it runs once a message.
    const message_entry* next(const window_batch*& from) noexcept {
        if (heads_.size() == 2) { // two workers: one compare, no branch on which one wins
            const bool second = heads_[1]->order < heads_[0]->order;
            const message_entry* m = heads_[second];
            if (m->order == end_of_batch) return nullptr; // both at their sentinels: stay there
            ++heads_[second];
            from = batches_[second];
            return m;
        }
        std::size_t best = 0;
        for (std::size_t b = 1; b < heads_.size(); ++b)
            if (heads_[b]->order < heads_[best]->order) best = b;
        const message_entry* m = heads_[best];
        if (m->order == end_of_batch) return nullptr;
        ++heads_[best];
        from = batches_[best];
        return m;
    }

  private:
    std::span<window_batch* const> batches_;
    std::vector<const message_entry*> heads_;
};

} // namespace synthfeed::engine_detail
