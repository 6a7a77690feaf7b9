<?php
// WordPress for bench/peer (installed as /etc/wordpress/config-127.0.0.1.php by install.sh).
define('DB_NAME', 'wp_peer');
define('DB_USER', 'wp_peer');
define('DB_PASSWORD', 'wp_peer');
define('DB_HOST', '127.0.0.1:3306');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
// Bench-only keys: nobody logs in to this site.
foreach (['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT',
          'LOGGED_IN_SALT', 'NONCE_SALT'] as $name) {
    define($name, 'bench-peer-' . $name);
}
$table_prefix = 'wp_';
// One install answers on several loopback ports (uncached, cached): its address is the request's.
$peer_host = isset($_SERVER['HTTP_HOST']) ? $_SERVER['HTTP_HOST'] : '127.0.0.1';
define('WP_HOME', 'http://' . $peer_host);
define('WP_SITEURL', 'http://' . $peer_host);
// No pseudo-cron requests fired from page views during the measurements, no update checks (no internet).
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_DEBUG', false);
define('WP_CONTENT_DIR', '/var/lib/wordpress/wp-content');
