# Every task route of docs/api.md §3 in every path shape: the canonical
# /api/v1/tasks, the /api/tasks alias and the user-scoped /api/{user}/tasks
# and /api/v1/{user}/tasks; versions and ETags, conditional requests
# (If-None-Match, If-Match), OPTIONS and 405, and CORS (docs/api.md §7).
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use TodoTest qw(:DEFAULT error_fields raw_request raw_exchange);
use URI::Escape qw(uri_escape_utf8);

my $me = new_user('routes');
my $tok = token($me);
my $other = new_user('routes-other');

my @shapes = ('/api/v1/tasks', '/api/tasks', "/api/$me/tasks",
              "/api/v1/$me/tasks");
my @foreign_shapes = ("/api/$other/tasks", "/api/v1/$other/tasks");

my $ORIGIN = 'http://localhost:3000';
# docs/api.md §7: exactly these, so that a script can read them.
my @EXPOSED = qw(ETag Location Link X-Request-Id Retry-After WWW-Authenticate
                 Idempotent-Replayed RateLimit-Limit RateLimit-Remaining
                 RateLimit-Reset);
my @ALLOWED_HEADERS = qw(Authorization Content-Type If-Match If-None-Match
                         Idempotency-Key);
my $UUID = qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
my $TS = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

use constant PER_SHAPE => 68;
use constant CORS_TESTS => 12 + 1 + 12 + 5;
# User ids as identity providers make them: the path carries them
# percent-encoded.
my @odd_users = ('auth0|5f7c8ec7', 'someone@example.com', "Jos\x{e9} M.", 'a+b');

plan tests => PER_SHAPE * @shapes + 8 * @foreign_shapes + CORS_TESTS + 2
    + 3 * @odd_users;

# ------------------------------------------------------------- helpers

# A JSON answer with this status: the envelope, X-Request-Id, the JSON
# content type, and data or error as the status says.
sub answer_ok {
    my ($res, $status, $name) = @_;
    my $d = json_ok($res);
    my $ok = $res->code == $status && envelope_ok($res)
        && ($res->header('Content-Type') // '') =~ m{^application/json\b}
        && ($status < 400 ? defined $d->{data} && !defined $d->{error}
                          : !defined $d->{data} && ref $d->{error});
    t_debug("$name: expected $status, got " . $res->code . ' '
            . substr($res->content // '', 0, 400)) unless $ok;
    return $ok;
}

sub err_ok {
    my ($res, $status, $code, $name) = @_;
    my $ok = error_ok($res, $status, $code);
    t_debug("$name: expected $status $code, got " . $res->code . ' '
            . substr($res->content // '', 0, 400)) unless $ok;
    return $ok;
}

sub data { json_ok($_[0])->{data} }

sub etag { $_[0]->header('ETag') // '' }

# An empty answer (204, 304): no body, but still a request id.
sub empty_ok {
    my ($res, $status, $name) = @_;
    my $ok = $res->code == $status && length($res->content // '') == 0
        && ($res->header('X-Request-Id') // '') ne '';
    t_debug("$name: expected empty $status, got " . $res->code . ' '
            . ($res->content // '')) unless $ok;
    return $ok;
}

# The fields of a task that a write did not mean to change.
sub same_except {
    my ($before, $after, @changed) = @_;
    my %skip = map { $_ => 1 } @changed, qw(updated_at version);
    my %b = map { $_ => $before->{$_} } grep { !$skip{$_} } keys %$before;
    my %a = map { $_ => $after->{$_} } grep { !$skip{$_} } keys %$after;
    return t_cmp(\%a, \%b, 'unchanged fields: all but ' . join(',', @changed));
}

# ------------------------------------------------- every route, every shape

for my $base (@shapes) {
    t_debug("=== shape $base");

    # POST: 201, Location, ETag "1", the task as given, defaults for the rest.
    my $res = req(POST => $base, token => $tok,
                  json => { title => "Buy milk via $base",
                            description => 'two litres', priority => 2,
                            due_at => '2026-12-01T10:00:00+01:00' });
    ok answer_ok($res, 201, "create at $base");
    my $t = data($res) || {};
    ok t_cmp($res->header('Location'), "/api/v1/tasks/" . ($t->{id} // 'none'),
             'Location is the canonical URL of the new task');
    ok t_cmp(etag($res), '"1"', 'ETag of a new task');
    ok t_cmp({ map { $_ => $t->{$_} } qw(user_id title description completed
                                       completed_at priority due_at version) },
             { user_id => $me, title => "Buy milk via $base",
               description => 'two litres', completed => JSON::PP::false,
               completed_at => undef, priority => 2,
               due_at => '2026-12-01T09:00:00.000000Z', version => 1 },
             'the created task');
    ok(($t->{id} // '') =~ $UUID && ($t->{created_at} // '') =~ $TS
       && ($t->{updated_at} // '') eq $t->{created_at});
    my $id = $t->{id} // 'missing';
    my $item = "$base/$id";

    # GET: the same task, its ETag; the Location works too.
    $res = req(GET => $item, token => $tok);
    ok answer_ok($res, 200, "get $item");
    ok t_cmp(etag($res), '"1"', 'ETag on GET');
    ok t_cmp(data($res), $t, 'GET returns what POST returned');
    $res = req(GET => $t->{id} ? "/api/v1/tasks/$id" : '/api/none', token => $tok);
    ok $res->code == 200 && t_cmp(data($res), $t, 'GET of the Location');

    # If-None-Match: a matching tag (strong, weak, "*") gives 304 and no
    # body; another tag gives the task.
    for my $inm ('"1"', 'W/"1"', '"9", "1"') {
        $res = req(GET => $item, token => $tok,
                   headers => { 'If-None-Match' => $inm });
        ok empty_ok($res, 304, "If-None-Match $inm") && etag($res) eq '"1"';
    }
    $res = req(GET => $item, token => $tok,
               headers => { 'If-None-Match' => '"2"' });
    ok answer_ok($res, 200, 'If-None-Match with another tag');

    # HEAD: like GET without the body.
    $res = req(HEAD => $item, token => $tok);
    ok $res->code == 200 && length($res->content) == 0 && etag($res) eq '"1"'
        && ($res->header('Content-Type') // '') =~ m{^application/json};

    # The list of this shape shows it.
    $res = req(GET => $base, token => $tok);
    ok answer_ok($res, 200, "list $base");
    my $l = data($res) || {};
    ok((grep { $_->{id} eq $id } @{ $l->{tasks} || [] })
       && $l->{total} >= 1 && $l->{limit} == 50 && $l->{offset} == 0);

    # PATCH: partial; the version and the ETag go up by one.
    $res = req(PATCH => $item, token => $tok, json => { priority => 3 });
    ok answer_ok($res, 200, 'PATCH priority');
    my $p = data($res) || {};
    ok $p->{priority} == 3 && $p->{version} == 2 && etag($res) eq '"2"'
        && $p->{updated_at} ge $t->{updated_at};
    ok same_except($t, $p, 'priority');

    # null clears description and due_at.
    $res = req(PATCH => $item, token => $tok,
               json => { description => undef, due_at => undef });
    ok answer_ok($res, 200, 'PATCH nulls');
    my $n = data($res) || {};
    ok !defined $n->{description} && !defined $n->{due_at}
        && $n->{version} == 3 && etag($res) eq '"3"';
    ok same_except($p, $n, qw(description due_at));

    # An empty PATCH is a validation error and changes nothing.
    $res = req(PATCH => $item, token => $tok, json => {});
    ok err_ok($res, 400, 'VALIDATION_ERROR', 'empty PATCH');

    # PUT replaces the whole task: omitted optional fields take their
    # defaults again.
    $res = req(PATCH => $item, token => $tok,
               json => { description => 'd', priority => 1, completed => JSON::PP::true,
                         due_at => '2027-01-02T03:04:05Z' });
    my $full = data($res) || {};
    ok $res->code == 200 && $full->{completed} && $full->{completed_at}
        && $full->{version} == 4;
    $res = req(PUT => $item, token => $tok, json => { title => 'replaced' });
    ok answer_ok($res, 200, 'PUT');
    my $r = data($res) || {};
    ok t_cmp({ map { $_ => $r->{$_} } qw(title description completed
                                       completed_at priority due_at version) },
             { title => 'replaced', description => undef,
               completed => JSON::PP::false, completed_at => undef,
               priority => 0, due_at => undef, version => 5 },
             'PUT reset the omitted fields');
    ok t_cmp(etag($res), '"5"', 'ETag after PUT');
    ok $r->{id} eq $id && $r->{created_at} eq $t->{created_at};

    # PUT needs a title, and changes nothing without one.
    $res = req(PUT => $item, token => $tok, json => { description => 'x' });
    ok err_ok($res, 400, 'VALIDATION_ERROR', 'PUT without title')
        && grep { $_ eq 'title' } error_fields($res);
    ok t_cmp(data(req(GET => $item, token => $tok)), $r,
             'a refused PUT changes nothing');

    # PATCH .../complete with a body sets "completed"; completed_at is set
    # when it becomes true, kept while it stays true, cleared when false.
    $res = req(PATCH => "$item/complete", token => $tok,
               json => { completed => JSON::PP::true });
    ok answer_ok($res, 200, 'complete true');
    my $c1 = data($res) || {};
    ok $c1->{completed} && ($c1->{completed_at} // '') =~ $TS
        && $c1->{version} == 6 && etag($res) eq '"6"';
    ok same_except($r, $c1, qw(completed completed_at));
    $res = req(PATCH => "$item/complete", token => $tok,
               json => { completed => JSON::PP::true });
    my $c2 = data($res) || {};
    ok $res->code == 200 && $c2->{completed}
        && ($c2->{completed_at} // '') eq $c1->{completed_at}
        && $c2->{version} == 7;
    $res = req(PATCH => "$item/complete", token => $tok,
               json => { completed => JSON::PP::false });
    my $c3 = data($res) || {};
    ok $res->code == 200 && !$c3->{completed} && !defined $c3->{completed_at}
        && $c3->{version} == 8;

    # An empty body toggles.
    $res = req(PATCH => "$item/complete", token => $tok);
    ok answer_ok($res, 200, 'toggle on');
    my $c4 = data($res) || {};
    ok $c4->{completed} && ($c4->{completed_at} // '') =~ $TS
        && $c4->{version} == 9 && etag($res) eq '"9"';
    $res = req(PATCH => "$item/complete", token => $tok);
    my $c5 = data($res) || {};
    ok $res->code == 200 && !$c5->{completed} && !defined $c5->{completed_at}
        && $c5->{version} == 10;
    ok same_except($c3, $c5);
    # ... also when it comes chunked, with no bytes at all (on a task of
    # its own, so the versions counted here stay as they are).
    {
        my $t = create_task($tok, title => 'chunked toggle');
        my ($chunked) = raw_exchange([raw_request(
            PATCH => "/api/v1/tasks/$t->{id}/complete", token => $tok,
            body => '', chunked => 16)]);
        my $d = $chunked->code == 200 ? $JSON->decode($chunked->content) : {};
        ok $d->{data} && $d->{data}{completed} && $d->{data}{version} == 2;
    }

    # The complete body takes nothing but a boolean "completed".
    $res = req(PATCH => "$item/complete", token => $tok,
               json => { completed => 'yes' });
    ok err_ok($res, 422, 'UNPROCESSABLE_ENTITY', 'completed not a boolean');
    $res = req(PATCH => "$item/complete", token => $tok,
               json => { title => 'x' });
    ok err_ok($res, 400, 'VALIDATION_ERROR', 'complete with another field')
        && grep { $_ eq 'title' } error_fields($res);

    # If-Match: a stale ETag is 412 and changes nothing; the current one
    # and "*" let the write through.
    my $cur = $c5;
    for my $m ([PATCH => $item, { priority => 1 }],
               [PUT => $item, { title => 'stale' }],
               [PATCH => "$item/complete", { completed => JSON::PP::true }],
               [DELETE => $item, undef]) {
        my ($method, $path, $body) = @$m;
        $res = req($method => $path, token => $tok,
                   (defined $body ? (json => $body) : ()),
                   headers => { 'If-Match' => '"1"' });
        ok err_ok($res, 412, 'PRECONDITION_FAILED', "$method $path stale If-Match");
    }
    $res = req(PATCH => $item, token => $tok, json => { priority => 1 },
               headers => { 'If-Match' => 'W/"10"' });
    ok err_ok($res, 412, 'PRECONDITION_FAILED', 'a weak ETag never matches If-Match');
    ok t_cmp(data(req(GET => $item, token => $tok)), $cur,
             'the refused writes changed nothing');
    $res = req(PATCH => $item, token => $tok, json => { priority => 1 },
               headers => { 'If-Match' => '"10"' });
    ok answer_ok($res, 200, 'PATCH with the current ETag')
        && etag($res) eq '"11"';
    $res = req(PUT => $item, token => $tok, json => { title => 'star' },
               headers => { 'If-Match' => '*' });
    ok answer_ok($res, 200, 'PUT with If-Match *') && etag($res) eq '"12"';
    $res = req(PATCH => "$item/complete", token => $tok,
               headers => { 'If-Match' => '"5", "12"' });
    ok answer_ok($res, 200, 'toggle with a list naming the current ETag')
        && etag($res) eq '"13"' && data($res)->{completed};

    # DELETE: 204 and no body; then the task is gone everywhere.
    $res = req(DELETE => $item, token => $tok,
               headers => { 'If-Match' => '"13"' });
    ok empty_ok($res, 204, 'DELETE');
    $res = req(DELETE => $item, token => $tok);
    ok err_ok($res, 404, 'NOT_FOUND', 'second DELETE');
    ok err_ok(req(GET => $item, token => $tok), 404, 'NOT_FOUND', 'GET deleted');
    ok err_ok(req(PUT => $item, token => $tok, json => { title => 'x' }),
              404, 'NOT_FOUND', 'PUT deleted');
    ok err_ok(req(PATCH => "$item/complete", token => $tok), 404,
              'NOT_FOUND', 'complete deleted');
    $res = req(DELETE => "$base/" . $t->{id}, token => $tok,
               headers => { 'If-Match' => '*' });
    ok err_ok($res, 404, 'NOT_FOUND', 'DELETE with If-Match * of nothing');

    # DELETE with If-Match "*" removes an existing task.
    my $t2 = data(req(POST => $base, token => $tok, json => { title => 'x' })) || {};
    $res = req(DELETE => "$base/" . ($t2->{id} // 'none'), token => $tok,
               headers => { 'If-Match' => '*' });
    ok empty_ok($res, 204, 'DELETE with If-Match *');

    # OPTIONS: 204 and the methods of each route.
    for my $o ([$base, 'GET, HEAD, POST, OPTIONS'],
               [$item, 'GET, HEAD, PUT, PATCH, DELETE, OPTIONS'],
               ["$item/complete", 'PATCH, OPTIONS']) {
        $res = req(OPTIONS => $o->[0], token => $tok);
        ok empty_ok($res, 204, "OPTIONS $o->[0]")
            && t_cmp($res->header('Allow'), $o->[1], "Allow of $o->[0]");
    }

    # A method a route does not support: 405 with Allow.
    for my $w ([PUT => $base, 'GET, HEAD, POST, OPTIONS'],
               [DELETE => $base, 'GET, HEAD, POST, OPTIONS'],
               [POST => $item, 'GET, HEAD, PUT, PATCH, DELETE, OPTIONS'],
               [GET => "$item/complete", 'PATCH, OPTIONS'],
               [POST => "$item/complete", 'PATCH, OPTIONS'],
               [TRACE => $base, 'GET, HEAD, POST, OPTIONS'],
               [PROPFIND => $item, 'GET, HEAD, PUT, PATCH, DELETE, OPTIONS']) {
        $res = req($w->[0] => $w->[1], token => $tok, json => { title => 'x' });
        ok err_ok($res, 405, 'METHOD_NOT_ALLOWED', "$w->[0] $w->[1]")
            && t_cmp($res->header('Allow'), $w->[2], "Allow on 405 of $w->[1]");
    }
}

# ------------------------------------- another user's name in the path

my $mine = create_task($tok, title => 'not reachable through another name');
my $before = req(GET => '/api/v1/tasks', token => $tok);
for my $base (@foreign_shapes) {
    my $item = "$base/$mine->{id}";
    for my $c ([GET => $base], [POST => $base, { title => 'x' }],
               [GET => $item], [PUT => $item, { title => 'x' }],
               [PATCH => $item, { title => 'x' }],
               [PATCH => "$item/complete"], [DELETE => $item]) {
        my ($method, $path, $body) = @$c;
        my $res = req($method => $path, token => $tok,
                      (defined $body ? (json => $body) : ()));
        ok err_ok($res, 403, 'FORBIDDEN', "$method $path of another user");
    }
    # HEAD has no body to check, only the status.
    ok t_cmp(req(HEAD => $item, token => $tok)->code, 403, "HEAD $item");
}
# Nothing was created, changed or deleted through those paths.
ok t_cmp(data(req(GET => '/api/v1/tasks', token => $tok)), data($before),
         'the forbidden requests changed nothing');
ok t_cmp(data(req(GET => "/api/v1/tasks/$mine->{id}", token => $tok)), $mine,
         'the task is untouched');

# Odd (but real) user ids in the user-scoped shapes: percent-decoded
# before they are compared with the token's user.
for my $u (@odd_users) {
    my $ut = token($u);
    my $e = uri_escape_utf8($u);
    my $res = req(POST => "/api/$e/tasks", token => $ut, json => { title => 'odd' });
    my $id = (data($res) || {})->{id} // 'none';
    ok answer_ok($res, 201, "create as $e") && data($res)->{user_id} eq $u;
    ok answer_ok(req(GET => "/api/v1/$e/tasks/$id", token => $ut), 200, "get as $e");
    ok err_ok(req(GET => "/api/$e/tasks", token => $tok), 403, 'FORBIDDEN',
              "$e with another token");
}

# ------------------------------------------------------------------ CORS

# Preflight from an allowed origin, without a token, on every route and
# shape: 204 and the full set of Access-Control-* headers.
sub preflight_ok {
    my ($res, $origin, $method, $name) = @_;
    my $methods = $res->header('Access-Control-Allow-Methods') // '';
    my $headers = $res->header('Access-Control-Allow-Headers') // '';
    my $ok = $res->code == 204
        && ($res->header('Access-Control-Allow-Origin') // '') eq $origin
        && (grep { $_ eq $method } split /\s*,\s*/, $methods)
        && !(grep { my $h = $_; !grep { lc $_ eq lc $h } split /\s*,\s*/, $headers }
             @ALLOWED_HEADERS)
        && ($res->header('Access-Control-Max-Age') // '') =~ /^\d+$/
        && grep({ /\bOrigin\b/ } $res->header('Vary'));
    t_debug("$name: " . $res->as_string) unless $ok;
    return $ok;
}

my $task = create_task($tok, title => 'cors');
for my $base (@shapes) {
    for my $p ([$base, 'POST'], ["$base/$task->{id}", 'PATCH'],
               ["$base/$task->{id}/complete", 'PATCH']) {
        my $res = req(OPTIONS => $p->[0],
                      headers => { Origin => $ORIGIN,
                                   'Access-Control-Request-Method' => $p->[1],
                                   'Access-Control-Request-Headers' =>
                                       'authorization, content-type, if-match' });
        ok preflight_ok($res, $ORIGIN, $p->[1], "preflight $p->[0]");
    }
}
# The second configured origin is answered with itself.
ok preflight_ok(req(OPTIONS => '/api/v1/tasks',
                    headers => { Origin => 'https://app.example.com',
                                 'Access-Control-Request-Method' => 'GET' }),
                'https://app.example.com', 'GET', 'second origin');

# Actual responses from an allowed origin, successes and errors alike,
# carry Access-Control-Allow-Origin and -Expose-Headers (the list of
# docs/api.md §7, no more, no less).
sub cors_ok {
    my ($res, $status, $name) = @_;
    my $expose = $res->header('Access-Control-Expose-Headers') // '';
    my $ok = $res->code == $status
        && ($res->header('Access-Control-Allow-Origin') // '') eq $ORIGIN
        && join(',', sort map { lc } split /\s*,\s*/, $expose)
           eq join(',', sort map { lc } @EXPOSED)
        && grep({ /\bOrigin\b/ } $res->header('Vary'));
    t_debug("$name: " . $res->as_string) unless $ok;
    return $ok;
}
my %o = (Origin => $ORIGIN);
my $tid = $task->{id};
ok cors_ok(req(GET => '/api/v1/tasks', token => $tok, headers => \%o), 200, 'list');
ok cors_ok(req(POST => '/api/v1/tasks', token => $tok, json => { title => 'c' },
               headers => \%o), 201, 'create');
ok cors_ok(req(GET => "/api/v1/tasks/$tid", token => $tok,
               headers => { %o, 'If-None-Match' => '"1"' }), 304, '304');
ok cors_ok(req(PATCH => "/api/v1/tasks/$tid", token => $tok, json => { priority => 1 },
               headers => { %o, 'If-Match' => '"77"' }), 412, '412');
ok cors_ok(req(GET => '/api/v1/tasks', headers => \%o), 401, '401 without a token');
ok cors_ok(req(GET => '/api/v1/tasks', token => 'not.a.token', headers => \%o),
           401, '401 with a bad token');
ok cors_ok(req(GET => "/api/$other/tasks", token => $tok, headers => \%o), 403, '403');
ok cors_ok(req(GET => '/api/v1/tasks/' . '0' x 8 . '-0000-4000-8000-' . '0' x 12,
               token => $tok, headers => \%o), 404, '404');
ok cors_ok(req(PUT => '/api/v1/tasks', token => $tok, json => {}, headers => \%o),
           405, '405');
ok cors_ok(req(POST => '/api/v1/tasks', token => $tok, json => { title => '' },
               headers => \%o), 400, '400');
ok cors_ok(req(GET => '/api/v1/tasks/nope', token => $tok, headers => \%o), 422, '422');
ok cors_ok(req(DELETE => "/api/v1/tasks/$tid", token => $tok, headers => \%o),
           204, 'DELETE');

# An origin that is not configured (also one differing only in case or a
# trailing slash) gets no CORS headers at all, preflight or not.
sub no_cors {
    my ($res, $name) = @_;
    my @ac = grep { /^Access-Control-/i } $res->headers->header_field_names;
    t_debug("$name: unexpected @ac") if @ac;
    return !@ac;
}
for my $bad ('http://evil.example', 'http://localhost:3000/', 'HTTP://LOCALHOST:3000') {
    ok no_cors(req(OPTIONS => '/api/v1/tasks',
                   headers => { Origin => $bad,
                                'Access-Control-Request-Method' => 'POST' }),
               "preflight from $bad");
}
ok no_cors(req(GET => '/api/v1/tasks', token => $tok,
               headers => { Origin => 'http://evil.example' }), 'list, evil origin');
ok no_cors(req(GET => '/api/v1/tasks', headers => { Origin => 'http://evil.example' }),
           '401, evil origin');
