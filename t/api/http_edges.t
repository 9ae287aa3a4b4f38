# The edges of HTTP under a todo location: every answer is the API's own
# JSON, cheap to give, and kind to real clients.
#  - paths too long for a file name (>= 4,081 bytes) and encoded slashes
#    or NULs, which httpd itself refuses before any handler runs, come out
#    as the JSON envelope with a request id, and a long path writes no
#    error-level line;
#  - the Bearer scheme's name is case-insensitive (RFC 7235);
#  - a request refused before its body was read is answered at once, with
#    Connection: close, not after httpd's read timeout;
#  - an encoded request body (Content-Encoding: gzip) is a 415.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use Time::HiRes qw(time);
use TodoTest;
use TodoTest qw(log_text raw_exchange);

my $user = new_user('edges');
my $tok = token($user);

plan tests => 9 * 3 + 4 + 4 * 3 + 4 + 7 + 4;

# --- long paths: 4,080 bytes is the last a file name could hold; the
#     answer must not depend on it.
# Line by line: one /m search over the whole log took seconds once the
# suite's error log had grown to megabytes.
sub error_lines { scalar grep { /^\[[^]]*\] \[[^]]*:error\]/ } split /\n/, $_[0] }
my $errors_before = error_lines(log_text('error_log'));
my $base = '/api/v1/tasks/';
for my $len (4080, 4081, 8000) {
    my $path = $base . ('a' x ($len - length $base));
    my $res = req(GET => $path);
    t_debug("GET of a $len-byte path: " . $res->status_line);
    ok error_ok($res, 401, 'UNAUTHORIZED');
    ok t_cmp(length($res->header('X-Request-Id') // ''), 24,
             "$len bytes, no token: our 401 with a request id");
    $res = req(GET => $path, token => $tok);
    ok error_ok($res, 422, 'UNPROCESSABLE_ENTITY');
    $res = req(GET => '/api/' . ('b/' x int(($len - 5) / 2)));
    ok error_ok($res, 404, 'NOT_FOUND');
    ok t_cmp($res->header('Content-Type'), qr{^application/json},
             "$len bytes of unknown route: JSON 404");
    $res = req(GET => $path, headers => { Origin => 'http://localhost:3000' });
    ok t_cmp($res->header('Access-Control-Allow-Origin'),
             'http://localhost:3000', "$len bytes: CORS headers");
    $res = req(DELETE => $path, token => $tok);
    ok error_ok($res, 422, 'UNPROCESSABLE_ENTITY');
    $res = req(POST => $path, token => $tok, json => { title => 'x' });
    ok error_ok($res, 405, 'METHOD_NOT_ALLOWED');
    ok t_cmp($res->header('Allow'), qr/GET/, "$len bytes: 405 with Allow");
}
my $log = log_text('error_log');
my $errors_after = error_lines($log);
ok t_cmp($errors_after - $errors_before, 0, 'long paths write no error-level line');
ok t_cmp(scalar(() = $log =~ /AH00127/g), 0, 'no "Cannot map ... to file"');
my $created = req(POST => '/api/v1/tasks', token => $tok,
                  json => { title => 'edge' });
my $id = json_ok($created)->{data}{id};
ok t_cmp($created->code, 201, 'a task to address');
ok t_cmp(req(GET => "/api/v1/tasks/$id", token => $tok)->code, 200,
         'and its plain path works');

# --- encoded slashes and NULs: httpd refuses them before any handler;
#     AllowEncodedSlashes stays Off.
for my $case (["/api/v1/tasks%2F$id", 'an encoded slash'],
              ["/api/v1/tasks/$id%00", 'an encoded NUL'],
              ["/api/v1%2Ftasks", 'an encoded slash before tasks'],
              ["/api/v1/tasks/%00", 'a lone encoded NUL']) {
    my ($path, $name) = @$case;
    my $res = req(GET => $path, token => $tok);
    t_debug("$name: " . $res->status_line);
    ok $res->code == 404 || $res->code == 400;
    ok envelope_ok($res);
    ok t_cmp(json_ok($res)->{error}{code}, qr/^(NOT_FOUND|VALIDATION_ERROR)$/,
             "$name: the JSON envelope with a request id");
}

# --- the scheme's name in any case
ok t_cmp(req(GET => '/api/v1/tasks',
             headers => { Authorization => "bearer $tok" })->code,
         200, 'bearer (lower case) with a good token');
ok t_cmp(req(GET => '/api/v1/tasks',
             headers => { Authorization => "BEARER $tok" })->code,
         200, 'BEARER with a good token');
my $bad = req(GET => '/api/v1/tasks',
              headers => { Authorization => 'bearer not-a-token' });
ok error_ok($bad, 401, 'UNAUTHORIZED');
ok t_cmp($bad->header('WWW-Authenticate'),
         qr/error="invalid_token", error_description="malformed token"/,
         'bearer with a bad token: 401 invalid_token');

# --- a promised body that never comes: the refusal does not wait for it
#     (a keep-alive request, as a browser sends it; 13 of 100 bytes).
my $hostport = Apache::TestRequest::hostport();
my $stalled = "POST /api/v1/tasks HTTP/1.1\r\nHost: $hostport\r\n"
    . "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    . '{"title":"x"}';
for my $case ([undef, 401, 'UNAUTHORIZED', 'no token'],
              ["Bearer $tok", 415, 'UNSUPPORTED_MEDIA_TYPE', 'gzip body']) {
    my ($auth, $status, $code, $name) = @$case;
    my $text = $stalled;
    $text =~ s/\r\n\r\n/\r\nAuthorization: $auth\r\n\r\n/ if $auth;
    $text =~ s/\r\n\r\n/\r\nContent-Encoding: gzip\r\n\r\n/ if $status == 415;
    my $t0 = time;
    my ($res) = raw_exchange([$text], timeout => 10);
    my $took = time - $t0;
    t_debug(sprintf "stalled body, %s: %s after %.2f s", $name,
            $res->status_line, $took);
    if ($status == 401) {
        ok error_ok($res, $status, $code);
        ok t_cmp(lc($res->header('Connection') // ''), 'close',
                 "$name: Connection: close");
        ok $took < 1.5;
    }
    else {
        ok error_ok($res, $status, $code);
        ok t_cmp(lc($res->header('Connection') // ''), 'close',
                 "$name: Connection: close");
        ok $took < 1.5;
        ok t_cmp(json_ok($res)->{error}{message}, qr/Content-Encoding/,
                 "$name: the message names the header");
    }
}

# --- Content-Encoding on a complete body
my $gz = req(POST => '/api/v1/tasks', token => $tok,
             json => { title => 'zipped?' },
             headers => { 'Content-Encoding' => 'gzip' });
ok error_ok($gz, 415, 'UNSUPPORTED_MEDIA_TYPE');
my $plain = req(POST => '/api/v1/tasks', token => $tok,
                json => { title => 'identity' },
                headers => { 'Content-Encoding' => 'identity' });
ok t_cmp($plain->code, 201, 'Content-Encoding: identity is fine');
my $patch = req(PATCH => "/api/v1/tasks/$id", token => $tok,
                json => { title => 'y' },
                headers => { 'Content-Encoding' => 'deflate' });
ok error_ok($patch, 415, 'UNSUPPORTED_MEDIA_TYPE');
ok t_cmp(json_ok(req(GET => "/api/v1/tasks/$id", token => $tok))->{data}{title},
         'edge', 'and nothing was written');
