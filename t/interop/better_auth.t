# Interop with the real issuer: Better Auth's JWT plugin (npm better-auth,
# pinned in t/interop/package-lock.json), run by scripts/test.sh through
# t/interop/better-auth.mjs on 127.0.0.1:$TODO_BA_PORT.  Tokens come from
# Better Auth's own endpoints (GET <basePath>/token, /get-session); the
# locations are in t/conf/locations/interop.conf:
#   /ba-file      TodoJWKSFile (Better Auth's /api/auth/jwks saved at startup)
#   /ba-url       TodoJWKSURL .../api/auth/jwks, TodoJWKSRefreshInterval 1
#   /ba-otheraud  the JWKS file, another TodoJWTAudience
#   /ba-otheriss  the JWKS file, another TodoJWTIssuer
#   /ba-secret    HS256 with TodoJWTSecret ${BETTER_AUTH_SECRET}
# No skips: without node, npm, better-auth or its server this test fails.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use HTTP::Request;
use LWP::UserAgent;
use MIME::Base64 qw(decode_base64url);
use Time::HiRes qw(sleep);
use TodoTest;

my @ALGS = qw(EdDSA ES256 RS256);
my %BASE_PATH = (EdDSA => '/api/auth', ES256 => '/es256/api/auth',
                 RS256 => '/rs256/api/auth');
my @JWKS_LOCS = qw(/ba-file /ba-url);

plan tests => 13 + @ALGS * (8 + @JWKS_LOCS * 5) + 15 + 21;

# ------------------------------------------------------------ helpers
my $ba = 'http://127.0.0.1:' . env_of('TODO_BA_PORT');
my $ua = LWP::UserAgent->new(timeout => 30);

# A request to the Better Auth server; dies when it is not there.
sub ba {
    my ($method, $path, %h) = @_;
    my $res = $ua->request(HTTP::Request->new($method => "$ba$path",
                                              [%h]));
    die "Better Auth $method $path: " . $res->status_line . "\n"
        . $res->decoded_content . "\n" if $res->code >= 500;
    return $res;
}
sub ba_json {
    my $res = ba(@_);
    die "Better Auth $_[1]: " . $res->status_line . "\n" unless $res->is_success;
    return $JSON->decode($res->decoded_content);
}

# The decoded header and payload of a JWT.
sub jwt_parts {
    my ($t) = @_;
    my ($h, $p) = split /\./, $t // '';
    return (eval { $JSON->decode(decode_base64url($h)) } || {},
            eval { $JSON->decode(decode_base64url($p)) } || {});
}

# The error_description of a 401's challenge.
sub reason {
    my ($res) = @_;
    my ($r) = ($res->header('WWW-Authenticate') // '')
        =~ /error_description="([^"]*)"/;
    return $r // '';
}

# A 401 with the envelope and this error_description.
sub refused {
    my ($res, $why) = @_;
    return error_ok($res, 401, 'UNAUTHORIZED') && reason($res) eq $why;
}

# The value of the better-auth.session_data cookie a response sets.
sub session_data {
    my ($res) = @_;
    for ($res->header('Set-Cookie')) {
        return $1 if /^better-auth\.session_data=([^;]+)/;
    }
    return undef;
}

# The decoded envelope data of a successful task request, or undef.
sub data_of {
    my ($res, $status) = @_;
    return undef unless $res->code == $status;
    my $d = json_ok($res);
    return $d ? $d->{data} : undef;
}

# ------------------------------------------------- the Better Auth side
my $s = ba_json(GET => '/control/session');
my ($user, $base, $cookie) = @{$s}{qw(user_id base_url cookie)};
my %kid = %{ $s->{kids} };
t_debug("Better Auth user $user, baseURL $base, kids @kid{@ALGS}");
ok $user && length $user;
ok t_cmp($base, $ba, 'Better Auth baseURL');

# Its JWKS endpoint and the saved file agree: three keys, one per alg.
my $live = ba_json(GET => '/api/auth/jwks');
my $file = do {
    my $f = env_of('TODO_BA_DIR') . '/jwks.json';
    open my $fh, '<', $f or die "$f: $!";
    local $/;
    $JSON->decode(<$fh>);
};
my %live = map { $_->{kid} => $_ } @{ $live->{keys} };
my %file = map { $_->{kid} => $_ } @{ $file->{keys} };
ok t_cmp(scalar(keys %file), 3, 'three keys in jwks.json');
ok t_cmp(join(',', sort keys %live), join(',', sort keys %file),
         'served JWKS = saved JWKS');
ok t_cmp($file{$kid{EdDSA}}{kty} . '/' . $file{$kid{EdDSA}}{crv}, 'OKP/Ed25519',
         'EdDSA key is Ed25519');
ok t_cmp($file{$kid{ES256}}{kty} . '/' . $file{$kid{ES256}}{crv}, 'EC/P-256',
         'ES256 key is P-256');
ok t_cmp($file{$kid{RS256}}{kty}, 'RSA', 'RS256 key is RSA');
ok t_cmp(join(',', map { $file{$kid{$_}}{alg} } @ALGS), 'EdDSA,ES256,RS256',
         'every key names its alg');

# Without a session Better Auth gives no token.
ok t_cmp(ba(GET => '/api/auth/token')->code, 401, 'no session, no token');

# The session is the user's.
my $gs = ba(GET => '/api/auth/get-session', Cookie => $cookie);
ok t_cmp($gs->code, 200, 'get-session');
ok t_cmp(eval { $JSON->decode($gs->decoded_content)->{user}{id} } // '',
         $user, 'session user');
# get-session also hands out a JWT (set-auth-jwt), accepted as well.
my $set_auth_jwt = $gs->header('set-auth-jwt') // '';
ok t_cmp(req(GET => '/ba-url/v1/tasks', token => $set_auth_jwt)->code, 200,
         'set-auth-jwt token accepted');
my $hs_session_data = session_data($gs);
ok $hs_session_data;    # session.cookieCache {strategy: "jwt"} is on

# ------------------------------------ tokens of each alg, both locations
my %token;
for my $alg (@ALGS) {
    my $res = ba(GET => "$BASE_PATH{$alg}/token", Cookie => $cookie);
    ok t_cmp($res->code, 200, "$alg: Better Auth /token");
    my $t = $token{$alg} = eval { $JSON->decode($res->decoded_content)->{token} };
    my ($h, $p) = jwt_parts($t);
    t_debug("$alg header " . $JSON->encode($h) . ' claims ' . $JSON->encode($p));
    ok t_cmp($h->{alg}, $alg, "$alg: header alg");
    ok t_cmp($h->{kid}, $kid{$alg}, "$alg: header kid");
    ok t_cmp($p->{sub}, $user, "$alg: sub is the Better Auth user id");
    ok t_cmp($p->{iss}, $base, "$alg: iss is the baseURL");
    ok t_cmp($p->{aud}, $base, "$alg: aud is the baseURL");

    for my $loc (@JWKS_LOCS) {
        my $title = "interop $alg $loc";
        my $c = data_of(req(POST => "$loc/v1/tasks", token => $t,
                            json => { title => $title }), 201);
        ok $c;    # created
        ok t_cmp($c && $c->{user_id}, $user, "$alg $loc: user_id = sub");
        my $l = data_of(req(GET => "$loc/v1/tasks?q=" . $alg, token => $t), 200);
        ok $l;    # listed
        ok $l && grep { $_->{id} eq ($c && $c->{id}) } @{ $l->{tasks} };
        ok $l && !grep { $_->{user_id} ne $user } @{ $l->{tasks} };
    }

    # iss and aud are enforced: the same good token, another expectation.
    ok refused(req(GET => '/ba-otheraud/v1/tasks', token => $t),
               'audience mismatch');
    ok refused(req(GET => '/ba-otheriss/v1/tasks', token => $t),
               'issuer mismatch');
}

# ------------------------------------ session_data is no access token
# (a) session.cookieCache strategy "jwt": HS256 with BETTER_AUTH_SECRET,
#     the session and user objects as claims, but no sub/iss/aud.
{
    my ($h, $p) = jwt_parts($hs_session_data);
    t_debug('HS256 session_data header ' . $JSON->encode($h)
            . ' claim names ' . join(',', sort keys %$p));
    ok t_cmp($h->{alg}, 'HS256', 'session_data is HS256');
    ok !exists $p->{sub};
    ok t_cmp($p->{user}{id}, $user, 'session_data names the user inside');
    for my $loc (@JWKS_LOCS) {
        ok refused(req(GET => "$loc/v1/tasks", token => $hs_session_data),
                   'algorithm not allowed');
    }
    # With Better Auth's own secret the signature is good, yet it names no
    # user (no sub), so it is still refused ...
    ok refused(req(GET => '/ba-secret/v1/tasks', token => $hs_session_data),
               'missing user claim');
    # ... while Better Auth's HS256 signJWT of {sub} with the same secret
    # is accepted there: the secret is shared byte for byte.
    my $hs = ba_json(GET => '/control/hs256')->{token};
    my $c = data_of(req(POST => '/ba-secret/v1/tasks', token => $hs,
                        json => { title => 'interop HS256' }), 201);
    ok $c;
    ok t_cmp($c && $c->{user_id}, $user, 'HS256 user_id');
}
# (b) jwt({sessionCookieCache: true}): the plugin signs session_data with
#     its JWKS key; its typ (better-auth.session-cache+jwt) says it is no
#     access token, and mod_todo refuses it for that even where no audience
#     is configured (/ba-noaud), where its claims alone would pass.
{
    my $res = ba(GET => '/cookie-jwt/api/auth/get-session', Cookie => $cookie);
    ok t_cmp($res->code, 200, 'get-session (sessionCookieCache)');
    my $sd = session_data($res);
    my ($h, $p) = jwt_parts($sd);
    t_debug('JWKS session_data header ' . $JSON->encode($h)
            . ' iss ' . ($p->{iss} // '') . ' aud ' . ($p->{aud} // '')
            . ' sub ' . ($p->{sub} // ''));
    ok t_cmp($h->{typ}, 'better-auth.session-cache+jwt', 'session-cache typ');
    ok t_cmp($h->{kid}, $kid{EdDSA}, 'signed with the EdDSA JWKS key');
    ok t_cmp($p->{aud}, 'better-auth:session-cache', 'session-cache aud');
    ok t_cmp($p->{sub}, $user, 'session-cache sub');
    for my $loc (@JWKS_LOCS, '/ba-noaud') {
        ok refused(req(GET => "$loc/v1/tasks", token => $sd),
                   'not an access token (typ)');
    }
    # ... while a real access token is good there.
    ok data_of(req(GET => '/ba-noaud/v1/tasks', token => $token{EdDSA}), 200);
}

# ------------------------------------------------------- key rotation
# Better Auth creates a new EdDSA key (the plugin's createJwk); its JWKS
# endpoint publishes it next to the old one and /token signs with it.
my $old = $token{EdDSA};
# A second token of the old key that mod_todo has not seen (so not in its
# token cache): the same claims in a later second.
my $old2;
for (1 .. 30) {
    $old2 = eval { $JSON->decode(ba(GET => '/api/auth/token',
                                    Cookie => $cookie)->decoded_content)->{token} };
    last if $old2 && $old2 ne $old;
    sleep 0.1;
}
my $rot = ba_json(POST => '/control/rotate?alg=EdDSA');
ok $rot->{kid} && $rot->{kid} ne $kid{EdDSA};
my %after = map { $_->{kid} => 1 } @{ ba_json(GET => '/api/auth/jwks')->{keys} };
ok $after{ $rot->{kid} } && $after{ $kid{EdDSA} };
my $res = ba(GET => '/api/auth/token', Cookie => $cookie);
my $new = eval { $JSON->decode($res->decoded_content)->{token} };
my ($nh, $np) = jwt_parts($new);
ok t_cmp($nh->{kid}, $rot->{kid}, 'new token names the new kid');
ok t_cmp($nh->{alg}, 'EdDSA', 'new token is EdDSA');
ok t_cmp($np->{sub}, $user, 'new token sub');

# /ba-url refetches the JWKS on the unknown kid, at most once a second.
sleep 1.2;
my $c = data_of(req(POST => '/ba-url/v1/tasks', token => $new,
                    json => { title => 'interop rotated' }), 201);
ok $c;
ok t_cmp($c && $c->{user_id}, $user, 'rotated: user_id = sub');
ok t_cmp(req(GET => '/ba-url/v1/tasks', token => $new)->code, 200,
         'rotated token accepted by the JWKS URL location');
# The file was read at startup: it does not know the new kid.
$res = req(GET => '/ba-file/v1/tasks', token => $new);
ok refused($res, 'unknown key id');
ok t_cmp($res->header('WWW-Authenticate') // '', qr/^Bearer realm="todo", error="invalid_token"/,
         'RFC 6750 challenge');
# Tokens of the old key stay good: Better Auth still publishes it, and
# the refetched set has it.
ok t_cmp((jwt_parts($old2))[0]{kid}, $kid{EdDSA}, 'a second old-key token');
ok t_cmp(req(GET => '/ba-url/v1/tasks', token => $old2)->code, 200,
         'old EdDSA key, URL');
ok t_cmp(req(GET => '/ba-file/v1/tasks', token => $old2)->code, 200,
         'old EdDSA key, file');

# The same for ES256 (a second rotation, so a second refetch).
$rot = ba_json(POST => '/control/rotate?alg=ES256');
$res = ba(GET => '/es256/api/auth/token', Cookie => $cookie);
$new = eval { $JSON->decode($res->decoded_content)->{token} };
($nh) = jwt_parts($new);
ok t_cmp($nh->{kid}, $rot->{kid}, 'new ES256 token names the new kid');
ok t_cmp($nh->{alg}, 'ES256', 'new token is ES256');
sleep 1.2;
ok t_cmp(req(GET => '/ba-url/v1/tasks', token => $new)->code, 200,
         'rotated ES256 token accepted by the JWKS URL location');
ok refused(req(GET => '/ba-file/v1/tasks', token => $new), 'unknown key id');

# mod_todo logged why (LogLevel todo:debug/info).
my $log = Apache::Test::vars('serverroot') . '/logs/error_log';
open my $fh, '<', $log or die "$log: $!";
my @lines = <$fh>;
ok grep { m{401 for GET /ba-file/v1/tasks: unknown key id} } @lines;
ok !grep { index($_, $new) >= 0 } @lines;    # the token is never logged
