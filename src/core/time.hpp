#pragma once
/// Simulated time: every instant and duration in synthfeed is an integer count of milliseconds.
/// One resolution everywhere keeps timestamps, episode windows and labels exactly comparable.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace synthfeed {

using sim_time = std::int64_t;     ///< milliseconds since 1970-01-01T00:00:00Z
using sim_duration = std::int64_t; ///< milliseconds

inline constexpr sim_duration ms_per_second = 1000;
inline constexpr sim_duration ms_per_day = 86'400'000;
inline constexpr sim_duration ms_per_hour = 3'600'000;

/// The last instant every output can write: InfluxDB line protocol counts signed 64-bit
/// nanoseconds, which end at 2262-04-11T23:47:16.854Z (RFC 3339's four-digit years and JSON
/// last longer). Runs stop generating there; profiles start no earlier than 1970.
inline constexpr sim_time max_event_time = INT64_MAX / 1'000'000;

/// Parses "250ms", "1s", "1.5h", "1h30m", "2d", "1w". Returns nullopt on bad syntax,
/// on a negative value or on a part finer than one millisecond.
std::optional<sim_duration> parse_duration(std::string_view text);

/// Parses "20m..2h" (inclusive range) or a single duration (lo == hi).
std::optional<std::pair<sim_duration, sim_duration>> parse_duration_range(std::string_view text);

/// A time within a period as a profile writes it (a peak, a schedule point).
struct calendar_offset {
    enum class form { duration, time_of_day, weekday, day_of_year };
    form written = form::duration;
    sim_duration since_epoch = 0;    ///< from 1970-01-01T00:00Z (a Thursday), what the models use
    sim_duration within_written = 0; ///< from the start of the unit written: Monday 00:00 for a
                                     ///< weekday, 1 January for a day of year
};

/// Parses "HH:MM[:SS]" (time of day, UTC), "Mon 09:00" (weekday and time: a week starts on
/// Monday, ISO 8601), "day 172" or "day 172 06:00" (day of year, 1 = 1 January) or a
/// duration from the Unix epoch ("15h", "1d"). Returns nullopt on anything else.
std::optional<calendar_offset> parse_calendar_offset(std::string_view text);

/// Parses RFC 3339 ("2026-01-01T00:00:00Z", "2026-01-01T02:00:00.250+02:00", "2026-01-01").
std::optional<sim_time> parse_timestamp(std::string_view text);

/// Parses an event rate "0.5/day", "3/h", "10/s" into events per millisecond.
std::optional<double> parse_rate(std::string_view text);

/// Formats as "YYYY-MM-DDTHH:MM:SS.mmmZ" (exactly 24 characters) into out.
void format_timestamp(sim_time t, char* out) noexcept;
inline constexpr std::size_t timestamp_length = 24;

std::string format_timestamp(sim_time t);
std::string format_duration(sim_duration d);

/// Caches the date part so consecutive timestamps of the same day cost a few divisions.
class timestamp_formatter {
  public:
    void format(sim_time t, char* out) noexcept;

  private:
    sim_time day_start_ = 1; // impossible day start: forces the first refresh
    char date_[11] = {};
};

} // namespace synthfeed
