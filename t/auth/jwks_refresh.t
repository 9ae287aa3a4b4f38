# A JWKS URL that goes down after the first load (a key-rotation outage at
# the issuer): requests whose kid the loaded keys know keep working, every
# failed refresh is a warning in the error log (TODO0105) -- at most one
# per refresh interval and process -- and the recovery a notice (TODO0106).
# The test serves the JWKS itself on 127.0.0.1:TODO_JWKS_PORT
# (t/conf/locations/jwksrefresh.conf) and takes it down and up again.
# One keep-alive connection carries every request, so that one child, with
# one key cache, answers them all.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep time);
use TodoTest;
use TodoTest qw(log_text);

my $keys = env_of('TODO_KEYS');
my $port = env_of('TODO_JWKS_PORT');
my $jwks = do {
    open my $fh, '<', "$keys/jwks.json" or die "$keys/jwks.json: $!";
    local $/;
    <$fh>;
};

# The JWKS server: a child process answering every request with the
# document, until it is killed.
my $server;
sub jwks_up {
    my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                       LocalPort => $port, Listen => 16,
                                       ReuseAddr => 1)
        or die "cannot listen on 127.0.0.1:$port: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        while (my $c = $listen->accept) {
            while (my $line = <$c>) {
                last if $line =~ /^\r?\n\z/;
            }
            print $c "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"
                . "Content-Length: " . length($jwks) . "\r\n\r\n$jwks";
            close $c;
        }
        POSIX::_exit(0);
    }
    close $listen;
    $server = $pid;
}
sub jwks_down {
    return unless $server;
    local $?;                  # waitpid must not set the test's exit status
    kill 'KILL', $server;
    waitpid $server, 0;
    undef $server;
}
END { jwks_down() }

sub ed {
    my ($kid) = @_;
    return signed_token(alg => 'EdDSA', key => "$keys/ed25519.key.pem",
                        header => { alg => 'EdDSA', kid => $kid },
                        payload => { sub => 'erin', exp => int(time) + 3600 });
}

sub count { my ($re) = @_; my @m = log_text('error_log') =~ /$re/g; scalar @m }

plan tests => 12;

my $known = ed('ed-1');
my $unknown = ed('rotated-1');
my $warn_re = qr/\[todo:warn\][^\n]*TODO0105: JWKS URL http:\/\/127\.0\.0\.1:$port\/jwks\.json: JWKS fetch failed/;
my $back_re = qr/\[todo:notice\][^\n]*TODO0106: JWKS URL http:\/\/127\.0\.0\.1:$port\/jwks\.json: fetched again after \d+ failed fetch/;
my $warned0 = count($warn_re);
my $back0 = count($back_re);

jwks_up();
my $res = req(GET => '/jwksurl/v1/tasks', token => $known);
ok t_cmp($res->code, 200, 'the JWKS loads; a known kid is accepted');

# Allowed warnings since $since: one per refresh interval begun (a loaded
# machine may take longer than an interval for a loop of requests).
my $interval = 2;              # TodoJWKSRefreshInterval of jwksrefresh.conf
sub allowed { my ($since) = @_; 1 + int((time - $since) / $interval) }

jwks_down();
sleep $interval + 0.2;         # past the refresh interval
my $t_fail = time;
$res = req(GET => '/jwksurl/v1/tasks', token => $unknown);
t_debug('an unknown kid with the issuer down: refetch fails, 401');
ok error_ok($res, 401, 'UNAUTHORIZED');
ok t_cmp(count($warn_re) - $warned0, 1, 'the failed refresh is a warning');
ok t_cmp(log_text('error_log'),
         qr/TODO0105: [^\n]*still verifying with the 5 key\(s\) loaded/,
         'it says the loaded keys are still in use');

# Known kids keep working; more unknown kids within the interval neither
# fetch nor log again.
my $all_ok = 1;
for (1 .. 5) {
    $all_ok &&= req(GET => '/jwksurl/v1/tasks', token => $known)->code == 200;
    req(GET => '/jwksurl/v1/tasks', token => $unknown);
}
t_debug('known kids keep working while the issuer is down');
ok $all_ok;
my $warned = count($warn_re) - $warned0;
t_debug("warnings: $warned, allowed: " . allowed($t_fail));
ok $warned >= 1 && $warned <= allowed($t_fail);    # one per interval

sleep $interval + 0.2;
$res = req(GET => '/jwksurl/v1/tasks', token => $unknown);
ok t_cmp($res->code, 401, 'the next refresh fails too');
$warned = count($warn_re) - $warned0;
t_debug("warnings: $warned, allowed: " . allowed($t_fail));
ok $warned >= 2 && $warned <= allowed($t_fail);    # ... and is logged again
my @runs = log_text('error_log') =~ /TODO0105: [^\n]*?(\d+) failed fetch\(es\) in a row/g;
ok t_cmp(($runs[-1] // 0) >= 2, 1, 'with the count of failures');

jwks_up();
sleep $interval + 0.2;
$res = req(GET => '/jwksurl/v1/tasks', token => $unknown);
ok t_cmp($res->code, 401, 'the issuer is back; the kid is still unknown');
ok t_cmp(count($back_re) - $back0, 1, 'the recovery is a notice');
ok t_cmp(req(GET => '/jwksurl/v1/tasks', token => $known)->code, 200,
         'known kids work after the recovery');
