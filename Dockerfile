# mod_todo's container image (docs/container.md): the Debian package built
# in a full Debian 12 and installed into a slim one, with Apache running as
# an unprivileged user, configured from the environment.
#
#   docker build -t mod_todo .
#   docker run --rm -e DATABASE_URL=... mod_todo migrate
#   docker run -d -p 8080:8080 -e DATABASE_URL=... -e BETTER_AUTH_SECRET=... mod_todo

# ------------------------------------------------------------ the package
FROM debian:bookworm AS build
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /build/mod-todo
# The Build-Depends of debian/control first: this layer is kept while
# only the sources change.
COPY debian/control debian/changelog debian/
RUN apt-get update \
 && apt-get install -y --no-install-recommends dpkg-dev \
 && apt-get build-dep -y --no-install-recommends ./ \
 && rm -rf /var/lib/apt/lists/*
COPY . .
# Leaves ../libapache2-mod-todo_VERSION_ARCH.deb (its cmocka unit tests
# run on the way, as in any build of the package).
RUN dpkg-buildpackage -us -uc -b

# ---------------------------------------------------------------- runtime
FROM debian:bookworm-slim
ENV DEBIAN_FRONTEND=noninteractive
COPY --from=build /build/libapache2-mod-todo_*.deb /tmp/
# The package pulls Apache's binaries (apache2-bin: no Debian site
# configuration) and mod_dbd's PostgreSQL driver.  sqitch, its PostgreSQL
# driver and psql are for "migrate"; curl for the health check;
# ca-certificates for https JWKS URLs and verified database TLS.
RUN apt-get update \
 && apt-get install -y --no-install-recommends /tmp/libapache2-mod-todo_*.deb \
      ca-certificates curl sqitch libdbd-pg-perl postgresql-client \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /tmp/*.deb \
 && groupadd --system --gid 10001 todo \
 && useradd --system --uid 10001 --gid todo --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin todo \
 && install -d -o 10001 -g 0 -m 0775 /run/mod_todo \
 && install -d -m 0755 /etc/mod_todo /usr/share/mod_todo/empty
COPY container/httpd.conf /etc/mod_todo/httpd.conf
COPY container/entrypoint.sh /usr/local/bin/todo-entrypoint

USER 10001:10001
ENV PORT=8080
EXPOSE 8080
# Apache's graceful stop: requests in flight are answered first.
STOPSIGNAL SIGWINCH
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${PORT}/api/health" || exit 1
ENTRYPOINT ["/usr/local/bin/todo-entrypoint"]
CMD ["serve"]
