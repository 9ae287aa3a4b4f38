# Database outages (docs/operations.md, "When the database goes away"),
# in an Apache of this suite's own (event MPM, two children, 32 threads
# and two pooled connections each) that reaches PostgreSQL over TCP,
# under 16 clients creating and listing tasks without pause:
#  - PostgreSQL stopped for 10 s: every answer is a success or a 503 with
#    Retry-After; the error log gains at most two lines per child (and, from
#    each child, one line when the database is back, with the count of
#    refused requests); while the database is away, connection attempts -- counted
#    by a listener the test puts on PostgreSQL's port -- come at most about
#    once a second per child; after the restart PostgreSQL's own log
#    (log_connections) shows no storm, only the pools filling again; every
#    client succeeds again within the backoff's cap and fails no more
#    after that; no acknowledged write is lost;
#  - the postmaster killed with kill -9 and restarted a second later
#    (crash recovery): the same, the writes acknowledged before the kill
#    all there;
#  - with no traffic, the first request after the database is back
#    succeeds.
# A request that gets no answer at all (the client library's own
# "Internal response": the connection was refused, reset or closed before
# an answer) is not one of the module's answers but the kernel's or
# Apache's doing -- unless a child crashed, which each section checks.
# Such requests are logged with status 0 and their reason, and may be at
# most 1 % of a section's requests.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use File::Temp qw(tempdir);
use HTTP::Request;
use IO::Socket::INET;
use LWP::UserAgent;
use POSIX ();
use Time::HiRes qw(sleep time);
use TodoTest qw(:DEFAULT own_httpd pg_sql ok_or_show);

use constant CLIENTS => 16;
use constant OUTAGE => 10;
use constant CHILDREN => 2;
# Fewer connections per child than the clients it serves (as Apache's
# own defaults have it: DBDMax 10, ThreadsPerChild 25): requests wait for
# a connection, and when the database goes away they must wait their
# turn ahead of the gate, not inside mod_dbd's pool, where each would be
# handed a broken connection and log a line (seen in CI with DBDMax 8).
use constant DBDMAX => 2;
# More threads in each child than there are clients: connections spread
# over the children as they happen to be accepted, and an event MPM child
# with no idle worker shuts the keep-alive connection whose next request
# arrives (docs/operations.md, "Choosing the MPM") -- the client sees a
# connection closed without an answer, Apache's doing, not the module's.
use constant THREADS => 2 * CLIENTS;

plan tests => 2 + 14 + 10 + 3;

my $pg_dir = env_of('TODO_PG_DIR');
my $pg_port = env_of('TODO_PG_PORT');
my $pg_log = "$pg_dir/postgres.log";
(my $tcp = env_of('TODO_DBD_PARAMS')) =~ s/\bhost=\S+/host=127.0.0.1/;
my $secret_file = env_of('TODO_SECRET_FILE');
my $work = tempdir(CLEANUP => 1);

my $db_down = 0;
my $listener = 0;
END {
    local $?;
    kill 'TERM', $listener if $listener;
    eval { pg_start() } if $db_down;
    eval { pg_sql('ALTER SYSTEM RESET log_connections; SELECT pg_reload_conf()') };
}
pg_sql('ALTER SYSTEM SET log_connections = on');
pg_sql('SELECT pg_reload_conf()');

my $h = own_httpd(mpm => 'event', dbd => $tcp, conf => <<"CONF");
StartServers @{[CHILDREN]}
ServerLimit @{[CHILDREN]}
ThreadLimit @{[THREADS]}
ThreadsPerChild @{[THREADS]}
MaxRequestWorkers @{[CHILDREN * THREADS]}
MinSpareThreads 1
MaxSpareThreads @{[CHILDREN * THREADS]}
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
DBDMin 0
DBDKeep @{[DBDMAX]}
DBDMax @{[DBDMAX]}
<Location /api>
    SetHandler todo
    Require all granted
    TodoJWTAlgorithms HS256
    TodoJWTSecretFile $secret_file
</Location>
CONF
my @kids = $h->{children}->();
ok t_cmp(scalar @kids, CHILDREN, 'two children');
my $ua = LWP::UserAgent->new(keep_alive => 1, timeout => 30);
ok t_cmp($ua->get($h->{url}->('/api/health'))->code, 200, 'healthy');

# ------------------------------------------------------------ the clients
# Each client creates a task and lists one, again and again, until the
# file "stop" exists; it writes every answer ("time method status
# retry-after") and every acknowledged task ("id title") to files of its
# own.
sub start_clients {
    my ($tag) = @_;
    unlink "$work/stop";
    my @pids;
    for my $c (1 .. CLIENTS) {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            my $u = LWP::UserAgent->new(keep_alive => 1, timeout => 30);
            my $tok = token("outage-$tag-$c");
            open my $log, '>', "$work/$tag-$c.log" or die $!;
            open my $acks, '>', "$work/$tag-$c.acks" or die $!;
            $log->autoflush(1);
            $acks->autoflush(1);
            my $n = 0;
            until (-e "$work/stop") {
                $n++;
                my $r = HTTP::Request->new(POST => $h->{url}->('/api/v1/tasks'));
                $r->header(Authorization => "Bearer $tok", 'Content-Type' => 'application/json');
                $r->content($JSON->encode({ title => "outage $tag $c $n" }));
                my $res = $u->request($r);
                printf $log "%.3f POST %d %s %s\n", time, status_of($res),
                    $res->header('Retry-After') // '-', why($res);
                if ($res->code == 201) {
                    my $d = json_ok($res);
                    print $acks "$d->{data}{id} outage $tag $c $n\n";
                }
                $r = HTTP::Request->new(GET => $h->{url}->('/api/v1/tasks?limit=1'));
                $r->header(Authorization => "Bearer $tok");
                $res = $u->request($r);
                printf $log "%.3f GET %d %s %s\n", time, status_of($res),
                    $res->header('Retry-After') // '-', why($res);
                sleep 0.02 if $res->code == 503;    # as a polite client would
            }
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    return @pids;
}

# The answer's status, or 0 when there was none (see the top).
sub status_of {
    my ($res) = @_;
    return ($res->header('Client-Warning') // '') eq 'Internal response' ? 0 : $res->code;
}

# What an answer other than a success or a 503 was, in one word: the
# error's code, or the client library's own reason (a 5xx it made up).
sub why {
    my ($res) = @_;
    return '-' if $res->code =~ /^2/ || $res->code == 503;
    my $code = eval { $JSON->decode($res->content)->{error}{code} };
    my $why = $code // ($res->header('X-Died') || $res->message || '?');
    return $why =~ s/\s+/_/gr;
}

sub stop_clients {
    my @pids = @_;
    open my $fh, '>', "$work/stop" or die $!;
    close $fh;
    waitpid $_, 0 for @pids;
}

# [time, method, status, retry-after] of every answer of a run, by client.
sub answers {
    my ($tag) = @_;
    my %a;
    for my $c (1 .. CLIENTS) {
        open my $fh, '<', "$work/$tag-$c.log" or die $!;
        $a{$c} = [map { [split] } <$fh>];
    }
    return \%a;
}

sub acknowledged {
    my ($tag) = @_;
    my @ids;
    for my $c (1 .. CLIENTS) {
        open my $fh, '<', "$work/$tag-$c.acks" or die $!;
        push @ids, map { (split)[0] } <$fh>;
    }
    return @ids;
}

# What a run's answers say, each item "client: method status why at
# seconds-from-restart": odd (neither a success nor a 503), no_retry (a 503
# without Retry-After), slow (no success within 2.5 s of the restart),
# flapping (a failure after that client's first success since the
# restart), no_answer (status 0); and how many requests there were.
sub verdicts {
    my ($tag, $t_up) = @_;
    my $ans = answers($tag);
    my %v = (requests => 0, map { $_ => [] } qw(odd no_retry slow flapping no_answer));
    for my $c (sort { $a <=> $b } keys %$ans) {
        my $first_ok;
        for my $x (@{ $ans->{$c} }) {
            my ($t, $m, $code, $ra, $why) = @$x;
            my $what = sprintf '%s: %s %s %s at %+.2f', $c, $m, $code, $why // '', $t - $t_up;
            $v{requests}++;
            if ($code == 0) {
                push @{ $v{no_answer} }, $what;
                next;
            }
            push @{ $v{odd} }, $what unless $code =~ /^2\d\d$/ || $code == 503;
            push @{ $v{no_retry} }, "$c: $m" if $code == 503 && $ra !~ /^\d+$/;
            next if $t < $t_up;
            $first_ok //= $t if $code =~ /^2/;
            push @{ $v{flapping} }, $what if defined $first_ok && $code !~ /^2/;
        }
        push @{ $v{slow} }, "$c: " . (defined $first_ok ? sprintf('%.2f s', $first_ok - $t_up) : 'never')
            unless defined $first_ok && $first_ok - $t_up < 2.5;
    }
    return \%v;
}

# Requests without an answer: no child crashed (the section's error log
# lines), and at most 1 %.
sub no_answer_rare {
    my ($v, $lines, $prefix, $diag_lines) = @_;
    my @crashed = grep { / exit signal / } @$lines;
    ok_or_show(\@crashed, [], "${prefix}no child crashed", $diag_lines);
    my $n = scalar @{ $v->{no_answer} };
    ok_or_show($n <= $v->{requests} / 100, 1,
               "${prefix}$n of $v->{requests} requests without an answer, at most 1 %",
               @{ $v->{no_answer} });
}

# How many of the ids are in the database.
sub stored {
    my @ids = @_;
    return 0 unless @ids;
    return pg_sql('SELECT count(*) FROM tasks WHERE id IN ('
                  . join(',', map { "'$_'" } @ids) . ')');
}

# Each child logs at most one TODO0210 per outage and at most one TODO0211
# after it.  (A child logs TODO0211 on its first request after the
# restart: one that happens to get none in the window -- the clients'
# keep-alive connections all went to the other child -- has not logged
# it yet.)  "ok", or what is wrong.
sub once_each {
    my ($lines) = @_;
    my (%lost, %back, @bad);
    for (@$lines) {
        my ($pid) = /\[pid (\d+):/ or next;
        if (/TODO0210:/) {
            push @bad, "$pid lost twice" if $lost{$pid}++;
        }
        elsif (/TODO0211:/) {
            push @bad, "$pid back twice" if $back{$pid}++;
            push @bad, "$pid back, never lost" unless $lost{$pid};
        }
    }
    return @bad ? join(', ', @bad) : 'ok';
}

sub file_size { -s $_[0] // 0 }
sub lines_from {
    my ($f, $offset) = @_;
    open my $fh, '<', $f or die "$f: $!";
    seek $fh, $offset, 0;
    return <$fh>;
}

# A stand-in on PostgreSQL's port while it is stopped: accepts and closes
# every connection, noting when.  Returns its pid.
sub start_listener {
    my ($file) = @_;
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $pg_port,
                                  Listen => 128, ReuseAddr => 1)
        or die "cannot listen on $pg_port: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open my $out, '>', $file or die $!;
        $out->autoflush(1);
        while (my $c = $s->accept) {
            printf $out "%.3f\n", time;
            close $c;
        }
        POSIX::_exit(0);
    }
    close $s;
    return $pid;
}

sub stop_listener {
    kill 'TERM', $listener;
    waitpid $listener, 0;
    $listener = 0;
}

# --------------------------------------------------- stopped for 10 seconds
my @clients = start_clients('stop');
sleep 2;
my $log_mark = file_size($h->{error_log});
my $t_stop = time;
pg_stop();
$db_down = 1;
$listener = start_listener("$work/attempts");
my $t_down = time;
sleep OUTAGE;
stop_listener();
my $t_up0 = time;
pg_start();
$db_down = 0;
my $t_up = time;
my $pg_mark = file_size($pg_log);
sleep 4;
stop_clients(@clients);
my $t_end = time;

my @lines = lines_from($h->{error_log}, $log_mark);
my @lost = grep { /TODO0210:/ } @lines;
my @back = grep { /TODO0211:/ } @lines;
my @other = grep { !/TODO0211:|TODO0202:|TODO0208:/ } @lines;
my $diag_lines = "error log during the outage:\n" . join('', @lines);
t_debug($diag_lines);
ok_or_show(scalar(@other) <= 2 * CHILDREN, 1,
           scalar(@other) . ' line(s) for the outage, at most two per child', $diag_lines);
ok_or_show(once_each(\@lines), 'ok',
           'each child said once that the database is lost, and once that it is back', $diag_lines);
ok t_cmp(scalar(@lost) >= 1 && scalar(@back) >= 1, 1, 'the outage was noticed and its end too');
my ($refused_total) = (0);
$refused_total += $_ for map { /; (\d+) request\(s\) were refused/ ? $1 : 0 } @back;
ok t_cmp($refused_total > 100, 1, "with the count of refused requests ($refused_total)");

open my $afh, '<', "$work/attempts" or die $!;
my @attempts = <$afh>;
my $secs = $t_up0 - $t_down;
t_debug(sprintf 'connection attempts while PostgreSQL was away: %d in %.1f s, %d children',
        scalar @attempts, $secs, CHILDREN);
ok t_cmp(scalar(@attempts) <= CHILDREN * ($secs + 2), 1,
         'connection attempts: at most about one a second per child (' . scalar(@attempts) . ')');
ok t_cmp(scalar(@attempts) >= CHILDREN * ($secs / 2), 1, 'and they do keep trying');

my @conns = grep { /connection received: host=127\.0\.0\.1/ } lines_from($pg_log, $pg_mark);
t_debug('connections PostgreSQL received after the restart: ' . scalar @conns);
ok t_cmp(scalar(@conns) <= CHILDREN * (DBDMAX + 3), 1,
         'no connection storm after the restart (' . scalar(@conns) . ')');

my $v = verdicts('stop', $t_up);
ok_or_show($v->{odd}, [], 'only successes and 503', $diag_lines);
ok t_cmp($v->{no_retry}, [], 'every 503 with Retry-After');
ok_or_show($v->{slow}, [], 'every client succeeds again within 2.5 s of the restart');
ok_or_show($v->{flapping}, [], 'and fails no more after its first success', $diag_lines);
no_answer_rare($v, \@lines, '', $diag_lines);
my @acks = acknowledged('stop');
ok t_cmp(stored(@acks), scalar @acks, scalar(@acks) . ' acknowledged writes, all stored');

# ------------------------------------------- the postmaster killed (kill -9)
@clients = start_clients('kill');
sleep 2;
$log_mark = file_size($h->{error_log});
open my $pidf, '<', "$pg_dir/data/postmaster.pid" or die $!;
chomp(my $pm = <$pidf>);
close $pidf;
my @backends = grep { /^\d+$/ } map { s/\s+//gr } `ps -o pid= --ppid $pm`;
my $t_kill = time;
kill 'KILL', $pm;
$db_down = 1;
# Its backends notice and exit; the new postmaster needs them gone.
wait_for(15, sub { !grep { kill 0, $_ } $pm, @backends });
sleep 0.1 while time < $t_kill + 1;
pg_start();    # crash recovery
$db_down = 0;
$t_up = time;
sleep 4;
stop_clients(@clients);

@lines = lines_from($h->{error_log}, $log_mark);
@other = grep { !/TODO0211:|TODO0202:|TODO0208:/ } @lines;
$diag_lines = "error log around the kill:\n" . join('', @lines);
t_debug($diag_lines);
ok_or_show(scalar(@other) <= 2 * CHILDREN, 1,
           scalar(@other) . ' line(s) for the crash, at most two per child', $diag_lines);
$v = verdicts('kill', $t_up);
ok_or_show($v->{odd}, [], 'kill -9: only successes and 503', $diag_lines);
ok_or_show($v->{slow}, [], 'kill -9: every client succeeds again within 2.5 s');
ok_or_show($v->{flapping}, [], 'kill -9: and fails no more', $diag_lines);
no_answer_rare($v, \@lines, 'kill -9: ', $diag_lines);
@acks = acknowledged('kill');
ok t_cmp(stored(@acks), scalar @acks, 'kill -9: ' . scalar(@acks) . ' acknowledged writes, all stored');
my @ok_before = grep { $_->[0] < $t_kill && $_->[2] == 201 } map { @$_ } values %{ answers('kill') };
ok t_cmp(scalar(@ok_before) > 0, 1, 'writes were acknowledged before the kill');
ok t_cmp(scalar(grep { /TODO0210:/ } @lines) >= 1 && scalar(grep { /TODO0211:/ } @lines) >= 1,
         1, 'kill -9: the loss was noticed, and its end');
ok_or_show(once_each(\@lines), 'ok', 'kill -9: once each, by each child', $diag_lines);

# ------------------------------------------------------- no traffic
# One request meets the outage and shuts its child's gate; the database
# comes back; with no request in between, the first one succeeds.
my $tok = token(new_user('quiet'));
sub list { my $r = HTTP::Request->new(GET => $h->{url}->('/api/v1/tasks'));
           $r->header(Authorization => "Bearer $tok"); $ua->request($r) }
pg_stop();
$db_down = 1;
my $t_req = time;
my $res = list();
ok t_cmp($res->code, 503, 'quiet: 503 while down');
pg_start();
$db_down = 0;
# (The backoff's first delays are short: by now they have passed.)
sleep 0.1 while time < $t_req + 1.3;
$res = list();
ok t_cmp($res->code, 200, 'quiet: the first request after the restart succeeds');
ok t_cmp($ua->get($h->{url}->('/api/health'))->code, 200, 'quiet: and so does the next');
