// layouts: the layout rows the label encoder writes read back, the store orders delayed rows
// and counts episodes, and the TimeEval and NAB writers' files, byte for byte, on a device of
// six messages (tests/integration/test_layouts.py reads real runs with the tools' loaders).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "src/layouts/layout_store.hpp"
#include "src/layouts/nab_layout.hpp"
#include "src/layouts/timeeval_layout.hpp"
#include "tests/test_support.hpp"

using namespace synthfeed;
using namespace synthfeed::testing;

namespace {

/// One group "g" of one device, a number `x` (1 decimal) and a text `state`.
const profile& two_field_profile() {
    static const profile p = profile_from(R"(name = "p"
[[group]]
name = "g"
count = 1
id = "d/0"
interval = "1s"
  [[group.field]]
  name = "x"
  precision = 1
  signal = { kind = "constant", value = 1.0 }
  [[group.field]]
  name = "state"
  signal = { kind = "states", states = ["a", "b"], dwell = ["1m..2m", "1m..2m"], next = [[0, 1], [1, 0]] }
)");
    return p;
}

std::string record(std::uint64_t seq, bool emitted, double x, std::vector<layout_episode> live) {
    byte_buffer out;
    const std::vector<double> values{x, 1.0}; // x, then the state's index
    append_layout_row(out, {0, seq, test_start + static_cast<sim_time>(seq) * 1000, 0, emitted,
                            !live.empty(), values, live});
    return std::string(out.view());
}

/// Seqs 0..6: seq 3 silenced by a dropout (episode 1:0, the whole device), a level shift
/// (0:0 on x) on seqs 4 and 5, seq 2 arriving last (a late message).
layout_store six_rows() {
    layout_store store(two_field_profile(), 100);
    const layout_episode dropout{-1, 1, 0}, shift{0, 0, 0};
    for (const std::string& r :
         {record(0, true, 1.0, {}), record(1, true, 1.25, {}), record(3, false, 0, {dropout}),
          record(4, true, 7.0, {shift}), record(5, true, 7.04, {shift}), record(6, true, 1.0, {}),
          record(2, true, 1.0, {})})
        EXPECT_NE(store.add("d/0", r), layout_store::added::unreadable);
    store.finish();
    return store;
}

std::filesystem::path fresh_dir(const std::string& name) {
    const auto dir = temp_dir(name);
    std::filesystem::remove_all(dir);
    return dir;
}

} // namespace

TEST(LayoutRow, ReadsBackWhatItWrote) {
    const std::vector<layout_episode> live{{2, 3, 4}, {-1, injected_anomaly, 7}};
    const std::string bytes = record(9, true, 2.5, live);
    std::vector<double> values;
    std::vector<layout_episode> episodes;
    const auto row = read_layout_row(bytes, values, episodes);
    ASSERT_TRUE(row.has_value());
    EXPECT_EQ(row->seq, 9u);
    EXPECT_EQ(row->ts, test_start + 9000);
    EXPECT_TRUE(row->emitted);
    EXPECT_TRUE(row->is_anomaly);
    EXPECT_EQ(values, (std::vector<double>{2.5, 1.0}));
    EXPECT_EQ(episodes, live);
    EXPECT_FALSE(read_layout_row(bytes.substr(1), values, episodes).has_value());
    EXPECT_FALSE(read_layout_row("{\"device_id\":\"d\"}", values, episodes).has_value());
}

TEST(LayoutStore, OrdersRowsBySeqAndCountsEpisodes) {
    const layout_store store = six_rows();
    ASSERT_EQ(store.devices().size(), 1u);
    const device_series& d = store.devices()[0];
    EXPECT_EQ(d.id, "d/0");
    std::vector<std::uint64_t> seqs;
    for (const series_row& r : d.rows) seqs.push_back(r.seq);
    EXPECT_EQ(seqs, (std::vector<std::uint64_t>{0, 1, 2, 4, 5, 6})); // seq 3 sent nothing
    EXPECT_EQ(d.values, (std::vector<double>{1.0, 1.25, 1.0, 7.0, 7.04, 1.0})); // x only
    EXPECT_EQ(d.anomalous, (std::vector<std::uint8_t>{0, 0, 0, 1, 1, 0}));
    ASSERT_EQ(d.episodes.size(), 2u);
    EXPECT_EQ(d.episodes[0].first_seq, 3u); // the dropout: silenced, no message
    EXPECT_EQ(d.episodes[0].messages, 0u);
    EXPECT_EQ(d.row_at_or_after(3), 3u); // ... so it starts at the next row, seq 4
    EXPECT_EQ(d.episodes[1].first_seq, 4u);
    EXPECT_EQ(d.episodes[1].messages, 2u);
}

TEST(LayoutStore, RefusesRowsPastItsLimit) {
    layout_store store(two_field_profile(), 1);
    EXPECT_EQ(store.add("d/0", record(0, true, 1, {})), layout_store::added::row);
    EXPECT_EQ(store.add("d/0", record(1, false, 1, {})), layout_store::added::no_row);
    EXPECT_EQ(store.add("d/0", record(2, true, 1, {})), layout_store::added::full);
    EXPECT_EQ(store.rows(), 1u);
}

TEST(LayoutFiles, NamesKeepToAPortableAlphabet) {
    EXPECT_EQ(file_name_part("reefer-00042"), "reefer-00042");
    EXPECT_EQ(file_name_part("gw:1/a@b"), "gw%3A1%2Fa%40b");
    EXPECT_EQ(file_name_part(".."), "%2E.");
    EXPECT_EQ(file_name_part("é"), "%C3%A9");
    // Long names: 100 characters, then '~' and the FNV-1a hash of the whole name.
    EXPECT_EQ(file_name_part(std::string(200, 'a')), std::string(100, 'a') + "~96245CE14F7A5B0D");
    EXPECT_NE(file_name_part(std::string(200, 'a')), file_name_part(std::string(201, 'a')));
    EXPECT_EQ(file_name_part(std::string(99, 'a') + "/" + std::string(50, 'b')).substr(0, 100),
              std::string(99, 'a') + "~"); // the escape %2F is not cut
}

TEST(LayoutFiles, TimeEvalSeriesAndIndex) {
    const auto dir = fresh_dir("layout-timeeval");
    ASSERT_EQ(write_timeeval_layout(six_rows(), dir), "");
    EXPECT_EQ(read_file(dir / "g" / "d%2F0.csv"),
              "timestamp,x,is_anomaly\n"
              "2026-01-01T00:00:00.000Z,1.0,0\n"
              "2026-01-01T00:00:01.000Z,1.3,0\n" // 1.25 as messages print it
              "2026-01-01T00:00:02.000Z,1.0,0\n"
              "2026-01-01T00:00:04.000Z,7.0,1\n"
              "2026-01-01T00:00:05.000Z,7.0,1\n"
              "2026-01-01T00:00:06.000Z,1.0,0\n");
    // Contamination 2/6, one run of 2 rows; mean 18.3/6 and sample stddev of the written values.
    EXPECT_EQ(read_file(dir / "datasets.csv"),
              "collection_name,dataset_name,train_path,test_path,dataset_type,datetime_index,"
              "split_at,train_type,train_is_normal,input_type,length,dimensions,contamination,"
              "num_anomalies,min_anomaly_length,median_anomaly_length,max_anomaly_length,mean,"
              "stddev,trend,stationarity,period_size\n"
              "g,d/0,,g/d%2F0.csv,synthetic,True,,unsupervised,False,univariate,6,1,"
              "0.3333333333333333,1,2,2,2,3.0500000000000003,3.0618621784789726,,,\n");
    std::filesystem::remove_all(dir);
}

TEST(LayoutFiles, NabDataLabelsAndWindows) {
    const auto dir = fresh_dir("layout-nab");
    ASSERT_EQ(write_nab_layout(six_rows(), dir), "");
    EXPECT_EQ(read_file(dir / "data" / "g" / "d%2F0.x.csv"),
              "timestamp,value\n"
              "2026-01-01 00:00:00,1.0\n" // whole seconds: no fraction
              "2026-01-01 00:00:01,1.3\n"
              "2026-01-01 00:00:02,1.0\n"
              "2026-01-01 00:00:04,7.0\n"
              "2026-01-01 00:00:05,7.0\n"
              "2026-01-01 00:00:06,1.0\n");
    // Two episodes on x over 6 rows: share max(1, 6 / 20) = 1; both start at row 3 (the
    // dropout at the row after it): one onset, windows [3, 3] and [3, 4] merged.
    EXPECT_EQ(read_file(dir / "labels" / "combined_labels.json"),
              "{\n    \"g/d%2F0.x.csv\": [\n        \"2026-01-01 00:00:04\"\n    ]\n}\n");
    EXPECT_EQ(read_file(dir / "labels" / "combined_windows.json"),
              "{\n    \"g/d%2F0.x.csv\": [\n        [\n            \"2026-01-01 "
              "00:00:04.000000\",\n            \"2026-01-01 00:00:05.000000\"\n        ]\n    "
              "]\n}\n");
    std::filesystem::remove_all(dir);
}
