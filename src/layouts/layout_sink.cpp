#include "src/layouts/layout_sink.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "src/core/errors.hpp"
#include "src/layouts/layout_store.hpp"
#include "src/layouts/nab_layout.hpp"
#include "src/layouts/timeeval_layout.hpp"

namespace synthfeed {
namespace {

class label_layout_sink final : public connector {
  public:
    label_layout_sink(std::filesystem::path dir, label_format format, const profile& p)
        : dir_(std::move(dir)), format_(format), store_(p, layout_row_cap) {}

    send_result send(const record& r) noexcept override {
        switch (store_.add(r.device_id, r.payload)) {
        case layout_store::added::row:
        case layout_store::added::no_row:
            ++held_;
            return send_result::accepted;
        case layout_store::added::full:
            count_failed(1, send_error::rejected,
                         fmt::format("the layout holds at most {} rows", layout_row_cap));
            return send_result::rejected;
        case layout_store::added::unreadable:
            count_failed(1, send_error::rejected, "not a layout record");
            return send_result::rejected;
        }
        return send_result::rejected;
    }

    void poll(std::chrono::milliseconds) noexcept override {}

    std::uint64_t drain(deadline) noexcept override {
        if (held_ == 0 && written_) return 0;
        written_ = true;
        std::string problem;
        try {
            store_.finish();
            problem = format_ == label_format::nab ? write_nab_layout(store_, dir_)
                                                   : write_timeeval_layout(store_, dir_);
        } catch (const std::exception& e) { // std::bad_alloc, a filesystem error
            problem = e.what();
        }
        const std::uint64_t held = std::exchange(held_, 0);
        if (!problem.empty()) {
            count_failed(held, send_error::io, problem);
            return held;
        }
        count_delivered(held, 0);
        spdlog::info("{} layout: {} rows of {} devices in {}", name(), store_.rows(),
                     store_.devices().size(), dir_.string());
        return 0;
    }

    health check() const override { return {}; }
    std::string_view name() const noexcept override { return label_formats[format_].name; }

  private:
    std::filesystem::path dir_;
    label_format format_;
    layout_store store_;
    std::uint64_t held_ = 0; ///< records taken, not yet written
    bool written_ = false;
};

[[noreturn]] void fail(const std::string& dir, const std::string& message) {
    throw config_error({"--labels", 0, 0}, dir, message);
}

/// A URI (`file:…`, `kafka://…`) rather than a path: a scheme, then ':'.
bool looks_like_uri(std::string_view s) {
    const auto colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    return std::all_of(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '+' || c == '-' || c == '.';
    });
}

void check_bounds(const std::string& dir, const char* name, const profile& p,
                  const layout_run& run) {
    if (!run.count && !run.duration)
        fail(dir, fmt::format("a {} layout is written at the end of the run: bound it with "
                              "--count or --duration",
                              name));
    const std::uint64_t fleet = p.device_count();
    const std::uint64_t devices =
        fleet / run.shard_count + (run.shard_index < fleet % run.shard_count ? 1 : 0);
    if (devices > max_layout_devices)
        fail(dir, fmt::format("a {} layout holds at most {} devices (a file each), this run has "
                              "{} (fewer with --devices or --shard)",
                              name, max_layout_devices, devices));
    double rows = run.count ? static_cast<double>(*run.count) : INFINITY;
    if (run.duration)
        rows = std::min(rows, p.nominal_rate() * static_cast<double>(*run.duration) / 1000.0 *
                                  static_cast<double>(devices) / static_cast<double>(fleet));
    if (rows > static_cast<double>(max_layout_rows))
        fail(dir, fmt::format("a {} layout holds at most {} messages in memory until the end, "
                              "this run sends about {:.0f} (shorten --duration, or give "
                              "--count, --devices or --shard)",
                              name, max_layout_rows, rows));
}

void prepare_directory(const std::string& dir, const char* name) {
    std::error_code ec;
    const std::filesystem::path path(dir);
    if (std::filesystem::exists(path, ec)) {
        if (!std::filesystem::is_directory(path, ec))
            fail(dir,
                 fmt::format("exists and is not a directory (a {} layout is a directory)", name));
        if (!std::filesystem::is_empty(path, ec))
            fail(dir, "is not empty: the layout's files would mix with what is there (remove it "
                      "or name a new directory)");
    } else if (!std::filesystem::create_directories(path, ec)) {
        fail(dir, "cannot create the directory: " + ec.message());
    }
    if (ec) fail(dir, ec.message());
}

} // namespace

std::unique_ptr<connector> open_label_layout(const std::string& dir, label_format format,
                                             const profile& p, const layout_run& run) {
    const char* name = format == label_format::nab ? "NAB" : "TimeEval";
    if (looks_like_uri(dir))
        fail(dir, fmt::format("a {} layout is a directory of files: give a path, not a URI", name));
    check_bounds(dir, name, p, run);
    prepare_directory(dir, name);
    return std::make_unique<label_layout_sink>(std::filesystem::path(dir), format, p);
}

} // namespace synthfeed
