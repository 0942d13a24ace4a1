# syntax=docker/dockerfile:1
# The ingest daemon for a sensor host (docs/operations.md, "Container").
#   docker build -t ingest .
# Stage 1 builds librdkafka 2.15.1 from source (Debian/Ubuntu ship older ones whose consumer lacks
# symbols Confluent.Kafka 2.15 calls); stage 2 publishes the .NET app and the static upcall helper;
# the runtime stage is the slim .NET runtime plus librdkafka's shared dependencies.
# Every stage is Ubuntu 24.04 (noble), so the library built in stage 1 links against the same
# libssl/libzstd/liblz4/libsasl2 the runtime stage installs.

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS librdkafka
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config python3 npm \
      libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The same script `make deps` runs: the source comes from a pinned npm package and is checked
# against RD_KAFKA_VERSION before it is built.
COPY scripts/build-librdkafka.sh scripts/
RUN bash scripts/build-librdkafka.sh

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends make gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY --from=librdkafka /src/.deps/librdkafka /src/.deps/librdkafka
# Restore first, from the project files alone, so source edits reuse the restore layer.
COPY Directory.Build.props Directory.Packages.props NuGet.config ./
COPY src/Ingest/Ingest.csproj src/Ingest/
COPY src/Ingest.Transports/Ingest.Transports.csproj src/Ingest.Transports/
COPY src/Ingest.Sinks/Ingest.Sinks.csproj src/Ingest.Sinks/
RUN dotnet restore src/Ingest/Ingest.csproj
COPY src/ src/
RUN dotnet publish src/Ingest/Ingest.csproj -c Release -o /out --no-restore -nologo \
 && make -s -C src/Ingest.Transports/Upcall/helper OUT=/out \
 && cp /src/.deps/librdkafka/lib/librdkafka.so.1 /out/

FROM mcr.microsoft.com/dotnet/runtime:10.0-noble AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3t64 zlib1g libzstd1 liblz4-1 libsasl2-2 libcurl4t64 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out /opt/ingest
# Runs as uid 0 because it opens /dev/kingest, writes allow-listed sysctls under the host's
# /proc/sys (bind-mounted at /host/proc/sys) and forces netlink receive buffers; the capability
# set is cut down at run time (compose: cap_drop ALL, cap_add NET_ADMIN).
ENV INGEST_RUNTIMEDIRECTORY=/run/ingest \
    INGEST_COMMANDS__SYSCTLROOT=/host/proc/sys \
    INGEST_COMMANDS__STATEDIRECTORY=/var/lib/ingest \
    DOTNET_gcServer=0
VOLUME ["/run/ingest", "/var/lib/ingest"]
WORKDIR /opt/ingest
ENTRYPOINT ["/opt/ingest/ingest"]
CMD ["run"]
