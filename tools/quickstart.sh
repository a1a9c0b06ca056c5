#!/usr/bin/env bash
# From a fresh Debian 12 checkout to a real query, in one command:
#
#   bash tools/quickstart.sh
#
# Installs the build dependencies (tests/server/deps.txt), builds build/,
# starts a throwaway MariaDB in a temporary directory (tests/server/mariadb.sh;
# no system service is started or used), runs a query through the mywire CLI
# and through the C example (tests/consumer/example.c, built with pkg-config),
# then stops the server.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

echo "== installing the build dependencies"
bash tests/server/install-deps.sh

echo "== building build/"
[[ -f build/build.ninja ]] || meson setup build
ninja -C build -j 2

echo "== starting a throwaway MariaDB"
server_dir=$(mktemp -d "${TMPDIR:-/tmp}/mywire-server.XXXXXX")
trap 'bash "$root/tests/server/mariadb.sh" stop "$server_dir"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
bash tests/server/mariadb.sh start "$server_dir"
# shellcheck source=/dev/null
source "$server_dir/env"
uri="mysql://$MYWIRE_TEST_USER:$MYWIRE_TEST_PASSWORD@$MYWIRE_TEST_HOST:$MYWIRE_TEST_PORT/$MYWIRE_TEST_DB"

echo "== build/tools/mywire --uri \"$uri\" -e \"SELECT VERSION(), NOW()\""
build/tools/mywire --uri "$uri" -e "SELECT VERSION(), NOW()"

# The uninstalled package: pkg-config finds build/meson-uninstalled/mywire-uninstalled.pc
# for "mywire", which points into the build tree.
echo "== cc tests/consumer/example.c \$(pkg-config --cflags --libs mywire) -o build/example"
export PKG_CONFIG_PATH=$root/build/meson-uninstalled
# shellcheck disable=SC2046 # the flags are words on purpose
cc tests/consumer/example.c $(pkg-config --cflags --libs mywire) -o build/example
echo "== build/example \"$uri\""
LD_LIBRARY_PATH=$root/build/capi build/example "$uri"

echo "== quickstart done; stopping the server"
