# Every database session mod_todo runs its statements in is first given the
# settings they are written for (TODO_SQL_SESSION_SETUP in todo_sql.h:
# plan_cache_mode = force_generic_plan and DateStyle = ISO, in one
# statement) -- on the connections the server opened itself, and again on
# the fresh sessions PostgreSQL gives back after a restart, when the
# settings are gone.  Seen in PostgreSQL's own log: scripts/test.sh has it
# log every statement of the module's role.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use TodoTest qw(:DEFAULT log_text);

plan tests => 10;

my $SETUP = "SELECT set_config('plan_cache_mode', 'force_generic_plan', false), "
           . "set_config('DateStyle', 'ISO', false)";
my $pglog = env_of('TODO_PG_DIR') . '/postgres.log';
# Where this suite's part of the server's error log starts (another suite,
# t/api/db_datestyle.t, has the setup refused on purpose).
my $errlog0 = length log_text('error_log');

sub log_from {
    my ($offset) = @_;
    open my $fh, '<', $pglog or die "$pglog: $!";
    seek $fh, $offset, 0;
    local $/;
    return <$fh> // '';
}

# For each backend (pid) that ran one of the module's prepared statements:
# was the setup statement its first statement?  Returns (backends, the
# backends that ran a statement before or without the setup).
sub sessions {
    my ($text) = @_;
    my (%setup, %ran, @bad);
    # "LOG:  statement: SQL" and "LOG:  execute todo_get: SQL", in the
    # server's lc_messages language (t/api/db_migration.t has it speak
    # German for a while): told apart by the SQL and the statement's name.
    for (split /\n/, $text) {
        next unless /\[(\d+)\] [^:]+:  ([^:]+): (.*)$/;
        my ($pid, $what, $sql) = ($1, $2, $3);
        if ($sql eq $SETUP) {
            $setup{$pid} //= 1;
        }
        elsif ($what =~ / todo_\w+$/ && !$ran{$pid}++) {
            push @bad, $pid unless $setup{$pid};
        }
    }
    return (scalar keys %ran, @bad);
}

# Some work: a write, reads, lists (15 answers expected to be 200).
sub work {
    my $tok = token(new_user('session'));
    my $task = create_task($tok, title => 'session check');
    my $ok = 0;
    for (1 .. 3) {
        my @res = map { req(GET => "/api/v1/tasks/$task->{id}", token => $tok) }
                  1 .. 4;
        $ok += grep { $_->code == 200 } @res;
        $ok += req(GET => '/api/v1/tasks?limit=5', token => $tok)->code == 200;
    }
    return $ok;
}

ok t_cmp(work(), 15, 'requests succeed');
my ($n, @bad) = sessions(log_from(0));
ok $n >= 1;                       # the module's sessions are in the log
ok t_cmp(scalar @bad, 0, 'each ran the setup before its first statement')
    or print STDERR "# pids without the setup first: @bad\n";
ok t_cmp(scalar(() = log_from(0) =~ /\Q$SETUP\E/g) <= $n + 8, 1,
         'once per session, not per request');

# After a restart every session is new: the setting must be given again.
my $offset = -s $pglog;
pg_stop();
pg_start();
# healthy again after the restart
ok defined wait_for(5, sub { req(GET => '/api/health')->code == 200 });
ok t_cmp(work(), 15, 'requests succeed after the restart');
($n, @bad) = sessions(log_from($offset));
ok $n >= 1;                       # new sessions after the restart
ok t_cmp(scalar @bad, 0, 'each new session was set up again first')
    or print STDERR "# pids without the setup first: @bad\n";

# PostgreSQL accepted it: no error about it in its log, and no warning
# from the module that it was refused.  (On a connection that the restart
# broke, the module notes the failed setup at debug level only.)
ok t_cmp(log_from(0), qr/\Q$SETUP\E/, 'the setup statement was sent');
ok log_from(0) !~ /ERROR:.*(plan_cache_mode|DateStyle)/
   && substr(log_text('error_log'), $errlog0)
      !~ /\[todo:warn\].*\Q$SETUP\E failed/;                  # accepted
