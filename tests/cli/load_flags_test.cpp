// Load and fleet from the command line, through the binary: --stage against the [load] table
// it stands for, --devices against the counts written in the profile, --pad-to in every
// format, and what the start line and `validate` say about the fleet and the load.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "tests/test_support.hpp"

using namespace synthfeed::testing;
using json = nlohmann::json;

namespace {

const std::string cold_chain = source_path("profiles/cold_chain.toml");
const std::string factory_line = source_path("profiles/factory_line.toml");

/// A shipped profile's text with each `from` replaced by its `to` (counts written otherwise).
std::string edited(const std::string& path,
                   const std::vector<std::pair<std::string, std::string>>& replacements) {
    std::string text = read_file(path);
    for (const auto& [from, to] : replacements) {
        const auto at = text.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        if (at != std::string::npos) text.replace(at, from.size(), to);
    }
    return text;
}

/// A profile written to a fresh directory, removed with it at the end of the test.
class profile_file {
  public:
    profile_file(const std::string& name, const std::string& text)
        : dir_(temp_dir("load-flags-" + name)) {
        write_file(dir_ / "p.toml", text);
    }
    ~profile_file() { std::filesystem::remove_all(dir_); }
    std::string path() const { return (dir_ / "p.toml").string(); }

  private:
    std::filesystem::path dir_;
};

/// The devices of each group (named by the ids' prefix) in JSON lines: data or labels.
std::map<std::string, std::set<std::string>> devices_by_prefix(const std::string& jsonl) {
    std::map<std::string, std::set<std::string>> out;
    for (const auto& line : lines(jsonl)) {
        const std::string id = json::parse(line)["device_id"];
        out[id.substr(0, id.find('-'))].insert(id);
    }
    return out;
}

/// The line of `text` that starts with `prefix` (after a log line's timestamp and level).
std::string line_with(const std::string& text, const std::string& prefix) {
    for (const auto& line : lines(text))
        if (const auto at = line.find(prefix); at != std::string::npos) return line.substr(at);
    return "";
}

} // namespace

TEST(LoadFlags, StageGivesTheScheduleOfTheEquivalentLoadTable) {
    const profile_file table_file("table", read_file(cold_chain) +
                                               "\n[load]\nshape = \"stages\"\nstages = [{ duration "
                                               "= \"500ms\", target = 4000 }, { duration = \"0s\", "
                                               "target = 2000 }]\n");
    const std::string with_table = table_file.path(), without = cold_chain;
    const std::string stages = " --stage 500ms:4000 --stage 0s:2000";
    // Both read as one load.
    const auto shown_table = run_synthfeed("validate " + with_table);
    const auto shown_flags = run_synthfeed("validate " + without + stages);
    ASSERT_EQ(shown_table.exit_code, 0) << shown_table.err;
    ASSERT_EQ(shown_flags.exit_code, 0) << shown_flags.err;
    EXPECT_EQ(line_with(shown_table.out, "load:"), "load: stages 500ms→4000/s, 0s→2000/s");
    EXPECT_EQ(line_with(shown_flags.out, "load:"), line_with(shown_table.out, "load:"));
    // And run as one: by the wall clock, 0 → 4000/s over 0.5 s, then 2000/s, is exactly
    // 1000 + 2000 messages due in 1.5 s (integer accounting, as for --rate): sent, or counted
    // as shortfall when a loaded machine could not keep up by the hard stop.
    auto generated = [](const std::string& profile, const std::string& flags) {
        const auto dir = temp_dir("stage-run");
        const auto r = run_synthfeed("run " + profile +
                                     " --run-for 1500ms --progress off --sink null: "
                                     "--summary-json " +
                                     (dir / "s.json").string() + flags);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_NE(r.err.find("load: stages 500ms→4000/s, 0s→2000/s"), std::string::npos) << r.err;
        const auto s = json::parse(read_file(dir / "s.json"));
        std::filesystem::remove_all(dir);
        return s["messages_generated"].get<std::uint64_t>() + s["shortfall"].get<std::uint64_t>();
    };
    EXPECT_EQ(generated(with_table, ""), 3000u);
    EXPECT_EQ(generated(without, stages), 3000u);
    // k6's comma-separated form is the same list.
    const auto commas = run_synthfeed("validate " + without + " --stage 500ms:4000,0s:2000");
    EXPECT_EQ(line_with(commas.out, "load:"), line_with(shown_table.out, "load:"));
}

TEST(LoadFlags, DevicesScalesTheFleetIdenticallyForAnyThreadCount) {
    // Gateways (10) and the presses behind them (200): states, a shared driver, cascades.
    const std::string flags = "--duration 3m --devices 105";
    const auto one = run_to_files(factory_line, flags + " --threads 1", "dev1");
    const auto two = run_to_files(factory_line, flags + " --threads 2", "dev2");
    ASSERT_EQ(one.exit_code, 0);
    ASSERT_FALSE(one.data.empty());
    EXPECT_TRUE(one.data == two.data);
    EXPECT_TRUE(one.labels == two.labels);
    EXPECT_EQ(one.episodes, two.episodes);
    // 10:200 scaled to 105 is exactly 5:100.
    const auto devices = devices_by_prefix(one.labels);
    EXPECT_EQ(devices.at("gw").size(), 5u);
    EXPECT_EQ(devices.at("press").size(), 100u);
    // The same bytes as the profile with 5 and 100 written in it.
    const profile_file written_file("written",
                                    edited(factory_line, {{"count    = 10\n", "count    = 5\n"},
                                                          {"count    = 200 ", "count    = 100 "}}));
    const auto written = run_to_files(written_file.path(), "--duration 3m", "written");
    EXPECT_TRUE(written.data == one.data);
    EXPECT_TRUE(written.labels == one.labels);
    EXPECT_EQ(written.episodes, one.episodes);
}

TEST(LoadFlags, DevicesSetsNamedGroupsAndShowsTheFleet) {
    const auto r = run_synthfeed("validate " + factory_line + " --devices gateways=3");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(", 203 devices, 200 msg/s nominal"), std::string::npos) << r.out;
    EXPECT_EQ(line_with(r.out, "fleet:"), "fleet: gateways 3 every 30s, presses 200 every 1s");
    EXPECT_EQ(line_with(r.out, "load:"), "load: none (each device at its interval, paced by "
                                         "--speed)");
    const auto both =
        run_synthfeed("validate " + factory_line + " --devices 60 --devices gateways=20");
    EXPECT_EQ(line_with(both.out, "fleet:"), "fleet: gateways 20 every 30s, presses 40 every 1s");
}

TEST(LoadFlags, PadToPadsEveryFormatAndLeavesLongerPayloads) {
    const std::string flags = " --count 200 --progress off --start 2026-01-01T00:00:00Z";
    const auto json_run = run_synthfeed("run " + cold_chain + flags + " --pad-to 300");
    ASSERT_EQ(json_run.exit_code, 0) << json_run.err;
    const auto plain = lines(run_synthfeed("run " + cold_chain + flags).out);
    const auto padded = lines(json_run.out);
    ASSERT_EQ(padded.size(), plain.size());
    for (std::size_t i = 0; i < padded.size(); ++i) {
        ASSERT_EQ(padded[i].size(), 300u) << padded[i];
        // The message as it was, with one last member of letters.
        const json m = json::parse(padded[i]);
        ASSERT_EQ(m.size(), json::parse(plain[i]).size() + 1) << padded[i];
        const std::string pad = m["pad"];
        ASSERT_EQ(pad.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), std::string::npos);
        ASSERT_EQ(padded[i].substr(0, plain[i].size() - 1),
                  plain[i].substr(0, plain[i].size() - 1));
    }
    // Already longer: left as it is.
    EXPECT_EQ(run_synthfeed("run " + cold_chain + flags + " --pad-to 20").out,
              run_synthfeed("run " + cold_chain + flags).out);

    const auto csv =
        lines(run_synthfeed("run " + cold_chain + flags + " --format csv --pad-to 300").out);
    ASSERT_EQ(csv.size(), 201u);
    EXPECT_TRUE(csv[0].ends_with(",pad")) << csv[0];
    const auto columns = std::count(csv[0].begin(), csv[0].end(), ',');
    for (std::size_t i = 1; i < csv.size(); ++i) {
        ASSERT_EQ(csv[i].size(), 300u) << csv[i];
        ASSERT_EQ(std::count(csv[i].begin(), csv[i].end(), ','), columns) << csv[i];
    }
    // A CSV row keeps the column even when it is long enough already: an empty cell.
    for (const auto& row :
         lines(run_synthfeed("run " + cold_chain + flags + " --format csv --pad-to 20").out))
        ASSERT_EQ(std::count(row.begin(), row.end(), ','), columns) << row;

    const auto influx =
        lines(run_synthfeed("run " + cold_chain + flags + " --format influx --pad-to 300").out);
    ASSERT_EQ(influx.size(), 200u);
    for (const auto& line : influx) {
        ASSERT_EQ(line.size(), 300u) << line;
        const auto pad = line.find(",pad=\"");
        ASSERT_NE(pad, std::string::npos) << line;
        // A string field, the last before the timestamp.
        const auto close = line.find('"', pad + 6);
        ASSERT_EQ(line.find(' ', close), close + 1) << line;
    }
}

TEST(LoadFlags, PadKeyStepsAsideForAFieldNamedPad) {
    const profile_file file("padfield", "name = \"p\"\n[[group]]\nname = \"g\"\n[[group.field]]\n"
                                        "name = \"pad\"\nsignal = { kind = \"constant\", value = 1 "
                                        "}\n");
    const auto r = run_synthfeed("run " + file.path() + " --count 3 --progress off --pad-to 120");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const auto& line : lines(r.out)) {
        const json m = json::parse(line);
        EXPECT_TRUE(m.contains("pad") && m.contains("pad_2")) << line;
    }
}

TEST(LoadFlags, ALiveTargetAboveTheFleetsCadenceIsNamedAtTheStart) {
    const std::string run = "run " + cold_chain + " --progress off --sink null: ";
    // 2000 devices at 1 s: 2000 msg/s nominal.
    const auto fast = run_synthfeed(run + "--rate 50000 --run-for 100ms");
    ASSERT_EQ(fast.exit_code, 0) << fast.err;
    EXPECT_NE(fast.err.find("fleet: reefer 2000 every 1s; load: constant 50000/s"),
              std::string::npos)
        << fast.err;
    EXPECT_NE(fast.err.find("warning: target 50000 msg/s is 25x the fleet's nominal 2000 msg/s at "
                            "1x: event time will run ahead of the wall clock; use --devices 50000 "
                            "to keep timestamps real"),
              std::string::npos)
        << fast.err;
    const auto staged = run_synthfeed(run + "--stage 1s:1000,1s:8000 --run-for 100ms");
    EXPECT_NE(staged.err.find("warning: target 8000 msg/s at its peak is 4x"), std::string::npos)
        << staged.err;
    // The fleet that keeps up, a target within it, or a run that is not live: nothing to say.
    for (const std::string flags : {"--rate 50000 --devices 50000 --run-for 100ms",
                                    "--rate 1500 --run-for 100ms", "--rate 50000 --count 1000"}) {
        const auto quiet = run_synthfeed(run + flags);
        EXPECT_EQ(quiet.exit_code, 0) << quiet.err;
        EXPECT_EQ(quiet.err.find("warning"), std::string::npos) << flags << ": " << quiet.err;
    }
}
