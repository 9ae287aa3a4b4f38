# Todo* directives at server and virtual-host level, and <Location>s with
# nothing but "SetHandler todo": such a location inherits keys and policy
# (it used to crash httpd at startup).  Needs its own httpd, since the
# shared test server must not get server-wide Todo* defaults; this one is
# started and stopped here.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use LWP::UserAgent;
use HTTP::Request;
use Time::HiRes qw(sleep time);
use TodoTest;

plan tests => 20;

my $so = env_of('TODO_MODULE_SO');
my $secret_file = env_of('TODO_SECRET_FILE');
my $dbd = env_of('TODO_DBD_PARAMS');
my $dir = tempdir(CLEANUP => 1);
mkdir "$dir/logs" or die "$dir/logs: $!";    # DefaultRuntimeDir

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1, ReuseAddr => 1)
        or die "no free port: $!";
    return $s->sockport;
}
my ($port, $vport) = (free_port(), free_port());
die "the same port twice" if $port == $vport;

open my $fh, '>', "$dir/httpd.conf" or die $!;
print $fh <<"CONF";
ServerRoot $dir
ServerName localhost
PidFile $dir/httpd.pid
ErrorLog $dir/error_log
LogLevel warn todo:info
Listen 127.0.0.1:$port
Listen 127.0.0.1:$vport
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule dbd_module /usr/lib/apache2/modules/mod_dbd.so
LoadModule todo_module $so
StartServers 1
DBDriver pgsql
DBDParams "$dbd"

TodoJWTAlgorithms HS256
TodoJWTSecretFile $secret_file
TodoJWTIssuer https://server.example.com

<Location /bare>
    SetHandler todo
    Require all granted
</Location>
<Location /own>
    SetHandler todo
    Require all granted
    TodoJWTLeeway 0
</Location>

<VirtualHost 127.0.0.1:$vport>
    TodoJWTIssuer https://vhost.example.com
    <Location /vbare>
        SetHandler todo
        Require all granted
    </Location>
</VirtualHost>
CONF
close $fh;

my $httpd = $ENV{TODO_HTTPD} || '/usr/sbin/apache2';
my $out = `$httpd -f $dir/httpd.conf -k start 2>&1`;
my $started = $? == 0;
t_debug("start: $out");
END {
    if ($started) {
        # -k start returns before the daemon has written its pid file.
        my $t0 = time;
        sleep 0.1 while !-f "$dir/httpd.pid" && time - $t0 < 10;
        system("$httpd -f $dir/httpd.conf -k stop >/dev/null 2>&1");
        $t0 = time;
        sleep 0.1 while -f "$dir/httpd.pid" && time - $t0 < 20;
    }
}
ok $started;

my $ua = LWP::UserAgent->new(timeout => 20);
sub get {
    my ($p, $path, $tok) = @_;
    my $r = HTTP::Request->new(GET => "http://127.0.0.1:$p$path");
    $r->header(Authorization => "Bearer $tok") if defined $tok;
    return $ua->request($r);
}

# Up: health answers (the server may need a moment after -k start).
my $up = wait_for(20, sub { get($port, '/bare/health')->code == 200 });
ok defined $up;

my $now = int(time);
sub tok { token(new_user('sd'), @_) }
my $srv = 'https://server.example.com';

my $res = get($port, '/bare/v1/tasks', tok(iss => $srv));
ok t_cmp($res->code, 200, 'bare location: server-wide keys and issuer');
$res = get($port, '/bare/v1/tasks', tok());
ok t_cmp($res->code, 401, 'bare location: the server-wide issuer applies');
ok t_cmp($res->header('WWW-Authenticate') // '',
         qr/error_description="issuer mismatch"/, 'issuer mismatch');
$res = get($port, '/bare/v1/tasks');
ok error_ok($res, 401, 'UNAUTHORIZED');
$res = get($port, '/bare/v1/tasks', tok(iss => $srv, exp => $now - 5));
ok t_cmp($res->code, 200, 'bare location: default leeway 30');
my $t = tok(iss => $srv);
$t =~ s/(.)$/$1 eq 'A' ? 'Q' : 'A'/e;
$res = get($port, '/bare/v1/tasks', $t);
ok t_cmp($res->code, 401, 'bare location: a tampered token');

$res = get($port, '/own/v1/tasks', tok(iss => $srv));
ok t_cmp($res->code, 200, 'own section: inherited keys and issuer');
$res = get($port, '/own/v1/tasks', tok(iss => $srv, exp => $now - 5));
ok t_cmp($res->code, 401, 'own section: its leeway 0 applies');
ok t_cmp($res->header('WWW-Authenticate') // '',
         qr/error_description="token expired"/, 'token expired');

my $vhost = 'https://vhost.example.com';
$res = get($vport, '/vbare/v1/tasks', tok(iss => $vhost));
ok t_cmp($res->code, 200, 'virtual host: its issuer, inherited keys');
$res = get($vport, '/vbare/v1/tasks', tok(iss => $srv));
ok t_cmp($res->code, 401, 'virtual host: the server issuer is not its own');
$res = get($vport, '/vbare/health');
ok t_cmp($res->code, 200, 'virtual host: health');

# A main-server location, reached through the virtual host: the host's
# defaults (its issuer) apply there, as to everything else it serves.
$res = get($vport, '/bare/v1/tasks', tok(iss => $vhost));
ok t_cmp($res->code, 200, 'server location via the virtual host: its issuer');
$res = get($vport, '/bare/v1/tasks', tok(iss => $srv));
ok t_cmp($res->code, 401, 'server location via the virtual host: not the server issuer');
ok t_cmp($res->header('WWW-Authenticate') // '',
         qr/error_description="issuer mismatch"/, 'issuer mismatch');
$res = get($port, '/bare/v1/tasks', tok(iss => $vhost));
ok t_cmp($res->code, 401, 'and the main server keeps its own issuer');

# The request id of a refusal is in that server's log with the reason.
$res = get($port, '/bare/v1/tasks', tok(iss => 'https://other.example.com'));
my $id = $res->header('X-Request-Id') // 'none';
open my $log, '<', "$dir/error_log" or die $!;
my @lines = grep { index($_, "[req $id]") >= 0 } <$log>;
ok t_cmp(scalar @lines, 1, 'one log line for the refusal');
ok t_cmp($lines[0] // '', qr/401 for GET \/bare\/v1\/tasks: issuer mismatch/,
         'it says why');
