# A migration that changes the type of a column the module's statements
# return, while Apache runs (here tasks.description: text -> varchar and
# back).  PostgreSQL then refuses each prepared statement that returns it
# ("cached plan must not change result type") on every pooled connection,
# for good; the module drops such a statement, prepares it again and sends
# it once more -- it never ran, so writes too.  Every request succeeds,
# no write happens twice, and the error log says what happened (TODO0206).
# Then the same with the server speaking German (lc_messages; scripts/
# test.sh compiled de_DE.UTF-8 for the test cluster): the module reads the
# SQLSTATE of PostgreSQL's errors, never their words, so a stale plan is
# still healed, and a check constraint of the server's own (added here,
# beyond the API's checks) is still the client's 400, not a 500.
# The column type, the constraint and lc_messages are restored at the
# end, even if the suite dies (END).
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use Time::HiRes qw(sleep);
use TodoTest qw(:DEFAULT env_of error_ok log_text pg_sql);

plan tests => 23;

my ($altered, $german, $checked) = (0, 0, 0);
sub set_type {
    pg_sql("ALTER TABLE tasks ALTER COLUMN description TYPE $_[0]");
    $altered = $_[0] ne 'text';
}
# lc_messages for every session, the pooled ones included: each takes
# the reloaded setting before its next command.
sub set_messages {
    pg_sql("ALTER SYSTEM SET lc_messages = '$_[0]'");
    pg_sql('SELECT pg_reload_conf()');
    $german = $_[0] ne 'C';
    sleep 1;                      # the postmaster signals the sessions
}
END {
    local $?;                     # keep the suite's exit status
    eval { set_type('text') if $altered; 1 } or warn "# restoring tasks.description: $@";
    eval { pg_sql('ALTER TABLE tasks DROP CONSTRAINT tasks_not_verboten') if $checked; 1 }
        or warn "# dropping the test constraint: $@";
    eval { set_messages('C') if $german; 1 } or warn "# restoring lc_messages: $@";
}

my $tok = token(new_user('migration'));
sub data { my $d = json_ok($_[0]); $d ? $d->{data} : undef }

my $res = req(POST => '/api/v1/tasks', token => $tok,
              json => { title => 'before', description => 'typed text' });
ok t_cmp($res->code, 201, 'created before the migration');
my $id = (data($res) || {})->{id} // 'none';
my $created = 1;

# Every kind of statement that returns task columns, ROUNDS times each, so
# that several pooled connections meet the changed table.  Returns the
# statuses that were not the expected ones ("" when all were).
sub round_trip {
    my ($rounds, $tag) = @_;
    my @bad;
    for my $n (1 .. $rounds) {
        my $g = req(GET => "/api/v1/tasks/$id", token => $tok);
        push @bad, 'get ' . $g->code unless $g->code == 200
            && (data($g) || {})->{description} eq 'typed text';
        my $l = req(GET => '/api/v1/tasks?limit=5', token => $tok);
        push @bad, 'list ' . $l->code unless $l->code == 200;
        my $s = req(GET => '/api/v1/tasks?status=pending&limit=5', token => $tok);
        push @bad, 'status list ' . $s->code unless $s->code == 200;
        my $p = req(PATCH => "/api/v1/tasks/$id", token => $tok,
                    json => { priority => $n % 4 });
        push @bad, 'patch ' . $p->code unless $p->code == 200;
        my $c = req(POST => '/api/v1/tasks', token => $tok,
                    json => { title => "$tag $n", description => 'typed text' });
        push @bad, 'create ' . $c->code unless $c->code == 201;
        $created++ if $c->code == 201;
    }
    t_debug("unexpected: @bad") if @bad;
    return join ', ', @bad;
}
sub total {
    my $d = data(req(GET => '/api/v1/tasks?limit=1', token => $tok));
    return $d ? $d->{total} // -1 : -1;
}

ok t_cmp(round_trip(3, 'warm'), '', 'every route works before the migration');

my $log0 = length log_text('error_log');
set_type('varchar(1000)');
ok t_cmp(round_trip(20, 'varchar'), '', 'every request succeeds after the column changed type');
my $log = substr log_text('error_log'), $log0;
ok t_cmp($log, qr/TODO0206: .*todo_get: the tables it reads changed/, 'logged: get prepared again');
ok t_cmp($log, qr/TODO0206: .*todo_create: /, 'logged: create prepared again');
ok t_cmp($log, qr/TODO0206: .*todo_update: /, 'logged: update prepared again');
ok t_cmp($log, qr/TODO0206: .*todo_listp_/, 'logged: plain list prepared again');
ok t_cmp($log, qr/TODO0206: .*todo_lists_/, 'logged: status list prepared again');
ok t_cmp(scalar(() = $log =~ /TODO0204/g), 0, 'no statement failed for good');
ok t_cmp(total(), $created, 'each create stored once');

# And back: the statements change result type once more.
$log0 = length log_text('error_log');
set_type('text');
ok t_cmp(round_trip(20, 'text'), '', 'every request succeeds after the type is restored');
$log = substr log_text('error_log'), $log0;
ok t_cmp($log, qr/TODO0206: .*todo_get: /, 'logged again');
ok t_cmp(total(), $created, 'each create stored once');

# ---------------------------------------------------------- in German
set_messages('de_DE.UTF-8');
my $said = `psql -X -h @{[env_of('TODO_PG_DIR')]} -p @{[env_of('TODO_PG_PORT')]} -d @{[env_of('TODO_DB')]} -c 'SELECT 1/0' 2>&1`;
ok t_cmp($said, qr/FEHLER:.*Division durch Null/, 'the server now words its errors in German');

$log0 = length log_text('error_log');
set_type('varchar(1000)');
ok t_cmp(round_trip(20, 'varchar de'), '', 'in German too, every request succeeds after the column changed type');
set_type('text');
ok t_cmp(round_trip(20, 'text de'), '', 'and after the type is restored');
$log = substr log_text('error_log'), $log0;
ok t_cmp($log, qr/TODO0206: .*todo_get: /, 'logged: get prepared again');
ok t_cmp($log, qr/TODO0206: .*todo_update: /, 'logged: update prepared again');
ok t_cmp(scalar(() = $log =~ /TODO0204/g), 0, 'no statement failed for good');
ok t_cmp(total(), $created, 'each create stored once');

pg_sql("ALTER TABLE tasks ADD CONSTRAINT tasks_not_verboten CHECK (title <> 'verboten') NOT VALID");
$checked = 1;
$log0 = length log_text('error_log');
$res = req(POST => '/api/v1/tasks', token => $tok, json => { title => 'verboten' });
# the server's own check constraint, worded in German: 400
ok error_ok($res, 400, 'VALIDATION_ERROR');
$log = substr log_text('error_log'), $log0;
ok t_cmp($log, qr/TODO0204: .*todo_create failed: FEHLER:  23514: .*tasks_not_verboten/,
         'logged with its SQLSTATE and the server\'s words');

my $del = req(DELETE => "/api/v1/tasks/$id", token => $tok);
ok t_cmp($del->code, 204, 'delete works too');
