# syntax=docker/dockerfile:1
# Multi-stage build on Debian 12: build with the project's own scripts, run slim and non-root.
FROM debian:12 AS build
WORKDIR /src
COPY scripts/setup scripts/setup
RUN SYNTHFEED_SETUP_BUILD_ONLY=1 ./scripts/setup && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake --preset release -DSYNTHFEED_BUILD_TESTS=OFF -DSYNTHFEED_BUILD_BENCH=OFF \
 && cmake --build --preset release --target synthfeed \
 && ./build/release/synthfeed --version

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libfmt9 libspdlog1.10 libtomlplusplus3 \
      librdkafka1 libpaho-mqttpp3-1 libpaho-mqtt1.3 libprometheus-cpp-core1.0 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent synthfeed
COPY --from=build /src/build/release/synthfeed /usr/local/bin/synthfeed
COPY profiles /etc/synthfeed/profiles
USER 10001
RUN synthfeed --version && synthfeed validate /etc/synthfeed/profiles/*.toml
ENTRYPOINT ["synthfeed"]
EXPOSE 9090
# A TCP probe of the HTTP port (no curl in the slim image); /livez itself answers 200.
HEALTHCHECK CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9090"]
CMD ["run", "/etc/synthfeed/profiles/cold_chain.toml", "--sink", "null:", "--speed", "1x", "--http", "0.0.0.0:9090"]
