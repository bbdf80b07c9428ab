# syntax=docker/dockerfile:1
# Multi-stage build on Debian 12: build with the project's own scripts, run slim and non-root.
#
#   docker build -t synthfeed:local .
#   docker run --rm -p 9090:9090 synthfeed:local        # cold_chain at 1x into null:, /metrics on :9090
#   docker run --rm synthfeed:local run /etc/synthfeed/profiles/factory_vibration.toml --count 5
#
# Profiles are baked into /etc/synthfeed/profiles. To use your own, mount a directory over it
# (it replaces the baked-in set) and name the file, e.g.
#   docker run --rm -v "$PWD/my-profiles:/etc/synthfeed/profiles:ro" synthfeed:local \
#     run /etc/synthfeed/profiles/mine.toml --speed 1x --http 0.0.0.0:9090 --sink kafka://broker:9092/t
# Every flag also has an env twin (SYNTHFEED_SINK, SYNTHFEED_RATE, SYNTHFEED_PROFILE, ...).
# The health check probes port 9090; serve /livez elsewhere with --http and set HEALTHCHECK_PORT.

FROM debian:12 AS build
WORKDIR /src
COPY scripts/setup scripts/setup
RUN SYNTHFEED_SETUP_BUILD_ONLY=1 ./scripts/setup && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake --preset release -DSYNTHFEED_BUILD_TESTS=OFF -DSYNTHFEED_BUILD_BENCH=OFF \
 && cmake --build --preset release --target synthfeed \
 && ./build/release/synthfeed --version

FROM debian:12-slim
# The shared libraries the binary links (tests/integration/test_container_files.py checks this
# list against the binary's NEEDED entries); ca-certificates for TLS brokers with public CAs.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libfmt9 libspdlog1.10 libtomlplusplus3 \
      librdkafka1 libmosquitto1 libprometheus-cpp-core1.0 libboost-url1.81.0 libssl3 \
      libfftw3-double3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 synthfeed \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/synthfeed --create-home synthfeed
COPY --from=build /src/build/release/synthfeed /usr/local/bin/synthfeed
COPY profiles /etc/synthfeed/profiles
# Numeric user so Kubernetes' runAsNonRoot can verify it; a writable working directory for
# file: sinks and --summary-json.
USER 10001:10001
WORKDIR /var/lib/synthfeed
# Smoke step: the binary starts with the slim image's libraries and the baked-in profiles load.
RUN synthfeed --version && synthfeed validate /etc/synthfeed/profiles/*.toml
EXPOSE 9090
# GET /livez must answer "HTTP/1.x 200"; a closed port, a hang (read -t) or any other status
# fails. bash's /dev/tcp because the slim image has no curl or wget.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${HEALTHCHECK_PORT:-9090} && printf 'GET /livez HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && IFS= read -r -t 3 status <&3 && [[ $status == *' 200 '* ]]"]
ENTRYPOINT ["synthfeed"]
CMD ["run", "/etc/synthfeed/profiles/cold_chain.toml", "--sink", "null:", "--speed", "1x", "--http", "0.0.0.0:9090"]
