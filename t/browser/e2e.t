# The seeds' architecture, end to end, in a real browser (Debian's
# Chromium, headless, driven by t/browser/e2e.mjs through playwright-core):
# a frontend on its own origin (t/browser/app.mjs on 127.0.0.1:
# $TODO_BROWSER_PORT) whose users sign up and in with Better Auth; its page
# gets a JWT from Better Auth's JWT plugin and calls mod_todo cross-origin
# with fetch() -- create, list, read by Location, PATCH with If-Match, 412
# with a stale one, toggle, delete -- reading ETag, Location, X-Request-Id
# and WWW-Authenticate from the script; an expired and a garbage token are
# told apart; the same page from an origin not in TodoCORSOrigins is
# blocked by the browser.  mod_todo verifies the tokens through Better
# Auth's JWKS URL (<Location /browser> in t/conf/locations/browser.conf).
# No skips: without chromium, node or the npm packages this test fails.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use LWP::UserAgent;
use TodoTest qw(:DEFAULT log_text);
use TodoBrowser;

plan tests => 5 + 7 + 6 + 9 + 6 + 7 + 7 + 6 + 6;

my $port = env_of('TODO_BROWSER_PORT');
my $app = "http://127.0.0.1:$port";
my $evil = "http://localhost:$port";
my $api = api('/browser');

# ----------------------------------------------------------- set up
browser_prereqs();
my $app_pid = eval {
    start_app(port => $port, api => $api, db => 'betterauth_browser') };
ok t_cmp($@, '', "the frontend app on $app");
END { stop_app($app_pid) if $app_pid }

my $r = node_driver('e2e.mjs', app => $app, evil => $evil, api => $api,
                    artifacts => artifacts_dir());
t_debug('report: ' . $JSON->encode($r));
ok t_cmp($r->{error}, undef, 'the driver ran to the end');

# Shorthands on the report.
sub st { my ($e) = @_; ref $e eq 'HASH' ? ($e->{status} // 'rejected: ' . ($e->{error} // '?')) : 'missing' }
sub hd { my ($e, $h) = @_; ref $e eq 'HASH' && ref $e->{headers} eq 'HASH' ? $e->{headers}{$h} : undef }
sub dt { my ($e) = @_; ref $e eq 'HASH' && ref $e->{body} eq 'HASH' ? $e->{body}{data} : undef }
sub er { my ($e) = @_; ref $e eq 'HASH' && ref $e->{body} eq 'HASH' && ref $e->{body}{error} eq 'HASH' ? $e->{body}{error}{code} : undef }
sub rid_ok {
    my ($e) = @_;
    my $rid = hd($e, 'x-request-id');
    return $rid && ref $e->{body} eq 'HASH' && ($e->{body}{meta}{request_id} // '') eq $rid;
}

# ------------------------------------------------- sign up, out and in
ok t_cmp($r->{chromium}, qr/^\d+\./, 'Chromium version');
ok t_cmp($r->{appOrigin}, $app, 'the page is on the frontend origin');
ok t_cmp($r->{apiOfPage}, $api, 'and calls mod_todo on another one');
my $email = $r->{email} // '';
ok t_cmp($r->{signUp}, qr/^signed up as \Q$email\E \(\S+\)$/, 'signed up (Better Auth)');
my ($user) = ($r->{signUp} // '') =~ /\((\S+)\)$/;
$user //= '(none)';
ok t_cmp($r->{signOut}, 'signed out', 'signed out');
ok t_cmp(st($r->{tokenSignedOut}), 401, 'no session, no token');
ok t_cmp($r->{signIn}, "signed in as $email", 'signed in');

# ------------------------------------------- the JWT of Better Auth's plugin
my ($th, $tp) = map { $r->{token}{$_} // {} } qw(header payload);
ok t_cmp($th->{alg}, 'EdDSA', 'the JWT plugin signs EdDSA');
ok t_cmp($th->{kid}, qr/\S/, 'with a kid');
ok t_cmp($tp->{sub}, $user, 'sub is the Better Auth user');
ok t_cmp($tp->{iss}, $app, 'iss is the frontend (baseURL)');
ok t_cmp($tp->{aud}, $app, 'aud too');
ok t_cmp(($tp->{exp} // 0) - ($tp->{iat} // 0), 900, 'valid 15 minutes');

# ------------------------------------------------------------- create
my $c = $r->{create};
my $task = dt($c) // {};
my $tid = $task->{id} // '(none)';
my $title = $r->{title} // '(none)';
ok t_cmp(st($r->{firstList}) . ' ' . (dt($r->{firstList}) // {})->{total}, '200 0',
         'a new user has no tasks');
ok t_cmp(st($c), 201, 'created through the UI');
ok t_cmp(hd($c, 'location'), "/browser/v1/tasks/$tid", 'Location readable');
ok t_cmp(hd($c, 'etag'), '"1"', 'ETag readable');
ok rid_ok($c);    # X-Request-Id readable, = meta.request_id
ok t_cmp($task->{user_id}, $user, 'the task is the Better Auth user\'s');
ok t_cmp(join(',', grep { my $h = $_; grep { $_ eq $h } @{ $c->{headerNames} || [] } }
              qw(etag location x-request-id)),
         'etag,location,x-request-id', 'the script sees the exposed headers');
my $l = dt($r->{listAfterCreate}) // {};
ok t_cmp(join(',', map { $_->{id} } @{ $l->{tasks} || [] }) . ' total ' . ($l->{total} // '?'),
         "$tid total 1", 'listed');
ok t_cmp(join('|', @{ $r->{uiAfterCreate} || [] }), $title, 'shown in the page');

# -------------------------------------------------------- If-Match, 412
my $g = $r->{getByLocation};
ok t_cmp(st($g) . ' ' . (hd($g, 'etag') // ''), '200 "1"', 'GET of the Location');
my $p = $r->{patch};
ok t_cmp(st($p) . ' ' . (hd($p, 'etag') // ''), '200 "2"', 'PATCH with If-Match');
ok t_cmp((dt($p) // {})->{title}, "$title (oat)", 'PATCH changed the title');
ok t_cmp(st($r->{stale}) . ' ' . (er($r->{stale}) // ''), '412 PRECONDITION_FAILED',
         'a stale If-Match: 412');
ok rid_ok($r->{stale});
my $as = dt($r->{afterStale}) // {};
ok t_cmp(join(' ', map { $_ // '?' } @$as{qw(priority version)}), '2 2',
         'the 412 changed nothing');

# ------------------------------------------------------- toggle, delete
my $t = $r->{toggle};
ok t_cmp(st($t) . ' ' . (hd($t, 'etag') // ''), '200 "3"', 'toggled (empty body)');
ok t_cmp(((dt($t) // {})->{completed} ? 'true' : 'false') . ' '
         . ((dt($t) // {})->{completed_at} ? 'set' : 'null'), 'true set', 'completed');
ok t_cmp($r->{uiAfterToggle}, 'completed', 'shown as completed');
my $d = $r->{delete};
ok t_cmp(st($d) . ' ' . ($d->{url} // ''), "204 $api/v1/tasks/$tid", 'deleted (If-Match)');
ok t_cmp(hd($d, 'x-request-id'), qr/^[0-9a-f]{24}$/, 'X-Request-Id of a 204');
ok t_cmp(join('|', @{ $r->{uiAfterDelete} || ['?'] }), '', 'gone from the page');
ok t_cmp(st($r->{afterDelete}) . ' ' . (er($r->{afterDelete}) // ''), '404 NOT_FOUND',
         'gone from mod_todo');

# --------------------------------------------- expired and garbage tokens
my $gb = $r->{garbage};
ok t_cmp(st($gb) . ' ' . (er($gb) // ''), '401 UNAUTHORIZED', 'a garbage token');
ok t_cmp(hd($gb, 'www-authenticate'),
         'Bearer realm="todo", error="invalid_token", error_description="malformed token"',
         'WWW-Authenticate readable');
my $et = $r->{expiredToken} // {};
ok t_cmp(join(' ', $et->{status} // '', $et->{header}{alg} // '',
              ($et->{payload}{sub} // '') eq ($user // '-') ? 'sub' : 'other'),
         '200 EdDSA sub', 'an expired token of Better Auth');
ok(($et->{payload}{exp} // 1e10) < ($et->{payload}{iat} // 0));
my $ex = $r->{expired};
ok t_cmp(st($ex) . ' ' . (er($ex) // ''), '401 UNAUTHORIZED', 'an expired token');
ok t_cmp(hd($ex, 'www-authenticate'),
         'Bearer realm="todo", error="invalid_token", error_description="token expired"',
         'told apart from a bad one: WWW-Authenticate readable');
ok t_cmp(st($r->{health}) . ' ' . ((dt($r->{health}) // {})->{status} // ''), '200 healthy',
         'health, cross-origin without a token');

# ------------------------------------------- an origin not in the list
ok t_cmp($r->{evilOrigin}, $evil, 'the same page on another origin');
for my $k (qw(evilList evilCreate evilHealth)) {
    ok t_cmp(st($r->{$k}), qr/^rejected: TypeError/, "$k: blocked by the browser");
}
my $la = dt($r->{listAfterEvil}) // {};
ok t_cmp(st($r->{listAfterEvil}) . " total " . ($la->{total} // '?'), '200 total 0',
         'the blocked create did not happen');
# mod_todo answered the preflights (without CORS headers); the POST never
# came: one POST in all, the page's own.
my @access = grep { m{ "(?:POST|OPTIONS) /browser/v1/tasks } } split /\n/, log_text('todo_access.log');
ok t_cmp(scalar(grep { /"POST / } @access), 1, 'one POST reached mod_todo');

# ------------------------------------------------ mod_todo's side of it
# The key came from Better Auth's JWKS endpoint (TodoJWKSURL).
my $jwks = eval { $JSON->decode(LWP::UserAgent->new(timeout => 10)
                                ->get("$app/api/auth/jwks")->decoded_content) } // {};
ok t_cmp(join(',', map { $_->{kid} } @{ $jwks->{keys} || [] }), $th->{kid} // '-',
         'the kid is in Better Auth\'s JWKS');
my $log = log_text('error_log');
my $kid = $th->{kid} // '-';
# (ok, not t_cmp: the log is long.)
ok $log =~ /token verified \(EdDSA, kid \Q$kid\E\) for user \Q$user\E/;    # verified
ok $log =~ m{401 for GET /browser/v1/tasks: token expired};    # and logged why
ok $et->{token} && index($log, $et->{token}) < 0;    # never logged
ok -s artifacts_dir() . '/e2e-frontend.png';
ok t_cmp(scalar(grep { m{"OPTIONS \S+ HTTP/1\.1" 204 } } @access) >= 3, 1,
         'preflights answered (the page\'s and the other origin\'s)');
