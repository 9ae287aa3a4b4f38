# TodoRateLimit (docs/api.md §6.4, docs/operations.md "Rate limiting"),
# in an Apache of this suite's own with several prefork children: a user
# over budget gets 429 TOO_MANY_REQUESTS with Retry-After and the
# RateLimit headers while another user is unaffected; every answer to a
# user carries the headers, a location without the directive none; the
# budget holds across children (a burst of concurrent requests from many
# connections, served by several children, is granted exactly the
# bucket, and requests over a window never get more than requests +
# burst); and the check does not touch PostgreSQL (with it stopped a user
# over budget still gets 429, not 503).
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use HTTP::Request;
use IO::Socket::INET;
use LWP::UserAgent;
use POSIX ();
use Time::HiRes qw(sleep time);
use TodoTest qw(:DEFAULT own_httpd raw_request);

plan tests => 21;

my $secret_file = env_of('TODO_SECRET_FILE');
my $h = own_httpd(mpm => 'prefork', conf => <<"CONF");
StartServers 6
MinSpareServers 6
MaxSpareServers 12
ServerLimit 16
MaxRequestWorkers 16
KeepAlive Off
LogLevel warn todo:info
TodoJWTAlgorithms HS256
TodoJWTSecretFile $secret_file
<Location /api>
    SetHandler todo
    Require all granted
</Location>
# 5 an hour: no token comes back during the test.
<Location /slow>
    SetHandler todo
    Require all granted
    TodoRateLimit 5 3600
</Location>
# 20 every 2 s, bursts of 5.
<Location /fast>
    SetHandler todo
    Require all granted
    TodoRateLimit 20 2 5
</Location>
CONF

my $ua = LWP::UserAgent->new(keep_alive => 0, timeout => 30);
sub get {
    my ($path, $t) = @_;
    my $r = HTTP::Request->new(GET => $h->{url}->($path));
    $r->header(Authorization => "Bearer $t") if defined $t;
    return $ua->request($r);
}
sub headers_of {
    my ($res) = @_;
    return [map { $res->header($_) // '-' }
            qw(RateLimit-Limit RateLimit-Remaining RateLimit-Reset)];
}

# ------------------------------------------------------- one user, another
my ($alice, $bob) = (token(new_user('alice')), token(new_user('bob')));
my @rem;
for (1 .. 5) {
    my $res = get('/slow/v1/tasks', $alice);
    push @rem, $res->code . ':' . join('/', @{ headers_of($res) });
}
ok t_cmp(\@rem, [map { "200:5/$_/" . (3600 * (5 - $_) / 5) } 4, 3, 2, 1, 0],
         'five granted, with Limit, Remaining and Reset (until full again)');
my $res = get('/slow/v1/tasks', $alice);
ok error_ok($res, 429, 'TOO_MANY_REQUESTS');
ok t_cmp($res->header('Retry-After') // '', '720', 'Retry-After: until a token is back');
ok t_cmp(headers_of($res), [5, 0, 3600], 'and the RateLimit headers');
ok t_cmp($res->header('X-Request-Id') // '', qr/^[0-9a-f]+$/, 'the envelope as usual');
$res = get('/slow/v1/tasks', $bob);
ok t_cmp([$res->code, @{ headers_of($res) }], [200, 5, 4, 720], 'another user is unaffected');
# Every answer to a user carries them, errors too; 401 has no user.
$res = get('/slow/v1/tasks/not-a-uuid', $bob);
ok t_cmp([$res->code, @{ headers_of($res) }], [422, 5, 3, 1440], 'on an error too');
$res = get('/slow/v1/tasks');
ok t_cmp([$res->code, @{ headers_of($res) }], [401, '-', '-', '-'], 'none without a user');
$res = get('/api/v1/tasks', $alice);
ok t_cmp([$res->code, @{ headers_of($res) }], [200, '-', '-', '-'],
         'none where the directive is not set (off by default)');
# The log says why, at info.
my $id = get('/slow/v1/tasks', $alice)->header('X-Request-Id') // 'none';
ok t_cmp(scalar(grep { /TODO0310: \[req \Q$id\E\] 429 for GET/ } read_lines($h->{error_log})),
         1, 'TODO0310 names the request');

# ------------------------------------------------- across children, at once
# 40 requests of one user on 40 connections at the same time: prefork
# serves them in several processes, which all draw on one bucket.
my $carol = new_user('carol');
my @texts = map { raw_request(GET => '/slow/v1/tasks', token => token($carol)) } 1 .. 40;
my @res = exchange(\@texts);
my %codes;
$codes{$_->code}++ for @res;
ok t_cmp(\%codes, { 200 => 5, 429 => 35 }, 'exactly the bucket is granted, no more');
my %pids = served_by('/slow/v1/tasks', 40);
t_debug('served by ' . join(' ', map { "$_($pids{$_})" } sort keys %pids));
ok t_cmp(scalar(keys %pids) >= 2, 1, 'by several children');

# ------------------------------------------------------- over a window
# 20 requests every 2 s with bursts of 5: 8 clients as fast as they can
# for 1.9 s get at most 5 + 20 (and, hammering, most of that).
my $dave = token(new_user('dave'));
my $dur = 1.9;
pipe my $rd, my $wr or die $!;
my @kids;
my $t0 = time + 0.5;
for my $c (1 .. 8) {
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $rd;
        my $u = LWP::UserAgent->new(keep_alive => 1, timeout => 10);
        my ($ok, $no, $other) = (0, 0, 0);
        sleep 0.001 while time < $t0;
        while (time < $t0 + $dur) {
            my $r = HTTP::Request->new(GET => $h->{url}->('/fast/v1/tasks'));
            $r->header(Authorization => "Bearer $dave");
            my $code = $u->request($r)->code;
            $code == 200 ? $ok++ : $code == 429 ? $no++ : $other++;
        }
        print $wr "$ok $no $other\n";
        close $wr;
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
close $wr;
my ($granted, $refused, $other) = (0, 0, 0);
while (<$rd>) {
    my @n = split;
    $granted += $n[0];
    $refused += $n[1];
    $other += $n[2];
}
waitpid $_, 0 for @kids;
t_debug("window of $dur s: $granted granted, $refused refused, $other other");
ok t_cmp($other, 0, 'only 200 and 429');
ok t_cmp($granted <= 5 + 20, 1, "at most requests + burst granted ($granted)");
ok t_cmp($granted >= 15, 1, 'and the budget is really spent');
ok t_cmp($refused > 0, 1, 'the rest refused');

# ------------------------------------------------------- without the database
# The check needs nothing of PostgreSQL: a user over budget is refused
# 429 while it is down; one within budget meets the outage (503).
my $db_down = 0;
END { local $?; eval { pg_start() } if $db_down }
pg_stop();
$db_down = 1;
$res = get('/slow/v1/tasks', $alice);
ok t_cmp($res->code, 429, 'database down: a user over budget still gets 429');
ok t_cmp($res->header('Retry-After') // '', qr/^\d+$/, 'with Retry-After');
$res = get('/slow/v1/tasks', token(new_user('erin')));
ok t_cmp($res->code, 503, 'database down: a user within budget meets the outage');
pg_start();
$db_down = 0;
ok defined wait_for(10, sub { get('/slow/v1/tasks', token(new_user('frank')))->code == 200 });

$res = $ua->get($h->{url}->('/api/health'));
ok t_cmp($res->code, 200, 'healthy after the restart');

sub read_lines {
    my ($f) = @_;
    open my $fh, '<', $f or die "$f: $!";
    return <$fh>;
}

# The child pids that served the last n requests of path (access log).
sub served_by {
    my ($path, $n) = @_;
    my %p;
    wait_for(5, sub { grep({ (split)[3] eq $path } read_lines($h->{access_log})) >= $n });
    my @l = grep { (split)[3] eq $path } read_lines($h->{access_log});
    $p{(split)[0]}++ for @l[-$n .. -1];
    return %p;
}

# raw_exchange against this server's port.
sub exchange {
    my ($texts) = @_;
    my @socks;
    for my $t (@$texts) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $h->{port})
            or die "connect: $!";
        $s->autoflush(1);
        print $s substr($t, 0, -1);
        push @socks, $s;
    }
    print {$socks[$_]} substr($texts->[$_], -1) for 0 .. $#socks;
    return map {
        my $s = $_;
        local $/;
        my $raw = <$s>;
        close $s;
        HTTP::Response->parse($raw // '');
    } @socks;
}
