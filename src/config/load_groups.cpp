#include "src/config/profile_sections.hpp"

#include "src/config/profile_loader.hpp"

namespace synthfeed::profile_sections {

/// Why an id template cannot be used, or empty. Only `{group}`, `{index}` and `{index:SPEC}`
/// with a zero-padded width and an integer base (`{index:05}`, `{index:x}`) are allowed, so an
/// index adds only digits and hex letters to an id: the first and last ids of a group then
/// hold every character any of its ids can hold (see boundary_device_ids).
std::string id_template_problem(std::string_view t) {
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] == '}') {
            if (i + 1 < t.size() && t[i + 1] == '}') {
                ++i;
                continue;
            }
            return "a lone '}' (write '}}' for a brace)";
        }
        if (t[i] != '{') continue;
        if (i + 1 < t.size() && t[i + 1] == '{') {
            ++i;
            continue;
        }
        const auto close = t.find('}', i);
        if (close == std::string_view::npos)
            return "a '{' without its '}' (write '{{' for a brace)";
        const std::string_view field = t.substr(i + 1, close - i - 1);
        i = close;
        if (field == "group" || field == "index") continue;
        if (field.starts_with("index:")) {
            std::string_view spec = field.substr(6);
            if (!spec.empty() &&
                std::string_view("dxXob").find(spec.back()) != std::string_view::npos)
                spec.remove_suffix(1);
            if (spec.size() <= 2 && spec.find_first_not_of("0123456789") == std::string_view::npos)
                continue;
        }
        const std::string shown(field.substr(0, 40));
        return "unknown placeholder {" + shown + (field.size() > 40 ? "…" : "") +
               "} (use {index}, {index:05}, {index:x} and {group})";
    }
    return "";
}
namespace {

/// Poisson arrival keys (rate per device, daily_peak, daily_amplitude, weekend).
arrival_spec read_arrivals(toml_reader& r, const std::string& default_rate) {
    arrival_spec a;
    const std::string rate = r.optional_string("rate").value_or(default_rate);
    if (rate.empty()) r.fail("rate", "is required: arrivals per device (e.g. \"20/day\")");
    const auto per_ms = parse_rate(rate);
    if (!per_ms || *per_ms <= 0)
        r.fail("rate", "invalid rate \"" + rate + "\" (per device, e.g. \"4/day\")");
    // The mean gap stands in for an interval in whole ms: a device must arrive at least once a
    // millennium, so that gap is a number of milliseconds (fuzz finding: "1e-300/day").
    if (*per_ms < 1 / (1000 * 366.0 * ms_per_day))
        r.fail("rate", "\"" + rate + "\" is below one arrival per 1000 years");
    a.rate_per_ms = *per_ms;
    a.daily_peak = r.duration("daily_peak", 13 * ms_per_hour);
    a.daily_amplitude = r.number("daily_amplitude", 0.6);
    if (a.daily_amplitude < 0 || a.daily_amplitude > 1)
        r.fail("daily_amplitude", "must be between 0 and 1");
    a.weekend = r.number("weekend", 1.2);
    // Arrivals are drawn by thinning against the peak intensity: a factor beyond 100 would
    // make nearly every candidate a rejection (and 1e308 an infinite peak).
    if (!(a.weekend > 0 && a.weekend <= 100))
        r.fail("weekend", "must be greater than 0 and at most 100");
    return a;
}

/// The mean gap between a device's arrivals stands in for a sensor's interval (window sizing,
/// nominal rates).
sim_duration mean_gap(const arrival_spec& a) {
    return std::max<sim_duration>(1, static_cast<sim_duration>(1 / a.rate_per_ms));
}

/// Categories a transaction feed uses when the profile names none (shares sum to 1; amounts
/// are lognormal: median and sigma of log-amount).
std::vector<transaction_category> default_categories() {
    return {{"grocery", "5411", 0.30, 32.0, 0.6, 0.05},
            {"restaurants", "5812", 0.18, 24.0, 0.5, 0.10},
            {"fuel", "5541", 0.12, 55.0, 0.3, 0.0},
            {"online_retail", "5999", 0.20, 45.0, 0.8, 1.0},
            {"electronics", "5732", 0.05, 180.0, 0.9, 0.50},
            {"travel", "4722", 0.05, 320.0, 0.7, 0.70},
            {"pharmacy", "5912", 0.10, 18.0, 0.5, 0.05}};
}

transaction_category read_category(toml_reader& r) {
    transaction_category c;
    c.name = r.string("name");
    if (c.name.empty()) r.fail("name", "must not be empty");
    c.mcc = r.optional_string("mcc").value_or("0000");
    c.share = r.number("share", 0);
    if (!(c.share > 0)) r.fail("share", "must be greater than 0");
    c.median_amount = r.number("median_amount", 0);
    if (!(c.median_amount > 0)) r.fail("median_amount", "must be greater than 0");
    c.amount_sigma = r.number("amount_sigma", 0.5);
    if (c.amount_sigma < 0) r.fail("amount_sigma", "must not be negative");
    c.ecommerce = r.number("ecommerce", 0);
    if (c.ecommerce < 0 || c.ecommerce > 1) r.fail("ecommerce", "must be between 0 and 1");
    r.reject_unknown_keys();
    return c;
}

/// The [group.transactions] table; also fixes the group's fields (see transaction_field).
transaction_spec read_transactions(toml_reader& r, group_spec& g) {
    transaction_spec t;
    t.arrivals = read_arrivals(r, "4/day");
    t.currency = r.optional_string("currency").value_or("EUR");
    // Each merchant's id is a table entry built here: a million is 20-odd MB.
    t.merchants = static_cast<std::uint32_t>(r.integer("merchants", 1000, 1, 1'000'000));
    t.towns = static_cast<std::uint32_t>(r.integer("towns", 50, 2, 100'000));
    if (t.towns > t.merchants) r.fail("towns", "must not exceed merchants (each town has one)");
    const std::string merchant_id =
        r.optional_string("merchant_id").value_or("merchant-{index:05}");
    const spread_param lat = r.spread("latitude", {43.0, 51.0});
    const spread_param lon = r.spread("longitude", {-1.5, 7.5});
    if (lat.lo < -90 || lat.hi > 90) r.fail("latitude", "must be within -90..90");
    if (lon.lo < -180 || lon.hi > 180) r.fail("longitude", "must be within -180..180");
    t.lat_lo = lat.lo, t.lat_hi = lat.hi, t.lon_lo = lon.lo, t.lon_hi = lon.hi;
    for (auto& c : r.tables("category")) {
        t.categories.push_back(read_category(c));
        for (std::size_t i = 0; i + 1 < t.categories.size(); ++i)
            if (t.categories[i].name == t.categories.back().name)
                c.fail("name", "duplicate category \"" + t.categories.back().name + "\"");
    }
    if (t.categories.empty()) t.categories = default_categories();
    r.reject_unknown_keys();

    // The message layout: fixed fields, text ones indexing tables built here once.
    auto text_field = [](std::string name, std::vector<std::string> values) {
        field_spec f;
        f.name = std::move(name);
        f.format = field_format::text;
        f.text = std::move(values);
        return f;
    };
    auto number_field = [](std::string name, int precision) {
        field_spec f;
        f.name = std::move(name);
        f.precision = precision;
        return f;
    };
    std::vector<std::string> merchants, categories, mccs;
    if (const std::string problem = id_template_problem(merchant_id); !problem.empty())
        r.fail("merchant_id", "invalid id template: " + problem);
    for (std::uint32_t m = 0; m < t.merchants; ++m)
        merchants.push_back(format_device_id(merchant_id, g.name, m));
    for (const auto& c : t.categories) categories.push_back(c.name), mccs.push_back(c.mcc);
    g.fields.resize(tx_field_count);
    g.fields[tx_amount] = number_field("amount", 2);
    g.fields[tx_currency] = text_field("currency", {t.currency});
    g.fields[tx_merchant] = text_field("merchant_id", std::move(merchants));
    g.fields[tx_category] = text_field("category", std::move(categories));
    g.fields[tx_mcc] = text_field("mcc", std::move(mccs));
    g.fields[tx_channel] = text_field("channel", {"pos", "ecom"});
    g.fields[tx_lat] = number_field("lat", 4);
    g.fields[tx_lon] = number_field("lon", 4);
    g.fields[tx_device] = field_spec{};
    g.fields[tx_device].name = "device_fingerprint";
    g.fields[tx_device].format = field_format::hex;
    g.fields[tx_device].hex_prefix = "fp-";
    g.interval = mean_gap(t.arrivals);
    return t;
}

driver_spec read_driver(toml_reader& r) {
    driver_spec d;
    d.daily_amplitude = r.number("daily_amplitude", 0);
    d.daily_peak = r.duration("daily_peak", 15 * ms_per_hour);
    d.stddev = r.number("stddev", 1);
    if (d.stddev < 0) r.fail("stddev", "must not be negative");
    d.every = positive_duration(r, "every", 2 * ms_per_hour);
    r.reject_unknown_keys();
    return d;
}

} // namespace

group_spec read_group(toml_reader& r, const std::vector<group_spec>& earlier,
                      const group_counts& counts) {
    group_spec g;
    g.name = r.string("name");
    if (g.name.empty()) r.fail("name", "must not be empty");
    g.count = static_cast<std::uint64_t>(
        r.integer("count", 1, 1, static_cast<std::int64_t>(max_devices_per_group)));
    // Before any check that reads the count: each then holds for the new one.
    if (const auto given = counts.find(g.name); given != counts.end()) g.count = given->second;
    if (g.name.front() == '_')
        r.fail("name", "must not start with '_' (InfluxDB reserves such names)");
    if (g.name.front() == '#')
        r.fail("name", "must not start with '#' (a line-protocol line starting with it is a "
                       "comment)");
    if (g.name.find('\\') != std::string::npos)
        r.fail("name", "a backslash is not allowed in a group name (line protocol cannot carry "
                       "one in a measurement)");
    g.id_template = r.optional_string("id").value_or("{group}-{index}");
    if (const std::string problem = id_template_problem(g.id_template); !problem.empty())
        r.fail("id", "invalid id template: " + problem);
    // The first and last ids hold every character any id of the group can (an index adds
    // digits and hex letters only), and the longest one.
    for (std::uint64_t index : {std::uint64_t{0}, g.count - 1}) {
        const std::string id = format_device_id(g.id_template, g.name, index);
        for (char c : id)
            if (!is_device_id_char(c))
                r.fail(r.has("id") ? "id" : "name",
                       "device id \"" + id.substr(0, 80) + (id.size() > 80 ? "…" : "") +
                           "\" holds '" + std::string(1, c) + "': ids keep to " +
                           std::string(device_id_alphabet) +
                           ", which JSON, CSV, line protocol, topics and keys carry unescaped" +
                           (r.has("id") ? "" : " (set id, the default is \"{group}-{index}\")"));
    }
    if (g.count > 1 &&
        format_device_id(g.id_template, g.name, 0) == format_device_id(g.id_template, g.name, 1))
        r.fail("id", "the id template must contain {index} when count > 1");
    if (r.choice("model", {"sensors", "transactions"}, "sensors") == "transactions") {
        for (const char* key : {"field", "anomaly", "interval", "jitter", "phase"})
            if (r.has(key))
                r.fail(key, "a transaction group derives its fields and cadence from "
                            "[group.transactions]; it takes no " +
                                std::string(key));
        auto t = r.table("transactions");
        if (!t) r.fail("transactions", "a transaction group needs a [group.transactions] table");
        g.transactions = read_transactions(*t, g);
        for (auto& f : r.tables("fraud")) g.anomalies.push_back(read_fraud(f, g));
        for (auto& f : r.tables("fault")) g.anomalies.push_back(read_fault(f, g));
        r.reject_unknown_keys();
        return g;
    }
    if (r.has("fraud"))
        r.fail("fraud", "fraud typologies need a transaction group (model = \"transactions\")");
    if (auto arrivals = r.table("arrivals")) {
        // Event sensors (doors, motion, alarms): events at Poisson times with a daily rhythm.
        for (const char* key : {"interval", "jitter", "phase"})
            if (r.has(key))
                r.fail(key, "a group with [group.arrivals] has no fixed " + std::string(key));
        g.arrivals = read_arrivals(*arrivals, "");
        arrivals->reject_unknown_keys();
        g.interval = mean_gap(*g.arrivals);
    } else {
        g.interval = positive_duration(r, "interval", ms_per_second);
    }
    g.jitter = r.duration("jitter", 0);
    if (2 * g.jitter >= g.interval)
        r.fail("jitter",
               "must be less than half the interval so each device's messages stay in order");
    g.random_phase = r.choice("phase", {"random", "aligned"}, "random") == "random";
    auto fields = r.tables("field");
    if (fields.empty()) r.fail("field", "a group needs at least one [[group.field]]");
    for (auto& f : fields) {
        g.fields.push_back(read_field(f));
        for (std::size_t i = 0; i + 1 < g.fields.size(); ++i)
            if (g.fields[i].name == g.fields.back().name)
                f.fail("name", "duplicate field name \"" + g.fields.back().name + "\"");
    }
    for (std::size_t i = 0; i < g.fields.size(); ++i) {
        signal_spec& s = g.fields[i].signal;
        if (s.kind != signal_kind::derived) continue;
        for (std::size_t j = 0; j < i; ++j)
            if (g.fields[j].name == s.from_name) s.from = static_cast<int>(j);
        if (s.from < 0)
            fields[i].fail("signal", "derived from \"" + s.from_name +
                                         "\": no earlier field of that name in the group");
        const field_spec& source = g.fields[static_cast<std::size_t>(s.from)];
        if (!s.table.empty() && s.table.size() != source.signal.state_names.size())
            fields[i].fail("signal",
                           "a table needs one value per state of \"" + s.from_name + "\"");
        if (s.table.empty() && source.format != field_format::number)
            fields[i].fail("signal", "derive from a state field with a table of values per state");
    }
    if (auto d = r.table("driver")) g.driver = read_driver(*d);
    for (const auto& f : g.fields)
        if (f.driver != 0 && !g.driver)
            r.fail("driver", "field \"" + f.name +
                                 "\" loads on a driver the group lacks: add [group.driver]");
    for (auto& a : r.tables("anomaly")) g.anomalies.push_back(read_anomaly(a, g));
    for (auto& f : r.tables("fault")) g.anomalies.push_back(read_fault(f, g));
    for (auto& d : r.tables("drift")) g.anomalies.push_back(read_concept_drift(d, g));
    for (auto& d : r.tables("regime")) g.anomalies.push_back(read_regime(d, g));
    if (auto parent = r.optional_string("parent")) {
        // Gateways: the parent group's dropouts silence their children too (a cascade).
        for (std::size_t i = 0; i < earlier.size(); ++i)
            if (earlier[i].name == *parent) g.parent = static_cast<int>(i);
        if (g.parent < 0)
            r.fail("parent", "no earlier group \"" + *parent + "\" (define gateways first)");
        const auto& gateways = earlier[static_cast<std::size_t>(g.parent)].anomalies;
        for (std::size_t a = 0; a < gateways.size(); ++a) {
            if (gateways[a].kind != anomaly_kind::dropout) continue;
            anomaly_spec cascade = gateways[a];
            cascade.cause_group = g.parent;
            cascade.cause_anomaly = static_cast<std::uint32_t>(a);
            g.anomalies.push_back(std::move(cascade));
        }
    }
    r.reject_unknown_keys();
    return g;
}

} // namespace synthfeed::profile_sections
