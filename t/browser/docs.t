# The interactive documentation (GET P/docs) in a real browser: Debian's
# Chromium, headless, driven by t/browser/docs.mjs through playwright-core.
# Swagger UI 5 comes from this server (npm's swagger-ui-dist behind an
# Alias, "TodoDocsAssets /swagger-ui/" in <Location /todo>, see
# t/conf/locations/browser.conf): the page lists every operation of the
# OpenAPI document, authorizes with a bearer token, and "Try it out" on
# GET /v1/tasks shows a 200 with the envelope -- without a single request
# leaving this server and without a CSP violation.  Screenshots are kept
# in t/logs/browser of the work area.
# No skips: without chromium, node or the npm packages this test fails.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use TodoTest;
use TodoBrowser;

plan tests => 3 + 4 + 6 + 7 + 7;

my $P = '/todo';
my $origin = api('/');
$origin =~ s{/\z}{};

# The document's operations: "METHOD /path", as the page should list them.
my $doc = do {
    my $f = env_of('TODO_SRC') . '/openapi/openapi.json';
    open my $fh, '<:raw', $f or die "$f: $!";
    local $/;
    $JSON->decode(<$fh>);
};
my %METHODS = map { $_ => 1 } qw(get put post delete options head patch trace);
my @doc_ops = sort map { my $p = $_; map { "$_ $p" } grep { $METHODS{$_} } keys %{ $doc->{paths}{$p} } }
    keys %{ $doc->{paths} };

# A user with a task, so that "Try it out" lists something of its own.
my $user = new_user('docs');
my $tok = token($user);
my $title = "seen in Swagger UI $$";
my $c = req(POST => "$P/v1/tasks", token => $tok, json => { title => $title });
die 'create: ' . $c->status_line unless $c->code == 201;

browser_prereqs();
my $r = node_driver('docs.mjs', url => api("$P/docs"), token => $tok,
                    artifacts => artifacts_dir());
t_debug('report: ' . $JSON->encode($r));
ok t_cmp($r->{error}, undef, 'the driver ran to the end');
ok t_cmp(($r->{status} // '') . ' ' . ($r->{contentType} // ''), '200 text/html; charset=utf-8',
         "GET $P/docs");
ok t_cmp($r->{csp}, "default-src 'none'; script-src 'self'; style-src 'self'; "
         . "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
         . "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
         'CSP: this server only (local assets)');
ok t_cmp($r->{title}, qr/^\Q$doc->{info}{title}\E\b/, 'Swagger UI shows the document');

# ---------------------------------------------------- every operation
my @page_ops = sort map { "$_->{method} $_->{path}" } @{ $r->{operations} || [] };
ok t_cmp(scalar(@page_ops), scalar(@doc_ops), 'as many operations as the document');
ok t_cmp(join("\n", @page_ops), join("\n", @doc_ops), 'every operation of the document');
ok t_cmp(join(',', @{ $r->{servers} || [] }), $P, 'servers: this location');
ok t_cmp($r->{authorizeButton}, 'btn authorize unlocked', 'an Authorize button');
ok t_cmp(join('|', @{ $r->{authSchemes} || [] }), qr/^bearerAuth\s*\(http, Bearer\)$/,
         'the bearer scheme of the document');
ok t_cmp($r->{authorizedButton}, 'btn authorize locked', 'authorized');

# ----------------------------------------------------------- Try it out
my $q = $r->{apiRequest} || {};
my $list_url = api("$P/v1/tasks");
# (Swagger UI sends the parameters' documented defaults.)
ok t_cmp($q->{url}, qr/^\Q$list_url\E(?:\?|\z)/, 'Try it out: GET /v1/tasks on this server');
ok t_cmp($q->{authorization}, "Bearer $tok", 'with the token');
ok t_cmp($q->{status}, 200, 'answered 200');
ok t_cmp($r->{tryStatus}, '200', 'the page shows 200');
my $body = eval { $JSON->decode($r->{tryBody} // '') } || {};
ok t_cmp(join(',', sort keys %$body), 'data,error,meta', 'and the envelope');
ok t_cmp(join('|', map { $_->{title} } @{ $body->{data}{tasks} || [] }), $title,
         'with the user\'s task');
ok t_cmp($r->{tryCurl}, qr/-H 'Authorization: Bearer \Q$tok\E'/, 'the curl command');

# ------------------------------------------ nothing else, nothing blocked
ok t_cmp(join("\n", grep { !m{^\w+ \Q$origin\E/} } @{ $r->{requests} || ['none'] }), '',
         'no request left this server (local assets)');
ok t_cmp(scalar(grep { m{^GET \Q$origin\E/swagger-ui/swagger-ui-bundle\.js$} } @{ $r->{requests} || [] }),
         1, 'the bundle came from the Alias');
ok t_cmp($JSON->encode($r->{cspViolations} // ['none']), '[]', 'no CSP violation');
ok t_cmp($JSON->encode($r->{pageErrors} // ['none']), '[]', 'no script error');
ok t_cmp($JSON->encode([grep { $_->{type} eq 'error' } @{ $r->{console} || [] }]), '[]',
         'no console error');
ok t_cmp(join("\n", @{ $r->{failed} || [] }), '', 'no failed request');
sub is_png {
    my ($f) = @_;
    my $magic = '';
    open my $fh, '<:raw', $f or return 0;
    read $fh, $magic, 8;
    return $magic eq "\x89PNG\r\n\x1a\n";
}
my @png = grep { is_png(artifacts_dir() . "/$_") }
    qw(swagger-ui.png swagger-ui-full.png swagger-ui-try-it-out.png);
ok t_cmp(scalar @png, 3, 'screenshots in t/logs/browser');
