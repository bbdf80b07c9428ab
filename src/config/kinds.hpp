#pragma once
/// The vocabularies of kinds a profile names (signals, noise, drift, episode kinds, load
/// shapes), each defined once: its enum and, next to it, a table with one row per kind in
/// enum order (static_asserts check the order). The loader, the control API, `synthfeed list`,
/// `--help`, the models and the README (tests/unit/vocabulary_test.cpp compares its tables)
/// read these rows; nothing else spells a kind's name.
///
/// Adding a kind: a row here, and its behaviour where the compiler points (switches over
/// these enums have no `default:`, and the build makes -Wswitch an error).

#include <array>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace synthfeed {

/// A lookup over a vocabulary table whose rows are in enum order.
template <class Row, std::size_t N>
struct vocabulary {
    using kind_type = decltype(Row::kind);
    std::array<Row, N> rows;

    /// The row of `k` (rows are in enum order).
    constexpr const Row& operator[](kind_type k) const noexcept {
        return rows[static_cast<std::size_t>(k)];
    }
    /// The row named `name` as a profile writes it, if any.
    constexpr const Row* find(std::string_view name) const noexcept {
        for (const Row& r : rows)
            if (r.name == name) return &r;
        return nullptr;
    }
    constexpr bool in_enum_order() const noexcept {
        for (std::size_t i = 0; i < N; ++i)
            if (static_cast<std::size_t>(rows[i].kind) != i) return false;
        return true;
    }
    constexpr auto begin() const noexcept { return rows.begin(); }
    constexpr auto end() const noexcept { return rows.end(); }
    static constexpr std::size_t size() noexcept { return N; }
};
template <class Row, std::size_t N>
vocabulary(std::array<Row, N>) -> vocabulary<Row, N>;

/// The names of the rows `keep` accepts, comma-separated in table order (for messages, `list`
/// and `--help`).
template <class Row, std::size_t N, class Keep>
std::string names_where(const vocabulary<Row, N>& table, Keep keep) {
    std::string names;
    for (const Row& row : table)
        if (keep(row)) names.append(names.empty() ? "" : ", ").append(row.name);
    return names;
}
template <class Row, std::size_t N>
std::string names_of(const vocabulary<Row, N>& table) {
    return names_where(table, [](const Row&) { return true; });
}

/// A row of the simpler vocabularies: the name, the keys it takes (space-separated, as a
/// profile writes them; a key's own defaults are in the loader) and one line on what it does.
template <class Kind>
struct kind_row {
    Kind kind;
    std::string_view name;
    std::string_view keys;
    std::string_view summary;
};

// ---------------------------------------------------------------------------------------------
// Signals: the deterministic part of a field's value.

enum class signal_kind {
    constant,
    seasonal,
    sine,
    square,
    sawtooth,
    random_walk,
    ou,
    schedule,
    counter,
    states,  ///< a state machine: the value is a state index, written as the state's name
    derived, ///< a function of an earlier field of the same device
    sum      ///< several of the above added: a rhythm, a level, a mean-reverting part
};
inline constexpr vocabulary signal_kinds{std::array{
    kind_row<signal_kind>{signal_kind::constant, "constant", "value", "a fixed level"},
    kind_row<signal_kind>{signal_kind::seasonal, "seasonal",
                          "mean amplitude period peak components", "a sum of cosines"},
    kind_row<signal_kind>{signal_kind::sine, "sine", "mean amplitude period phase", "a sine wave"},
    kind_row<signal_kind>{signal_kind::square, "square", "mean amplitude period phase duty",
                          "high for duty of the period, then low"},
    kind_row<signal_kind>{signal_kind::sawtooth, "sawtooth", "mean amplitude period phase",
                          "a rising ramp each period"},
    kind_row<signal_kind>{signal_kind::random_walk, "random_walk", "start step min max",
                          "Gaussian steps, reflected at the bounds"},
    kind_row<signal_kind>{signal_kind::ou, "ou", "mean sigma reversion marginal shares",
                          "Ornstein-Uhlenbeck / AR(1): pulled back to the mean"},
    kind_row<signal_kind>{signal_kind::schedule, "schedule", "points period interpolate",
                          "piecewise over a daily (or other) period"},
    kind_row<signal_kind>{signal_kind::counter, "counter", "start rate rate_noise",
                          "a meter that never decreases"},
    kind_row<signal_kind>{signal_kind::states, "states", "states dwell next",
                          "a state machine, written as the state's name"},
    kind_row<signal_kind>{signal_kind::derived, "derived", "from table scale offset",
                          "a function of an earlier field"},
    kind_row<signal_kind>{signal_kind::sum, "sum", "components marginal",
                          "parts added: constant, periodic, schedule, ou, random_walk"},
}};
static_assert(signal_kinds.in_enum_order());

/// Whether a signal kind may be a part of a `sum` (states, derived and counter fields stand
/// alone; a sum does not nest).
constexpr bool summable(signal_kind k) noexcept {
    return k != signal_kind::states && k != signal_kind::derived && k != signal_kind::counter &&
           k != signal_kind::sum;
}
/// Whether a signal kind carries sequential state (a value carried from tick to tick).
constexpr bool sequential(signal_kind k) noexcept {
    return k == signal_kind::random_walk || k == signal_kind::ou || k == signal_kind::counter ||
           k == signal_kind::states;
}

// ---------------------------------------------------------------------------------------------
// Noise: added to the signal at each tick.

enum class noise_kind { none, gaussian, uniform, laplace, student_t };
/// `keys` starts with the key that holds the scale (a spread, default 1).
inline constexpr vocabulary noise_kinds{std::array{
    kind_row<noise_kind>{noise_kind::none, "none", "", "no noise"},
    kind_row<noise_kind>{noise_kind::gaussian, "gaussian", "stddev relative hourly", "normal"},
    kind_row<noise_kind>{noise_kind::uniform, "uniform", "amplitude relative hourly",
                         "uniform in ±amplitude"},
    kind_row<noise_kind>{noise_kind::laplace, "laplace", "scale relative hourly",
                         "Laplace (sharper peak)"},
    kind_row<noise_kind>{noise_kind::student_t, "student_t", "scale df relative hourly",
                         "heavy tails"},
}};
static_assert(noise_kinds.in_enum_order());

// ---------------------------------------------------------------------------------------------
// Drift: a slow change measured from the run start.

enum class drift_kind { none, linear, exponential, random_walk };
/// `keys` starts with the key that holds the amount (a spread).
inline constexpr vocabulary drift_kinds{std::array{
    kind_row<drift_kind>{drift_kind::none, "none", "", "no drift"},
    kind_row<drift_kind>{drift_kind::linear, "linear", "per_day", "units per day"},
    kind_row<drift_kind>{drift_kind::exponential, "exponential", "scale tau",
                         "scale·(e^(t/tau) − 1): ageing"},
    kind_row<drift_kind>{drift_kind::random_walk, "random_walk", "step",
                         "a bias that wanders by N(0, step) per tick"},
}};
static_assert(drift_kinds.in_enum_order());

// ---------------------------------------------------------------------------------------------
// Episodes: anomalies, transport faults, fraud typologies and concept drift.

/// Every episode kind. Its class (the label class) is in its row: value anomalies change what
/// a sensor reports; transport faults how a message travels (data quality); fraud typologies
/// what an account does; drift is a lasting change of the distribution, not an anomaly.
enum class anomaly_kind {
    // value
    spike,
    level_shift,
    trend,
    variance,
    stuck_at,
    dropout,
    frequency,
    // transport
    duplicate,
    out_of_order,
    late,
    dropped,
    malformed,
    clock_skew,
    schema_drift,
    // fraud (transaction groups)
    card_testing,
    account_takeover,
    velocity_burst,
    impossible_travel,
    compromised_merchant,
    // drift
    concept_drift,
    // regime (normal behaviour)
    regime,
};
/// Value anomalies and fraud make a tick's label; transport faults are listed apart; drift and
/// regimes are recorded as episodes only: a regime is normal behaviour (a level, variance or
/// cycle-size state the process switches into and out of), never labelled anomalous.
enum class anomaly_class { value, transport, fraud, drift, regime };
inline constexpr std::array<std::string_view, 5> anomaly_class_names = {"value", "transport",
                                                                        "fraud", "drift", "regime"};
/// A set of label classes, indexed by anomaly_class.
using class_selection = std::array<bool, anomaly_class_names.size()>;
/// The classes a tick's label calls anomalous (`label`, `is_anomaly`): value and fraud. Also
/// what `score` grades and `run --no-anomalies` removes by default.
inline constexpr class_selection labelled_classes{true, false, true, false, false};

/// How an episode acts, in the terms of the models in devices/: each model switches over the
/// enum of its class only, so a new kind that acts as an existing one is a table row alone.
enum class value_effect {
    none,         ///< not a value anomaly
    offset,       ///< adds the magnitude (spike, level_shift)
    ramp,         ///< adds magnitude × the share of the episode elapsed (trend)
    noise_factor, ///< multiplies the noise (variance)
    freeze,       ///< repeats the value of the episode's first message (stuck_at)
    silence,      ///< sends nothing; seq numbers still advance (dropout)
    time_warp,    ///< runs periodic signals magnitude times faster (frequency)
};
enum class transport_effect {
    none,          ///< not a transport fault
    duplicate,     ///< a copy follows magnitude ms later
    delay,         ///< sent magnitude ms after its event time (out_of_order, late)
    clock_skew,    ///< the payload's ts off by magnitude ms
    truncate,      ///< the payload cut to a magnitude share (malformed)
    schema_change, ///< a field renamed or retyped (magnitude: a schema_change)
    silence,       ///< never sent; its seq skipped (dropped)
};
enum class fraud_pattern {
    none, ///< not a fraud typology
    card_testing,
    account_takeover,
    velocity_burst,
    impossible_travel,
    compromised_merchant,
};

/// What an episode of a kind applies to.
enum class episode_target {
    field,   ///< one field of the device (`field` is required)
    message, ///< the whole message or device (no `field`)
    either,  ///< schema_drift: a field, given by `field`
};

/// One episode kind. Magnitudes are in the field's units unless `factor` (a multiplier), and
/// for faults in milliseconds (delays, skews) or as noted in `keys`.
struct anomaly_kind_row {
    anomaly_kind kind;
    std::string_view name;
    anomaly_class label_class;
    std::string_view table; ///< the profile table it is written in: [[group.<table>]]
    episode_target target;
    double magnitude_lo, magnitude_hi; ///< the magnitude when a profile gives none
    double max_magnitude;              ///< the largest a profile may give (a bound on memory
                                       ///< or arithmetic; see the loader's messages)
    bool factor;                       ///< magnitude multiplies (noise, frequency): must be > 0
    bool zero_length;                  ///< may last no time: it then marks exactly one message
    bool on_states;                    ///< applies to a state-machine field too
    bool per_message; ///< scheduled by `probability` per message, not by rate or windows
    value_effect value;
    transport_effect transport;
    fraud_pattern fraud;
    std::string_view keys;
    std::string_view summary;
};

/// No bound on a magnitude beyond being finite (an offset in the field's units).
inline constexpr double unbounded = std::numeric_limits<double>::infinity();
/// variance and frequency magnitudes are factors: beyond 1000 a period or a noise scale is
/// out of any sensor's range, and timing arithmetic would overflow.
inline constexpr double max_factor_magnitude = 1000;

// clang-format off
inline constexpr vocabulary anomaly_kinds{std::array{
    //               kind                               name                    class                      table      target                    magnitude  max                    factor zero   states per_msg effects (value, transport, fraud) keys
    anomaly_kind_row{anomaly_kind::spike,               "spike",                anomaly_class::value,     "anomaly", episode_target::field,   1, 1,   unbounded, false, true, false, false, value_effect::offset, transport_effect::none, fraud_pattern::none, "field rate windows duration magnitude direction", "+magnitude; with zero duration, exactly one message"},
    anomaly_kind_row{anomaly_kind::level_shift,         "level_shift",          anomaly_class::value,     "anomaly", episode_target::field,   1, 1,   unbounded, false, false, false, false, value_effect::offset, transport_effect::none, fraud_pattern::none, "field rate windows duration magnitude direction", "+magnitude"},
    anomaly_kind_row{anomaly_kind::trend,               "trend",                anomaly_class::value,     "anomaly", episode_target::field,   1, 1,   unbounded, false, false, false, false, value_effect::ramp, transport_effect::none, fraud_pattern::none, "field rate windows duration magnitude direction", "+magnitude × (t − start)/(end − start): a ramp"},
    anomaly_kind_row{anomaly_kind::variance,            "variance",             anomaly_class::value,     "anomaly", episode_target::field,   3, 3,   max_factor_magnitude,  true, false, false, false, value_effect::noise_factor, transport_effect::none, fraud_pattern::none, "field rate windows duration magnitude", "noise multiplied by magnitude"},
    anomaly_kind_row{anomaly_kind::stuck_at,            "stuck_at",             anomaly_class::value,     "anomaly", episode_target::field,   1, 1,   unbounded, false, false, true, false, value_effect::freeze, transport_effect::none, fraud_pattern::none, "field rate windows duration", "the value of the episode's first message, repeated"},
    anomaly_kind_row{anomaly_kind::dropout,             "dropout",              anomaly_class::value,     "anomaly", episode_target::message, 1, 1,   unbounded, false, false, false, false, value_effect::silence, transport_effect::none, fraud_pattern::none, "rate windows duration", "the device sends nothing; its seq numbers still advance"},
    anomaly_kind_row{anomaly_kind::frequency,           "frequency",            anomaly_class::value,     "anomaly", episode_target::field,   2, 2,   max_factor_magnitude,  true, false, false, false, value_effect::time_warp, transport_effect::none, fraud_pattern::none, "field rate windows duration magnitude", "periodic signals run magnitude times faster"},
    anomaly_kind_row{anomaly_kind::duplicate,           "duplicate",            anomaly_class::transport, "fault",   episode_target::message, 0, 1000, unbounded, false, true, false, true, value_effect::none, transport_effect::duplicate, fraud_pattern::none, "probability delay", "the message is sent again delay later"},
    anomaly_kind_row{anomaly_kind::out_of_order,        "out_of_order",         anomaly_class::transport, "fault",   episode_target::message, 0, 0,   unbounded, false, true, false, true, value_effect::none, transport_effect::delay, fraud_pattern::none, "probability delay", "sent after later messages of its device"},
    anomaly_kind_row{anomaly_kind::late,                "late",                 anomaly_class::transport, "fault",   episode_target::message, 0, 0,   unbounded, false, true, false, true, value_effect::none, transport_effect::delay, fraud_pattern::none, "probability delay", "event time far behind its arrival"},
    anomaly_kind_row{anomaly_kind::dropped,             "dropped",              anomaly_class::transport, "fault",   episode_target::message, 1, 1,   unbounded, false, true, false, true, value_effect::none, transport_effect::silence, fraud_pattern::none, "probability", "never sent; its seq is skipped"},
    anomaly_kind_row{anomaly_kind::malformed,           "malformed",            anomaly_class::transport, "fault",   episode_target::message, 0.1, 0.9, 1,                   false, true, false, true, value_effect::none, transport_effect::truncate, fraud_pattern::none, "probability", "the payload is cut short"},
    anomaly_kind_row{anomaly_kind::clock_skew,          "clock_skew",           anomaly_class::transport, "fault",   episode_target::message, 0, 0,   unbounded, false, false, false, false, value_effect::none, transport_effect::clock_skew, fraud_pattern::none, "rate windows duration skew direction", "the payload's ts is off by the skew"},
    anomaly_kind_row{anomaly_kind::schema_drift,        "schema_drift",         anomaly_class::transport, "fault",   episode_target::either,  0, 0,   1,                     false, false, false, false, value_effect::none, transport_effect::schema_change, fraud_pattern::none, "rate windows duration field change", "the field renamed or written as a string"},
    anomaly_kind_row{anomaly_kind::card_testing,        "card_testing",         anomaly_class::fraud,     "fraud",   episode_target::message, 30, 120, 3600,               false, false, false, false, value_effect::none, transport_effect::none, fraud_pattern::card_testing, "rate windows duration magnitude", "bursts of tiny online authorisations (magnitude: attempts per hour)"},
    anomaly_kind_row{anomaly_kind::account_takeover,    "account_takeover",     anomaly_class::fraud,     "fraud",   episode_target::message, 5, 20, 1e6,                  false, false, false, false, value_effect::none, transport_effect::none, fraud_pattern::account_takeover, "rate windows duration magnitude", "a new device buys expensive goods online (magnitude: times the usual amount)"},
    anomaly_kind_row{anomaly_kind::velocity_burst,      "velocity_burst",       anomaly_class::fraud,     "fraud",   episode_target::message, 10, 40, 1000,                false, false, false, false, value_effect::none, transport_effect::none, fraud_pattern::velocity_burst, "rate windows duration magnitude", "ordinary purchases, far too many (magnitude: times the usual rate)"},
    anomaly_kind_row{anomaly_kind::impossible_travel,   "impossible_travel",    anomaly_class::fraud,     "fraud",   episode_target::message, 1, 1, 1e6,                   false, false, false, false, value_effect::none, transport_effect::none, fraud_pattern::impossible_travel, "rate windows duration", "a cloned card used far away, minutes apart"},
    anomaly_kind_row{anomaly_kind::compromised_merchant,"compromised_merchant", anomaly_class::fraud,     "fraud",   episode_target::message, 1, 1, 1e6,                   false, false, false, false, value_effect::none, transport_effect::none, fraud_pattern::compromised_merchant, "rate window cards duration", "caught cards shop at one skimmed merchant"},
    anomaly_kind_row{anomaly_kind::concept_drift,       "concept_drift",        anomaly_class::drift,     "drift",   episode_target::field,   0, 0, unbounded, false, false, false, false, value_effect::none, transport_effect::none, fraud_pattern::none, "field shift scale start ramp end", "the level shifts and the noise scales, for good or until end"},
    anomaly_kind_row{anomaly_kind::regime,              "regime",               anomaly_class::regime,    "regime",  episode_target::field,   0, 0, unbounded, false, false, false, false, value_effect::none, transport_effect::none, fraud_pattern::none, "field rate windows duration shift scale cycle", "a normal regime: the level shifts by shift, the noise and stochastic parts scale, periodic parts' amplitude times cycle"},
}};
// clang-format on
static_assert(anomaly_kinds.in_enum_order());
inline constexpr std::size_t anomaly_kind_count = anomaly_kinds.size();

/// Selects the episode kinds written in [[group.<table>]] (for reading, `list`, tests).
constexpr auto written_in(std::string_view table) noexcept {
    return [table](const anomaly_kind_row& row) { return row.table == table; };
}

constexpr anomaly_class class_of(anomaly_kind k) noexcept {
    return anomaly_kinds[k].label_class;
}
/// Whether an episode of this kind silences its tick (the seq is skipped, and labelled).
constexpr bool silences(anomaly_kind k) noexcept {
    return anomaly_kinds[k].value == value_effect::silence ||
           anomaly_kinds[k].transport == transport_effect::silence;
}

/// What a schema_drift episode does to its field (its magnitude holds the value).
enum class schema_change { rename = 0, retype = 1 };
enum class anomaly_direction { up, down, both };

// ---------------------------------------------------------------------------------------------
// Load shapes: the target emission rate over wall time.

enum class load_shape { none, constant, ramp, step, spike, cycle, stages };
inline constexpr vocabulary load_shapes{std::array{
    kind_row<load_shape>{load_shape::none, "none", "", "no target rate: --speed paces"},
    kind_row<load_shape>{load_shape::constant, "constant", "rate", "a fixed rate"},
    kind_row<load_shape>{load_shape::ramp, "ramp", "from to over",
                         "from → to over a time, then to"},
    kind_row<load_shape>{load_shape::step, "step", "rates every",
                         "each rate for every, the last one holds"},
    kind_row<load_shape>{load_shape::spike, "spike", "base peak at for",
                         "base, with peak from at for a while"},
    kind_row<load_shape>{load_shape::cycle, "cycle", "mean amplitude period", "a sine around mean"},
    kind_row<load_shape>{load_shape::stages, "stages", "stages duration target",
                         "k6 stages: from 0, each ramps to its target over its duration; the "
                         "last target holds"},
}};
static_assert(load_shapes.in_enum_order());

/// The name of a kind as profiles write it.
constexpr std::string_view to_string(signal_kind k) noexcept {
    return signal_kinds[k].name;
}
constexpr std::string_view to_string(noise_kind k) noexcept {
    return noise_kinds[k].name;
}
constexpr std::string_view to_string(drift_kind k) noexcept {
    return drift_kinds[k].name;
}
constexpr std::string_view to_string(anomaly_kind k) noexcept {
    return anomaly_kinds[k].name;
}
constexpr std::string_view to_string(load_shape k) noexcept {
    return load_shapes[k].name;
}
constexpr std::string_view to_string(anomaly_class c) noexcept {
    return anomaly_class_names[static_cast<std::size_t>(c)];
}
/// The class named as in `list` and labels ("fraud"), if any.
constexpr std::optional<anomaly_class> parse_anomaly_class(std::string_view name) noexcept {
    for (std::size_t c = 0; c < anomaly_class_names.size(); ++c)
        if (anomaly_class_names[c] == name) return static_cast<anomaly_class>(c);
    return std::nullopt;
}
/// The kind named as in profiles ("level_shift"), if any.
constexpr std::optional<anomaly_kind> parse_anomaly_kind(std::string_view name) noexcept {
    if (const auto* row = anomaly_kinds.find(name)) return row->kind;
    return std::nullopt;
}

} // namespace synthfeed
