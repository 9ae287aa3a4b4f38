# Hostile tokens: every one is refused with 401, the JSON envelope
# (UNAUTHORIZED) and an RFC 6750 challenge; the reason is logged at
# todo:info with the request id; neither the response nor the log ever
# repeats the token.  Locations: t/conf/extra.conf.in (/api) and
# t/conf/locations/auth.conf.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use Digest::SHA qw(hmac_sha256);
use HTTP::Request;
use LWP::UserAgent;
use MIME::Base64 qw(encode_base64);
use TodoTest;
use TodoTest qw(log_text b64u_decode);

my $keys = env_of('TODO_KEYS');
my $now = int(time);
my $hs_header = b64u('{"alg":"HS256","typ":"JWT"}');

# ------------------------------------------------------------ builders

# Claims of a well-formed token for user "mallory", changed by %over
# (undef removes a claim).
sub claims {
    my %c = (sub => 'mallory', iat => $now, exp => $now + 3600, @_);
    delete $c{$_} for grep { !defined $c{$_} } keys %c;
    return \%c;
}

# HS* token with the test secret (or $o{secret}).
sub hs {
    my ($payload, %o) = @_;
    my $header = $o{header} // { alg => $o{alg} // 'HS256', typ => 'JWT' };
    return hs_token($header, $payload, %o);
}

sub file_text {
    my $f = shift;
    open my $fh, '<:raw', $f or die "$f: $!";
    local $/;
    return scalar <$fh>;
}

# Token signed by jwt-sign with the private key t/data/keys/<name>.key.pem.
sub pk {
    my ($alg, $name, $payload, %header) = @_;
    return signed_token(alg => $alg, key => "$keys/$name.key.pem",
                        header => { alg => $alg, typ => 'JWT', %header },
                        payload => $payload);
}

# Replace segment $i of a token.
sub with_segment {
    my ($tok, $i, $seg) = @_;
    my @s = split /\./, $tok, -1;
    $s[$i] = $seg;
    return join '.', @s;
}

sub sig_bytes { b64u_decode((split /\./, $_[0], -1)[2]) }

sub flip_sig {
    my $tok = shift;
    my $sig = sig_bytes($tok);
    substr($sig, 0, 1) = chr(ord(substr $sig, 0, 1) ^ 0x01);
    return with_segment($tok, 2, b64u($sig));
}

sub truncate_sig {
    my ($tok, $n) = @_;
    return with_segment($tok, 2, b64u(substr sig_bytes($tok), 0, $n));
}

# A valid HS256 token whose text holds both '-' and '_', so that turning
# it into the standard alphabet changes it for sure.
sub url_alphabet_token {
    for my $i (1 .. 1000) {
        my $t = hs(claims(jti => "n$i"));
        return $t if $t =~ /-/ && $t =~ /_/;
    }
    die "no token with both - and _ found";
}

# An HS256 token over the segments exactly as given (however encoded).
sub hs_raw {
    my ($h, $p) = @_;
    return "$h.$p." . b64u(hmac_sha256("$h.$p", secret()));
}

# Padding ('=') on the payload segment; the MAC covers the padded text,
# so only a strict decoder refuses it.
sub padded_token {
    for my $i (1 .. 100) {
        my $p = $JSON->encode(claims(jti => "p$i"));
        next unless length($p) % 3;
        return hs_raw($hs_header, encode_base64($p, ''));
    }
    die "no payload length to pad";
}

# The standard alphabet ('+', '/') in the payload segment, signed as sent.
sub std_alphabet_token {
    for my $i (1 .. 1000) {
        my $p = $JSON->encode(claims(jti => "s$i", x => "\x{3ff}?>"));
        (my $e = encode_base64($p, '')) =~ s/=+\z//;
        return hs_raw($hs_header, $e) if $e =~ m{[+/]};
    }
    die "no payload with + or / in base64";
}

# A valid HS256 token between $min and $max bytes long.
sub sized_hs {
    my ($min, $max) = @_;
    # the claims around pad take well under 200 bytes of the token
    for my $n (($min > 400 ? int(($min - 400) * 3 / 4) : 0) .. $max) {
        my $t = hs(claims(pad => 'p' x $n));
        return $t if length $t >= $min && length $t <= $max;
        last if length $t > $max;
    }
    die "no token of $min-$max bytes";
}

my $rsa_pem = file_text("$keys/rsa2048.pub.pem");
my $rsa_pkcs1 = file_text("$keys/rsa2048.rsapub.pem");
my $ec_pem = file_text("$keys/ecp256.pub.pem");
my $jwks = file_text("$keys/jwks.json");
(my $rsa_pem_nonl = $rsa_pem) =~ s/\n\z//;
my $other_secret = 'another-secret-of-more-than-32-bytes-0123456789';

my $good = hs(claims());
my $long_sub = 'u' x 300;

# [name, location, token sent as "Bearer <token>" (a reference: the whole
#  Authorization header instead; undef: none), expected error_description
#  (undef: no bearer token sent), expected log reason (default: the same)]
my @cases = (
    # --- no usable credential
    ['no Authorization header', 'api', undef, undef, 'no bearer token'],
    ['Basic scheme', 'api', \('Basic ' . encode_base64('mallory:secret', '')),
     undef, 'authorization scheme is not Bearer'],
    # The scheme's name is case-insensitive (RFC 7235): a bad token after
    # "bearer" is judged as a token (t/api/http_edges.t: a good one works).
    ['lower-case scheme bearer, bad token', 'api', \"bearer x.y.z",
     'malformed token'],
    ['upper-case scheme BEARER, bad token', 'api',
     \("BEARER " . hs(claims(), secret => $other_secret)), 'bad signature'],
    ['scheme glued to the token', 'api', \"Bearer$good", undef,
     'authorization scheme is not Bearer'],
    ['empty bearer credential', 'api', \'Bearer ', 'empty token'],
    ['bearer credential of spaces', 'api', \'Bearer     ', 'empty token'],

    # --- alg none and friends
    ['alg none, unsigned', 'api',
     hs(claims(), header => { alg => 'none', typ => 'JWT' }) =~ s/[^.]+\z//r,
     'malformed token'],
    ['alg none, with a signature', 'api',
     hs(claims(), header => { alg => 'none' }), 'unsupported algorithm'],
    ['alg None', 'api', hs(claims(), header => { alg => 'None' }),
     'unsupported algorithm'],
    ['alg NONE', 'api', hs(claims(), header => { alg => 'NONE' }),
     'unsupported algorithm'],
    ['alg none on a key location', 'rs',
     hs(claims(), header => { alg => 'none' }), 'unsupported algorithm'],

    # --- algorithm confusion
    ['HS256 keyed with the RSA public PEM (mixed)', 'mixed',
     hs(claims(), secret => $rsa_pem), 'bad signature'],
    ['HS256 keyed with the RSA PEM minus its newline (mixed)', 'mixed',
     hs(claims(), secret => $rsa_pem_nonl), 'bad signature'],
    ['HS256 keyed with the PKCS#1 RSA PEM (mixed)', 'mixed',
     hs(claims(), secret => $rsa_pkcs1), 'bad signature'],
    ['HS256 keyed with the EC public PEM (mixed)', 'mixed',
     hs(claims(), secret => $ec_pem), 'bad signature'],
    ['HS256 keyed with the RSA public PEM (rs)', 'rs',
     hs(claims(), secret => $rsa_pem), 'algorithm not allowed'],
    ['HS256 keyed with the EC public PEM (es256)', 'es256',
     hs(claims(), secret => $ec_pem), 'algorithm not allowed'],
    ['HS256 keyed with the JWKS text (jwks)', 'jwks',
     hs(claims(), secret => $jwks), 'algorithm not allowed'],
    ['RS256 where only HS* is allowed', 'api',
     pk('RS256', 'rsa2048', claims()), 'algorithm not allowed'],
    ['EdDSA where only HS* is allowed', 'api',
     pk('EdDSA', 'ed25519', claims()), 'algorithm not allowed'],
    ['RS256 header over an HMAC signature (mixed)', 'mixed',
     hs(claims(), header => { alg => 'RS256' }), 'bad signature'],
    ['ES256 where only ES384 is allowed', 'es384',
     pk('ES256', 'ecp256', claims()), 'algorithm not allowed'],
    ['ES384 header, signed with the P-256 key', 'es384',
     signed_token(alg => 'ES256', key => "$keys/ecp256.key.pem",
                  header => { alg => 'ES384' }, payload => claims()),
     'bad signature'],
    ['ES256 header, signed with P-384 (jwks, kid ec256-1)', 'jwks',
     signed_token(alg => 'ES384', key => "$keys/ecp384.key.pem",
                  header => { alg => 'ES256', kid => 'ec256-1' },
                  payload => claims()), 'bad signature'],
    ['RS256 signed with an unconfigured RSA key', 'rs',
     pk('RS256', 'rsa1024', claims()), 'bad signature'],
    ['own key embedded in the header (jwk, jku, x5u)', 'rs',
     pk('RS256', 'rsa1024', claims(),
        jwk => { kty => 'RSA', n => 'AQAB', e => 'AQAB' },
        jku => 'https://evil.example/jwks.json',
        x5u => 'https://evil.example/cert.pem'), 'bad signature'],

    # --- algorithm names
    ['lower-case hs256', 'api', hs(claims(), header => { alg => 'hs256' }),
     'unsupported algorithm'],
    ['mixed-case Hs256', 'api', hs(claims(), header => { alg => 'Hs256' }),
     'unsupported algorithm'],
    ['alg PS256', 'rs',
     signed_token(alg => 'RS256', key => "$keys/rsa2048.key.pem",
                  header => { alg => 'PS256' }, payload => claims()),
     'unsupported algorithm'],
    ['alg missing', 'api', hs(claims(), header => { typ => 'JWT' }),
     'missing alg'],
    ['alg a number', 'api', hs(claims(), header => '{"alg":256}'),
     'unsupported algorithm'],
    ['alg null', 'api', hs(claims(), header => '{"alg":null}'),
     'unsupported algorithm'],
    ['alg an array', 'api', hs(claims(), header => '{"alg":["HS256"]}'),
     'unsupported algorithm'],
    ['alg twice (HS256, none)', 'api',
     hs(claims(), header => '{"alg":"HS256","alg":"none"}'),
     'malformed token'],
    ['HS384 header over an HS256 MAC', 'api',
     with_segment(hs(claims(), header => { alg => 'HS384' }), 2,
                  (split /\./, hs(claims()))[2]), 'bad signature'],

    # --- signatures
    ['HS256 signature bit flipped', 'api', flip_sig($good), 'bad signature'],
    ['RS256 signature bit flipped', 'rs',
     flip_sig(pk('RS256', 'rsa2048', claims())), 'bad signature'],
    ['ES256 signature bit flipped', 'es256',
     flip_sig(pk('ES256', 'ecp256', claims())), 'bad signature'],
    ['ES512 signature bit flipped', 'es512',
     flip_sig(pk('ES512', 'ecp521', claims())), 'bad signature'],
    ['EdDSA signature bit flipped', 'ed',
     flip_sig(pk('EdDSA', 'ed25519', claims())), 'bad signature'],
    ['payload changed after signing', 'api',
     with_segment($good, 1, b64u('{"exp":' . ($now + 3600) . ',"sub":"admin"}')),
     'bad signature'],
    ['HS256 signature truncated', 'api', truncate_sig($good, 16),
     'bad signature'],
    ['HS256 signature one byte short', 'api', truncate_sig($good, 31),
     'bad signature'],
    ['RS256 signature truncated', 'rs',
     truncate_sig(pk('RS256', 'rsa2048', claims()), 128), 'bad signature'],
    ['ES256 signature truncated', 'es256',
     truncate_sig(pk('ES256', 'ecp256', claims()), 63), 'bad signature'],
    ['signature empty', 'api', $good =~ s/[^.]+\z//r, 'malformed token'],
    ['HS256 signed with another secret', 'api',
     hs(claims(), secret => $other_secret), 'bad signature'],

    # --- shape and encoding
    ['two segments', 'api', join('.', (split /\./, $good)[0, 1]),
     'malformed token'],
    ['four segments', 'api', "$good." . (split /\./, $good)[2],
     'malformed token'],
    ['one segment', 'api', 'notatokenatall', 'malformed token'],
    ['dots only', 'api', '..', 'malformed token'],
    ['padded base64 (=)', 'api', "$good=", 'malformed token'],
    ['padded payload, signed as sent', 'api', padded_token(),
     'malformed token'],
    ['standard alphabet (+ /)', 'api', url_alphabet_token() =~ tr{-_}{+/}r,
     'malformed token'],
    ['standard alphabet, signed as sent', 'api', std_alphabet_token(),
     'malformed token'],
    ['whitespace inside the token', 'api', $good =~ s/\./. /r,
     'malformed token'],
    ['header not JSON', 'api', hs(claims(), header => 'alg: HS256'),
     'malformed token'],
    ['header a JSON array', 'api', hs(claims(), header => '["HS256"]'),
     'malformed token'],
    ['payload not JSON (signed)', 'api', hs('sub=mallory'),
     'malformed token'],
    ['payload a JSON array (signed)', 'api', hs('[{"sub":"mallory"}]'),
     'malformed token'],
    ['payload a JSON string (signed)', 'api', hs('"mallory"'),
     'malformed token'],
    ['token of 16 KiB', 'api', sized_hs(16384, 16385), 'token too long'],
    ['token of 8193-8194 bytes', 'api', sized_hs(8193, 8194),
     'token too long'],

    # --- exp
    ['exp an hour ago', 'api', hs(claims(exp => $now - 3600)),
     'token expired'],
    ['exp just outside the leeway', 'api', hs(claims(exp => $now - 31)),
     'token expired'],
    ['exp one second ago, no leeway', 'exact', hs(claims(exp => $now - 1)),
     'token expired'],
    ['exp missing', 'api', hs(claims(exp => undef)), 'missing exp'],
    ['exp a float', 'api',
     hs(sprintf '{"exp":%d.0,"sub":"mallory"}', $now + 3600),
     'exp is not an integer'],
    ['exp a fraction', 'api',
     hs(sprintf '{"exp":%d.5,"sub":"mallory"}', $now + 3600),
     'exp is not an integer'],
    ['exp a string', 'api',
     hs(sprintf '{"exp":"%d","sub":"mallory"}', $now + 3600),
     'exp is not an integer'],
    ['exp null', 'api', hs('{"exp":null,"sub":"mallory"}'),
     'exp is not an integer'],
    ['exp true', 'api', hs('{"exp":true,"sub":"mallory"}'),
     'exp is not an integer'],
    ['exp 1e300', 'api', hs('{"exp":1e300,"sub":"mallory"}'),
     'exp is not an integer'],
    ['exp beyond int64', 'api',
     hs('{"exp":99999999999999999999,"sub":"mallory"}'), 'malformed token'],
    ['exp the most negative int64', 'api',
     hs('{"exp":-9223372036854775808,"sub":"mallory"}'), 'token expired'],

    # --- nbf, iat
    ['nbf in an hour', 'api', hs(claims(nbf => $now + 3600)),
     'token not yet valid'],
    ['nbf just beyond the leeway', 'api', hs(claims(nbf => $now + 60)),
     'token not yet valid'],
    ['nbf a string', 'api',
     hs(sprintf '{"exp":%d,"nbf":"%d","sub":"mallory"}', $now + 3600, $now),
     'nbf is not an integer'],
    ['iat in an hour', 'api', hs(claims(iat => $now + 3600)),
     'token issued in the future'],
    ['iat a float', 'api',
     hs(sprintf '{"exp":%d,"iat":%d.5,"sub":"mallory"}', $now + 3600, $now),
     'iat is not an integer'],

    # --- iss, aud (/strict wants https://issuer.example.com and todo-api)
    ['iss wrong', 'strict',
     hs(claims(iss => 'https://evil.example.com', aud => 'todo-api')),
     'issuer mismatch'],
    ['iss missing', 'strict', hs(claims(aud => 'todo-api')),
     'issuer mismatch'],
    ['iss with a trailing slash', 'strict',
     hs(claims(iss => 'https://issuer.example.com/', aud => 'todo-api')),
     'issuer mismatch'],
    ['iss an array', 'strict',
     hs(claims(iss => ['https://issuer.example.com'], aud => 'todo-api')),
     'issuer mismatch'],
    ['aud wrong', 'strict',
     hs(claims(iss => 'https://issuer.example.com', aud => 'other-api')),
     'audience mismatch'],
    ['aud an array without ours', 'strict',
     hs(claims(iss => 'https://issuer.example.com',
               aud => ['other-api', 'todo-api-2'])), 'audience mismatch'],
    ['aud missing', 'strict',
     hs(claims(iss => 'https://issuer.example.com')), 'audience mismatch'],
    ['aud an empty array', 'strict',
     hs(claims(iss => 'https://issuer.example.com', aud => [])),
     'audience mismatch'],
    ['aud a prefix of ours', 'strict',
     hs(claims(iss => 'https://issuer.example.com', aud => 'todo')),
     'audience mismatch'],

    # --- the user claim
    ['sub missing', 'api', hs(claims(sub => undef)), 'missing user claim'],
    ['sub empty', 'api', hs(claims(sub => '')), 'invalid user claim'],
    ['sub an integer', 'api',
     hs(sprintf '{"exp":%d,"sub":42}', $now + 3600), 'invalid user claim'],
    ['sub null', 'api', hs(sprintf '{"exp":%d,"sub":null}', $now + 3600),
     'invalid user claim'],
    ['sub an object', 'api', hs(claims(sub => { id => 'mallory' })),
     'invalid user claim'],
    ['sub of 256 bytes', 'api', hs(claims(sub => 'u' x 256)),
     'invalid user claim'],
    ['sub of 300 bytes', 'api', hs(claims(sub => $long_sub)),
     'invalid user claim'],
    ['sub with a control character', 'api', hs(claims(sub => "mal\nlory")),
     'invalid user claim'],
    ['uid missing where the user claim is uid', 'claim', hs(claims()),
     'missing user claim'],

    # --- kid
    ['unknown kid', 'jwks', pk('ES256', 'ecp256', claims(), kid => 'nope'),
     'unknown key id'],
    ['kid with path characters', 'jwks',
     pk('ES256', 'ecp256', claims(), kid => '../../etc/passwd'),
     'unknown key id'],
    ['kid of another key type', 'jwks',
     pk('ES256', 'ecp256', claims(), kid => 'rsa-1'), 'unknown key id'],
    ['kid a number', 'jwks', pk('ES256', 'ecp256', claims(), kid => 1),
     'invalid key id'],
    ['kid empty', 'jwks', pk('ES256', 'ecp256', claims(), kid => ''),
     'invalid key id'],
    ['kid of 300 bytes', 'jwks',
     pk('ES256', 'ecp256', claims(), kid => 'k' x 300), 'invalid key id'],
    ['kid other than the PEM is bound to', 'rskid',
     pk('RS256', 'rsa2048', claims(), kid => 'other-rsa'), 'unknown key id'],

    # --- crit
    ['crit header', 'api',
     hs(claims(), header => { alg => 'HS256', crit => ['exp'] }),
     'unsupported critical header'],
    ['crit header, empty list', 'api',
     hs(claims(), header => { alg => 'HS256', crit => [] }),
     'unsupported critical header'],
    ['crit header with an extension', 'ed',
     pk('EdDSA', 'ed25519', claims(), crit => ['b64'], b64 => JSON::PP::false),
     'unsupported critical header'],
);

plan tests => 5 * @cases + 9;

sub challenge_ok {
    my ($res, $desc) = @_;
    my @www = $res->header('WWW-Authenticate');
    return 0 unless @www == 1;
    my $w = $www[0];
    if (!defined $desc) {
        return $w eq 'Bearer realm="todo"';
    }
    return $w eq qq{Bearer realm="todo", error="invalid_token", }
               . qq{error_description="$desc"};
}

# The pieces of a credential that must never come back: all of it and
# each of its dot-separated parts, when long enough to be telling.
sub secrets_of {
    my $cred = shift;
    return () unless defined $cred;
    (my $c = $cred) =~ s/^\S+\s+//;
    return grep { length >= 12 } ($cred, $c, split /\./, $c);
}

# The Authorization header of a case.
sub header_of {
    my $t = shift;
    return undef unless defined $t;
    return ref $t ? $$t : "Bearer $t";
}

my $ua = LWP::UserAgent->new(keep_alive => 1, timeout => 30);
my @ids;
for my $case (@cases) {
    my ($name, $loc, $tok, $desc) = @$case;
    my $auth = header_of($tok);
    my $r = HTTP::Request->new(GET => api("/$loc/v1/tasks"));
    $r->header(Accept => 'application/json');
    $r->header(Authorization => $auth) if defined $auth;
    my $res = $ua->request($r);
    push @ids, $res->header('X-Request-Id') // '';
    t_debug("$name: " . $res->status_line . ' '
            . ($res->header('WWW-Authenticate') // '-'));
    ok t_cmp($res->code, 401, "$name: 401")
        && error_ok($res, 401, 'UNAUTHORIZED');
    ok challenge_ok($res, $desc);
    my $text = $res->as_string;
    ok !grep { index($text, $_) >= 0 } secrets_of($auth);
}

# The request id lands on the line that says why; the token never does.
my $log = log_text('error_log');
for my $i (0 .. $#cases) {
    my ($name, $loc, $tok, $desc, $why) = @{ $cases[$i] };
    my $auth = header_of($tok);
    $why //= $desc;
    my $id = $ids[$i];
    my @lines = grep { index($_, "[req $id]") >= 0 } split /\n/, $log;
    my $seen = length($id) && grep {
        /\[todo:info\]/ && index($_, "401 for GET /$loc/v1/tasks: $why") >= 0
    } @lines;
    t_debug("$name: no info line with [req $id] and '$why'") unless $seen;
    ok $seen;
    ok !grep { index($log, $_) >= 0 } secrets_of($auth);
}

# Positive controls for /strict: the same claims done right pass.
my $iss = 'https://issuer.example.com';
my $res = req(GET => '/strict/v1/tasks',
              token => hs(claims(iss => $iss, aud => 'todo-api')));
ok t_cmp($res->code, 200, 'iss and aud (a string) right: 200');
$res = req(GET => '/strict/v1/tasks',
           token => hs(claims(iss => $iss, aud => ['other-api', 'todo-api'])));
ok t_cmp($res->code, 200, 'aud an array containing ours: 200');
$res = req(GET => '/strict/v1/tasks',
           token => hs(claims(iss => $iss, aud => 'todo-api',
                              exp => int(time) - 20)));
ok t_cmp($res->code, 200, 'exp within the leeway of 30: 200');

# The refused and the public: a public route needs no token, and a bad
# token there is not even looked at.
$res = req(GET => '/rs/health');
ok t_cmp($res->code, 200, 'health without a token');
$res = req(GET => '/rs/health', token => 'garbage');
ok t_cmp($res->code, 200, 'health ignores a bad token');

# Two Authorization headers (httpd joins them): refused.
my $r2 = HTTP::Request->new(GET => api('/api/v1/tasks'));
$r2->push_header(Authorization => "Bearer $good");
$r2->push_header(Authorization => "Bearer $good");
$res = $ua->request($r2);
ok error_ok($res, 401, 'UNAUTHORIZED');
ok challenge_ok($res, 'malformed token');

# A token in the query string is not a bearer credential here.
$res = req(GET => "/api/v1/tasks?access_token=$good");
ok error_ok($res, 401, 'UNAUTHORIZED');
ok challenge_ok($res, undef);
