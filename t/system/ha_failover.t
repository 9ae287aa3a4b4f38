# mod_todo through a failover of PostgreSQL (SPEC section 11), with
# pg_auto_failover as Debian packages it (postgresql-NN-auto-failover,
# pg-auto-failover-cli): a monitor and two data nodes on this machine,
# synchronous replication (pg_auto_failover's default: the primary's
# commits wait for the standby), all on ports below 32768 and run as the
# unprivileged user.  mod_todo's DBDParams name both nodes with
# target_session_attrs=read-write, as docs/ha.md tells.
#
# While 16 clients create tasks, (a) a switchover ("pg_autoctl perform
# switchover") and then (b) a crash: the primary's postmaster killed with
# SIGKILL together with its pg_autoctl (nothing restarts it: a dead
# machine), the monitor fails over to the standby.  For each: no answer
# but 201 or 503 (with Retry-After); every acknowledged write (201) is on
# the new primary (0 lost); once the new primary takes writes, mod_todo
# serves writes again within a few seconds, the same Apache (no restart).
# Every attempt of a logical write carries the same Idempotency-Key
# (docs/api.md §9): a write that committed but was answered 503 is
# replayed when retried, so no task is stored twice.
# The figures (503s, time to recover) are printed, never asserted.
#
# The monitor's failure detection is shortened (TODO_HA_MONITOR_DEFAULTS=1
# keeps pg_auto_failover's defaults: about 20 s more before a crash is
# acted on); the test takes a minute or two.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use DBI;
use HTTP::Tiny;
use POSIX ();
use Time::HiRes qw(time sleep);
use TodoSystem;

use constant CLIENTS => 16;
use constant PAUSE => 0.05;       # a client's pause between two writes
use constant RETRY => 0.1;        # and before trying a refused one again
use constant GRACE => 5;          # "within a few seconds" of the new primary
# Sent with every create: the same key for every attempt of one logical
# write (0: without, to see the duplicates a retry makes then).
use constant IDEMPOTENCY_KEYS => 1;

plan tests => 23;

my $W = work_dir('ha');
my $user = user_name();
my $bin = pg_bin();
my %env = (XDG_RUNTIME_DIR => "$W/run", XDG_CONFIG_HOME => "$W/config",
           XDG_DATA_HOME => "$W/share", PGHOST => $W);
run_user('mkdir', '-p', map { "$W/$_" } qw(run config share clients));
my ($pm, $http) = (low_port(), low_port());
my %port = (node1 => low_port(), node2 => low_port());
my $monitor = "postgres://autoctl_node\@127.0.0.1:$pm/pg_auto_failover?sslmode=disable";
my $password = join '', map { ('a' .. 'z', 0 .. 9)[rand 36] } 1 .. 24;

sub autoctl { capture_user({ env => \%env }, 'pg_autoctl', @_) }
my %group;                        # node => process group of "pg_autoctl run"
sub autoctl_run {
    my ($name) = @_;
    $group{$name} = spawn_user({ env => \%env, log => "$W/$name.autoctl.log" },
                               'pg_autoctl', 'run', '--pgdata', "$W/$name");
}

# The formation as the monitor sees it: node name => [reported, assigned].
sub states {
    my $out = eval { autoctl('show', 'state', '--monitor', $monitor, '--json') } // '[]';
    my $nodes = eval { $JSON->decode($out) } || [];
    return map { $_->{nodename} => [$_->{reported_group_state} // $_->{current_group_state} // '',
                                    $_->{assigned_group_state} // ''] } @$nodes;
}
sub state_is {
    my (%want) = @_;
    my %s = states();
    for my $n (keys %want) {
        return 0 unless $s{$n} && $s{$n}[0] =~ /^(?:$want{$n})$/ && $s{$n}[0] eq $s{$n}[1];
    }
    return 1;
}
sub show_state { scalar eval { autoctl('show', 'state', '--monitor', $monitor) } // $@ }
sub wait_state {
    my ($secs, %want) = @_;
    my $t = wait_for($secs, sub { state_is(%want) }, 0.5);
    diag "formation after waiting for @{[%want]}:\n" . show_state() unless defined $t;
    return $t;
}

# Diagnostics for a failure, before the work directory goes.
sub logs {
    my $text = '';
    for my $f (map { "$W/$_" } qw(monitor.autoctl.log node1.autoctl.log
                                  node2.autoctl.log httpd/logs/error.log)) {
        my @l = split /\n/, read_file($f);
        splice @l, 0, @l - 40 if @l > 40;
        $text .= "==> $f\n" . join("\n", @l) . "\n";
    }
    return $text;
}

# ------------------------------------------------------------- monitor
my $tuning = $ENV{TODO_HA_MONITOR_DEFAULTS} ? '' : <<CONF;
pgautofailover.health_check_period = 1000
pgautofailover.health_check_timeout = 1000
pgautofailover.health_check_max_retries = 1
pgautofailover.health_check_retry_delay = 500
pgautofailover.node_considered_unhealthy_timeout = 3000
pgautofailover.primary_demote_timeout = 5000
CONF
my $common = <<CONF;
listen_addresses = '127.0.0.1'
unix_socket_directories = '$W'
shared_buffers = 64MB
max_connections = 60
lc_messages = 'C'
CONF
# The monitor's own service listens for notifications over the socket as
# autoctl_node (the nodes reach it over TCP, a line pg_autoctl adds).
pg_initdb("$W/monitor", "local all $user peer\n"
                      . "local pg_auto_failover autoctl_node trust\n", $common . $tuning);
autoctl('create', 'monitor', '--pgdata', "$W/monitor", '--pgctl', "$bin/pg_ctl",
        '--pgport', $pm, '--hostname', '127.0.0.1', '--auth', 'trust', '--no-ssl');
autoctl_run('monitor');

# ---------------------------------------------------------- data nodes
# pg_auto_failover adds its own lines (replication, health checks) to
# pg_hba.conf; the app role logs in with a password.
my $hba = <<HBA;
local   all          $user                        peer
local   replication  $user                        peer
host    todo         todo_app   127.0.0.1/32      scram-sha-256
HBA
sub create_node {
    my ($name) = @_;
    autoctl('create', 'postgres', '--pgdata', "$W/$name", '--pgctl', "$bin/pg_ctl",
            '--pgport', $port{$name}, '--pghost', $W, '--listen', '127.0.0.1',
            '--hostname', '127.0.0.1', '--name', $name, '--monitor', $monitor,
            '--auth', 'trust', '--no-ssl', '--dbname', 'todo');
    autoctl_run($name);
}
# The first node is a primary made from a cluster of ours (our pg_hba.conf
# and settings); the second a copy of it (pg_basebackup), settings and all.
pg_initdb("$W/node1", $hba, $common);
create_node('node1');
# The node is "single" once registered; pg_autoctl run then starts it.
defined wait_state(60, node1 => 'single') && defined wait_for(60, sub {
    pg_psql($W, $port{node1}, 'todo', 'SELECT 1', ok_fail => 1) eq '1' }, 0.2)
    or BAIL_OUT("node1 not up\n" . logs());
pg_schema($W, $port{node1}, 'todo', $password);
create_node('node2');
ok defined wait_state(120, node1 => 'primary', node2 => 'secondary'),
   'the formation is up: node1 primary, node2 secondary' or BAIL_OUT(logs());

# Synchronous: the primary's commits wait for the standby's flush.
sub synchronous_ok {
    my ($primary) = @_;
    my $t = wait_for(30, sub {
        pg_psql($W, $port{$primary}, 'postgres',
                "SELECT current_setting('synchronous_standby_names') <> '' "
              . "AND current_setting('synchronous_commit') = 'on' AND EXISTS "
              . "(SELECT FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum'))") eq 't'
    }, 0.5);
    diag pg_psql($W, $port{$primary}, 'postgres',
                 "SELECT current_setting('synchronous_standby_names') || ' | ' "
               . "|| coalesce(string_agg(application_name || ' ' || sync_state, ', '), '') "
               . 'FROM pg_stat_replication');
    return defined $t;
}
ok synchronous_ok('node1'), 'replication to node2 is synchronous';

# ------------------------------------------------------------- Apache
my $web = "$W/httpd";
run_user('mkdir', $web);
my $params = "host=127.0.0.1,127.0.0.1 port=$port{node1},$port{node2} dbname=todo "
           . "user=todo_app password=$password target_session_attrs=read-write "
           . 'connect_timeout=2';
httpd_conf($web, $http, $params);
my $httpd_pid = httpd_start($web, $http);
my $url = "http://127.0.0.1:$http/api/v1/tasks";
my $who = "ha-$$";
my $tok = token($who);
my $ua = HTTP::Tiny->new(timeout => 15);
is http($ua, POST => $url, $tok, { title => 'first' })->{status}, 201,
   'mod_todo writes through the formation' or BAIL_OUT(logs());

# ------------------------------------------------------------- clients
# Each client makes logical writes one after another; an attempt refused
# (503, or no answer) is tried again after RETRY seconds, with the same
# title and the same Idempotency-Key.  Every
# attempt is one line: start end status retry-after key id
# replayed (Idempotent-Replayed).
my $stop = "$W/clients/stop";
sub client {
    my ($c) = @_;
    my $cua = HTTP::Tiny->new(keep_alive => 1, timeout => 20);
    open my $log, '>', "$W/clients/$c.log" or die $!;
    $log->autoflush(1);
    for (my $seq = 1; !-e $stop; $seq++) {
        my $key = "$who-$c-$seq";
        while (!-e $stop) {
            my %h = IDEMPOTENCY_KEYS ? ('Idempotency-Key' => $key) : ();
            my $t0 = time;
            my $r = http($cua, POST => $url, $tok, { title => $key }, %h);
            my $id = $r->{status} == 201 ? eval { $r->{json}{data}{id} } : undef;
            printf $log "%.6f %.6f %d %s %s %s %s\n", $t0, time, $r->{status},
                $r->{headers}{'retry-after'} // '-', $key, $id // '-',
                $r->{headers}{'idempotent-replayed'} // '-';
            # HTTP::Tiny's 599 is its own: no answer (say why).
            printf STDERR "# client %d: %s at %.3f after %.3f s: %s\n", $c, $key, $t0,
                time - $t0, $r->{content} // '' if $r->{status} == 599;
            last if $r->{status} == 201;
            sleep RETRY;
        }
        sleep PAUSE;
    }
}
my @clients;
for my $c (1 .. CLIENTS) {
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        $SIG{INT} = $SIG{TERM} = 'DEFAULT';
        eval { client($c) };
        POSIX::_exit(0);
    }
    push @clients, $pid;
}
my $clients_stopped = 0;
sub stop_clients {
    return if $clients_stopped++;
    open my $fh, '>', $stop or die $!;
    close $fh;
    my $t0 = time;
    for my $pid (@clients) {
        while (waitpid($pid, POSIX::WNOHANG()) == 0) {
            kill 'KILL', $pid if time - $t0 > 30;
            sleep 0.05;
        }
    }
}
at_exit(\&stop_clients);

# A read-write connection to the node (what libpq's target_session_attrs
# accepts), as the app role.
sub writable {
    my ($node) = @_;
    my $dbh = DBI->connect("dbi:Pg:host=127.0.0.1;port=$port{$node};dbname=todo;"
                         . 'target_session_attrs=read-write;connect_timeout=2',
                           'todo_app', $password, { PrintError => 0, RaiseError => 0 });
    return $dbh ? ($dbh->disconnect, 1)[1] : 0;
}

# The ids of this test's tasks on the node, and how often each title is
# there.
sub stored {
    my ($node) = @_;
    my $dbh = DBI->connect("dbi:Pg:host=127.0.0.1;port=$port{$node};dbname=todo",
                           'todo_app', $password, { RaiseError => 1, PrintError => 0 });
    my $rows = $dbh->selectall_arrayref(
        'SELECT id::text, title FROM tasks WHERE user_id = ?', undef, $who);
    $dbh->disconnect;
    my (%ids, %titles);
    for (@$rows) { $ids{$_->[0]} = 1; $titles{$_->[1]}++ }
    return (\%ids, \%titles);
}

sleep 3;                          # the clients are writing
my %scenario;

# An event (the trigger) making node $to the primary; returns when $to
# takes writes (or after $secs) and the clients have written a while.
sub event {
    my ($name, $to, $secs, $trigger) = @_;
    my $s = $scenario{$name} = { to => $to };
    $s->{t0} = time;
    $trigger->($s);
    my $t = wait_for($secs, sub { writable($to) }, 0.05);
    $s->{writable} = defined $t ? $s->{t0} + $t : undef;
    sleep GRACE + 3;              # long enough to see writes come back
    $s->{end} = time;
    return $s;
}

# -------------------------------------------------- (a) switchover
my $sw_pid;
event('switchover', 'node2', 90, sub {
    $sw_pid = fork // die;
    if (!$sw_pid) {
        my ($rc, $out) = capture_user({ env => \%env, ok_fail => 1 }, 'pg_autoctl',
            'perform', 'switchover', '--pgdata', "$W/node1", '--wait', '120');
        open my $fh, '>', "$W/switchover.log";
        print $fh $out;
        POSIX::_exit($rc);
    }
});
waitpid $sw_pid, 0;
is $? >> 8, 0, 'pg_autoctl perform switchover succeeded'
    or diag read_file("$W/switchover.log");
ok defined $scenario{switchover}{writable}, 'node2 took writes after the switchover'
    or diag show_state();
# What node2 holds now, and which writes were acknowledged before.
my $t_stored_a = time;
my ($ids_a) = stored('node2');

# Back to a synchronous pair (node1 a standby again) before the crash.
ok defined wait_state(120, node2 => 'primary', node1 => 'secondary'),
   'node1 is node2\'s standby';
ok synchronous_ok('node2'), 'replication to node1 is synchronous';

# ------------------------------------------------------ (b) crash
# SIGKILL to node2's postmaster and to its pg_autoctl processes (which
# would start Postgres again), all at once; its backends find their
# postmaster gone.  The monitor's health checks fail, it fails over.
sub node_pids {
    my ($node) = @_;
    my @pids;
    opendir my $d, '/proc' or die;
    for my $p (grep { /^\d+$/ } readdir $d) {
        my @st = split / /, (read_file("/proc/$p/stat") =~ s/^.*\) //sr);
        next unless @st > 3 && $st[2] == $group{$node};
        push @pids, $p if (readlink("/proc/$p/exe") // '') =~ m{/pg_autoctl$};
    }
    my ($postmaster) = split /\n/, read_file("$W/$node/postmaster.pid");
    return (@pids, $postmaster // ());
}
# A postmaster killed leaves its SysV shared memory segment (the next
# postmaster on that directory would remove it): remove it at exit.
my (undef, undef, undef, undef, undef, undef, $shm) =
    split /\n/, read_file("$W/node2/postmaster.pid");
my ($shmid) = ($shm // '') =~ /^\s*\d+\s+(\d+)/;
at_exit(sub { try_user({ log => '/dev/null' }, 'ipcrm', '-m', $shmid) if defined $shmid });
event('crash', 'node1', 120, sub {
    my ($s) = @_;
    my @pids = node_pids('node2');
    $s->{killed} = "@pids";
    kill 'KILL', @pids;
});
ok defined $scenario{crash}{writable}, 'the monitor promoted node1 after the crash'
    or diag show_state();
stop_clients();
diag "after the crash:\n" . show_state();

# ------------------------------------------------------------ figures
my @attempts;
for my $c (1 .. CLIENTS) {
    for (split /\n/, read_file("$W/clients/$c.log")) {
        my @f = split / /;
        push @attempts, { t0 => $f[0], t1 => $f[1], status => $f[2],
                          retry => $f[3], key => $f[4], id => $f[5],
                          replayed => ($f[6] // '-') eq 'true' };
    }
}
@attempts = sort { $a->{t0} <=> $b->{t0} } @attempts;
my $sa = $scenario{switchover};
my $sb = $scenario{crash};
my @before = grep { $_->{t1} < $sa->{t0} } @attempts;
is scalar(grep { $_->{status} != 201 } @before), 0, 'all well before the events';

my %figures;
sub figures {
    my ($name, $from, $to) = @_;
    my $s = $scenario{$name};
    # By completion: an attempt in flight at an event belongs to it.
    my @w = grep { $_->{t1} >= $from && $_->{t1} < $to } @attempts;
    my @ok = grep { $_->{status} == 201 } @w;
    my @bad = grep { $_->{status} != 201 } @w;
    # The longest time without a completed write, from the last one
    # before the event: when writes stalled and when they came back.
    my @done = sort { $a <=> $b } map { $_->{t1} } grep { $_->{status} == 201 } @attempts;
    my ($last) = reverse grep { $_ < $s->{t0} } @done;
    my ($gap, $back) = (0, undef);
    for my $t (grep { $_ >= $s->{t0} && $_ < $to } @done) {
        ($gap, $back) = ($t - $last, $t) if $t - $last > $gap;
        $last = $t;
    }
    my %f = (
        attempts => scalar @w, created => scalar @ok,
        s503 => scalar(grep { $_->{status} == 503 } @bad),
        other => [map { $_->{status} } grep { $_->{status} != 503 && $_->{status} != 599 } @bad],
        # HTTP::Tiny's 599: no answer at all (refused, reset, or closed on a
        # keep-alive connection) -- Apache's or the kernel's, unless a
        # child crashed (checked below); retried with its Idempotency-Key.
        no_answer => scalar(grep { $_->{status} == 599 } @bad),
        no_retry_after => scalar(grep { $_->{status} == 503 && $_->{retry} !~ /^\d+$/ } @bad),
        writable => defined $s->{writable} ? $s->{writable} - $s->{t0} : undef,
        stall => $gap,
        back => defined $back ? $back - $s->{t0} : undef,
        late => scalar(grep { $_->{status} != 201 && defined $s->{writable}
                              && $_->{t0} >= $s->{writable} + GRACE } @w),
    );
    return $figures{$name} = \%f;
}
my $fa = figures('switchover', $sa->{t0}, $sb->{t0});
my $fb = figures('crash', $sb->{t0}, 9e99);

for my $name ('switchover', 'crash') {
    my $f = $figures{$name};
    is_deeply $f->{other}, [], "$name: every answer is 201 or 503";
    ok $f->{no_answer} <= $f->{attempts} / 100,
       "$name: $f->{no_answer} of $f->{attempts} attempts without an answer (at most 1 %)";
    is $f->{no_retry_after}, 0, "$name: every 503 has Retry-After";
    is $f->{late}, 0, "$name: every write sent more than ${\ GRACE} s after the "
                    . 'new primary took writes succeeded';
}

# Every acknowledged write is on the new primary.
my ($ids_b, $titles) = stored('node1');
my @acked_a = map { $_->{id} } grep { $_->{status} == 201 && $_->{t1} < $t_stored_a } @attempts;
my @acked = map { $_->{id} } grep { $_->{status} == 201 } @attempts;
my @lost_a = grep { !$ids_a->{$_} } @acked_a;
my @lost_b = grep { !$ids_b->{$_} } @acked;
is scalar(@lost_a), 0, 'switchover: every acknowledged write is on node2 (0 lost)';
is scalar(@lost_b), 0, 'crash: every acknowledged write is on node1 (0 lost)';
my @twice = grep { $titles->{$_} > 1 } sort keys %$titles;
is_deeply \@twice, [], IDEMPOTENCY_KEYS
    ? 'no write stored twice (retries carry the Idempotency-Key)'
    : 'no write stored twice (fails without Idempotency-Key when a 503 had committed)';
ok $fa->{created} > 0 && $fb->{created} > 0, 'writes went on in both';

chomp(my $pid_now = read_file("$web/httpd.pid"));
is $pid_now, $httpd_pid, 'the same Apache throughout (no restart)';
# The sanitize pass's build reports memory errors in the error log.
unlike read_file("$web/logs/error.log"), qr/ERROR: AddressSanitizer|runtime error:| exit signal /,
       'no sanitizer report, no child crashed';

# Outcomes the clients did not learn (503 for a write that committed):
# what Idempotency-Key is for.
my %acks;
$acks{$_->{key}}++ for grep { $_->{status} == 201 } @attempts;
my $unknown = 0;
for my $k (keys %$titles) {
    $unknown += $titles->{$k} - ($acks{$k} // 0) if $titles->{$k} > ($acks{$k} // 0);
}

my $report = sprintf "%s, %d clients, monitor %s\n", scalar(localtime), CLIENTS,
    $ENV{TODO_HA_MONITOR_DEFAULTS} ? 'defaults' : 'tuned (failure detection ~3 s)';
for my $name ('switchover', 'crash') {
    my $f = $figures{$name};
    $report .= sprintf "%-10s attempts %5d, 201 %5d, 503 %4d, no answer %d, other %d; new primary "
        . "writable after %s s; longest stall %.2f s, writes back at %s s; lost %d\n",
        $name, $f->{attempts}, $f->{created}, $f->{s503}, $f->{no_answer}, scalar @{ $f->{other} },
        defined $f->{writable} ? sprintf('%.2f', $f->{writable}) : '-',
        $f->{stall}, defined $f->{back} ? sprintf('%.2f', $f->{back}) : '-',
        $name eq 'crash' ? scalar(@lost_b) : scalar(@lost_a);
}
$report .= "writes stored more often than acknowledged ("
         . (IDEMPOTENCY_KEYS ? 'with' : 'without') . " Idempotency-Key): $unknown; "
         . "retries answered from a stored answer (Idempotent-Replayed): "
         . scalar(grep { $_->{replayed} } @attempts) . "\n";
diag $report;
write_file(env_of('TODO_HOME') . '/system-ha-figures.txt', $report);
diag logs() unless Test::More->builder->is_passing;
