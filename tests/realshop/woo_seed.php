<?php
/**
 * journeybridge test seed for the real WooCommerce 10.0.2 shop of ../shared/real-woo.
 *
 *   cd $WOO_PHP && php -d memory_limit=1G /path/to/woo_seed.php OUT.json
 *
 * Fills an empty shop with a deterministic history that covers every journey phase: a product
 * catalogue, registered customers (also a subscriber and a buying shop manager), guests, orders
 * in every status over three years, a partial and a full refund, a trashed order and product
 * reviews. Names, e-mails, amounts and the shape of the history are fixed; dates are relative
 * to the moment of seeding. The REST API cannot backdate, so this uses WooCommerce's CRUD
 * classes directly and rewrites users.user_registered.
 *
 * Writes OUT.json: "what a correct pull must see", re-read from the shop after seeding (all
 * times ISO 8601 UTC with Z, money as the decimal strings the REST API returns).
 *
 * Newsletter opt-in is our documented convention (WooCommerce has no newsletter of its own):
 * customer meta newsletter_optin = "yes" | "no" and newsletter_optin_date = ISO UTC date.
 */

declare(strict_types=1);

if (PHP_SAPI !== 'cli') {
    exit(1);
}
if (!isset($argv[1]) || $argv[1] === '') {
    fwrite(STDERR, "usage: (cd \$WOO_PHP && php woo_seed.php OUT.json)\n");
    exit(2);
}
$jb_out = $argv[1];
if (!is_file('wp-load.php')) {
    fwrite(STDERR, "run this from the shop's WordPress directory (WOO_PHP)\n");
    exit(2);
}
require 'wp-load.php';

const JB_SKU_MARKER = 'JB-KOFFIE-1KG';
const JB_PASSWORD = 'journeybridge-test-password';

if (wc_get_product_id_by_sku(JB_SKU_MARKER)) {
    fwrite(STDERR, "this shop already holds the journeybridge seed: start from a fresh ROOT\n");
    exit(3);
}

$jb_started = microtime(true);
define('JB_NOW', time());
wp_set_current_user(1);

// One transaction instead of one durable commit per row: the private MariaDB flushes its log on
// every commit, which made the seed spend most of its time waiting on the disk.
$GLOBALS['wpdb']->query('SET autocommit = 0');

// No mail server: the shop's mu-plugin already drops mail, but rendering the templates still
// costs time on every status change.
foreach ([
    'new_order', 'cancelled_order', 'failed_order', 'customer_on_hold_order',
    'customer_processing_order', 'customer_completed_order', 'customer_refunded_order',
    'customer_partially_refunded_order', 'customer_invoice', 'customer_note',
    'customer_new_account', 'customer_failed_order', 'customer_cancelled_order',
] as $jb_email_id) {
    add_filter('woocommerce_email_enabled_' . $jb_email_id, '__return_false');
}
// Every order save clears one report transient per legacy admin report (over a hundred
// queries); no report has been built in this shop, so there is nothing to clear while seeding.
add_filter('woocommerce_admin_reports', '__return_empty_array');
// Every order save also deletes three cached per-customer sums from user meta (and so empties
// the user meta cache). Nothing computes them while seeding: skip that, and delete any such
// cache once at the end.
$JB_CUSTOMER_CACHE_KEYS = array_map(
    static fn(string $k): string => $k . '_' . rtrim($GLOBALS['wpdb']->get_blog_prefix(), '_'),
    ['wc_money_spent', 'wc_order_count', 'wc_last_order']
);
$jb_skip_cache_deletes = static fn($check, $object_id, $meta_key) =>
    in_array($meta_key, $JB_CUSTOMER_CACHE_KEYS, true) ? true : $check;
add_filter('delete_user_metadata', $jb_skip_cache_deletes, 10, 3);
// WordPress 6.8 hashes passwords with bcrypt: the cheapest cost is plenty for test accounts.
add_filter('wp_hash_password_options', static fn(array $o): array => ['cost' => 4] + $o);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** Unix time $days before the seed's "now" (fractions allowed). */
function jb_ts(float $days_ago): int
{
    return JB_NOW - (int) round($days_ago * DAY_IN_SECONDS);
}

function jb_iso(?int $ts): ?string
{
    return $ts === null ? null : gmdate('Y-m-d\TH:i:s\Z', $ts);
}

function jb_dt_iso(?WC_DateTime $dt): ?string
{
    return $dt === null ? null : jb_iso($dt->getTimestamp());
}

function jb_money($value): string
{
    return (string) wc_format_decimal($value, 2);
}

/** Deterministic small jitter in [-$span, $span] days for the k-th step of a rhythm. */
function jb_jitter(int $k, int $span): int
{
    return (($k * 7 + 3) % (2 * $span + 1)) - $span;
}

$JB_ADDR = [
    'amsterdam' => ['NL', 'Amsterdam', '1012 AB', '', 'Damrak 1'],
    'utrecht' => ['NL', 'Utrecht', '3511 AB', '', 'Oudegracht 12'],
    'rotterdam' => ['NL', 'Rotterdam', '3011 AA', '', 'Coolsingel 40'],
    'denbosch' => ['NL', "'s-Hertogenbosch", '5211 AA', '', 'Markt 5'],
    'groningen' => ['NL', 'Groningen', '9711 AA', '', 'Grote Markt 2'],
    'berlin' => ['DE', 'Berlin', '10115', '', 'Invalidenstraße 10'],
    'muenchen' => ['DE', 'München', '80331', '', 'Marienplatz 8'],
    'antwerpen' => ['BE', 'Antwerpen', '2000', '', 'Meir 50'],
    'gent' => ['BE', 'Gent', '9000', '', 'Korenmarkt 3'],
    'sf' => ['US', 'San Francisco', '94103', 'CA', '500 Market St'],
    'ny' => ['US', 'New York', '10001', 'NY', '350 5th Ave'],
    'austin' => ['US', 'Austin', '78701', 'TX', '100 Congress Ave'],
];

$JB_UAS = [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
];

// ---------------------------------------------------------------------------------------------
// Catalogue and coupon
// ---------------------------------------------------------------------------------------------

$JB_PRODUCT_SPEC = [
    'koffie' => ['Koffiebonen Huismelange 1 kg', JB_SKU_MARKER, '24.95'],
    'espresso' => ['Espressomachine Classica', 'JB-ESPRESSO', '349.00'],
    'melk' => ['Melkopschuimer', 'JB-MELKOPSCH', '39.90'],
    'filter' => ['Filterpapier 100 stuks', 'JB-FILTER-100', '4.49'],
    'beker' => ['Thermosbeker 350 ml', 'JB-BEKER-350', '19.95'],
    'ontkalker' => ['Ontkalker 500 ml', 'JB-ONTKALK', '9.99'],
    'thee' => ['Sencha thee 250 g', 'JB-THEE-250', '12.50'],
];
$JB_PRODUCTS = [];
foreach ($JB_PRODUCT_SPEC as $handle => [$name, $sku, $price]) {
    $p = new WC_Product_Simple();
    $p->set_name($name);
    $p->set_sku($sku);
    $p->set_regular_price($price);
    $p->set_status('publish');
    $p->set_reviews_allowed(true);
    $p->save();
    $JB_PRODUCTS[$handle] = $p->get_id();
}

$jb_coupon = new WC_Coupon();
$jb_coupon->set_code('welkom10');
$jb_coupon->set_discount_type('percent');
$jb_coupon->set_amount('10');
$jb_coupon->save();

// ---------------------------------------------------------------------------------------------
// People: registered customers (handle => spec) and guests (handle => spec)
// ---------------------------------------------------------------------------------------------

/**
 * @param string|null|int $nl null = never asked, int = opted in that many days ago, 'no' = opted out
 */
function jb_c(string $email, string $first, string $last, float $reg_days, string $addr, string $phone,
              $nl = null, string $role = 'customer', array $tags = []): array
{
    return compact('email', 'first', 'last', 'reg_days', 'addr', 'phone', 'nl', 'role', 'tags');
}

$JB_CUSTOMERS = [
    // Registered, never ordered.
    'femke' => jb_c('femke.jansen@example.nl', 'Femke', 'Jansen', 400, 'amsterdam', '0612345678', 390),
    'daan' => jb_c('daan.deboer@example.nl', 'Daan', 'de Boer', 200, 'utrecht', ''),
    'zoe' => jb_c('zoe.vandijk@example.nl', 'Zoë', 'van Dijk', 25, 'rotterdam', '+31 6 1234 5678', 20,
        'customer', ['new_account_30d']),
    'jurgen' => jb_c('juergen.gross@example.de', 'Jürgen', 'Groß', 5, 'berlin', '+49 30 12345678', null,
        'customer', ['new_account_30d']),
    'lukasz' => jb_c('lukasz.kowalski@example.de', 'Łukasz', 'Kowalski', 90, 'muenchen', '+49 89 1234567', 'no'),
    'misaki' => jb_c('misaki.sato@example.com', '美咲', '佐藤', 60, 'sf', '+1 415 555 0132', 2),
    'emma' => jb_c('emma.peeters@example.be', 'Emma', 'Peeters', 300, 'antwerpen', '+32 470 12 34 56'),
    'noah' => jb_c('noah.willems@example.be', 'Noah', 'Willems', 12, 'gent', '0470 65 43 21', 12,
        'customer', ['new_account_30d']),
    'olivia' => jb_c('olivia.smith@example.com', 'Olivia', 'Smith', 150, 'ny', '(212) 555-0147', 140),
    'lars' => jb_c('lars.visser@example.nl', 'Lars', 'Visser', 1, 'groningen', '', null, 'customer',
        ['new_account_30d']),
    'sophie' => jb_c('sophie.mulder@example.nl', 'Sophie', 'Mulder', 700, 'utrecht', '020 123 4567'),
    'ruben' => jb_c('ruben.bos@example.nl', 'Ruben', 'Bos', 45, 'denbosch', '06-98765432'),
    // Other roles.
    'ingrid' => jb_c('ingrid.abonnee@example.nl', 'Ingrid', 'Abonnee', 120, 'amsterdam', '', 120, 'subscriber'),
    'marco' => jb_c('marco.winkel@example.nl', 'Marco', 'Winkel', 500, 'utrecht', '0302345678', null, 'shop_manager'),
    // Repeat buyers on their own rhythms.
    'sanne' => jb_c('sanne.bakker@example.nl', 'Sanne', 'Bakker', 380, 'amsterdam', '+31 6 2222 3333', 370,
        'customer', ['repeat_14d']),
    'thijs' => jb_c('thijs.meijer@example.nl', 'Thijs', 'Meijer', 420, 'rotterdam', '0623456789', null,
        'customer', ['repeat_14d', 'at_risk_own_rhythm']),
    'lotte' => jb_c('lotte.visser@example.nl', 'Lotte', 'Visser', 400, 'groningen', '0634567890', 395,
        'customer', ['repeat_30d']),
    'bram' => jb_c('bram.smit@example.nl', 'Bram', 'Smit', 330, 'utrecht', '+31 30 123 4567', null,
        'customer', ['repeat_30d']),
    'eva' => jb_c('eva.degraaf@example.nl', 'Eva', 'de Graaf', 480, 'denbosch', '0645678901', 470,
        'customer', ['repeat_90d']),
    'hans' => jb_c('hans.mueller@example.de', 'Hans', 'Müller', 460, 'berlin', '+49 30 9876543', null,
        'customer', ['repeat_90d']),
    'anouk' => jb_c('anouk.dekker@example.nl', 'Anouk', 'Dekker', 560, 'amsterdam', '0656789012', null,
        'customer', ['repeat_90d', 'at_risk_own_rhythm']),
    'willem' => jb_c('willem.hendriks@example.nl', 'Willem', 'Hendriks', 840, 'groningen', '0501234567', null,
        'customer', ['repeat_365d']),
    'mary' => jb_c('mary.johnson@example.com', 'Mary', 'Johnson', 770, 'ny', '+1 212 555 0100', 760,
        'customer', ['repeat_365d']),
    'gerrit' => jb_c('gerrit.jacobs@example.be', 'Gerrit', 'Jacobs', 910, 'gent', '+32 9 123 45 67', null,
        'customer', ['repeat_365d', 'at_risk_own_rhythm']),
    // Lapsed: orders two to three years ago only.
    'kees' => jb_c('kees.kok@example.nl', 'Kees', 'Kok', 1100, 'amsterdam', '0611111111'),
    'marieke' => jb_c('marieke.schouten@example.nl', 'Marieke', 'Schouten', 1000, 'utrecht', '0622222222', 990),
    'joost' => jb_c('joost.vanleeuwen@example.nl', 'Joost', 'van Leeuwen', 1090, 'rotterdam', '0633333333'),
    'petra' => jb_c('petra.brouwer@example.nl', 'Petra', 'Brouwer', 810, 'denbosch', '0644444444'),
    'stefan' => jb_c('stefan.wagner@example.de', 'Stefan', 'Wagner', 860, 'muenchen', '+49 89 7654321'),
    'julie' => jb_c('julie.maes@example.be', 'Julie', 'Maes', 770, 'antwerpen', '+32 3 234 56 78'),
    'tom' => jb_c('tom.claes@example.be', 'Tom', 'Claes', 1010, 'gent', '0471 11 22 33'),
    'ashley' => jb_c('ashley.brown@example.com', 'Ashley', 'Brown', 905, 'austin', '(512) 555-0111'),
    // One order each.
    'fleur' => jb_c('fleur.hoekstra@example.nl', 'Fleur', 'Hoekstra', 30, 'amsterdam', '0612121212', 30),
    'sem' => jb_c('sem.vandenberg@example.nl', 'Sem', 'van den Berg', 1.5, 'utrecht', '+31 6 1313 1313'),
    'iris' => jb_c('iris.koster@example.nl', 'Iris', 'Koster', 6, 'rotterdam', '0614141414'),
    'milan' => jb_c('milan.peters@example.nl', 'Milan', 'Peters', 10, 'groningen', '0615151515'),
    'julia' => jb_c('julia.schmidt@example.de', 'Julia', 'Schmidt', 3.5, 'berlin', '+49 30 5555555'),
    'finn' => jb_c('finn.dewit@example.nl', 'Finn', 'de Wit', 4.5, 'denbosch', '0616161616'),
    'tess' => jb_c('tess.dijkstra@example.nl', 'Tess', 'Dijkstra', 46, 'amsterdam', '0617171717', 46),
    'luuk' => jb_c('luuk.hermans@example.nl', 'Luuk', 'Hermans', 81, 'utrecht', '0618181818'),
    'nina' => jb_c('nina.becker@example.de', 'Nina', 'Becker', 151, 'muenchen', '+49 89 2222222'),
    'max' => jb_c('max.janssens@example.be', 'Max', 'Janssens', 221, 'antwerpen', '+32 476 98 76 54'),
    'evi' => jb_c('evi.maas@example.nl', 'Evi', 'Maas', 321, 'rotterdam', '0619191919'),
    'robin' => jb_c('robin.kramer@example.nl', 'Robin', 'Kramer', 31, 'groningen', '0620202020'),
    'yara' => jb_c('yara.bosman@example.nl', 'Yara', 'Bosman', 14, 'amsterdam', '0621212121'),
    'sven' => jb_c('sven.dejong@example.nl', 'Sven', 'de Jong', 61, 'utrecht', '0622232425'),
    'lisa' => jb_c('lisa.vanwijk@example.nl', 'Lisa', 'van Wijk', 7, 'denbosch', '0623242526'),
    // Checkout intent without a purchase (and one failed payment that was retried).
    'bas' => jb_c('bas.hoekstra@example.nl', 'Bas', 'Hoekstra', 20, 'amsterdam', '0624252627'),
    'roos' => jb_c('roos.prins@example.nl', 'Roos', 'Prins', 11, 'utrecht', '0625262728'),
    'jesse' => jb_c('jesse.kuipers@example.nl', 'Jesse', 'Kuipers', 2, 'rotterdam', '0626272829', 2),
    'mila' => jb_c('mila.verhoeven@example.nl', 'Mila', 'Verhoeven', 41, 'groningen', '0627282930'),
    'gijs' => jb_c('gijs.bosch@example.nl', 'Gijs', 'Bosch', 13, 'denbosch', '0628293031'),
    'elin' => jb_c('elin.postma@example.nl', 'Elin', 'Postma', 9, 'amsterdam', '0629303132'),
    'koen' => jb_c('koen.scholten@example.nl', 'Koen', 'Scholten', 61, 'utrecht', '0630313233'),
    'anne' => jb_c('anne.huisman@example.nl', 'Anne', 'Huisman', 101, 'rotterdam', '0631323334'),
    // Identity cases.
    'kim' => jb_c('kim.vos@example.nl', 'Kim', 'Vos', 100, 'groningen', '0632333435', 100, 'customer',
        ['guest_then_registered']),
    'pieter' => jb_c('Pieter.DeVries@Example.NL', 'Pieter', 'de Vries', 75, 'amsterdam', '+31 20 765 4321',
        null, 'customer', ['account_email_mixed_case']),
];

// Twenty regular customers with two to four orders spread over two years.
$JB_REGULAR_NAMES = [
    ['Anna', 'de Jong'], ['Sophie', 'van der Meer'], ['Lucas', 'Vermeulen'], ['Julia', 'de Groot'],
    ['Levi', 'Bakker'], ['Mila', 'Jansen'], ['Finn', 'Visser'], ['Tess', 'Smit'],
    ['Daan', 'Meijer'], ['Saar', 'de Boer'], ['Noud', 'Mulder'], ['Liv', 'Bos'],
    ['Jens', 'Vos'], ['Fenna', 'Peters'], ['Mats', 'Hendriks'], ['Lieke', 'van Leeuwen'],
    ['Timo', 'Dekker'], ['Isa', 'Brouwer'], ['Gijs', 'de Wit'], ['Zara', 'Dijkstra'],
];
$JB_REGULAR_ADDR = ['amsterdam', 'utrecht', 'rotterdam', 'denbosch', 'groningen', 'berlin', 'antwerpen', 'gent'];
$JB_REGULAR_PLANS = [];
foreach ($JB_REGULAR_NAMES as $i => [$first, $last]) {
    $n = 2 + ($i % 3);
    $days = [];
    $d = 40 + ($i * 37) % 500;
    for ($k = 0; $k < $n; $k++) {
        $days[] = $d;
        $d += 60 + ($i * 13 + $k * 29) % 120;
    }
    $handle = sprintf('regular%02d', $i + 1);
    $local = strtolower(remove_accents($first . '.' . str_replace(' ', '', $last)));
    $JB_CUSTOMERS[$handle] = jb_c(
        sprintf('%s%02d@example.nl', $local, $i + 1), $first, $last, max($days) + 3,
        $JB_REGULAR_ADDR[$i % count($JB_REGULAR_ADDR)], sprintf('06%08d', 40000000 + $i * 1111),
        $i % 4 === 0 ? max($days) + 2 : null
    );
    $JB_REGULAR_PLANS[$handle] = $days;
}

/** Guests: handle => [first, last, addr, phone]. Their e-mail is whatever each order typed. */
$JB_GUESTS = [
    'anna' => ['Anna', 'Gast', 'amsterdam', '0687654321'],
    'bert' => ['Bert', 'Gastman', 'utrecht', '+31 6 8765 4322'],
    'greta' => ['Greta', 'Alt', 'berlin', '+49 30 1111111'],
    'jack' => ['Jack', 'Miller', 'sf', '(415) 555-0199'],
    'chloe' => ['Chloé', 'Dubois', 'antwerpen', '+32 3 987 65 43'],
    'bjorn' => ['Björn', 'Schäfer', 'muenchen', '+49 89 3333333'],
    'joris' => ['Joris', 'Verbeek', 'rotterdam', '0690000001'],
    'hanna' => ['Hanna', 'Koch', 'berlin', '+49 30 2222222'],
    'pim' => ['Pim', 'Smeets', 'denbosch', '0690000002'],
    'lena' => ['Lena', 'Fischer', 'muenchen', '+49 89 4444444'],
    'wout' => ['Wout', 'Lambrecht', 'gent', '+32 9 222 33 44'],
    'emily' => ['Emily', 'Davis', 'austin', '+1 512 555 0123'],
    'sara' => ['Sara', 'El Amrani', 'amsterdam', '0690000003'],
    'ties' => ['Ties', 'Wouters', 'antwerpen', '+32 478 00 11 22'],
    'noor' => ['Noor', 'Hoekman', 'groningen', '0690000004'],
    'kim' => ['Kim', 'Vos', 'groningen', '0632333435'],          // later registered
    'pieter' => ['Pieter', 'de Vries', 'amsterdam', '+31 20 765 4321'], // has an account
];

// ---------------------------------------------------------------------------------------------
// Create the users (oldest registration first, so user ids follow registration order)
// ---------------------------------------------------------------------------------------------

global $wpdb;
uasort($JB_CUSTOMERS, static fn(array $a, array $b): int => $b['reg_days'] <=> $a['reg_days']);
$JB_UID = [];
$jb_usernames = [];
foreach ($JB_CUSTOMERS as $handle => $c) {
    [$country, $city, $postcode, $state, $street] = $JB_ADDR[$c['addr']];
    $username = sanitize_user(strtolower(strstr($c['email'], '@', true)), true);
    $cust = new WC_Customer();
    $cust->set_username($username);
    $cust->set_email($c['email']);
    $cust->set_password(JB_PASSWORD);
    $cust->set_first_name($c['first']);
    $cust->set_last_name($c['last']);
    $cust->set_display_name(trim($c['first'] . ' ' . $c['last']));
    $cust->set_role($c['role']);
    $addr = [
        'first_name' => $c['first'], 'last_name' => $c['last'], 'address_1' => $street, 'city' => $city,
        'postcode' => $postcode, 'state' => $state, 'country' => $country,
    ];
    foreach ($addr as $k => $v) {
        $cust->{"set_billing_$k"}($v);
        $cust->{"set_shipping_$k"}($v);
    }
    $cust->set_billing_email($c['email']);
    $cust->set_billing_phone($c['phone']);
    $cust->save();
    $uid = $cust->get_id();
    $JB_UID[$handle] = $uid;
    $wpdb->update($wpdb->users, ['user_registered' => gmdate('Y-m-d H:i:s', jb_ts($c['reg_days']))], ['ID' => $uid]);
    if (is_int($c['nl'])) {
        update_user_meta($uid, 'newsletter_optin', 'yes');
        update_user_meta($uid, 'newsletter_optin_date', jb_iso(jb_ts($c['nl'])));
    } elseif ($c['nl'] === 'no') {
        update_user_meta($uid, 'newsletter_optin', 'no');
        update_user_meta($uid, 'newsletter_optin_date', jb_iso(jb_ts($c['reg_days'] - 1)));
    }
    clean_user_cache($uid);
}

// ---------------------------------------------------------------------------------------------
// Order plan: every order as data first, then created oldest first (ids follow creation dates)
// ---------------------------------------------------------------------------------------------

$JB_PLAN = [];
/**
 * @param string $who 'c:<handle>' for a registered customer's own (logged-in) order, 'g:<handle>'
 *                    for a guest checkout
 * @param array  $items [[product handle, qty], ...]
 * @param array  $o extra: email (billing e-mail as typed), paid (bool), coupon, refund
 *                 (['partial', amount, days_after, reason] | ['full', days_after]), trash (bool),
 *                 via, pm (payment method), completed_after (days)
 */
function jb_plan(string $who, float $days, array $items, string $status, array $o = []): void
{
    global $JB_PLAN;
    $JB_PLAN[] = ['who' => $who, 'days' => $days, 'items' => $items, 'status' => $status] + $o;
}

// Repeat buyers.
for ($k = 25; $k >= 0; $k--) {                        // Sanne: every ~14 days for a year
    $items = [['koffie', 1 + ($k % 3 === 0 ? 1 : 0)]];
    if ($k % 4 === 1) {
        $items[] = ['filter', 2];
    }
    jb_plan('c:sanne', 8 + 14 * $k + jb_jitter($k, 2) + 0.3, $items, 'completed',
        $k === 10 ? ['refund' => ['partial', '24.95', 2, 'Eén zak beschadigd geleverd']] : []);
}
for ($k = 23; $k >= 0; $k--) {                        // Thijs: every ~14 days, stopped 75 days ago
    jb_plan('c:thijs', 75 + 14 * $k + jb_jitter($k, 2) + 0.55, [['koffie', 1]], 'completed');
}
for ($k = 11; $k >= 0; $k--) {                        // Lotte: monthly
    jb_plan('c:lotte', 20 + 30 * $k + jb_jitter($k, 3) + 0.4, [['koffie', 1], ['thee', 1]], 'completed');
}
for ($k = 9; $k >= 0; $k--) {                         // Bram: monthly, newest still processing
    $items = $k === 9 ? [['espresso', 1], ['melk', 1], ['koffie', 2]] : [['koffie', 2], ['filter', 1]];
    jb_plan('c:bram', 3 + 30 * $k + jb_jitter($k, 2) + 0.7, $items, $k === 0 ? 'processing' : 'completed',
        $k === 9 ? ['coupon' => 'welkom10', 'pm' => 'paypal'] : []);
}
for ($k = 4; $k >= 0; $k--) {                         // Eva: quarterly
    jb_plan('c:eva', 30 + 90 * $k + jb_jitter($k, 4) + 0.2, [['thee', 2], ['beker', $k === 4 ? 1 : 0]], 'completed');
}
for ($k = 4; $k >= 0; $k--) {                         // Hans: quarterly
    jb_plan('c:hans', 85 + 91 * $k + jb_jitter($k, 4) + 0.6, [['koffie', 3]], 'completed');
}
for ($k = 3; $k >= 0; $k--) {                         // Anouk: quarterly, silent for 260 days
    jb_plan('c:anouk', 260 + 90 * $k + jb_jitter($k, 4) + 0.45, [['koffie', 1], ['ontkalker', 1]], 'completed');
}
foreach ([830, 465, 100] as $i => $d) {               // Willem: yearly
    jb_plan('c:willem', $d + 0.35, $i === 0 ? [['espresso', 1]] : [['ontkalker', 2], ['koffie', 1]], 'completed');
}
foreach ([760, 395, 30] as $d) {                      // Mary (US): yearly
    jb_plan('c:mary', $d + 0.8, [['beker', 2], ['thee', 1]], 'completed', ['pm' => 'stripe']);
}
foreach ([900, 530] as $d) {                          // Gerrit: yearly, overdue
    jb_plan('c:gerrit', $d + 0.25, [['melk', 1]], 'completed');
}
foreach ([300, 120, 20] as $d) {                      // Marco, shop manager who buys
    jb_plan('c:marco', $d + 0.5, [['koffie', 2], ['filter', 3]], 'completed');
}

// Lapsed.
foreach ([1050, 980] as $d) {
    jb_plan('c:kees', $d + 0.3, [['koffie', 2]], 'completed');
}
jb_plan('c:marieke', 900.4, [['espresso', 1], ['melk', 1]], 'completed');
foreach ([1080, 1000, 760] as $d) {
    jb_plan('c:joost', $d + 0.6, [['thee', 2]], 'completed');
}
jb_plan('c:petra', 800.5, [['beker', 1]], 'completed');
jb_plan('c:petra', 790.2, [['beker', 2]], 'cancelled');
jb_plan('c:stefan', 850.7, [['koffie', 1], ['filter', 1]], 'completed');
foreach ([760, 740] as $d) {
    jb_plan('c:julie', $d + 0.45, [['thee', 1], ['filter', 1]], 'completed');
}
foreach ([1000, 995] as $d) {
    jb_plan('c:tom', $d + 0.15, [['ontkalker', 1]], 'completed');
}
jb_plan('c:ashley', 900.9, [['beker', 1]], 'completed', ['pm' => 'stripe']);

// One order each.
jb_plan('c:fleur', 2.2, [['espresso', 1], ['melk', 1]], 'processing');
jb_plan('c:sem', 1.1, [['koffie', 1], ['beker', 1]], 'processing', ['coupon' => 'welkom10']);
jb_plan('c:iris', 5.3, [['thee', 3]], 'completed');
jb_plan('c:milan', 9.4, [['melk', 1]], 'completed');
jb_plan('c:julia', 3.1, [['koffie', 2]], 'on-hold', ['pm' => 'bacs']);
jb_plan('c:finn', 4.2, [['espresso', 1]], 'on-hold', ['pm' => 'bacs', 'paid' => true]);
jb_plan('c:tess', 45.3, [['koffie', 1], ['filter', 2]], 'completed', ['coupon' => 'welkom10']);
jb_plan('c:luuk', 80.6, [['beker', 1]], 'completed');
jb_plan('c:nina', 150.2, [['thee', 2]], 'completed');
jb_plan('c:max', 220.5, [['melk', 1], ['koffie', 1]], 'completed');
jb_plan('c:evi', 320.4, [['ontkalker', 3]], 'completed');
jb_plan('c:robin', 30.3, [['espresso', 1]], 'completed', ['refund' => ['full', 5]]);
jb_plan('c:yara', 13.2, [['melk', 1], ['beker', 1]], 'completed', ['refund' => ['full', 3]]);
jb_plan('c:sven', 60.5, [['koffie', 1], ['ontkalker', 1]], 'completed',
    ['refund' => ['partial', '9.99', 5, 'Ontkalker ontbrak']]);
jb_plan('c:lisa', 6.4, [['koffie', 2]], 'cancelled', ['paid' => true]);

// Checkout intent without a purchase.
jb_plan('c:bas', 3.3, [['espresso', 1]], 'failed', ['pm' => 'ideal']);
jb_plan('c:roos', 10.25, [['melk', 1]], 'failed');
jb_plan('c:roos', 10.2, [['melk', 1]], 'processing');
jb_plan('c:jesse', 1.2, [['koffie', 1], ['beker', 1]], 'pending');
jb_plan('c:mila', 40.4, [['thee', 1]], 'pending');
jb_plan('c:gijs', 12.3, [['beker', 2]], 'cancelled');
jb_plan('c:elin', 1.05, [['espresso', 1]], 'checkout-draft');
jb_plan('c:koen', 60.3, [['koffie', 1]], 'checkout-draft');
jb_plan('c:anne', 100.4, [['thee', 1]], 'completed');
jb_plan('c:anne', 50.3, [['thee', 1]], 'pending', ['trash' => true]);

// Identity cases: a guest who later registered; a mixed-case account also buying as a guest.
jb_plan('g:kim', 300.3, [['koffie', 1]], 'completed', ['email' => 'Kim.Vos@Example.nl']);
jb_plan('g:kim', 200.6, [['koffie', 1]], 'completed', ['email' => 'kim.vos@example.nl']);
jb_plan('c:kim', 50.2, [['koffie', 2]], 'completed');
jb_plan('c:pieter', 70.4, [['melk', 1]], 'completed');
jb_plan('g:pieter', 20.3, [['koffie', 1]], 'completed', ['email' => 'pieter.devries@example.nl']);

// Regulars.
foreach ($JB_REGULAR_PLANS as $handle => $days) {
    foreach ($days as $k => $d) {
        $prod = ['koffie', 'thee', 'beker', 'melk', 'ontkalker'][($k + (int) substr($handle, -2)) % 5];
        jb_plan("c:$handle", $d + 0.1 * ($k + 1), [[$prod, 1 + $k % 2]], 'completed');
    }
}

// Guests.
jb_plan('g:anna', 700.3, [['koffie', 1]], 'completed', ['email' => 'anna.gast@example.com']);
jb_plan('g:anna', 400.5, [['koffie', 1], ['filter', 1]], 'completed', ['email' => 'ANNA.GAST@EXAMPLE.COM']);
jb_plan('g:anna', 180.2, [['beker', 1]], 'completed', ['email' => 'Anna.Gast@Example.com']);
jb_plan('g:anna', 60.6, [['koffie', 2]], 'completed', ['email' => 'anna.gast@example.com']);
jb_plan('g:anna', 6.3, [['koffie', 1]], 'processing', ['email' => 'ANNA.GAST@EXAMPLE.COM']);
jb_plan('g:bert', 200.4, [['thee', 1]], 'completed', ['email' => 'bert.gastman@example.nl']);
jb_plan('g:bert', 120.5, [['thee', 1]], 'completed', ['email' => 'bert.gastman@example.nl']);
jb_plan('g:bert', 35.35, [['thee', 2]], 'failed', ['email' => 'bert.gastman@example.nl']);
jb_plan('g:bert', 35.3, [['thee', 2]], 'completed', ['email' => 'bert.gastman@example.nl']);
jb_plan('g:greta', 800.6, [['koffie', 1]], 'completed', ['email' => 'greta.alt@example.de']);
jb_plan('g:greta', 790.4, [['filter', 2]], 'completed', ['email' => 'greta.alt@example.de']);
jb_plan('g:jack', 25.7, [['beker', 1], ['thee', 1]], 'completed', ['email' => 'jack.miller@example.com', 'pm' => 'stripe']);
jb_plan('g:chloe', 14.3, [['melk', 1]], 'completed', ['email' => 'chloe.dubois@example.be']);
jb_plan('g:bjorn', 95.4, [['espresso', 1]], 'completed', ['email' => 'Bjoern.Schaefer@example.de']);
jb_plan('g:joris', 2.4, [['koffie', 1]], 'pending', ['email' => 'joris.verbeek@example.nl']);
jb_plan('g:hanna', 5.2, [['beker', 1]], 'failed', ['email' => 'hanna.koch@example.de']);
jb_plan('g:pim', 20.5, [['thee', 1]], 'cancelled', ['email' => 'pim.smeets@example.nl']);
jb_plan('g:lena', 0.1, [['melk', 1]], 'checkout-draft', ['email' => 'lena.fischer@example.de']);
jb_plan('g:wout', 8.3, [['ontkalker', 1]], 'on-hold', ['email' => 'wout.lambrecht@example.be', 'pm' => 'bacs']);
jb_plan('g:emily', 1.3, [['beker', 2]], 'processing', ['email' => 'emily.davis@example.com', 'pm' => 'stripe']);
jb_plan('g:sara', 400.3, [['koffie', 1]], 'completed', ['email' => 'sara.elamrani@example.nl']);
jb_plan('g:ties', 45.6, [['melk', 1], ['koffie', 1]], 'completed', ['email' => 'ties.wouters@example.be', 'coupon' => 'welkom10']);
jb_plan('g:noor', 15.4, [['espresso', 1]], 'completed', ['email' => 'noor.hoekman@example.nl', 'refund' => ['full', 3]]);

usort($JB_PLAN, static fn(array $a, array $b): int => $b['days'] <=> $a['days']);

// ---------------------------------------------------------------------------------------------
// Create the orders
// ---------------------------------------------------------------------------------------------

$JB_PAID_STATUSES = ['processing', 'completed'];
$jb_desired_modified = [];   // order id => unix time of its last event
$jb_trash = [];
foreach ($JB_PLAN as $n => $p) {
    [$kind, $handle] = explode(':', $p['who'], 2);
    if ($kind === 'c') {
        $c = $JB_CUSTOMERS[$handle];
        [$first, $last, $addr_key, $phone] = [$c['first'], $c['last'], $c['addr'], $c['phone']];
        $email = $p['email'] ?? $c['email'];
        $customer_id = $JB_UID[$handle];
    } else {
        [$first, $last, $addr_key, $phone] = $JB_GUESTS[$handle];
        $email = $p['email'];
        $customer_id = 0;
    }
    [$country, $city, $postcode, $state, $street] = $JB_ADDR[$addr_key];
    $created = jb_ts($p['days']);
    $age_days = $p['days'];

    $order = new WC_Order();
    $order->set_created_via($p['via'] ?? ($p['status'] === 'checkout-draft' ? 'store-api' : 'checkout'));
    $order->set_currency('EUR');
    $order->set_customer_id($customer_id);
    $address = [
        'first_name' => $first, 'last_name' => $last, 'address_1' => $street, 'city' => $city,
        'postcode' => $postcode, 'state' => $state, 'country' => $country,
    ];
    $order->set_address($address + ['email' => $email, 'phone' => $phone], 'billing');
    $order->set_address($address, 'shipping');
    $pm = $p['pm'] ?? ($country === 'NL' ? 'ideal' : ($country === 'US' ? 'stripe' : 'bancontact'));
    $pm_titles = ['ideal' => 'iDEAL', 'bacs' => 'Bankoverschrijving', 'paypal' => 'PayPal',
        'stripe' => 'Credit card', 'bancontact' => 'Bancontact'];
    $order->set_payment_method($pm);
    $order->set_payment_method_title($pm_titles[$pm]);
    $order->set_customer_ip_address($n % 9 === 4 ? '2001:db8::' . dechex(16 + $n) : '203.0.113.' . (10 + $n % 200));
    $order->set_customer_user_agent($JB_UAS[$n % count($JB_UAS)]);
    foreach ($p['items'] as [$prod, $qty]) {
        if ($qty > 0) {
            $order->add_product(wc_get_product($JB_PRODUCTS[$prod]), $qty);
        }
    }
    $order->calculate_totals(false);
    if ((float) $order->get_total() < 50) {
        $ship = new WC_Order_Item_Shipping();
        $ship->set_method_title('Verzending');
        $ship->set_method_id('flat_rate');
        $ship->set_total('4.95');
        $order->add_item($ship);
        $order->calculate_totals(false);
    }
    $order->set_date_created($created);

    $status = $p['status'];
    $paid = in_array($status, $JB_PAID_STATUSES, true) || !empty($p['paid']);
    $last_event = $created;
    $date_paid = null;
    $date_completed = null;
    if ($paid) {
        $date_paid = $created + 600;
        $last_event = $date_paid;
    }
    if ($status === 'completed') {
        $date_completed = $created + (int) min(2 * DAY_IN_SECONDS, $age_days * DAY_IN_SECONDS / 2);
        $last_event = $date_completed;
    }
    if ($status === 'cancelled' && $paid) {
        $last_event = $created + (int) (DAY_IN_SECONDS * min(1, $age_days / 2));
    } elseif (in_array($status, ['cancelled', 'failed'], true)) {
        $last_event = $created + 1800;
    }
    $order->set_status($status);
    $order->set_date_paid($date_paid);
    $order->set_date_completed($date_completed);
    if (isset($p['coupon'])) {
        $r = $order->apply_coupon($p['coupon']);    // saves the order, then recalculates
        if (is_wp_error($r)) {
            fwrite(STDERR, 'coupon: ' . $r->get_error_message() . "\n");
            exit(1);
        }
    } else {
        $order->save();
    }

    if (isset($p['refund'])) {
        $kind_r = $p['refund'][0];
        $refund_at = $created + (int) ($p['refund'][$kind_r === 'full' ? 1 : 2] * DAY_IN_SECONDS);
        $amount = $kind_r === 'full' ? $order->get_total() : $p['refund'][1];
        $refund = wc_create_refund([
            'amount' => $amount,
            'reason' => $kind_r === 'full' ? 'Retour: niet naar wens' : $p['refund'][3],
            'order_id' => $order->get_id(),
            'date_created' => $refund_at,
        ]);
        if (is_wp_error($refund)) {
            fwrite(STDERR, 'refund: ' . $refund->get_error_message() . "\n");
            exit(1);
        }
        $last_event = max($last_event, $refund_at);
    }
    $jb_desired_modified[$order->get_id()] = min($last_event, JB_NOW);
    if (!empty($p['trash'])) {
        $jb_trash[] = $order->get_id();
    }
}

// WooCommerce stamps date_modified with the current time on every save and on meta writes made
// by status hooks (stock, sales counts, coupon usage). Set each order's to its last event.
foreach ($jb_desired_modified as $id => $ts) {
    $order = wc_get_order($id);
    $order->set_date_modified($ts);
    $order->save();
}
foreach ($jb_trash as $id) {
    wc_get_order($id)->delete(false);    // through WooCommerce: status "trash"
}

// A customer's date_modified is the user meta last_update, stamped on every customer save:
// set it to the person's last own activity (registration, newsletter choice, last order).
$jb_last_activity = [];
foreach ($JB_CUSTOMERS as $handle => $c) {
    $jb_last_activity[$JB_UID[$handle]] = max(jb_ts($c['reg_days']), is_int($c['nl']) ? jb_ts($c['nl']) : 0);
}
foreach ($JB_PLAN as $p) {
    [$kind, $handle] = explode(':', $p['who'], 2);
    if ($kind === 'c') {
        $uid = $JB_UID[$handle];
        $jb_last_activity[$uid] = max($jb_last_activity[$uid], jb_ts($p['days']));
    }
}

// ---------------------------------------------------------------------------------------------
// Reviews (approved), oldest first
// ---------------------------------------------------------------------------------------------

$JB_REVIEWS = [
    // [who ('c:handle' logged in | 'e:email' as typed, not logged in), product, rating, verified, days ago, text]
    ['c:joost', 'thee', 5, true, 750.2, 'Heerlijke thee, al jaren mijn favoriet.'],
    ['c:sanne', 'koffie', 5, true, 100.3, 'Prima koffie, snel geleverd.'],
    ['c:thijs', 'koffie', 1, true, 90.4, 'De laatste zakken waren flink minder vers.'],
    ['c:eva', 'thee', 3, true, 80.5, 'Goede thee, verpakking kan beter.'],
    ['c:hans', 'koffie', 2, true, 70.6, 'Zu bitter für meinen Geschmack.'],
    ['c:lotte', 'koffie', 5, true, 60.2, 'Elke maand weer een feestje.'],
    ['e:anna.gast@example.com', 'koffie', 5, true, 50.4, 'Lekkere bonen, ik bestel zeker weer.'],
    ['c:ruben', 'espresso', 3, false, 40.1, 'Ziet er mooi uit in de winkel, nog niet gekocht.'],
    ['c:sanne', 'filter', 4, true, 30.3, 'Doet wat het moet doen.'],
    ['c:mary', 'beker', 5, true, 25.5, 'Keeps my coffee hot all morning.'],
    ['c:ingrid', 'thee', 4, false, 22.2, 'Lekker, gekregen van een vriendin.'],
    ['c:marco', 'koffie', 4, true, 18.6, 'Goede huismelange.'],
    ['e:unknown.visitor@example.org', 'espresso', 2, false, 15.3, 'Te duur voor wat het is.'],
    ['e:PIETER.DEVRIES@EXAMPLE.NL', 'koffie', 4, true, 10.4, 'Fijne koffie, mooi geprijsd.'],
    ['c:milan', 'melk', 4, true, 3.2, 'Maakt mooi stevig schuim.'],
    ['c:bram', 'espresso', 5, true, 250.1, 'Top machine, perfecte crema.'],
    ['c:willem', 'ontkalker', 3, true, 95.3, 'Werkt, maar ruikt sterk.'],
    ['e:Bjoern.Schaefer@example.de', 'espresso', 1, true, 80.2, 'Nach zwei Monaten defekt.'],
    ['c:gerrit', 'melk', 5, true, 500.4, 'Uitstekend apparaat.'],
    ['c:kim', 'koffie', 4, true, 45.5, 'Altijd goed.'],
    ['e:Lotte.Visser@Example.NL', 'thee', 4, true, 12.3, 'Ook de thee is prima!'],
];
usort($JB_REVIEWS, static fn(array $a, array $b): int => $b[4] <=> $a[4]);
foreach ($JB_REVIEWS as $i => [$who, $prod, $rating, $verified, $days, $text]) {
    [$kind, $val] = explode(':', $who, 2);
    if ($kind === 'c') {
        $c = $JB_CUSTOMERS[$val];
        $name = trim($c['first'] . ' ' . $c['last']);
        $email = $c['email'];
        $user_id = $JB_UID[$val];
    } else {
        $email = $val;
        $name = ucwords(str_replace(['.', '_'], ' ', strtolower(strstr($val, '@', true))));
        $user_id = 0;
    }
    $ts = jb_ts($days);
    $cid = wp_insert_comment([
        'comment_post_ID' => $JB_PRODUCTS[$prod],
        'comment_author' => $name,
        'comment_author_email' => $email,
        'comment_author_url' => '',
        'comment_author_IP' => '198.51.100.' . (20 + $i),
        'comment_agent' => $JB_UAS[$i % count($JB_UAS)],
        'comment_content' => $text,
        'comment_type' => 'review',
        'comment_parent' => 0,
        'user_id' => $user_id,
        'comment_approved' => 1,
        'comment_date' => get_date_from_gmt(gmdate('Y-m-d H:i:s', $ts)),
        'comment_date_gmt' => gmdate('Y-m-d H:i:s', $ts),
        'comment_meta' => ['rating' => $rating, 'verified' => $verified ? 1 : 0],
    ]);
    if (!$cid) {
        fwrite(STDERR, "review insert failed\n");
        exit(1);
    }
    if ($user_id) {
        $jb_last_activity[$user_id] = max($jb_last_activity[$user_id], $ts);
    }
}
foreach ($JB_PRODUCTS as $pid) {
    WC_Comments::clear_transients($pid);
}

remove_filter('delete_user_metadata', $jb_skip_cache_deletes, 10);
foreach ($JB_CUSTOMER_CACHE_KEYS as $jb_key) {
    delete_metadata('user', 0, $jb_key, '', true);
}

foreach ($jb_last_activity as $uid => $ts) {
    update_user_meta($uid, 'last_update', (string) $ts);
}

$GLOBALS['wpdb']->query('COMMIT');
$jb_seed_seconds = microtime(true) - $jb_started;

// ---------------------------------------------------------------------------------------------
// Expectation: re-read everything from the shop
// ---------------------------------------------------------------------------------------------

wp_cache_flush();

$exp_customers = [];
$email_to_uid = [];
foreach (get_users(['orderby' => 'ID', 'order' => 'ASC']) as $u) {
    $cust = new WC_Customer($u->ID);
    $nl = get_user_meta($u->ID, 'newsletter_optin', true);
    $exp_customers[] = [
        'id' => $u->ID,
        'email' => $cust->get_email(),
        'username' => $cust->get_username(),
        'role' => $cust->get_role(),
        'first_name' => $cust->get_first_name(),
        'last_name' => $cust->get_last_name(),
        // users.user_registered is UTC (the REST API's date_created_gmt); WC_Customer's own
        // get_date_created() reads that string as shop-local time and is off by the UTC offset.
        'date_created' => jb_iso((int) strtotime($u->user_registered . ' UTC')),
        'date_modified' => jb_dt_iso($cust->get_date_modified()),
        'newsletter' => $nl === 'yes',
        'newsletter_optin' => $nl === '' ? null : $nl,
        'newsletter_optin_date' => get_user_meta($u->ID, 'newsletter_optin_date', true) ?: null,
        'phone' => $cust->get_billing_phone(),
        'country' => $cust->get_billing_country(),
    ];
    $email_to_uid[strtolower(trim($cust->get_email()))] = $u->ID;
}

$all_statuses = array_merge(array_map(static fn($s) => substr($s, 3), array_keys(wc_get_order_statuses())), ['trash']);
$orders = wc_get_orders(['type' => 'shop_order', 'status' => $all_statuses, 'limit' => -1, 'orderby' => 'ID', 'order' => 'ASC']);
$exp_orders = [];
$trashed = [];
$order_statuses = [];
foreach ($orders as $o) {
    if ($o->get_status() === 'trash') {
        $trashed[] = $o->get_id();
        continue;
    }
    $refunds = [];
    foreach ($o->get_refunds() as $r) {
        $refunds[] = ['id' => $r->get_id(), 'amount' => jb_money($r->get_amount()),
            'reason' => $r->get_reason(), 'date_created' => jb_dt_iso($r->get_date_created())];
    }
    usort($refunds, static fn($a, $b) => $a['id'] <=> $b['id']);
    $items = [];
    foreach ($o->get_items('line_item') as $item) {
        $items[] = ['product_id' => $item->get_product_id(), 'sku' => $item->get_product()->get_sku(),
            'quantity' => $item->get_quantity(), 'subtotal' => jb_money($item->get_subtotal()),
            'total' => jb_money($item->get_total())];
    }
    $exp_orders[] = [
        'id' => $o->get_id(),
        'customer_id' => $o->get_customer_id(),
        'billing_email' => $o->get_billing_email(),
        'billing_phone' => $o->get_billing_phone(),
        'billing_country' => $o->get_billing_country(),
        'status' => $o->get_status(),
        'total' => jb_money($o->get_total()),
        'discount_total' => jb_money($o->get_discount_total()),
        'shipping_total' => jb_money($o->get_shipping_total()),
        'currency' => $o->get_currency(),
        'payment_method' => $o->get_payment_method(),
        'created_via' => $o->get_created_via(),
        'customer_ip_address' => $o->get_customer_ip_address(),
        'coupon_codes' => array_values($o->get_coupon_codes()),
        'date_created' => jb_dt_iso($o->get_date_created()),
        'date_modified' => jb_dt_iso($o->get_date_modified()),
        'date_paid' => jb_dt_iso($o->get_date_paid()),
        'date_completed' => jb_dt_iso($o->get_date_completed()),
        'refunds' => $refunds,
        'line_items' => $items,
    ];
    $order_statuses[$o->get_status()][] = $o->get_id();
}
ksort($order_statuses);

$exp_reviews = [];
foreach (get_comments(['type' => 'review', 'status' => 'approve', 'orderby' => 'comment_ID', 'order' => 'ASC']) as $cm) {
    $exp_reviews[] = [
        'id' => (int) $cm->comment_ID,
        'product_id' => (int) $cm->comment_post_ID,
        'reviewer' => $cm->comment_author,
        'reviewer_email' => $cm->comment_author_email,
        'rating' => (int) get_comment_meta((int) $cm->comment_ID, 'rating', true),
        'verified' => wc_review_is_from_verified_owner((int) $cm->comment_ID),
        'date_created' => jb_iso((int) strtotime($cm->comment_date_gmt . ' UTC')),
    ];
}

// People: our identity rule.
$people = [];
foreach ($exp_customers as $c) {
    $people['customer:' . $c['id']] = ['key' => 'customer:' . $c['id'], 'email' => strtolower(trim($c['email'])),
        'order_ids' => [], 'review_ids' => []];
}
$person_of_order = [];
foreach ($exp_orders as $o) {
    $e = strtolower(trim($o['billing_email']));
    if ($o['customer_id'] > 0) {
        $key = 'customer:' . $o['customer_id'];
    } elseif (isset($email_to_uid[$e])) {
        $key = 'customer:' . $email_to_uid[$e];
    } else {
        $key = 'guest:' . $e;
        $people[$key] ??= ['key' => $key, 'email' => $e, 'order_ids' => [], 'review_ids' => []];
    }
    $people[$key]['order_ids'][] = $o['id'];
    $person_of_order[$o['id']] = $key;
}
$orphans = [];
foreach ($exp_reviews as $r) {
    $e = strtolower(trim($r['reviewer_email']));
    $key = isset($email_to_uid[$e]) ? 'customer:' . $email_to_uid[$e] : 'guest:' . $e;
    if (isset($people[$key])) {
        $people[$key]['review_ids'][] = $r['id'];
    } else {
        $orphans[] = $r['id'];
    }
}
$people = array_values($people);

// Phases covered: by construction (the plan's intent) and by mechanical facts.
$phases = [];
$add = static function (string $phase, string $key) use (&$phases): void {
    if (!in_array($key, $phases[$phase] ?? [], true)) {
        $phases[$phase][] = $key;
    }
};
foreach ($JB_CUSTOMERS as $handle => $c) {
    foreach ($c['tags'] as $t) {
        $add($t, 'customer:' . $JB_UID[$handle]);
    }
}
$orders_by_id = array_column($exp_orders, null, 'id');
$cust_by_id = array_column($exp_customers, null, 'id');
$reviews_by_id = array_column($exp_reviews, null, 'id');
$purchase_classes = ['processing', 'completed', 'on-hold'];
foreach ($people as $p) {
    $key = $p['key'];
    $cust = str_starts_with($key, 'customer:') ? $cust_by_id[(int) substr($key, 9)] : null;
    $pos = array_map(static fn($id) => $orders_by_id[$id], $p['order_ids']);
    $purchase_days = [];
    $last_purchase = null;
    foreach ($pos as $o) {
        if ($o['date_paid'] !== null && in_array($o['status'], $purchase_classes, true)) {
            $purchase_days[substr($o['date_created'], 0, 10)] = true;
            $last_purchase = max($last_purchase ?? '', $o['date_created']);
        }
    }
    $n_purchases = count($purchase_days);
    if ($cust !== null) {
        if ($cust['role'] !== 'customer') {
            $add('role_' . $cust['role'], $key);
        }
        if ($cust['newsletter']) {
            $add('newsletter_optin', $key);
        }
        if ($cust['newsletter_optin'] === 'no') {
            $add('newsletter_optout', $key);
        }
        if (!$pos && $cust['role'] === 'customer') {
            $add('registered_only', $key);
        }
        if (preg_match('/[^\x00-\x7F]/', $cust['first_name'] . $cust['last_name'])) {
            $add('non_ascii_name', $key);
        }
        $ph = $cust['phone'];
        if ($ph !== '') {
            $add(str_starts_with($ph, '+') ? 'international_phone' : 'national_phone', $key);
        }
        if ($cust['country'] !== '') {
            $add('country_' . $cust['country'], $key);
        }
    } else {
        $add(count($pos) >= 2 ? 'guest_multi_order' : 'guest_single_order', $key);
        $variants = array_unique(array_map(static fn($o) => $o['billing_email'], $pos));
        if (count($variants) > 1) {
            $add('guest_email_case_variants', $key);
        }
    }
    if ($cust !== null && array_filter($pos, static fn($o) => $o['customer_id'] === 0)) {
        $add('guest_orders_merged_into_customer', $key);
    }
    if ($n_purchases >= 2) {
        $add('repeat_buyer', $key);
    } elseif ($n_purchases === 1) {
        $add('one_time_buyer', $key);
    }
    if ($n_purchases >= 1 && $last_purchase < jb_iso(jb_ts(730))) {
        $add('lapsed', $key);
    }
    foreach ($pos as $o) {
        $age = (JB_NOW - strtotime($o['date_created'])) / DAY_IN_SECONDS;
        $s = $o['status'];
        if ($s === 'processing' || ($s === 'on-hold' && $o['date_paid'] !== null)) {
            $add('service_open_order', $key);
        }
        if ($s === 'pending' || ($s === 'on-hold' && $o['date_paid'] === null)) {
            $add('awaiting_payment', $key);
        }
        if ($s === 'failed') {
            $add('failed_payment', $key);
        }
        if ($s === 'cancelled') {
            $add($o['date_paid'] === null ? 'cancelled_unpaid' : 'cancelled_after_payment', $key);
        }
        if ($s === 'checkout-draft') {
            $add('checkout_draft', $key);
        }
        if ($s === 'refunded') {
            $add('refund_full', $key);
        } elseif ($o['refunds']) {
            $add('refund_partial', $key);
        }
        if ($o['coupon_codes']) {
            $add('coupon_used', $key);
        }
        if (count($o['line_items']) >= 2) {
            $add('multi_item_order', $key);
        }
        if ($s === 'completed' && $age <= 14) {
            $add('fulfilled_within_14d', $key);
        }
    }
    if ($n_purchases === 0 && $pos) {
        $add('no_purchase_checkout_intent', $key);
    }
    foreach ($p['review_ids'] as $rid) {
        $r = $reviews_by_id[$rid];
        $add($r['verified'] ? 'reviewer_verified' : 'reviewer_unverified', $key);
        if ($cust !== null && $r['reviewer_email'] !== $cust['email']) {
            $add('review_email_case_differs', $key);
        }
        $r_age = (JB_NOW - strtotime($r['date_created'])) / DAY_IN_SECONDS;
        if ($n_purchases >= 1 && $r['rating'] >= 4 && $r_age <= 365) {
            $add('advocacy_review', $key);
        }
        if ($r['rating'] <= 2) {
            $add('low_rating_review', $key);
        }
    }
}
foreach ($trashed as $tid) {
    $o = wc_get_order($tid);
    $add('trashed_order_owner', 'customer:' . $o->get_customer_id());
}
foreach ($JB_PLAN as $p) {
    if ($p['status'] === 'failed') {
        [$kind, $handle] = explode(':', $p['who'], 2);
        $later_paid = false;
        foreach ($JB_PLAN as $q) {
            if ($q['who'] === $p['who'] && $q['days'] < $p['days'] && in_array($q['status'], $JB_PAID_STATUSES, true)) {
                $later_paid = true;
            }
        }
        if ($later_paid) {
            $key = $kind === 'c' ? 'customer:' . $JB_UID[$handle] : 'guest:' . strtolower(trim($p['email']));
            $add('failed_then_paid', $key);
        }
    }
}
ksort($phases);

$products = [];
foreach ($JB_PRODUCTS as $handle => $pid) {
    $pr = wc_get_product($pid);
    $products[] = ['id' => $pid, 'sku' => $pr->get_sku(), 'name' => $pr->get_name(), 'price' => jb_money($pr->get_price())];
}

$expected = [
    'seeded_at' => jb_iso(JB_NOW),
    'currency' => get_woocommerce_currency(),
    'timezone' => wp_timezone_string(),
    'woocommerce_version' => WC()->version,
    'seed_seconds' => round($jb_seed_seconds, 2),
    'conventions' => [
        'newsletter_meta' => ['newsletter_optin' => 'yes|no', 'newsletter_optin_date' => 'ISO 8601 UTC'],
        'money' => 'decimal strings as the REST API returns them (dp=2)',
        'times' => 'UTC; compare with the API\'s *_gmt fields plus Z',
        'people' => 'customer:<id>; guest:<lower(trim(billing_email))> unless a customer has that e-mail (case-insensitive)',
    ],
    'counts' => [
        'customers' => count($exp_customers),
        'orders' => count($exp_orders),
        'trashed_orders' => count($trashed),
        'refunds' => array_sum(array_map(static fn($o) => count($o['refunds']), $exp_orders)),
        'reviews' => count($exp_reviews),
        'people' => count($people),
        'guest_people' => count(array_filter($people, static fn($p) => str_starts_with($p['key'], 'guest:'))),
        'orphan_reviews' => count($orphans),
    ],
    'products' => $products,
    'coupons' => ['welkom10'],
    'customers' => $exp_customers,
    'orders' => $exp_orders,
    'order_ids_by_status' => $order_statuses,
    'trashed_order_ids' => $trashed,
    'reviews' => $exp_reviews,
    'people' => $people,
    'orphan_review_ids' => $orphans,
    'phases_covered' => $phases,
];
$GLOBALS['wpdb']->query('COMMIT');
$json = json_encode($expected, JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
if ($json === false || file_put_contents($jb_out, $json . "\n") === false) {
    fwrite(STDERR, "could not write $jb_out\n");
    exit(1);
}
printf("seeded %d customers, %d orders (+%d trashed), %d reviews, %d people in %.1f s\n",
    count($exp_customers), count($exp_orders), count($trashed), count($exp_reviews), count($people),
    microtime(true) - $jb_started);
