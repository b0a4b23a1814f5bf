# syntax=docker/dockerfile:1
#
# The tsdns image, laid out like CoreDNS's: one process, non-root (uid 65532),
# allowed to bind port 53 through a file capability on its executable, reading
# /etc/coredns/Corefile. Build it from the repository root:
#
#   docker build -t tsdns:dev .
#   docker run --rm -p 127.0.0.1:1053:53/udp -p 127.0.0.1:1053:53/tcp tsdns:dev
#
# examples/kubernetes/ runs it as a Deployment behind a Service.

ARG NODE_VERSION=20
ARG DEBIAN_RELEASE=bookworm

# --- build: install with pnpm, compile, then keep only what runs -------------
FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS build
ARG PNPM_VERSION=10.34.9
ENV CI=true
RUN apt-get update -qq \
    && apt-get install -qq -y --no-install-recommends libcap2-bin \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src

# Dependencies first: this layer stays cached until the lockfile changes.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN npx --yes pnpm@${PNPM_VERSION} fetch

# The `prepare` script builds everything (peggy, then tsc -b).
COPY . .
RUN npx --yes pnpm@${PNPM_VERSION} install --offline --frozen-lockfile

# Production dependencies only, compiled output only: no sources, tests,
# examples, type declarations or build tools.
RUN find . -name node_modules -prune -exec rm -rf {} + \
    && npx --yes pnpm@${PNPM_VERSION} install --offline --frozen-lockfile --prod --ignore-scripts \
    && rm -rf test examples scripts corefile-grammar packages/testing \
        packages/*/src packages/*/test packages/*/dist/test \
        plugins/*/src plugins/*/test plugins/*/dist/test \
    && find . -name '*.tsbuildinfo' -delete \
    && find packages plugins -path '*/dist/*' \( -name '*.d.ts' -o -name '*.map' \) -delete

# Port 53 without root: the same file capability CoreDNS's image puts on its
# binary. Kubernetes must also grant NET_BIND_SERVICE to the container (see
# examples/kubernetes/30-deployment.yaml).
RUN cp /usr/local/bin/node /node && setcap cap_net_bind_service=+ep /node

# --- runtime: the Node.js executable and the compiled workspace -------------
FROM debian:${DEBIAN_RELEASE}-slim
COPY --from=build /node /usr/local/bin/node
COPY --from=build /src /app
# The default configuration (kubeadm's cluster-DNS Corefile without the
# kubernetes block); a ConfigMap mounted on /etc/coredns replaces it.
COPY examples/Corefile.kubernetes-default /etc/coredns/Corefile
# Fails the build, not the pod, if the executable misses a library here.
RUN ["node", "--version"]
WORKDIR /app
USER 65532:65532
EXPOSE 53/udp 53/tcp 9153/tcp
ENTRYPOINT ["node", "packages/cli/bin/tsdns.js"]
CMD ["-conf", "/etc/coredns/Corefile"]
