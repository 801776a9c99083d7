# radar in a small image, `radar` as its entrypoint:
#   docker build -t radar-ci .
#   docker run --rm -v "$PWD:/src" radar-ci scan /src
# The build context is only what the wheel is made of (see .dockerignore).
ARG PYTHON_IMAGE=python:3.11-slim

# Stage 1: the wheel, built as `python -m build` would (setuptools comes through pip's build
# isolation and stays in this stage).
FROM ${PYTHON_IMAGE} AS wheel
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

# Stage 2: the wheel and its dependencies (all published as binary wheels for x86_64 and
# aarch64, so no compiler), and git, which history scans run.
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="radar" \
      org.opencontainers.image.description="Keeps CI secrets where they belong: masking, Vault secrets for every GitLab tier, credential scanning." \
      org.opencontainers.image.url="https://pypi.org/project/radar-ci/" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN apt-get update \
    && apt-get install --yes --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*
COPY --from=wheel /dist /tmp/dist
RUN pip install --no-cache-dir /tmp/dist/*.whl \
    && rm -rf /tmp/dist \
    && useradd --create-home --uid 10001 radar
# Not root: radar reads what it scans and writes only its reports and its fingerprint key
# (~/.config/radar; set RADAR_FINGERPRINT_KEY to compare fingerprints across runs).
USER radar
# One scan of an empty directory compiles the keyword databases and plan into ~/.cache/radar, so
# that every container's scans start warm (~0.6 s less each; a host lacking a CPU feature of the
# build host compiles afresh). The fingerprint key is for this step only: none is kept in the image.
RUN mkdir /tmp/warm-up && RADAR_FINGERPRINT_KEY=warm-up radar scan /tmp/warm-up && rmdir /tmp/warm-up
WORKDIR /src
ENTRYPOINT ["radar"]
CMD ["--help"]
