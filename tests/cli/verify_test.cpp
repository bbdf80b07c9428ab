// `synthfeed verify` on files: a clean run passes; lost, duplicated and reordered messages are
// found and counted exactly.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/test_support.hpp"

using namespace synthfeed::testing;
using json = nlohmann::json;

namespace {

struct dataset {
    std::filesystem::path dir;
    std::vector<std::string> data;
    std::string data_text, labels_path;
};

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

dataset make(const std::string& tag, const std::string& flags = "") {
    dataset d;
    d.dir = temp_dir(tag);
    d.labels_path = (d.dir / "labels").string();
    const auto r =
        run_synthfeed("run " + source_path("tests/golden/golden.toml") +
                      " --duration 20m --progress off --sink file:" + (d.dir / "data").string() +
                      " --labels " + d.labels_path + " " + flags);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    d.data_text = read_file(d.dir / "data");
    d.data = split_lines(d.data_text);
    return d;
}

json verify(const dataset& d, const std::string& data_text, int expected_exit,
            bool with_labels = true) {
    write_file(d.dir / "check", data_text);
    const auto r = run_synthfeed("verify file:" + (d.dir / "check").string() +
                                 (with_labels ? " --labels file:" + d.labels_path : "") +
                                 " --json " + (d.dir / "report.json").string());
    EXPECT_FALSE(r.crashed);
    EXPECT_EQ(r.exit_code, expected_exit) << r.out << r.err;
    return json::parse(read_file(d.dir / "report.json"));
}

std::string join(const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& l : lines) s += l + "\n";
    return s;
}

} // namespace

TEST(Verify, CleanRunPassesAndDropoutsAreNotLoss) {
    auto d = make("verify-clean");
    const auto r = verify(d, d.data_text, 0);
    EXPECT_EQ(r["messages"], d.data.size());
    EXPECT_EQ(r["missing"], 0);
    EXPECT_GT(r["labels"].get<std::size_t>(), d.data.size()); // silenced ticks are labelled too
    // Without labels the dropout gaps look like loss, and verify says so.
    const auto unlabelled = verify(d, d.data_text, 1, false);
    EXPECT_GT(unlabelled["missing"].get<int>(), 0);
    std::filesystem::remove_all(d.dir);
}

TEST(Verify, CountsLossDuplicatesAndReorderingExactly) {
    auto d = make("verify-tamper");
    auto lines = d.data;
    ASSERT_GT(lines.size(), 1000u);
    lines.erase(lines.begin() + 500, lines.begin() + 507); // lose 7
    lines.push_back(lines[100]);                           // duplicate 1 (also out of order)
    lines.push_back(lines[200]);                           // duplicate 1 (also out of order)
    const auto r = verify(d, join(lines), 1);
    EXPECT_EQ(r["missing"], 7);
    EXPECT_EQ(r["duplicates"], 2);
    EXPECT_EQ(r["out_of_order"], 2);
    std::filesystem::remove_all(d.dir);
}

TEST(Verify, ReadsCsvPayloadsAndCsvLabels) {
    auto d = make("verify-csv", "--format csv --labels-format csv");
    EXPECT_TRUE(d.data[0].starts_with("device_id,seq,ts,"));
    const auto r = verify(d, d.data_text, 0);
    EXPECT_EQ(r["messages"], d.data.size() - 1); // the header is not a message
    std::filesystem::remove_all(d.dir);
}
