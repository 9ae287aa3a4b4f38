# Upgrading a populated database while the previous version serves
# (docs/operations.md, "Upgrades and migrations"): a database at the
# schema of the version before the changes feed (sqitch deploy --to
# task_counts_fillfactor), 20,000 tasks, and four clients doing what that
# version's module does -- create, update, delete and list tasks with its
# own statements, prepared on the server before the migration starts, as
# its role todo_app with the grants of that version -- while "sqitch
# deploy" brings the schema up to date.  No write fails or waits
# long, the deploy verifies, rows from before read as "before the feed"
# (change_xid 0, without a table rewrite), deletes from then on leave
# tombstones (no new grant needed for that), and the new module, started
# on the migrated database with the new grants, serves the changes feed
# and cursors over all of it, and keyed creates (tasks_create_keyed()).
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use File::Temp qw(tempdir);
use HTTP::Request;
use IO::Socket::INET;
use LWP::UserAgent;
use Time::HiRes qw(sleep time);
use TodoTest qw(:DEFAULT db_psql db_sqitch);

use constant WRITERS => 4;

plan tests => 14;

my $db = 'todo_migrate_live';
sub sql {
    my ($rc, $out) = db_psql($db, $_[0]);
    die "psql: $_[0]: $out" if $rc;
    return $out;
}

my ($stop, $dir, @pids) = ("/tmp/mig-stop-$$", undef);
my $httpd = $ENV{TODO_HTTPD} || '/usr/sbin/apache2';
# Whatever happens: the writers stop, the httpd stops, the database goes.
END {
    local $?;
    if (@pids) {
        open my $fh, '>', $stop;
        waitpid $_, 0 for @pids;
    }
    unlink $stop;
    if ($dir && -f "$dir/httpd.pid") {
        system("$httpd -f $dir/httpd.conf -k stop >/dev/null 2>&1");
        my $t0 = time;
        sleep 0.1 while -f "$dir/httpd.pid" && time - $t0 < 20;
    }
    db_psql('postgres', "DROP DATABASE IF EXISTS $db");
}

db_psql('postgres', "DROP DATABASE IF EXISTS $db");
my ($rc0, $out0) = db_psql('postgres', "CREATE DATABASE $db");
die $out0 if $rc0;
my ($rc, $out) = db_sqitch($db, 'deploy', '--to', 'task_counts_fillfactor');
ok t_cmp($rc, 0, 'the previous version\'s schema') or t_debug($out);
sql(<<'SQL');
INSERT INTO tasks (user_id, title, description, priority, due_at, completed, completed_at)
SELECT 'mig-' || (n % 20), 'old task ' || n, CASE WHEN n % 3 = 0 THEN 'd' END, n % 4,
       CASE WHEN n % 2 = 0 THEN now() + n * interval '1 minute' END,
       n % 5 = 0, CASE WHEN n % 5 = 0 THEN now() END
  FROM generate_series(1, 20000) n;
GRANT SELECT, INSERT, UPDATE, DELETE ON tasks TO todo_app;
GRANT SELECT, INSERT, UPDATE ON task_counts TO todo_app;
SQL
sql('VACUUM ANALYZE tasks');

# ------------------------------------------------------------ writers
# The statements of the module before this version, as it prepared them:
# its create and update are this version's (todo_sql.c, printed by
# t/tools/sql-text), its delete lacked the tombstones' pruning, and its
# due-date list ordered by due_at itself.
my $tool = env_of('TODO_BUILD') . '/t/tools/sql-text';
sub stmt {
    open my $fh, '-|', $tool, @_ or die "$tool: $!";
    local $/;
    my $t = <$fh>;
    close $fh or die "sql-text @_ failed";
    chomp $t;
    return $t;
}
my %old = (
    create => stmt('todo_create', map { "\$$_" } 1 .. 6),
    update => stmt('todo_update', map { "\$$_" } 1 .. 11),
    delete => 'WITH p AS (SELECT CAST($1 AS text) AS uid, CAST($2 AS uuid) AS id,'
        . " CAST(NULLIF(CAST(\$3 AS text), '') AS bigint[]) AS vers),"
        . ' cur AS (SELECT 1 FROM tasks t, p WHERE t.user_id = p.uid AND t.id = p.id),'
        . ' d AS (DELETE FROM tasks t USING p WHERE t.user_id = p.uid AND t.id = p.id'
        . ' AND (p.vers IS NULL OR t.version = ANY (p.vers)) RETURNING 1)'
        . ' SELECT (SELECT count(*) FROM cur), (SELECT count(*) FROM d)',
    list => 'SELECT t.id::text FROM tasks t WHERE t.user_id = CAST($1 AS text)'
        . ' ORDER BY t.due_at ASC NULLS LAST, t.id LIMIT 20',
);
my %p = map { /^(\w+)=(.*)$/ } split ' ', env_of('TODO_DBD_PARAMS');
sub writer {
    my ($n) = @_;
    require DBI;
    my $h = DBI->connect("dbi:Pg:dbname=$db;host=$p{host};port=$p{port}", $p{user},
                         $p{password}, { RaiseError => 0, PrintError => 0, AutoCommit => 1 })
        or do { print "error connect\n"; return };
    # Prepared once, on the server, as mod_dbd does: the statements live
    # through the migration's changes to the table.
    $h->do('SET plan_cache_mode = force_generic_plan');
    my %sth = map { $_ => $h->prepare($old{$_}, { pg_server_prepare => 1 }) } keys %old;
    my $user = "mig-$n";
    my @ids = @{ $h->selectcol_arrayref(
        'SELECT id FROM tasks WHERE user_id = ? LIMIT 200', undef, $user) };
    my $i = 0;
    until (-e $stop) {
        my $t0 = time;
        my ($op, $ok, $id);
        if ($i % 4 == 0) {
            $op = 'create';
            $ok = $sth{create}->execute($user, "new $i", 'd', 'f', $i % 4, '');
            ($id) = $ok ? $sth{create}->fetchrow_array : ();
            $sth{create}->finish;
            $ok &&= defined $id;
        }
        elsif ($i % 4 == 1 && @ids) {
            $op = 'update';
            $id = $ids[$i % @ids];
            $ok = $sth{update}->execute($user, $id, '', "upd $i", 'f', '', 'f', '', '', 'f', '');
            $sth{update}->finish;
        }
        elsif ($i % 4 == 2) {
            $op = 'list';
            $ok = $sth{list}->execute($user);
            $sth{list}->finish;
        }
        else {
            $op = 'delete';
            $id = shift @ids;
            $ok = !$id || $sth{delete}->execute($user, $id, '');
            $sth{delete}->finish if $id;
        }
        printf "%s %s %s %.6f %.6f %s\n", $ok ? 'ok' : 'error', $op, $id // '-', $t0, time,
            $ok ? '' : ($h->errstr // '') =~ s/\s+/ /gr;
        $i++;
        sleep 0.002;
    }
}
my @pipes;
for my $n (1 .. WRITERS) {
    pipe my $r, my $w or die $!;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $r;
        select $w;
        $| = 1;
        writer($n);
        require POSIX;
        POSIX::_exit(0);
    }
    close $w;
    push @pids, $pid;
    push @pipes, $r;
}

sleep 1;
my $d0 = time;
($rc, $out) = db_sqitch($db, 'deploy');
my $d1 = time;
t_debug(sprintf "deploy took %.2f s: %s", $d1 - $d0, $out);
ok t_cmp($rc, 0, 'sqitch deploy while the writers write');
sleep 1;
{ open my $fh, '>', $stop or die $! }
my @ops;
for my $i (0 .. $#pids) {
    my $fh = $pipes[$i];
    push @ops, map { [split / /, $_, 6] } <$fh>;
    waitpid $pids[$i], 0;
}
@pids = ();
chomp $_->[5] for @ops;
my @errors = grep { $_->[0] ne 'ok' } @ops;
my @during = grep { $_->[3] > $d0 && $_->[4] < $d1 } @ops;
my ($slowest) = sort { $b <=> $a } map { $_->[4] - $_->[3] } @ops;
t_debug(sprintf '%d writes, %d of them during the deploy, the slowest %.3f s',
        scalar @ops, scalar @during, $slowest // 0);
t_debug("errors: @{ $errors[0] }") if @errors;
ok t_cmp(scalar @errors, 0, 'no statement failed');
ok @during > 0;                       # writes went on during the deploy
ok $slowest < 5;                      # none waited long (no table rewrite)
($rc, $out) = db_sqitch($db, 'verify');
ok t_cmp($rc, 0, 'sqitch verify') or t_debug($out);

ok t_cmp(sql("SELECT count(*) FROM tasks WHERE title LIKE 'old task %' AND version = 1"
             . " AND change_xid <> 0"), 0, 'rows from before read change_xid 0');
# The writes after the deploy, looked up as the owner.
require DBI;
my $owner = DBI->connect(sprintf('dbi:Pg:dbname=%s;host=%s;port=%s', $db,
                                 env_of('TODO_PG_DIR'), env_of('TODO_PG_PORT')),
                         env_of('TODO_USER_NAME'), '', { RaiseError => 1 });
my @late_deletes = map { $_->[2] }
    grep { $_->[1] eq 'delete' && $_->[2] ne '-' && $_->[3] > $d1 } @ops;
my @late_writes = map { $_->[2] }
    grep { $_->[1] ne 'delete' && $_->[2] ne '-' && $_->[3] > $d1 } @ops;
ok t_cmp($owner->selectrow_array('SELECT count(*) FROM task_tombstones WHERE id = ANY (?)',
                                 undef, \@late_deletes),
         scalar @late_deletes, 'deletes after the deploy left tombstones');
ok t_cmp($owner->selectrow_array('SELECT count(*) FROM tasks WHERE change_xid = 0'
                                 . ' AND id = ANY (?)', undef, \@late_writes),
         0, 'rows written after it record their transaction');
$owner->disconnect;

# ------------------------------------------ the new module on top of it
sql(join ';', map { "GRANT $_" }
    'SELECT, INSERT, UPDATE, DELETE ON tasks TO todo_app',
    'SELECT, INSERT, UPDATE ON task_counts TO todo_app',
    'SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO todo_app',
    'SELECT, UPDATE, DELETE ON task_tombstones TO todo_app',
    'SELECT, INSERT, UPDATE ON tombstone_horizons TO todo_app',
    'SELECT ON token_key TO todo_app');
$dir = tempdir(CLEANUP => 1);
mkdir "$dir/logs";
my $port = do {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1)
        or die $!;
    $s->sockport;
};
(my $dbd = env_of('TODO_DBD_PARAMS')) =~ s/dbname=\S+/dbname=$db/;
open my $fh, '>', "$dir/httpd.conf" or die $!;
print $fh <<"CONF";
ServerRoot $dir
ServerName localhost
PidFile $dir/httpd.pid
ErrorLog $dir/error_log
Listen 127.0.0.1:$port
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule dbd_module /usr/lib/apache2/modules/mod_dbd.so
LoadModule todo_module @{[env_of('TODO_MODULE_SO')]}
StartServers 1
DBDriver pgsql
DBDParams "$dbd"
<Location /api>
    SetHandler todo
    Require all granted
    TodoJWTSecretFile @{[env_of('TODO_SECRET_FILE')]}
</Location>
CONF
close $fh;
system("$httpd -f $dir/httpd.conf -k start") == 0 or die 'httpd did not start';
my $ua = LWP::UserAgent->new(timeout => 30);
my $tok = token('mig-1');
sub get {
    my $r = HTTP::Request->new(GET => "http://127.0.0.1:$port$_[0]");
    $r->header(Authorization => "Bearer $tok");
    my $res = $ua->request($r);
    return $res->code == 200 ? $JSON->decode($res->content)->{data} : undef;
}
wait_for(20, sub { my $r = $ua->get("http://127.0.0.1:$port/api/health"); $r->code == 200 });
my $want = sql("SELECT count(*) FROM tasks WHERE user_id = 'mig-1'");
my ($synced, $since) = (0, '');
for (;;) {
    my $d = get("/api/v1/changes?limit=100$since") or last;
    $synced += @{ $d->{changes} };
    $since = "&since=$d->{next_token}";
    last unless $d->{has_more};
}
ok t_cmp($synced, $want, "the new module's full sync: every task of the user");
my ($walked, $path) = (0, '/api/v1/tasks?limit=100&sort=-due_at');
while ($path) {
    my $r = HTTP::Request->new(GET => "http://127.0.0.1:$port$path");
    $r->header(Authorization => "Bearer $tok");
    my $res = $ua->request($r);
    last unless $res->code == 200;
    $walked += @{ $JSON->decode($res->content)->{data}{tasks} };
    ($path) = ($res->header('Link') // '') =~ /^<([^>]+)>/;
}
ok t_cmp($walked, $want, 'and a cursor walk by due date');
ok t_cmp(sql("SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'tasks_user_due_%'"), 2,
         'the due_at indexes replaced');

# A keyed create: the migrated database's tasks_create_keyed(), twice.
my @keyed = map {
    my $r = HTTP::Request->new(POST => "http://127.0.0.1:$port/api/v1/tasks");
    $r->header(Authorization => "Bearer $tok", 'Idempotency-Key' => '"migrated-1"',
               'Content-Type' => 'application/json');
    $r->content('{"title":"keyed after the migration"}');
    $ua->request($r);
} 1, 2;
ok t_cmp(join(' ', map { $_->code . ($_->header('Idempotent-Replayed') ? 'r' : '') } @keyed),
         '201 201r', 'a keyed create, then its replay');
ok t_cmp(sql("SELECT count(*) FROM tasks WHERE title = 'keyed after the migration'"), 1,
         'one task written');
