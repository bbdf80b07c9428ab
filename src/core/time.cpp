#include "src/core/time.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>

namespace synthfeed {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil_date {
    std::int64_t year;
    unsigned month;
    unsigned day;
};

constexpr civil_date civil_from_days(std::int64_t z) noexcept {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {y + (m <= 2), m, d};
}

void put2(char* out, unsigned v) noexcept {
    out[0] = static_cast<char>('0' + v / 10);
    out[1] = static_cast<char>('0' + v % 10);
}

bool read_digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + static_cast<unsigned>(s[i] - '0');
    }
    return true;
}

std::optional<double> unit_ms(std::string_view unit) {
    if (unit == "ms") return 1.0;
    if (unit == "s") return 1000.0;
    if (unit == "m" || unit == "min") return 60'000.0;
    if (unit == "h") return 3'600'000.0;
    if (unit == "d" || unit == "day") return 86'400'000.0;
    if (unit == "w" || unit == "week") return 604'800'000.0;
    // The Gregorian mean year (365.2425 days): a yearly period keeps to the calendar.
    if (unit == "y" || unit == "year") return 31'556'952'000.0;
    return std::nullopt;
}

} // namespace

std::optional<sim_duration> parse_duration(std::string_view text) {
    if (text.empty()) return std::nullopt;
    if (text == "0") return 0;
    double total = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        double number = 0;
        auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), number);
        if (ec != std::errc{} || !std::isfinite(number) || number < 0) return std::nullopt;
        pos = static_cast<std::size_t>(ptr - text.data());
        std::size_t unit_end = pos;
        while (unit_end < text.size() && std::isalpha(static_cast<unsigned char>(text[unit_end])))
            ++unit_end;
        auto scale = unit_ms(text.substr(pos, unit_end - pos));
        if (!scale) return std::nullopt;
        total += number * *scale;
        pos = unit_end;
    }
    const double rounded = std::round(total);
    if (std::abs(rounded - total) > 1e-6 || rounded > 9e15) return std::nullopt;
    return static_cast<sim_duration>(rounded);
}

namespace {

/// "HH:MM" or "HH:MM:SS" within a day (the hour may have one digit: "7:30").
std::optional<sim_duration> parse_time_of_day(std::string_view s) {
    unsigned h = 0, m = 0, sec = 0;
    const std::size_t colon = s.find(':');
    if (colon != 1 && colon != 2) return std::nullopt;
    if (!read_digits(s, 0, colon, h)) return std::nullopt;
    const std::string_view rest = s.substr(colon);
    if (rest.size() != 3 && rest.size() != 6) return std::nullopt;
    if (!read_digits(rest, 1, 2, m)) return std::nullopt;
    if (rest.size() == 6 && (rest[3] != ':' || !read_digits(rest, 4, 2, sec))) return std::nullopt;
    if (h > 23 || m > 59 || sec > 59) return std::nullopt;
    return (static_cast<sim_duration>(h) * 3600 + m * 60 + sec) * ms_per_second;
}

} // namespace

std::optional<calendar_offset> parse_calendar_offset(std::string_view text) {
    using form = calendar_offset::form;
    if (auto t = parse_time_of_day(text)) return calendar_offset{form::time_of_day, *t, *t};
    static constexpr std::string_view weekdays[] = {"Mon", "Tue", "Wed", "Thu",
                                                    "Fri", "Sat", "Sun"};
    for (std::size_t d = 0; d < 7; ++d) {
        if (text.size() < 4 || text.substr(0, 3) != weekdays[d] || text[3] != ' ') continue;
        const auto t = parse_time_of_day(text.substr(4));
        if (!t) return std::nullopt;
        const sim_duration within = static_cast<sim_duration>(d) * ms_per_day + *t;
        // 1970-01-01 was a Thursday: Monday 00:00 is 4 days after the epoch, modulo a week.
        const sim_duration week = 7 * ms_per_day;
        return calendar_offset{form::weekday, (within + 4 * ms_per_day) % week, within};
    }
    if (text.starts_with("day ")) {
        std::string_view rest = text.substr(4);
        const auto space = rest.find(' ');
        const std::string_view number = rest.substr(0, space);
        unsigned day = 0;
        if (number.empty() || number.size() > 3 || !read_digits(number, 0, number.size(), day) ||
            day < 1 || day > 366)
            return std::nullopt;
        sim_duration t = 0;
        if (space != std::string_view::npos) {
            const auto tod = parse_time_of_day(rest.substr(space + 1));
            if (!tod) return std::nullopt;
            t = *tod;
        }
        const sim_duration within = static_cast<sim_duration>(day - 1) * ms_per_day + t;
        return calendar_offset{form::day_of_year, within, within};
    }
    if (auto d = parse_duration(text)) return calendar_offset{form::duration, *d, *d};
    return std::nullopt;
}

std::optional<std::pair<sim_duration, sim_duration>> parse_duration_range(std::string_view text) {
    const auto dots = text.find("..");
    if (dots == std::string_view::npos) {
        auto d = parse_duration(text);
        if (!d) return std::nullopt;
        return std::pair{*d, *d};
    }
    auto lo = parse_duration(text.substr(0, dots));
    auto hi = parse_duration(text.substr(dots + 2));
    if (!lo || !hi || *lo > *hi) return std::nullopt;
    return std::pair{*lo, *hi};
}

std::optional<sim_time> parse_timestamp(std::string_view s) {
    unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!read_digits(s, 0, 4, year) || s.size() < 10 || s[4] != '-' || s[7] != '-' ||
        !read_digits(s, 5, 2, month) || !read_digits(s, 8, 2, day))
        return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
    sim_time t = days_from_civil(year, month, day) * ms_per_day;
    if (s.size() == 10) return t;
    if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s.size() < 20 || s[13] != ':' ||
        s[16] != ':' || !read_digits(s, 11, 2, hour) || !read_digits(s, 14, 2, minute) ||
        !read_digits(s, 17, 2, second) || hour > 23 || minute > 59 || second > 60)
        return std::nullopt;
    t += (hour * 3600 + minute * 60 + second) * ms_per_second;
    std::size_t pos = 19;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        sim_duration frac = 0;
        int digits = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (digits < 3) frac = frac * 10 + (s[pos] - '0');
            ++digits;
            ++pos;
        }
        if (digits == 0) return std::nullopt;
        for (int i = digits; i < 3; ++i) frac *= 10;
        t += frac;
    }
    if (pos == s.size()) return std::nullopt; // an offset or Z is required
    if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) return t;
    unsigned off_h = 0, off_m = 0;
    if ((s[pos] == '+' || s[pos] == '-') && s.size() == pos + 6 && s[pos + 3] == ':' &&
        read_digits(s, pos + 1, 2, off_h) && read_digits(s, pos + 4, 2, off_m)) {
        const sim_duration offset = (off_h * 60 + off_m) * 60'000;
        return s[pos] == '+' ? t - offset : t + offset;
    }
    return std::nullopt;
}

std::optional<double> parse_rate(std::string_view text) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    double count = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + slash, count);
    if (ec != std::errc{} || ptr != text.data() + slash || count < 0 || !std::isfinite(count))
        return std::nullopt;
    auto per = text.substr(slash + 1);
    std::optional<double> span = unit_ms(per);
    if (!span) {
        auto d = parse_duration(per);
        if (!d || *d == 0) return std::nullopt;
        span = static_cast<double>(*d);
    }
    return count / *span;
}

void timestamp_formatter::format(sim_time t, char* out) noexcept {
    // Most timestamps fall in the cached day: no 64-bit division for them.
    if (t < day_start_ || t - day_start_ >= ms_per_day || day_start_ == 1) {
        const sim_time day = (t >= 0 ? t : t - (ms_per_day - 1)) / ms_per_day;
        day_start_ = day * ms_per_day;
        const civil_date c = civil_from_days(day);
        const auto y = static_cast<unsigned>(c.year % 10000);
        put2(date_, y / 100);
        put2(date_ + 2, y % 100);
        date_[4] = '-';
        put2(date_ + 5, c.month);
        date_[7] = '-';
        put2(date_ + 8, c.day);
        date_[10] = 'T';
    }
    std::memcpy(out, date_, 11);
    auto ms = static_cast<unsigned>(t - day_start_);
    const unsigned millis = ms % 1000;
    ms /= 1000;
    put2(out + 11, ms / 3600);
    out[13] = ':';
    put2(out + 14, ms / 60 % 60);
    out[16] = ':';
    put2(out + 17, ms % 60);
    out[19] = '.';
    out[20] = static_cast<char>('0' + millis / 100);
    put2(out + 21, millis % 100);
    out[23] = 'Z';
}

void format_timestamp(sim_time t, char* out) noexcept {
    timestamp_formatter f;
    f.format(t, out);
}

std::string format_timestamp(sim_time t) {
    std::string s(timestamp_length, '\0');
    format_timestamp(t, s.data());
    return s;
}

std::string format_duration(sim_duration d) {
    if (d % 3'600'000 == 0) return std::to_string(d / 3'600'000) + "h";
    if (d % 60'000 == 0) return std::to_string(d / 60'000) + "m";
    if (d % 1000 == 0) return std::to_string(d / 1000) + "s";
    return std::to_string(d) + "ms";
}

} // namespace synthfeed
