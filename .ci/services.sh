#!/usr/bin/env bash
# Sourced by .ci/run: makes sure every server and tool the tests need answers,
# so that no test skips in CI for want of one. Each step first asks whether
# the thing is already there (a developer machine usually has them running),
# and only then starts it, or installs its Debian package and starts it.
# Exports RTCP_TEST_DATABASE_URL and RTCP_TEST_REDIS_URL for the tests.

apt_updated=
apt_install() {
  command -v apt-get >/dev/null || { echo "ci: $* missing and no apt-get to install it" >&2; return 1; }
  [ -n "$apt_updated" ] || { apt-get update -qq >/dev/null; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# tmux: the dashboard's end-to-end test drives `npm start` in a real terminal.
command -v tmux >/dev/null || apt_install tmux

# PostgreSQL: the store's test matrix runs every store and HTTP test on it too.
export RTCP_TEST_DATABASE_URL=${RTCP_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
pg_answers() { node -e '
  const u = new URL(process.argv[1]);
  const s = require("net").connect(Number(u.port || 5432), u.hostname, () => { s.end(); process.exit(0) });
  s.on("error", () => process.exit(1)); setTimeout(() => process.exit(1), 2000);' "$RTCP_TEST_DATABASE_URL"; }
if ! pg_answers; then
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  cluster=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$(ls /etc/postgresql/"$cluster" 2>/dev/null)" ]; then pg_createcluster "$cluster" main >/dev/null; fi
  # Trust on loopback, as the tests' default URL expects (no password).
  hba=/etc/postgresql/$cluster/main/pg_hba.conf
  grep -q '^host all all 127.0.0.1/32 trust' "$hba" || sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$cluster" main start || pg_ctlcluster --skip-systemctl-redirect "$cluster" main restart
  for _ in $(seq 1 30); do pg_answers && break; sleep 1; done
  su postgres -c "psql -qtAc \"select 1 from pg_database where datname='test'\"" | grep -q 1 \
    || su postgres -c "createdb test"
fi
pg_answers || { echo "ci: PostgreSQL does not answer at $RTCP_TEST_DATABASE_URL" >&2; exit 1; }

# Redis: the proxy's replicas share limits, cache and the upstream gate in it.
export RTCP_TEST_REDIS_URL=${RTCP_TEST_REDIS_URL:-redis://127.0.0.1:6379}
redis_answers() { node -e '
  const u = new URL(process.argv[1]);
  const s = require("net").connect(Number(u.port || 6379), u.hostname, () => s.write("PING\r\n"));
  s.on("data", d => process.exit(String(d).startsWith("+PONG") ? 0 : 1));
  s.on("error", () => process.exit(1)); setTimeout(() => process.exit(1), 2000);' "$RTCP_TEST_REDIS_URL"; }
if ! redis_answers; then
  command -v redis-server >/dev/null || apt_install redis-server
  port=$(free_port)
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir /tmp \
    --logfile "/tmp/rtcp-ci-redis-$port.log" >/dev/null
  export RTCP_TEST_REDIS_URL=redis://127.0.0.1:$port
  for _ in $(seq 1 30); do redis_answers && break; sleep 0.2; done
fi
redis_answers || { echo "ci: Redis does not answer at $RTCP_TEST_REDIS_URL" >&2; exit 1; }

echo "ci: tmux $(tmux -V | cut -d' ' -f2), PostgreSQL at $RTCP_TEST_DATABASE_URL, Redis at $RTCP_TEST_REDIS_URL"
