# A small image that serves Svertka on port 8000 (no build step: the front end is plain ES modules).
FROM python:3.11-slim
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir -e .
ENV SVERTKA_HOST=0.0.0.0 SVERTKA_DATA_DIR=/data
VOLUME /data
EXPOSE 8000
CMD ["svertka", "serve"]
