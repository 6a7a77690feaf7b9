#!/bin/sh
# The peer for bench/peer/run.py: stock WordPress from Debian's packages (PHP-FPM,
# MariaDB), installed without the web installer into the MariaDB database wp_peer.
# Run as root. Needs only the Debian mirror; bench/peer/run.py then needs no network.
#
#   sh bench/peer/install.sh            # then: .venv/bin/python bench/peer/export.py
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
MYSQL="mysql -h 127.0.0.1 -P 3306 -u root"

# php-fpm's own service is left alone: run.py starts its own pool on a socket
# in a temp dir (on a systemd host apt would also start php8.2-fpm; stop it
# with `systemctl disable --now php8.2-fpm` if it was not there before).
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends \
    wordpress wordpress-theme-twentytwentythree php8.2-fpm php8.2-mysql php8.2-cli mariadb-client nginx wrk

# A static page-cache plugin packaged by Debian? (bookworm: none; see bench/PEER.md)
echo "WordPress plugins packaged by Debian:"
apt-cache search --names-only '^wordpress-' | sort

$MYSQL <<'SQL'
DROP DATABASE IF EXISTS wp_peer;
CREATE DATABASE wp_peer CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci;
CREATE USER IF NOT EXISTS 'wp_peer'@'localhost' IDENTIFIED BY 'wp_peer';
CREATE USER IF NOT EXISTS 'wp_peer'@'127.0.0.1' IDENTIFIED BY 'wp_peer';
GRANT ALL ON wp_peer.* TO 'wp_peer'@'localhost';
GRANT ALL ON wp_peer.* TO 'wp_peer'@'127.0.0.1';
SQL

# Debian's wp-config.php reads /etc/wordpress/config-<host>.php (the port stripped).
install -m 0640 -g www-data "$HERE/config-127.0.0.1.php" /etc/wordpress/config-127.0.0.1.php
php "$HERE/wp_install.php"
