# The pubmine binary on Debian, with the ONNX Runtime library it loads at run time; used by
# compose.yaml.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3-pip \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin pubmine
# The library from the PyPI wheel, as scripts/install-onnxruntime.sh unpacks it.
RUN PUBMINE_TOOLS=/opt/pubmine scripts/install-onnxruntime.sh

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/pubmine /usr/local/bin/pubmine
COPY --from=build /opt/pubmine/onnxruntime-1.31.0/ /opt/onnxruntime/
COPY --from=build /src/models/ /models/
ENV ORT_DYLIB_PATH=/opt/onnxruntime/libonnxruntime.so.1.31.0
ENTRYPOINT ["pubmine"]
