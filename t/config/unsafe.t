# A configuration that cannot be safe stops "apache2 -t" with one line that
# names the directive; a sound one passes.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use File::Temp qw(tempdir);
use MIME::Base64 qw(encode_base64 decode_base64url);
use TodoTest qw(:DEFAULT apache_configtest);

my $keys = env_of('TODO_KEYS');
my $so = env_of('TODO_MODULE_SO');
my $good_secret = 'x' x 40;
my $dir = tempdir(CLEANUP => 1);

# ------------------------------------------------ crafted key material
sub put {
    my ($name, $text) = @_;
    open my $fh, '>:raw', "$dir/$name" or die "$dir/$name: $!";
    print $fh $text;
    close $fh;
    return "$dir/$name";
}

sub der_len {
    my $l = shift;
    return chr($l) if $l < 128;
    my $b = '';
    while ($l) { $b = chr($l & 255) . $b; $l >>= 8 }
    return chr(0x80 | length $b) . $b;
}
sub der_int {
    my $b = shift;
    $b = "\0$b" if ord($b) & 0x80;
    return "\x02" . der_len(length $b) . $b;
}

my $jwks = $JSON->decode(do {
    open my $fh, '<', "$keys/jwks.json" or die $!; local $/; <$fh> });
my ($rsa_jwk) = grep { $_->{kid} eq 'rsa-1' } @{ $jwks->{keys} };
my ($ed_jwk) = grep { $_->{kid} eq 'ed-1' } @{ $jwks->{keys} };

# The test RSA modulus with exponent 1: every message is its own
# signature under it, so it would accept tokens forged by anybody.
my $e1_der = der_int(decode_base64url($rsa_jwk->{n})) . der_int("\x01");
$e1_der = "\x30" . der_len(length $e1_der) . $e1_der;
my $e1_pem = put('rsa-e1.pem', "-----BEGIN RSA PUBLIC KEY-----\n"
    . join("\n", unpack '(A64)*', encode_base64($e1_der, ''))
    . "\n-----END RSA PUBLIC KEY-----\n");
my $e1_jwks = put('rsa-e1.jwks', $JSON->encode(
    { keys => [{ %$rsa_jwk, e => 'AQ' }] }));
my $oct_jwks = put('oct.jwks', $JSON->encode(
    { keys => [{ kty => 'oct', kid => 'hmac', k => 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA' }] }));
my $enc_jwks = put('enc.jwks', $JSON->encode(
    { keys => [{ %$ed_jwk, use => 'enc' }] }));
my $empty_jwks = put('empty.jwks', '{"keys":[]}');
my $rsa_jwks = put('rsa.jwks', $JSON->encode({ keys => [$rsa_jwk] }));
my $empty_file = put('empty.secret', '');
my $nl_file = put('newline.secret', "\n");

# [name, body of <Location /api>, directive expected in the message]
my @bad = (
    ['short secret', "TodoJWTSecret 0123456789", 'TodoJWTSecret'],
    ['31-byte secret', 'TodoJWTSecret ' . ('s' x 31), 'TodoJWTSecret'],
    ['undefined variable', 'TodoJWTSecret ${TODO_NOT_DEFINED_ANYWHERE_AT_ALL_12345}', 'TodoJWTSecret'],
    ['no key at all', 'TodoJWTAlgorithms HS256', 'TodoJWTAlgorithms'],
    ['lower-case alg', "TodoJWTAlgorithms hs256\nTodoJWTSecret $good_secret", 'TodoJWTAlgorithms'],
    ['alg none', "TodoJWTAlgorithms none\nTodoJWTSecret $good_secret", 'TodoJWTAlgorithms'],
    ['unknown alg', "TodoJWTAlgorithms PS256\nTodoJWTSecret $good_secret", 'TodoJWTAlgorithms'],
    ['ES256 without a key', "TodoJWTAlgorithms HS256 ES256\nTodoJWTSecret $good_secret", 'TodoJWTAlgorithms'],
    ['HS256 with only a PEM', "TodoJWTAlgorithms HS256\nTodoJWTPublicKeyFile $keys/rsa2048.pub.pem", 'TodoJWTAlgorithms'],
    ['unreadable PEM', "TodoJWTAlgorithms RS256\nTodoJWTPublicKeyFile /nonexistent/key.pem", 'TodoJWTPublicKeyFile'],
    ['invalid PEM', "TodoJWTAlgorithms RS256\nTodoJWTPublicKeyFile " . __FILE__, 'TodoJWTPublicKeyFile'],
    ['unreadable secret file', "TodoJWTSecretFile /nonexistent/secret", 'TodoJWTSecretFile'],
    ['invalid JWKS', "TodoJWTAlgorithms EdDSA\nTodoJWKSFile " . __FILE__, 'TodoJWKSFile'],
    ['file: JWKS URL', "TodoJWTAlgorithms EdDSA\nTodoJWKSURL file:///etc/passwd", 'TodoJWKSURL'],
    ['leeway 301', "TodoJWTSecret $good_secret\nTodoJWTLeeway 301", 'TodoJWTLeeway'],
    ['foreign 500', "TodoJWTSecret $good_secret\nTodoForeignTaskStatus 500", 'TodoForeignTaskStatus'],
    ['page size 0', "TodoJWTSecret $good_secret\nTodoPageSize 0 10", 'TodoPageSize'],
    ['CORS wildcard', "TodoJWTSecret $good_secret\nTodoCORSOrigins *", 'TodoCORSOrigins'],
    ['body size 10', "TodoJWTSecret $good_secret\nTodoMaxBodySize 10", 'TodoMaxBodySize'],
    # TodoRateLimit requests seconds [burst], or off.
    ['rate limit without seconds', "TodoJWTSecret $good_secret\nTodoRateLimit 100", 'TodoRateLimit'],
    ['rate limit of 0 requests', "TodoJWTSecret $good_secret\nTodoRateLimit 0 60", 'TodoRateLimit'],
    ['rate limit over 0 seconds', "TodoJWTSecret $good_secret\nTodoRateLimit 100 0", 'TodoRateLimit'],
    ['rate limit over more than a day', "TodoJWTSecret $good_secret\nTodoRateLimit 100 86401", 'TodoRateLimit'],
    ['rate limit of too many requests', "TodoJWTSecret $good_secret\nTodoRateLimit 1000001 60", 'TodoRateLimit'],
    ['rate limit with burst 0', "TodoJWTSecret $good_secret\nTodoRateLimit 100 60 0", 'TodoRateLimit'],
    ['rate limit with a huge burst', "TodoJWTSecret $good_secret\nTodoRateLimit 100 60 100001", 'TodoRateLimit'],
    ['rate limit with a unit', "TodoJWTSecret $good_secret\nTodoRateLimit 100 60s", 'TodoRateLimit'],
    ['rate limit negative', "TodoJWTSecret $good_secret\nTodoRateLimit -5 60", 'TodoRateLimit'],
    ['rate limit with four numbers', "TodoJWTSecret $good_secret\nTodoRateLimit 1 2 3 4", 'TodoRateLimit'],
    ['rate limit off with numbers', "TodoJWTSecret $good_secret\nTodoRateLimit off 60", 'TodoRateLimit'],
    ['idempotency retention 0', "TodoJWTSecret $good_secret\nTodoIdempotencyRetention 0", 'TodoIdempotencyRetention'],
    ['idempotency retention with a unit', "TodoJWTSecret $good_secret\nTodoIdempotencyRetention 1d", 'TodoIdempotencyRetention'],
    ['idempotency retention over ten years', "TodoJWTSecret $good_secret\nTodoIdempotencyRetention 315360001", 'TodoIdempotencyRetention'],
    ['negative tombstone retention', "TodoJWTSecret $good_secret\nTodoTombstoneRetention -1", 'TodoTombstoneRetention'],
    ['tombstone retention as words', "TodoJWTSecret $good_secret\nTodoTombstoneRetention thirty-days", 'TodoTombstoneRetention'],
    ['tombstone retention over ten years', "TodoJWTSecret $good_secret\nTodoTombstoneRetention 99999999999", 'TodoTombstoneRetention'],
    # Key material that is unusable or unsafe.
    ['RSA 1024 PEM', "TodoJWTAlgorithms RS256\nTodoJWTPublicKeyFile $keys/rsa1024.pub.pem", 'TodoJWTPublicKeyFile'],
    ['RSA private key as public key', "TodoJWTAlgorithms RS256\nTodoJWTPublicKeyFile $keys/rsa2048.key.pem", 'TodoJWTPublicKeyFile'],
    ['EC private key as public key', "TodoJWTAlgorithms ES256\nTodoJWTPublicKeyFile $keys/ecp256.key.pem", 'TodoJWTPublicKeyFile'],
    ['Ed25519 private key as public key', "TodoJWTAlgorithms EdDSA\nTodoJWTPublicKeyFile $keys/ed25519.key.pem", 'TodoJWTPublicKeyFile'],
    ['secp256k1 PEM', "TodoJWTAlgorithms ES256\nTodoJWTPublicKeyFile $keys/secp256k1.pub.pem", 'TodoJWTPublicKeyFile'],
    ['X25519 PEM', "TodoJWTAlgorithms EdDSA\nTodoJWTPublicKeyFile $keys/x25519.pub.pem", 'TodoJWTPublicKeyFile'],
    ['RSA PEM with exponent 1', "TodoJWTAlgorithms RS256\nTodoJWTPublicKeyFile $e1_pem", 'TodoJWTPublicKeyFile'],
    ['P-384 PEM for ES256', "TodoJWTAlgorithms ES256\nTodoJWTPublicKeyFile $keys/ecp384.pub.pem", 'TodoJWTAlgorithms'],
    ['RSA PEM for EdDSA', "TodoJWTAlgorithms EdDSA\nTodoJWTPublicKeyFile $keys/rsa2048.pub.pem", 'TodoJWTAlgorithms'],
    ['JWKS without keys', "TodoJWTAlgorithms EdDSA\nTodoJWKSFile $empty_jwks", 'TodoJWKSFile'],
    ['JWKS of HMAC (oct) keys only', "TodoJWTAlgorithms HS256\nTodoJWKSFile $oct_jwks", 'TodoJWKSFile'],
    ['JWKS of encryption keys only', "TodoJWTAlgorithms EdDSA\nTodoJWKSFile $enc_jwks", 'TodoJWKSFile'],
    ['JWKS with an RSA exponent of 1', "TodoJWTAlgorithms RS256\nTodoJWKSFile $e1_jwks", 'TodoJWKSFile'],
    ['JWKS without a key for ES256', "TodoJWTAlgorithms RS256 ES256\nTodoJWKSFile $rsa_jwks", 'TodoJWTAlgorithms'],
    ['HS256 with a JWKS only', "TodoJWTAlgorithms HS256\nTodoJWKSFile $keys/jwks.json", 'TodoJWTAlgorithms'],
    ['HS256 with a JWKS URL only', "TodoJWTAlgorithms HS256\nTodoJWKSURL https://auth.example.com/jwks", 'TodoJWTAlgorithms'],
    # Public key material as the HMAC secret: anybody could sign.
    ['RSA public PEM as the secret', "TodoJWTSecretFile $keys/rsa2048.pub.pem", 'TodoJWTSecretFile'],
    ['EC public PEM as the secret', "TodoJWTSecretFile $keys/ecp256.pub.pem", 'TodoJWTSecretFile'],
    ['JWKS as the secret', "TodoJWTSecretFile $keys/jwks.json", 'TodoJWTSecretFile'],
    ['empty secret file', "TodoJWTSecretFile $empty_file", 'TodoJWTSecretFile'],
    ['secret file of one newline', "TodoJWTSecretFile $nl_file", 'TodoJWTSecretFile'],
    ['secret file a directory', "TodoJWTSecretFile $dir", 'TodoJWTSecretFile'],
    ['undefined variable inside the secret', 'TodoJWTSecret production-secret-${TODO_NOT_DEFINED_ANYWHERE_AT_ALL_12345}', 'TodoJWTSecret'],
    ['two secrets in one section', "TodoJWTSecret $good_secret\nTodoJWTSecretFile " . env_of('TODO_SECRET_FILE'), 'TodoJWTSecretFile'],
    # Policy values.
    ['none among good algorithms', "TodoJWTAlgorithms HS256 none\nTodoJWTSecret $good_secret", 'TodoJWTAlgorithms'],
    ['empty algorithm list', "TodoJWTAlgorithms\nTodoJWTSecret $good_secret", 'TodoJWTAlgorithms'],
    ['empty issuer', "TodoJWTSecret $good_secret\nTodoJWTIssuer \"\"", 'TodoJWTIssuer'],
    ['empty audience', "TodoJWTSecret $good_secret\nTodoJWTAudience \"\"", 'TodoJWTAudience'],
    ['empty user claim', "TodoJWTSecret $good_secret\nTodoJWTUserClaim \"\"", 'TodoJWTUserClaim'],
    ['leeway with a unit', "TodoJWTSecret $good_secret\nTodoJWTLeeway 30s", 'TodoJWTLeeway'],
    ['negative leeway', "TodoJWTSecret $good_secret\nTodoJWTLeeway -1", 'TodoJWTLeeway'],
    ['JWKS URL without a host', "TodoJWTAlgorithms EdDSA\nTodoJWKSURL https:///jwks", 'TodoJWKSURL'],
    ['JWKS URL over ftp', "TodoJWTAlgorithms EdDSA\nTodoJWKSURL ftp://auth.example.com/jwks", 'TodoJWKSURL'],
);

# [name, configuration after the modules, directive expected]: sections
# that give SetHandler todo no literal prefix.
my @bad_raw = (
    ['SetHandler todo in <LocationMatch>',
     "<LocationMatch \"^/api\">\nSetHandler todo\nTodoJWTSecret $good_secret\n</LocationMatch>",
     'SetHandler todo'],
    ['SetHandler todo in <Location ~>',
     "<Location ~ \"^/api\">\nSetHandler todo\nTodoJWTSecret $good_secret\n</Location>",
     'SetHandler todo'],
    ['SetHandler todo in <Directory>',
     "<Directory \"$dir\">\nSetHandler todo\nTodoJWTSecret $good_secret\n</Directory>",
     'SetHandler todo'],
    ['keys only in another location',
     "<Location /keys>\nTodoJWTSecret $good_secret\n</Location>\n<Location /api>\nSetHandler todo\n</Location>",
     'TodoJWTAlgorithms'],
    ['server-wide HS256, location with a PEM only',
     "TodoJWTAlgorithms HS256\n<Location /api>\nSetHandler todo\nTodoJWTPublicKeyFile $keys/rsa2048.pub.pem\n</Location>",
     'TodoJWTAlgorithms'],
    ['a virtual host allowing RS256 with no RSA key, for a server location',
     "TodoJWTSecret $good_secret\n<Location /api>\nSetHandler todo\n</Location>\n"
     . "<VirtualHost 127.0.0.1:1>\nTodoJWTAlgorithms RS256\n</VirtualHost>",
     'TodoJWTAlgorithms'],
    ['a virtual host without keys',
     "<VirtualHost 127.0.0.1:1>\n<Location /api>\nSetHandler todo\n</Location>\n</VirtualHost>",
     'TodoJWTAlgorithms'],
    # Todo* directives act on a todo location (or as server defaults):
    # one in any other section would be silently ignored, so it is refused.
    ['a Todo* directive in a location nested in a todo location',
     "<Location /api>\nSetHandler todo\nTodoJWTSecret $good_secret\n</Location>\n"
     . "<Location /api/v1/tasks>\nTodoMaxBodySize 1000\n</Location>",
     'TodoMaxBodySize: has no effect in <Location /api/v1/tasks'],
    ['a Todo* directive in a <Directory>',
     "<Location /api>\nSetHandler todo\nTodoJWTSecret $good_secret\n</Location>\n"
     . "<Directory \"$dir\">\nTodoJWTLeeway 10\n</Directory>",
     'TodoJWTLeeway: has no effect'],
);

# Sound configurations with every kind of key material.
my @good = (
    ['a secret', "TodoJWTSecret $good_secret"],
    ['retentions', "TodoJWTSecret $good_secret\nTodoIdempotencyRetention 1\n"
     . "TodoTombstoneRetention 315360000"],
    ['every algorithm and key type',
     "TodoJWTAlgorithms HS256 HS384 HS512 RS256 RS384 RS512 ES256 ES384 ES512 EdDSA\n"
     . "TodoJWTSecret $good_secret\n"
     . "TodoJWTPublicKeyFile $keys/rsa2048.rsapub.pem rsa\n"
     . "TodoJWTPublicKeyFile $keys/ecp256.pub.pem\n"
     . "TodoJWTPublicKeyFile $keys/ecp384.pub.pem\n"
     . "TodoJWTPublicKeyFile $keys/ecp521.pub.pem\n"
     . "TodoJWTPublicKeyFile $keys/ed25519.pub.pem"],
    ['a JWKS file', "TodoJWTAlgorithms RS256 ES256 ES384 ES512 EdDSA\nTodoJWKSFile $keys/jwks.json"],
    ['a JWKS URL', "TodoJWTAlgorithms EdDSA ES256 RS256\nTodoJWKSURL https://auth.example.com/api/auth/jwks"],
    ['a rate limit', "TodoJWTSecret $good_secret\nTodoRateLimit 100 60"],
    ['a rate limit with a burst', "TodoJWTSecret $good_secret\nTodoRateLimit 1000000 86400 100000"],
    ['a rate limit off', "TodoJWTSecret $good_secret\nTodoRateLimit off"],
);

# Sound configurations with the keys at server or virtual-host level and
# nothing but SetHandler in the <Location> (this used to crash httpd).
my @good_raw = (
    ['server-wide keys, a bare location',
     "TodoJWTSecret $good_secret\n<Location /api>\nSetHandler todo\n</Location>"],
    ['server-wide keys, a bare location in a virtual host',
     "TodoJWTAlgorithms EdDSA\nTodoJWTPublicKeyFile $keys/ed25519.pub.pem\n"
     . "<VirtualHost 127.0.0.1:1>\n<Location /api>\nSetHandler todo\n</Location>\n</VirtualHost>"],
    ['virtual-host keys, a bare location',
     "<VirtualHost 127.0.0.1:1>\nTodoJWTSecret $good_secret\n<Location /api>\nSetHandler todo\n</Location>\n</VirtualHost>"],
    ['a server-wide rate limit, a metrics location',
     "TodoJWTSecret $good_secret\nTodoRateLimit 100 60\n<Location /api>\nSetHandler todo\n</Location>\n"
     . "<Location /metrics>\nSetHandler todo-metrics\n</Location>"],
);

plan tests => 2 * @bad + 2 * @bad_raw + 2 * @good + 2 * @good_raw + 2;

sub configtest {
    my ($body) = @_;
    return configtest_raw("<Location /api>\n    SetHandler todo\n$body\n</Location>");
}

sub configtest_raw {
    my ($body) = @_;
    return apache_configtest($dir, $so, $body);
}

for my $case (@bad) {
    my ($name, $body, $directive) = @$case;
    my ($rc, $out) = configtest($body);
    t_debug("$name: $out");
    ok $rc != 0;
    ok t_cmp($out, qr/\Q$directive\E/, "$name: the message names $directive");
}

for my $case (@bad_raw) {
    my ($name, $body, $directive) = @$case;
    my ($rc, $out) = configtest_raw($body);
    t_debug("$name: $out");
    ok $rc != 0;
    ok t_cmp($out, qr/\Q$directive\E/, "$name: the message names $directive");
}

for my $case (@good) {
    my ($name, $body) = @$case;
    my ($rc, $out) = configtest($body);
    ok t_cmp($rc, 0, "$name: passes");
    ok t_cmp($out, qr/Syntax OK/, "$name: Syntax OK");
}

for my $case (@good_raw) {
    my ($name, $body) = @$case;
    my ($rc, $out) = configtest_raw($body);
    ok t_cmp($rc, 0, "$name: passes");
    ok t_cmp($out, qr/Syntax OK/, "$name: Syntax OK");
}

# The refusal is one line: the message names the directive and nothing of
# the secret material.
my ($rc, $out) = configtest("TodoJWTSecretFile $keys/rsa2048.pub.pem");
my @lines = grep { /TodoJWTSecretFile/ } split /\n/, $out;
ok t_cmp(scalar @lines, 1, 'one line names the directive');
ok $out !~ /MII/;    # no key material in the message
