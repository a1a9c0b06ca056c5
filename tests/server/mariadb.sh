#!/usr/bin/env bash
# A throwaway MariaDB server for the integration tests.
#
#   tests/server/mariadb.sh start DIR   install a fresh server into DIR, start it
#                                       and write DIR/env (export lines)
#   tests/server/mariadb.sh stop DIR    stop that server and remove DIR
#
# The server runs as the current user (root is fine), listens on DIR/mysqld.sock
# and on a free TCP port of 127.0.0.1 only, and never touches the system's
# MariaDB (no option files are read, no system paths are written).
#
# Accounts (host '%' for TCP, 'localhost' for the unix socket; names are not
# resolved, so 'localhost' never matches a TCP connection):
#   root            no password, unix socket only
#   mywire          mysql_native_password 'mywire-pw', ALL on *.*
#   mywire_ed       ed25519 'ed-pw', ALL on mywire_test.*
#   mywire_empty    mysql_native_password, empty password, ALL on mywire_test.*
#   mywire_ed_empty ed25519, empty password, ALL on mywire_test.*
#   mywire_x509     mysql_native_password 'x509-pw', REQUIRE X509, ALL on mywire_test.*
#   mywire_ssl      mysql_native_password 'ssl-pw', REQUIRE SSL, ALL on mywire_test.*
#
# TLS: the server offers TLS on both listeners, with certificates made by
# tests/server/certs.sh in DIR/certs (see the list at its top). It loads its
# certificate and key from DIR/certs/active-cert.pem and active-key.pem, copies
# of server.pem and server.key; a test may copy another certificate over them
# and run FLUSH SSL as root to make the server present it (and must put
# server.pem/server.key back the same way when done). The CA is ca.pem, so
# client certificates from it are accepted (REQUIRE X509). DIR/env gives
# MYWIRE_TEST_CERTS (the directory), MYWIRE_TEST_SERVER_CERT/_KEY (the two
# files the server loads) and MYWIRE_TEST_X509_USER/_PASSWORD,
# MYWIRE_TEST_SSL_USER/_PASSWORD besides the address and the other accounts.
set -euo pipefail

readonly MARKER=.mywire-test-server
readonly READY_TIMEOUT=${MYWIRE_SERVER_READY_TIMEOUT:-60}
readonly STOP_TIMEOUT=30
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE
# The ed25519 public key of the empty password: base64 (unpadded) of
# clamp(SHA-512("")[0..31]) * B. The server's PASSWORD('') gives an empty
# string for ed25519, which no login can match, so the key is spelled out;
# check_accounts proves it by logging in.
readonly ED25519_EMPTY_KEY=4LH+dBF+G5W2CKTyId8xR3SyDqZoQjUNUVNxx8aWbG4

die() {
    echo "mariadb.sh: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 start|stop DIR" >&2
    exit 2
}

need() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' not found (install mariadb-server and mariadb-client)"
}

# A TCP port of 127.0.0.1 that nobody listens on right now. Another process may
# take it before the server binds it; start() retries on that.
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

show_log() {
    local log=$1
    if [[ -s $log ]]; then
        echo "---- last lines of $log ----" >&2
        tail -n 30 "$log" >&2
        echo "----" >&2
    fi
}

# Run SQL as root over the unix socket.
root_sql() {
    mariadb --no-defaults --socket="$DIR/mysqld.sock" --user=root --batch --skip-column-names "$@"
}

server_pid() {
    [[ -f $DIR/server.pid ]] && cat "$DIR/server.pid"
}

alive() {
    local pid
    pid=$(server_pid) || return 1
    kill -0 "$pid" 2>/dev/null
}

# Start mariadbd on the given port; 0 when it answers a ping, 1 when it died
# (its error log tells why), 2 on timeout.
launch() {
    local port=$1 user_opt=()
    [[ $(id -u) -eq 0 ]] && user_opt=(--user=root)
    : >"$DIR/error.log"
    mariadbd --no-defaults \
        "${user_opt[@]}" \
        --datadir="$DIR/data" \
        --tmpdir="$DIR/tmp" \
        --socket="$DIR/mysqld.sock" \
        --pid-file="$DIR/mysqld.pid" \
        --log-error="$DIR/error.log" \
        --port="$port" \
        --bind-address=127.0.0.1 \
        --skip-name-resolve \
        --skip-log-bin \
        --max-allowed-packet=1G \
        --innodb-buffer-pool-size=64M \
        --innodb-log-file-size=16M \
        --innodb-flush-log-at-trx-commit=2 \
        --character-set-server=utf8mb4 \
        --collation-server=utf8mb4_general_ci \
        --ssl-ca="$DIR/certs/ca.pem" \
        --ssl-cert="$DIR/certs/active-cert.pem" \
        --ssl-key="$DIR/certs/active-key.pem" \
        </dev/null >>"$DIR/error.log" 2>&1 &
    echo $! >"$DIR/server.pid"

    local deadline=$((SECONDS + READY_TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! alive; then
            wait "$(server_pid)" 2>/dev/null || true
            return 1
        fi
        if mariadb-admin --no-defaults --socket="$DIR/mysqld.sock" --user=root \
            --connect-timeout=2 ping >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.2
    done
    return 2
}

setup_accounts() {
    # The install made root@localhost plus root@127.0.0.1, root@::1 and
    # root@<hostname>, all without a password: keep only the socket one.
    local drops
    drops=$(root_sql -e "SELECT CONCAT('DROP USER ', QUOTE(user), '@', QUOTE(host), ';')
                         FROM mysql.global_priv
                         WHERE (user = 'root' AND host <> 'localhost') OR user = ''") || return 1
    root_sql <<SQL
$drops
INSTALL SONAME 'auth_ed25519';
CREATE DATABASE mywire_test;
CREATE USER 'mywire'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('mywire-pw');
CREATE USER 'mywire'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('mywire-pw');
GRANT ALL ON *.* TO 'mywire'@'%';
GRANT ALL ON *.* TO 'mywire'@'localhost';
CREATE USER 'mywire_ed'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('ed-pw');
CREATE USER 'mywire_ed'@'localhost' IDENTIFIED VIA ed25519 USING PASSWORD('ed-pw');
GRANT ALL ON mywire_test.* TO 'mywire_ed'@'%';
GRANT ALL ON mywire_test.* TO 'mywire_ed'@'localhost';
CREATE USER 'mywire_empty'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
CREATE USER 'mywire_empty'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
GRANT ALL ON mywire_test.* TO 'mywire_empty'@'%';
GRANT ALL ON mywire_test.* TO 'mywire_empty'@'localhost';
CREATE USER 'mywire_ed_empty'@'%' IDENTIFIED VIA ed25519 USING '$ED25519_EMPTY_KEY';
CREATE USER 'mywire_ed_empty'@'localhost' IDENTIFIED VIA ed25519 USING '$ED25519_EMPTY_KEY';
GRANT ALL ON mywire_test.* TO 'mywire_ed_empty'@'%';
GRANT ALL ON mywire_test.* TO 'mywire_ed_empty'@'localhost';
CREATE USER 'mywire_x509'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('x509-pw') REQUIRE X509;
CREATE USER 'mywire_x509'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('x509-pw') REQUIRE X509;
GRANT ALL ON mywire_test.* TO 'mywire_x509'@'%';
GRANT ALL ON mywire_test.* TO 'mywire_x509'@'localhost';
CREATE USER 'mywire_ssl'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('ssl-pw') REQUIRE SSL;
CREATE USER 'mywire_ssl'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('ssl-pw') REQUIRE SSL;
GRANT ALL ON mywire_test.* TO 'mywire_ssl'@'%';
GRANT ALL ON mywire_test.* TO 'mywire_ssl'@'localhost';
SQL
}

# Log in over TCP as each account, so that a harness problem shows up here and
# not as a puzzling failure in some test.
check_accounts() {
    local port=$1 spec user pw
    for spec in mywire:mywire-pw mywire_ed:ed-pw mywire_empty: mywire_ed_empty:; do
        user=${spec%%:*} pw=${spec#*:}
        mariadb --no-defaults --protocol=TCP --host=127.0.0.1 --port="$port" \
            --user="$user" --password="$pw" --batch -e 'SELECT 1' mywire_test >/dev/null || {
            echo "mariadb.sh: the account $user cannot log in over TCP" >&2
            return 1
        }
    done
    if mariadb --no-defaults --protocol=TCP --host=127.0.0.1 --port="$port" --user=root \
        --password= -e 'SELECT 1' >/dev/null 2>&1; then
        echo "mariadb.sh: root can log in over TCP; it must be unix socket only" >&2
        return 1
    fi
    # TLS is offered, the certificate verifies against the CA for both names,
    # and the REQUIRE X509 / REQUIRE SSL accounts work with TLS.
    local c=$DIR/certs version host
    for host in 127.0.0.1 localhost; do
        version=$(mariadb --no-defaults --protocol=TCP --host="$host" --port="$port" \
            --user=mywire_x509 --password=x509-pw --ssl-ca="$c/ca.pem" \
            --ssl-cert="$c/client.pem" --ssl-key="$c/client.key" --ssl-verify-server-cert \
            --batch --skip-column-names -e "SHOW STATUS LIKE 'Ssl_version'" mywire_test) || {
            echo "mariadb.sh: TLS login with a client certificate to $host failed" >&2
            return 1
        }
        [[ $version == Ssl_version$'\t'TLSv1.* ]] || {
            echo "mariadb.sh: no TLS with $host: '$version'" >&2
            return 1
        }
    done
    mariadb --no-defaults --protocol=TCP --host=127.0.0.1 --port="$port" --user=mywire_ssl \
        --password=ssl-pw --ssl --batch -e 'SELECT 1' mywire_test >/dev/null || {
        echo "mariadb.sh: the account mywire_ssl cannot log in over TLS" >&2
        return 1
    }
}

write_env() {
    local port=$1
    cat >"$DIR/env.tmp" <<EOF
export MYWIRE_TEST_SOCKET=$DIR/mysqld.sock
export MYWIRE_TEST_HOST=127.0.0.1
export MYWIRE_TEST_PORT=$port
export MYWIRE_TEST_USER=mywire
export MYWIRE_TEST_PASSWORD=mywire-pw
export MYWIRE_TEST_DB=mywire_test
export MYWIRE_TEST_ED25519_USER=mywire_ed
export MYWIRE_TEST_ED25519_PASSWORD=ed-pw
export MYWIRE_TEST_EMPTY_USER=mywire_empty
export MYWIRE_TEST_ED25519_EMPTY_USER=mywire_ed_empty
export MYWIRE_TEST_ROOT_USER=root
export MYWIRE_TEST_X509_USER=mywire_x509
export MYWIRE_TEST_X509_PASSWORD=x509-pw
export MYWIRE_TEST_SSL_USER=mywire_ssl
export MYWIRE_TEST_SSL_PASSWORD=ssl-pw
export MYWIRE_TEST_CERTS=$DIR/certs
export MYWIRE_TEST_SERVER_CERT=$DIR/certs/active-cert.pem
export MYWIRE_TEST_SERVER_KEY=$DIR/certs/active-key.pem
EOF
    mv "$DIR/env.tmp" "$DIR/env"
}

start() {
    need mariadb-install-db
    need mariadbd
    need mariadb
    need mariadb-admin
    need python3
    need openssl

    DIR=$(realpath -m -- "$DIR")
    # sun_path holds 107 bytes plus the NUL.
    local sock="$DIR/mysqld.sock"
    ((${#sock} <= 107)) || die "socket path $sock is longer than 107 bytes; use a shorter DIR"
    mkdir -p "$DIR"
    [[ -z $(ls -A "$DIR") ]] || die "$DIR is not empty; give a new or empty directory"
    touch "$DIR/$MARKER"
    mkdir "$DIR/tmp"
    bash "$HERE/certs.sh" "$DIR/certs" >"$DIR/certs.log" 2>&1 || {
        show_log "$DIR/certs.log"
        die "making the test certificates failed"
    }
    cp "$DIR/certs/server.pem" "$DIR/certs/active-cert.pem"
    cp "$DIR/certs/server.key" "$DIR/certs/active-key.pem"

    local user_opt=()
    [[ $(id -u) -eq 0 ]] && user_opt=(--user=root)
    # --force: do not insist that the machine's host name resolves (it does
    # not in some containers and chroots); the server never resolves names.
    if ! mariadb-install-db --no-defaults "${user_opt[@]}" --datadir="$DIR/data" \
        --auth-root-authentication-method=normal --skip-test-db --force \
        --innodb-buffer-pool-size=64M --innodb-log-file-size=16M \
        >"$DIR/install.log" 2>&1; then
        show_log "$DIR/install.log"
        die "mariadb-install-db failed"
    fi

    local attempt port status
    for attempt in 1 2 3; do
        port=$(free_port)
        status=0
        launch "$port" || status=$?
        case $status in
        0) break ;;
        1)
            if grep -q -i -e 'address already in use' -e 'Do you already have another' "$DIR/error.log"; then
                echo "mariadb.sh: port $port was taken meanwhile, trying another" >&2
                continue
            fi
            show_log "$DIR/error.log"
            die "mariadbd exited during startup"
            ;;
        2)
            show_log "$DIR/error.log"
            kill "$(server_pid)" 2>/dev/null || true
            die "mariadbd did not answer a ping within ${READY_TIMEOUT}s"
            ;;
        esac
    done
    [[ $status -eq 0 ]] || { show_log "$DIR/error.log"; die "no free port after 3 attempts"; }

    if ! setup_accounts || ! check_accounts "$port"; then
        show_log "$DIR/error.log"
        stop_server
        die "could not set up the test accounts"
    fi
    write_env "$port"
    echo "mariadb.sh: MariaDB $(root_sql -e 'SELECT VERSION()') on port $port and $DIR/mysqld.sock"
}

stop_server() {
    alive || return 0
    local pid
    pid=$(server_pid)
    mariadb-admin --no-defaults --socket="$DIR/mysqld.sock" --user=root \
        --connect-timeout=5 --shutdown-timeout="$STOP_TIMEOUT" shutdown >/dev/null 2>&1 || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "mariadb.sh: server $pid did not shut down, killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
}

stop() {
    [[ -d $DIR ]] || return 0
    [[ -f $DIR/$MARKER ]] || die "$DIR was not made by '$0 start'; not touching it"
    stop_server
    rm -rf -- "$DIR"
}

[[ $# -eq 2 ]] || usage
DIR=$2
case $1 in
start) start ;;
stop) stop ;;
*) usage ;;
esac
