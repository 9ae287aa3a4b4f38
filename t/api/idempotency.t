# Idempotency-Key (docs/api.md §9): a write sent again with its key gets
# the first answer again -- status, ETag, Location and body, byte for
# byte, with "Idempotent-Replayed: true" -- and changes nothing, for a
# 201, 200 (the toggle too), 204, 404, 412, 400 and 422 alike; the same
# key with another request is a 422 naming the header; while the first
# request runs, a 409; of two requests racing with one key exactly one
# writes (20 rounds of creates and of toggles); keys are per user; a 5xx
# is not stored (the repeat runs); keys expire (the database's clock, and
# "TodoIdempotencyRetention 2" on a location of its own) and expired ones
# are pruned by the user's next keyed writes, a few at a time; a
# malformed key is a 400 naming the header, and writes nothing.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use Digest::SHA qw(sha256_hex);
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use TodoTest qw(:DEFAULT db_connect error_fields log_text pg_quote pg_sql
                raw_exchange raw_request);

use constant ROUNDS => 20;

plan tests => 8 + 1 + 4 + 5 + 4 + 4  # 201, its JSON, toggle, 204 and 404, 412, 400/422
    + 8 + 3 + 2 + 5 + 4 + 4          # 422, scope, bad keys, 5xx, expiry, pruning
    + ROUNDS * 2 + 4 + 3;            # races, 409, the log

my $log0 = length log_text('error_log');
sub log_text_since { substr log_text('error_log'), $log0 }

my $user = new_user('idem');
my $tok = token($user);

sub data { my $d = json_ok($_[0]); $d ? $d->{data} : undef }
sub total {
    my ($t, $q) = @_;
    my $d = data(req(GET => '/api/v1/tasks?limit=1' . ($q ? "&q=$q" : ''),
                     token => $t // $tok));
    return $d ? $d->{total} : -1;
}

# A keyed request: req()'s options, and the key.
sub keyed {
    my ($method, $path, $key, %o) = @_;
    my %h = (%{ delete $o{headers} || {} }, 'Idempotency-Key' => $key);
    return req($method, $path, token => $o{token} // $tok, headers => \%h,
               map { exists $o{$_} ? ($_ => $o{$_}) : () } qw(json body type));
}

# $again repeats $first: the same status, headers and bytes, marked as a
# replay; X-Request-Id is the replay's own, while the body names the first.
sub replay_ok {
    my ($first, $again, $name) = @_;
    my @bad;
    push @bad, 'status ' . $again->code if $again->code != $first->code;
    push @bad, 'body differs' if ($again->content // '') ne ($first->content // '');
    for my $h (qw(ETag Location Content-Type)) {
        push @bad, "$h differs"
            if ($again->header($h) // '') ne ($first->header($h) // '');
    }
    push @bad, 'no Idempotent-Replayed: true'
        unless ($again->header('Idempotent-Replayed') // '') eq 'true';
    push @bad, 'the first answer says it was replayed'
        if defined $first->header('Idempotent-Replayed');
    push @bad, 'X-Request-Id repeated'
        if ($again->header('X-Request-Id') // '') eq ($first->header('X-Request-Id') // 'x');
    t_debug("$name: @bad\nfirst: " . $first->as_string . "\nagain: " . $again->as_string)
        if @bad;
    return !@bad;
}

# ------------------------------------------------------------- 201
my $body = { title => 'keyed create', priority => 2 };
my $c1 = keyed(POST => '/api/v1/tasks', 'create-1', json => $body);
ok t_cmp($c1->code, 201, 'keyed create: 201');
ok envelope_ok($c1);
my $task = data($c1) || {};
my $c2 = keyed(POST => '/api/v1/tasks', 'create-1', json => $body);
ok replay_ok($c1, $c2, 'create replayed');
ok t_cmp(json_ok($c2)->{meta}{request_id}, $c1->header('X-Request-Id'),
         "the replayed body's meta names the first request");
# The same operation in another path shape, and the key spelled bare or
# quoted: the same request.
my $c3 = keyed(POST => "/api/$user/tasks", '"create-1"', json => $body);
ok replay_ok($c1, $c3, 'create replayed through the user-scoped shape');
ok t_cmp(total(), 1, 'one task created');
ok t_cmp($c1->header('Location'), "/api/v1/tasks/$task->{id}", 'Location of the task');
# The answer is the first one even after the task changed.
req(PATCH => "/api/v1/tasks/$task->{id}", token => $tok, json => { priority => 3 });
ok replay_ok($c1, keyed(POST => '/api/v1/tasks', 'create-1', json => $body),
             'the replay is the answer as it was');

# The stored answer's task is made by SQL (it is stored by the statement
# that writes it); it is the very JSON the module writes for a task.
{
    my $odd = keyed(POST => '/api/v1/tasks', 'json-1', json => {
        title => "Tab\tquote\" backslash\\ \x{e9}t\x{e9} \x{1F600}",
        description => "line\nbreak \x01 control", completed => JSON::PP::true,
        priority => 3, due_at => '2026-12-01T09:00:00.5+01:00' });
    my $id = (data($odd) || {})->{id} // 'none';
    my $plain = req(GET => "/api/v1/tasks/$id", token => $tok);
    my ($a) = $odd->content =~ /^\{"data":(\{.*\}),"error":null,/;
    my ($b) = $plain->content =~ /^\{"data":(\{.*\}),"error":null,/;
    ok t_cmp($a // 'none', $b // 'missing', 'the stored task JSON is the module\'s, byte for byte');
}

# ----------------------------------------------------- 200: the toggle
my $t = create_task($tok, title => 'toggle me');
my $p1 = keyed(PATCH => "/api/v1/tasks/$t->{id}/complete", 'toggle-1');
ok t_cmp($p1->code, 200, 'keyed toggle: 200');
my $p2 = keyed(PATCH => "/api/tasks/$t->{id}/complete", 'toggle-1');
ok replay_ok($p1, $p2, 'toggle replayed');
my $now = data(req(GET => "/api/v1/tasks/$t->{id}", token => $tok)) || {};
ok $now->{completed} && $now->{version} == 2;   # toggled once, not twice
ok t_cmp($p2->header('ETag'), '"2"', 'the replay carries the ETag of the first');

# ---------------------------------------------------------- 204 and 404
my $d = create_task($tok, title => 'delete me');
my $d1 = keyed(DELETE => "/api/v1/tasks/$d->{id}", 'delete-1');
ok t_cmp($d1->code, 204, 'keyed delete: 204');
my $d2 = keyed(DELETE => "/api/v1/tasks/$d->{id}", 'delete-1');
ok replay_ok($d1, $d2, '204 replayed (not the 404 a second delete gets)');
ok t_cmp(req(DELETE => "/api/v1/tasks/$d->{id}", token => $tok)->code, 404,
         'without the key, a second delete is a 404');
my $gone = '2f6c1a9e-7a57-4a53-9a4e-0d2b2f3f5b0c';
my $n1 = keyed(DELETE => "/api/v1/tasks/$gone", 'nothing-1');
ok error_ok($n1, 404, 'NOT_FOUND');
ok replay_ok($n1, keyed(DELETE => "/api/v1/tasks/$gone", 'nothing-1'), '404 replayed');

# -------------------------------------------------------------- 412
my $e = create_task($tok, title => 'versioned');
my %stale = (headers => { 'If-Match' => '"9"' }, json => { title => 'x' });
my $f1 = keyed(PATCH => "/api/v1/tasks/$e->{id}", 'stale-1', %stale);
ok error_ok($f1, 412, 'PRECONDITION_FAILED');
ok replay_ok($f1, keyed(PATCH => "/api/v1/tasks/$e->{id}", 'stale-1', %stale),
             '412 replayed');
ok t_cmp((data(req(GET => "/api/v1/tasks/$e->{id}", token => $tok)) || {})->{version},
         1, 'nothing written');
my $r1 = keyed(PUT => "/api/v1/tasks/$e->{id}", 'put-1', json => { title => 'replaced' });
ok replay_ok($r1, keyed(PUT => "/api/v1/tasks/$e->{id}", 'put-1',
                        json => { title => 'replaced' }), 'PUT replayed');

# -------------------------------------- 400 and 422 of the body's validation
my $v1 = keyed(POST => '/api/v1/tasks', 'invalid-1', json => { colour => 'red' });
ok error_ok($v1, 400, 'VALIDATION_ERROR');
ok replay_ok($v1, keyed(POST => '/api/v1/tasks', 'invalid-1', json => { colour => 'red' }),
             '400 replayed, decided before any SQL but stored all the same');
my $j1 = keyed(POST => '/api/v1/tasks', 'typed-1', body => '{"title":1}',
               type => 'application/json');
ok error_ok($j1, 422, 'UNPROCESSABLE_ENTITY');
ok replay_ok($j1, keyed(POST => '/api/v1/tasks', 'typed-1', body => '{"title":1}',
                        type => 'application/json'), '422 of the body replayed');

# ---------------------------------------- the same key, another request
sub mismatch_ok {
    my ($res, $name) = @_;
    my $ok = error_ok($res, 422, 'UNPROCESSABLE_ENTITY')
        && grep({ $_ eq 'Idempotency-Key' } error_fields($res))
        && !defined $res->header('Idempotent-Replayed');
    t_debug("$name: " . $res->as_string) unless $ok;
    return $ok;
}
my $before = total();
ok mismatch_ok(keyed(POST => '/api/v1/tasks', 'create-1', json => { title => 'other' }),
               'another body');
ok mismatch_ok(keyed(POST => '/api/v1/tasks', 'create-1',
                     body => '{"title":"keyed create","priority":2} ',
                     type => 'application/json'), 'the body with one more byte');
ok mismatch_ok(keyed(PATCH => "/api/v1/tasks/$task->{id}", 'create-1', json => $body),
               'another route and method');
ok mismatch_ok(keyed(DELETE => "/api/v1/tasks/$d->{id}", 'toggle-1'), 'another operation');
ok mismatch_ok(keyed(PATCH => "/api/v1/tasks/$e->{id}/complete", 'toggle-1'),
               'the same operation on another task');
ok mismatch_ok(keyed(POST => '/api/v1/tasks', 'invalid-1', json => { title => 'fixed' }),
               'a valid body under the key of an invalid one');
ok t_cmp(total(), $before, 'nothing written');
ok t_cmp(log_text_since(), qr/TODO0305: .*used for another request/,
         'logged (TODO0305)');

# ---------------------------------------------------- scope: per user
my $other = new_user('idem-other');
my $otok = token($other);
my $o1 = keyed(POST => '/api/v1/tasks', 'create-1', json => $body, token => $otok);
ok t_cmp($o1->code, 201, "another user's key of the same name: executed");
ok !defined $o1->header('Idempotent-Replayed');
ok t_cmp((data($o1) || {})->{user_id}, $other, 'as that user');

# -------------------------------------------------- a malformed key: 400
sub bad_key_ok {
    my ($key) = @_;
    my $res = keyed(POST => '/api/v1/tasks', $key, json => { title => 'bad key' });
    my $ok = error_ok($res, 400, 'VALIDATION_ERROR')
        && join(',', error_fields($res)) eq 'Idempotency-Key';
    t_debug("[$key]: " . $res->as_string) unless $ok;
    return $ok;
}
ok bad_key_ok('a b') && bad_key_ok('""') && bad_key_ok('x' x 256)
    && bad_key_ok('"a", "b"') && bad_key_ok("\"caf\xc3\xa9\"");
ok t_cmp(total(undef, 'bad+key'), 0, 'nothing written for a malformed key');

# ------------------------------------------------- 5xx: not stored
{
    my $k = 'outage-1';
    my $b = { title => 'during the outage' };
    pg_stop();
    my $down = eval { keyed(POST => '/api/v1/tasks', $k, json => $b) };
    pg_start();
    ok t_cmp($down ? $down->code : 0, 503, 'database down: 503');
    ok defined wait_for(10, sub { req(GET => '/api/health')->code == 200 });
    my $up = keyed(POST => '/api/v1/tasks', $k, json => $b);
    ok t_cmp($up->code, 201, 'the repeat after the 503 runs');
    ok !defined $up->header('Idempotent-Replayed');
    ok t_cmp(total(undef, 'during+the+outage'), 1, 'once');
}

# ------------------------------------------------------------ expiry
{
    # The database's clock: an answer older than the retention is gone.
    my $x1 = keyed(POST => '/api/v1/tasks', 'expiry-1', json => { title => 'expiring' });
    pg_sql('UPDATE idempotency_keys SET created_at = now() - interval \'25 hours\''
           . ' WHERE user_id = ' . pg_quote($user) . " AND key = 'expiry-1'");
    my $x2 = keyed(POST => '/api/v1/tasks', 'expiry-1', json => { title => 'expiring' });
    ok t_cmp($x2->code, 201, 'an expired key: the request runs again');
    ok !defined $x2->header('Idempotent-Replayed')
        && (data($x2) || {})->{id} ne (data($x1) || {})->{id};
    # TodoIdempotencyRetention 2 (t/conf/locations/retention.conf).
    my $y1 = keyed(POST => '/retention/v1/tasks', 'expiry-2', json => { title => 'short' });
    my $y2 = keyed(POST => '/retention/v1/tasks', 'expiry-2', json => { title => 'short' });
    sleep 3;
    my $y3 = keyed(POST => '/retention/v1/tasks', 'expiry-2', json => { title => 'short' });
    ok t_cmp(join(' ', map { $_->code . ($_->header('Idempotent-Replayed') ? 'r' : '') }
                  $y1, $y2, $y3),
             '201 201r 201', 'TodoIdempotencyRetention 2: replayed at once, run again after 3 s');
    ok t_cmp(total(undef, 'short'), 2, 'two tasks');
}

# --------------------------------------------- pruning, a few at a time
# One keyed write in 8 prunes up to 32 expired keys of its user: those
# whose fingerprint (todo_idem.h) begins with 0 or 1.  Find a body of
# each kind.
sub fingerprint {
    return sha256_hex(join '', map { pack('Q>', length $_) . $_ } @_);
}
sub create_body {
    my ($prunes) = @_;
    for my $n (1 .. 1000) {
        my $b = { title => "prune $n" };
        my $fp = fingerprint('POST', 'create', '', $JSON->encode($b));
        return $b if ($fp =~ /^[01]/ ? 1 : 0) == $prunes;
    }
    die 'no such body';
}
{
    my $u = pg_quote($user);
    pg_sql("INSERT INTO idempotency_keys (user_id, key, fingerprint, status,"
           . " request_id, created_at) SELECT $u, 'old-' || n, sha256('x'), 201,"
           . " 'r', now() - interval '2 days' FROM generate_series(1, 40) n");
    my $old = sub {
        pg_sql("SELECT count(*) FROM idempotency_keys WHERE user_id = $u"
               . " AND key LIKE 'old-%'");
    };
    ok t_cmp($old->(), 40, '40 expired keys');
    keyed(POST => '/api/v1/tasks', 'prune-1', json => create_body(0));
    ok t_cmp($old->(), 40, 'most keyed writes do not prune');
    keyed(POST => '/api/v1/tasks', 'prune-2', json => create_body(1));
    ok t_cmp($old->(), 8, 'one in 8 prunes 32');
    # Another user's expired keys are that user's to prune.
    ok t_cmp(pg_sql("SELECT count(*) FROM idempotency_keys WHERE user_id = "
                    . pg_quote($other)), 1, "another user's key is left alone");
}

# ------------------------------------------------ racing duplicates
# Two requests with one key at once, twenty rounds: one runs, the other is
# a 409 (the first still running) or a replay (it had committed).
my $racer = create_task($tok, title => 'raced toggles');
for my $round (1 .. ROUNDS) {
    my $key = "race-create-$round";
    my @res = raw_exchange([map {
        raw_request(POST => '/api/v1/tasks', token => $tok,
                    json => { title => "race $round" },
                    headers => ['Idempotency-Key' => $key])
    } 1, 2]);
    my @fresh = grep { $_->code == 201 && !$_->header('Idempotent-Replayed') } @res;
    my @other = grep { ($_->code == 201 && $_->header('Idempotent-Replayed'))
                       || error_ok($_, 409, 'CONFLICT') } @res;
    my $ok = @fresh == 1 && @other == 1 && total(undef, "race+$round") == 1;
    t_debug("create round $round: " . join(' | ', map { $_->as_string } @res)) unless $ok;
    ok $ok;

    my $v = (data(req(GET => "/api/v1/tasks/$racer->{id}", token => $tok)) || {})->{version};
    @res = raw_exchange([map {
        raw_request(PATCH => "/api/v1/tasks/$racer->{id}/complete", token => $tok,
                    headers => ['Idempotency-Key' => "race-toggle-$round"])
    } 1, 2]);
    my $after = (data(req(GET => "/api/v1/tasks/$racer->{id}", token => $tok)) || {})->{version};
    @fresh = grep { $_->code == 200 && !$_->header('Idempotent-Replayed') } @res;
    $ok = @fresh == 1 && $after == $v + 1;
    t_debug("toggle round $round: v$v -> v$after " . join(' | ', map { $_->code } @res))
        unless $ok;
    ok $ok;
}

# ---------------------- 409 while the first runs (held up on purpose)
{
    # A session holds the lock on the user's task_counts row: the first
    # create waits inside its statement (its trigger needs that row),
    # holding the key.  The second, with the same key, is answered at once.
    my $db = db_connect();
    $db->begin_work;
    $db->do('SELECT 1 FROM task_counts WHERE user_id = ? FOR UPDATE', undef, $user);
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => (split /:/, Apache::TestRequest::hostport())[1])
        or die "connect: $!";
    print $sock raw_request(POST => '/api/v1/tasks', token => $tok,
                            json => { title => 'held up' },
                            headers => ['Idempotency-Key' => 'held-1']);
    # Until the first holds the key (its statement waits on the lock).
    wait_for(10, sub {
        pg_sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
               . " AND granted") > 0
    });
    my $t0 = time;
    my $second = keyed(POST => '/api/v1/tasks', 'held-1', json => { title => 'held up' });
    my $took = time - $t0;
    ok error_ok($second, 409, 'CONFLICT')
        && ($second->header('Retry-After') // '') eq '1'
        && grep({ $_ eq 'Idempotency-Key' } error_fields($second));
    ok $took < 2;     # answered at once, not after the first
    $db->commit;
    local $/;
    my $first = HTTP::Response->parse(scalar <$sock>);
    close $sock;
    ok t_cmp($first->code, 201, 'the first finishes once the lock goes');
    my $third = keyed(POST => '/api/v1/tasks', 'held-1', json => { title => 'held up' });
    ok t_cmp(($third->header('Idempotent-Replayed') // '') . ' ' . total(undef, 'held+up'),
             'true 1', 'then the key replays; one task');
}

# The replay is logged with the id of the request it repeats.
ok t_cmp(log_text_since(), qr/TODO0304: .*replayed the answer of request [0-9a-f]{24}/,
         'replays logged (TODO0304, debug)');
ok t_cmp(pg_sql('SELECT count(*) FROM idempotency_keys WHERE status >= 500'), 0,
         'no 5xx stored');
ok t_cmp(pg_sql('SELECT count(*) FROM idempotency_keys WHERE user_id = '
                . pg_quote($user) . " AND key = 'a b'"), 0,
         'a malformed key is not stored');
