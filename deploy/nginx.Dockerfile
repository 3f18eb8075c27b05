# compose's nginx: the nginx scripts/stack runs and tests/stack/ tests, Debian's, with
# Debian's brotli module (the official nginx image has none), so that the .br copies
# collectstatic writes reach browsers. The template is mounted (docker-compose.yml);
# nginx-start fills it in from the container's environment and runs nginx.
FROM debian:bookworm-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx libnginx-mod-http-brotli-static gettext-base \
    && rm -rf /var/lib/apt/lists/*

COPY nginx-start.sh /usr/local/bin/nginx-start
EXPOSE 80
# nginx's graceful stop: open connections finish first.
STOPSIGNAL SIGQUIT
CMD ["nginx-start"]
