#pragma once
/// The fleet plan: a validated, typed profile. Config code builds it from TOML; device models
/// read it. Plain data, no behaviour, so every layer below config can depend on it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/config/kinds.hpp"
#include "src/core/time.hpp"

namespace synthfeed {

/// A numeric parameter that may vary per device: [lo, hi] is drawn once per device (uniform).
struct spread_param {
    double lo = 0;
    double hi = 0;
    bool varies() const noexcept { return lo != hi; }
};

/// One cosine component of a seasonal signal.
struct periodic_component {
    spread_param amplitude;
    sim_duration period = 0;
    double inverse_period = 0; ///< 1 / period: a first guess of the phase without a division
    sim_duration peak = 0;     ///< offset of the maximum within the period, from the Unix epoch
};

struct schedule_point {
    sim_duration offset = 0; ///< within the period, from the Unix epoch (midnight UTC for 24h)
    double value = 0;
};

struct signal_spec {
    signal_kind kind = signal_kind::constant;
    spread_param level; ///< constant value, mean (periodic, ou) or start (walk, counter)
    std::vector<periodic_component> components; ///< seasonal, or the single one of sine/square/…
    double duty = 0.5;                          ///< square: fraction of the period high
    spread_param step;              ///< random_walk: stddev of a step; ou: sigma per tick
    double reversion = 0.1;         ///< ou: fraction of the distance to the mean closed per tick
    std::optional<double> min, max; ///< random_walk reflecting bounds
    std::vector<schedule_point> points;
    sim_duration schedule_period = ms_per_day;
    bool interpolate = false; ///< schedule: linear between points instead of steps
    spread_param rate;        ///< counter: units per second
    double rate_noise = 0;    ///< counter: relative stddev of each increment
    // states
    std::vector<std::string> state_names;
    std::vector<std::pair<sim_duration, sim_duration>> dwell; ///< per state: time spent there
    std::vector<std::vector<double>> next_state; ///< per state: cumulative odds of each next one
    // derived: table[value of `from`] (a state field) or offset + scale × value
    std::string from_name;
    int from = -1;
    std::vector<double> table;
    double scale = 1, offset = 0;
    /// sum: when set, the parts' total (in latent normal units) is mapped through Φ and these
    /// quantiles, a Gaussian copula of the whole signal.
    /// ou: an empirical marginal (quantiles at probabilities 0, 1/n, ..., 1). When set, the
    /// process runs as a unit-variance AR(1) and is mapped through the normal CDF and these
    /// quantiles (a Gaussian copula): the part's distribution is the quantiles', its
    /// correlation the AR(1)'s.
    std::vector<double> marginal;
    /// The probabilities of the marginal's quantiles when not evenly spaced (from 0 to 1,
    /// increasing): denser in the tails, where a heavy-tailed series needs them.
    std::vector<double> marginal_probabilities;
    /// ou with a marginal: a latent z = Σ √shareᵢ·zᵢ + √(1 − Σ shareᵢ)·ε of unit-variance
    /// AR(1)s zᵢ (lag-1 correlation 1 − reversionsᵢ, one state slot each from state_slot on)
    /// and white ε, mapped through the marginal: a correlation of two time scales. Empty: the
    /// single AR(1) of `reversion`.
    std::vector<double> reversions, shares;
    /// sum: the parts, each a summable kind (kinds.hpp), added.
    std::vector<signal_spec> parts;
    /// Which of the field's two state slots (field_state::signal, ::drift) this signal or
    /// part keeps its sequential value in; -1 when it has none.
    int state_slot = -1;
};

struct noise_spec {
    noise_kind kind = noise_kind::none;
    spread_param scale; ///< stddev, half-width, laplace scale or t scale
    double df = 3;      ///< student_t degrees of freedom
    /// The scale grows with the level: scale + relative × |signal| (heteroscedastic noise).
    double relative = 0;
    /// Factors by UTC hour of day (24, or empty): the scale is multiplied by the hour's.
    std::vector<double> hourly;
};

struct drift_spec {
    drift_kind kind = drift_kind::none;
    spread_param amount; ///< linear: per day; exponential: scale; random_walk: step stddev
    sim_duration tau = ms_per_day; ///< exponential time constant
};

/// How a field's value is written: a number, or (transaction groups) an index into a table
/// of strings, or an identifier written in hex.
enum class field_format { number, text, hex };

struct field_spec {
    std::string name;
    field_format format = field_format::number;
    std::vector<std::string> text; ///< text: the strings values index
    std::string hex_prefix;        ///< hex: written before the hex digits
    double driver = 0;             ///< loading on the group's shared latent driver
    bool integer = false;
    int precision = 3;     ///< decimals printed
    double resolution = 0; ///< quantisation step; 0 = none
    /// 1 / resolution: the hot path multiplies instead of dividing (for 0.1 it is exactly 10).
    double inverse_resolution = 0;
    std::optional<double> min, max;
    signal_spec signal;
    noise_spec noise;
    drift_spec drift;
};

struct anomaly_window {
    sim_time start = 0;
    sim_time end = 0;
    bool relative = false;              ///< start/end are offsets from the run start
    std::vector<std::uint32_t> devices; ///< local indices in the group, sorted; empty = all
    std::optional<double> magnitude;    ///< overrides the spec's (a compromised merchant's index)
};

struct anomaly_spec {
    anomaly_kind kind = anomaly_kind::spike;
    int field = -1;         ///< index into group fields; -1 for dropout
    double rate_per_ms = 0; ///< Poisson arrivals per device; 0 = windows only
    spread_param magnitude{1, 1};
    sim_duration duration_lo = 0, duration_hi = 0;
    anomaly_direction direction = anomaly_direction::up;
    std::vector<anomaly_window> windows;
    /// compromised_merchant: how often a merchant is compromised (per group), for how long,
    /// and the share of cards that shop there meanwhile. Windows are drawn from these per run.
    double events_per_ms = 0;
    sim_duration event_length = 0;
    double participation = 0;
    /// Windows drawn per run, indexed by device (CSR: device d's are
    /// device_windows[device_windows_start[d] .. device_windows_start[d + 1]]), so a device
    /// never scans windows it has no part in.
    std::vector<std::uint32_t> device_windows_start, device_windows;
    /// A cascade: this dropout mirrors anomaly `cause_anomaly` of each device's parent in
    /// group `cause_group` (its gateway): the parent's episodes, seen by its children.
    int cause_group = -1;
    std::uint32_t cause_anomaly = 0;
    /// concept_drift: how long the change takes to set in (0: abrupt) and the noise factor it
    /// reaches (magnitude is the shift of the level). regime: the noise factor while it lasts.
    sim_duration ramp = 0;
    double noise_scale = 1;
    /// regime: what periodic parts' amplitudes are multiplied by while it lasts.
    double cycle_scale = 1;
    /// `run --no-anomalies` (or `--remove-class`): the episodes are still scheduled, so every
    /// other draw, arrival and seq stays that of the labelled run, but they neither act nor
    /// appear in the truth; a card's transactions during a removed fraud episode are not sent.
    bool removed = false;
};

/// The end of an episode that never ends (a concept drift without `end`): far past any run.
inline constexpr sim_duration open_ended = 1000LL * 365 * ms_per_day;

/// A latent factor all devices of a group share (weather, building load): a daily cycle plus
/// smooth noise through random knots. Fields load on it with `driver = k`.
struct driver_spec {
    double daily_amplitude = 0;
    sim_duration daily_peak = 15 * 3'600'000;
    double stddev = 1;
    sim_duration every = 2 * 3'600'000; ///< knot spacing of the noise
};

/// A spending category of a transaction feed.
struct transaction_category {
    std::string name;
    std::string mcc;          ///< ISO 18245 merchant category code
    double share = 0;         ///< of a card's transactions
    double median_amount = 0; ///< lognormal amounts
    double amount_sigma = 0;
    double ecommerce = 0; ///< share of card-not-present transactions
};

/// Poisson arrivals with a daily and weekly rhythm (event sensors, card transactions).
struct arrival_spec {
    double rate_per_ms = 0; ///< on average
    sim_duration daily_peak = 13 * ms_per_hour;
    double daily_amplitude = 0.6; ///< 0: flat; 1: no arrivals at the trough
    double weekend = 1.2;         ///< Saturday and Sunday multiplier
};

/// A transaction feed: each device is a payment card with a home town; transactions arrive as
/// a Poisson process with daily and weekly seasonality at merchants near home.
struct transaction_spec {
    arrival_spec arrivals; ///< per card
    std::string currency = "EUR";
    std::uint32_t merchants = 1000;
    std::uint32_t towns = 50;
    double lat_lo = 43, lat_hi = 51, lon_lo = -1.5, lon_hi = 7.5; ///< where towns are
    std::vector<transaction_category> categories;
};

/// Field order of a transaction group's messages (group_spec::fields holds them, in order).
enum transaction_field : std::size_t {
    tx_amount,
    tx_currency,
    tx_merchant,
    tx_category,
    tx_mcc,
    tx_channel,
    tx_lat,
    tx_lon,
    tx_device,
    tx_field_count
};

struct group_spec {
    std::string name;
    std::uint64_t count = 1;
    std::string id_template;
    sim_duration interval = ms_per_second;
    sim_duration jitter = 0;
    bool random_phase = true;
    std::vector<field_spec> fields;
    std::vector<anomaly_spec> anomalies;
    std::optional<transaction_spec> transactions; ///< set: a transaction feed, fields derived
    std::optional<driver_spec> driver;
    std::optional<arrival_spec> arrivals; ///< event sensors: Poisson times, not an interval
    int parent = -1; ///< group whose devices are this group's gateways (cascading dropouts)
};

/// The highest target rate a load shape or --rate may ask for: the pacer schedules sends in
/// whole nanoseconds, so beyond one message per nanosecond a gap rounds to nothing.
inline constexpr double max_target_rate = 1e9;

/// One stage of a `stages` load, as k6 writes it: the rate moves linearly from where the
/// previous stage ended (0 before the first) to `target` over `duration`; a stage of 0 ms
/// jumps there.
struct load_stage {
    sim_duration duration = 0; ///< milliseconds, >= 0
    double target = 0;         ///< messages per second at the stage's end, 0..max_target_rate
    bool operator==(const load_stage&) const = default;
};

/// Target emission rate over wall time (messages per second), for load tests.
struct load_spec {
    load_shape shape = load_shape::none;
    double rate = 0;                  ///< constant; spike: base; cycle: mean
    double from = 0, to = 0;          ///< ramp
    sim_duration over = 0;            ///< ramp: how long the ramp takes (then holds `to`)
    std::vector<double> steps;        ///< step: successive rates
    sim_duration every = 0;           ///< step: how long each lasts (the last one holds)
    double peak = 0;                  ///< spike
    sim_duration at = 0, lasting = 0; ///< spike window
    double amplitude = 0;             ///< cycle
    sim_duration period = 0;          ///< cycle
    std::vector<load_stage> stages;   ///< stages: in order; the last target holds after them
};

/// A connector option from the profile (a connector's table: [kafka], [mqtt]), kept as text.
struct passthrough_property {
    std::string name;
    std::string value;
    int line = 0;
    int column = 0;
};

/// A connector's table in the profile, its options unchecked here: the connector checks them
/// (`synthfeed validate`, and `run` for the sinks it opens).
struct connector_table {
    std::string scheme; ///< the table's name, its connector's ("mqtt" also serves mqtts://)
    std::vector<passthrough_property> properties; ///< in file order
};

struct profile {
    std::string path;
    std::string name;
    std::string description;
    std::uint64_t seed = 0;
    std::optional<sim_time> start;
    std::vector<group_spec> groups;
    std::vector<connector_table> connectors; ///< connector options, lowest precedence
    load_spec load;                          ///< [load]: emission rate shape (--rate overrides)
    /// Every payload at least this many bytes, through a padding member, field or column
    /// (--pad-to; no profile key); 0: no padding.
    std::size_t pad_to = 0;

    std::uint64_t device_count() const noexcept {
        std::uint64_t n = 0;
        for (const auto& g : groups) n += g.count;
        return n;
    }
    /// Messages per second of the whole fleet at its nominal cadence.
    double nominal_rate() const noexcept {
        double r = 0;
        for (const auto& g : groups)
            r += static_cast<double>(g.count) * 1000.0 / static_cast<double>(g.interval);
        return r;
    }
};

} // namespace synthfeed
