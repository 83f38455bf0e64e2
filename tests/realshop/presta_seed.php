<?php
/**
 * journeybridge test seed for the real PrestaShop 8.1.2 shop of ../shared/real-presta.
 *
 *   php $PS_PHP_FLAGS presta_seed.php SHOP_DIR OUT.json
 *
 * Adds to the freshly installed shop (its demo data stays: customers 1-2, orders 1-5) a
 * deterministic history that covers every journey phase: registered customers without a cart or
 * an order, newsletter and partner opt-in subscribers with their dates, carts left behind by
 * known customers and by unknown visitors, orders whose current state is each of the shop's 13
 * states reached through backdated order histories, repeat buyers on a rhythm, a lapsed buyer,
 * guest checkouts (is_guest=1 rows, one e-mail on several rows in different letter case, a guest
 * who later registered, an account holder who also bought as a guest), non-ASCII names and a
 * customer in an extra, non-journey group.
 *
 * The Webservice cannot backdate, so this uses PrestaShop's object model and then sets the dates
 * (date_add, date_upd, newsletter_date_add, order history dates) with SQL, in shop time.
 * Names, e-mails, amounts and the shape of the history are fixed; dates are relative to the
 * seed's "base", yesterday 12:00 shop time (every seeded event falls between 05:00 and 18:00
 * shop time, away from the daylight-saving switch hours).
 *
 * Writes OUT.json: "what a correct pull must see", re-read from the database after seeding.
 * Dates appear twice: as the Webservice shows them (shop time, no offset) and in UTC with Z
 * (keys ending in _utc). Money: the six-decimal strings the Webservice returns.
 */

declare(strict_types=1);

if (PHP_SAPI !== 'cli') {
    exit(1);
}
if (count($argv) < 3) {
    fwrite(STDERR, "usage: php \$PS_PHP_FLAGS presta_seed.php SHOP_DIR OUT.json\n");
    exit(2);
}
[$_, $jb_shop, $jb_out] = $argv;
$_SERVER['HTTP_HOST'] = 'localhost';
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['REMOTE_ADDR'] = '127.0.0.1';
define('_PS_ADMIN_DIR_', $jb_shop . '/admin');
require $jb_shop . '/config/config.inc.php';

const JB_MARKER_EMAIL = 'femke.jansen@example.nl';
const JB_NON_JOURNEY_GROUP = 'Wholesale';

$db = Db::getInstance();
if ((int) $db->getValue('SELECT COUNT(*) FROM ' . _DB_PREFIX_ . "customer WHERE email = '" . pSQL(JB_MARKER_EMAIL) . "'")) {
    fwrite(STDERR, "this shop already holds the journeybridge seed: reset it first\n");
    exit(3);
}

$jb_started = microtime(true);
$context = Context::getContext();
$context->language = new Language((int) Configuration::get('PS_LANG_DEFAULT'));
$context->currency = new Currency((int) Configuration::get('PS_CURRENCY_DEFAULT'));
$context->employee = new Employee(1);
$JB_TZ = new DateTimeZone((string) Configuration::get('PS_TIMEZONE'));
$JB_UTC = new DateTimeZone('UTC');
define('JB_NOW', time());
define('JB_BASE', (new DateTime('yesterday 12:00', $JB_TZ))->getTimestamp());
$P = _DB_PREFIX_;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** Unix time: $days before the base, $minutes earlier still (0 <= $minutes <= 420). */
function jb_ts(int $days, int $minutes = 0): int
{
    return JB_BASE - $days * 86400 - $minutes * 60;
}

/** Shop-local 'Y-m-d H:i:s' of a Unix time, as PrestaShop stores and shows dates. */
function jb_local(int $ts): string
{
    global $JB_TZ;
    return (new DateTime('@' . $ts))->setTimezone($JB_TZ)->format('Y-m-d H:i:s');
}

/** A stored shop-local date as ISO 8601 UTC with Z (null for the zero date). */
function jb_utc(?string $local): ?string
{
    global $JB_TZ, $JB_UTC;
    if ($local === null || $local === '' || str_starts_with($local, '0000-00-00')) {
        return null;
    }
    return (new DateTime($local, $JB_TZ))->setTimezone($JB_UTC)->format('Y-m-d\TH:i:s\Z');
}

function jb_fail(string $what): never
{
    fwrite(STDERR, $what . "\n");
    exit(1);
}

function jb_add(ObjectModel $o, string $what): int
{
    try {
        $ok = $o->add(false);
    } catch (Throwable $e) {
        jb_fail("$what: " . $e->getMessage());
    }
    if (!$ok) {
        jb_fail("$what: add() failed");
    }
    return (int) $o->id;
}

// ---------------------------------------------------------------------------------------------
// Fixed shop data: states, groups, products, countries
// ---------------------------------------------------------------------------------------------

$JB_STATES = [];
foreach ($db->executeS("SELECT s.*, l.name FROM {$P}order_state s JOIN {$P}order_state_lang l
        ON l.id_order_state = s.id_order_state AND l.id_lang = 1 ORDER BY s.id_order_state") as $row) {
    $JB_STATES[(int) $row['id_order_state']] = $row;
}
// The default 8.1.2 states by what they mean (ids of a fresh shop; checked below).
$S = ['check' => 1, 'accepted' => 2, 'processing' => 3, 'shipped' => 4, 'delivered' => 5,
    'canceled' => 6, 'refunded' => 7, 'error' => 8, 'backorder_paid' => 9, 'wire' => 10,
    'remote' => 11, 'backorder_unpaid' => 12, 'cod' => 13];
foreach (['accepted' => 'paid', 'shipped' => 'shipped', 'delivered' => 'delivery'] as $k => $flag) {
    if ((int) $JB_STATES[$S[$k]][$flag] !== 1) {
        jb_fail("order state {$S[$k]} is not the default '$k' state");
    }
}

$jb_group = new Group();
$jb_group->name = [1 => JB_NON_JOURNEY_GROUP];
$jb_group->reduction = 5;
$jb_group->price_display_method = 1;
$jb_group->show_prices = 1;
$jb_group->date_add = jb_local(jb_ts(800));
$jb_group->date_upd = $jb_group->date_add;
$JB_WHOLESALE = jb_add($jb_group, 'group');
$CUSTOMER_GROUP = (int) Configuration::get('PS_CUSTOMER_GROUP');
$GUEST_GROUP = (int) Configuration::get('PS_GUEST_GROUP');

$JB_PRICES = [];
foreach ($db->executeS("SELECT p.id_product, p.price, p.reference, l.name FROM {$P}product p JOIN {$P}product_lang l
        ON l.id_product = p.id_product AND l.id_lang = 1 AND l.id_shop = 1 ORDER BY p.id_product") as $row) {
    $JB_PRICES[(int) $row['id_product']] = [$row['price'], $row['reference'], $row['name']];
}
$JB_COUNTRY = [];
foreach ($db->executeS("SELECT id_country, iso_code FROM {$P}country") as $row) {
    $JB_COUNTRY[$row['iso_code']] = (int) $row['id_country'];
}
$JB_ADDR = [
    'amsterdam' => ['NL', 'Amsterdam', '1012 AB', 'Damrak 1'],
    'utrecht' => ['NL', 'Utrecht', '3511 AB', 'Oudegracht 12'],
    'rotterdam' => ['NL', 'Rotterdam', '3011 AA', 'Coolsingel 40'],
    'groningen' => ['NL', 'Groningen', '9711 AA', 'Grote Markt 2'],
    'berlin' => ['DE', 'Berlin', '10115', 'Invalidenstrasse 10'],
    'muenchen' => ['DE', 'München', '80331', 'Marienplatz 8'],
    'antwerpen' => ['BE', 'Antwerpen', '2000', 'Meir 50'],
    'paris' => ['FR', 'Paris', '75001', 'Rue de Rivoli 10'],
];

// One bcrypt hash (the shop checks passwords with password_verify) at the cheapest cost.
$jb_hash = password_hash('journeybridge-test-password', PASSWORD_BCRYPT, ['cost' => 4]);

// ---------------------------------------------------------------------------------------------
// People
// ---------------------------------------------------------------------------------------------

/**
 * A registered customer: reg = days before base; nl = newsletter days before base (null: not
 * subscribed); optin = partner offers; tags = phases this customer was made for.
 */
function jb_c(string $email, string $first, string $last, int $reg, string $addr, ?int $nl = null,
              bool $optin = false, array $tags = [], bool $wholesale = false): array
{
    return compact('email', 'first', 'last', 'reg', 'addr', 'nl', 'optin', 'tags', 'wholesale');
}

$JB_CUSTOMERS = [
    // Registered only: no cart, no order.
    'femke' => jb_c(JB_MARKER_EMAIL, 'Femke', 'Jansen', 400, 'amsterdam', 390, false, ['registered_only']),
    'daan' => jb_c('daan.deboer@example.nl', 'Daan', 'de Boer', 200, 'utrecht', null, false, ['registered_only']),
    'zoe' => jb_c('zoe.vandijk@example.nl', 'Zoë', 'van Dijk', 25, 'rotterdam', 20, true,
        ['registered_only', 'new_account_30d']),
    'jurgen' => jb_c('juergen.gross@example.de', 'Jürgen', 'Groß', 5, 'berlin', null, false,
        ['registered_only', 'new_account_30d']),
    'misaki' => jb_c('misaki.sato@example.com', '美咲', '佐藤', 60, 'paris', null, true, ['registered_only']),
    // Carts left behind by known customers (no order).
    'bas' => jb_c('bas.hoekstra@example.nl', 'Bas', 'Hoekstra', 20, 'amsterdam', 19, false, ['abandoned_cart']),
    'roos' => jb_c('roos.prins@example.nl', 'Roos', 'Prins', 90, 'utrecht', null, false, ['abandoned_cart']),
    // Repeat buyers on a rhythm.
    'sanne' => jb_c('sanne.bakker@example.nl', 'Sanne', 'Bakker', 380, 'amsterdam', 370, true, ['repeat_30d']),
    'thijs' => jb_c('thijs.meijer@example.nl', 'Thijs', 'Meijer', 300, 'rotterdam', null, false,
        ['repeat_14d', 'at_risk_own_rhythm']),
    // Lapsed: orders two and a half to three years ago only.
    'kees' => jb_c('kees.kok@example.nl', 'Kees', 'Kok', 1100, 'groningen', 1090, false, ['lapsed']),
    // One order each, in every state.
    'fleur' => jb_c('fleur.hoekstra@example.nl', 'Fleur', 'Hoekstra', 30, 'amsterdam'),
    'julia' => jb_c('julia.schmidt@example.de', 'Julia', 'Schmidt', 12, 'berlin'),
    'finn' => jb_c('finn.dewit@example.nl', 'Finn', 'de Wit', 9, 'utrecht'),
    'iris' => jb_c('iris.koster@example.nl', 'Iris', 'Koster', 6, 'rotterdam', 6),
    'milan' => jb_c('milan.peters@example.nl', 'Milan', 'Peters', 10, 'groningen'),
    'tess' => jb_c('tess.dijkstra@example.nl', 'Tess', 'Dijkstra', 46, 'amsterdam', 46),
    'luuk' => jb_c('luuk.hermans@example.nl', 'Luuk', 'Hermans', 81, 'utrecht'),
    'nina' => jb_c('nina.becker@example.de', 'Nina', 'Becker', 151, 'muenchen'),
    'max' => jb_c('max.janssens@example.be', 'Max', 'Janssens', 221, 'antwerpen'),
    'evi' => jb_c('evi.maas@example.nl', 'Evi', 'Maas', 40, 'rotterdam', null, false, ['failed_then_paid']),
    'robin' => jb_c('robin.kramer@example.nl', 'Robin', 'Kramer', 31, 'groningen'),
    'yara' => jb_c('yara.bosman@example.nl', 'Yara', 'Bosman', 14, 'amsterdam'),
    'sven' => jb_c('sven.dejong@example.nl', 'Sven', 'de Jong', 61, 'utrecht'),
    'chloe' => jb_c('chloe.dubois@example.fr', 'Chloé', 'Dubois', 70, 'paris', 69, true),
    // An extra, non-journey group beside the default one.
    'marco' => jb_c('marco.winkel@example.nl', 'Marco', 'Winkel', 500, 'utrecht', null, false,
        ['non_journey_group'], true),
    // Identity: a guest who registered later; an account holder who also bought as a guest.
    'kim' => jb_c('kim.vos@example.nl', 'Kim', 'Vos', 100, 'groningen', 100, false, ['guest_then_registered']),
    'pieter' => jb_c('Pieter.DeVries@Example.NL', 'Pieter', 'de Vries', 75, 'amsterdam', null, false,
        ['account_email_mixed_case']),
];

/** Guest checkouts: handle => [first, last, addr]; the e-mail is whatever each checkout typed. */
$JB_GUESTS = [
    'anna' => ['Anna', 'Gast', 'amsterdam'],
    'bert' => ['Bert', 'Gastman', 'utrecht'],
    'greta' => ['Grete', 'Müller', 'berlin'],
    'kim' => ['Kim', 'Vos', 'groningen'],
    'pieter' => ['Pieter', 'de Vries', 'amsterdam'],
    'lena' => ['Lena', 'Fischer', 'muenchen'],
];

// ---------------------------------------------------------------------------------------------
// Plan: every order (and guest checkout) as data first, then created oldest first
// ---------------------------------------------------------------------------------------------

$JB_PLAN = [];
/**
 * @param string $who 'c:<handle>' registered, 'g:<handle>' guest checkout (a new is_guest row)
 * @param string $final the final state's handle in $S
 * @param array  $items [[id_product, qty], ...]
 */
function jb_plan(string $who, int $days, string $final, array $items, array $o = []): void
{
    global $JB_PLAN;
    $JB_PLAN[] = ['who' => $who, 'days' => $days, 'final' => $final, 'items' => $items] + $o;
}

for ($k = 11; $k >= 0; $k--) {              // Sanne: monthly for a year; the newest shipped
    jb_plan('c:sanne', 10 + 30 * $k + ($k % 3), $k === 0 ? 'shipped' : 'delivered', [[1, 1], [12, $k % 2 + 1]],
        ['minutes' => 30 + 10 * $k]);
}
for ($k = 7; $k >= 0; $k--) {               // Thijs: every two weeks, silent for 90 days
    jb_plan('c:thijs', 90 + 14 * $k, 'delivered', [[6, 2]], ['minutes' => 200 - 5 * $k]);
}
foreach ([1000, 930] as $d) {               // Kees: lapsed
    jb_plan('c:kees', $d, 'delivered', [[2, 1]]);
}
jb_plan('c:fleur', 2, 'check', [[3, 1]]);
jb_plan('c:julia', 3, 'wire', [[4, 2]]);
jb_plan('c:finn', 4, 'cod', [[5, 1]]);
jb_plan('c:iris', 1, 'accepted', [[7, 1], [8, 1]]);
jb_plan('c:milan', 5, 'processing', [[9, 1]]);
jb_plan('c:tess', 8, 'shipped', [[10, 3]]);
jb_plan('c:luuk', 40, 'delivered', [[11, 1]]);
jb_plan('c:nina', 30, 'canceled', [[13, 1]]);
jb_plan('c:max', 60, 'refunded', [[15, 1]]);
jb_plan('c:evi', 20, 'error', [[16, 1]], ['minutes' => 90]);
jb_plan('c:evi', 20, 'accepted', [[16, 1]], ['minutes' => 30]);
jb_plan('c:robin', 6, 'backorder_paid', [[17, 1]]);
jb_plan('c:yara', 7, 'remote', [[18, 2]]);
jb_plan('c:sven', 11, 'backorder_unpaid', [[19, 1]]);
jb_plan('c:chloe', 65, 'delivered', [[1, 2]]);
foreach ([300, 120] as $d) {                // Marco, the wholesale customer
    jb_plan('c:marco', $d, 'delivered', [[2, 5], [3, 5]]);
}
// Guests: one e-mail in three letter cases on three guest rows.
jb_plan('g:anna', 400, 'delivered', [[1, 1]], ['email' => 'anna.gast@example.com']);
jb_plan('g:anna', 180, 'delivered', [[12, 2]], ['email' => 'ANNA.GAST@EXAMPLE.COM']);
jb_plan('g:anna', 15, 'shipped', [[6, 1]], ['email' => 'Anna.Gast@Example.com']);
jb_plan('g:bert', 9, 'error', [[7, 1]], ['email' => 'bert.gastman@example.nl']);
jb_plan('g:greta', 45, 'delivered', [[14, 1]], ['email' => 'grete.mueller@example.de']);
// A guest who registered later (the account is kim above), and an account holder's guest order.
jb_plan('g:kim', 300, 'delivered', [[9, 1]], ['email' => 'Kim.Vos@Example.nl']);
jb_plan('c:kim', 50, 'delivered', [[9, 2]]);
jb_plan('c:pieter', 70, 'delivered', [[10, 1]]);
jb_plan('g:pieter', 20, 'delivered', [[11, 1]], ['email' => 'pieter.devries@example.nl']);

/** Carts without an order: [who ('c:handle', 'g:handle' a guest row without an order, 'v:n' an
 *  unknown visitor), days, items]. */
$JB_LEFT_CARTS = [
    ['c:bas', 3, [[2, 1]]],
    ['c:roos', 10, [[3, 1], [4, 1]]],
    ['c:roos', 40, [[5, 1]]],
    ['c:sanne', 4, [[1, 1]]],            // a repeat buyer's cart between two orders
    ['g:lena', 2, [[8, 1]], 'lena.fischer@example.de'],   // guest checkout begun, never finished
    ['v:1', 1, [[1, 1]]],
    ['v:2', 6, [[15, 1], [16, 1]]],
    ['v:3', 33, [[19, 2]]],
];

// ---------------------------------------------------------------------------------------------
// Customers, orders, carts: created in time order, so ids grow with dates as in a real shop
// ---------------------------------------------------------------------------------------------

/** The Customer row for a registered customer or a guest checkout; returns [id, address id]. */
function jb_customer(string $email, string $first, string $last, int $reg_ts, string $addr,
                     bool $guest, ?int $nl_ts, bool $optin, array $groups): array
{
    global $jb_hash, $JB_ADDR, $JB_COUNTRY, $CUSTOMER_GROUP, $GUEST_GROUP, $db, $P;
    $c = new Customer();
    $c->email = $email;
    $c->firstname = $first;
    $c->lastname = $last;
    $c->passwd = $jb_hash;
    $c->is_guest = $guest;
    $c->active = true;
    $c->newsletter = $nl_ts !== null;
    $c->newsletter_date_add = $nl_ts !== null ? jb_local($nl_ts) : null;
    $c->ip_registration_newsletter = $nl_ts !== null ? '203.0.113.7' : null;
    $c->optin = $optin;
    $c->id_default_group = $guest ? $GUEST_GROUP : $CUSTOMER_GROUP;
    $c->groupBox = $groups;
    $c->date_add = jb_local($reg_ts);
    $c->date_upd = jb_local(max($reg_ts, $nl_ts ?? 0));
    $id = jb_add($c, "customer $email");
    // add() stamps last_passwd_gen with the current time: make it the registration.
    $db->update('customer', ['last_passwd_gen' => jb_local($reg_ts)], 'id_customer = ' . $id);
    [$country, $city, $postcode, $street] = $JB_ADDR[$addr];
    $a = new Address();
    $a->id_customer = $id;
    $a->id_country = $JB_COUNTRY[$country];
    $a->alias = 'Home';
    $a->firstname = $first;
    $a->lastname = $last;
    $a->address1 = $street;
    $a->postcode = $postcode;
    $a->city = $city;
    $a->date_add = jb_local($reg_ts);
    $a->date_upd = jb_local($reg_ts);
    return [$id, jb_add($a, "address of $email")];
}

// Visitors (the guest table: one per browser; carts point to them).
$JB_VISITOR = [];
function jb_visitor(int $id_customer): int
{
    $g = new Guest();
    $g->id_customer = $id_customer;
    $g->id_operating_system = 0;
    $g->id_web_browser = 0;
    $g->accept_language = 'nl';
    return jb_add($g, 'visitor');
}

// ---------------------------------------------------------------------------------------------
// Orders and their carts, oldest first
// ---------------------------------------------------------------------------------------------

/** The history (state handles, minutes after the order) that leads to a final state. */
$JB_PATHS = [
    'check' => [['check', 0]],
    'wire' => [['wire', 0]],
    'cod' => [['cod', 0]],
    'accepted' => [['accepted', 0]],
    'remote' => [['remote', 0]],
    'error' => [['error', 0]],
    'backorder_paid' => [['backorder_paid', 0]],
    'backorder_unpaid' => [['backorder_unpaid', 0]],
    'processing' => [['accepted', 0], ['processing', 60]],
    'shipped' => [['wire', 0], ['accepted', 600], ['processing', 1200], ['shipped', 2700]],
    'delivered' => [['accepted', 0], ['processing', 45], ['shipped', 1440], ['delivered', 4320]],
    'canceled' => [['check', 0], ['canceled', 2880]],
    'refunded' => [['accepted', 0], ['processing', 60], ['shipped', 1440], ['delivered', 4320],
        ['refunded', 14400]],
];

function jb_cart(int $id_customer, int $id_visitor, int $address, int $ts_add, int $ts_upd, array $items): int
{
    global $db;
    $cart = new Cart();
    $cart->id_customer = $id_customer;
    $cart->id_guest = $id_visitor;
    $cart->id_currency = (int) Configuration::get('PS_CURRENCY_DEFAULT');
    $cart->id_lang = (int) Configuration::get('PS_LANG_DEFAULT');
    $cart->id_address_delivery = $address;
    $cart->id_address_invoice = $address;
    $cart->id_carrier = $address ? 2 : 0;
    $cart->secure_key = $id_customer ? (string) (new Customer($id_customer))->secure_key : '';
    $cart->date_add = jb_local($ts_add);
    $cart->date_upd = jb_local($ts_upd);
    $id = jb_add($cart, 'cart');
    foreach ($items as [$pid, $qty]) {
        $db->insert('cart_product', ['id_cart' => $id, 'id_product' => (int) $pid,
            'id_address_delivery' => $address, 'id_shop' => 1, 'id_product_attribute' => 0,
            'id_customization' => 0, 'quantity' => (int) $qty, 'date_add' => jb_local($ts_add)]);
    }
    return $id;
}

$JB_EVENTS = [];
foreach ($JB_CUSTOMERS as $h => $c) {
    $JB_EVENTS[] = [jb_ts($c['reg'], 60), 'register', $h];
}
foreach ($JB_PLAN as $p) {
    $JB_EVENTS[] = [jb_ts($p['days'], $p['minutes'] ?? 0), 'order', $p];
}
foreach ($JB_LEFT_CARTS as $lc) {
    $JB_EVENTS[] = [jb_ts($lc[1], 120), 'cart', $lc];
}
usort($JB_EVENTS, static fn(array $a, array $b): int => $a[0] <=> $b[0]);
$JB_CID = [];
$JB_ADDRESS = [];   // customer id => address id
foreach ($JB_EVENTS as [$created, $event, $p]) {
    if ($event === 'register') {
        $c = $JB_CUSTOMERS[$p];
        $groups = $c['wholesale'] ? [$CUSTOMER_GROUP, $JB_WHOLESALE] : [$CUSTOMER_GROUP];
        [$id, $aid] = jb_customer($c['email'], $c['first'], $c['last'], $created, $c['addr'], false,
            $c['nl'] === null ? null : jb_ts($c['nl'], 30), $c['optin'], $groups);
        $JB_CID[$p] = $id;
        $JB_ADDRESS[$id] = $aid;
        continue;
    }
    if ($event === 'cart') {
        // A cart nobody ordered from.
        [$who, $days, $items] = $p;
        [$kind, $h] = explode(':', $who, 2);
        if ($kind === 'c') {
            $cid = $JB_CID[$h];
            $aid = $JB_ADDRESS[$cid];
        } elseif ($kind === 'g') {
            [$first, $last, $addr] = $JB_GUESTS[$h];
            [$cid, $aid] = jb_customer($p[3], $first, $last, $created + 600, $addr, true, null, false,
                [$GUEST_GROUP]);
        } else {
            $cid = 0;
            $aid = 0;
        }
        $visitor = $cid ? ($JB_VISITOR[$cid] ??= jb_visitor($cid)) : jb_visitor(0);
        jb_cart($cid, $visitor, $aid, $created, $created + 1200, $items);
        continue;
    }
    [$kind, $h] = explode(':', $p['who'], 2);
    if ($kind === 'c') {
        $cid = $JB_CID[$h];
    } else {
        [$first, $last, $addr] = $JB_GUESTS[$h];
        // Each guest checkout makes its own is_guest row, a few minutes before the order.
        [$cid, $aid] = jb_customer($p['email'], $first, $last, $created - 300, $addr, true, null, false, [$GUEST_GROUP]);
        $JB_ADDRESS[$cid] = $aid;
    }
    $aid = $JB_ADDRESS[$cid];
    $JB_VISITOR[$cid] ??= jb_visitor($cid);
    $cart_id = jb_cart($cid, $JB_VISITOR[$cid], $aid, $created - 900, $created - 60, $p['items']);

    $products = 0.0;
    foreach ($p['items'] as [$pid, $qty]) {
        $products += round((float) $JB_PRICES[$pid][0], 2) * $qty;
    }
    $shipping = $products >= 50 ? 0.0 : 7.0;
    $path = $JB_PATHS[$p['final']];
    $first_state = $S[$path[0][0]];
    $final_state = $S[$p['final']];
    $ever_paid = false;
    foreach ($path as [$st]) {
        $ever_paid = $ever_paid || (int) $JB_STATES[$S[$st]]['paid'] === 1;
    }
    $module = ['check' => 'ps_checkpayment', 'wire' => 'ps_wirepayment', 'cod' => 'ps_cashondelivery']
        [$path[0][0]] ?? 'ps_wirepayment';
    $payment = ['ps_checkpayment' => 'Payments by check', 'ps_wirepayment' => 'Bank transfer',
        'ps_cashondelivery' => 'Cash on delivery (COD)'][$module];

    $o = new Order();
    $o->id_address_delivery = $aid;
    $o->id_address_invoice = $aid;
    $o->id_cart = $cart_id;
    $o->id_currency = (int) Configuration::get('PS_CURRENCY_DEFAULT');
    $o->id_lang = (int) Configuration::get('PS_LANG_DEFAULT');
    $o->id_customer = $cid;
    $o->id_carrier = 2;
    $o->id_shop = 1;
    $o->id_shop_group = 1;
    $o->current_state = $first_state;
    $o->secure_key = (string) (new Customer($cid))->secure_key;
    $o->payment = $payment;
    $o->module = $module;
    $o->conversion_rate = 1;
    $o->reference = Order::generateReference();
    $o->total_products = $products;
    $o->total_products_wt = $products;
    $o->total_shipping = $shipping;
    $o->total_shipping_tax_incl = $shipping;
    $o->total_shipping_tax_excl = $shipping;
    $o->total_paid = $products + $shipping;
    $o->total_paid_tax_incl = $products + $shipping;
    $o->total_paid_tax_excl = $products + $shipping;
    $o->total_paid_real = $ever_paid ? $products + $shipping : 0;
    $o->total_discounts = 0;
    $o->round_mode = (int) Configuration::get('PS_PRICE_ROUND_MODE');
    $o->round_type = (int) Configuration::get('PS_ROUND_TYPE');
    $o->valid = false;
    $o->date_add = jb_local($created);
    $o->date_upd = jb_local($created);
    $oid = jb_add($o, 'order');

    foreach ($p['items'] as [$pid, $qty]) {
        [$price, $ref, $name] = $JB_PRICES[$pid];
        $d = new OrderDetail();
        $d->id_order = $oid;
        $d->id_shop = 1;
        $d->id_warehouse = 0;
        $d->product_id = (int) $pid;
        $d->product_attribute_id = 0;
        $d->product_name = $name;
        $d->product_reference = $ref;
        $d->product_quantity = (int) $qty;
        $d->product_quantity_in_stock = (int) $qty;
        $d->product_price = round((float) $price, 2);
        $d->original_product_price = round((float) $price, 2);
        $d->unit_price_tax_incl = round((float) $price, 2);
        $d->unit_price_tax_excl = round((float) $price, 2);
        $d->total_price_tax_incl = round((float) $price, 2) * $qty;
        $d->total_price_tax_excl = round((float) $price, 2) * $qty;
        jb_add($d, 'order detail');
    }

    $last = $created;
    $invoice_at = null;
    $ship_at = null;
    foreach ($path as $i => [$st, $after]) {
        $at = min($created + 60 * $after, JB_BASE + 3600 * 5 - 60 * (count($path) - $i));
        $hist = new OrderHistory();
        $hist->id_order = $oid;
        $hist->id_order_state = $S[$st];
        $hist->id_employee = $i === 0 ? 0 : 1;
        $hist->date_add = jb_local($at);
        jb_add($hist, 'order history');   // also sets the order's current_state
        if ($invoice_at === null && (int) $JB_STATES[$S[$st]]['invoice'] === 1) {
            $invoice_at = $at;
        }
        if ($ship_at === null && (int) $JB_STATES[$S[$st]]['shipped'] === 1) {
            $ship_at = $at;
        }
        $last = $at;
    }
    $db->update('orders', [
        'current_state' => $final_state,
        'valid' => (int) $JB_STATES[$final_state]['logable'],
        'invoice_date' => $invoice_at ? jb_local($invoice_at) : '0000-00-00 00:00:00',
        'invoice_number' => $invoice_at ? $oid : 0,
        'delivery_date' => $ship_at ? jb_local($ship_at) : '0000-00-00 00:00:00',
        'delivery_number' => $ship_at ? $oid : 0,
        'date_add' => jb_local($created),
        'date_upd' => jb_local($last),
    ], 'id_order = ' . $oid);
}

// The Customer objects' later saves may have stamped date_upd: make each the person's last own
// change (registration or newsletter), as set on creation.
foreach ($JB_CUSTOMERS as $h => $c) {
    $upd = max(jb_ts($c['reg'], 60), $c['nl'] === null ? 0 : jb_ts($c['nl'], 30));
    $db->update('customer', ['date_upd' => jb_local($upd)], 'id_customer = ' . $JB_CID[$h]);
}
$jb_seed_seconds = microtime(true) - $jb_started;

// ---------------------------------------------------------------------------------------------
// Expectation: re-read everything from the database
// ---------------------------------------------------------------------------------------------

$state_info = [];
foreach ($JB_STATES as $id => $row) {
    $state_info[$id] = [
        'id' => $id, 'name' => $row['name'],
        'flags' => ['paid' => (bool) $row['paid'], 'shipped' => (bool) $row['shipped'],
            'delivery' => (bool) $row['delivery'], 'logable' => (bool) $row['logable'],
            'invoice' => (bool) $row['invoice']],
    ];
}

$groups = [];
foreach ($db->executeS("SELECT g.id_group, l.name FROM {$P}group g JOIN {$P}group_lang l ON l.id_group = g.id_group
        AND l.id_lang = 1 ORDER BY g.id_group") as $row) {
    $groups[] = ['id' => (int) $row['id_group'], 'name' => $row['name'],
        'journey' => false, 'default' => in_array((int) $row['id_group'], [1, 2, 3], true)];
}
$member = [];
foreach ($db->executeS("SELECT id_customer, id_group FROM {$P}customer_group ORDER BY id_customer, id_group") as $row) {
    $member[(int) $row['id_customer']][] = (int) $row['id_group'];
}

$customers = [];
$account_of = [];   // lower-cased e-mail => id of the registered (non-guest) account
foreach ($db->executeS("SELECT * FROM {$P}customer ORDER BY id_customer") as $r) {
    $id = (int) $r['id_customer'];
    $nl = $r['newsletter_date_add'];
    $customers[] = [
        'id' => $id,
        'email' => $r['email'],
        'firstname' => $r['firstname'],
        'lastname' => $r['lastname'],
        'is_guest' => (bool) $r['is_guest'],
        'active' => (bool) $r['active'],
        'deleted' => (bool) $r['deleted'],
        'newsletter' => (bool) $r['newsletter'],
        'newsletter_date_add' => $nl ?? '0000-00-00 00:00:00',
        'newsletter_date_add_utc' => jb_utc($nl),
        'optin' => (bool) $r['optin'],
        'id_default_group' => (int) $r['id_default_group'],
        'groups' => $member[$id] ?? [],
        'date_add' => $r['date_add'],
        'date_add_utc' => jb_utc($r['date_add']),
        'date_upd' => $r['date_upd'],
        'date_upd_utc' => jb_utc($r['date_upd']),
    ];
    if (!$r['is_guest']) {
        $account_of[strtolower(trim($r['email']))] ??= $id;
    }
}
$cust_by_id = array_column($customers, null, 'id');
$person_of_customer = [];
foreach ($customers as $c) {
    $e = strtolower(trim($c['email']));
    $person_of_customer[$c['id']] = !$c['is_guest'] ? 'customer:' . $c['id']
        : (isset($account_of[$e]) ? 'customer:' . $account_of[$e] : 'guest:' . $e);
}

$history = [];
foreach ($db->executeS("SELECT * FROM {$P}order_history ORDER BY id_order, date_add, id_order_history") as $r) {
    $history[(int) $r['id_order']][] = [(int) $r['id_order_state'], $r['date_add'], (int) $r['id_order_history']];
}
$rows = [];
foreach ($db->executeS("SELECT * FROM {$P}order_detail ORDER BY id_order_detail") as $r) {
    $rows[(int) $r['id_order']][] = ['id' => (int) $r['id_order_detail'], 'product_id' => (int) $r['product_id'],
        'product_quantity' => (int) $r['product_quantity'], 'unit_price_tax_incl' => $r['unit_price_tax_incl']];
}
$currency_iso = [];
foreach ($db->executeS("SELECT id_currency, iso_code FROM {$P}currency") as $r) {
    $currency_iso[(int) $r['id_currency']] = $r['iso_code'];
}
$orders = [];
$order_of_cart = [];
foreach ($db->executeS("SELECT * FROM {$P}orders ORDER BY id_order") as $r) {
    $id = (int) $r['id_order'];
    $st = (int) $r['current_state'];
    $orders[] = [
        'id' => $id,
        'reference' => $r['reference'],
        'id_customer' => (int) $r['id_customer'],
        'id_cart' => (int) $r['id_cart'],
        'current_state' => $st,
        'state_name' => $state_info[$st]['name'],
        'state_flags' => $state_info[$st]['flags'],
        'valid' => (bool) $r['valid'],
        'payment' => $r['payment'],
        'module' => $r['module'],
        'currency' => $currency_iso[(int) $r['id_currency']],
        'total_paid' => $r['total_paid'],
        'total_paid_tax_incl' => $r['total_paid_tax_incl'],
        'total_paid_real' => $r['total_paid_real'],
        'total_products' => $r['total_products'],
        'total_products_wt' => $r['total_products_wt'],
        'total_shipping' => $r['total_shipping'],
        'total_discounts' => $r['total_discounts'],
        'date_add' => $r['date_add'],
        'date_add_utc' => jb_utc($r['date_add']),
        'date_upd' => $r['date_upd'],
        'date_upd_utc' => jb_utc($r['date_upd']),
        'invoice_date' => $r['invoice_date'],
        'delivery_date' => $r['delivery_date'],
        'history' => array_map(static fn(array $h): array => [$h[0], jb_utc($h[1])], $history[$id] ?? []),
        'history_local' => array_map(static fn(array $h): array => [$h[0], $h[1]], $history[$id] ?? []),
        'history_ids' => array_map(static fn(array $h): int => $h[2], $history[$id] ?? []),
        'order_rows' => $rows[$id] ?? [],
        'person' => $person_of_customer[(int) $r['id_customer']],
    ];
    $order_of_cart[(int) $r['id_cart']] = $id;
}

$cart_rows = [];
foreach ($db->executeS("SELECT * FROM {$P}cart_product ORDER BY id_cart, id_product") as $r) {
    $cart_rows[(int) $r['id_cart']][] = ['id_product' => (int) $r['id_product'], 'quantity' => (int) $r['quantity']];
}
$carts = [];
$anonymous = [];
foreach ($db->executeS("SELECT * FROM {$P}cart ORDER BY id_cart") as $r) {
    $id = (int) $r['id_cart'];
    $cid = (int) $r['id_customer'];
    $carts[] = [
        'id' => $id,
        'id_customer' => $cid,
        'id_guest' => (int) $r['id_guest'],
        'order_id' => $order_of_cart[$id] ?? null,
        'date_add' => $r['date_add'],
        'date_add_utc' => jb_utc($r['date_add']),
        'date_upd' => $r['date_upd'],
        'date_upd_utc' => jb_utc($r['date_upd']),
        'cart_rows' => $cart_rows[$id] ?? [],
        'person' => $cid ? $person_of_customer[$cid] : null,
    ];
    if ($cid === 0) {
        $anonymous[] = $id;
    }
}

// People: our identity rule.
$people = [];
foreach ($customers as $c) {
    $key = $person_of_customer[$c['id']];
    $people[$key] ??= ['key' => $key, 'email' => strtolower(trim($c['email'])), 'customer_ids' => [],
        'order_ids' => [], 'abandoned_cart_ids' => []];
    $people[$key]['customer_ids'][] = $c['id'];
}
foreach ($orders as $o) {
    $people[$o['person']]['order_ids'][] = $o['id'];
}
foreach ($carts as $c) {
    if ($c['person'] !== null && $c['order_id'] === null) {
        $people[$c['person']]['abandoned_cart_ids'][] = $c['id'];
    }
}
ksort($people);

// Phases covered: by construction (the plan's intent) and by mechanical facts.
$phases = [];
$add = static function (string $phase, string $key) use (&$phases): void {
    if (!in_array($key, $phases[$phase] ?? [], true)) {
        $phases[$phase][] = $key;
    }
};
foreach ($JB_CUSTOMERS as $h => $c) {
    foreach ($c['tags'] as $t) {
        $add($t, 'customer:' . $JB_CID[$h]);
    }
}
$orders_by_id = array_column($orders, null, 'id');
$state_phase = [1 => 'awaiting_payment', 10 => 'awaiting_payment', 13 => 'awaiting_payment',
    12 => 'awaiting_payment', 2 => 'payment_accepted', 11 => 'payment_accepted', 9 => 'payment_accepted',
    3 => 'processing', 4 => 'shipped', 5 => 'delivered', 6 => 'cancelled', 7 => 'refunded', 8 => 'payment_error'];
$lapsed_before = jb_utc(jb_local(JB_NOW - 730 * 86400));
foreach ($people as $key => $p) {
    $rows_of = array_map(static fn(int $id): array => $cust_by_id[$id], $p['customer_ids']);
    $account = str_starts_with($key, 'customer:') ? $cust_by_id[(int) substr($key, 9)] : null;
    $guest_rows = array_filter($rows_of, static fn(array $c): bool => $c['is_guest']);
    $pos = array_map(static fn(int $id): array => $orders_by_id[$id], $p['order_ids']);
    $paid = array_filter($pos, static fn(array $o): bool => $o['state_flags']['paid']);
    if ($account !== null) {
        if (!$pos && !$p['abandoned_cart_ids']) {
            $add('registered_no_cart_no_order', $key);
        }
        if ($account['newsletter']) {
            $add('newsletter_subscriber', $key);
        }
        if ($account['optin']) {
            $add('optin_subscriber', $key);
        }
        if (!$account['active']) {
            $add('inactive_account', $key);
        }
        if (array_diff($account['groups'], [1, 2, 3])) {
            $add('in_non_journey_group', $key);
        }
        if ($guest_rows) {
            $add('guest_rows_merged_into_account', $key);
        }
    } else {
        $add('guest_checkout', $key);
        if (count(array_unique(array_map(static fn(array $c): string => $c['email'], $guest_rows))) > 1) {
            $add('guest_email_case_variants', $key);
        }
        if (!$pos) {
            $add('guest_without_order', $key);
        }
    }
    foreach ($rows_of as $c) {
        if (preg_match('/[^\x00-\x7F]/', $c['firstname'] . $c['lastname'])) {
            $add('non_ascii_name', $key);
        }
    }
    if ($p['abandoned_cart_ids']) {
        $add('abandoned_cart_known_person', $key);
    }
    if (count($paid) >= 2) {
        $add('repeat_buyer', $key);
    } elseif (count($paid) === 1) {
        $add('one_time_buyer', $key);
    }
    if ($paid && max(array_column($paid, 'date_add_utc')) < $lapsed_before) {
        $add('lapsed_buyer', $key);
    }
    foreach ($pos as $o) {
        $add('state_' . $state_phase[$o['current_state']], $key);
        $add('current_state_' . $o['current_state'], $key);
    }
}
if ($anonymous) {
    $phases['anonymous_carts'] = array_map(static fn(int $id): string => 'cart:' . $id, $anonymous);
}
ksort($phases);

$expected = [
    'seeded_at' => gmdate('Y-m-d\TH:i:s\Z', JB_NOW),
    'base' => jb_local(JB_BASE),
    'base_utc' => gmdate('Y-m-d\TH:i:s\Z', JB_BASE),
    'timezone' => $JB_TZ->getName(),
    'prestashop_version' => _PS_VERSION_,
    'currency' => $currency_iso[(int) Configuration::get('PS_CURRENCY_DEFAULT')],
    'seed_seconds' => round($jb_seed_seconds, 2),
    'conventions' => [
        'dates' => 'date_* as the Webservice shows them (shop time, no offset); *_utc in UTC with Z; '
            . '0000-00-00 00:00:00 / null for never',
        'money' => 'six-decimal strings as the Webservice returns them',
        'history' => '[id_order_state, date UTC] oldest first (history_local: shop time)',
        'people' => 'customer:<id> for a registered (is_guest=0) row; guest rows: customer:<id> of the '
            . 'account with the same e-mail (case-insensitive), else guest:<lower(trim(email))>',
        'carts' => 'order_id null: left behind; id_customer 0: an unknown visitor',
    ],
    'counts' => [
        'customers' => count($customers),
        'registered' => count(array_filter($customers, static fn(array $c): bool => !$c['is_guest'])),
        'guest_rows' => count(array_filter($customers, static fn(array $c): bool => $c['is_guest'])),
        'orders' => count($orders),
        'order_histories' => array_sum(array_map(static fn(array $o): int => count($o['history']), $orders)),
        'carts' => count($carts),
        'abandoned_carts' => count(array_filter($carts, static fn(array $c): bool => $c['order_id'] === null)),
        'anonymous_carts' => count($anonymous),
        'people' => count($people),
        'guest_people' => count(array_filter(array_keys($people), static fn(string $k): bool => str_starts_with($k, 'guest:'))),
    ],
    'order_states' => array_values($state_info),
    'groups' => $groups,
    'non_journey_group_id' => $JB_WHOLESALE,
    'customers' => $customers,
    'orders' => $orders,
    'carts' => $carts,
    'anonymous_cart_ids' => $anonymous,
    'people' => array_values($people),
    'phases_covered' => $phases,
];
$json = json_encode($expected, JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
if ($json === false || file_put_contents($jb_out, $json . "\n") === false) {
    jb_fail("could not write $jb_out");
}
printf("seeded %d customers (%d guest rows), %d orders, %d carts (%d anonymous), %d people in %.1f s\n",
    count($customers), $expected['counts']['guest_rows'], count($orders), count($carts), count($anonymous),
    count($people), microtime(true) - $jb_started);
