# portal — rent-payment portal simulator. SQLite in the /data volume by default;
# set PORTAL_DATABASE_URL=postgresql+psycopg://... to use PostgreSQL instead.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORTAL_DATABASE_URL=sqlite:////data/portal.db

RUN useradd --create-home --uid 10001 portal \
    && mkdir -p /data /app \
    && chown portal:portal /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY portal ./portal
COPY seed_data ./seed_data
RUN pip install .

USER portal
VOLUME ["/data"]
# 8100: the reference AMSI eSite, when the image runs `portal reference amsi` (README).
EXPOSE 8000 8100

HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"

CMD ["portal", "serve", "--host", "0.0.0.0", "--port", "8000"]
