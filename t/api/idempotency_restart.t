# The retry client of docs/api.md §9 under graceful restarts: 16 clients
# create tasks over keep-alive connections, each with an Idempotency-Key,
# while Apache is gracefully restarted three times (as "apachectl -k
# graceful" does).  A request whose connection closes without an answer
# (keep-alive connections of the old children do), or that gets a 5xx or
# a 409, is sent again with its key until answered; and now and then a
# client hangs up right after sending, as if the answer were lost.  In
# the end: no client gave up, every acknowledged task exists, and no task
# exists twice.  Without the key, the resent requests whose first try had
# been written would be duplicates.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use HTTP::Response;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use TodoTest qw(:DEFAULT graceful_restart httpd_pid pg_quote pg_sql raw_request);

use constant CLIENTS => 16;
use constant SECONDS => 9;
use constant RESTARTS => 3;

plan tests => 7;

my $user = new_user('restart');
my $tok = token($user);
my $u = pg_quote($user);
my $port = (split /:/, Apache::TestRequest::hostport())[1];

# One keep-alive connection; send a request on it and read the answer
# (undef when the connection closed first, or nothing came in 20 s).
sub exchange {
    my ($conn, $text, $hang_up) = @_;
    $$conn //= IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                     Timeout => 10);
    my $s = $$conn or return undef;
    local $SIG{PIPE} = 'IGNORE';
    if (!defined syswrite($s, $text) || $hang_up) {
        close $s;
        undef $$conn;
        return undef;
    }
    my ($buf, $need) = ('', undef);
    my $sel = IO::Select->new($s);
    my $deadline = time + 20;
    while (time < $deadline) {
        if (!defined $need && (my $end = index($buf, "\r\n\r\n")) >= 0) {
            my ($len) = substr($buf, 0, $end) =~ /^Content-Length:\s*(\d+)/mi;
            $need = $end + 4 + ($len // 0);
        }
        last if defined $need && length $buf >= $need;
        $sel->can_read($deadline - time) or last;
        my $n = sysread $s, $buf, 65536, length $buf;
        last unless $n;
    }
    if (!defined $need || length $buf < $need) {
        close $s;
        undef $$conn;
        return undef;
    }
    my $res = HTTP::Response->parse(substr $buf, 0, $need);
    if (($res->header('Connection') // '') =~ /close/i) {
        close $s;
        undef $$conn;
    }
    return $res;
}

sub client {
    my ($n) = @_;
    srand($$ ^ time);
    my ($conn, $sent, $acked, $retries, $gave_up, $hung_up) = (undef, 0, 0, 0, 0, 0);
    my $end = time + SECONDS;
    while (time < $end) {
        my $title = "c$n-" . $sent++;
        my $text = raw_request(POST => '/api/v1/tasks', token => $tok,
                               json => { title => $title },
                               headers => ['Idempotency-Key' => "key-$title"]);
        $text =~ s/^Connection: close\r\n//m;    # keep-alive
        my $res;
        for my $try (1 .. 50) {
            my $hang = $try == 1 && rand() < 0.05;
            $hung_up++ if $hang;
            $res = exchange(\$conn, $text, $hang);
            last if $res && $res->code == 201;
            $retries++;
            $res = undef;
            sleep 0.05;
        }
        if (!$res) {
            $gave_up++;
            next;
        }
        my $id = eval { $JSON->decode($res->content)->{data}{id} } // '?';
        print "ack $title $id\n";
        $acked++;
    }
    print "stats $acked $retries $gave_up $hung_up\n";
}

my (@pids, @pipes);
for my $n (1 .. CLIENTS) {
    pipe my $r, my $w or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $r;
        select $w;
        $| = 1;
        client($n);
        require POSIX;
        POSIX::_exit(0);
    }
    close $w;
    push @pids, $pid;
    push @pipes, $r;
}

my $pid = httpd_pid();
my $restarted = 0;
for (1 .. RESTARTS) {
    sleep SECONDS / (RESTARTS + 1);
    $restarted++ if eval { graceful_restart(); 1 };
    t_debug("restart: $@") if $@;
}

my %acked;
my ($acks, $retries, $gave_up, $hung_up) = (0, 0, 0, 0);
for my $i (0 .. $#pids) {
    my $fh = $pipes[$i];
    while (my $line = <$fh>) {
        if ($line =~ /^ack (\S+) (\S+)/) {
            $acked{$1} = $2;
        }
        elsif ($line =~ /^stats (\d+) (\d+) (\d+) (\d+)/) {
            $acks += $1;
            $retries += $2;
            $gave_up += $3;
            $hung_up += $4;
        }
    }
    waitpid $pids[$i], 0;
}
t_debug("$acks acknowledged, $retries retries, $hung_up hung up on purpose");

ok t_cmp($restarted, RESTARTS, 'three graceful restarts');
ok t_cmp(httpd_pid(), $pid, 'of the same server');
ok t_cmp($gave_up, 0, 'no client-visible failure: every create was acknowledged in the end');
ok $acks > CLIENTS * 10 && $hung_up > 0;
my %stored = map { split /\|/ } split /\n/,
    pg_sql("SELECT title || '|' || id FROM tasks WHERE user_id = $u");
ok t_cmp([grep { ($stored{$_} // '') ne $acked{$_} } sort keys %acked], [],
         'every acknowledged task is there, with the id it was acknowledged with');
ok t_cmp(pg_sql("SELECT count(*) FROM (SELECT title FROM tasks WHERE user_id = $u"
                . " GROUP BY title HAVING count(*) > 1) d"), 0, 'no task twice');
ok t_cmp(scalar(keys %stored), scalar(keys %acked), 'and nothing else');
