# A configuration that cannot be safe stops "apache2 -t" with one line that
# names the directive; a sound one passes.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use File::Temp qw(tempdir);
use TodoTest;

my $keys = env_of('TODO_KEYS');
my $so = env_of('TODO_MODULE_SO');
my $good_secret = 'x' x 40;

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
);

plan tests => 2 * @bad + 2;

my $dir = tempdir(CLEANUP => 1);

sub configtest {
    my ($body) = @_;
    my $conf = "$dir/httpd.conf";
    open my $fh, '>', $conf or die $!;
    print $fh <<"CONF";
ServerRoot $dir
ServerName localhost
PidFile $dir/httpd.pid
ErrorLog $dir/error.log
Listen 127.0.0.1:1
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule dbd_module /usr/lib/apache2/modules/mod_dbd.so
LoadModule todo_module $so
DBDriver pgsql
<Location /api>
    SetHandler todo
$body
</Location>
CONF
    close $fh;
    my $out = `/usr/sbin/apache2 -t -f $conf 2>&1`;
    return ($? >> 8, $out);
}

for my $case (@bad) {
    my ($name, $body, $directive) = @$case;
    my ($rc, $out) = configtest($body);
    t_debug("$name: $out");
    ok $rc != 0;
    ok t_cmp($out, qr/\Q$directive\E/, "$name: the message names $directive");
}

my ($rc, $out) = configtest("TodoJWTSecret $good_secret");
ok t_cmp($rc, 0, 'a sound configuration passes');
ok t_cmp($out, qr/Syntax OK/, 'Syntax OK');
