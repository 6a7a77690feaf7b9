<?php
// Installs WordPress into the empty database wp_peer, as the web installer would
// (Debian 12 has no wp-cli), and sets the options bench/peer/run.py relies on.
$_SERVER['HTTP_HOST'] = '127.0.0.1';
$_SERVER['REQUEST_URI'] = '/';
define('WP_INSTALLING', true);
require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

if (!is_blog_installed()) {
    wp_install('K2 peer (WordPress)', 'admin', 'admin@example.invalid', true, '', wp_generate_password(24));
}
update_option('permalink_structure', '');  // plain addresses: /?tag=a+b, /?s=word, &paged=10
update_option('posts_per_page', 50);       // K2's LISTING_PAGE_SIZE: the same entries per page
update_option('timezone_string', 'UTC');
echo 'WordPress ', get_bloginfo('version'), ' installed; theme ', get_option('stylesheet'), "\n";
