# Task timestamps are RFC 3339 whatever DateStyle the database would give
# the module's sessions by default.  The statements read timestamps as
# plain text casts, which follow DateStyle; the session setup makes it ISO
# (TODO_SQL_SESSION_SETUP in todo_sql.h) and the module converts that form
# only.  Here the module's role defaults to 'German, DMY' and PostgreSQL
# restarts, so that every session the module then uses is a new one:
#   1. with the setup in place, every route still answers RFC 3339;
#   2. with the setup refused (set_config revoked), no German timestamp is
#      passed on: 500 INTERNAL_ERROR, and the log names the column;
#   3. with both undone, the module works as before.
# The role setting and the grant are restored at the end, even if the suite
# dies half-way (END), so that no other suite sees them.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use JSON::PP ();
use Time::Local qw(timegm);
use TodoTest qw(:DEFAULT log_text pg_sql);

plan tests => 22;

my $RFC3339 = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
my ($ROLE) = env_of('TODO_DBD_PARAMS') =~ /\buser=(\w+)/
    or die "no user= in TODO_DBD_PARAMS\n";
my $SET_CONFIG = 'FUNCTION pg_catalog.set_config(text, text, boolean)';

sub restore {
    pg_sql("ALTER ROLE $ROLE RESET DateStyle;"
           . " GRANT EXECUTE ON $SET_CONFIG TO PUBLIC");
}
END {
    local $?;                     # keep the suite's exit status
    eval { restore(); 1 } or warn "# restoring $ROLE and set_config: $@";
}

sub data { my $d = json_ok($_[0]); $d ? $d->{data} : undef }

# Fresh database sessions for the module: PostgreSQL restarts.
sub new_sessions {
    pg_stop();
    pg_start();
    return defined wait_for(5, sub { req(GET => '/api/health')->code == 200 });
}

# A fresh session of the module's role (with its password, from
# TODO_DBD_PARAMS) gets this DateStyle.
sub role_datestyle {
    my $out = `psql -X -q -At -d "\$TODO_DBD_PARAMS" -c 'SHOW DateStyle' 2>&1`;
    chomp $out;
    return $out;
}

# Every timestamp of a task is RFC 3339 (the null ones aside).
sub times_ok {
    my ($t) = @_;
    return 0 unless ref $t eq 'HASH';
    my @bad = grep { defined $t->{$_} && $t->{$_} !~ $RFC3339 }
              qw(created_at updated_at completed_at due_at);
    t_debug("not RFC 3339: @{[map { \"$_=$t->{$_}\" } @bad]}") if @bad;
    return !@bad && defined $t->{created_at} && defined $t->{updated_at};
}

# Seconds between an RFC 3339 UTC time and now.
sub age {
    my @f = ($_[0] // '') =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)/ or return 1e9;
    return abs(time - timegm($f[5], $f[4], $f[3], $f[2], $f[1] - 1, $f[0]));
}

# 1. A German default, overridden by the module's session setup.
pg_sql("ALTER ROLE $ROLE SET DateStyle = 'German, DMY'");
ok t_cmp(role_datestyle(), 'German, DMY', "the role's sessions default to German");
ok new_sessions();                # healthy after the restart

my $tok = token(new_user('datestyle'));
my $res = req(POST => '/api/v1/tasks', token => $tok,
              json => { title => 'stamped', completed => JSON::PP::true,
                        due_at => '2027-03-04T05:06:07.5+01:00' });
ok t_cmp($res->code, 201, 'created');
my $task = data($res) || { id => 'none' };
ok times_ok($task);
ok t_cmp($task->{due_at}, '2027-03-04T04:06:07.500000Z', 'due_at in UTC');
ok age($task->{created_at}) < 300 && defined $task->{completed_at}
   && $task->{created_at} eq $task->{updated_at};

$res = req(GET => "/api/v1/tasks/$task->{id}", token => $tok);
my $got = data($res) || {};
ok t_cmp($res->code, 200, 'fetched') && times_ok($got);
ok t_cmp(join(' ', map { $got->{$_} // 'null' }
                   qw(created_at updated_at completed_at due_at)),
         join(' ', map { $task->{$_} // 'null' }
                   qw(created_at updated_at completed_at due_at)),
         'the same timestamps as created');

# No fraction at all (PostgreSQL then leaves it out of its text).
$res = req(PATCH => "/api/v1/tasks/$task->{id}", token => $tok,
           json => { due_at => '2027-12-31T23:59:59Z' });
$got = data($res) || {};
ok t_cmp($res->code, 200, 'patched') && times_ok($got);
ok t_cmp($got->{due_at}, '2027-12-31T23:59:59.000000Z', 'whole seconds');

create_task($tok, title => 'plain');   # no due date, not completed
$res = req(GET => '/api/v1/tasks?limit=10', token => $tok);
my $list = (data($res) || {})->{tasks} || [];
ok t_cmp(scalar @$list, 2, 'listed');
ok !grep { !times_ok($_) } @$list;

# 2. The setup refused: the sessions keep German, and nothing German gets
# out.  (The module warns that its setup failed.)
my $before = length log_text('error_log');
pg_sql("REVOKE EXECUTE ON $SET_CONFIG FROM PUBLIC");
ok new_sessions();                # health reads no timestamps
$res = req(GET => "/api/v1/tasks/$task->{id}", token => $tok);
ok error_ok($res, 500, 'INTERNAL_ERROR');
ok $res->content !~ /\d\d\.\d\d\.\d{4}/;     # no German date leaks
$res = req(GET => '/api/v1/tasks?limit=10', token => $tok);
ok error_ok($res, 500, 'INTERNAL_ERROR');
my $log = substr log_text('error_log'), $before;
ok t_cmp($log, qr/TODO0303: .*task column \w+_at: unexpected timestamp "\d\d\.\d\d\.\d{4} [^"]*" from the database \(not DateStyle ISO/,
         'the log names the column and the DateStyle');
ok t_cmp($log, qr/\[todo:warn\].*TODO0205: .*set_config.*failed/,
         'and that the setup failed');

# 3. Back to normal.
restore();
ok t_cmp(role_datestyle(), qr/^ISO/, "the role's default is back");
ok new_sessions();
$res = req(GET => "/api/v1/tasks/$task->{id}", token => $tok);
ok t_cmp($res->code, 200, 'fetched again') && times_ok(data($res));
ok t_cmp((data($res) || {})->{due_at}, '2027-12-31T23:59:59.000000Z');
