# A JWKS URL that never answered: a token that needs its keys gets 503
# (the server's failure: the token may be good), any other token is judged
# as usual -- a malformed, disallowed or expired token is still a 401, and
# a token the static secret verifies is accepted.  /jwksdown in
# t/conf/locations/auth.conf.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use TodoTest;
use TodoTest qw(log_text);

my $keys = env_of('TODO_KEYS');
my $now = int(time);

sub ed {
    my (%header) = @_;
    return signed_token(alg => 'EdDSA', key => "$keys/ed25519.key.pem",
                        header => { alg => 'EdDSA', %header },
                        payload => { sub => 'dana', exp => $now + 3600 });
}

# [name, token, status, error_description (401 only)]
my @cases = (
    ['EdDSA with a kid', ed(kid => 'ed-1'), 503],
    ['EdDSA without a kid', ed(), 503],
    ['malformed', 'not-a-token', 401, 'malformed token'],
    ['RS256 (not allowed)',
     signed_token(alg => 'RS256', key => "$keys/rsa2048.key.pem",
                  header => { alg => 'RS256' },
                  payload => { sub => 'dana', exp => $now + 3600 }),
     401, 'algorithm not allowed'],
    ['HS256, expired', token('dana', exp => $now - 3600), 401,
     'token expired'],
    ['HS256, another secret (a JWKS holds no secrets)',
     hs_token({ alg => 'HS256' }, { sub => 'dana', exp => $now + 3600 },
              secret => 'x' x 40), 401, 'bad signature'],
    ['HS256, good', token('dana'), 200],
);

plan tests => 3 * @cases + 1;

my @ids;
for my $case (@cases) {
    my ($name, $tok, $status, $desc) = @$case;
    my $res = req(GET => '/jwksdown/v1/tasks', token => $tok);
    t_debug("$name: " . $res->status_line);
    push @ids, $res->header('X-Request-Id') // 'none';
    if ($status == 503) {
        ok error_ok($res, 503, 'SERVICE_UNAVAILABLE');
        ok t_cmp($res->header('Retry-After'), qr/^\d+$/, "$name: Retry-After");
        ok !defined $res->header('WWW-Authenticate');
    }
    elsif ($status == 401) {
        ok error_ok($res, 401, 'UNAUTHORIZED');
        ok t_cmp($res->header('WWW-Authenticate'),
                 qq{Bearer realm="todo", error="invalid_token", }
                 . qq{error_description="$desc"}, "$name: challenge");
        ok !defined $res->header('Retry-After');
    }
    else {
        ok t_cmp($res->code, 200, "$name: 200");
        ok envelope_ok($res);
        ok !defined $res->header('WWW-Authenticate');
    }
}

# Why the keys are missing is in the log, with the request id.
my $log = log_text('error_log');
ok scalar grep { /\[req \Q$ids[0]\E\].*JWKS unavailable/ } split /\n/, $log;
