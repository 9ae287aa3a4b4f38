# Validation of task bodies, ids, query parameters and the body limits
# (docs/api.md §4-§6): which requests are refused, with which status and
# code, naming which field; and that what is accepted is stored as sent.
use strict;
use warnings FATAL => 'all';
use utf8;
use Apache::Test;
use Apache::TestUtil;
use TodoTest qw(:DEFAULT error_fields raw_exchange raw_request);

my $me = new_user('validation');
my $tok = token($me);
my $task = create_task($tok, title => 'the task that PUT and PATCH aim at');
my $ITEM = "/api/v1/tasks/$task->{id}";
my $NEW = '/api/v1/tasks';
my $LIMIT = 16384;

my $E2 = "\x{e9}";          # é, 2 bytes in UTF-8
my $E3 = "\x{20ac}";        # €, 3 bytes
my $E4 = "\x{1f600}";       # 😀, 4 bytes

# --------------------------------------------------------------- tables

# [name, title, expected status]; accepted titles must come back unchanged.
my @titles = (
    ['empty', '', 400],
    ['1 ASCII', 'a', 201],
    ['200 ASCII', 'a' x 200, 201],
    ['201 ASCII', 'a' x 201, 400],
    ['200 x 2-byte', $E2 x 200, 201],
    ['201 x 2-byte', $E2 x 201, 400],
    ['200 x 3-byte', $E3 x 200, 201],
    ['201 x 3-byte', $E3 x 201, 400],
    ['200 x 4-byte', $E4 x 200, 201],
    ['201 x 4-byte', $E4 x 201, 400],
    ['1 x 4-byte', $E4, 201],
    ['mixed, 200', 'a' . $E2 . $E3 . $E4 x 197, 201],
    # A combining accent is a character of its own.
    ['100 e + U+0301', "e\x{301}" x 100, 201],
    ['101 e + U+0301', "e\x{301}" x 100 . 'e', 400],
    ['space', ' ', 400],
    ['spaces', '     ', 400],
    ['tab and newline', "\t\n\r ", 400],
    ['ideographic space', "\x{3000}", 400],
    ['ideographic spaces', "\x{3000}\x{3000} \x{3000}", 400],
    ['no-break space', "\x{a0}", 400],
    ['em space and line separator', "\x{2003}\x{2028}", 400],
    ['blanks around text', "  x\x{3000}", 201],
);

# [name, description, expected status]
my @descriptions = (
    ['1000 ASCII', 'd' x 1000, 201],
    ['1001 ASCII', 'd' x 1001, 400],
    ['1000 x 2-byte', $E2 x 1000, 201],
    ['1001 x 2-byte', $E2 x 1001, 400],
    ['1000 x 4-byte', $E4 x 1000, 201],
    ['1001 x 4-byte', $E4 x 1001, 400],
    ['empty', '', 201],
    ['null', undef, 201],
);

# [name, raw JSON of priority, expected status, stored value]
my @priorities = (
    ['-1', '-1', 400], ['0', '0', 201, 0], ['3', '3', 201, 3],
    ['4', '4', 400], ['2^31', '2147483648', 400],
    ['"1"', '"1"', 422], ['1.5', '1.5', 422], ['1.0', '1.0', 422],
    ['1e0', '1e0', 422], ['true', 'true', 422], ['null', 'null', 422],
    ['[1]', '[1]', 422],
);

# [given, stored]: offsets are converted to UTC, fractions kept to the
# microsecond.
my @good_due = (
    ['2026-05-01T10:00:00Z', '2026-05-01T10:00:00.000000Z'],
    ['2026-05-01T12:00:00+02:00', '2026-05-01T10:00:00.000000Z'],
    ['2026-05-01T10:00:00+05:30', '2026-05-01T04:30:00.000000Z'],
    ['2026-12-31T23:30:00-01:00', '2027-01-01T00:30:00.000000Z'],
    ['2026-05-01t10:00:00.5z', '2026-05-01T10:00:00.500000Z'],
    ['2026-05-01T10:00:00.123456Z', '2026-05-01T10:00:00.123456Z'],
    ['2026-05-01T10:00:00-00:00', '2026-05-01T10:00:00.000000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000000Z'],
    ['2026-03-01T00:00:00+23:59', '2026-02-28T00:01:00.000000Z'],
    ['2026-02-28T23:00:00-23:00', '2026-03-01T22:00:00.000000Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000000Z'],
    ['0001-01-01T01:00:00+01:00', '0001-01-01T00:00:00.000000Z'],
    ['9999-12-31T23:59:59.999999Z', '9999-12-31T23:59:59.999999Z'],
    ['9999-12-31T22:59:59-01:00', '9999-12-31T23:59:59.000000Z'],
);
my @bad_due = (
    '', 'tomorrow', '2026-05-01', '2026-05-01T10:00:00', '2026-05-01 10:00:00Z',
    '2026-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-04-31T00:00:00Z',
    '2026-05-01T24:00:00Z', '2026-05-01T10:60:00Z', '2026-05-01T10:00:00+0200',
    '2026-05-01T10:00:00+24:00', '2026-05-01T10:00:00.Z',
    '2026-05-01T10:00:00.1234567890Z', '0000-01-01T00:00:00Z',
    '26-05-01T10:00:00Z', '2026-05-01T10:00:00Z ',
    # Valid RFC 3339, but not a time of the years 0001-9999 in UTC.
    '0001-01-01T00:00:00+01:00', '9999-12-31T23:30:00-01:00',
    '9999-12-31T23:59:59.9999999Z',
);

my @read_only = qw(id user_id created_at updated_at completed_at version);

# [name, raw body, status, field or undef]: bodies of the wrong JSON type,
# malformed JSON and invalid text are 422.
my @unprocessable = (
    ['title a number', '{"title":5}', 'title'],
    ['title null', '{"title":null}', 'title'],
    ['title an array', '{"title":["x"]}', 'title'],
    ['title an object', '{"title":{}}', 'title'],
    ['description a number', '{"title":"x","description":5}', 'description'],
    ['description a boolean', '{"title":"x","description":true}', 'description'],
    ['completed a string', '{"title":"x","completed":"true"}', 'completed'],
    ['completed a number', '{"title":"x","completed":1}', 'completed'],
    ['completed null', '{"title":"x","completed":null}', 'completed'],
    ['due_at a number', '{"title":"x","due_at":20260501}', 'due_at'],
    ['due_at an object', '{"title":"x","due_at":{}}', 'due_at'],
    ['truncated', '{"title":', undef],
    ['bare key', '{title:"x"}', undef],
    ['single quotes', "{'title':'x'}", undef],
    ['trailing comma', '{"title":"x",}', undef],
    ['trailing data', '{"title":"x"} x', undef],
    ['two objects', '{"title":"x"}{"title":"y"}', undef],
    ['duplicate member', '{"title":"a","title":"b"}', undef],
    ['an array', '[{"title":"x"}]', undef],
    ['a string', '"x"', undef],
    ['a number', '5', undef],
    ['null', 'null', undef],
    ['blank', '   ', undef],
    ['number too large', '{"title":"x","priority":1e400}', undef],
    ['nested too deeply',
     '{"title":"x","n":' . ('[' x 3000) . (']' x 3000) . '}', undef],
    ['\u0000 in a value', '{"title":"a\u0000b"}', undef],
    ['\u0000 in a description', '{"title":"x","description":"\u0000"}', undef],
    ['\u0000 in a key', '{"ti\u0000tle":"x"}', undef],
    ['lone surrogate escape', '{"title":"\ud800"}', undef],
    ['0xFF byte', qq({"title":"\xff"}), undef],
    ['overlong slash', qq({"title":"\xc0\xaf"}), undef],
    ['encoded surrogate', qq({"title":"\xed\xa0\x80"}), undef],
    ['truncated sequence', qq({"title":"\xe2\x82"}), undef],
    ['above U+10FFFF', qq({"title":"\xf4\x90\x80\x80"}), undef],
    ['Latin-1 text', qq({"title":"caf\xe9"}), undef],
    ['invalid UTF-8 in a key', qq({"\xff":"x"}), undef],
);

# [query string, parameters named in error.details]
my @bad_queries = (
    ['status=done', 'status'], ['status=', 'status'],
    ['status=pending%00', 'status'],
    ['sort=foo', 'sort'], ['sort=-created_at_asc', 'sort'], ['sort=Title', 'sort'],
    ['sort=--title', 'sort'], ['sort=', 'sort'],
    ['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=abc', 'limit'],
    ['limit=-1', 'limit'], ['limit=1.5', 'limit'], ['limit=', 'limit'],
    ['limit=99999999999999999999', 'limit'],
    ['offset=-1', 'offset'], ['offset=x', 'offset'], ['offset=1e3', 'offset'],
    ['q=' . ('a' x 201), 'q'], ['q=%FF', 'q'], ['q=a%00b', 'q'],
    ['q=%zz', 'q'],
    ['due_before=yesterday', 'due_before'],
    ['due_after=2026-13-01T00:00:00Z', 'due_after'],
    ['updated_since=2026-05-01', 'updated_since'],
    ['due_before=2026-05-01T10:00:00', 'due_before'],
    ['foo=1', 'foo'], ['user_id=x', 'user_id'], ['Status=all', 'Status'],
    ['status=pending&status=all', 'status'],
    ['limit=0&sort=nope&status=x', 'limit', 'sort', 'status'],
);

plan tests => @titles + 2 + @descriptions + @priorities + 2 * @good_due + 2
    + @bad_due + 4 + 3 * @read_only + 1 + @unprocessable + 4 + 12
    + 4 * 5 + 4 + 4 + 9 + @bad_queries + 6;

# ------------------------------------------------------------- helpers

sub refused {
    my ($res, $status, $code, @fields) = @_;
    my @got = error_fields($res);
    my $ok = error_ok($res, $status, $code);
    for my $f (@fields) {
        $ok &&= grep { $_ eq $f } @got;
    }
    return $ok;
}

sub expect {
    my ($name, $res, $status, @fields) = @_;
    my %code = (400 => 'VALIDATION_ERROR', 413 => 'PAYLOAD_TOO_LARGE',
                415 => 'UNSUPPORTED_MEDIA_TYPE', 422 => 'UNPROCESSABLE_ENTITY',
                404 => 'NOT_FOUND');
    my $ok = $status < 300
        ? $res->code == $status && envelope_ok($res)
        : refused($res, $status, $code{$status}, @fields);
    t_debug("$name: expected $status (@fields), got " . $res->code . ' '
            . substr($res->content // '', 0, 300)) unless $ok;
    return $ok;
}

sub data { my $d = json_ok($_[0]); $d ? $d->{data} : undef }

sub post_raw {
    my ($body, %o) = @_;
    return req(POST => $NEW, token => $tok, body => $body,
               type => 'application/json', %o);
}

# The number of tasks of this user, to show refused requests wrote nothing.
sub count { (data(req(GET => "$NEW?limit=1", token => $tok)) || {})->{total} // -1 }

# ------------------------------------------------------------ title

my $before = count();
my $created = 0;
for my $c (@titles) {
    my ($name, $title, $status) = @$c;
    my $res = req(POST => $NEW, token => $tok, json => { title => $title });
    my $ok = expect("title $name", $res, $status, 'title');
    if ($status == 201) {
        $created++;
        $ok &&= t_cmp((data($res) || {})->{title}, $title, "title $name stored as sent");
    }
    ok $ok;
}
ok t_cmp(count(), $before + $created, 'only the accepted titles were stored');

# The same limits hold for PUT and PATCH.
ok expect('PATCH 201 x 4-byte', req(PATCH => $ITEM, token => $tok,
                                     json => { title => $E4 x 201 }), 400, 'title')
    && expect('PUT ideographic space', req(PUT => $ITEM, token => $tok,
                                          json => { title => "\x{3000}" }), 400, 'title')
    && expect('PATCH 200 x 4-byte', req(PATCH => $ITEM, token => $tok,
                                         json => { title => $E4 x 200 }), 200);

# ------------------------------------------------------- description

for my $c (@descriptions) {
    my ($name, $d, $status) = @$c;
    my $res = req(POST => $NEW, token => $tok,
                  json => { title => 'd', description => $d });
    my $ok = expect("description $name", $res, $status, 'description');
    $ok &&= t_cmp((data($res) || {})->{description}, $d, "description $name stored")
        if $status == 201;
    ok $ok;
}

# ---------------------------------------------------------- priority

for my $c (@priorities) {
    my ($name, $raw, $status, $stored) = @$c;
    my $res = post_raw(qq({"title":"p","priority":$raw}));
    my $ok = expect("priority $name", $res, $status, 'priority');
    $ok &&= t_cmp((data($res) || {})->{priority}, $stored, "priority $name stored")
        if $status == 201;
    ok $ok;
}

# ------------------------------------------------------------ due_at

for my $c (@good_due) {
    my ($given, $stored) = @$c;
    my $res = req(POST => $NEW, token => $tok,
                  json => { title => 'due', due_at => $given });
    ok expect("due_at $given", $res, 201);
    ok t_cmp((data($res) || {})->{due_at}, $stored, "due_at $given in UTC");
}
my $res = req(POST => $NEW, token => $tok, json => { title => 'due', due_at => undef });
ok expect('due_at null', $res, 201) && !defined((data($res) || {})->{due_at});
$res = req(PATCH => $ITEM, token => $tok, json => { due_at => '2026-05-01T12:00:00+02:00' });
ok expect('PATCH due_at', $res, 200)
    && t_cmp((data($res) || {})->{due_at}, '2026-05-01T10:00:00.000000Z', 'PATCH due_at in UTC');
for my $bad (@bad_due) {
    ok expect("due_at '$bad'", req(POST => $NEW, token => $tok,
                                   json => { title => 'due', due_at => $bad }),
              400, 'due_at');
}

# ------------------------------------------------ unknown and read-only

ok expect('unknown field', req(POST => $NEW, token => $tok,
                               json => { title => 'x', colour => 'red' }), 400, 'colour');
ok expect('two unknown fields', req(POST => $NEW, token => $tok,
                                    json => { title => 'x', a => 1, b => 2 }), 400, 'a', 'b');
ok expect('unknown field in PATCH', req(PATCH => $ITEM, token => $tok,
                                        json => { done => JSON::PP::true }), 400, 'done');
ok expect('unknown field in PUT', req(PUT => $ITEM, token => $tok,
                                      json => { title => 'x', tags => [] }), 400, 'tags');
for my $f (@read_only) {
    my %v = (version => 7);
    my $val = $v{$f} // ($f eq 'id' ? $task->{id} : $f eq 'user_id' ? $me
                                                  : '2026-05-01T10:00:00Z');
    ok expect("read-only $f in POST", req(POST => $NEW, token => $tok,
                                          json => { title => 'x', $f => $val }), 400, $f);
    ok expect("read-only $f in PUT", req(PUT => $ITEM, token => $tok,
                                         json => { title => 'x', $f => $val }), 400, $f);
    ok expect("read-only $f in PATCH", req(PATCH => $ITEM, token => $tok,
                                           json => { $f => $val }), 400, $f);
}
# All problems are reported at once.
ok expect('several problems', post_raw('{"title":"","priority":9,"id":"x","zz":1}'),
          400, 'title', 'priority', 'id', 'zz');

# ------------------------------------------ wrong types, bad JSON, bad text

for my $c (@unprocessable) {
    my ($name, $raw, $field) = @$c;
    ok expect($name, post_raw($raw), 422, defined $field ? $field : ());
}
ok expect('PATCH title null', req(PATCH => $ITEM, token => $tok,
                                  body => '{"title":null}', type => 'application/json'),
          422, 'title');
ok expect('PATCH priority null', req(PATCH => $ITEM, token => $tok,
                                     body => '{"priority":null}', type => 'application/json'),
          422, 'priority');
ok expect('PUT malformed', req(PUT => $ITEM, token => $tok,
                               body => '{"title":"x"', type => 'application/json'), 422);
ok expect('complete with invalid UTF-8', req(PATCH => "$ITEM/complete", token => $tok,
                                             body => qq({"completed":"\xff"}),
                                             type => 'application/json'), 422);

# ------------------------------------------------------------ body size

my $after_checks = count();
# A body of exactly the limit is fine; one byte more is 413.
sub padded {
    my ($size, $title) = @_;
    my $head = qq({"title":"$title");
    return $head . (' ' x ($size - length($head) - 1)) . '}';
}
$res = post_raw(padded($LIMIT, 'exactly the limit'));
ok expect('body of 16 KiB', $res, 201);
$res = post_raw(padded($LIMIT + 1, 'one byte too many'));
ok expect('body of 16 KiB + 1', $res, 413);
ok t_cmp(($res->header('Connection') // ''), qr/close/i,
         'the connection is closed after a 413');

# Without Content-Length (chunked), the limit is counted as it arrives.
my ($r1, $r2, $r3) = raw_exchange([
    raw_request(POST => $NEW, token => $tok, type => 'application/json', chunked => 1000,
                body => padded($LIMIT + 1, 'chunked, one byte too many')),
    raw_request(POST => $NEW, token => $tok, type => 'application/json', chunked => 1000,
                body => padded($LIMIT, 'chunked, exactly the limit')),
    raw_request(PUT => $ITEM, token => $tok, type => 'application/json', chunked => 4096,
                body => padded(3 * $LIMIT, 'chunked, far too big')),
]);
ok expect('chunked 16 KiB + 1', $r1, 413);
ok expect('chunked 16 KiB', $r2, 201)
    && t_cmp((data($r2) || {})->{title}, 'chunked, exactly the limit', 'chunked body stored');
ok expect('chunked PUT of 48 KiB', $r3, 413);

# A Content-Length over the limit is refused at once, without waiting for
# a body that never comes.
($r1) = raw_exchange([raw_request(POST => $NEW, token => $tok,
                                  type => 'application/json', body => '{"title":"x"}', length => $LIMIT + 1)],
                     timeout => 10);
ok expect('Content-Length over the limit, no body', $r1, 413);

# A Content-Length smaller than what is sent: only that many bytes are
# the body (here a truncated object, so 422); the rest is never taken for
# a task.
($r1) = raw_exchange([raw_request(POST => $NEW, token => $tok,
                                  type => 'application/json', body => padded(2 * $LIMIT, 'lying length'),
                                  length => 20)]);
ok expect('lying short Content-Length', $r1, 422);

# One chunk larger than the limit.
($r1) = raw_exchange([raw_request(POST => $NEW, token => $tok, type => 'application/json', chunked => 2 * $LIMIT,
                                  body => padded(2 * $LIMIT, 'one big chunk'))]);
ok expect('one chunk larger than the limit', $r1, 413);
# A malformed chunked body is the client's error, answered by httpd's
# input filter -- as JSON too, with the request id and CORS headers.
($r1) = raw_exchange(["POST $NEW HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                      . "Authorization: Bearer $tok\r\nContent-Type: application/json\r\n"
                      . "Origin: http://localhost:3000\r\n"
                      . "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"],
                     timeout => 10);
ok expect('malformed chunk size', $r1, 400);
ok t_cmp($r1->header('Access-Control-Allow-Origin'), 'http://localhost:3000',
         'CORS on the 400 of a malformed body');
ok t_cmp(count(), $after_checks + 2, 'only the bodies within the limit were stored');

# ------------------------------------------------------ content type

for my $m ([POST => $NEW], [PUT => $ITEM], [PATCH => $ITEM],
           [PATCH => "$ITEM/complete"]) {
    my ($method, $path) = @$m;
    my $body = $path =~ /complete$/ ? '{"completed":true}' : '{"title":"typed"}';
    ok expect("$method $path text/plain",
              req($method => $path, token => $tok, body => $body, type => 'text/plain'),
              415);
    ok expect("$method $path without a type",
              req($method => $path, token => $tok, body => $body), 415);
    ok expect("$method $path form-encoded",
              req($method => $path, token => $tok, body => $body,
                  type => 'application/x-www-form-urlencoded'), 415);
    ok expect("$method $path application/jsonp",
              req($method => $path, token => $tok, body => $body,
                  type => 'application/jsonp'), 415);
    ok expect("$method $path JSON with parameters",
              req($method => $path, token => $tok, body => $body,
                  type => 'Application/JSON; charset=utf-8'),
              $method eq 'POST' ? 201 : 200);
}
# A body-less PATCH .../complete needs no type (it toggles), nor does a
# body-less DELETE.
ok expect('toggle without a type', req(PATCH => "$ITEM/complete", token => $tok), 200);
ok expect('text/plain on GET is ignored', req(GET => $ITEM, token => $tok,
                                              headers => { 'Content-Type' => 'text/plain' }),
          200);
# An empty JSON body is not an object.
ok expect('empty POST body', req(POST => $NEW, token => $tok,
                                 headers => { 'Content-Type' => 'application/json' }), 422);
ok t_cmp(count(), $after_checks + 3, 'only the typed POST was stored');

# ------------------------------------------------------------- ids

my $t2 = create_task($tok, title => 'ids');
my @bad_ids = ('nope', '123', 'f' x 32, "$t2->{id}x", substr($t2->{id}, 1),
               'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz', "{$t2->{id}}");
my $bad_ok = 1;
for my $id (@bad_ids) {
    for my $m ([GET => ''], [PUT => '', '{"title":"x"}'], [PATCH => '', '{"title":"x"}'],
               [DELETE => ''], [PATCH => '/complete']) {
        my ($method, $suffix, $body) = @$m;
        my $r = req($method => "$NEW/$id$suffix", token => $tok,
                    (defined $body ? (body => $body, type => 'application/json') : ()));
        $bad_ok &&= expect("$method id $id$suffix", $r, 422);
    }
}
ok $bad_ok;
ok t_cmp(req(HEAD => "$NEW/nope", token => $tok)->code, 422, 'HEAD of a bad id');
# Upper-case hex names the same task.
$res = req(GET => "$NEW/" . uc $t2->{id}, token => $tok);
ok expect('upper-case id', $res, 200) && t_cmp(data($res), $t2, 'same task');
$res = req(PATCH => "$NEW/" . uc($t2->{id}) . '/complete', token => $tok);
ok expect('upper-case id complete', $res, 200) && (data($res) || {})->{completed};

# ---------------------------------------------- trailing and double slashes

my $id2 = $t2->{id};
for my $p ("/api/v1/tasks/", "/api//v1//tasks", "/api/v1/tasks//",
           "//api/v1/tasks") {
    my $r = req(GET => $p, token => $tok);
    ok expect("list at $p", $r, 200)
        && (grep { $_->{id} eq $id2 } @{ (data($r) || {})->{tasks} || [] });
}
for my $p ("/api/v1/tasks/$id2/", "/api/v1//tasks///$id2", "/api/$me//tasks/$id2/") {
    ok expect("get at $p", req(GET => $p, token => $tok), 200);
}
ok expect('complete with a trailing slash',
          req(PATCH => "/api/v1/tasks/$id2/complete/", token => $tok), 200);
ok expect('complete with a double slash',
          req(PATCH => "/api/v1/tasks/$id2//complete", token => $tok), 200);

# ---------------------------------------------------- list parameters

for my $c (@bad_queries) {
    my ($query, @fields) = @$c;
    ok expect("?$query", req(GET => "$NEW?$query", token => $tok), 400, @fields);
}
# Good spellings of the same parameters.
for my $q ('status=Pending', 'status=COMPLETED&sort=-title', 'limit=1&offset=0',
           'limit=100&offset=1000000', 'q=&sort=created_at_asc',
           'due_before=2026-05-01T10:00:00%2B02:00&due_after=2020-01-01t00:00:00z') {
    ok expect("?$q", req(GET => "$NEW?$q", token => $tok), 200);
}
