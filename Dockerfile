# Svertka in a container: `docker build -t svertka . && docker run -p 8000:8000 -v svertka-data:/data svertka`
# (no build step: the front end is plain ES modules). Settings are SVERTKA_* variables (README).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies before the code, so this layer is rebuilt only when pyproject.toml changes.
# They are read from pyproject.toml itself (one list to maintain) and installed normally
# (not editable); the app runs from /app with `python -m server`, which finds its pages there.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The code: the package, the page templates and the static assets (sample photos included).
COPY server/ server/
COPY static/ static/
COPY templates/ templates/

# An unprivileged user that owns only the data directory.
RUN groupadd --system --gid 10001 svertka \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin svertka \
    && mkdir -p /data \
    && chown 10001:10001 /data
USER 10001:10001

# SVERTKA_WORKERS sets `svertka serve --workers`; uploads live in the /data volume (or in an
# S3-compatible store with SVERTKA_S3_URL, SVERTKA_S3_ENDPOINT and the AWS_* credentials).
ENV SVERTKA_HOST=0.0.0.0 \
    SVERTKA_PORT=8000 \
    SVERTKA_DATA_DIR=/data \
    SVERTKA_WORKERS=2
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('SVERTKA_PORT', '8000') + '/api/health', timeout=4)"]

CMD ["python", "-m", "server", "serve"]
