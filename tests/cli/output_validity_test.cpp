// Every byte valid (issue #13): escaping, number and time domains per format, topics after
// expansion, user lists, flag ranges, and failures that say why. Each case runs the real
// binary and parses what it wrote with a strict reader, or checks the refusal (exit 2, a
// located and short message).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "src/telemetry/control_api.hpp"
#include "tests/test_support.hpp"

using namespace synthfeed::testing;

namespace {

/// A one-group profile: `group_lines` after [[group]] (count, id, ...), then field tables.
std::string profile_with(const std::string& group_lines, const std::string& rest) {
    return "name = \"t\"\nseed = 7\nstart = \"2026-01-01T00:00:00Z\"\n[[group]]\n" + group_lines +
           "\n" + rest + "\n";
}

const std::string constant_field =
    "[[group.field]]\nname = \"x\"\nsignal = { kind = \"constant\", value = 1.0 }\n";

std::filesystem::path write_profile(const std::string& tag, const std::string& text) {
    const auto path = temp_dir("validity-" + tag) / "p.toml";
    write_file(path, text);
    return path;
}

/// RFC 8259 parsing that refuses duplicate keys (nlohmann would keep the last silently); NaN
/// and Infinity are not JSON, and nlohmann refuses them too.
nlohmann::json strict_json(const std::string& line) {
    using event = nlohmann::json::parse_event_t;
    std::vector<std::set<std::string>> open;
    return nlohmann::json::parse(line, [&](int, event e, nlohmann::json& v) {
        if (e == event::object_start) {
            open.emplace_back();
        } else if (e == event::object_end) {
            open.pop_back();
        } else if (e == event::key && !open.back().insert(v.get<std::string>()).second) {
            throw std::runtime_error("duplicate key " + v.dump() + " in " + line);
        }
        return true;
    });
}

/// RFC 4180 cells of one record (no embedded line breaks: the loader refuses them).
std::vector<std::string> csv_cells(const std::string& line) {
    std::vector<std::string> cells(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                cells.back() += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                cells.back() += c;
            }
        } else if (c == '"' && cells.back().empty()) {
            quoted = true;
        } else if (c == ',') {
            cells.emplace_back();
        } else {
            EXPECT_NE(c, '"') << "a bare quote inside an unquoted cell: " << line;
            cells.back() += c;
        }
    }
    EXPECT_FALSE(quoted) << "unterminated quoted cell: " << line;
    return cells;
}

bool has_nul(const std::string& s) {
    return s.find('\0') != std::string::npos;
}

// 1. MQTT topics after expansion: '+' and '#' from the id template, refused before connecting.
TEST(OutputValidity, MqttTopicCheckedAfterExpansion) {
    const auto path = write_profile(
        "mqtt", profile_with("name = \"g\"\ncount = 2\nid = \"room+{index}#a\"", constant_field));
    const std::string sink = "'mqtt://127.0.0.1:1/fleet/{device_id}?qos=1'";
    for (const std::string& command :
         {"run " + path.string() + " --count 2 --progress off --sink " + sink,
          "validate " + path.string() + " --sink " + sink}) {
        const auto r = run_synthfeed(command);
        EXPECT_EQ(r.exit_code, 2) << command << "\n" << r.err;
        EXPECT_NE(r.err.find("device \"room+0#a\""), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("holds '+'"), std::string::npos) << r.err;
        EXPECT_EQ(r.err.find("Connection refused"), std::string::npos) << "connected first";
    }
    // The same ids under a fixed topic are fine: only addresses built from them are checked.
    EXPECT_EQ(
        run_synthfeed("validate " + path.string() + " --sink mqtt://127.0.0.1:1/fleet/{group}")
            .exit_code,
        0);
}

// 2. Kafka topics after expansion: [a-zA-Z0-9._-], at most 249 characters.
TEST(OutputValidity, KafkaTopicCheckedAfterExpansion) {
    const auto bad_chars =
        write_profile("kafka", profile_with("name = \"g\"\ncount = 2\nid = \"site:a/{index}@x\"",
                                            constant_field));
    auto r = run_synthfeed("run " + bad_chars.string() +
                           " --count 2 --progress off --sink 'kafka://embedded/t-{device_id}'");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("\"t-site:a/0@x\" holds ':'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("[a-zA-Z0-9._-]"), std::string::npos) << r.err;

    // Only the last device's id (index 999) makes the topic too long.
    const auto long_ids =
        write_profile("kafka-long", profile_with("name = \"g\"\ncount = 1000\nid = \"" +
                                                     std::string(247, 'd') + "{index}\"",
                                                 constant_field));
    r = run_synthfeed("validate " + long_ids.string() + " --sink 'kafka://embedded/{device_id}'");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("is 250 bytes long"), std::string::npos) << r.err;
    EXPECT_LT(r.err.size(), 1000u) << "a long id is shortened in the message";
}

// 3. Wide numbers: exponent notation equal to the value, never bytes of an unwritten slot.
TEST(OutputValidity, WideNumbersUseExponentNotation) {
    const auto path = write_profile(
        "wide",
        profile_with("name = \"g\"\ncount = 2\nid = \"d-{index}\"",
                     "[[group.field]]\nname = \"big\"\nsignal = { kind = \"constant\", value = "
                     "1.0e30 }\n[[group.field]]\nname = \"wide\"\nprecision = 9\nsignal = { "
                     "kind = \"constant\", value = 1.0e22 }\n[[group.field]]\nname = "
                     "\"fits\"\nprecision = 9\nsignal = { kind = \"constant\", value = -9.5e20 "
                     "}\n[[group.field]]\nname = \"n\"\ntype = \"int\"\nsignal = { kind = "
                     "\"constant\", value = 1.0e19 }\n"));
    const auto json = run_to_files(path.string(), "--count 20", "wide-json");
    ASSERT_EQ(json.exit_code, 0);
    EXPECT_FALSE(has_nul(json.data));
    for (const auto& line : lines(json.data)) {
        const auto j = strict_json(line);
        EXPECT_EQ(j["big"].get<double>(), 1.0e30) << line;
        EXPECT_EQ(j["wide"].get<double>(), 1.0e22) << line;
        EXPECT_EQ(j["fits"].get<double>(), -9.5e20) << line;
        EXPECT_EQ(j["n"].get<double>(), 1.0e19) << line;
    }
    const auto csv = run_to_files(path.string(), "--count 20 --format csv", "wide-csv");
    EXPECT_FALSE(has_nul(csv.data));
    const auto rows = lines(csv.data);
    ASSERT_EQ(rows.size(), 21u);
    for (std::size_t i = 1; i < rows.size(); ++i) {
        const auto cells = csv_cells(rows[i]);
        ASSERT_EQ(cells.size(), 7u) << rows[i];
        EXPECT_EQ(std::stod(cells[3]), 1.0e30);
        EXPECT_EQ(std::stod(cells[4]), 1.0e22);
    }
    const auto influx = run_to_files(path.string(), "--count 20 --format influx", "wide-influx");
    EXPECT_FALSE(has_nul(influx.data));
    for (const auto& line : lines(influx.data)) {
        EXPECT_NE(line.find(" big=1e+30,wide=1e+22,"), std::string::npos) << line;
        // 1e19 is beyond int64: line protocol cannot hold it as an integer, so it is left out.
        EXPECT_EQ(line.find("n="), std::string::npos) << line;
    }
}

// 4. Non-finite values: JSON null, an empty CSV cell, a field left out of the line protocol.
TEST(OutputValidity, NonFiniteValuesPerFormat) {
    const auto path = write_profile(
        "inf", profile_with("name = \"g\"\ncount = 1\nid = \"d-{index}\"\ninterval = \"1s\"",
                            "[[group.field]]\nname = \"aging\"\nsignal = { kind = \"constant\", "
                            "value = 1.0 }\ndrift = { kind = \"exponential\", scale = 1, tau = "
                            "\"1s\" }\n[[group.field]]\nname = \"y\"\nsignal = { kind = "
                            "\"constant\", value = 2.0 }\n"));
    const auto json = run_to_files(path.string(), "--duration 12m", "inf-json");
    ASSERT_EQ(json.exit_code, 0);
    std::size_t nulls = 0;
    for (const auto& line : lines(json.data)) nulls += strict_json(line)["aging"].is_null();
    EXPECT_GT(nulls, 5u) << "e^(t/1s) overflows after ~710 s";

    const auto csv = run_to_files(path.string(), "--duration 12m --format csv", "inf-csv");
    std::size_t empty = 0;
    for (const auto& row : lines(csv.data)) {
        const auto cells = csv_cells(row);
        ASSERT_EQ(cells.size(), 5u) << row;
        EXPECT_NE(cells[3], "null");
        empty += cells[3].empty();
    }
    EXPECT_EQ(empty, nulls);

    const auto influx = run_to_files(path.string(), "--duration 12m --format influx", "inf-lp");
    std::size_t without = 0;
    for (const auto& line : lines(influx.data)) {
        EXPECT_EQ(line.find("null"), std::string::npos) << line;
        EXPECT_EQ(line.find("inf"), std::string::npos) << line;
        EXPECT_NE(line.find("y=2.000,seq="), std::string::npos) << line;
        without += line.find("aging=") == std::string::npos;
    }
    EXPECT_EQ(without, nulls);
}

const std::string hostile_states =
    "[[group.field]]\nname = \"s\"\nsignal = { kind = \"states\", states = ['say \"hi\"', "
    "'back\\slash', \"open, partly\", 'uni \u00e9'], dwell = [\"1s..2s\", \"1s..2s\", "
    "\"1s..2s\", \"1s..2s\"], next = [[0, 0.4, 0.3, 0.3], [0.4, 0, 0.3, 0.3], [0.3, 0.3, 0, "
    "0.4], [0.3, 0.3, 0.4, 0]] }\n";
const std::set<std::string> hostile_values = {"say \"hi\"", "back\\slash", "open, partly",
                                              "uni \u00e9"};

// 5. JSON strings: every text value escaped (RFC 8259); control characters refused at load.
TEST(OutputValidity, JsonEscapesProfileText) {
    const auto path = write_profile(
        "json",
        profile_with("name = \"say \\\"g\\\"\"\ncount = 2\nid = \"d-{index}\"", hostile_states));
    const auto o = run_to_files(path.string(), "--count 200 --label-in-payload", "json-text");
    ASSERT_EQ(o.exit_code, 0);
    std::set<std::string> seen;
    for (const auto& line : lines(o.data)) {
        const auto j = strict_json(line);
        seen.insert(j["s"].get<std::string>());
    }
    EXPECT_EQ(seen, hostile_values);
    EXPECT_EQ(lines(o.data).size(), 200u);
    for (const auto& line : lines(o.labels)) strict_json(line);

    // Transaction text: category, currency and merchant_id templates.
    const auto tx = write_profile(
        "tx", "name = \"t\"\nseed = 3\n[[group]]\nname = \"cards\"\ncount = 5\nmodel = "
              "\"transactions\"\n[group.transactions]\nrate = \"200/day\"\ncurrency = "
              "'E\"U'\nmerchant_id = 'm\"{index}'\nmerchants = 20\ntowns = 2\n[[group."
              "transactions.category]]\nname = 'caf\u00e9 \"x\", \\\\y'\nshare = 1.0\n"
              "median_amount = 10.0\n");
    const auto t = run_to_files(tx.string(), "--count 100", "json-tx");
    ASSERT_EQ(t.exit_code, 0) << t.data;
    for (const auto& line : lines(t.data)) {
        const auto j = strict_json(line);
        EXPECT_EQ(j["currency"], "E\"U");
        EXPECT_EQ(j["category"], "caf\u00e9 \"x\", \\\\y");
        EXPECT_EQ(j["merchant_id"].get<std::string>().substr(0, 2), "m\"");
    }

    const auto control = write_profile(
        "control", profile_with("name = \"g\"",
                                "[[group.field]]\nname = \"s\"\nsignal = { kind = \"states\", "
                                "states = [\"a\", \"line\\nbreak\"], dwell = [\"1s\", \"1s\"], "
                                "next = [[0, 1], [1, 0]] }\n"));
    const auto r = run_synthfeed("validate " + control.string());
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("p.toml:8:44: group[0].field[0].signal.states: must not hold control"),
              std::string::npos)
        << r.err;
}

// 6. CSV cells: RFC 4180 quoting, a fixed column count.
TEST(OutputValidity, CsvQuotesCells) {
    const auto path = write_profile(
        "csv", profile_with("name = \"g,1\"\ncount = 2\nid = \"d-{index}\"", hostile_states));
    const auto o =
        run_to_files(path.string(),
                     "--count 200 --format csv --labels-format csv --label-in-payload", "csv-text");
    ASSERT_EQ(o.exit_code, 0);
    const auto rows = lines(o.data);
    ASSERT_EQ(rows.size(), 201u);
    EXPECT_EQ(rows[0], "device_id,seq,ts,s,label,episode");
    std::set<std::string> seen;
    for (std::size_t i = 1; i < rows.size(); ++i) {
        const auto cells = csv_cells(rows[i]);
        ASSERT_EQ(cells.size(), 6u) << rows[i];
        EXPECT_EQ(cells[0].substr(0, 2), "d-");
        seen.insert(cells[3]);
    }
    EXPECT_EQ(seen, hostile_values);
    for (const auto& row : lines(o.labels)) EXPECT_EQ(csv_cells(row).size(), 8u) << row;
}

// 7. Line protocol: measurement, tag value and string field escaped.
TEST(OutputValidity, InfluxEscapesNamesAndStrings) {
    const auto path = write_profile(
        "lp", profile_with("name = \"hall 1,north=A\"\ncount = 2\nid = \"hall-{index}\"",
                           hostile_states));
    const auto o = run_to_files(path.string(), "--count 200 --format influx", "lp-text");
    ASSERT_EQ(o.exit_code, 0);
    std::set<std::string> seen;
    for (const auto& line : lines(o.data)) {
        ASSERT_EQ(line.rfind("hall\\ 1\\,north=A,device_id=hall-", 0), 0u) << line;
        const auto open = line.find("s=\"") + 3;
        std::string value;
        std::size_t i = open;
        for (; line[i] != '"'; ++i) {
            if (line[i] == '\\') ++i;
            value += line[i];
        }
        seen.insert(value);
        EXPECT_EQ(line.compare(i, 6, "\",seq="), 0) << line;
    }
    EXPECT_EQ(seen, hostile_values);
}

// 8. Explicit windows: sorted at load; overlaps and mixed kinds refused with a location.
TEST(OutputValidity, ExplicitWindowsSortedOrRefused) {
    auto with_windows = [](const std::string& windows) {
        return profile_with("name = \"g\"\ncount = 1\nid = \"d-{index}\"\ninterval = \"500ms\"",
                            constant_field +
                                "[[group.anomaly]]\nkind = \"level_shift\"\nfield = "
                                "\"x\"\nmagnitude = 5.0\nwindows = [" +
                                windows + "]\n");
    };
    const auto unsorted = write_profile(
        "win", with_windows("{start = \"6s\", end = \"8s\"}, {start = \"2s\", end = \"4s\"}"));
    const auto o = run_to_files(unsorted.string(), "--count 24", "win");
    ASSERT_EQ(o.exit_code, 0);
    const auto episodes = lines(o.episodes);
    ASSERT_EQ(episodes.size(), 2u) << o.episodes;
    EXPECT_NE(episodes[0].find("T00:00:02.000Z"), std::string::npos) << episodes[0];
    EXPECT_NE(episodes[1].find("T00:00:06.000Z"), std::string::npos) << episodes[1];
    std::set<std::string> labelled;
    for (const auto& line : lines(o.labels)) {
        const auto j = strict_json(line);
        if (!j["episode"].is_null()) labelled.insert(j["episode"].get<std::string>());
    }
    EXPECT_EQ(labelled.size(), 2u) << "every episode line has labelled ticks";
    for (const auto& line : lines(o.data)) {
        const auto j = strict_json(line);
        const std::string ts = j["ts"];
        const int second = std::stoi(ts.substr(17, 2));
        const bool inside = (second >= 2 && second < 4) || (second >= 6 && second < 8);
        EXPECT_EQ(j["x"].get<double>(), inside ? 6.0 : 1.0) << line;
    }

    for (const std::string overlapping :
         {"{start = \"2s\", end = \"8s\"}, {start = \"4s\", end = \"5s\"}",
          "{start = \"4s\", end = \"5s\"}, {start = \"4s\", end = \"6s\"}"}) {
        const auto path = write_profile("win-overlap", with_windows(overlapping));
        const auto r = run_synthfeed("validate " + path.string());
        EXPECT_EQ(r.exit_code, 2) << overlapping;
        EXPECT_NE(r.err.find("p.toml:"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("windows[1].start: overlaps windows[0]"), std::string::npos) << r.err;
    }
    // Offsets and times are ordered once the run start is known: in order, they run; when
    // they overlap there, the run refuses before writing anything.
    const auto mixed = write_profile(
        "win-mixed",
        with_windows("{start = \"2026-01-01T00:00:06Z\", end = \"2026-01-01T00:00:08Z\"}, "
                     "{start = \"2s\", end = \"4s\"}"));
    const auto m = run_to_files(mixed.string(), "--count 24", "win-mixed");
    EXPECT_EQ(m.exit_code, 0);
    EXPECT_EQ(m.episodes, o.episodes);
    EXPECT_EQ(m.labels, o.labels);
    const auto clash = write_profile(
        "win-clash",
        with_windows("{start = \"2s\", end = \"4s\"}, {start = \"2026-01-01T00:00:03Z\", end = "
                     "\"2026-01-01T00:00:08Z\"}"));
    const auto r = run_synthfeed("run " + clash.string() + " --count 24 --sink null:");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("level_shift windows: window 1 overlaps window 0"), std::string::npos)
        << r.err;
}

// 9. Flag ranges: no wrap-around, for flags and their env twins.
TEST(OutputValidity, FlagRangesRefuseWrapAround) {
    const auto path =
        write_profile("flags", profile_with("name = \"g\"\nid = \"d-{index}\"", constant_field));
    const std::string run = "run " + path.string() + " --progress off --sink null: ";
    struct flag_case {
        std::string args, env, flag;
    };
    for (const auto& c : std::vector<flag_case>{
             {"--seed -1 --count 1", "", "--seed"},
             {"--seed 18446744073709551616 --count 1", "", "--seed"},
             {"--seed 9223372036854775808 --count 1", "", "--seed"},
             {"--count -1", "", "--count"},
             {"--count 0", "", "--count"},
             {"--count 1", "SYNTHFEED_SEED=-1", "--seed"},
             {"", "SYNTHFEED_COUNT=-5", "--count"},
             {"--rate 1e19 --run-for 3s", "", "--rate"},
             {"--speed 1e-300x --run-for 3s", "", "--speed"},
             {"--start 1969-12-31T23:59:59Z --count 1", "", "--start"},
         }) {
        const auto r = run_synthfeed(run + c.args, c.env);
        EXPECT_EQ(r.exit_code, 2) << c.args << " " << c.env << "\n" << r.err;
        EXPECT_NE(r.err.find(c.flag + ":"), std::string::npos) << r.err;
    }
    // The largest seed a profile can hold runs, and gives the same stream as that profile.
    const auto r = run_synthfeed(run + "--seed 9223372036854775807 --count 3");
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

// 10. Generated keys never collide: a renamed field skips names the group already has.
TEST(OutputValidity, SchemaDriftRenameAvoidsExistingKeys) {
    const auto path = write_profile(
        "rename",
        profile_with("name = \"g\"\ncount = 2\nid = \"d-{index}\"",
                     "[[group.field]]\nname = \"power\"\nsignal = { kind = \"constant\", value = "
                     "1.0 }\n[[group.field]]\nname = \"power_v2\"\nsignal = { kind = "
                     "\"constant\", value = 2.0 }\n[[group.fault]]\nkind = "
                     "\"schema_drift\"\nfield = \"power\"\nchange = \"rename\"\nrate = "
                     "\"20/h\"\nduration = \"1m..5m\"\n"));
    for (const std::string format : {"json", "influx"}) {
        const auto o = run_to_files(path.string(), "--count 2000 --format " + format, "rename");
        ASSERT_EQ(o.exit_code, 0);
        std::size_t renamed = 0;
        for (const auto& line : lines(o.data)) {
            if (format == "json") {
                const auto j = strict_json(line); // throws on a duplicate key
                renamed += j.contains("power_v3");
                EXPECT_EQ(j["power_v2"].get<double>(), 2.0);
            } else {
                EXPECT_EQ(line.find("power_v2=1.000"), std::string::npos) << line;
                renamed += line.find("power_v3=1.000") != std::string::npos;
            }
        }
        EXPECT_GT(renamed, 0u) << format;
    }
}

// 11. Values that passed validate and then hung or exploded are refused at load.
TEST(OutputValidity, ModelLimitsCheckedAtLoad) {
    const std::string tx = "name = \"t\"\n[[group]]\nname = \"cards\"\ncount = 5\nmodel = "
                           "\"transactions\"\n[group.transactions]\nrate = \"20/day\"\n";
    struct load_case {
        std::string text, expected;
    };
    for (const auto& c : std::vector<load_case>{
             {tx + "weekend = 1e308\n", "p.toml:8:"},
             {tx + "[[group.fraud]]\nkind = \"card_testing\"\nrate = \"1/day\"\nduration = "
                   "\"5m\"\nmagnitude = 1e6\n",
              "at most 3600"},
             {profile_with("name = \"g\"\ncount = 2\nid = \"d-{index:c}\"", constant_field),
              "p.toml:7:"},
             {profile_with("name = \"g\"\ncount = 2\nid = \"d-{index:>9}\"", constant_field),
              "unknown placeholder {index:>9}"},
             {profile_with("name = \"g\"\ncount = 2\nid = \"d-{index}" + std::string(100'000, 'x') +
                               "{bad}\"",
                           constant_field),
              "unknown placeholder {bad}"},
             {profile_with("name = \"#g\"", constant_field), "must not start with '#'"},
             // Found by tests/fuzz (findings/): a cast overflow and loops without end.
             {profile_with(
                  "name = \"g\"",
                  "[[group.field]]\nname = \"x\"\nsignal = { kind = \"sine\", period = "
                  "\"1h\" }\n[[group.anomaly]]\nkind = \"frequency\"\nfield = "
                  "\"x\"\nmagnitude = 1e308\nwindows = [{start = \"0s\", end = \"1h\"}]\n"),
              "at most 1000 for frequency"},
             {profile_with("name = \"g\"\ninterval = \"1d\"",
                           constant_field + "[[group.anomaly]]\nkind = \"level_shift\"\nfield = "
                                            "\"x\"\nrate = \"1000000/s\"\nduration = \"1ms\"\n"),
              "at most 10 episodes per 24h"},
             {tx + "merchants = 10000000\n", "p.toml:8:"},
             {profile_with("name = \"g\"",
                           "[[group.field]]\nname = \"s\"\nsignal = { kind = \"states\", states "
                           "= [\"a\", \"a\"], dwell = [\"1s\", \"1s\"], next = [[0, 1], [1, "
                           "0]] }\n"),
              "duplicate state \"a\""},
             {profile_with("name = \"g\"\ncount = 2\nid = \"d\\\"{index}\"", constant_field),
              "p.toml:7:6: group[0].id: device id \"d\"0\" holds '\"'"},
             {profile_with("name = \"hall 1\"\ncount = 2", constant_field),
              "set id, the default is"},
             {"name = \"t\"\nstart = \"1969-01-01T00:00:00Z\"\n[[group]]\nname = \"g\"\n" +
                  constant_field,
              "p.toml:2:"},
         }) {
        const auto path = write_profile("limits", c.text);
        const auto r = run_synthfeed("validate " + path.string());
        EXPECT_EQ(r.exit_code, 2) << c.text.substr(0, 300) << "\n" << r.err;
        EXPECT_NE(r.err.find(c.expected), std::string::npos) << r.err.substr(0, 600);
        EXPECT_LT(r.err.size(), 1000u) << "error messages stay short";
    }
}

// Control API bodies are held to the same limits (found by tests/fuzz: 1e308 overflowed).
TEST(OutputValidity, InjectionMagnitudeLimits) {
    const auto p = profile_from(profile_with(
        "name = \"g\"\ncount = 2\nid = \"d-{index}\"",
        "[[group.field]]\nname = \"x\"\nsignal = { kind = \"sine\", period = \"1h\" }\n"));
    const synthfeed::device_directory ids(p);
    for (const char* body :
         {R"({"kind":"frequency","device":"d-1","field":"x","magnitude":1e308,"duration":"1m"})",
          R"({"kind":"variance","device":"d-1","field":"x","magnitude":-1,"duration":"1m"})"})
        EXPECT_THROW(synthfeed::parse_injection(nlohmann::json::parse(body), p, ids),
                     synthfeed::request_error)
            << body;
    EXPECT_NO_THROW(synthfeed::parse_injection(
        nlohmann::json::parse(
            R"({"kind":"frequency","device":"d-1","field":"x","magnitude":3,"duration":"1m"})"),
        p, ids));
}

// 12. Write failures name the output and the OS error once; the text summary counts them.
TEST(OutputValidity, WriteFailuresSayWhy) {
    if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full here";
    const auto path = write_profile(
        "full", profile_with("name = \"g\"\ncount = 2\nid = \"d-{index}\"",
                             constant_field + "[[group.anomaly]]\nkind = \"spike\"\nfield = "
                                              "\"x\"\nrate = \"60/h\"\n"));
    const std::string run = "run " + path.string() + " --progress off --count 20000 ";
    struct full_case {
        std::string flags, expected_summary;
    };
    for (const auto& c : std::vector<full_case>{
             {"--sink file:/dev/full", "failed 20000"},
             {"--sink null: --labels /dev/full", " 20000 label and episode lines failed"},
             {"--sink null: --episodes /dev/full", " 324 label and episode lines failed"},
         }) {
        const auto r = run_synthfeed(run + c.flags);
        EXPECT_EQ(r.exit_code, 1) << c.flags;
        EXPECT_NE(r.err.find("/dev/full: write failed: No space left on device"), std::string::npos)
            << c.flags << "\n"
            << r.err;
        std::size_t mentions = 0;
        for (auto at = r.err.find("write failed"); at != std::string::npos;
             at = r.err.find("write failed", at + 1))
            ++mentions;
        EXPECT_EQ(mentions, 1u) << "logged once: " << r.err;
        EXPECT_NE(r.err.find(c.expected_summary), std::string::npos) << c.flags << "\n" << r.err;
    }
}

// Time domain: event time stops at the last instant line protocol can write.
TEST(OutputValidity, EventTimeStopsAtTheLineProtocolHorizon) {
    const auto path = write_profile(
        "horizon", "name = \"t\"\nstart = \"2262-04-11T23:47:10Z\"\n[[group]]\nname = "
                   "\"g\"\ncount = 1\nid = \"d\"\ninterval = \"1s\"\nphase = \"aligned\"\n" +
                       constant_field);
    const auto o = run_to_files(path.string(), "--duration 1h --format influx", "horizon");
    ASSERT_EQ(o.exit_code, 0);
    const auto all = lines(o.data);
    ASSERT_EQ(all.size(), 7u) << o.data; // :10 .. :16, then the end of signed 64-bit ns
    for (const auto& line : all) {
        const auto ns = std::stoll(line.substr(line.rfind(' ') + 1)); // throws past int64
        EXPECT_GT(ns, 0);
    }
}

} // namespace
