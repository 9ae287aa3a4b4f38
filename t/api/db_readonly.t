# Failover (SPEC section 11): a pooled connection whose server stopped
# taking writes -- SQLSTATE 25006, what a hot standby or a node being
# demoted answers -- is reset, never kept.  A write refused that way never
# ran, so the module sends it again on the reset connection and the client
# sees only success; when no server takes writes, 503 with Retry-After
# (not 500), and once one does, writes succeed again without restarting
# Apache.
#
# One cluster plays both roles.  default_transaction_read_only set in the
# server's configuration (ALTER SYSTEM, reload) turns every open session
# read-only, as a demotion does; set on the role, it decides the sessions
# started afterwards (a role's setting wins over the configuration file),
# as reaching the new primary does.  libpq judges a server read-write
# (target_session_attrs) by that same setting.
#
# A migration runs just before the demotion (a column's type changed), so
# each pooled connection meets two failures in a row: its prepared
# statements went stale, and once prepared again they are refused as
# read-only.  Both are healed in the same request.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use Time::HiRes qw(time sleep);
use TodoTest qw(:DEFAULT pg_sql httpd_pid log_text raw_exchange raw_request ok_or_show);

# More concurrent requests than the pool holds (3 children x DBDMax 8), so
# every pooled connection is used.
use constant WAVE => 48;

my $tok = token(new_user('readonly'));
sub data { my $d = json_ok($_[0]); $d ? $d->{data} : undef }

# Concurrent writes (creates, and updates of the given tasks) and reads;
# returns the responses and the status each should have.
sub wave {
    my ($tag, @tasks) = @_;
    my (@texts, @want);
    for my $i (0 .. WAVE - 1) {
        my $t = $tasks[$i % @tasks];
        my $kind = $i % 4;
        my @r = $kind == 0 ? (POST => '/api/v1/tasks', 201, { title => "$tag $i" })
              : $kind == 1 ? (PATCH => "/api/v1/tasks/$t->{id}", 200, { priority => $i % 4 })
              : $kind == 2 ? (PATCH => "/api/v1/tasks/$t->{id}/complete", 200)
              :              (GET => "/api/v1/tasks/$t->{id}", 200);
        push @texts, raw_request($r[0] => $r[1], token => $tok,
                                 (defined $r[3] ? (json => $r[3]) : ()));
        push @want, $r[2];
    }
    my @res = raw_exchange(\@texts);
    return (\@res, \@want);
}

# "want -> got (error code or reason)" of each answer not as expected.
sub unexpected {
    my ($tag, $res, $want) = @_;
    my @bad = map {
        my $code = eval { $JSON->decode($res->[$_]->content)->{error}{code} };
        "$want->[$_] -> " . $res->[$_]->code . ' (' . ($code // $res->[$_]->message // '') . ')'
    } grep { $res->[$_]->code != $want->[$_] } 0 .. $#$res;
    t_debug("$tag: unexpected: @bad") if @bad;
    return \@bad;
}

# The error log since the test began, to show with a failure.
sub log_since { 'error log: ' . substr(log_text('error_log'), $_[0]) }

# What the server's configuration says a new session of the cluster's
# owner (no role setting) gets; the reload is asynchronous.
sub config_read_only {
    my ($want) = @_;
    return wait_for(10, sub {
        pg_sql('SHOW default_transaction_read_only') eq $want });
}

my ($changed, $migrated) = (0, 0);
sub restore {
    # SET first: this very session is read-only by configuration.
    pg_sql("SET default_transaction_read_only = off;\n"
         . ($migrated ? "ALTER TABLE tasks ALTER COLUMN description TYPE text;\n" : '')
         . "ALTER SYSTEM RESET default_transaction_read_only;\n"
         . "ALTER ROLE todo_app RESET default_transaction_read_only;\n"
         . "SELECT pg_reload_conf();");
    ($changed, $migrated) = (0, 0);
}
# The suites after this one need a writable database, whatever happens.
END { local $?; eval { restore() } if $changed }

plan tests => 14;

my $pid = httpd_pid();
my @tasks = map { create_task($tok, title => "readonly $_") } 1 .. 8;
my $log_before = length log_text('error_log');

# Every connection of every child exists and is alive.
my ($res, $want) = wave('warm-up', @tasks);
ok_or_show(unexpected('warm-up', $res, $want), [], 'all well before', log_since($log_before));

# ------------- a migration, then the open sessions turn read-only
$changed = $migrated = 1;
pg_sql("ALTER TABLE tasks ALTER COLUMN description TYPE varchar(1000);\n"
     . "ALTER ROLE todo_app SET default_transaction_read_only = off;\n"
     . "ALTER SYSTEM SET default_transaction_read_only = on;\n"
     . "SELECT pg_reload_conf();");
ok defined config_read_only('on');
sleep 0.5;    # every backend has had the reload signal by now

my $created = (data(req(GET => '/api/v1/tasks?limit=1', token => $tok)) || {})->{total};
($res, $want) = wave('demoted', @tasks);
ok_or_show(unexpected('demoted', $res, $want), [],
           'writes refused as read-only are sent again on a reset connection',
           log_since($log_before));
my $log = substr log_text('error_log'), $log_before;
ok t_cmp($log, qr/TODO0208: .*after SQLSTATE 25006, database connection reset/,
         'the reset is logged');
ok t_cmp($log, qr/TODO0206: /, 'after the stale statements were prepared again');
ok $log !~ /todo_create failed|todo_update failed/;
# Each create ran exactly once: 25006 means it never ran the first time.
my $n = (data(req(GET => '/api/v1/tasks?limit=1', token => $tok)) || {})->{total};
ok t_cmp($n, $created + WAVE / 4, 'every create stored exactly once');

# The pool keeps only reset (read-write) connections.
($res, $want) = wave('after reset', @tasks);
ok_or_show(unexpected('after reset', $res, $want), [], 'the pool is read-write again',
           log_since($log_before));

# ------------------------------------------ no server takes writes
# Without the role's setting, and with the pooled sessions ended, every
# session the module can open is read-only.
pg_sql("SET default_transaction_read_only = off;\n"
     . "ALTER ROLE todo_app RESET default_transaction_read_only;\n"
     . "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
     . " WHERE usename = 'todo_app';");
my $r = req(POST => '/api/v1/tasks', token => $tok, json => { title => 'nowhere' });
ok error_ok($r, 503, 'SERVICE_UNAVAILABLE');
ok t_cmp($r->header('Retry-After') // '', qr/^\d+$/, 'with Retry-After');
# (These DBDParams have no target_session_attrs=read-write: the reset
# connection is on the read-only server, which still answers reads.)
ok t_cmp(req(GET => "/api/v1/tasks/$tasks[0]{id}", token => $tok)->code, 200,
         'reads are still served');

# ------------------------------------------ writable again
restore();
ok defined config_read_only('off');
my $t = wait_for(5, sub {
    req(POST => '/api/v1/tasks', token => $tok, json => { title => 'back' })->code == 201 });
t_debug(defined $t ? sprintf('writes back after %.2fs', $t) : 'writes not back');
ok defined $t;
ok t_cmp(httpd_pid(), $pid, 'the same httpd, not restarted');
