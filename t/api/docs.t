# The interactive documentation, GET P/docs (docs/browser.md), seen
# without a browser (t/browser/docs.t runs it in Chromium): an HTML page
# that needs no token, loads Swagger UI 5 from TodoDocsAssets (a public CDN
# by default) with a Content-Security-Policy allowing exactly that origin,
# and starts it with P/docs/init.js for P/openapi.json; HEAD, 405, CORS
# like every route; "TodoDocs off" removes both routes (404 JSON);
# prefixes are escaped in the HTML; bad TodoDocsAssets values stop
# "apache2 -t".  Locations in t/conf/locations/browser.conf.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use File::Temp qw(tempdir);
use TodoTest qw(:DEFAULT apache_configtest);

my $CDN = 'https://cdn.jsdelivr.net/npm/swagger-ui-dist@5';
my $ORIGIN = 'http://localhost:3000';    # a TodoCORSOrigins of /api
my @EXPOSED = qw(ETag Location Link X-Request-Id Retry-After WWW-Authenticate
                 Idempotent-Replayed RateLimit-Limit RateLimit-Remaining
                 RateLimit-Reset);

sub csp {
    my ($src) = @_;
    return "default-src 'none'; script-src $src; style-src $src; "
         . "img-src $src data:; font-src $src; connect-src 'self'; "
         . "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
}

# Bad TodoDocsAssets / TodoDocs values, and good ones.
my @bad_conf = (
    ['TodoDocsAssets', 'javascript:alert(1)'],
    ['TodoDocsAssets', 'swagger-ui'],
    ['TodoDocsAssets', '//cdn.example.com/swagger-ui'],
    ['TodoDocsAssets', 'ftp://cdn.example.com/swagger-ui'],
    ['TodoDocsAssets', 'https://user@cdn.example.com/swagger-ui'],
    ['TodoDocsAssets', '"https://cdn.example.com/a b"'],
    ['TodoDocsAssets', q{https://cdn.example.com/a"onload="x}],
    ['TodoDocsAssets', "https://cdn.example.com/'x'"],
    ['TodoDocsAssets', 'https://cdn.example.com/a;script-src'],
    ['TodoDocsAssets', 'https://cdn.example.com/ui?v=5'],
    ['TodoDocsAssets', '""'],
    ['TodoDocs', 'maybe'],
);
my @good_conf = ("TodoDocs off", "TodoDocs on\nTodoDocsAssets /swagger-ui",
                 "TodoDocsAssets $CDN/");

plan tests => 14 + 5 + 9 + 6 + 6 + 4 + 2 * @bad_conf + @good_conf;

# ---------------------------------------------- the page, default assets
my $res = req(GET => '/api/docs');
ok t_cmp($res->code, 200, 'GET /api/docs without a token');
ok t_cmp($res->header('Content-Type'), 'text/html; charset=utf-8', 'HTML');
ok t_cmp($res->header('Content-Security-Policy'),
         csp(q{'self' https://cdn.jsdelivr.net}),
         'CSP: self and the CDN origin only');
ok !defined $res->header('WWW-Authenticate');
ok t_cmp($res->header('X-Request-Id') // '', qr/^[0-9a-f]{24}$/, 'X-Request-Id');
ok t_cmp($res->header('X-Content-Type-Options'), 'nosniff', 'nosniff');
my $html = $res->content;
t_debug($html);
ok t_cmp($html, qr{<link rel="stylesheet" href="\Q$CDN\E/swagger-ui\.css">},
         'stylesheet from the CDN');
ok t_cmp($html, qr{<script src="\Q$CDN\E/swagger-ui-bundle\.js"></script>},
         'bundle from the CDN');
ok t_cmp($html, qr{data-openapi-url="/api/openapi\.json"}, 'the document');
ok t_cmp($html, qr{<script src="/api/docs/init\.js"></script>}, 'init.js');
# Nothing inline that the policy would have to allow.
ok $html !~ /<script>|<style|\sstyle=|\son[a-z]+=/i;
# Same page with a trailing slash, and with a token that is no good (the
# page never looks at it).
ok t_cmp(req(GET => '/api/docs/')->content, $html, 'trailing slash');
$res = req(GET => '/api/docs', token => 'garbage');
ok t_cmp($res->code, 200, 'a bad token does not matter');
# The task routes still want one.
ok error_ok(req(GET => '/api/v1/tasks'), 401, 'UNAUTHORIZED');

# -------------------------------------------------------- HEAD, init.js
$res = req(HEAD => '/api/docs');
ok t_cmp($res->code, 200, 'HEAD /api/docs');
ok t_cmp($res->header('Content-Length'), length $html, 'HEAD: the length');
ok t_cmp($res->content, '', 'HEAD: no body');
$res = req(GET => '/api/docs/init.js');
ok t_cmp($res->header('Content-Type'), 'text/javascript; charset=utf-8',
         'init.js is JavaScript');
ok t_cmp($res->content, qr/SwaggerUIBundle\(\{.*data-openapi-url/s,
         'init.js starts Swagger UI on the page\'s document');

# ---------------------------------------------- 405, OPTIONS and CORS
for my $p (['POST', '/api/docs'], ['DELETE', '/api/docs/init.js']) {
    $res = req($p->[0] => $p->[1], token => token('docs-user'));
    ok error_ok($res, 405, 'METHOD_NOT_ALLOWED');
    ok t_cmp($res->header('Allow'), 'GET, HEAD, OPTIONS', "$p->[0] $p->[1]: Allow");
}
$res = req(OPTIONS => '/api/docs', headers => {
    Origin => $ORIGIN, 'Access-Control-Request-Method' => 'GET' });
ok t_cmp($res->code, 204, 'preflight');
ok t_cmp($res->header('Access-Control-Allow-Origin'), $ORIGIN, 'preflight origin');
$res = req(GET => '/api/docs', headers => { Origin => $ORIGIN });
ok t_cmp($res->header('Access-Control-Allow-Origin'), $ORIGIN, 'CORS on the page');
ok t_cmp(join(',', sort map { lc } split /\s*,\s*/,
              $res->header('Access-Control-Expose-Headers') // ''),
         join(',', sort map { lc } @EXPOSED), 'exposed headers (docs/api.md section 7)');
ok t_cmp($res->header('Access-Control-Expose-Headers'),
         'ETag, Location, Link, X-Request-Id, Retry-After, WWW-Authenticate, '
         . 'Idempotent-Replayed, RateLimit-Limit, RateLimit-Remaining, '
         . 'RateLimit-Reset', 'exposed headers, in order');

# ------------------------------------------------------------ TodoDocs off
for my $p (['GET', '/docs-off/docs'], ['GET', '/docs-off/docs/init.js'],
           ['POST', '/docs-off/docs']) {
    $res = req($p->[0] => $p->[1]);
    ok error_ok($res, 404, 'NOT_FOUND');
    ok !defined $res->header('Content-Security-Policy');
}

# -------------------------------- local assets (TodoDocsAssets /swagger-ui/)
$res = req(GET => '/todo/docs');
ok t_cmp($res->header('Content-Security-Policy'), csp(q{'self'}),
         'CSP: self only for assets on this server');
ok t_cmp($res->content, qr{href="/swagger-ui/swagger-ui\.css".*src="/swagger-ui/swagger-ui-bundle\.js"}s,
         'the local prefix, without a doubled slash');
ok t_cmp($res->content, qr{src="/todo/docs/init\.js"}, 'init.js of the location');
# What the Alias of browser.conf serves (npm's swagger-ui-dist).
$res = req(GET => '/swagger-ui/swagger-ui.css');
ok t_cmp($res->code . ' ' . ($res->header('Content-Type') // ''), qr{^200 text/css},
         'swagger-ui.css served locally');
$res = req(HEAD => '/swagger-ui/swagger-ui-bundle.js');
ok t_cmp($res->code . ' ' . ($res->header('Content-Type') // ''),
         qr{^200 (?:text|application)/javascript}, 'swagger-ui-bundle.js served locally');
ok t_cmp(req(GET => '/todo/openapi.json')->code, 200, 'the document');

# ------------------------------------------------------------- escaping
$res = req(GET => '/docs-esc&x/docs');
$html = $res->content;
t_debug($html);
ok t_cmp($res->header('Content-Security-Policy'),
         csp(q{'self' https://assets.example.com:8443}),
         'CSP: the assets origin, lower case, without the path');
ok t_cmp($html, qr{data-openapi-url="/docs-esc&amp;x/openapi\.json"},
         'location prefix escaped');
ok t_cmp($html, qr{href="HTTPS://Assets\.Example\.COM:8443/ui&amp;v5/swagger-ui\.css"},
         'assets prefix escaped');
ok $html !~ /&x|&v5/;

# ---------------------------------------------------- TodoDocsAssets values
my $dir = tempdir(CLEANUP => 1);
my $so = env_of('TODO_MODULE_SO');
sub configtest {
    my ($body) = @_;
    return apache_configtest($dir, $so, "<Location /api>\n    SetHandler todo\n"
        . "    TodoJWTSecret " . ('s' x 40) . "\n$body\n</Location>");
}
for my $c (@bad_conf) {
    my ($rc, $out) = configtest("$c->[0] $c->[1]");
    t_debug("$c->[0] $c->[1]: $out");
    ok $rc != 0;
    ok t_cmp($out, qr/\Q$c->[0]\E/, "$c->[0] $c->[1]: refused, naming it");
}
for my $body (@good_conf) {
    my ($rc, $out) = configtest($body);
    ok t_cmp($rc, 0, "accepted: $body") or t_debug($out);
}
