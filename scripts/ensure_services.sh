#!/usr/bin/env bash
# Start the services the tests use (PostgreSQL; redis-server, which job tests start privately) when they are
# not running; install them if missing.
set -euo pipefail

pg_up() { (echo > /dev/tcp/127.0.0.1/5432) 2>/dev/null; }

if ! pg_up; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "Installing PostgreSQL..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "Starting PostgreSQL $version..."
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
pg_up || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
# Tests connect as postgres over TCP without a password (trust), as on the development machines.
psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null \
  || { echo "Cannot connect to PostgreSQL as postgres on 127.0.0.1 (trust auth expected)" >&2; exit 1; }
echo "PostgreSQL is up."

# Job tests start their own redis-server on a free port (so they can restart it); they need the binary.
if ! command -v redis-server >/dev/null 2>&1; then
  echo "Installing redis-server..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
echo "redis-server is installed ($(redis-server --version | cut -d' ' -f3))."

# The Discord bot's voice tests decode real Opus with the libopus discord.py loads.
if ! ldconfig -p 2>/dev/null | grep -q 'libopus\.so\.0'; then
  echo "Installing libopus0..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopus0 >/dev/null
fi
echo "libopus is installed."
