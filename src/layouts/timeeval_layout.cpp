#include "src/layouts/timeeval_layout.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "src/core/text_escape.hpp"

namespace synthfeed {
namespace {

constexpr std::string_view index_header =
    "collection_name,dataset_name,train_path,test_path,dataset_type,datetime_index,split_at,"
    "train_type,train_is_normal,input_type,length,dimensions,contamination,num_anomalies,"
    "min_anomaly_length,median_anomaly_length,max_anomaly_length,mean,stddev,trend,"
    "stationarity,period_size\n";

std::string csv_cell(std::string_view s) {
    return escaped(s, text_context::csv_cell);
}

/// The lengths of the runs of anomalous rows.
std::vector<std::size_t> anomaly_runs(const device_series& d) {
    std::vector<std::size_t> runs;
    for (std::size_t i = 0; i < d.anomalous.size(); ++i) {
        if (!d.anomalous[i]) continue;
        if (i == 0 || !d.anomalous[i - 1]) runs.push_back(0);
        ++runs.back();
    }
    return runs;
}

/// min, int(median), max of the runs (numpy's median: the mean of the middle two).
std::string run_lengths(std::vector<std::size_t> runs) {
    if (runs.empty()) return "0,0,0";
    std::sort(runs.begin(), runs.end());
    const std::size_t n = runs.size();
    const std::size_t median = n % 2 ? runs[n / 2] : (runs[n / 2 - 1] + runs[n / 2]) / 2;
    return fmt::format("{},{},{}", runs.front(), median, runs.back());
}

/// TimeEval's mean and stddev of a series (DatasetMetadata.mean, .stddev): over the
/// channels, the mean of each channel's mean and of its sample standard deviation (n - 1, of
/// its finite values, as pandas gives them), of the values as written (`values`, row-major,
/// `width` channels); empty cells when a channel has fewer than two.
std::string mean_and_stddev(const std::vector<double>& values, std::size_t width) {
    if (width == 0) return ",";
    double means = 0, stddevs = 0;
    for (std::size_t c = 0; c < width; ++c) {
        double sum = 0;
        std::size_t n = 0;
        for (std::size_t i = c; i < values.size(); i += width)
            if (std::isfinite(values[i])) sum += values[i], ++n;
        if (n < 2) return ",";
        const double mean = sum / static_cast<double>(n);
        double squares = 0;
        for (std::size_t i = c; i < values.size(); i += width)
            if (std::isfinite(values[i])) squares += (values[i] - mean) * (values[i] - mean);
        means += mean;
        stddevs += std::sqrt(squares / static_cast<double>(n - 1));
    }
    const auto channels = static_cast<double>(width);
    return fmt::format("{},{}", means / channels, stddevs / channels);
}

/// The device's CSV; `written` gets each value as its text reads back (NaN for an empty cell).
std::string series_csv(const device_series& d, const layout_group& g,
                       std::vector<double>& written) {
    std::string out = "timestamp";
    for (const std::string& name : g.field_names) out += "," + csv_cell(name);
    out += ",is_anomaly\n";
    char ts[timestamp_length];
    const std::size_t width = g.fields.size();
    written.clear();
    for (std::size_t r = 0; r < d.rows.size(); ++r) {
        format_timestamp(d.rows[r].ts, ts);
        out.append(ts, timestamp_length);
        for (std::size_t f = 0; f < width; ++f) {
            out.push_back(',');
            const std::size_t cell = out.size();
            append_layout_value(out, d.values[r * width + f], g.decimals[f]);
            double v = std::numeric_limits<double>::quiet_NaN();
            std::from_chars(out.data() + cell, out.data() + out.size(), v);
            written.push_back(v);
        }
        out.append(d.anomalous[r] ? ",1\n" : ",0\n");
    }
    return out;
}

} // namespace

std::string write_timeeval_layout(const layout_store& store, const std::filesystem::path& dir) {
    std::string index(index_header);
    std::vector<double> written;
    for (const device_series& d : store.devices()) {
        const layout_group& g = store.group(d.group);
        if (d.rows.empty() || g.fields.empty()) continue;
        const std::string path = file_name_part(g.name) + "/" + file_name_part(d.id) + ".csv";
        if (std::string problem = write_text_file(dir / path, series_csv(d, g, written));
            !problem.empty())
            return problem;
        const auto anomalous = static_cast<std::size_t>(
            std::count(d.anomalous.begin(), d.anomalous.end(), std::uint8_t{1}));
        const std::vector<std::size_t> runs = anomaly_runs(d);
        index += fmt::format(
            "{},{},,{},synthetic,True,,unsupervised,False,{},{},{},{},{},{},{},,,\n",
            csv_cell(g.name), csv_cell(d.id), csv_cell(path),
            g.fields.size() == 1 ? "univariate" : "multivariate", d.rows.size(), g.fields.size(),
            static_cast<double>(anomalous) / static_cast<double>(d.rows.size()), runs.size(),
            run_lengths(runs), mean_and_stddev(written, g.fields.size()));
    }
    return write_text_file(dir / "datasets.csv", index);
}

} // namespace synthfeed
