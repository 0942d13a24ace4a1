# syntax=docker/dockerfile:1
# The ingest daemon for a sensor host (docs/operations.md, "Container").
#   docker build -t ingest .
# The build stage publishes `ingest` as a NativeAOT executable for the image's architecture (as
# `make build` does: ILCompiler from NuGet, linked by clang/lld; librdkafka comes from the
# librdkafka.redist NuGet package, beside the binary) and builds the static upcall helper. The
# runtime stage needs no .NET runtime: runtime-deps carries libc, and the OpenSSL that .NET's
# cryptography loads (key ids, ECDSA signatures). The redist's centos8-librdkafka.so links
# OpenSSL, zstd, lz4 and curl statically, so the runtime image needs no extra libraries.

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
ARG TARGETARCH=amd64
RUN apt-get update \
 && apt-get install -y --no-install-recommends make gcc libc6-dev clang lld zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Restore first, from the project files alone, so source edits reuse the restore layer.
COPY Directory.Build.props Directory.Packages.props NuGet.config ./
COPY src/Ingest/Ingest.csproj src/Ingest/
COPY src/Ingest.Transports/Ingest.Transports.csproj src/Ingest.Transports/
COPY src/Ingest.Sinks/Ingest.Sinks.csproj src/Ingest.Sinks/
RUN rid="linux-$(echo "$TARGETARCH" | sed 's/amd64/x64/')" \
 && dotnet restore src/Ingest/Ingest.csproj -r "$rid"
COPY src/ src/
RUN rid="linux-$(echo "$TARGETARCH" | sed 's/amd64/x64/')" \
 && dotnet publish src/Ingest/Ingest.csproj -c Release -r "$rid" -o /out --no-restore -nologo \
 && rm -f /out/*.dbg /out/*.pdb \
 && make -s -C src/Ingest.Transports/Upcall/helper OUT=/out

FROM mcr.microsoft.com/dotnet/runtime-deps:10.0-noble AS runtime
COPY --from=build /out /opt/ingest
# Runs as uid 0 because it opens /dev/kingest, writes allow-listed sysctls under the host's
# /proc/sys (bind-mounted at /host/proc/sys) and forces netlink receive buffers; the capability
# set is cut down at run time (compose: cap_drop ALL, cap_add NET_ADMIN and SYS_NICE).
ENV INGEST_RUNTIMEDIRECTORY=/run/ingest \
    INGEST_COMMANDS__SYSCTLROOT=/host/proc/sys \
    INGEST_COMMANDS__STATEDIRECTORY=/var/lib/ingest
VOLUME ["/run/ingest", "/var/lib/ingest"]
WORKDIR /opt/ingest
ENTRYPOINT ["/opt/ingest/ingest"]
CMD ["run"]
