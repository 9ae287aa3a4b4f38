# Valid tokens of every supported algorithm family are accepted; the user
# claim becomes r->user (the task's user_id, %u in the access log); the
# time claims honour the leeway; the token cache never outlives exp +
# leeway.  Locations: t/conf/extra.conf.in (/api) and
# t/conf/locations/auth.conf.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use Time::HiRes qw(sleep time);
use TodoTest;
use TodoTest qw(log_text second_start);

my $keys = env_of('TODO_KEYS');
my $now = int(time);

sub claims {
    my ($sub, %over) = @_;
    my %c = (sub => $sub, iat => $now, exp => $now + 3600, %over);
    delete $c{$_} for grep { !defined $c{$_} } keys %c;
    return \%c;
}

sub hs {
    my ($alg, $payload) = @_;
    return hs_token({ alg => $alg, typ => 'JWT' }, $payload, alg => $alg);
}

sub pk {
    my ($alg, $name, $payload, %header) = @_;
    return signed_token(alg => $alg, key => "$keys/$name.key.pem",
                        header => { alg => $alg, typ => 'JWT', %header },
                        payload => $payload);
}

# A valid HS256 token for $sub between $min and $max bytes long.
sub sized_hs {
    my ($sub, $min, $max) = @_;
    # the claims around pad take well under 200 bytes of the token
    for my $n (($min > 400 ? int(($min - 400) * 3 / 4) : 0) .. $max) {
        my $t = hs('HS256', claims($sub, pad => 'p' x $n));
        return $t if length $t >= $min && length $t <= $max;
        last if length $t > $max;
    }
    die "no token of $min-$max bytes";
}

my $iss = 'https://issuer.example.com';
my $u = 0;
sub user { new_user($_[0]) }

# [name, location, token, user the token names]
my @cases;
sub add { push @cases, [@_] }

for my $alg (qw(HS256 HS384 HS512)) {
    my $who = user(lc $alg);
    add("$alg on /api", 'api', hs($alg, claims($who)), $who);
}
for my $alg (qw(RS256 RS384 RS512)) {
    my $who = user(lc $alg);
    add("$alg on /rs", 'rs', pk($alg, 'rsa2048', claims($who)), $who);
}
for my $c (['ES256', 'es256', 'ecp256'], ['ES384', 'es384', 'ecp384'],
           ['ES512', 'es512', 'ecp521'], ['EdDSA', 'ed', 'ed25519']) {
    my ($alg, $loc, $key) = @$c;
    my $who = user(lc $alg);
    add("$alg on /$loc", $loc, pk($alg, $key, claims($who)), $who);
}
for my $c (['RS256', 'rsa2048', 'rsa-1'], ['ES256', 'ecp256', 'ec256-1'],
           ['ES384', 'ecp384', 'ec384-1'], ['ES512', 'ecp521', 'ec521-1'],
           ['EdDSA', 'ed25519', 'ed-1']) {
    my ($alg, $key, $kid) = @$c;
    my $who = user("jwks-$kid");
    add("$alg on /jwks, kid $kid", 'jwks',
        pk($alg, $key, claims($who), kid => $kid), $who);
}
{
    my $who = user('jwks-nokid');
    add('EdDSA on /jwks without a kid', 'jwks',
        pk('EdDSA', 'ed25519', claims($who)), $who);
    $who = user('rs-kid');
    add('a kid the PEM does not name (PEM without kid)', 'rs',
        pk('RS256', 'rsa2048', claims($who), kid => 'whatever-kid'), $who);
    $who = user('rskid');
    add('the kid the PEM is bound to', 'rskid',
        pk('RS256', 'rsa2048', claims($who), kid => 'main-rsa'), $who);
    $who = user('rskid-nokid');
    add('no kid where the PEM has one', 'rskid',
        pk('RS256', 'rsa2048', claims($who)), $who);
    $who = user('mixed-hs');
    add('HS256 on /mixed', 'mixed', hs('HS256', claims($who)), $who);
    $who = user('mixed-rs');
    add('RS256 on /mixed', 'mixed', pk('RS256', 'rsa2048', claims($who)),
        $who);
    $who = user('strict');
    add('iss and aud on /strict', 'strict',
        hs('HS256', claims($who, iss => $iss, aud => 'todo-api')), $who);
    $who = user('strict-array');
    add('aud an array with ours', 'strict',
        hs('HS256', claims($who, iss => $iss,
                           aud => ['x-api', 'todo-api', 'y-api'])), $who);
    $who = user('uid');
    add('TodoJWTUserClaim uid', 'claim',
        hs('HS256', claims('not-the-user', uid => $who)), $who);
    $who = user('leeway-exp');
    add('exp 10 s ago, within the leeway of 30', 'api',
        hs('HS256', claims($who, exp => $now - 10)), $who);
    $who = user('leeway-nbf');
    add('nbf and iat 10 s ahead, within the leeway', 'api',
        hs('HS256', claims($who, nbf => $now + 10, iat => $now + 10)), $who);
    $who = user('nbf-past');
    add('nbf in the past', 'exact',
        hs('HS256', claims($who, nbf => $now - 100)), $who);
    $who = user('no-iat');
    add('no iat at all', 'exact', hs('HS256', claims($who, iat => undef)),
        $who);
    $who = user('exp-max');
    add('exp the largest int64', 'api',
        hs('HS256', sprintf('{"exp":9223372036854775807,"sub":"%s"}', $who)),
        $who);
    $who = 'u' x 200 . user('long');
    $who = substr($who, 0, 255);
    add('sub of 255 bytes', 'api', hs('HS256', claims($who)), $who);
    $who = "zo\x{eb} " . user('utf8');
    add('sub with non-ASCII characters and a space', 'api',
        hs('HS256', claims($who)), $who);
    $who = user('8k');
    add('token of 8191-8192 bytes', 'api', sized_hs($who, 8191, 8192), $who);
}

plan tests => 4 * @cases + 17;

# %u as mod_log_config writes it (ap_escape_logitem).
sub log_escape {
    my $s = shift;
    utf8::encode($s);
    $s =~ s/(["\\])/\\$1/g;
    $s =~ s/([^\x20-\x7e])/sprintf '\\x%02x', ord $1/ge;
    return $s;
}

my %written;    # request id of each POST -> user
for my $case (@cases) {
    my ($name, $loc, $tok, $who) = @$case;
    my $res = req(GET => "/$loc/v1/tasks", token => $tok);
    t_debug("$name: GET " . $res->status_line . ' '
            . ($res->header('WWW-Authenticate') // ''));
    ok t_cmp($res->code, 200, "$name: GET 200") && envelope_ok($res);
    $res = req(POST => "/$loc/v1/tasks", token => $tok,
               json => { title => "task of $name" });
    ok t_cmp($res->code, 201, "$name: POST 201");
    my $d = json_ok($res) || {};
    my $got = ref $d->{data} eq 'HASH' ? $d->{data}{user_id} : undef;
    ok t_cmp($got, $who, "$name: user_id is the token's user");
    $written{$res->header('X-Request-Id') // ''} = [$name, $who];
}

# %u in the access log is the user.  httpd writes that line after the
# response has gone out: wait until every request is there.
my $access = '';
wait_for(10, sub {
    $access = log_text('todo_access.log');
    return !grep { index($access, " $_ ") < 0 } keys %written;
});
# "%h %L %u [%t] ...": the user of each request id, line by line (one /m
# search over the whole log per id backtracks from every line start and
# took minutes once the suite's log had grown to megabytes).
my %user_of;
for (split /\n/, $access) {
    $user_of{$1} = $2 if /^\S+ (\S+) (.*?) \[/;
}
for my $id (sort { $written{$a}[0] cmp $written{$b}[0] } keys %written) {
    my ($name, $who) = @{ $written{$id} };
    my $logged = $user_of{$id};
    ok t_cmp($logged, log_escape($who), "$name: %u in the access log");
}

# ------------------------------------------------- exp at its last second
# Leeway 0: a token with exp = now + 1 is good for this very second.
{
    my $t0 = second_start();
    my $res = req(GET => '/exact/v1/tasks',
                  token => hs('HS256', claims(user('exp-1'), exp => $t0 + 1)));
    ok t_cmp($res->code, 200, 'exp one second ahead, no leeway: 200');
}

# ------------------------------------------------------- the token cache
# Verified once, the token is cached until exp + leeway, never longer.
{
    my $who = user('cache');
    my $t0 = second_start();
    my $tok = hs('HS256', claims($who, exp => $t0 - 29));  # good until t0+1
    my $r1 = req(GET => '/api/v1/tasks', token => $tok);
    my $r2 = req(GET => '/api/v1/tasks', token => $tok);
    ok t_cmp($r1->code, 200, 'exp 29 s ago, leeway 30: accepted');
    ok t_cmp($r2->code, 200, 'and again (from the cache)');
    sleep 0.05 while time < $t0 + 2.2;
    my $r3 = req(GET => '/api/v1/tasks', token => $tok);
    ok t_cmp($r3->code, 401, 'expired since: refused') 
        && error_ok($r3, 401, 'UNAUTHORIZED');
    ok t_cmp($r3->header('WWW-Authenticate'),
             'Bearer realm="todo", error="invalid_token", '
             . 'error_description="token expired"', 'the reason: expired');

    my $log = log_text('error_log');
    my ($id1, $id2, $id3) = map { $_->header('X-Request-Id') // 'none' }
                            $r1, $r2, $r3;
    my @l1 = grep { /\Q[req $id1]\E/ } split /\n/, $log;
    my @l2 = grep { /\Q[req $id2]\E/ } split /\n/, $log;
    my @l3 = grep { /\Q[req $id3]\E/ } split /\n/, $log;
    ok scalar grep { /token verified \(HS256\) for user \Q$who\E/ } @l1;
    ok scalar grep { /token accepted from the cache for user \Q$who\E/ } @l2;
    ok !grep { /from the cache/ } @l3;
    ok scalar grep { /\[todo:info\].*401 for GET \/api\/v1\/tasks: token expired/ } @l3;
}

# The cache belongs to its location: a token /api accepted (and cached)
# is still judged by each other location's own policy.
{
    my $who = user('cache-scope');
    my $tok = hs('HS256', claims($who));
    ok t_cmp(req(GET => '/api/v1/tasks', token => $tok)->code, 200,
             '/api accepts');
    ok t_cmp(req(GET => '/api/v1/tasks', token => $tok)->code, 200,
             '/api accepts again (cached)');
    my $res = req(GET => '/strict/v1/tasks', token => $tok);
    ok t_cmp($res->code, 401, '/strict still wants iss and aud');
    ok t_cmp($res->header('WWW-Authenticate') // '',
             qr/error_description="issuer mismatch"/, 'issuer mismatch');
    $res = req(GET => '/claim/v1/tasks', token => $tok);
    ok t_cmp($res->code, 401, '/claim still wants uid');
    ok t_cmp(req(GET => '/rs/v1/tasks', token => $tok)->code, 401,
             '/rs does not take HS256');
}

# A path naming the user must name the token's user.
{
    my $who = user('path');
    my $tok = pk('EdDSA', 'ed25519', claims($who));
    ok t_cmp(req(GET => "/ed/v1/$who/tasks", token => $tok)->code, 200,
             'own user in the path');
    ok t_cmp(req(GET => "/ed/v1/someone-else/tasks", token => $tok)->code,
             403, 'another user in the path');
}
