#include "src/analysis/fidelity_stats.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <memory>
#include <numbers>

#include <boost/math/statistics/univariate_statistics.hpp>
#include <fftw3.h>

namespace synthfeed {
namespace {

struct fftw_deleter {
    void operator()(void* p) const noexcept { fftw_free(p); }
};
template <class T>
using fftw_buffer = std::unique_ptr<T[], fftw_deleter>;

struct plan_deleter {
    void operator()(fftw_plan p) const noexcept { fftw_destroy_plan(p); }
};
using fftw_plan_ptr = std::unique_ptr<std::remove_pointer_t<fftw_plan>, plan_deleter>;

/// |X_j|^2 for j = 0..size/2 of `x` (demeaned by the caller) zero-padded to `size`.
std::vector<double> power_spectrum(const std::vector<double>& x, std::size_t size) {
    fftw_buffer<double> in(fftw_alloc_real(size));
    fftw_buffer<fftw_complex> out(fftw_alloc_complex(size / 2 + 1));
    // FFTW_ESTIMATE plans without timing trial runs (and without overwriting `in`).
    const fftw_plan_ptr plan(
        fftw_plan_dft_r2c_1d(static_cast<int>(size), in.get(), out.get(), FFTW_ESTIMATE));
    std::fill(in.get(), in.get() + size, 0.0);
    std::copy(x.begin(), x.end(), in.get());
    fftw_execute(plan.get());
    std::vector<double> power(size / 2 + 1);
    for (std::size_t j = 0; j < power.size(); ++j)
        power[j] = out[j][0] * out[j][0] + out[j][1] * out[j][1];
    return power;
}

std::vector<double> demeaned(const std::vector<double>& v) {
    const double m = sample_moments(v).mean;
    std::vector<double> out(v.size());
    std::transform(v.begin(), v.end(), out.begin(), [m](double x) { return x - m; });
    return out;
}

} // namespace

double ks_distance(std::vector<double> a, std::vector<double> b) {
    if (a.empty() || b.empty()) return 0;
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
    std::size_t i = 0, j = 0;
    double d = 0;
    while (i < a.size() && j < b.size()) {
        const double x = std::min(a[i], b[j]);
        while (i < a.size() && a[i] == x) ++i; // ties step both ECDFs at once
        while (j < b.size() && b[j] == x) ++j;
        d = std::max(d, std::abs(static_cast<double>(i) / na - static_cast<double>(j) / nb));
    }
    return d;
}

moments sample_moments(const std::vector<double>& v) {
    if (v.empty()) return {};
    if (v.size() == 1) return {v.front(), 0};
    const auto [mean, variance] = boost::math::statistics::mean_and_sample_variance(v);
    return {mean, std::sqrt(variance)};
}

std::vector<double> standardised(const std::vector<double>& v) {
    if (v.empty()) return {};
    const std::vector<double> q = sample_quantiles_at(v, {0.25, 0.5, 0.75});
    const double centre = q[1], iqr = q[2] - q[0];
    double scale = iqr / 1.349; // a normal's sd
    if (!(scale > 0)) scale = sample_moments(v).stddev;
    if (!(scale > 0)) scale = 1;
    std::vector<double> out(v.size());
    std::transform(v.begin(), v.end(), out.begin(),
                   [centre, scale](double x) { return (x - centre) / scale; });
    return out;
}

std::vector<double> sample_quantiles_at(std::vector<double> v, const std::vector<double>& p) {
    if (v.empty()) return {};
    std::sort(v.begin(), v.end());
    std::vector<double> q;
    const double last = static_cast<double>(v.size() - 1);
    for (double prob : p) {
        const double h = last * prob;
        const auto lo = static_cast<std::size_t>(std::floor(h));
        const std::size_t hi = std::min(lo + 1, v.size() - 1);
        q.push_back(v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]));
    }
    return q;
}

std::vector<double> autocorrelation(const std::vector<double>& v, std::size_t max_lag) {
    std::vector<double> r(max_lag + 1, 0.0);
    if (v.empty()) return r;
    // Padding to 2n or more keeps the circular correlation from wrapping into the lags.
    std::size_t size = 1;
    while (size < 2 * v.size()) size *= 2;
    const std::vector<double> power = power_spectrum(demeaned(v), size);
    fftw_buffer<fftw_complex> in(fftw_alloc_complex(power.size()));
    fftw_buffer<double> out(fftw_alloc_real(size));
    const fftw_plan_ptr plan(
        fftw_plan_dft_c2r_1d(static_cast<int>(size), in.get(), out.get(), FFTW_ESTIMATE));
    for (std::size_t j = 0; j < power.size(); ++j) in[j][0] = power[j], in[j][1] = 0;
    fftw_execute(plan.get());
    const double c0 = out[0];
    if (!(c0 > 1e-12 * size)) { // constant: no variance to correlate
        r[0] = 1;
        return r;
    }
    for (std::size_t k = 0; k <= max_lag && k < v.size(); ++k) r[k] = out[k] / c0;
    return r;
}

std::vector<double> periodogram(const std::vector<double>& v) {
    if (v.size() < 2) return {};
    const std::vector<double> power = power_spectrum(demeaned(v), v.size());
    std::vector<double> p(power.begin() + 1, power.begin() + 1 + v.size() / 2);
    double total = 0;
    for (double x : p) total += x;
    for (double& x : p) x = total > 0 ? x / total : 0;
    return p;
}

std::size_t welch_segment(std::size_t n) {
    if (n < 32) return n;
    std::size_t segment = 16;
    while (segment * 2 <= n / 16) segment *= 2;
    return segment;
}

std::vector<double> welch_spectrum(const std::vector<double>& v, std::size_t segment) {
    if (segment < 2 || v.size() < segment + segment / 2) return periodogram(v);
    std::vector<double> window(segment);
    for (std::size_t t = 0; t < segment; ++t) // periodic Hann: overlapping halves sum to 1
        window[t] = 0.5 - 0.5 * std::cos(2 * std::numbers::pi * static_cast<double>(t) /
                                         static_cast<double>(segment));
    std::vector<double> sum(segment / 2, 0.0);
    for (std::size_t start = 0; start + segment <= v.size(); start += segment / 2) {
        std::vector<double> x =
            demeaned({v.begin() + static_cast<std::ptrdiff_t>(start),
                      v.begin() + static_cast<std::ptrdiff_t>(start + segment)});
        for (std::size_t t = 0; t < segment; ++t) x[t] *= window[t];
        const std::vector<double> power = power_spectrum(x, segment);
        for (std::size_t j = 0; j < sum.size(); ++j) sum[j] += power[j + 1];
    }
    double total = 0;
    for (double x : sum) total += x;
    for (double& x : sum) x = total > 0 ? x / total : 0;
    return sum;
}

double spectral_distance(const std::vector<double>& p, const std::vector<double>& q) {
    double d = 0;
    for (std::size_t j = 0; j < p.size() && j < q.size(); ++j) d += std::abs(p[j] - q[j]);
    return d;
}

double acf_rmse(const std::vector<double>& a, const std::vector<double>& b) {
    const std::size_t n = std::min(a.size(), b.size());
    if (n < 2) return 0;
    double s = 0;
    for (std::size_t k = 1; k < n; ++k) s += (a[k] - b[k]) * (a[k] - b[k]);
    return std::sqrt(s / static_cast<double>(n - 1));
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    return boost::math::statistics::median(v.begin(), v.end());
}

std::vector<double> quantiles(std::vector<double> v, std::size_t count) {
    if (v.empty()) return {};
    std::sort(v.begin(), v.end());
    std::vector<double> q(count);
    for (std::size_t i = 0; i < count; ++i) {
        const double pos = (static_cast<double>(i) + 0.5) / static_cast<double>(count) *
                               static_cast<double>(v.size()) -
                           0.5;
        const double clamped = std::clamp(pos, 0.0, static_cast<double>(v.size() - 1));
        const auto lo = static_cast<std::size_t>(clamped);
        const std::size_t hi = std::min(lo + 1, v.size() - 1);
        q[i] = v[lo] + (clamped - static_cast<double>(lo)) * (v[hi] - v[lo]);
    }
    return q;
}

} // namespace synthfeed
