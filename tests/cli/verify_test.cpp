// `synthfeed verify` on files: a clean run passes; lost, duplicated and reordered messages are
// found and counted exactly; with labels, the transport faults they announce (ingestion-torture
// profile) are explained and pass, while tampering the labels do not explain still fails.
#include <gtest/gtest.h>

#include <map>
#include <set>

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

dataset make(const std::string& tag, const std::string& flags = "",
             const std::string& profile = "tests/golden/golden.toml",
             const std::string& duration = "20m") {
    dataset d;
    d.dir = temp_dir(tag);
    d.labels_path = (d.dir / "labels").string();
    const auto r = run_synthfeed("run " + source_path(profile) + " --duration " + duration +
                                 " --progress off --sink file:" + (d.dir / "data").string() +
                                 " --labels " + d.labels_path + " " + flags);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    d.data_text = read_file(d.dir / "data");
    d.data = split_lines(d.data_text);
    return d;
}

json verify(const dataset& d, const std::string& data_text, int expected_exit,
            bool with_labels = true, const std::string& flags = "") {
    const bool untouched = &data_text == &d.data_text; // no need to write a copy
    if (!untouched) write_file(d.dir / "check", data_text);
    const auto r =
        run_synthfeed("verify file:" + (d.dir / (untouched ? "data" : "check")).string() +
                      (with_labels ? " --labels file:" + d.labels_path : "") + " --json " +
                      (d.dir / "report.json").string() + " " + flags);
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

namespace {

const std::string torture_profile = "profiles/ingestion_torture.toml";

/// The torture run's data and labels, made once (10 simulated minutes, ~300k messages) and
/// removed at exit.
const dataset& torture() {
    static const struct owned {
        dataset d = make("verify-torture", "", torture_profile, "10m");
        ~owned() { std::filesystem::remove_all(d.dir); }
    } run;
    return run.d;
}

/// The first data line at or after `from` of a torture message whose label carries no fault:
/// removing, duplicating or moving it is nothing the labels explain.
std::size_t plain_message_line(std::size_t from) {
    static const auto plain = [] {
        std::set<std::pair<std::string, std::uint64_t>> out;
        for (const auto& line : lines(read_file(torture().labels_path))) {
            const auto l = json::parse(line);
            if (l["emitted"] == true && l["faults"].empty())
                out.insert({l["device_id"].get<std::string>(), l["seq"].get<std::uint64_t>()});
        }
        return out;
    }();
    const auto& data = torture().data;
    for (std::size_t i = from; i < data.size(); ++i) {
        const auto m = json::parse(data[i], nullptr, false);
        if (!m.is_discarded() &&
            plain.count({m["device_id"].get<std::string>(), m["seq"].get<std::uint64_t>()}))
            return i;
    }
    ADD_FAILURE() << "no fault-free message after line " << from;
    return from;
}

void expect_nothing_unexplained(const json& r) {
    EXPECT_EQ(r["unexplained"]["missing"], 0) << r.dump(2);
    EXPECT_EQ(r["unexplained"]["duplicates"], 0) << r.dump(2);
    EXPECT_EQ(r["unexplained"]["out_of_order"], 0) << r.dump(2);
    EXPECT_EQ(r["unexplained"]["unparsable"], 0) << r.dump(2);
    EXPECT_EQ(r["unlabelled"], 0);
    EXPECT_EQ(r["silenced_but_present"], 0);
}

} // namespace

TEST(VerifyFaults, TortureOutputPassesWithItsLabelsAndEveryFaultIsExplained) {
    const auto& d = torture();
    // What the labels announce, counted independently of verify.
    std::uint64_t malformed_lines = 0, malformed_ticks = 0, dropped = 0;
    for (const auto& line : lines(read_file(d.labels_path))) {
        const auto l = json::parse(line);
        std::set<std::string> faults;
        for (const auto& f : l["faults"]) faults.insert(f.get<std::string>());
        if (l["emitted"] == false) dropped += faults.count("dropped");
        if (l["emitted"] == true && faults.count("malformed")) {
            ++malformed_ticks;
            malformed_lines += faults.count("duplicate") ? 2 : 1;
        }
    }
    std::uint64_t invalid = 0; // lines that are not a complete JSON object
    for (const auto& line : d.data) invalid += json::parse(line, nullptr, false).is_discarded();
    ASSERT_GT(malformed_ticks, 0u);

    const auto r = verify(d, d.data_text, 0, true, "--strict-order");
    EXPECT_TRUE(r["ok"].get<bool>());
    EXPECT_EQ(r["messages"].get<std::uint64_t>() + r["unparsable"].get<std::uint64_t>(),
              d.data.size());
    // Strict parsing: every truncated payload is unparsable, even with a complete seq inside.
    EXPECT_EQ(r["unparsable"], invalid);
    EXPECT_EQ(r["unparsable"], malformed_lines);
    const auto& e = r["explained"];
    EXPECT_GT(e["duplicates"].get<std::uint64_t>(), 0u);
    EXPECT_GT(e["reordered"].get<std::uint64_t>(), 0u);
    EXPECT_EQ(e["duplicates"], r["duplicates"]);
    EXPECT_EQ(e["reordered"], r["out_of_order"]);
    EXPECT_EQ(e["unparsable"], malformed_lines);
    EXPECT_EQ(e["malformed"], malformed_ticks);
    EXPECT_EQ(r["missing"], malformed_ticks); // the only seqs absent: their payload did not parse
    EXPECT_GT(dropped, 0u);
    EXPECT_EQ(e["dropped"], dropped);
    expect_nothing_unexplained(r);
    EXPECT_TRUE(r["worst_devices"].empty());
}

TEST(VerifyFaults, TortureOutputFailsWithoutLabels) {
    const auto& d = torture();
    const auto r = verify(d, d.data_text, 1, false);
    EXPECT_FALSE(r["ok"].get<bool>());
    EXPECT_GT(r["duplicates"].get<std::uint64_t>(), 0u);
    EXPECT_GT(r["unparsable"].get<std::uint64_t>(), 0u);
    EXPECT_GT(r["missing"].get<std::uint64_t>(), 0u); // dropped seqs are gaps
    EXPECT_EQ(r["explained"]["duplicates"], 0);
    EXPECT_EQ(r["unexplained"]["duplicates"], r["duplicates"]);
}

TEST(VerifyFaults, LosingAFaultFreeMessageFailsDespiteLabels) {
    const auto& d = torture();
    auto data = d.data;
    data.erase(data.begin() + static_cast<std::ptrdiff_t>(plain_message_line(1000)));
    const auto r = verify(d, join(data), 1);
    EXPECT_EQ(r["unexplained"]["missing"], 1);
    EXPECT_EQ(r["unexplained"]["duplicates"], 0);
    EXPECT_EQ(r["unexplained"]["unparsable"], 0);
    ASSERT_EQ(r["worst_devices"].size(), 1u);
    EXPECT_EQ(r["worst_devices"][0]["missing"], 1);
}

TEST(VerifyFaults, DuplicatingAFaultFreeMessageFailsDespiteLabels) {
    const auto& d = torture();
    auto data = d.data;
    const auto at = plain_message_line(2000);
    data.insert(data.begin() + static_cast<std::ptrdiff_t>(at) + 1, data[at]); // right after
    const auto r = verify(d, join(data), 1);
    EXPECT_EQ(r["unexplained"]["duplicates"], 1);
    EXPECT_EQ(r["unexplained"]["missing"], 0);
    EXPECT_EQ(r["unexplained"]["out_of_order"], 0);
}

TEST(VerifyFaults, TruncatingAFaultFreeMessageIsUnparsableAndUnexplained) {
    const auto& d = torture();
    auto data = d.data;
    auto& line = data[plain_message_line(3000)];
    line.resize(line.find(",\"ts\"") + 1); // the seq is complete, the object is not
    const auto r = verify(d, join(data), 1);
    EXPECT_EQ(r["unexplained"]["unparsable"], 1);
    EXPECT_EQ(r["unexplained"]["missing"], 1);
    EXPECT_EQ(r["unexplained"]["duplicates"], 0);
}

TEST(VerifyFaults, ReorderingFaultFreeMessagesIsUnexplained) {
    const auto& d = torture();
    auto data = d.data;
    // Move a fault-free message past the next 20 000 lines, well after its device's next one.
    const auto at = plain_message_line(4000);
    const std::string moved = data[at];
    data.erase(data.begin() + static_cast<std::ptrdiff_t>(at));
    data.insert(data.begin() + static_cast<std::ptrdiff_t>(at) + 20000, moved);
    const auto lenient = verify(d, join(data), 0); // reordering alone fails only when strict
    EXPECT_EQ(lenient["unexplained"]["out_of_order"], 1);
    EXPECT_EQ(lenient["unexplained"]["missing"], 0);
    const auto strict = verify(d, join(data), 1, true, "--strict-order");
    EXPECT_EQ(strict["unexplained"]["out_of_order"], 1);
    EXPECT_EQ(strict["explained"]["reordered"].get<std::uint64_t>() + 1, strict["out_of_order"]);
}

TEST(VerifyFaults, CsvLabelsExplainTheSameFaults) {
    auto d = make("verify-torture-csv", "--labels-format csv", torture_profile, "10m");
    EXPECT_TRUE(read_file(d.labels_path)
                    .starts_with("device_id,seq,ts,is_anomaly,label,episodes,"
                                 "emitted,faults\n"));
    EXPECT_EQ(d.data_text, torture().data_text); // the labels' format never changes the data
    const auto csv = verify(d, d.data_text, 0, true, "--strict-order");
    const auto jsonl = verify(torture(), d.data_text, 0, true, "--strict-order");
    EXPECT_EQ(csv["explained"], jsonl["explained"]);
    EXPECT_EQ(csv["labels"], jsonl["labels"]);
    expect_nothing_unexplained(csv);
    // Tampering is caught with CSV labels too.
    auto data = d.data;
    const auto at = plain_message_line(5000);
    data.insert(data.begin() + static_cast<std::ptrdiff_t>(at), data[at]);
    const auto tampered = verify(d, join(data), 1);
    EXPECT_EQ(tampered["unexplained"]["duplicates"], 1);
    std::filesystem::remove_all(d.dir);
}

TEST(VerifyFaults, ReorderingIsExplainedOnlyWhenItInvolvesAFaultyTick) {
    // Hand-made: device "d", seqs 0..5, and the faults each scenario's labels announce.
    dataset d;
    d.dir = temp_dir("verify-reorder-rules");
    d.labels_path = (d.dir / "labels").string();
    const auto message = [](int seq) {
        return "{\"device_id\":\"d\",\"seq\":" + std::to_string(seq) + ",\"x\":1}";
    };
    const auto check = [&](const std::vector<int>& arrivals,
                           const std::map<int, std::string>& faults, int explained, int unexplained,
                           int duplicates_unexplained = 0) {
        std::string labels;
        for (int s = 0; s <= 5; ++s) {
            const auto f = faults.count(s) ? "\"" + faults.at(s) + "\"" : "";
            labels += "{\"device_id\":\"d\",\"seq\":" + std::to_string(s) +
                      ",\"label\":\"normal\",\"emitted\":true,\"faults\":[" + f + "]}\n";
        }
        write_file(d.labels_path, labels);
        std::string data;
        for (int s : arrivals) data += message(s) + "\n";
        const auto r = verify(d, data, (unexplained + duplicates_unexplained) > 0 ? 1 : 0, true,
                              "--strict-order");
        EXPECT_EQ(r["explained"]["reordered"], explained) << data;
        EXPECT_EQ(r["unexplained"]["out_of_order"], unexplained) << data;
        EXPECT_EQ(r["unexplained"]["duplicates"], duplicates_unexplained) << data;
    };
    check({0, 1, 2, 3, 4, 5}, {}, 0, 0);
    check({0, 2, 1, 3, 4, 5}, {}, 0, 1);                          // nothing announced
    check({0, 2, 1, 3, 4, 5}, {{1, "out_of_order"}}, 1, 0);       // 1 was held back
    check({0, 2, 3, 4, 1, 5}, {{1, "late"}}, 1, 0);               // 1 was held back longer
    check({0, 2, 1, 3, 4, 5}, {{2, "out_of_order"}}, 1, 0);       // 2, a faulty tick, went ahead
    check({0, 2, 3, 1, 4, 5}, {{3, "out_of_order"}}, 0, 1);       // 2 went ahead, and it is plain
    check({0, 1, 2, 3, 2, 4, 5}, {{2, "duplicate"}}, 1, 0);       // a duplicate's late copy
    check({0, 2, 1, 1, 3, 4, 5}, {{1, "duplicate"}}, 1, 1);       // 1 is late before its copy is
    check({0, 1, 2, 3, 2, 4, 5}, {{2, "schema_drift"}}, 0, 1, 1); // not a transport fault
    std::filesystem::remove_all(d.dir);
}

TEST(VerifyFaults, UnparsableLinesAreMatchedToMalformedTicksByCount) {
    dataset d;
    d.dir = temp_dir("verify-malformed-rules");
    d.labels_path = (d.dir / "labels").string();
    // seq 1 is malformed, seq 2 malformed and duplicated: three truncated lines in all.
    write_file(d.labels_path,
               "{\"device_id\":\"d\",\"seq\":0,\"emitted\":true,\"faults\":[]}\n"
               "{\"device_id\":\"d\",\"seq\":1,\"emitted\":true,\"faults\":[\"malformed\"]}\n"
               "{\"device_id\":\"d\",\"seq\":2,\"emitted\":true,\"faults\":[\"malformed\","
               "\"duplicate\"]}\n"
               "{\"device_id\":\"d\",\"seq\":3,\"emitted\":true,\"faults\":[]}\n");
    const std::string first = "{\"device_id\":\"d\",\"seq\":0,\"x\":1}\n";
    const std::string last = "{\"device_id\":\"d\",\"seq\":3,\"x\":1}\n";
    const std::string cut1 = "{\"device_id\":\"d\",\"seq\":1,\"x\"\n"; // keeps a whole seq
    const std::string cut2 = "{\"device_id\":\"d\",\"seq\":2\n";
    auto r = verify(d, first + cut1 + cut2 + cut2 + last, 0);
    EXPECT_EQ(r["unparsable"], 3);
    EXPECT_EQ(r["explained"]["unparsable"], 3);
    EXPECT_EQ(r["explained"]["malformed"], 2);
    r = verify(d, first + cut1 + cut2 + last, 0); // a duplicate copy fewer is no loss
    EXPECT_EQ(r["unexplained"]["missing"], 0);
    r = verify(d, first + cut2 + last, 1); // a malformed tick's only line lost
    EXPECT_EQ(r["unexplained"]["missing"], 1);
    r = verify(d, first + cut1 + cut2 + cut2 + "{\"device_id\":\"d\"\n" + last, 1); // one too many
    EXPECT_EQ(r["unexplained"]["unparsable"], 1);
    std::filesystem::remove_all(d.dir);
}
